// TimerWheel: the per-core hierarchical timing wheel that holds one deadline per connection (its earliest).
// Entries are named by a dense id in [0, capacity) chosen by the owner (the connection slab index). All memory
// is allocated in the constructor; Schedule and Cancel are O(1) (intrusive doubly-linked lists in arrays
// indexed by id); Advance costs O(non-empty slots passed + entries fired or cascaded) and skips empty stretches
// of any length with per-level occupancy bitmaps. I/O-free: the owner passes `now`.
// Owned by exactly one engine; only that engine's core may call it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "lib/base/time.h"

namespace synack {

// Firing rule. Time is cut into ticks of `tick` starting at `start`. An entry whose deadline lies after the
// `now` of the latest Advance fires on the first Advance(now) with `now` >= its deadline rounded up to the
// tick grid: never early, at most one tick late. An entry whose deadline is not after the latest Advance's
// `now` (a deadline in the past, or one scheduled by a callback for a time <= the current `now`) fires on
// the next Advance, whatever `now` that call passes.
class TimerWheel {
 public:
  // Ids are 27 bits wide (the entry packs two of them with a list number into one word).
  static constexpr uint32_t kIdBits = 27;
  static constexpr uint32_t kMaxCapacity = (1u << kIdBits) - 1;

  struct Config {
    uint32_t capacity = 0;                      // ids are [0, capacity); capacity <= kMaxCapacity
    Duration tick = Duration::Milliseconds(1);  // granularity; > 0
    Instant start{};                            // time of tick 0; the first Advance must not be before it
  };

  explicit TimerWheel(const Config& config);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Sets the entry of `id` to `deadline`, moving it if it was already scheduled.
  void Schedule(uint32_t id, Instant deadline);

  // Unschedules `id`; a no-op if it is not scheduled.
  void Cancel(uint32_t id);

  bool IsScheduled(uint32_t id) const { return entries_[id].list != kNoList; }

  // The deadline `id` was last scheduled for; meaningful only while IsScheduled(id).
  Instant DeadlineOf(uint32_t id) const { return Instant::FromNanoseconds(entries_[id].deadline_ns); }

  // Fires every entry due by `now` (see the firing rule above), in non-decreasing tick order, and returns how
  // many fired. Each entry is unscheduled before `expired(id)` runs; the callback may Schedule or Cancel any
  // id, including its own. A `now` earlier than a previous one is treated as that previous one.
  size_t Advance(Instant now, absl::FunctionRef<void(uint32_t id)> expired);

  // A lower bound on the `now` at which the next Advance could fire something: Instant::Never() when nothing
  // is scheduled, the latest Advance's `now` when something is already due, otherwise the start of the tick
  // of the nearest non-empty slot (exact when that slot is on the finest level, conservative otherwise).
  Instant NextDeadlineHint() const;

  size_t size() const { return size_; }
  uint32_t capacity() const { return static_cast<uint32_t>(entries_.size()); }
  Duration tick() const { return tick_; }

 private:
  static constexpr uint32_t kSlotBits = 6;
  static constexpr uint32_t kSlots = 1u << kSlotBits;  // per level, one 64-bit occupancy word
  static constexpr uint32_t kLevels = 8;               // covers 2^48 ticks (8,900 years of 1 ms ticks)
  static constexpr uint32_t kRangeBits = kSlotBits * kLevels;
  // List numbers: level * kSlots + slot, then two due lists (double-buffered so that entries made due by
  // callbacks wait for the next Advance) and the overflow list (beyond the top level's range).
  static constexpr uint16_t kDueList0 = kLevels * kSlots;
  static constexpr uint16_t kOverflowList = kDueList0 + 2;
  static constexpr uint16_t kNumLists = kOverflowList + 1;
  static constexpr uint32_t kListBits = 10;
  static constexpr uint16_t kNoList = (1u << kListBits) - 1;
  static_assert(kNumLists < kNoList);
  static constexpr uint32_t kNil = (1u << kIdBits) - 1;
  static constexpr uint64_t kNoTick = UINT64_MAX;

  // 16 bytes: the deadline, and the links and the list number packed into one word.
  struct Entry {
    int64_t deadline_ns = 0;
    uint64_t next : kIdBits = kNil;
    uint64_t prev : kIdBits = kNil;
    uint64_t list : kListBits = kNoList;
  };
  static_assert(sizeof(Entry) == 16);

 public:
  /// Bytes per scheduled id (the wheel preallocates one entry per id).
  static constexpr size_t kEntryBytes = sizeof(Entry);

 private:
  // The first tick at whose start `deadline` has passed (the deadline rounded up to the grid); requires
  // deadline > start.
  uint64_t ExpiryTick(int64_t deadline_ns) const;
  Instant TickStart(uint64_t tick) const;
  // Links `id` into the list its expiry tick `expiry` (>= cur_tick_) belongs to, relative to cur_tick_.
  void Place(uint32_t id, uint64_t expiry);
  void Link(uint32_t id, uint16_t list);
  void Unlink(uint32_t id);
  // Detaches list `list` whole and re-places its entries relative to cur_tick_ (no callbacks run).
  void Cascade(uint16_t list);
  // The smallest tick after cur_tick_ at which a slot fires or cascades, or kNoTick.
  uint64_t NextEventTick() const;
  // Cascades the upper levels whose slot starts at tick `t` (== cur_tick_), then fires level 0's slot.
  size_t ProcessTick(uint64_t t, absl::FunctionRef<void(uint32_t id)> expired);

  Duration tick_;
  uint64_t tick_ns_;
  int64_t start_ns_;
  int64_t now_ns_;     // the latest Advance's now (start at construction)
  uint64_t cur_tick_;  // every slot up to and including this tick has been processed
  uint16_t due_list_;  // the due list that receives new entries; the other one is drained by Advance
  size_t size_ = 0;
  std::vector<Entry> entries_;
  std::array<uint32_t, kNumLists> heads_;
  std::array<uint64_t, kLevels> occupied_{};  // bit s of word l: list l * kSlots + s is non-empty
};

}  // namespace synack
