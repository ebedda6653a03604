// Telemetry snapshots: the Seqlock hands readers on another thread only whole values while a writer
// publishes as fast as it can (every word of a value carries the same number, so a torn copy shows);
// EngineTelemetry publishes on its period and numbers its snapshots; the TIME-WAIT age buckets and the
// store's sampling (every entry, or an even stride over a large ring).
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "lib/base/seqlock.h"
#include "lib/core/telemetry.h"
#include "lib/core/time_wait_store.h"

namespace synack {
namespace {

struct Wide {
  uint64_t words[512];  // 4 KiB: a copy takes long enough for writes to overlap it
};

TEST(Seqlock, ReadBeforeAnyWriteGivesTheInitialValue) {
  Seqlock<Wide> lock;
  Wide w;
  w.words[0] = 7;
  ASSERT_TRUE(lock.Read(&w));
  EXPECT_EQ(w.words[0], 0u);
  EXPECT_EQ(lock.writes(), 0u);
}

TEST(Seqlock, ReaderOnAnotherThreadNeverSeesATornValue) {
  auto lock = std::make_unique<Seqlock<Wide>>();
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    auto w = std::make_unique<Wide>();
    for (uint64_t v = 1; !stop.load(std::memory_order_relaxed); ++v) {
      for (uint64_t& x : w->words) x = v;
      lock->Write(*w);
    }
  });
  auto r = std::make_unique<Wide>();
  uint64_t last = 0, reads = 0, changes = 0;
  // Until the reader has seen the value change often enough (a loaded machine may run the writer
  // rarely: it takes longer, it does not fail), within a bound.
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((changes <= 20 || reads <= 1000) && std::chrono::steady_clock::now() < end) {
    ASSERT_TRUE(lock->Read(r.get()));
    ++reads;
    for (uint64_t x : r->words) ASSERT_EQ(x, r->words[0]) << "torn read after " << reads << " reads";
    ASSERT_GE(r->words[0], last) << "went back in time";
    if (r->words[0] != last) ++changes;
    last = r->words[0];
  }
  stop.store(true);
  writer.join();
  EXPECT_GT(reads, 1000u);
  EXPECT_GT(changes, 20u);
  EXPECT_GT(lock->writes(), 0u);
}

TEST(Seqlock, BoundedReadGivesUpOnlyWhenWritesKeepOverlapping) {
  Seqlock<uint64_t> lock;
  lock.Write(5);
  uint64_t v = 0;
  EXPECT_TRUE(lock.Read(&v, 1));
  EXPECT_EQ(v, 5u);
  EXPECT_EQ(lock.writes(), 1u);
}

TEST(EngineTelemetry, PublishesOnItsPeriodAndNumbersSnapshots) {
  EngineTelemetry t(Duration::Milliseconds(100));
  auto out = std::make_unique<EngineSnapshot>();
  ASSERT_TRUE(t.Read(out.get()));
  EXPECT_EQ(out->publishes, 0u);  // none yet
  const Instant t0 = Instant() + Duration::Seconds(1);
  EXPECT_TRUE(t.Due(t0));
  t.scratch().connections = 3;
  t.scratch().at_ns = t0.ns();
  t.Publish(t0);
  EXPECT_FALSE(t.Due(t0 + Duration::Milliseconds(99)));
  EXPECT_TRUE(t.Due(t0 + Duration::Milliseconds(100)));
  t.scratch().connections = 99;  // the scratch is the engine's: not visible until published
  ASSERT_TRUE(t.Read(out.get()));
  EXPECT_EQ(out->publishes, 1u);
  EXPECT_EQ(out->connections, 3u);
  EXPECT_EQ(out->at_ns, t0.ns());
  t.Publish(t0 + Duration::Milliseconds(100));
  ASSERT_TRUE(t.Read(out.get()));
  EXPECT_EQ(out->publishes, 2u);
  EXPECT_EQ(out->connections, 99u);
  EXPECT_EQ(t.publishes(), 2u);
}

TEST(TimeWaitAges, BucketsFollowTheBounds) {
  EXPECT_EQ(TimeWaitAgeBucket(0), 0u);
  EXPECT_EQ(TimeWaitAgeBucket(999), 0u);
  EXPECT_EQ(TimeWaitAgeBucket(1000), 1u);
  EXPECT_EQ(TimeWaitAgeBucket(59999), kTimeWaitAgeBuckets - 2);
  EXPECT_EQ(TimeWaitAgeBucket(60000), kTimeWaitAgeBuckets - 1);
  EXPECT_EQ(TimeWaitAgeBucket(UINT64_MAX), kTimeWaitAgeBuckets - 1);
}

FlowKey Key(uint32_t i) {
  return FlowKey{Ipv4Addr::Of(198, 18, 0, 1), Ipv4Addr::Of(198, 18, 0, 2), static_cast<uint16_t>(10000 + i), 5001};
}

TimeWaitEntry Expiring(int64_t ms) {
  TimeWaitEntry e;
  e.expires = Instant() + Duration::Milliseconds(ms);
  return e;
}

TEST(TimeWaitStoreSample, VisitsEveryLiveEntryOfASmallRingOldestFirst) {
  TimeWaitStore s(64);
  for (uint32_t i = 0; i < 10; ++i) ASSERT_TRUE(s.Insert(Key(i), Expiring(1000 + i)));
  ASSERT_TRUE(s.Erase(Key(3)));  // a dead slot is skipped
  std::vector<int64_t> seen;
  EXPECT_EQ(s.Sample(100, [&](const TimeWaitEntry& e) { seen.push_back(e.expires.ns() / 1000000); }), 9u);
  ASSERT_EQ(seen.size(), 9u);
  EXPECT_EQ(seen.front(), 1000);
  EXPECT_EQ(seen.back(), 1009);
  EXPECT_EQ(s.Sample(0, [](const TimeWaitEntry&) {}), 0u);
}

TEST(TimeWaitStoreSample, StridesOverALargeRing) {
  TimeWaitStore s(4096);
  for (uint32_t i = 0; i < 4000; ++i) ASSERT_TRUE(s.Insert(Key(i), Expiring(1000 + i)));
  uint64_t n = s.Sample(100, [](const TimeWaitEntry&) {});
  EXPECT_LE(n, 100u);
  EXPECT_GE(n, 95u);
}

}  // namespace
}  // namespace synack
