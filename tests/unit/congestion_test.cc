// The pure units behind loss recovery: SeqRanges (the receiver's out-of-order record and the sender's
// SACK scoreboard), the congestion-window arithmetic of NewReno and CUBIC, and PRR.
#include <cmath>

#include <gtest/gtest.h>

#include "lib/tcp/congestion.h"
#include "lib/tcp/seq_ranges.h"

namespace synack {
namespace {

SeqNum S(uint32_t v) { return SeqNum(v); }

TEST(SeqRanges, AddsMergesAndCountsNewBytes) {
  SeqRanges r;
  EXPECT_EQ(r.Add(S(100), S(200)), 100);
  EXPECT_EQ(r.Add(S(300), S(400)), 100);
  EXPECT_EQ(r.count(), 2);
  EXPECT_EQ(r.Add(S(150), S(250)), 50);  // overlaps the first
  EXPECT_EQ(r[0], (SeqRange{S(100), S(250)}));
  EXPECT_EQ(r.Add(S(250), S(300)), 50);  // touches both: one range
  EXPECT_EQ(r.count(), 1);
  EXPECT_EQ(r[0], (SeqRange{S(100), S(400)}));
  EXPECT_EQ(r.Add(S(120), S(130)), 0);   // already covered
  EXPECT_EQ(r.Add(S(50), S(500)), 150);  // covers everything
  EXPECT_EQ(r.Bytes(), 450u);
  EXPECT_EQ(r.Add(S(10), S(10)), 0);  // empty
}

TEST(SeqRanges, BoundedCapacityRefusesAnotherGap) {
  SeqRanges r;
  for (uint32_t i = 0; i < SeqRanges::kCapacity; ++i) ASSERT_GT(r.Add(S(1000 * i), S(1000 * i + 10)), 0);
  EXPECT_EQ(r.Add(S(500), S(510)), -1);  // a ninth gap
  EXPECT_EQ(r.count(), SeqRanges::kCapacity);
  EXPECT_EQ(r.Add(S(5), S(20)), 10);      // extending an existing range is fine
  EXPECT_EQ(r.Add(S(10), S(1000)), 980);  // and merging frees a slot
  EXPECT_EQ(r.count(), SeqRanges::kCapacity - 1);
}

TEST(SeqRanges, AcrossTheSequenceWrap) {
  SeqRanges r;
  EXPECT_EQ(r.Add(S(0xfffffff0u), S(0x10)), 0x20);
  EXPECT_EQ(r.Add(S(0x20), S(0x30)), 0x10);
  EXPECT_EQ(r[0].left, S(0xfffffff0u));
  EXPECT_NE(r.Find(S(0x5)), nullptr);
  EXPECT_EQ(r.Find(S(0x15)), nullptr);
  r.RemoveBelow(S(0x8));
  EXPECT_EQ(r[0], (SeqRange{S(0x8), S(0x10)}));
  EXPECT_EQ(r.BytesAbove(S(0x9)), 7u + 0x10u);
  EXPECT_EQ(r.BytesIn(S(0x0), S(0x25)), 8u + 5u);
}

TEST(SeqRanges, RemoveBelowAndEdges) {
  SeqRanges r;
  r.Add(S(100), S(200));
  r.Add(S(300), S(400));
  r.RemoveBelow(S(200));  // right edge exactly: the first goes
  EXPECT_EQ(r.count(), 1);
  r.RemoveBelow(S(299));
  EXPECT_EQ(r[0].left, S(300));
  r.RemoveBelow(S(301));
  EXPECT_EQ(r[0].left, S(301));
  EXPECT_TRUE(r.Covers(S(301), S(400)));
  EXPECT_FALSE(r.Covers(S(300), S(400)));
  EXPECT_FALSE(r.Covers(S(301), S(401)));
}

TEST(InitialWindow, Rfc6928) {
  EXPECT_EQ(InitialWindow(1460), 14600u);
  EXPECT_EQ(InitialWindow(1448), 14480u);
  EXPECT_EQ(InitialWindow(536), 5360u);
  EXPECT_EQ(InitialWindow(8960), 17920u);  // max(2 * SMSS, 14600) caps jumbo segments
  EXPECT_EQ(InitialWindow(1000, 4), 4000u);
}

TEST(NewReno, SlowStartGrowsByAckedBytesAtMostTwoSegmentsPerAck) {
  NewReno r;
  CcWindow w{14600};
  r.OnAck(w, 1460, 1460, Instant(), Duration());
  EXPECT_EQ(w.cwnd, 16060u);
  r.OnAck(w, 10 * 1460, 1460, Instant(), Duration());  // a stretch ACK: L = 2 SMSS
  EXPECT_EQ(w.cwnd, 16060u + 2920u);
}

TEST(NewReno, CongestionAvoidanceOneSegmentPerWindow) {
  NewReno r;
  CcWindow w{14600, 14600};
  for (int i = 0; i < 9; ++i) r.OnAck(w, 1460, 1460, Instant(), Duration());
  EXPECT_EQ(w.cwnd, 14600u);  // 9 of 10 segments acknowledged
  r.OnAck(w, 1460, 1460, Instant(), Duration());
  EXPECT_EQ(w.cwnd, 16060u);
}

TEST(NewReno, LossHalvesTheFlightWithATwoSegmentFloor) {
  NewReno r;
  CcWindow w{30000};
  r.OnCongestion(w, 30000, 1000, Instant());
  EXPECT_EQ(w.ssthresh, 15000u);
  r.OnCongestion(w, 3000, 1000, Instant());
  EXPECT_EQ(w.ssthresh, 2000u);
}

TEST(Cubic, ReductionIsBetaAndTheCurveReturnsToWmaxAfterK) {
  Cubic c;
  const uint32_t mss = 1000;
  CcWindow w{100 * mss};
  const Instant t0 = Instant::FromNanoseconds(int64_t{1} << 40);
  c.OnCongestion(w, w.cwnd, mss, t0);
  EXPECT_EQ(w.ssthresh, 70u * mss);
  EXPECT_DOUBLE_EQ(c.w_max(), 100);
  w.cwnd = w.ssthresh;
  // Drive ACKs for one window per 100 ms round trip; after K seconds the window is back near W_max.
  const Duration rtt = Duration::Milliseconds(100);
  Instant t = t0;
  c.OnAck(w, mss, mss, t, rtt);
  const double k = c.k();
  // ~4.2 s, kept as a float (24 significant bits: within a microsecond).
  EXPECT_NEAR(k, std::cbrt(100 * (1 - Cubic::kBeta) / Cubic::kC), 1e-6);
  while ((t - t0).seconds() < k) {
    t = t + rtt;
    const uint32_t window = w.cwnd;
    for (uint32_t a = 0; a < window / mss; ++a) c.OnAck(w, mss, mss, t, rtt);
  }
  EXPECT_NEAR(static_cast<double>(w.cwnd) / mss, 100.0, 6.0);
  // Concave growth: slower near W_max than right after the reduction (RFC 9438 4.2).
}

TEST(Cubic, AnEpochStartsAtTheFirstAckAfterAReductionOrARestartAndNotBefore) {
  Cubic c;
  const uint32_t mss = 1000;
  const Duration rtt = Duration::Milliseconds(100);
  CcWindow w{100 * mss};
  c.OnCongestion(w, w.cwnd, mss, Instant());
  w.cwnd = w.ssthresh;                   // 70 segments
  c.OnAck(w, mss, mss, Instant(), rtt);  // an epoch may start at time zero
  EXPECT_NEAR(c.k(), std::cbrt(30 / Cubic::kC), 1e-6);
  // Later ACKs of the same epoch keep its K even when the window has grown.
  w.cwnd = 90 * mss;
  c.OnAck(w, mss, mss, Instant() + rtt, rtt);
  EXPECT_NEAR(c.k(), std::cbrt(30 / Cubic::kC), 1e-6);
  // After a restart the next ACK starts a new epoch from the window it finds.
  c.OnRestart();
  const double segments = static_cast<double>(w.cwnd) / mss;
  c.OnAck(w, mss, mss, Instant() + rtt + rtt, rtt);
  EXPECT_NEAR(c.k(), std::cbrt((100 - segments) / Cubic::kC), 1e-5);
  EXPECT_LT(c.k(), std::cbrt(30 / Cubic::kC));
}

TEST(Cubic, FastConvergenceLowersWmaxWhenTheWindowKeepsShrinking) {
  Cubic c;
  CcWindow w{100000};
  c.OnCongestion(w, 100000, 1000, Instant());
  w.cwnd = 80000;  // shrank before the next loss
  c.OnCongestion(w, 80000, 1000, Instant());
  EXPECT_DOUBLE_EQ(c.w_max(), 80 * (1 + Cubic::kBeta) / 2);
}

TEST(Cubic, RenoFriendlyRegionKeepsUpWithReno) {
  // With a tiny RTT the cubic curve is slow; the Reno-friendly estimate must carry the growth.
  Cubic c;
  NewReno reno;
  const uint32_t mss = 1000;
  CcWindow cw{20 * mss}, rw{20 * mss};
  c.OnCongestion(cw, cw.cwnd, mss, Instant());
  reno.OnCongestion(rw, rw.cwnd, mss, Instant());
  cw.cwnd = cw.ssthresh;
  rw.cwnd = rw.ssthresh;
  Instant t = Instant::FromNanoseconds(1000);
  for (int round = 0; round < 200; ++round) {
    t = t + Duration::Microseconds(100);
    const uint32_t cn = cw.cwnd / mss, rn = rw.cwnd / mss;
    for (uint32_t a = 0; a < cn; ++a) c.OnAck(cw, mss, mss, t, Duration::Microseconds(100));
    for (uint32_t a = 0; a < rn; ++a) reno.OnAck(rw, mss, mss, t, Duration::Microseconds(100));
  }
  EXPECT_GE(cw.cwnd + 2 * mss, rw.cwnd * 0.9);
}

TEST(Prr, SpreadsTheReductionOverTheRoundTrip) {
  // 20 segments in flight when the loss is found, ssthresh 10: over the ACKs of the next round trip
  // PRR lets out about half a segment per delivered segment, ending with the pipe at ssthresh.
  Prr prr;
  const uint32_t mss = 1000;
  prr.Start(20 * mss);
  uint32_t pipe = 19 * mss;  // one segment lost
  uint32_t sent = 0;
  for (int i = 0; i < 19; ++i) {
    pipe -= mss;  // a segment delivered
    const uint32_t n = prr.OnAck(mss, pipe, 10 * mss, mss);
    prr.OnSent(n);
    pipe += n;
    sent += n;
  }
  EXPECT_NEAR(static_cast<double>(sent), 9.5 * mss, mss);
  EXPECT_NEAR(static_cast<double>(pipe), 10.0 * mss, mss);
}

TEST(Prr, SlowStartReductionBoundRebuildsAfterHeavyLoss) {
  Prr prr;
  const uint32_t mss = 1000;
  prr.Start(20 * mss);
  // The pipe collapsed to 2 segments (many losses): at most one segment more than delivered goes.
  EXPECT_EQ(prr.OnAck(mss, 2 * mss, 10 * mss, mss), 2u * mss);
  prr.OnSent(2 * mss);
  // Above ssthresh nothing more is owed for what was already sent.
  EXPECT_EQ(prr.OnAck(0, 12 * mss, 10 * mss, mss), 0u);
}

}  // namespace
}  // namespace synack
