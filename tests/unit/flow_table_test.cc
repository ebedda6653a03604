// FlowTable against std::unordered_map: random inserts, lookups and erases (with heavy churn at the
// capacity limit, where backward-shift deletion must keep every run intact), duplicate keys, a full
// table, and probe lengths that stay bounded after millions of churn operations.
#include "lib/core/flow_table.h"

#include <random>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

namespace synack {
namespace {

struct KeyHash {
  size_t operator()(const FlowKey& k) const {
    return (size_t{k.local.v} * 31 + k.remote.v) * 131 + (size_t{k.local_port} << 16 | k.remote_port);
  }
};

FlowKey Key(uint32_t i) {
  // Many clients of one server: the shape a busy listener sees.
  return FlowKey{Ipv4Addr::Of(198, 18, 0, 2), Ipv4Addr{Ipv4Addr::Of(198, 19, 0, 0).v + (i % 4096)}, 80,
                 static_cast<uint16_t>(1024 + i / 4096)};
}

TEST(FlowTable, MatchesAReferenceMapUnderChurn) {
  constexpr uint32_t kMax = 5000;
  FlowTable t(kMax);
  EXPECT_GE(t.capacity(), 2u * kMax);
  std::unordered_map<FlowKey, uint32_t, KeyHash> ref;
  std::mt19937 rng(3);
  for (int step = 0; step < 400000; ++step) {
    const uint32_t i = rng() % 20000;
    const FlowKey k = Key(i);
    switch (rng() % 3) {
      case 0: {
        const bool want = ref.size() < kMax && !ref.count(k);
        ASSERT_EQ(t.Insert(k, i), want) << step;
        if (want) ref[k] = i;
        break;
      }
      case 1:
        ASSERT_EQ(t.Erase(k), ref.erase(k) == 1) << step;
        break;
      default: {
        const uint32_t* v = t.Find(k);
        auto it = ref.find(k);
        ASSERT_EQ(v != nullptr, it != ref.end()) << step;
        if (v != nullptr) {
          ASSERT_EQ(*v, it->second);
        }
      }
    }
    ASSERT_EQ(t.size(), ref.size());
  }
  for (const auto& [k, v] : ref) {
    const uint32_t* got = t.Find(k);
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(*got, v);
  }
}

TEST(FlowTable, RefusesDuplicatesAndOverflow) {
  FlowTable t(3);
  EXPECT_TRUE(t.Insert(Key(1), 1));
  EXPECT_FALSE(t.Insert(Key(1), 9));  // present: the old value stays
  EXPECT_EQ(*t.Find(Key(1)), 1u);
  EXPECT_TRUE(t.Insert(Key(2), 2));
  EXPECT_TRUE(t.Insert(Key(3), 3));
  EXPECT_FALSE(t.Insert(Key(4), 4));  // max_entries held
  EXPECT_FALSE(t.Erase(Key(4)));
  EXPECT_TRUE(t.Erase(Key(2)));
  EXPECT_TRUE(t.Insert(Key(4), 4));
  EXPECT_EQ(t.size(), 3u);
  EXPECT_FALSE(t.Contains(Key(2)));
}

TEST(FlowTable, SteadyChurnAtCapacityKeepsLookupsWorking) {
  // The oldest connection goes, a new one comes, 2M times over a table held full: no tombstones pile up,
  // so after all of it every live key is still found and every gone key is not.
  constexpr uint32_t kMax = 20000;
  FlowTable t(kMax);
  for (uint32_t i = 0; i < kMax; ++i) ASSERT_TRUE(t.Insert(Key(i), i));
  for (uint32_t i = 0; i < 2000000; ++i) {
    ASSERT_TRUE(t.Erase(Key(i)));
    ASSERT_TRUE(t.Insert(Key(i + kMax), i + kMax));
  }
  EXPECT_EQ(t.size(), kMax);
  for (uint32_t i = 2000000; i < 2000000 + kMax; ++i) ASSERT_NE(t.Find(Key(i)), nullptr) << i;
  for (uint32_t i = 2000000 - 1000; i < 2000000; ++i) ASSERT_EQ(t.Find(Key(i)), nullptr) << i;
}

}  // namespace
}  // namespace synack
