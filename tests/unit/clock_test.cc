// TscClock: the multiply-and-shift conversion from TSC cycles to nanoseconds against exact division,
// at several frequencies and over a day of cycles.
#include "lib/core/clock.h"

#include <cstdint>
#include <cstdlib>

#include <gtest/gtest.h>

namespace synack {
namespace {

int64_t ExactNs(uint64_t cycles, uint64_t hz) {
  return static_cast<int64_t>(static_cast<unsigned __int128>(cycles) * 1000000000u / hz);
}

TEST(TscClock, FixedPointConversionIsOffByAtMostCyclesOverTwoToThe33) {
  for (uint64_t hz :
       {uint64_t{1000000000}, uint64_t{2100000007}, uint64_t{2495999000}, uint64_t{3700000000}, uint64_t{25000000}}) {
    const uint64_t mult = TscClock::NsPerCycleFixed(hz);
    for (uint64_t seconds : {uint64_t{0}, uint64_t{1}, uint64_t{60}, uint64_t{3600}, uint64_t{86400}}) {
      for (uint64_t extra : {uint64_t{0}, uint64_t{1}, hz / 3}) {
        const uint64_t cycles = seconds * hz + extra;
        const int64_t exact = ExactNs(cycles, hz);
        const int64_t fast = TscClock::CyclesToNs(cycles, mult);
        const int64_t allowed = 1 + static_cast<int64_t>(cycles >> 33);
        EXPECT_LE(std::abs(fast - exact), allowed) << hz << " Hz, " << cycles << " cycles";
      }
    }
    EXPECT_NEAR(TscClock::CyclesToNs(hz, mult), 1000000000, 1) << hz << " Hz: one second of cycles";
  }
}

TEST(TscClock, NowAdvancesFromItsStart) {
  const TscClock clock;
  const Instant a = clock.Now();
  const Instant b = clock.Now();
  EXPECT_GE(a.ns(), 0);
  EXPECT_GE(b, a);
}

}  // namespace
}  // namespace synack
