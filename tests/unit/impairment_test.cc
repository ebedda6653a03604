// The seeded impaired link: every fate (loss, burst loss, reordering, duplication, corruption, delay,
// rate and queue) on real mbufs, determinism by seed, and every mbuf back in its pool.
#include <algorithm>
#include <map>
#include <vector>

#include <gtest/gtest.h>
#include <rte_mempool.h>

#include "lib/dev/impairment.h"
#include "tests/eal_env.h"

namespace synack {
namespace {

Instant At(int64_t us) { return Instant::FromNanoseconds(us * 1000); }

// A frame whose payload is its serial number (so the order and identity of what comes out is known).
rte_mbuf* Frame(uint32_t serial, uint16_t len = 100) {
  rte_mbuf* m = rte_pktmbuf_alloc(testing::TestPool());
  EXPECT_NE(m, nullptr);
  uint8_t* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, len));
  std::fill(p, p + len, 0);
  std::memcpy(p + 20, &serial, 4);
  return m;
}
uint32_t Serial(const rte_mbuf* m) {
  uint32_t s;
  std::memcpy(&s, rte_pktmbuf_mtod_offset(m, const uint8_t*, 20), 4);
  return s;
}

class ImpairmentTest : public ::testing::Test {
 protected:
  void SetUp() override { in_use_ = rte_mempool_in_use_count(testing::TestPool()); }
  void TearDown() override { EXPECT_EQ(rte_mempool_in_use_count(testing::TestPool()), in_use_) << "mbufs leaked"; }

  // Submits `n` frames one per `gap_us`, releasing as it goes; returns what came out (freed), in order,
  // with the time each left.
  std::vector<std::pair<uint32_t, int64_t>> Run(Impairment& imp, uint32_t n, int64_t gap_us = 1, uint16_t len = 100) {
    std::vector<std::pair<uint32_t, int64_t>> out;
    auto sink = [&](int64_t t) {
      return [&, t](rte_mbuf** pkts, uint16_t k) {
        for (uint16_t i = 0; i < k; ++i) {
          out.emplace_back(Serial(pkts[i]), t);
          rte_pktmbuf_free(pkts[i]);
        }
        return k;
      };
    };
    int64_t t = 0;
    for (uint32_t i = 0; i < n; ++i, t += gap_us) {
      rte_mbuf* m = Frame(i, len);
      imp.Submit(At(t), &m, 1);
      imp.Release(At(t), sink(t));
    }
    for (int guard = 0; guard < 100000 && imp.held() > 0; ++guard) {
      t = std::max(t + 1, imp.NextRelease().ns() / 1000);
      imp.Release(At(t), sink(t));
    }
    return out;
  }
  unsigned in_use_ = 0;
};

TEST(ImpairSpec, ParsesEveryKeyAndNamesBadOnes) {
  absl::StatusOr<ImpairConfig> c = ParseImpairSpec(
      "loss=1%,burst=0.5%/"
      "25%,reorder=2%,reorder_delay=300us,dup=0.5%,corrupt=0.1%,delay=1ms,rate=10g,queue=500,seed=7");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_DOUBLE_EQ(c->loss, 0.01);
  EXPECT_DOUBLE_EQ(c->burst_p, 0.005);
  EXPECT_DOUBLE_EQ(c->burst_r, 0.25);
  EXPECT_DOUBLE_EQ(c->reorder, 0.02);
  EXPECT_EQ(c->reorder_delay, Duration::Microseconds(300));
  EXPECT_DOUBLE_EQ(c->dup, 0.005);
  EXPECT_DOUBLE_EQ(c->corrupt, 0.001);
  EXPECT_EQ(c->delay, Duration::Milliseconds(1));
  EXPECT_EQ(c->rate_bps, 10000000000u);
  EXPECT_EQ(c->queue_frames, 500u);
  EXPECT_EQ(c->seed, 7u);
  EXPECT_TRUE(c->enabled());
  EXPECT_FALSE(ParseImpairSpec("seed=3")->enabled());
  for (const char* bad : {"loss=120%", "loss=x", "delay=5", "rate=fast", "queue=0", "jitter=1ms", "loss"}) {
    EXPECT_FALSE(ParseImpairSpec(bad).ok()) << bad;
  }
  EXPECT_NE(ParseImpairSpec("jitter=1ms").status().message().find("jitter"), std::string_view::npos);
}

TEST_F(ImpairmentTest, SameSeedSameFates) {
  ImpairConfig c;
  c.loss = 0.05;
  c.reorder = 0.05;
  c.dup = 0.05;
  c.seed = 42;
  Impairment a(c), b(c);
  const auto first = Run(a, 3000);
  EXPECT_EQ(first, Run(b, 3000));
  c.seed = 43;
  Impairment d(c);
  EXPECT_NE(Run(d, 3000), first);
}

TEST_F(ImpairmentTest, RandomLossRate) {
  ImpairConfig c;
  c.loss = 0.01;
  Impairment imp(c);
  const auto out = Run(imp, 100000);
  EXPECT_NEAR(static_cast<double>(imp.counters().lost), 1000, 150);
  EXPECT_EQ(out.size() + imp.counters().lost, 100000u);
  EXPECT_TRUE(std::is_sorted(out.begin(), out.end()));  // loss alone never reorders
}

TEST_F(ImpairmentTest, GilbertElliottLossComesInBursts) {
  ImpairConfig c;
  c.burst_p = 0.01;
  c.burst_r = 0.25;  // mean bad run 4 frames
  Impairment imp(c);
  const auto out = Run(imp, 100000);
  // Runs of consecutive missing serials: long ones must appear, and the mean is near 1/r.
  std::vector<uint32_t> runs;
  for (size_t i = 1; i < out.size(); ++i) {
    const uint32_t gap = out[i].first - out[i - 1].first - 1;
    if (gap > 0) runs.push_back(gap);
  }
  ASSERT_FALSE(runs.empty());
  double mean = 0;
  for (uint32_t r : runs) mean += r;
  mean /= runs.size();
  EXPECT_NEAR(mean, 4.0, 0.8);
  EXPECT_GE(*std::max_element(runs.begin(), runs.end()), 10u);
  EXPECT_EQ(imp.counters().burst_lost, 100000u - out.size());
}

TEST_F(ImpairmentTest, ReorderedFramesLeaveAfterLaterOnes) {
  ImpairConfig c;
  c.reorder = 0.1;
  c.reorder_delay = Duration::Microseconds(50);
  Impairment imp(c);
  const auto out = Run(imp, 10000);
  ASSERT_EQ(out.size(), 10000u);
  size_t late = 0;
  for (size_t i = 1; i < out.size(); ++i) late += out[i].first < out[i - 1].first;
  EXPECT_GT(late, 500u);
  EXPECT_NEAR(static_cast<double>(imp.counters().reordered), 1000, 150);
}

TEST_F(ImpairmentTest, DuplicatesAreExtraCopies) {
  ImpairConfig c;
  c.dup = 0.2;
  Impairment imp(c);
  const auto out = Run(imp, 10000);
  EXPECT_EQ(out.size(), 10000u + imp.counters().duplicated);
  std::map<uint32_t, int> seen;
  for (const auto& [serial, t] : out) ++seen[serial];
  size_t twice = 0;
  for (const auto& [serial, n] : seen) twice += n == 2;
  EXPECT_EQ(twice, imp.counters().duplicated);
  EXPECT_NEAR(static_cast<double>(twice), 2000, 200);
}

TEST_F(ImpairmentTest, CorruptionFlipsOneBitOfACopyAfterTheEthernetHeader) {
  ImpairConfig c;
  c.corrupt = 1.0;
  Impairment imp(c);
  std::vector<uint8_t> original(200, 0);
  rte_mbuf* m = rte_pktmbuf_alloc(testing::TestPool());
  std::memset(rte_pktmbuf_append(m, 200), 0, 200);
  const rte_mbuf* before = m;
  imp.Submit(At(0), &m, 1);
  int bits = 0;
  imp.Release(At(0), [&](rte_mbuf** p, uint16_t k) {
    EXPECT_EQ(k, 1);
    EXPECT_NE(p[0], before) << "corrupts a copy, never the original (it may share payload)";
    EXPECT_EQ(p[0]->pkt_len, 200u);
    const uint8_t* d = rte_pktmbuf_mtod(p[0], const uint8_t*);
    for (int i = 0; i < 200; ++i) {
      bits += __builtin_popcount(d[i]);
      if (d[i] != 0) {
        EXPECT_GE(i, 14);
      }
    }
    rte_pktmbuf_free(p[0]);
    return k;
  });
  EXPECT_EQ(bits, 1);
  // Frames whose checksums the device computes are left alone (the damage would go unnoticed).
  rte_mbuf* off = Frame(1);
  off->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
  imp.Submit(At(1), &off, 1);
  EXPECT_EQ(imp.counters().corrupt_skipped, 1u);
  imp.Release(At(1), [](rte_mbuf** p, uint16_t k) {
    for (uint16_t i = 0; i < k; ++i) rte_pktmbuf_free(p[i]);
    return k;
  });
}

TEST_F(ImpairmentTest, DelayAndRateMakeARealBottleneck) {
  ImpairConfig c;
  c.delay = Duration::Milliseconds(2);
  c.rate_bps = 100'000'000;  // 100 Mbit/s: a 1,250-byte frame takes 100 us
  c.queue_frames = 50;
  Impairment imp(c);
  // 10 frames at once: they leave 100 us apart, the first 2 ms + 100 us after submission.
  std::vector<rte_mbuf*> burst;
  for (uint32_t i = 0; i < 10; ++i) burst.push_back(Frame(i, 1250));
  imp.Submit(At(0), burst.data(), 10);
  std::vector<int64_t> left;
  for (int64_t t = 0; t <= 4000 && imp.held() > 0; ++t) {
    imp.Release(At(t), [&](rte_mbuf** p, uint16_t k) {
      for (uint16_t i = 0; i < k; ++i) {
        left.push_back(t);
        rte_pktmbuf_free(p[i]);
      }
      return k;
    });
  }
  ASSERT_EQ(left.size(), 10u);
  for (size_t i = 0; i < left.size(); ++i) EXPECT_EQ(left[i], 2100 + 100 * static_cast<int64_t>(i)) << i;
  // A burst beyond the queue (50 full frames of backlog) is tail-dropped.
  std::vector<rte_mbuf*> flood;
  for (uint32_t i = 0; i < 200; ++i) flood.push_back(Frame(i, 1514));
  imp.Submit(At(5000), flood.data(), 200);
  EXPECT_GT(imp.counters().queue_dropped, 100u);
  EXPECT_LE(imp.held(), 52u);
}

TEST_F(ImpairmentTest, HeldFramesAreFreedWithTheLink) {
  ImpairConfig c;
  c.delay = Duration::Seconds(1);
  {
    Impairment imp(c);
    for (uint32_t i = 0; i < 100; ++i) {
      rte_mbuf* m = Frame(i);
      imp.Submit(At(0), &m, 1);
    }
    EXPECT_EQ(imp.held(), 100u);
  }
}

}  // namespace
}  // namespace synack
