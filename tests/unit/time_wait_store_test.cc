// TimeWaitStore: expiry exactly at 2*MSL in insertion order (each side of the deadline), dead slots from
// early removals skipped, a restarted 2*MSL re-queued at the tail, a full ring refused and freed by its
// head, the oldest-first search with its scan limit, and a randomized run against a reference map
// (index deletion under churn at the capacity limit).
#include "lib/core/time_wait_store.h"

#include <map>
#include <optional>
#include <random>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

namespace synack {
namespace {

FlowKey Key(uint32_t i) {
  return FlowKey{Ipv4Addr::Of(198, 18, 0, 1), Ipv4Addr::Of(198, 18, 0, 2), static_cast<uint16_t>(10000 + i % 50000),
                 static_cast<uint16_t>(5001 + i / 50000)};
}

TimeWaitEntry Entry(Instant expires, uint32_t snd_nxt = 1) {
  TimeWaitEntry tw;
  tw.snd_nxt = SeqNum(snd_nxt);
  tw.expires = expires;
  tw.ts_enabled = true;
  return tw;
}

Instant At(int64_t ms) { return Instant() + Duration::Milliseconds(ms); }

std::vector<FlowKey> ExpireAt(TimeWaitStore& s, Instant now) {
  std::vector<FlowKey> gone;
  s.Expire(now, [&](const FlowKey& k, const TimeWaitEntry&) { gone.push_back(k); });
  return gone;
}

TEST(TimeWaitStore, EntriesLeaveAtTheirDeadlineInInsertionOrder) {
  TimeWaitStore s(8);
  ASSERT_TRUE(s.Insert(Key(1), Entry(At(1000))));
  ASSERT_TRUE(s.Insert(Key(2), Entry(At(1000))));
  ASSERT_TRUE(s.Insert(Key(3), Entry(At(1500))));
  EXPECT_EQ(s.size(), 3u);
  EXPECT_TRUE(ExpireAt(s, At(999)).empty());                                 // one millisecond before: all stay
  EXPECT_EQ(ExpireAt(s, At(1000)), (std::vector<FlowKey>{Key(1), Key(2)}));  // at the deadline: gone
  EXPECT_EQ(s.Find(Key(1)), nullptr);
  ASSERT_NE(s.Find(Key(3)), nullptr);
  EXPECT_TRUE(ExpireAt(s, At(1499)).empty());
  EXPECT_EQ(ExpireAt(s, At(1500)), (std::vector<FlowKey>{Key(3)}));
  EXPECT_EQ(s.size(), 0u);
}

TEST(TimeWaitStore, DuplicateKeyIsRefused) {
  TimeWaitStore s(4);
  ASSERT_TRUE(s.Insert(Key(1), Entry(At(10), 7)));
  EXPECT_FALSE(s.Insert(Key(1), Entry(At(20), 9)));
  EXPECT_EQ(s.Find(Key(1))->snd_nxt, SeqNum(7));
  EXPECT_EQ(s.size(), 1u);
}

TEST(TimeWaitStore, FullRingIsRefusedUntilItsHeadLeaves) {
  TimeWaitStore s(3);
  for (uint32_t i = 0; i < 3; ++i) ASSERT_TRUE(s.Insert(Key(i), Entry(At(100 + i))));
  EXPECT_FALSE(s.Insert(Key(9), Entry(At(200))));  // capacity 3: the fourth is refused
  // Erasing the head frees its slot at once.
  ASSERT_TRUE(s.Erase(Key(0)));
  EXPECT_TRUE(s.Insert(Key(9), Entry(At(200))));
  EXPECT_FALSE(s.Insert(Key(10), Entry(At(200))));
  EXPECT_EQ(s.rotated(), 0u);
  // Erasing from the middle leaves a dead slot behind the live head (Key 1): the insert moves the head
  // entry to the tail to bring the dead slot to the head, and frees it.
  ASSERT_TRUE(s.Erase(Key(2)));
  EXPECT_TRUE(s.Insert(Key(10), Entry(At(200))));
  EXPECT_EQ(s.rotated(), 1u);
  EXPECT_EQ(s.size(), 3u);
  ASSERT_NE(s.Find(Key(1)), nullptr);
  EXPECT_FALSE(s.Insert(Key(11), Entry(At(300))));  // full of live entries: nothing to rotate towards
  EXPECT_EQ(s.rotated(), 1u);
  // Key 1 kept its deadline (101) but now waits behind Key 9 (200): late, never early.
  EXPECT_TRUE(ExpireAt(s, At(101)).empty());
  EXPECT_EQ(ExpireAt(s, At(200)), (std::vector<FlowKey>{Key(9), Key(1), Key(10)}));
  EXPECT_FALSE(s.Erase(Key(2)));  // already gone
}

// A full ring with one dead slot `live_before` entries behind its head: an insert rotates at most
// kMaxRotate live entries to reach it.
void InsertIntoFullRingWithDeadSlotAt(uint32_t live_before, bool expect_ok) {
  const uint32_t cap = TimeWaitStore::kMaxRotate + 4;
  TimeWaitStore s(cap);
  for (uint32_t i = 0; i < cap; ++i) ASSERT_TRUE(s.Insert(Key(i), Entry(At(100 + i))));
  ASSERT_TRUE(s.Erase(Key(live_before)));
  EXPECT_EQ(s.Insert(Key(1000), Entry(At(500))), expect_ok) << live_before;
  EXPECT_EQ(s.rotated(), std::min(live_before, TimeWaitStore::kMaxRotate));
  for (uint32_t i = 0; i < cap; ++i) {
    if (i != live_before) {
      EXPECT_NE(s.Find(Key(i)), nullptr) << i;  // rotation keeps every entry
    }
  }
  EXPECT_EQ(s.size(), expect_ok ? cap : cap - 1);
}

TEST(TimeWaitStore, FullRingRotatesAtMostMaxRotateEntriesToReachADeadSlot) {
  InsertIntoFullRingWithDeadSlotAt(TimeWaitStore::kMaxRotate, true);       // the 64th rotation frees it
  InsertIntoFullRingWithDeadSlotAt(TimeWaitStore::kMaxRotate + 1, false);  // one too far: refused
}

TEST(TimeWaitStore, BeyondTheRotationLimitTheOldestEntryIsEvictedWhenAllowed) {
  const uint32_t cap = TimeWaitStore::kMaxRotate + 4;
  TimeWaitStore s(cap);
  for (uint32_t i = 0; i < cap; ++i) ASSERT_TRUE(s.Insert(Key(i), Entry(At(100 + i), i)));
  ASSERT_TRUE(s.Erase(Key(TimeWaitStore::kMaxRotate + 1)));  // one too far for the rotation
  std::optional<TimeWaitStore::Evicted> evicted;
  ASSERT_TRUE(s.Insert(Key(1000), Entry(At(500)), &evicted));
  EXPECT_EQ(s.rotated(), TimeWaitStore::kMaxRotate);
  ASSERT_TRUE(evicted.has_value());
  // The 64 rotated entries went behind the newest; the head then was the 65th inserted, which left early.
  EXPECT_EQ(evicted->key, Key(TimeWaitStore::kMaxRotate));
  EXPECT_EQ(evicted->tw.snd_nxt, SeqNum(TimeWaitStore::kMaxRotate));
  EXPECT_EQ(s.evictions(), 1u);
  EXPECT_EQ(s.Find(Key(TimeWaitStore::kMaxRotate)), nullptr);
  ASSERT_NE(s.Find(Key(0)), nullptr);
  // Key 0's deadline (100) has passed at 160, but it waits behind Key 66 (166): late, never early.
  EXPECT_TRUE(ExpireAt(s, At(160)).empty());
  EXPECT_EQ(ExpireAt(s, At(167)).size(), 2u + TimeWaitStore::kMaxRotate);  // 66, 67, then the rotated 64
  EXPECT_EQ(s.size(), 1u);                                                 // the new entry (deadline 500)
  ASSERT_NE(s.Find(Key(1000)), nullptr);

  // With every slot live there is no hole to rotate towards: the oldest leaves at once when allowed,
  // and the insert is refused when not.
  std::optional<TimeWaitStore::Evicted> none;
  TimeWaitStore t(cap);
  for (uint32_t i = 0; i < cap; ++i) ASSERT_TRUE(t.Insert(Key(i), Entry(At(100 + i))));
  EXPECT_FALSE(t.Insert(Key(1000), Entry(At(500))));
  std::optional<TimeWaitStore::Evicted> oldest;
  ASSERT_TRUE(t.Insert(Key(1001), Entry(At(500)), &oldest));
  ASSERT_TRUE(oldest.has_value());
  EXPECT_EQ(oldest->key, Key(0));
  EXPECT_EQ(t.rotated(), 0u);
  EXPECT_EQ(t.evictions(), 1u);
  EXPECT_EQ(t.Find(Key(0)), nullptr);
  // Within the rotation limit nothing is evicted.
  ASSERT_TRUE(t.Erase(Key(TimeWaitStore::kMaxRotate)));
  EXPECT_TRUE(t.Insert(Key(1000), Entry(At(500)), &none));
  EXPECT_FALSE(none.has_value());
  EXPECT_EQ(t.evictions(), 1u);  // still the one above
  // A key already present is refused before any room is made.
  EXPECT_FALSE(t.Insert(Key(1000), Entry(At(600)), &none));
  EXPECT_FALSE(none.has_value());
}

TEST(TimeWaitStore, AnOverdueEntryMetByTheRotationLeavesAsDueInsteadOfAnEviction) {
  const uint32_t cap = TimeWaitStore::kMaxRotate + 4;
  TimeWaitStore s(cap);
  for (uint32_t i = 0; i < cap; ++i) ASSERT_TRUE(s.Insert(Key(i), Entry(At(100 + i))));
  // A hole 65 entries in, out of reach: the insert at 50 rotates Key 0..63 (deadlines 100..163) behind
  // Key 66 and 67 and evicts Key 64, the oldest not rotated; the hole behind it is freed too.
  ASSERT_TRUE(s.Erase(Key(TimeWaitStore::kMaxRotate + 1)));
  std::optional<TimeWaitStore::Evicted> ev;
  ASSERT_TRUE(s.Insert(Key(1000), Entry(At(500)), &ev, At(50)));
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->key, Key(TimeWaitStore::kMaxRotate));
  EXPECT_FALSE(ev->due);
  EXPECT_EQ(s.evictions(), 1u);
  // At 166, Key 66 expires and Key 67 (167) heads the ring, with the rotated Key 0..63, all overdue,
  // right behind it; two inserts fill the ring.
  EXPECT_EQ(ExpireAt(s, At(166)), (std::vector<FlowKey>{Key(TimeWaitStore::kMaxRotate + 2)}));
  ASSERT_TRUE(s.Insert(Key(1999), Entry(At(600))));
  ASSERT_TRUE(s.Insert(Key(2000), Entry(At(600))));
  ASSERT_TRUE(s.full());
  // Full, no hole: one rotation (Key 67, not due) brings Key 0 to the head, due at 166: it leaves as
  // expired, not as an eviction.
  ev.reset();
  ASSERT_TRUE(s.Insert(Key(2001), Entry(At(600)), &ev, At(166)));
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->key, Key(0));
  EXPECT_TRUE(ev->due);
  EXPECT_EQ(s.rotated(), TimeWaitStore::kMaxRotate + 1);
  EXPECT_EQ(s.evictions(), 1u);
  // At 100, one millisecond before Key 1's deadline, nothing is due: after 64 rotations the oldest not
  // rotated is evicted.
  ev.reset();
  ASSERT_TRUE(s.Insert(Key(2002), Entry(At(600)), &ev, At(100)));
  ASSERT_TRUE(ev.has_value());
  EXPECT_FALSE(ev->due);
  EXPECT_EQ(s.evictions(), 2u);
}

TEST(TimeWaitStore, TakeReturnsTheEntryItRemoves) {
  TimeWaitStore s(4);
  ASSERT_TRUE(s.Insert(Key(1), Entry(At(10), 7)));
  ASSERT_TRUE(s.Insert(Key(2), Entry(At(10), 9)));
  EXPECT_FALSE(s.Take(Key(3)).has_value());  // absent: nothing removed
  EXPECT_EQ(s.size(), 2u);
  std::optional<TimeWaitEntry> tw = s.Take(Key(2));
  ASSERT_TRUE(tw.has_value());
  EXPECT_EQ(tw->snd_nxt, SeqNum(9));
  EXPECT_EQ(tw->expires, At(10));
  EXPECT_EQ(s.Find(Key(2)), nullptr);
  EXPECT_EQ(s.Find(Key(1))->snd_nxt, SeqNum(7));
  EXPECT_EQ(s.size(), 1u);
  EXPECT_FALSE(s.Take(Key(2)).has_value());  // once only
}

TEST(TimeWaitStore, ErasedEntriesNeverExpireAgain) {
  TimeWaitStore s(8);
  for (uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(s.Insert(Key(i), Entry(At(100))));
  ASSERT_TRUE(s.Erase(Key(1)));
  ASSERT_TRUE(s.Erase(Key(2)));
  EXPECT_EQ(ExpireAt(s, At(100)), (std::vector<FlowKey>{Key(0), Key(3)}));
}

TEST(TimeWaitStore, RestartedEntryIsRequeuedAtTheTail) {
  TimeWaitStore s(8);
  ASSERT_TRUE(s.Insert(Key(1), Entry(At(100))));
  ASSERT_TRUE(s.Insert(Key(2), Entry(At(150))));
  s.Find(Key(1))->expires = At(300);  // a retransmitted FIN restarted its 2*MSL
  s.Requeue(Key(1));
  EXPECT_EQ(ExpireAt(s, At(150)), (std::vector<FlowKey>{Key(2)}));  // no longer blocked by Key(1)
  EXPECT_TRUE(ExpireAt(s, At(299)).empty());
  EXPECT_EQ(ExpireAt(s, At(300)), (std::vector<FlowKey>{Key(1)}));
}

TEST(TimeWaitStore, ARestartedHeadNeverHoldsUpTheOthersEvenInAFullRing) {
  TimeWaitStore s(3);
  ASSERT_TRUE(s.Insert(Key(1), Entry(At(100))));
  ASSERT_TRUE(s.Insert(Key(2), Entry(At(110))));
  ASSERT_TRUE(s.Insert(Key(3), Entry(At(120))));
  s.Find(Key(1))->expires = At(500);  // the peer keeps retransmitting its FIN
  s.Requeue(Key(1));
  EXPECT_EQ(ExpireAt(s, At(119)), (std::vector<FlowKey>{Key(2)}));  // Key(1) moved aside, Key(2) due
  EXPECT_EQ(ExpireAt(s, At(120)), (std::vector<FlowKey>{Key(3)}));
  ASSERT_TRUE(s.Insert(Key(4), Entry(At(600))));
  s.Find(Key(1))->expires = At(900);  // restarted again, now ahead of Key(4) in the ring
  s.Requeue(Key(1));
  EXPECT_TRUE(ExpireAt(s, At(599)).empty());
  EXPECT_EQ(ExpireAt(s, At(600)), (std::vector<FlowKey>{Key(4)}));
  EXPECT_TRUE(ExpireAt(s, At(899)).empty());  // never early
  EXPECT_EQ(ExpireAt(s, At(900)), (std::vector<FlowKey>{Key(1)}));
  EXPECT_EQ(s.size(), 0u);
}

TEST(TimeWaitStore, AnEarlierDeadlineInsertedLaterLeavesLateNeverEarly) {
  TimeWaitStore s(4);
  ASSERT_TRUE(s.Insert(Key(1), Entry(At(200))));
  ASSERT_TRUE(s.Insert(Key(2), Entry(At(150))));  // a connection closed long after it reached TIME-WAIT
  EXPECT_TRUE(ExpireAt(s, At(199)).empty());
  EXPECT_EQ(ExpireAt(s, At(200)), (std::vector<FlowKey>{Key(1), Key(2)}));
}

TEST(TimeWaitStore, FindOldestLooksFromTheHeadWithinItsLimit) {
  TimeWaitStore s(16);
  for (uint32_t i = 0; i < 10; ++i) {
    FlowKey k = Key(i);
    k.remote_port = i < 6 ? 80 : 443;
    ASSERT_TRUE(s.Insert(k, Entry(At(100 + i), i)));
  }
  const auto to443 = [](const FlowKey& k, const TimeWaitEntry&) { return k.remote_port == 443; };
  FlowKey found;
  EXPECT_FALSE(s.FindOldest(6, to443, &found));  // the first 443 entry is the 7th slot
  ASSERT_TRUE(s.FindOldest(7, to443, &found));
  EXPECT_EQ(found.local_port, Key(6).local_port);
  // Dead slots count against the limit but are never returned.
  FlowKey six = Key(6);
  six.remote_port = 443;
  ASSERT_TRUE(s.Erase(six));
  ASSERT_TRUE(s.FindOldest(8, to443, &found));
  EXPECT_EQ(found.local_port, Key(7).local_port);
  EXPECT_FALSE(s.FindOldest(7, to443, &found));
}

TEST(TimeWaitStore, MatchesAReferenceUnderChurnAtCapacity) {
  constexpr uint32_t kCap = 1000;
  constexpr int64_t kLifeMs = 5000;  // ~20,000 steps: the ring is full most of the run
  TimeWaitStore s(kCap);
  std::map<std::tuple<uint16_t, uint16_t>, Instant> ref;  // (local port, remote port) -> expires
  std::mt19937 rng(11);
  int64_t now_ms = 0;
  const auto tuple_of = [](const FlowKey& k) { return std::make_tuple(k.local_port, k.remote_port); };
  for (int step = 0; step < 200000; ++step) {
    const FlowKey k = Key(rng() % 3000);
    switch (rng() % 4) {
      case 0:
      case 1: {
        // Every other insert may evict: what it evicts must have been live, and leaves the reference.
        std::optional<TimeWaitStore::Evicted> ev;
        const bool ok = s.Insert(k, Entry(At(now_ms + kLifeMs)), step % 2 == 0 ? &ev : nullptr, At(now_ms));
        if (ev) {
          auto it = ref.find(tuple_of(ev->key));
          ASSERT_NE(it, ref.end()) << step;
          ASSERT_EQ(ev->due, it->second <= At(now_ms)) << step;  // due exactly when its deadline passed
          ref.erase(it);
          ASSERT_EQ(s.Find(ev->key), nullptr) << step;
        }
        if (ref.count(tuple_of(k))) {
          ASSERT_FALSE(ok) << step;
        } else if (ok) {
          ref[tuple_of(k)] = At(now_ms + kLifeMs);
        } else {
          ASSERT_GE(ref.size(), 1u) << step;  // refused only when the ring is full of entries or dead slots
        }
        break;
      }
      case 2:
        ASSERT_EQ(s.Erase(k), ref.erase(tuple_of(k)) == 1) << step;
        ASSERT_EQ(s.Find(k), nullptr) << step;
        break;
      case 3: {
        now_ms += rng() % 3;
        std::vector<FlowKey> gone = ExpireAt(s, At(now_ms));
        for (const FlowKey& g : gone) {
          auto it = ref.find(tuple_of(g));
          ASSERT_NE(it, ref.end()) << step;
          ASSERT_LE(it->second, At(now_ms)) << step;  // never early
          ref.erase(it);
          ASSERT_EQ(s.Find(g), nullptr) << step;
        }
        // Late only when rotated: with one lifetime for all and no requeues, whatever is due is gone
        // unless a full ring moved it behind later entries (each rotation makes at most one such entry).
        uint64_t overdue = 0;
        for (const auto& [t, exp] : ref) overdue += exp <= At(now_ms);
        ASSERT_LE(overdue, s.rotated()) << step;
        break;
      }
    }
    ASSERT_EQ(s.size(), ref.size()) << step;
    if (step % 1000 == 0) {
      for (const auto& [t, exp] : ref) {
        FlowKey q = Key(0);
        std::tie(q.local_port, q.remote_port) = t;
        const TimeWaitEntry* e = s.Find(q);
        ASSERT_NE(e, nullptr) << step;
        ASSERT_EQ(e->expires, exp) << step;
      }
    }
  }
  // The run reached both ways of making room in a full ring.
  EXPECT_GT(s.rotated(), 0u);
  EXPECT_GT(s.evictions(), 0u);
}

TEST(TimeWaitStore, MemoryPerEntryIncludingIndexIsAtMost64Bytes) {
  for (uint32_t cap : {1u << 10, (1u << 10) + 1, 3000u, 1u << 16}) {
    TimeWaitStore s(cap);
    EXPECT_LE(static_cast<double>(s.MemoryBytes()) / cap, 64.0) << cap;
  }
}

}  // namespace
}  // namespace synack
