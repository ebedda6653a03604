#include "lib/core/flow_table.h"

#include <random>

namespace synack {

FlowTable::FlowTable(uint32_t max_entries) : max_entries_(max_entries) {
  size_t cap = 16;
  while (cap < 2 * size_t{max_entries}) cap <<= 1;
  slots_.resize(cap);
  mask_ = cap - 1;
  std::random_device rd;
  seed_ = (uint64_t{rd()} << 32) | rd();
}

size_t FlowTable::Home(const FlowKey& k) const { return static_cast<size_t>(FlowHash(k, seed_)) & mask_; }

const uint32_t* FlowTable::Find(const FlowKey& key) const {
  for (size_t i = Home(key);; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.value == kEmpty) return nullptr;
    if (s.key == key) return &s.value;
  }
}

bool FlowTable::Insert(const FlowKey& key, uint32_t value) {
  if (size_ >= max_entries_ || value == kEmpty) return false;
  for (size_t i = Home(key);; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.value == kEmpty) {
      s.key = key;
      s.value = value;
      ++size_;
      return true;
    }
    if (s.key == key) return false;
  }
}

bool FlowTable::Erase(const FlowKey& key) {
  size_t hole = Home(key);
  for (;; hole = (hole + 1) & mask_) {
    if (slots_[hole].value == kEmpty) return false;
    if (slots_[hole].key == key) break;
  }
  // Backward shift: pull later entries of the run into the hole when their home does not lie
  // (cyclically) between the hole and where they sit, so every run stays unbroken.
  for (size_t j = (hole + 1) & mask_; slots_[j].value != kEmpty; j = (j + 1) & mask_) {
    const size_t home = Home(slots_[j].key);
    const size_t dist_home = (j - home) & mask_;  // how far the entry sits from its home
    const size_t dist_hole = (j - hole) & mask_;  // how far it would move back
    if (dist_hole <= dist_home) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole].value = kEmpty;
  --size_;
  return true;
}

}  // namespace synack
