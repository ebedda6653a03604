// NeighborCache: resolution queueing, release order, bounds, retries, expiry and the RFC 826 merge rule.
#include <vector>

#include <gtest/gtest.h>
#include <rte_mempool.h>

#include "lib/net/neighbor_cache.h"
#include "tests/eal_env.h"
#include "tests/frames.h"

namespace synack {
namespace {

const Ipv4Addr kIp1 = Ipv4Addr::Of(198, 18, 0, 1);
const Ipv4Addr kIp2 = Ipv4Addr::Of(198, 18, 0, 2);
const MacAddr kMac1{{2, 0, 0, 0, 0, 1}};
const MacAddr kMac2{{2, 0, 0, 0, 0, 2}};

Instant At(int64_t ms) { return Instant::FromNanoseconds(ms * 1000000); }

class NeighborCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { in_use_at_start_ = rte_mempool_in_use_count(testing::TestPool()); }
  void TearDown() override {
    // Every mbuf handed to the cache was released, dropped or freed by its destructor.
    EXPECT_EQ(rte_mempool_in_use_count(testing::TestPool()), in_use_at_start_);
  }
  Mbuf Packet(uint8_t tag) { return testing::ToMbuf(testing::TestPool(), testing::Bytes{tag}); }

  unsigned in_use_at_start_ = 0;
};

TEST_F(NeighborCacheTest, QueuesUntilResolvedThenReleasesInOrder) {
  NeighborCache c({.capacity = 4, .max_pending = 3});
  EXPECT_EQ(c.Find(kIp1), nullptr);
  EXPECT_EQ(c.Enqueue(kIp1, At(0), Packet(1)), NeighborCache::EnqueueResult::kQueuedSendRequest);
  EXPECT_EQ(c.Enqueue(kIp1, At(1), Packet(2)), NeighborCache::EnqueueResult::kQueued);
  EXPECT_EQ(c.Enqueue(kIp1, At(2), Packet(3)), NeighborCache::EnqueueResult::kQueued);
  EXPECT_EQ(c.Enqueue(kIp1, At(3), Packet(4)), NeighborCache::EnqueueResult::kDroppedQueueFull);
  EXPECT_EQ(c.pending_packets(), 3u);
  EXPECT_EQ(c.Find(kIp1), nullptr);  // INCOMPLETE entries have no address

  std::vector<uint8_t> released;
  EXPECT_TRUE(c.Update(kIp1, kMac1, At(5), /*create=*/false, [&](Mbuf&& m, const MacAddr& mac) {
    EXPECT_EQ(mac, kMac1);
    released.push_back(m.data()[0]);
  }));
  EXPECT_EQ(released, (std::vector<uint8_t>{1, 2, 3}));
  ASSERT_NE(c.Find(kIp1), nullptr);
  EXPECT_EQ(*c.Find(kIp1), kMac1);
  EXPECT_EQ(c.pending_packets(), 0u);
}

TEST_F(NeighborCacheTest, MergeRuleOnlyCreatesWhenAsked) {
  NeighborCache c({.capacity = 4});
  auto none = [](Mbuf&&, const MacAddr&) { FAIL(); };
  EXPECT_FALSE(c.Update(kIp1, kMac1, At(0), /*create=*/false, none));
  EXPECT_EQ(c.size(), 0u);
  EXPECT_TRUE(c.Update(kIp1, kMac1, At(0), /*create=*/true, none));
  EXPECT_TRUE(c.Update(kIp1, kMac2, At(1), /*create=*/false, none));  // existing entry refreshed
  EXPECT_EQ(*c.Find(kIp1), kMac2);
}

TEST_F(NeighborCacheTest, TableFullDropsAndCounts) {
  NeighborCache c({.capacity = 1});
  EXPECT_EQ(c.Enqueue(kIp1, At(0), Packet(1)), NeighborCache::EnqueueResult::kQueuedSendRequest);
  EXPECT_EQ(c.Enqueue(kIp2, At(0), Packet(2)), NeighborCache::EnqueueResult::kDroppedTableFull);
  auto none = [](Mbuf&&, const MacAddr&) {};
  EXPECT_FALSE(c.Update(kIp2, kMac2, At(0), true, none));
}

TEST_F(NeighborCacheTest, RetriesThenGivesUpAndDropsWaitingPackets) {
  NeighborCache c({.capacity = 4, .max_pending = 4, .retry_interval = Duration::Seconds(1), .max_requests = 3});
  ASSERT_EQ(c.Enqueue(kIp1, At(0), Packet(1)), NeighborCache::EnqueueResult::kQueuedSendRequest);
  ASSERT_EQ(c.Enqueue(kIp1, At(0), Packet(2)), NeighborCache::EnqueueResult::kQueued);
  std::vector<int64_t> requests_ms;
  int dropped = 0;
  for (int64_t ms = 0; ms <= 5000; ms += 100) {
    c.Poll(
        At(ms),
        [&](Ipv4Addr ip) {
          EXPECT_EQ(ip, kIp1);
          requests_ms.push_back(ms);
        },
        [&](Mbuf&&) { ++dropped; });
  }
  // First request went out with the Enqueue at 0 ms; retries at 1 s and 2 s; given up at 3 s.
  EXPECT_EQ(requests_ms, (std::vector<int64_t>{1000, 2000}));
  EXPECT_EQ(dropped, 2);
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.pending_packets(), 0u);
}

TEST_F(NeighborCacheTest, StaleEntriesStayUsableWhileReconfirmed) {
  NeighborCache c({.capacity = 4,
                   .reachable_time = Duration::Seconds(60),
                   .retry_interval = Duration::Seconds(1),
                   .max_requests = 3});
  auto none = [](Mbuf&&, const MacAddr&) {};
  c.Update(kIp1, kMac1, At(0), true, none);
  int requests = 0;
  auto count = [&](Ipv4Addr) { ++requests; };
  auto drop = [](Mbuf&&) { FAIL(); };
  c.Poll(At(59999), count, drop);
  EXPECT_EQ(requests, 0);
  c.Poll(At(60000), count, drop);  // aged out: still usable, re-confirmation starts
  EXPECT_EQ(requests, 1);
  EXPECT_NE(c.Find(kIp1), nullptr);
  c.Update(kIp1, kMac1, At(60100), false, none);  // answered
  c.Poll(At(61000), count, drop);
  EXPECT_EQ(requests, 1);
  // Next time nobody answers: three requests, then the entry goes.
  for (int64_t ms = 120100; ms <= 124100; ms += 500) c.Poll(At(ms), count, drop);
  EXPECT_EQ(requests, 4);
  EXPECT_EQ(c.Find(kIp1), nullptr);
  EXPECT_EQ(c.size(), 0u);
}

TEST_F(NeighborCacheTest, DestructorFreesWaitingPackets) {
  {
    NeighborCache c({.capacity = 2});
    c.Enqueue(kIp1, At(0), Packet(1));
    c.Enqueue(kIp2, At(0), Packet(2));
  }
  // TearDown checks the pool.
}

}  // namespace
}  // namespace synack
