// PhaseProfile: laps are charged to the phase that ends them, only one poll in `every` is measured, a
// measured poll that received nothing goes to idle (except the application's lap), and a disabled
// profile measures nothing.
#include "lib/core/phase_profile.h"

#include <gtest/gtest.h>

namespace synack {
namespace {

void Spin(uint64_t cycles) {
  const uint64_t end = rte_rdtsc() + cycles;
  while (rte_rdtsc() < end) {
  }
}

TEST(PhaseProfile, ChargesEachLapToThePhaseThatEndsIt) {
  PhaseProfile p;
  p.Enable(1);
  p.EndPoll(0);  // arms the first measured poll (its application lap starts here)
  p.BeginPoll();
  Spin(200000);
  p.Mark(Phase::kParse);
  Spin(20000);
  p.Mark(Phase::kLookup);
  p.EndPoll(3);
  EXPECT_EQ(p.polls(), 1u);
  EXPECT_EQ(p.frames(), 3u);
  EXPECT_GE(p.cycles(Phase::kParse), 200000u);
  EXPECT_GE(p.cycles(Phase::kLookup), 20000u);
  EXPECT_LT(p.cycles(Phase::kLookup), p.cycles(Phase::kParse));
  EXPECT_EQ(p.cycles(Phase::kIdle), 0u);
  EXPECT_EQ(p.total_cycles(), p.cycles(Phase::kApp) + p.cycles(Phase::kParse) + p.cycles(Phase::kLookup));
}

TEST(PhaseProfile, AnEmptyPollIsIdleButTheApplicationLapStaysTheApplications) {
  PhaseProfile p;
  p.Enable(1);
  p.EndPoll(0);
  Spin(50000);  // the application between polls
  p.BeginPoll();
  Spin(10000);
  p.Mark(Phase::kRxBurst);
  p.EndPoll(0);
  EXPECT_GE(p.cycles(Phase::kApp), 50000u);
  EXPECT_GE(p.cycles(Phase::kIdle), 10000u);
  EXPECT_EQ(p.cycles(Phase::kRxBurst), 0u);
  EXPECT_EQ(p.frames(), 0u);
}

TEST(PhaseProfile, MeasuresOnePollInEvery) {
  PhaseProfile p;
  p.Enable(4);
  for (int i = 0; i < 40; ++i) {
    p.BeginPoll();
    p.Mark(Phase::kTcp);
    p.EndPoll(1);
  }
  EXPECT_EQ(p.polls(), 9u);  // polls 5, 9, ..., 37: each armed by the end of poll 4, 8, ..., 36
  EXPECT_EQ(p.frames(), 9u);
  PhaseProfile off;
  for (int i = 0; i < 8; ++i) {
    off.BeginPoll();
    off.Mark(Phase::kTcp);
    off.EndPoll(1);
  }
  EXPECT_FALSE(off.enabled());
  EXPECT_EQ(off.polls(), 0u);
  EXPECT_EQ(off.total_cycles(), 0u);
}

}  // namespace
}  // namespace synack
