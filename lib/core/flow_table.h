// FlowTable: the per-core index from a connection's 4-tuple to its slot in the engine's slab (TcpLayer's
// live connections). It stores no keys: a slot is 8 bytes (HashIndex: the value and the 32-bit keyed hash
// of its key), and the caller's `KeyOf` functor — `const FlowKey& operator()(uint32_t value) const`, or
// one that computes the key and returns it by value — reads a stored value's key from where the caller
// keeps it (TcpLayer: the connection record), only when a probe meets an entry with the same hash. Erase
// matches the entry by value and reads no key but the erased one's; moving the rest of the probe run
// back needs only the stored hashes. Open addressing with linear probing and backward-shift deletion: no
// tombstones, so probe lengths do not grow under churn, and no rehash — capacity is fixed at start-up (a
// power of two, at least twice the most entries it may hold, so it is never more than half full: at most
// 16 bytes per entry). No allocation after construction. The hash is keyed with a per-table random seed
// so that peers cannot choose 4-tuples that pile up in one run.
// Contract: key_of(value) == key from Insert(key, value) until Erase(value) — write the key where key_of
// reads it before Insert, change it only after Erase.
// Owned by one engine; only its core may call it.
#pragma once

#include <cassert>
#include <cstdint>
#include <utility>

#include "lib/core/flow.h"
#include "lib/core/hash_index.h"

namespace synack {

template <typename KeyOf>
class FlowTable {
 public:
  static constexpr size_t kSlotBytes = HashIndex::kSlotBytes;

  // Room for `max_entries` (at most 2^30). `seed` keys the hash: random unless a test chooses it.
  FlowTable(uint32_t max_entries, KeyOf key_of, uint64_t seed = HashIndex::RandomSeed())
      : index_(Slots(max_entries)), key_of_(std::move(key_of)), max_entries_(max_entries), seed_(seed) {}

  // The value stored for `key`, or null.
  const uint32_t* Find(const FlowKey& key) const {
    const size_t i = index_.Find(Hash(key), HoldsKey(key));
    return i == HashIndex::kNotFound ? nullptr : &index_.value(i);
  }
  bool Contains(const FlowKey& key) const { return Find(key) != nullptr; }
  // Adds `key` -> `value` (value < UINT32_MAX, key_of(value) == key already). False when the key is
  // present or max_entries are held.
  bool Insert(const FlowKey& key, uint32_t value) {
    if (size_ >= max_entries_ || value == HashIndex::kEmpty) return false;
    assert(key_of_(value) == key);
    if (!index_.Insert(Hash(key), value, HoldsKey(key))) return false;
    ++size_;
    return true;
  }
  // Removes the entry holding `value`, found under the hash of key_of(value); false when absent. Calls
  // key_of for `value` alone.
  bool Erase(uint32_t value) {
    const size_t i = index_.Find(Hash(key_of_(value)), [&](uint32_t v) { return v == value; });
    if (i == HashIndex::kNotFound) return false;
    index_.EraseAt(i);
    --size_;
    return true;
  }

  size_t size() const { return size_; }
  size_t capacity() const { return index_.slots(); }
  size_t max_entries() const { return max_entries_; }
  // Bytes the table takes, fixed at construction: kSlotBytes * capacity().
  size_t MemoryBytes() const { return index_.MemoryBytes(); }
  // The 32-bit keyed hash stored with `key`, and the slot its probe starts at (tests place keys by them).
  uint32_t Hash(const FlowKey& key) const { return static_cast<uint32_t>(FlowHash(key, seed_)); }
  size_t Home(const FlowKey& key) const { return index_.Home(Hash(key)); }

 private:
  // Whether a stored value's key is `key` (asked only of values stored under its hash).
  auto HoldsKey(const FlowKey& key) const {
    return [this, &key](uint32_t value) { return key_of_(value) == key; };
  }
  static size_t Slots(uint32_t max_entries) {
    size_t cap = 16;
    while (cap < 2 * size_t{max_entries}) cap <<= 1;
    return cap;
  }

  HashIndex index_;
  KeyOf key_of_;
  size_t size_ = 0;
  size_t max_entries_;
  uint64_t seed_;
};

}  // namespace synack
