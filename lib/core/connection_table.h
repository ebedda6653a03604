// ConnectionTable: an engine's slab of connection records, sized at construction and addressed by ConnId —
// a record's index and the generation it had when it was handed out. Freeing a record moves its
// generation on, so every ConnId still naming it goes stale (Find returns null), also after the index is
// handed out again. Free indices are kept on a stack: a fresh table hands out index 0 first, then
// whichever was freed last.
//
// Ownership: the table constructs every record once (from the constructor's arguments) and destroys them
// only with itself; it tracks which indices are live, nothing else. The caller resets a record's
// contents when it takes one (Alloc) and releases what the record holds before it frees it (Free).
// No allocation after construction. Owned by one engine; only its core may call it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lib/base/free_list.h"
#include "lib/core/events.h"

namespace synack {

template <typename Record>
class ConnectionTable {
  struct Slot {
    template <typename... Args>
    explicit Slot(const Args&... args) : record(args...) {}
    Record record;
    uint32_t generation = 0;
    bool in_use = false;
  };

 public:
  /// The index meaning "none" (Alloc of a full table).
  static constexpr uint32_t kNone = FreeList::kNone;
  /// Bytes one record takes in the slab, with its generation and live flag.
  static constexpr size_t kSlotBytes = sizeof(Slot);

  /// `capacity` records, each constructed as Record(args...).
  template <typename... Args>
  explicit ConnectionTable(uint32_t capacity, const Args&... args) : free_(capacity) {
    slots_.reserve(capacity);
    for (uint32_t i = 0; i < capacity; ++i) slots_.emplace_back(args...);
  }

  /// Takes a free record and marks it live; its contents are as the last user left them. kNone when
  /// every record is live.
  uint32_t Alloc() {
    const uint32_t index = free_.Take();
    if (index != kNone) slots_[index].in_use = true;
    return index;
  }
  /// Returns live record `index` to the free stack; ConnIds naming it go stale.
  void Free(uint32_t index) {
    Retire(index);
    Recycle(index);
  }
  /// Ends live record `index` (ConnIds naming it go stale) but keeps it from reuse, its contents as they
  /// are, until Recycle(index): for what still refers to it by index.
  void Retire(uint32_t index) {
    Slot& s = slots_[index];
    s.in_use = false;
    ++s.generation;
    ++retired_;
  }
  /// Returns retired record `index` to the free stack.
  void Recycle(uint32_t index) {
    --retired_;
    free_.Put(index);
  }

  /// The live record `id` names, or null (out of range, free, or of an earlier generation).
  Record* Find(ConnId id) {
    if (id.index >= slots_.size()) return nullptr;
    Slot& s = slots_[id.index];
    return s.in_use && s.generation == id.generation ? &s.record : nullptr;
  }
  const Record* Find(ConnId id) const { return const_cast<ConnectionTable*>(this)->Find(id); }
  /// The ConnId of record `index` as it is now (its current generation).
  ConnId IdOf(uint32_t index) const { return ConnId{index, slots_[index].generation}; }
  /// The ConnId record `index` had while it was live: its current one for a live record, the one before
  /// for a retired record (meaningless for a free one).
  ConnId LastIdOf(uint32_t index) const {
    const Slot& s = slots_[index];
    return ConnId{index, s.in_use ? s.generation : s.generation - 1};
  }
  /// Whether record `index` (below capacity()) is live.
  bool in_use(uint32_t index) const { return slots_[index].in_use; }

  /// Record `index` (below capacity()), live or not.
  Record& operator[](uint32_t index) { return slots_[index].record; }
  const Record& operator[](uint32_t index) const { return slots_[index].record; }

  /// Records in all, live or free.
  uint32_t capacity() const { return static_cast<uint32_t>(slots_.size()); }
  /// Live records.
  uint32_t live() const { return capacity() - free_.size() - retired_; }
  /// Retired records, not yet recycled.
  uint32_t retired() const { return retired_; }
  /// Whether every record is live or retired (Alloc would return kNone).
  bool full() const { return free_.empty(); }
  /// Bytes the slab and its free stack take (fixed at construction).
  size_t MemoryBytes() const { return slots_.capacity() * sizeof(Slot) + free_.MemoryBytes(); }

 private:
  std::vector<Slot> slots_;
  FreeList free_;  // indices of free records
  uint32_t retired_ = 0;
};

}  // namespace synack
