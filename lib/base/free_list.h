// FreeList: the free indices of a fixed pool of `capacity` slots, kept as a stack — a fresh list hands
// out 0 first, then always the index returned last (the one most likely still in cache). It holds only
// indices: the pool that owns the slots (ConnectionTable, LossStatePool) keeps the slots and knows which
// are taken. No allocation after construction. Not shared: owned by one engine, called on its core.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace synack {

class FreeList {
 public:
  /// What Take returns when every index is taken.
  static constexpr uint32_t kNone = UINT32_MAX;

  /// Indices 0 .. capacity-1, all free.
  explicit FreeList(uint32_t capacity) {
    free_.reserve(capacity);
    for (uint32_t i = capacity; i > 0; --i) free_.push_back(i - 1);
  }

  /// A free index, now taken; kNone when none is free.
  uint32_t Take() {
    if (free_.empty()) return kNone;
    const uint32_t i = free_.back();
    free_.pop_back();
    return i;
  }
  /// Gives back taken index `i` (it is handed out next).
  void Put(uint32_t i) { free_.push_back(i); }

  /// Whether no index is free.
  bool empty() const { return free_.empty(); }
  /// Free indices.
  uint32_t size() const { return static_cast<uint32_t>(free_.size()); }
  /// Bytes the list takes (fixed at construction).
  size_t MemoryBytes() const { return free_.capacity() * sizeof(uint32_t); }

 private:
  std::vector<uint32_t> free_;
};

}  // namespace synack
