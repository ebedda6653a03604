#include "lib/core/time_wait_store.h"

#include <algorithm>

namespace synack {

TimeWaitStore::TimeWaitStore(uint32_t capacity)
    : capacity_(std::clamp<uint32_t>(capacity, 1, uint32_t{1} << 30)),
      ring_(capacity_),
      index_(2 * size_t{capacity_}),
      seed_(HashIndex::RandomSeed()) {}

size_t TimeWaitStore::IndexOf(const FlowKey& key) const {
  return index_.Find(Hash(key), [&](uint32_t pos) { return ring_[pos].key == key; });
}

TimeWaitEntry* TimeWaitStore::Find(const FlowKey& key) {
  const size_t i = IndexOf(key);
  return i == HashIndex::kNotFound ? nullptr : &ring_[index_.value(i)].tw;
}

const TimeWaitEntry* TimeWaitStore::Find(const FlowKey& key) const {
  return const_cast<TimeWaitStore*>(this)->Find(key);
}

void TimeWaitStore::DropDeadHead() {
  while (head_ != tail_ && !ring_[Pos(head_)].live) ++head_;
}

void TimeWaitStore::MakeRoom(Instant now, std::optional<Evicted>* evicted) {
  DropDeadHead();
  // The nearest hole, or (when the caller takes what leaves) the nearest entry already due, within
  // kMaxRotate of the head (never around the whole ring).
  const uint32_t reach = std::min<uint32_t>(kMaxRotate, capacity_ - 1);
  uint32_t at = 0;
  for (; at <= reach; ++at) {
    const Slot& x = ring_[Pos(head_ + at)];
    if (!x.live || (evicted != nullptr && x.tw.expires <= now)) break;
  }
  // In a full ring the head's slot is the next tail slot, so a rotation moves neither the entry nor its
  // index slot. It now sits behind entries that expire later than it does: it leaves late, never early
  // (once it is due, the first insert that finds it near the head lets it go). With holes out of reach,
  // rotating kMaxRotate anyway is what carries the head across a long run of live entries (64 per
  // insert instead of one eviction each), so the holes behind them are found.
  const uint32_t rotate = at <= reach ? at : (size_ < capacity_ ? kMaxRotate : 0);
  for (uint32_t i = 0; i < rotate; ++i) MoveHeadToTail();
  rotated_ += rotate;
  DropDeadHead();
  if (!full() || evicted == nullptr) return;
  Slot& s = ring_[Pos(head_)];  // live: DropDeadHead stopped on it
  const bool due = s.tw.expires <= now;
  *evicted = Evicted{s.key, s.tw, due};
  UnindexAt(IndexOf(s.key));
  s.live = false;
  --size_;
  if (!due) ++evictions_;
  DropDeadHead();
}

bool TimeWaitStore::Insert(const FlowKey& key, const TimeWaitEntry& tw, std::optional<Evicted>* evicted, Instant now) {
  if (IndexOf(key) != HashIndex::kNotFound) return false;  // before making room: a refused key evicts nothing
  if (tail_ - head_ == capacity_) MakeRoom(now, evicted);
  if (tail_ - head_ == capacity_) return false;
  const uint32_t pos = Pos(tail_++);
  ring_[pos] = Slot{key, true, false, tw};
  if (ring_[pos].tw.expires < last_expires_) ring_[pos].tw.expires = last_expires_;  // late, never early
  last_expires_ = ring_[pos].tw.expires;
  index_.Insert(Hash(key), pos, [](uint32_t) { return false; });  // absent: checked above
  ++size_;
  return true;
}

std::optional<TimeWaitEntry> TimeWaitStore::Take(const FlowKey& key) {
  const size_t i = IndexOf(key);
  if (i == HashIndex::kNotFound) return std::nullopt;
  Slot& s = ring_[index_.value(i)];
  UnindexAt(i);
  s.live = false;
  --size_;
  const TimeWaitEntry tw = s.tw;
  DropDeadHead();
  return tw;
}

void TimeWaitStore::Requeue(const FlowKey& key) {
  const size_t i = IndexOf(key);
  if (i == HashIndex::kNotFound) return;
  Slot& s = ring_[index_.value(i)];
  s.late = true;
  if (s.tw.expires > last_expires_) last_expires_ = s.tw.expires;
}

void TimeWaitStore::MoveHeadToTail() {
  const uint32_t from = Pos(head_);
  ring_[from].late = false;
  ++head_;
  if (Pos(tail_) == from) {  // the ring was full: the head's slot is the next tail slot already
    ++tail_;
    return;
  }
  const uint32_t to = Pos(tail_++);
  ring_[to] = ring_[from];
  ring_[from].live = false;
  index_.set_value(IndexOf(ring_[to].key), to);  // found through ring_[from], whose key is still there
}

}  // namespace synack
