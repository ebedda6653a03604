// FlowTable: the per-core index from a connection's 4-tuple to its slot in the engine's slab (used for
// live connections and for compact TIME-WAIT entries). Open addressing with linear probing and
// backward-shift deletion: erasing leaves no tombstones, so probe lengths do not grow under churn and
// the table never rehashes — capacity is fixed at start-up (a power of two, at least twice the most
// entries it may hold, so it is never more than half full). No allocation after construction. The hash
// is keyed with a per-table random seed so that peers cannot choose 4-tuples that pile up in one run.
// Owned by one engine; only its core may call it.
#pragma once

#include <cstdint>
#include <vector>

#include "lib/core/flow.h"

namespace synack {

class FlowTable {
 public:
  // Room for `max_entries` (at most 2^30).
  explicit FlowTable(uint32_t max_entries = 0);

  // The value stored for `key`, or null.
  const uint32_t* Find(const FlowKey& key) const;
  bool Contains(const FlowKey& key) const { return Find(key) != nullptr; }
  // Adds `key` -> `value` (value < UINT32_MAX). False when the key is present or max_entries are held.
  bool Insert(const FlowKey& key, uint32_t value);
  // Removes `key`; false when absent.
  bool Erase(const FlowKey& key);

  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }
  size_t max_entries() const { return max_entries_; }
  static constexpr size_t kSlotBytes = 16;

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct Slot {
    FlowKey key;
    uint32_t value = kEmpty;
  };
  static_assert(sizeof(Slot) == kSlotBytes);

  size_t Home(const FlowKey& key) const;

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
  size_t max_entries_ = 0;
  uint64_t seed_ = 0;
};

}  // namespace synack
