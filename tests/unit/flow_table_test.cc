// FlowTable against std::unordered_map: random inserts, lookups and erases (with heavy churn at the
// capacity limit, where backward-shift deletion must keep every run intact), duplicate keys, a full
// table, and probe lengths that stay bounded after millions of churn operations. The table keeps no keys:
// here they live in a KeyStore indexed by value (as TcpLayer's live in its connection records), which
// logs what the table reads — two keys with the same 32-bit hash are told apart by key, and erasing reads
// the erased entry's key alone, also where probe runs wrap around the end of the table.
#include "lib/core/flow_table.h"

#include <algorithm>
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
  // Many clients of one server: the shape a busy listener sees (distinct for i < 4096 * 64512).
  return FlowKey{Ipv4Addr::Of(198, 18, 0, 2), Ipv4Addr{Ipv4Addr::Of(198, 19, 0, 0).v + (i % 4096)}, 80,
                 static_cast<uint16_t>(1024 + i / 4096)};
}

// Where the table's keys live: key_of(value) is keys[value]. With `log` set, every value key_of is
// called for is appended to it.
struct KeyStore {
  explicit KeyStore(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) keys.push_back(Key(i));
  }
  std::vector<FlowKey> keys;
  std::vector<uint32_t>* log = nullptr;
};

struct StoredKey {
  KeyStore* store;
  const FlowKey& operator()(uint32_t value) const {
    if (store->log != nullptr) store->log->push_back(value);
    return store->keys.at(value);
  }
};

using Table = FlowTable<StoredKey>;
constexpr uint64_t kSeed = 0x5eed5eed12345678ull;

TEST(FlowTable, MatchesAReferenceMapUnderChurn) {
  constexpr uint32_t kMax = 5000;
  KeyStore store(20000);
  Table t(kMax, StoredKey{&store});
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
        ASSERT_EQ(t.Erase(i), ref.erase(k) == 1) << step;
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
  KeyStore store(10);
  Table t(3, StoredKey{&store});
  EXPECT_TRUE(t.Insert(Key(1), 1));
  store.keys[9] = Key(1);             // a second record with the same key
  EXPECT_FALSE(t.Insert(Key(1), 9));  // present: the old value stays
  EXPECT_EQ(*t.Find(Key(1)), 1u);
  EXPECT_FALSE(t.Erase(9));  // matched by value: the entry of record 1 stays
  EXPECT_EQ(*t.Find(Key(1)), 1u);
  EXPECT_TRUE(t.Insert(Key(2), 2));
  EXPECT_TRUE(t.Insert(Key(3), 3));
  EXPECT_FALSE(t.Insert(Key(4), 4));  // max_entries held
  EXPECT_FALSE(t.Erase(4));
  EXPECT_TRUE(t.Erase(2));
  EXPECT_FALSE(t.Erase(2));
  EXPECT_TRUE(t.Insert(Key(4), 4));
  EXPECT_EQ(t.size(), 3u);
  EXPECT_FALSE(t.Contains(Key(2)));
  EXPECT_FALSE(t.Insert(Key(5), UINT32_MAX));  // the empty marker is no value
}

TEST(FlowTable, SteadyChurnAtCapacityKeepsLookupsWorking) {
  // The oldest connection goes, a new one comes, 2M times over a table held full: no tombstones pile up,
  // so after all of it every live key is still found and every gone key is not.
  constexpr uint32_t kMax = 20000;
  constexpr uint32_t kChurn = 2000000;
  KeyStore store(kChurn + kMax);
  Table t(kMax, StoredKey{&store});
  for (uint32_t i = 0; i < kMax; ++i) ASSERT_TRUE(t.Insert(Key(i), i));
  for (uint32_t i = 0; i < kChurn; ++i) {
    ASSERT_TRUE(t.Erase(i));
    ASSERT_TRUE(t.Insert(Key(i + kMax), i + kMax));
  }
  EXPECT_EQ(t.size(), kMax);
  for (uint32_t i = kChurn; i < kChurn + kMax; ++i) ASSERT_NE(t.Find(Key(i)), nullptr) << i;
  for (uint32_t i = kChurn - 1000; i < kChurn; ++i) ASSERT_EQ(t.Find(Key(i)), nullptr) << i;
}

TEST(FlowTable, SlotsAreEightBytes) {
  static_assert(Table::kSlotBytes == 8);
  KeyStore store(0);
  Table t(1000, StoredKey{&store});
  EXPECT_EQ(t.capacity(), 2048u);  // a power of two, at least twice the entries
  EXPECT_EQ(t.MemoryBytes(), 8u * 2048);
}

TEST(FlowTable, KeysWithTheSameHashAreToldApartByKey) {
  KeyStore store(300000);
  Table t(16, StoredKey{&store}, kSeed);
  // A birthday search for two keys whose 32-bit hashes collide (about ten pairs among 300,000 keys).
  std::unordered_map<uint32_t, uint32_t> seen;
  uint32_t a = 0;
  uint32_t b = 0;
  for (uint32_t i = 0; i < store.keys.size() && b == 0; ++i) {
    auto [it, fresh] = seen.try_emplace(t.Hash(Key(i)), i);
    if (!fresh) {
      a = it->second;
      b = i;
    }
  }
  ASSERT_NE(b, 0u) << "no two keys with the same hash";
  ASSERT_NE(Key(a), Key(b));
  ASSERT_EQ(t.Home(Key(a)), t.Home(Key(b)));

  std::vector<uint32_t> reads;
  store.log = &reads;
  EXPECT_TRUE(t.Insert(Key(a), a));
  reads.clear();
  EXPECT_FALSE(t.Contains(Key(b)));  // same hash, other key: a miss
  EXPECT_EQ(reads, std::vector<uint32_t>{a});
  EXPECT_TRUE(t.Insert(Key(b), b));  // not taken for a duplicate
  EXPECT_FALSE(t.Insert(Key(b), b));
  EXPECT_EQ(*t.Find(Key(a)), a);
  reads.clear();
  EXPECT_EQ(*t.Find(Key(b)), b);
  EXPECT_EQ(reads, (std::vector<uint32_t>{a, b}));  // hashes matched both: keys compared in probe order

  EXPECT_TRUE(t.Erase(a));  // b moves back to the home it shares with a
  EXPECT_FALSE(t.Contains(Key(a)));
  EXPECT_EQ(*t.Find(Key(b)), b);
  EXPECT_TRUE(t.Insert(Key(a), a));
  EXPECT_TRUE(t.Erase(b));
  EXPECT_EQ(*t.Find(Key(a)), a);
  EXPECT_FALSE(t.Contains(Key(b)));
  EXPECT_EQ(t.size(), 1u);
}

// `n` values (from 0 up) whose keys' homes in `t` lie in `homes`, stored as the first keys of `store`.
std::vector<uint32_t> KeysHomedAt(const Table& t, KeyStore& store, const std::vector<size_t>& homes, uint32_t n) {
  std::vector<FlowKey> picked;
  for (uint32_t i = 0; picked.size() < n; ++i) {
    if (std::find(homes.begin(), homes.end(), t.Home(Key(i))) != homes.end()) picked.push_back(Key(i));
  }
  std::vector<uint32_t> values;
  for (uint32_t v = 0; v < n; ++v) {
    store.keys[v] = picked[v];
    values.push_back(v);
  }
  return values;
}

TEST(FlowTable, BackwardShiftAcrossTheEndOfTheTable) {
  // Capacity 16. Slot by slot, each erase below meets one case of "may the next entry move back into
  // the hole": across the end of the table and not, allowed and not.
  KeyStore store(100000);
  Table t(8, StoredKey{&store}, kSeed);
  ASSERT_EQ(t.capacity(), 16u);
  KeysHomedAt(t, store, {15}, 3);  // values 0-2: home 15
  const FlowKey a = store.keys[0], b = store.keys[1], c = store.keys[2];
  FlowKey d, e;  // homes 0 and 1
  for (uint32_t i = 0; t.Home(d) != 0 || t.Home(e) != 1; ++i) {
    if (t.Home(Key(i)) == 0) d = Key(i);
    if (t.Home(Key(i)) == 1) e = Key(i);
  }
  store.keys[3] = d;
  store.keys[4] = e;
  auto found = [&](const FlowKey& k, uint32_t v) { return t.Find(k) != nullptr && *t.Find(k) == v; };

  // a@15 d@0: erasing a (hole 15, past the end) must leave d at its home 0.
  ASSERT_TRUE(t.Insert(a, 0));
  ASSERT_TRUE(t.Insert(d, 3));
  ASSERT_TRUE(t.Erase(0));
  EXPECT_TRUE(found(d, 3));
  ASSERT_TRUE(t.Erase(3));
  // a@15 b@0: erasing a must pull b back across the end to 15.
  ASSERT_TRUE(t.Insert(a, 0));
  ASSERT_TRUE(t.Insert(b, 1));
  ASSERT_TRUE(t.Erase(0));
  EXPECT_TRUE(found(b, 1));
  // b@15 c@0 d@1 e@2: erasing c (hole 0) pulls d back to its home 0, then e to its home 1.
  ASSERT_TRUE(t.Insert(c, 2));
  ASSERT_TRUE(t.Insert(d, 3));
  ASSERT_TRUE(t.Insert(e, 4));
  ASSERT_TRUE(t.Erase(2));
  EXPECT_TRUE(found(b, 1));
  EXPECT_TRUE(found(d, 3));
  EXPECT_TRUE(found(e, 4));
  // b@15 d@0 e@1 c@2: erasing d (hole 0) leaves e at its home 1 but pulls c (home 15: cyclically
  // before the hole) back to 0; erasing e then moves nothing.
  ASSERT_TRUE(t.Insert(c, 2));
  ASSERT_TRUE(t.Erase(3));
  EXPECT_TRUE(found(e, 4));
  EXPECT_TRUE(found(c, 2));
  EXPECT_TRUE(found(b, 1));
  ASSERT_TRUE(t.Erase(4));
  EXPECT_TRUE(found(b, 1));
  EXPECT_TRUE(found(c, 2));
  EXPECT_FALSE(t.Contains(d));
  EXPECT_FALSE(t.Contains(e));
  EXPECT_EQ(t.size(), 2u);
}

TEST(FlowTable, EraseReadsOnlyTheErasedKeyUnderChurnAtTheEnd) {
  // Keys homed in the last three slots and the first two, churned at random through a table of 16 slots
  // held up to 8 entries: long runs that wrap around the end, shifted back on every erase. Each erase
  // reads the erased entry's key and no other; every held key stays found, every other key stays absent.
  KeyStore store(100000);
  Table t(8, StoredKey{&store}, kSeed);
  ASSERT_EQ(t.capacity(), 16u);
  const std::vector<uint32_t> values = KeysHomedAt(t, store, {13, 14, 15, 0, 1}, 14);
  std::vector<bool> held(values.size());
  std::vector<uint32_t> reads;
  std::mt19937 rng(7);
  int crowded_erases = 0;
  for (int step = 0; step < 20000; ++step) {
    const uint32_t v = values[rng() % values.size()];
    const FlowKey& k = store.keys[v];
    if (held[v]) {
      crowded_erases += t.size() >= 6;
      reads.clear();
      store.log = &reads;
      ASSERT_TRUE(t.Erase(v)) << step;
      store.log = nullptr;
      ASSERT_EQ(reads, std::vector<uint32_t>{v}) << step;
      held[v] = false;
    } else {
      const bool room = t.size() < 8;
      held[v] = t.Insert(k, v);
      ASSERT_EQ(held[v], room) << step;
    }
    for (uint32_t u : values) {
      const uint32_t* got = t.Find(store.keys[u]);
      ASSERT_EQ(got != nullptr, held[u]) << step << " value " << u;
      if (got != nullptr) {
        ASSERT_EQ(*got, u);
      }
    }
  }
  EXPECT_GT(crowded_erases, 1000);  // erases with long runs behind them
}

}  // namespace
}  // namespace synack
