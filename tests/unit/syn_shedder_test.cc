// SynShedder and PeekSyn: which SYNs an overloaded engine processes, each rule on both sides of its edge.
#include "lib/core/syn_shedder.h"

#include <gtest/gtest.h>

#include "tests/frames.h"

namespace synack {
namespace {

ConstBytes View(const testing::Bytes& b) { return ConstBytes(b.data(), b.size()); }

Instant At(int64_t ms) { return Instant::FromNanoseconds(ms * 1000000); }

SynPeek Syn(uint32_t i, uint32_t seq = 1) {
  SynPeek s;
  s.src = Ipv4Addr{0xc6130000u + (i & 0xffff)};
  s.dst = Ipv4Addr::Of(198, 18, 0, 2);
  s.src_port = static_cast<uint16_t>(1024 + i % 60000);
  s.dst_port = 80;
  s.seq = seq;
  return s;
}

TEST(PeekSyn, OnlyNewSynsWithTheirHeaderHeld) {
  testing::TcpFields f;
  f.src_port = 40000;
  f.dst_port = 5001;
  f.seq = 0x01020304;
  f.flags = 0x02;
  const Ipv4Addr src = Ipv4Addr::Of(198, 18, 0, 1), dst = Ipv4Addr::Of(198, 18, 0, 2);
  auto frame = [&](uint8_t flags) {
    f.flags = flags;
    return testing::Concat(testing::EthHeader(MacAddr::Broadcast(), MacAddr::Broadcast(), 0x0800),
                           testing::Ipv4(src, dst, testing::Tcp(src, dst, f), {.protocol = 6}));
  };
  const testing::Bytes syn = frame(0x02);
  std::optional<SynPeek> p = PeekSyn(ConstBytes(syn.data(), syn.size()));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->src, src);
  EXPECT_EQ(p->dst, dst);
  EXPECT_EQ(p->src_port, 40000);
  EXPECT_EQ(p->dst_port, 5001);
  EXPECT_EQ(p->seq, 0x01020304u);
  EXPECT_TRUE(PeekSyn(ConstBytes(syn.data(), 14 + 20 + 20)).has_value());   // the fixed TCP header held
  EXPECT_FALSE(PeekSyn(ConstBytes(syn.data(), 14 + 20 + 19)).has_value());  // one byte short
  EXPECT_TRUE(PeekSyn(View(frame(0x02 | 0x08 | 0x01))).has_value());        // PSH, FIN: still new
  EXPECT_FALSE(PeekSyn(View(frame(0x12))).has_value());                     // SYN-ACK
  EXPECT_FALSE(PeekSyn(View(frame(0x06))).has_value());                     // SYN+RST
  EXPECT_FALSE(PeekSyn(View(frame(0x10))).has_value());                     // ACK
}

TEST(SynShedder, NothingIsShedUnlessTheBurstWasFull) {
  SynShedder s({});
  s.BeginBurst(At(0), 31, 32);  // one short of full
  EXPECT_FALSE(s.overloaded());
  for (uint32_t i = 0; i < 1000; ++i) EXPECT_EQ(s.Admit(Syn(i), false), ShedVerdict::kProcess);
  s.BeginBurst(At(0), 32, 32);
  EXPECT_TRUE(s.overloaded());
  s.BeginBurst(At(0), 0, 32);
  EXPECT_FALSE(s.overloaded());
}

TEST(SynShedder, BudgetThenShedKnownSourcesAlwaysPass) {
  SynShedder s({});
  s.BeginBurst(At(0), 32, 32);  // first full burst: a quarter off the burst size
  ASSERT_EQ(s.budget(), 24u);
  for (uint32_t i = 0; i < 24; ++i) EXPECT_EQ(s.Admit(Syn(i), false), ShedVerdict::kBudget) << i;
  EXPECT_EQ(s.Admit(Syn(32), false), ShedVerdict::kShed);
  EXPECT_EQ(s.Admit(Syn(33), true), ShedVerdict::kKnown);
  EXPECT_EQ(s.Admit(Syn(34), false), ShedVerdict::kShed);
}

TEST(SynShedder, BudgetShrinksUnderSustainedOverloadAndRecovers) {
  SynShedder s({});
  s.BeginBurst(At(0), 5, 32);
  EXPECT_EQ(s.budget(), 32u);  // starts at the burst size; never above it
  s.BeginBurst(At(0), 32, 32);
  EXPECT_EQ(s.budget(), 24u);  // a quarter off for each full burst
  s.BeginBurst(At(0), 32, 32);
  EXPECT_EQ(s.budget(), 18u);
  for (int i = 0; i < 20; ++i) s.BeginBurst(At(0), 32, 32);
  EXPECT_EQ(s.budget(), 1u);  // at least one off, never below one
  s.BeginBurst(At(0), 31, 32);
  EXPECT_EQ(s.budget(), 2u);  // one more per burst that was not full
  s.BeginBurst(At(0), 32, 32);
  EXPECT_EQ(s.budget(), 1u);
  for (int i = 0; i < 100; ++i) s.BeginBurst(At(0), 0, 32);
  EXPECT_EQ(s.budget(), 32u);
}

TEST(SynShedder, AShedSynSentAgainIsProcessedWithinItsOwnBudget) {
  SynShedder s({.memory_bits_log2 = 20, .generation = Duration::Seconds(2), .seed = 7});
  for (int i = 0; i < 30; ++i) s.BeginBurst(At(0), 32, 32);
  ASSERT_EQ(s.budget(), 1u);
  EXPECT_EQ(s.memory_bytes(), 0u);  // nothing shed yet: no memory
  s.BeginBurst(At(0), 32, 32);
  EXPECT_EQ(s.Admit(Syn(1000), false), ShedVerdict::kBudget);
  EXPECT_EQ(s.Admit(Syn(1), false), ShedVerdict::kShed);
  EXPECT_EQ(s.Admit(Syn(2), false), ShedVerdict::kShed);
  EXPECT_EQ(s.memory_bytes(), 2u * (1u << 20) / 8);  // two generations of 2^20 bits
  // One second later (a client's first SYN retransmission): the regular budget goes first, then the
  // same SYNs are recognised.
  s.BeginBurst(At(1000), 32, 32);
  EXPECT_EQ(s.Admit(Syn(9), false), ShedVerdict::kBudget);
  EXPECT_EQ(s.Admit(Syn(1), false), ShedVerdict::kRetransmit);
  EXPECT_EQ(s.Admit(Syn(2), false), ShedVerdict::kRetransmit);
  // A new SYN on a 4-tuple (another sequence number) is not a retransmission.
  EXPECT_EQ(s.Admit(Syn(3, 99), false), ShedVerdict::kShed);
  for (uint32_t i = 10; i < 10 + SynShedder::kMinRetransmitBudget; ++i) {
    ASSERT_EQ(s.Admit(Syn(i), false), ShedVerdict::kShed);
  }
  // Next burst: exactly the retransmission budget (at least 4) is processed; the fifth is shed again.
  s.BeginBurst(At(1000), 32, 32);
  EXPECT_EQ(s.Admit(Syn(20), false), ShedVerdict::kBudget);
  for (uint32_t i = 10; i < 10 + SynShedder::kMinRetransmitBudget; ++i) {
    EXPECT_EQ(s.Admit(Syn(i), false), ShedVerdict::kRetransmit);
  }
  EXPECT_EQ(s.Admit(Syn(3, 99), false), ShedVerdict::kShed);
  s.BeginBurst(At(1000), 32, 32);
  EXPECT_EQ(s.Admit(Syn(21), false), ShedVerdict::kBudget);
  EXPECT_EQ(s.Admit(Syn(3, 99), false), ShedVerdict::kRetransmit);
}

TEST(SynShedder, ShedSynsAreForgottenAfterTwoGenerations) {
  SynShedder s({.memory_bits_log2 = 20, .generation = Duration::Seconds(2), .seed = 7});
  for (int i = 0; i < 30; ++i) s.BeginBurst(At(0), 32, 32);
  auto next = [&, n = 2000u](int64_t ms) mutable {
    s.BeginBurst(At(ms), 32, 32);
    EXPECT_EQ(s.Admit(Syn(n++), false), ShedVerdict::kBudget);  // spend the regular budget (1)
  };
  next(0);
  ASSERT_EQ(s.Admit(Syn(1), false), ShedVerdict::kShed);  // remembered at 0 s, generation 0..2 s
  next(2000);                                             // rotated at 2 s: still in the older generation
  EXPECT_EQ(s.Admit(Syn(1), false), ShedVerdict::kRetransmit);
  next(3999);
  EXPECT_EQ(s.Admit(Syn(1), false), ShedVerdict::kRetransmit);
  next(4000);  // rotated again: gone
  EXPECT_EQ(s.Admit(Syn(1), false), ShedVerdict::kShed);
}

TEST(SynShedder, AFloodRarelyPassesForARetransmission) {
  // 1.2 M shed SYNs in one generation of the default memory: unseen SYNs test "seen" rarely.
  SynShedder s({.seed = 11});
  for (int i = 0; i < 30; ++i) s.BeginBurst(At(0), 32, 32);
  for (uint32_t i = 0; i < 1'200'000; ++i) {
    if (i % 32 == 0) s.BeginBurst(At(0), 32, 32);
    s.Admit(Syn(i, i), false);
  }
  uint32_t passed = 0;
  for (uint32_t i = 0; i < 100'000; ++i) {
    if (i % 4 == 0) s.BeginBurst(At(0), 32, 32);  // the retransmission budget is never the limit here
    passed += s.Admit(Syn(i, 0x80000000u + i), false) == ShedVerdict::kRetransmit;
  }
  EXPECT_LT(passed, 3000u) << "false positives of the shed-SYN memory";
}

TEST(SynShedder, UnknownSourcesAreTreatedAlike) {
  // Over many overloaded bursts, a legitimate client new to the engine (one source, one SYN per burst)
  // is processed at the same rate as the flood's sources.
  SynShedder s({.memory_bits_log2 = 24, .seed = 3});
  uint64_t legit_ok = 0, flood_ok = 0, flood = 0;
  for (uint32_t b = 0; b < 2000; ++b) {
    s.BeginBurst(At(0), 32, 32);
    const uint32_t legit_at = (b * 7) % 32;  // the legitimate SYN's place in the burst varies
    for (uint32_t i = 0; i < 32; ++i) {
      if (i == legit_at) {
        legit_ok += s.Admit(Syn(0xffff, 5000 + b), false) != ShedVerdict::kShed;
      } else {
        ++flood;
        flood_ok += s.Admit(Syn(b * 32 + i, b), false) != ShedVerdict::kShed;
      }
    }
  }
  const double legit_rate = legit_ok / 2000.0, flood_rate = static_cast<double>(flood_ok) / flood;
  EXPECT_GT(flood_rate, 0.0);
  EXPECT_NEAR(legit_rate, flood_rate, 0.03);
}

}  // namespace
}  // namespace synack
