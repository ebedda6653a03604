// HashIndex: the open-addressing index under FlowTable and TimeWaitStore. Each 8-byte slot holds a
// 32-bit value (a slab index, a ring position) and the 32-bit keyed hash of its key; the keys stay where
// the caller keeps them. Linear probing from a home slot that the hash is scaled onto; a probe compares
// stored hashes first and asks the caller to compare keys (`same(value)`) only when they match.
// Backward-shift deletion finds the home of every entry it moves from its stored hash, so erasing reads
// no key and leaves no tombstones: probe runs do not grow under churn and the index never rehashes.
// The slot count is fixed at construction (owners keep it at least twice the entries they may hold, so
// it is never more than half full); no allocation after that. Owned by one table; only that table's
// core may call it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace synack {

class HashIndex {
 public:
  static constexpr uint32_t kEmpty = UINT32_MAX;  // no value may be this
  static constexpr size_t kNotFound = SIZE_MAX;
  static constexpr size_t kSlotBytes = 8;

  explicit HashIndex(size_t slots) : slots_(slots < 1 ? 1 : slots) {}

  // A fresh seed for the hash of an index's keys (std::random_device: at construction, not per packet).
  static uint64_t RandomSeed();

  // The slot of the first entry stored under `hash` for which same(value) is true, or kNotFound.
  template <typename Same>
  size_t Find(uint32_t hash, Same&& same) const {
    for (size_t i = Home(hash);; i = Next(i)) {
      const Slot& s = slots_[i];
      if (s.value == kEmpty) return kNotFound;
      if (s.hash == hash && same(s.value)) return i;
    }
  }
  // Adds `value` (!= kEmpty) under `hash` in the first free slot of its probe run, unless an entry under
  // `hash` for which same(value) is true comes first (false). The caller keeps a slot free.
  template <typename Same>
  bool Insert(uint32_t hash, uint32_t value, Same&& same) {
    for (size_t i = Home(hash);; i = Next(i)) {
      Slot& s = slots_[i];
      if (s.value == kEmpty) {
        s = Slot{value, hash};
        return true;
      }
      if (s.hash == hash && same(s.value)) return false;
    }
  }
  // Empties `slot` (from Find), moving later entries of its probe run back so that none is cut off.
  void EraseAt(size_t slot);

  const uint32_t& value(size_t slot) const { return slots_[slot].value; }
  void set_value(size_t slot, uint32_t value) { slots_[slot].value = value; }
  // The slot a probe for `hash` starts at: the hash scaled onto [0, slots()).
  size_t Home(uint32_t hash) const { return static_cast<size_t>((uint64_t{hash} * slots_.size()) >> 32); }
  size_t slots() const { return slots_.size(); }
  size_t MemoryBytes() const { return slots_.size() * sizeof(Slot); }

 private:
  struct Slot {
    uint32_t value = kEmpty;
    uint32_t hash = 0;
  };
  static_assert(sizeof(Slot) == kSlotBytes);

  size_t Next(size_t i) const { return i + 1 == slots_.size() ? 0 : i + 1; }

  std::vector<Slot> slots_;
};

}  // namespace synack
