// TimeWaitStore: an engine's compact TIME-WAIT connections as a FIFO. Every entry lives 2*MSL from the
// moment it is added, so expiry order is insertion order: entries sit in a ring in the order they came
// and are expired from its head — no timer per entry and no scan for deadlines. An entry whose 2*MSL
// restarts (a retransmitted FIN) is marked late and moved to the tail when it reaches the head before
// its new deadline, so it never holds up the entries behind it; one removed early (a new SYN or an
// active open takes its 4-tuple over) leaves a dead slot that the head skips. The oldest entries are at
// the head, which is where an active open that must take a TIME-WAIT 4-tuple over finds one
// (FindOldest).
//
// Index: a HashIndex (lib/core/hash_index.h: linear probing, backward-shift deletion) with exactly twice
// as many slots as the ring, so at most half full; each slot a ring position and the 32-bit hash of its
// key (keyed with a per-store random seed). A probe compares hashes first and reads the ring entry —
// another cache line, usually a DRAM miss in a large store — only when they match; deletion finds the
// home of the entries it shifts from their hashes, without reading the ring at all.
// Memory: 48 bytes per ring entry (kEntryBytes) plus 16 bytes of index per entry: 64 in all.
// Fixed capacity, no allocation after construction. Owned by one engine; only its core may call it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "lib/base/time.h"
#include "lib/core/flow.h"
#include "lib/core/hash_index.h"
#include "lib/tcp/connection.h"

namespace synack {

class TimeWaitStore {
 public:
  // Room for `capacity` entries (at most 2^30).
  explicit TimeWaitStore(uint32_t capacity);

  // Adds `key` in TIME-WAIT until `tw.expires` — or until the latest deadline added before, if that is
  // later (an application that closes a connection long after it reached TIME-WAIT): the ring stays in
  // expiry order, and an entry may leave late, never early. When the ring is full, the live entries in
  // front of the nearest hole (an entry taken over before it expired) — or, with `evicted` given, of the
  // nearest entry already due at `now` — move to the tail in place, when it lies within kMaxRotate of
  // the head (rotated()); each keeps its deadline and leaves once due. With `evicted` given, a due entry
  // brought to the head leaves (`due`), and if the ring is still full — no hole in reach (then 64
  // entries rotate anyway, carrying the head towards the holes), or every slot live — the oldest entry
  // not rotated leaves early (evictions()), as FreeBSD reuses its oldest TIME-WAIT entry when that zone
  // is exhausted; either way it is written to `*evicted`. False when the key is present, or when the
  // ring is still full and `evicted` is null.
  struct Evicted {
    FlowKey key;
    TimeWaitEntry tw;
    bool due = false;  // its 2*MSL had passed: an expiry, not an eviction
  };
  bool Insert(const FlowKey& key, const TimeWaitEntry& tw, std::optional<Evicted>* evicted = nullptr,
              Instant now = Instant());
  // The entry for `key` (the caller may update it in place: TimeWaitInput), or null.
  TimeWaitEntry* Find(const FlowKey& key);
  const TimeWaitEntry* Find(const FlowKey& key) const;
  // After the entry's `expires` moved later (a restarted 2*MSL): marks it late, so that Expire moves it
  // to the tail when it reaches the head before its new deadline instead of stopping there. No-op when
  // absent.
  void Requeue(const FlowKey& key);
  // Removes `key` and returns its entry (one index probe); nullopt when absent.
  std::optional<TimeWaitEntry> Take(const FlowKey& key);
  // Removes `key`; false when absent.
  bool Erase(const FlowKey& key) { return Take(key).has_value(); }

  // Removes every entry whose 2*MSL has passed (expires <= now), oldest first, calling
  // on_erase(key, entry) for each; returns how many. A late entry at the head that is not due moves to the tail (once
  // per restart), so restarted entries never hold up the others.
  template <typename F>
  uint32_t Expire(Instant now, F&& on_erase) {
    uint32_t n = 0;
    while (head_ != tail_) {
      Slot& s = ring_[Pos(head_)];
      if (s.live) {
        if (s.tw.expires > now) {
          if (!s.late) break;
          MoveHeadToTail();
          continue;
        }
        on_erase(static_cast<const FlowKey&>(s.key), static_cast<const TimeWaitEntry&>(s.tw));
        UnindexAt(IndexOf(s.key));
        s.live = false;
        --size_;
        ++n;
      }
      ++head_;
    }
    return n;
  }

  // The oldest live entry (looking at no more than `limit` ring slots from the head) for which
  // pred(key, entry) is true; writes its key to `*key`. False when none.
  template <typename P>
  bool FindOldest(uint32_t limit, P&& pred, FlowKey* key) const {
    for (uint64_t i = head_; i != tail_ && limit > 0; ++i, --limit) {
      const Slot& s = ring_[Pos(i)];
      if (s.live && pred(static_cast<const FlowKey&>(s.key), static_cast<const TimeWaitEntry&>(s.tw))) {
        *key = s.key;
        return true;
      }
    }
    return false;
  }

  // Calls f(entry) for live entries spread evenly over the ring from the head, oldest first: every entry
  // when the ring spans at most `max` slots, else about `max` slots at an even stride. Returns how many
  // live entries it visited (a monitoring sample: lib/core/telemetry.cc scales it to size()).
  template <typename F>
  uint64_t Sample(uint32_t max, F&& f) const {
    const uint64_t span = tail_ - head_;
    if (span == 0 || max == 0) return 0;
    const uint64_t step = span <= max ? 1 : (span + max - 1) / max;
    uint64_t n = 0;
    for (uint64_t i = head_; i < tail_; i += step) {
      const Slot& s = ring_[Pos(i)];
      if (!s.live) continue;
      f(static_cast<const TimeWaitEntry&>(s.tw));
      ++n;
    }
    return n;
  }

  size_t size() const { return size_; }
  // Whether the ring has no free slot (live entries and holes not yet reached by the head).
  bool full() const { return tail_ - head_ == capacity_; }
  // Live entries moved from the head to the tail to make room for an Insert (see Insert).
  uint64_t rotated() const { return rotated_; }
  // Entries that left early because the full ring had no dead slot near its head (see Insert).
  uint64_t evictions() const { return evictions_; }
  static constexpr uint32_t kMaxRotate = 64;
  uint32_t capacity() const { return capacity_; }
  // Bytes the store takes in all (ring and index), fixed at construction.
  size_t MemoryBytes() const { return ring_.size() * sizeof(Slot) + index_.MemoryBytes(); }
  static constexpr size_t kEntryBytes = 48;

 private:
  struct Slot {
    FlowKey key;
    bool live = false;
    bool late = false;  // its 2*MSL restarted after it was queued (Requeue)
    TimeWaitEntry tw;
  };
  static_assert(sizeof(Slot) == kEntryBytes);

  uint32_t Pos(uint64_t seq) const { return static_cast<uint32_t>(seq % capacity_); }
  uint32_t Hash(const FlowKey& key) const { return static_cast<uint32_t>(FlowHash(key, seed_)); }
  // The index slot holding `key`'s ring position, or HashIndex::kNotFound.
  size_t IndexOf(const FlowKey& key) const;
  // Empties index slot `slot` (from IndexOf; kNotFound: nothing to do), shifting its probe run back.
  void UnindexAt(size_t slot) {
    if (slot != HashIndex::kNotFound) index_.EraseAt(slot);
  }
  // Frees dead slots at the head so the tail can advance.
  void DropDeadHead();
  // A full ring: rotates towards the nearest hole or due entry within kMaxRotate of the head, then (when
  // `evicted` is given and the ring is still full) removes the head entry into it.
  void MakeRoom(Instant now, std::optional<Evicted>* evicted);
  // The live, late head entry becomes the newest (the tail), no longer late.
  void MoveHeadToTail();

  uint32_t capacity_;
  std::vector<Slot> ring_;
  HashIndex index_;  // 2 * capacity_ slots: ring positions (< 2^30) under their keys' hashes
  uint64_t seed_ = 0;
  uint64_t head_ = 0;  // ring sequence numbers: slot Pos(i) for i in [head_, tail_)
  uint64_t tail_ = 0;
  size_t size_ = 0;
  Instant last_expires_;  // the latest deadline inserted: the ring's order
  uint64_t rotated_ = 0;
  uint64_t evictions_ = 0;
};

}  // namespace synack
