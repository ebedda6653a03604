#include "lib/core/timer_wheel.h"

#include <algorithm>
#include <bit>
#include <cassert>

namespace synack {

// Layout. Tick numbers are read as base-64 digits, one per level. An entry with expiry tick E lives on the
// level of the highest digit in which E differs from cur_tick_, in the slot named by E's digit there; so
// every slot on level l holds ticks that share cur_tick_'s digits above l and have a larger digit l. When
// cur_tick_ reaches the first tick of a slot on level l >= 1 (digit l equals the slot, lower digits zero)
// the slot is cascaded: its entries are re-placed, each landing on a lower level (or in level 0's slot of
// that very tick, which fires next). Entries whose E differs above the top level wait in the overflow list,
// re-placed each time cur_tick_ crosses a multiple of 2^kRangeBits. Because occupied slots always lie ahead
// of cur_tick_, the next tick at which anything happens is the lowest set bit of the lowest non-empty level.

TimerWheel::TimerWheel(const Config& config)
    : tick_(config.tick),
      tick_ns_(static_cast<uint64_t>(config.tick.ns())),
      start_ns_(config.start.ns()),
      now_ns_(config.start.ns()),
      cur_tick_(0),
      due_list_(kDueList0),
      entries_(config.capacity) {
  assert(config.tick.ns() > 0);
  assert(config.capacity <= kMaxCapacity);
  heads_.fill(kNil);
}

uint64_t TimerWheel::ExpiryTick(int64_t deadline_ns) const {
  // Unsigned difference: exact for any deadline after start, even across the int64 range.
  const uint64_t since_start = static_cast<uint64_t>(deadline_ns) - static_cast<uint64_t>(start_ns_);
  return since_start / tick_ns_ + (since_start % tick_ns_ != 0 ? 1 : 0);
}

Instant TimerWheel::TickStart(uint64_t tick) const {
  const uint64_t room = static_cast<uint64_t>(INT64_MAX) - static_cast<uint64_t>(start_ns_);
  if (tick > room / tick_ns_) return Instant::Never();
  return Instant::FromNanoseconds(static_cast<int64_t>(static_cast<uint64_t>(start_ns_) + tick * tick_ns_));
}

void TimerWheel::Link(uint32_t id, uint16_t list) {
  Entry& e = entries_[id];
  const uint32_t head = heads_[list];
  e.next = head;
  e.prev = kNil;
  e.list = list;
  if (head != kNil) entries_[head].prev = id;
  heads_[list] = id;
  if (list < kDueList0) occupied_[list / kSlots] |= uint64_t{1} << (list % kSlots);
}

void TimerWheel::Unlink(uint32_t id) {
  Entry& e = entries_[id];
  if (e.prev != kNil) {
    entries_[e.prev].next = e.next;
  } else {
    heads_[e.list] = e.next;
    if (e.next == kNil && e.list < kDueList0) occupied_[e.list / kSlots] &= ~(uint64_t{1} << (e.list % kSlots));
  }
  if (e.next != kNil) entries_[e.next].prev = e.prev;
  e.list = kNoList;
}

void TimerWheel::Place(uint32_t id, uint64_t expiry) {
  assert(expiry >= cur_tick_);
  const uint64_t differs = expiry ^ cur_tick_;
  if ((differs >> kRangeBits) != 0) {
    Link(id, kOverflowList);
    return;
  }
  const uint32_t level = differs == 0 ? 0 : static_cast<uint32_t>(63 - std::countl_zero(differs)) / kSlotBits;
  const uint32_t slot = static_cast<uint32_t>(expiry >> (level * kSlotBits)) & (kSlots - 1);
  Link(id, static_cast<uint16_t>(level * kSlots + slot));
}

void TimerWheel::Schedule(uint32_t id, Instant deadline) {
  assert(id < entries_.size());
  Entry& e = entries_[id];
  if (e.list != kNoList) {
    Unlink(id);
  } else {
    ++size_;
  }
  e.deadline_ns = deadline.ns();
  if (deadline.ns() <= now_ns_) {
    Link(id, due_list_);
  } else {
    Place(id, ExpiryTick(deadline.ns()));
  }
}

void TimerWheel::Cancel(uint32_t id) {
  assert(id < entries_.size());
  if (entries_[id].list == kNoList) return;
  Unlink(id);
  --size_;
}

void TimerWheel::Cascade(uint16_t list) {
  uint32_t id = heads_[list];
  heads_[list] = kNil;
  if (list < kDueList0) occupied_[list / kSlots] &= ~(uint64_t{1} << (list % kSlots));
  while (id != kNil) {
    const uint32_t next = entries_[id].next;
    Place(id, ExpiryTick(entries_[id].deadline_ns));
    id = next;
  }
}

uint64_t TimerWheel::NextEventTick() const {
  for (uint32_t level = 0; level < kLevels; ++level) {
    if (occupied_[level] == 0) continue;
    const uint32_t shift = level * kSlotBits;
    const uint64_t block = (cur_tick_ >> (shift + kSlotBits)) << (shift + kSlotBits);
    return block | (static_cast<uint64_t>(std::countr_zero(occupied_[level])) << shift);
  }
  if (heads_[kOverflowList] != kNil) return ((cur_tick_ >> kRangeBits) + 1) << kRangeBits;
  return kNoTick;
}

size_t TimerWheel::ProcessTick(uint64_t t, absl::FunctionRef<void(uint32_t id)> expired) {
  if ((t & ((uint64_t{1} << kRangeBits) - 1)) == 0 && heads_[kOverflowList] != kNil) Cascade(kOverflowList);
  // Levels whose slot boundary is t, highest first: what one cascades may land in the next one down only in
  // slots ahead of t, so each level is visited once.
  const uint32_t top = std::min<uint32_t>(kLevels - 1, static_cast<uint32_t>(std::countr_zero(t)) / kSlotBits);
  for (uint32_t level = top; level >= 1; --level) {
    const uint32_t slot = static_cast<uint32_t>(t >> (level * kSlotBits)) & (kSlots - 1);
    if ((occupied_[level] >> slot) & 1) Cascade(static_cast<uint16_t>(level * kSlots + slot));
  }
  // Fire level 0's slot one entry at a time: a callback may cancel entries still waiting in it. Nothing a
  // callback schedules can land here (it expires after the current `now`, hence after t).
  const uint16_t list = static_cast<uint16_t>(t & (kSlots - 1));
  size_t fired = 0;
  while (heads_[list] != kNil) {
    const uint32_t id = heads_[list];
    Unlink(id);
    --size_;
    ++fired;
    expired(id);
  }
  return fired;
}

size_t TimerWheel::Advance(Instant now, absl::FunctionRef<void(uint32_t id)> expired) {
  // Set `now` first: whatever a callback schedules for a time <= now goes to the due list of the next call.
  now_ns_ = std::max(now_ns_, now.ns());
  size_t fired = 0;
  const uint16_t draining = due_list_;
  due_list_ = draining == kDueList0 ? kDueList0 + 1 : kDueList0;
  while (heads_[draining] != kNil) {
    const uint32_t id = heads_[draining];
    Unlink(id);
    --size_;
    ++fired;
    expired(id);
  }
  const uint64_t now_tick = (static_cast<uint64_t>(now_ns_) - static_cast<uint64_t>(start_ns_)) / tick_ns_;
  while (cur_tick_ < now_tick) {
    const uint64_t t = NextEventTick();
    if (t > now_tick) {
      cur_tick_ = now_tick;  // nothing fires or cascades in between: jump
      break;
    }
    cur_tick_ = t;
    fired += ProcessTick(t, expired);
  }
  return fired;
}

Instant TimerWheel::NextDeadlineHint() const {
  if (heads_[kDueList0] != kNil || heads_[kDueList0 + 1] != kNil) return Instant::FromNanoseconds(now_ns_);
  const uint64_t t = NextEventTick();
  return t == kNoTick ? Instant::Never() : TickStart(t);
}

}  // namespace synack
