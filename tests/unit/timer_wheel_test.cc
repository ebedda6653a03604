// TimerWheel: firing at tick boundaries and never early, moves, cancels, callbacks that schedule, deadlines on
// every level (and beyond the top one), idle jumps, and a randomized comparison against a std::multimap model.
#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "lib/core/timer_wheel.h"

namespace synack {
namespace {

constexpr int64_t kMs = 1000000;
constexpr int64_t kSecond = 1000 * kMs;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

Instant At(int64_t ns) { return Instant::FromNanoseconds(ns); }

// Advances `w` to `now` and returns the ids fired, sorted.
std::vector<uint32_t> AdvanceTo(TimerWheel& w, int64_t now) {
  std::vector<uint32_t> fired;
  const size_t n = w.Advance(At(now), [&](uint32_t id) {
    EXPECT_FALSE(w.IsScheduled(id));
    fired.push_back(id);
  });
  EXPECT_EQ(n, fired.size());
  std::sort(fired.begin(), fired.end());
  return fired;
}

using Ids = std::vector<uint32_t>;

TEST(TimerWheelTest, FiresExactlyAtTickBoundaryDeadlines) {
  TimerWheel w({.capacity = 4});
  w.Schedule(0, At(10 * kMs));
  w.Schedule(1, At(64 * kMs));
  EXPECT_EQ(w.size(), 2u);
  EXPECT_TRUE(w.IsScheduled(0));
  EXPECT_EQ(w.DeadlineOf(1), At(64 * kMs));
  EXPECT_EQ(w.NextDeadlineHint(), At(10 * kMs));
  EXPECT_EQ(AdvanceTo(w, 10 * kMs - 1), Ids{});
  EXPECT_EQ(AdvanceTo(w, 10 * kMs), Ids{0});
  EXPECT_FALSE(w.IsScheduled(0));
  EXPECT_EQ(w.NextDeadlineHint(), At(64 * kMs));
  EXPECT_EQ(AdvanceTo(w, 64 * kMs - 1), Ids{});
  EXPECT_EQ(AdvanceTo(w, 64 * kMs), Ids{1});
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(w.NextDeadlineHint(), Instant::Never());
}

TEST(TimerWheelTest, OffGridDeadlineFiresAtNextTickNeverEarly) {
  TimerWheel w({.capacity = 2});
  w.Schedule(0, At(10 * kMs + 300000));  // 10.3 ms
  EXPECT_EQ(AdvanceTo(w, 10 * kMs + 299999), Ids{});
  EXPECT_EQ(AdvanceTo(w, 10 * kMs + 300000), Ids{});  // due, but the tick is not over: at most one tick late
  EXPECT_EQ(AdvanceTo(w, 11 * kMs - 1), Ids{});
  EXPECT_EQ(AdvanceTo(w, 11 * kMs), Ids{0});
}

TEST(TimerWheelTest, CustomTickAndStart) {
  const int64_t start = 5 * kSecond + 123;
  TimerWheel w({.capacity = 2, .tick = Duration::Microseconds(100), .start = At(start)});
  w.Schedule(0, At(start + 250000));  // 2.5 ticks: fires at the start of tick 3
  EXPECT_EQ(w.NextDeadlineHint(), At(start + 300000));
  EXPECT_EQ(AdvanceTo(w, start + 299999), Ids{});
  EXPECT_EQ(AdvanceTo(w, start + 300000), Ids{0});
}

TEST(TimerWheelTest, PastDeadlineFiresOnNextAdvanceWhateverItsNow) {
  TimerWheel w({.capacity = 4});
  EXPECT_EQ(AdvanceTo(w, 100 * kMs + 500000), Ids{});
  w.Schedule(0, At(3 * kMs));             // long past
  w.Schedule(1, At(100 * kMs + 500000));  // exactly now
  w.Schedule(2, At(100 * kMs + 500001));  // just after now: waits for the tick to end
  EXPECT_EQ(w.NextDeadlineHint(), At(100 * kMs + 500000));
  EXPECT_EQ(AdvanceTo(w, 100 * kMs + 500000), (Ids{0, 1}));  // same now
  EXPECT_EQ(AdvanceTo(w, 101 * kMs - 1), Ids{});
  EXPECT_EQ(AdvanceTo(w, 101 * kMs), Ids{2});
}

TEST(TimerWheelTest, BeforeFirstAdvanceDeadlinesAtOrBeforeStartAreDue) {
  TimerWheel w({.capacity = 2, .start = At(kSecond)});
  w.Schedule(0, At(kSecond));
  w.Schedule(1, At(0));
  EXPECT_EQ(AdvanceTo(w, 0), (Ids{0, 1}));  // a now before start counts as start
}

TEST(TimerWheelTest, RescheduleMovesEntry) {
  TimerWheel w({.capacity = 2});
  w.Schedule(0, At(50 * kMs));
  w.Schedule(0, At(20 * kMs));  // earlier
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.DeadlineOf(0), At(20 * kMs));
  EXPECT_EQ(AdvanceTo(w, 20 * kMs), Ids{0});
  EXPECT_EQ(AdvanceTo(w, 60 * kMs), Ids{});  // not also at the old deadline

  w.Schedule(1, At(70 * kMs));
  w.Schedule(1, At(5 * kSecond));  // later, onto another level
  EXPECT_EQ(AdvanceTo(w, 5 * kSecond - 1), Ids{});
  EXPECT_EQ(AdvanceTo(w, 5 * kSecond), Ids{1});
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheelTest, CancelUnschedules) {
  TimerWheel w({.capacity = 4});
  w.Cancel(3);  // not scheduled: no-op
  w.Schedule(0, At(10 * kMs));
  w.Schedule(1, At(10 * kMs));
  w.Schedule(2, At(10 * kMs));
  w.Cancel(1);
  w.Cancel(1);
  EXPECT_FALSE(w.IsScheduled(1));
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(AdvanceTo(w, kSecond), (Ids{0, 2}));
  w.Schedule(3, At(0));  // due list
  w.Cancel(3);
  w.Schedule(2, At(10 * kHour));  // top levels
  w.Cancel(2);
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(w.NextDeadlineHint(), Instant::Never());
  EXPECT_EQ(AdvanceTo(w, 20 * kHour), Ids{});
}

TEST(TimerWheelTest, PeriodicCallbackReschedulesItself) {
  TimerWheel w({.capacity = 1});
  std::vector<int64_t> fired_at;
  int64_t now = 0;
  w.Schedule(0, At(7 * kMs));
  auto periodic = [&](uint32_t id) {
    fired_at.push_back(now);
    w.Schedule(id, w.DeadlineOf(id) + Duration::Milliseconds(7));
  };
  for (now = 0; now <= 50 * kMs; now += kMs) w.Advance(At(now), periodic);
  EXPECT_EQ(fired_at, (std::vector<int64_t>{7 * kMs, 14 * kMs, 21 * kMs, 28 * kMs, 35 * kMs, 42 * kMs, 49 * kMs}));
  EXPECT_TRUE(w.IsScheduled(0));
  EXPECT_EQ(w.DeadlineOf(0), At(56 * kMs));
}

TEST(TimerWheelTest, CallbackSchedulingAtOrBeforeNowFiresOnNextAdvanceOnly) {
  TimerWheel w({.capacity = 2});
  w.Schedule(0, At(kMs));
  int calls = 0;
  // Re-arms for "now" every time: must fire once per Advance, never loop.
  auto rearm = [&](uint32_t id) {
    ++calls;
    w.Schedule(id, At(5 * kMs));
  };
  EXPECT_EQ(w.Advance(At(5 * kMs), rearm), 1u);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(w.NextDeadlineHint(), At(5 * kMs));
  EXPECT_EQ(w.Advance(At(5 * kMs), rearm), 1u);
  EXPECT_EQ(w.Advance(At(6 * kMs), rearm), 1u);
  EXPECT_EQ(calls, 3);
}

TEST(TimerWheelTest, CallbackSchedulesAndCancelsOthers) {
  TimerWheel w({.capacity = 8});
  for (uint32_t id = 0; id < 4; ++id) w.Schedule(id, At(10 * kMs));
  w.Schedule(4, At(11 * kMs));
  std::vector<uint32_t> fired;
  bool acted = false;
  auto cb = [&](uint32_t id) {
    fired.push_back(id);
    if (!acted) {
      acted = true;
      // The first to fire cancels every other entry of its slot and the next slot, and schedules new ones.
      for (uint32_t other = 0; other < 5; ++other) {
        if (other != id) w.Cancel(other);
      }
      w.Schedule(5, At(10 * kMs));   // <= now: next Advance
      w.Schedule(6, At(30 * kMs));   // future
      w.Schedule(id, At(12 * kMs));  // itself
    }
  };
  EXPECT_EQ(w.Advance(At(11 * kMs), cb), 1u);
  ASSERT_EQ(fired.size(), 1u);
  const uint32_t first = fired[0];
  EXPECT_LT(first, 4u);
  EXPECT_EQ(w.size(), 3u);
  fired.clear();
  EXPECT_EQ(w.Advance(At(11 * kMs), cb), 1u);
  EXPECT_EQ(fired, Ids{5});
  EXPECT_EQ(AdvanceTo(w, 12 * kMs), Ids{first});
  EXPECT_EQ(AdvanceTo(w, 29 * kMs), Ids{});
  EXPECT_EQ(AdvanceTo(w, 30 * kMs), Ids{6});
}

TEST(TimerWheelTest, FiresInTickOrder) {
  TimerWheel w({.capacity = 64});
  std::mt19937 rng(7);
  for (uint32_t id = 0; id < 64; ++id) w.Schedule(id, At(static_cast<int64_t>(rng() % (10 * kMinute)) + 1));
  int64_t last = 0;
  size_t n = w.Advance(At(kHour), [&](uint32_t id) {
    const int64_t tick = (w.DeadlineOf(id).ns() + kMs - 1) / kMs;
    EXPECT_GE(tick, last);
    last = tick;
  });
  EXPECT_EQ(n, 64u);
}

// Deadlines on every level and on each level's boundaries (in 1 ms ticks), then human scales up to a year.
std::vector<int64_t> LevelDeadlines() {
  std::vector<int64_t> d = {1,
                            2,
                            63,
                            64,
                            65,
                            127,
                            128,
                            4095,
                            4096,
                            4097,
                            262143,
                            262144,
                            262145,
                            int64_t{1} << 24,
                            (int64_t{1} << 24) + 1,
                            (int64_t{1} << 30) - 1,
                            int64_t{1} << 30,
                            (int64_t{1} << 36) + 5,
                            (int64_t{1} << 42) + 7};
  for (int64_t& t : d) t *= kMs;
  for (int64_t t :
       {kSecond, 59 * kSecond, kMinute, 10 * kMinute, kHour, 3 * kHour, kDay, 7 * kDay, 30 * kDay, 365 * kDay}) {
    d.push_back(t);
  }
  return d;
}

TEST(TimerWheelTest, EveryLevelFiresAtItsTickInOneJump) {
  for (int64_t offset : {int64_t{0}, 12345 * kMs + 1}) {
    for (int64_t d : LevelDeadlines()) {
      TimerWheel w({.capacity = 1});
      EXPECT_EQ(AdvanceTo(w, offset), Ids{});
      w.Schedule(0, At(offset + d));
      // An off-grid offset puts the deadline inside a tick: it fires at the end of that tick.
      const int64_t fires = (offset + d + kMs - 1) / kMs * kMs;
      EXPECT_LE(w.NextDeadlineHint(), At(fires));
      EXPECT_EQ(AdvanceTo(w, offset + d - 1), Ids{}) << "deadline " << d << " offset " << offset;
      if (fires > offset + d) {
        EXPECT_EQ(AdvanceTo(w, fires - 1), Ids{});
      }
      EXPECT_EQ(AdvanceTo(w, fires), Ids{0}) << "deadline " << d << " offset " << offset;
    }
  }
}

TEST(TimerWheelTest, EveryLevelFiresAtItsTickInSteps) {
  // All level deadlines at once; advance in growing steps so that every cascade happens on the way.
  const std::vector<int64_t> deadlines = LevelDeadlines();
  TimerWheel w({.capacity = static_cast<uint32_t>(deadlines.size())});
  std::multimap<int64_t, uint32_t> model;
  for (uint32_t id = 0; id < deadlines.size(); ++id) {
    w.Schedule(id, At(deadlines[id]));
    model.emplace(deadlines[id], id);
  }
  int64_t now = 0;
  int64_t step = kMs;
  while (!model.empty()) {
    now += step;
    step = std::min<int64_t>(step * 3 / 2 + kMs, kDay);
    Ids expected;
    while (!model.empty() && model.begin()->first <= now) {
      expected.push_back(model.begin()->second);
      model.erase(model.begin());
    }
    std::sort(expected.begin(), expected.end());
    ASSERT_EQ(AdvanceTo(w, now), expected) << "now " << now;
    EXPECT_EQ(w.size(), model.size());
  }
}

TEST(TimerWheelTest, BeyondTopLevelWithNanosecondTicks) {
  // With 1 ns ticks the eight levels span 2^48 ns (about 78 hours): longer deadlines overflow and re-cascade.
  TimerWheel w({.capacity = 4, .tick = Duration::Nanoseconds(1)});
  w.Schedule(0, At(10 * kDay));
  w.Schedule(1, At(1000 * kDay));
  w.Schedule(2, At(int64_t{1} << 48));
  w.Schedule(3, Instant::Never());
  EXPECT_EQ(AdvanceTo(w, (int64_t{1} << 48) - 1), Ids{});
  EXPECT_EQ(AdvanceTo(w, int64_t{1} << 48), Ids{2});
  EXPECT_EQ(AdvanceTo(w, 10 * kDay - 1), Ids{});
  EXPECT_EQ(AdvanceTo(w, 10 * kDay), Ids{0});
  EXPECT_EQ(AdvanceTo(w, 1000 * kDay - 1), Ids{});
  EXPECT_EQ(AdvanceTo(w, 1000 * kDay), Ids{1});
  EXPECT_EQ(AdvanceTo(w, INT64_MAX - 1), Ids{});
  EXPECT_EQ(AdvanceTo(w, INT64_MAX), Ids{3});
}

TEST(TimerWheelTest, NeverIsKeptButNotFiredWithMillisecondTicks) {
  TimerWheel w({.capacity = 1});
  w.Schedule(0, Instant::Never());
  EXPECT_EQ(AdvanceTo(w, 100 * 365 * kDay), Ids{});
  EXPECT_TRUE(w.IsScheduled(0));
  EXPECT_GT(w.NextDeadlineHint(), At(100 * 365 * kDay));
}

TEST(TimerWheelTest, HugeIdleJumpIsCheapAndExact) {
  // 100k entries spread over 10 days, then one jump: every entry fires once, in a single Advance.
  constexpr uint32_t kN = 100000;
  TimerWheel w({.capacity = kN});
  std::mt19937_64 rng(1);
  for (uint32_t id = 0; id < kN; ++id) w.Schedule(id, At(static_cast<int64_t>(rng() % (10 * kDay)) + 1));
  std::vector<bool> seen(kN, false);
  const size_t first = w.Advance(At(5 * kDay), [&](uint32_t id) {
    EXPECT_LE(w.DeadlineOf(id), At(5 * kDay));
    EXPECT_FALSE(seen[id]);
    seen[id] = true;
  });
  EXPECT_EQ(first + w.size(), kN);
  EXPECT_GT(w.NextDeadlineHint(), At(5 * kDay));
  const size_t second = w.Advance(At(10 * kDay), [&](uint32_t id) {
    EXPECT_GT(w.DeadlineOf(id), At(5 * kDay));
    EXPECT_FALSE(seen[id]);
    seen[id] = true;
  });
  EXPECT_EQ(first + second, kN);
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), kN);
}

// Reference model: each scheduled id has an effective fire time: -inf if it was due when scheduled (deadline
// not after the latest Advance's now), else its deadline rounded up to the tick grid.
class Model {
 public:
  Model(int64_t tick, int64_t start) : tick_(tick), start_(start), now_(start) {}

  void Schedule(uint32_t id, int64_t deadline) {
    Cancel(id);
    const int64_t fire = deadline <= now_ ? INT64_MIN : start_ + CeilDiv(deadline - start_, tick_) * tick_;
    by_id_[id] = {deadline, queue_.emplace(fire, id)};
  }
  void Cancel(uint32_t id) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return;
    queue_.erase(it->second.where);
    by_id_.erase(it);
  }
  Ids Advance(int64_t now) {
    now_ = std::max(now_, now);
    Ids fired;
    while (!queue_.empty() && queue_.begin()->first <= now_) {
      fired.push_back(queue_.begin()->second);
      by_id_.erase(queue_.begin()->second);
      queue_.erase(queue_.begin());
    }
    std::sort(fired.begin(), fired.end());
    return fired;
  }
  // When the next entry fires: now if one is due, INT64_MAX if none is scheduled.
  int64_t NextFire() const {
    if (queue_.empty()) return INT64_MAX;
    return std::max(queue_.begin()->first, now_);
  }
  bool IsScheduled(uint32_t id) const { return by_id_.count(id) != 0; }
  int64_t DeadlineOf(uint32_t id) const { return by_id_.at(id).deadline; }
  size_t size() const { return by_id_.size(); }
  int64_t now() const { return now_; }

 private:
  static int64_t CeilDiv(int64_t a, int64_t b) { return a / b + (a % b != 0 ? 1 : 0); }
  struct Item {
    int64_t deadline;
    std::multimap<int64_t, uint32_t>::iterator where;
  };
  int64_t tick_;
  int64_t start_;
  int64_t now_;
  std::multimap<int64_t, uint32_t> queue_;
  std::map<uint32_t, Item> by_id_;
};

void RunRandomized(uint64_t seed, int64_t tick, int64_t start) {
  constexpr uint32_t kCapacity = 2000;
  constexpr int kOps = 100000;
  std::mt19937_64 rng(seed);
  TimerWheel w({.capacity = kCapacity, .tick = Duration::Nanoseconds(tick), .start = At(start)});
  Model m(tick, start);
  // Deadline offsets on every scale, from the past to days ahead.
  const int64_t scales[] = {tick, 64 * tick, 4096 * tick, kSecond, kMinute, kHour, kDay, 10 * kDay};
  auto random_offset = [&]() -> int64_t {
    const int64_t scale = scales[rng() % std::size(scales)];
    const int64_t off = static_cast<int64_t>(rng() % static_cast<uint64_t>(2 * scale));
    return rng() % 16 == 0 ? -off : off;  // sometimes in the past
  };
  auto random_step = [&]() -> int64_t {
    switch (rng() % 8) {
      case 0:
        return 0;
      case 1:
        return static_cast<int64_t>(rng() % static_cast<uint64_t>(tick));  // within the tick
      case 2:
        return static_cast<int64_t>(rng() % static_cast<uint64_t>(kHour));  // idle jump
      case 3:
        return static_cast<int64_t>(rng() % 3) * tick;  // on the grid
      default:
        return static_cast<int64_t>(rng() % static_cast<uint64_t>(64 * 64 * tick));
    }
  };
  for (int op = 0; op < kOps; ++op) {
    const uint32_t id = static_cast<uint32_t>(rng() % kCapacity);
    const unsigned kind = rng() % 10;
    if (kind < 5) {
      const int64_t deadline = m.now() + random_offset();
      w.Schedule(id, At(deadline));
      m.Schedule(id, deadline);
    } else if (kind < 7) {
      w.Cancel(id);
      m.Cancel(id);
    } else {
      // Advance; some fired ids re-arm themselves (the model applies the same after its own Advance).
      int64_t now = m.now() + random_step();
      if (rng() % 32 == 0) now = m.now() - tick;  // time does not go back
      std::vector<std::pair<uint32_t, int64_t>> rearmed;
      Ids fired;
      const size_t n = w.Advance(At(now), [&](uint32_t fid) {
        ASSERT_FALSE(w.IsScheduled(fid));
        fired.push_back(fid);
        if (rng() % 4 == 0) {
          const int64_t deadline = std::max(now, m.now()) + random_offset();
          w.Schedule(fid, At(deadline));
          rearmed.emplace_back(fid, deadline);
        }
      });
      ASSERT_EQ(n, fired.size());
      std::sort(fired.begin(), fired.end());
      ASSERT_EQ(fired, m.Advance(now)) << "op " << op << " now " << now << " seed " << seed;
      for (const auto& [rid, deadline] : rearmed) m.Schedule(rid, deadline);
      // The hint is a lower bound on the next firing.
      ASSERT_LE(w.NextDeadlineHint().ns(), m.NextFire());
    }
    ASSERT_EQ(w.size(), m.size()) << "op " << op;
    const uint32_t probe = static_cast<uint32_t>(rng() % kCapacity);
    ASSERT_EQ(w.IsScheduled(probe), m.IsScheduled(probe));
    if (m.IsScheduled(probe)) {
      ASSERT_EQ(w.DeadlineOf(probe).ns(), m.DeadlineOf(probe));
    }
  }
  // Drain: everything fires eventually, exactly as the model says.
  const int64_t end = m.now() + 30 * kDay;
  const Ids expected = m.Advance(end);
  ASSERT_EQ(AdvanceTo(w, end), expected);
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheelTest, RandomizedAgainstModelMillisecondTick) { RunRandomized(42, kMs, 0); }

TEST(TimerWheelTest, RandomizedAgainstModelOddTickAndStart) { RunRandomized(7, 333333, 987654321); }

TEST(TimerWheelTest, RandomizedAgainstModelNanosecondTickOverflow) {
  // 1 ns ticks: day-scale offsets exceed the top level (2^48 ticks) and exercise the overflow list.
  RunRandomized(3, 1, 0);
}

}  // namespace
}  // namespace synack
