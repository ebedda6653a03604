// Micro-benchmarks of the timer wheel with 1,000,000 entries scheduled, deadlines spread like TCP timers
// (200 ms to 120 s ahead, 1 ms ticks): schedule, cancel, reschedule (move), and advance in 1 ms steps
// with every fired entry re-armed (steady state). Items are operations (for advance: entries fired).
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "lib/core/timer_wheel.h"

namespace synack {
namespace {

constexpr uint32_t kEntries = 1000000;
constexpr uint32_t kOffsets = 1u << 20;  // a power of two: index with a mask
constexpr int64_t kMs = 1000000;

// Random deadline offsets, uniform in [200 ms, 120 s], drawn once so the loops time the wheel, not the RNG.
const std::vector<int64_t>& Offsets() {
  static const std::vector<int64_t> offsets = [] {
    std::mt19937_64 rng(12345);
    std::uniform_int_distribution<int64_t> dist(200 * kMs, 120000 * kMs);
    std::vector<int64_t> v(kOffsets);
    for (int64_t& o : v) o = dist(rng);
    return v;
  }();
  return offsets;
}

Instant At(int64_t ns) { return Instant::FromNanoseconds(ns); }

// A wheel of `capacity` ids whose first kEntries are scheduled, advanced past start so that the wheel's
// levels are not aligned with the deadlines.
std::unique_ptr<TimerWheel> LoadedWheel(uint32_t capacity, int64_t now) {
  auto w = std::make_unique<TimerWheel>(TimerWheel::Config{.capacity = capacity});
  w->Advance(At(now), [](uint32_t) {});
  const std::vector<int64_t>& off = Offsets();
  for (uint32_t id = 0; id < kEntries; ++id) w->Schedule(id, At(now + off[id & (kOffsets - 1)]));
  return w;
}

constexpr int64_t kNow = 3600 * 1000 * kMs + 123 * kMs;  // one hour in

// Schedules ids that are not scheduled (kEntries more on top of the resident kEntries).
void BM_Schedule(benchmark::State& state) {
  auto w = LoadedWheel(2 * kEntries, kNow);
  const std::vector<int64_t>& off = Offsets();
  uint32_t i = 0;
  for (auto _ : state) {
    w->Schedule(kEntries + i, At(kNow + off[(i * 7) & (kOffsets - 1)]));
    if (++i == kEntries) {
      state.PauseTiming();
      for (uint32_t id = kEntries; id < 2 * kEntries; ++id) w->Cancel(id);
      i = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Schedule);

// Cancels scheduled ids (from a second million on top of the resident one).
void BM_Cancel(benchmark::State& state) {
  auto w = LoadedWheel(2 * kEntries, kNow);
  const std::vector<int64_t>& off = Offsets();
  auto refill = [&] {
    for (uint32_t id = kEntries; id < 2 * kEntries; ++id) w->Schedule(id, At(kNow + off[(id * 7) & (kOffsets - 1)]));
  };
  refill();
  // Cancel in a scattered order, as connections close.
  uint32_t i = 0;
  for (auto _ : state) {
    w->Cancel(kEntries + static_cast<uint32_t>((static_cast<uint64_t>(i) * 7919) % kEntries));
    if (++i == kEntries) {
      state.PauseTiming();
      refill();
      i = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Cancel);

// Moves scheduled entries to new deadlines (the common case: a connection's earliest deadline changes).
void BM_Reschedule(benchmark::State& state) {
  auto w = LoadedWheel(kEntries, kNow);
  const std::vector<int64_t>& off = Offsets();
  uint32_t i = 0;
  for (auto _ : state) {
    const uint32_t id = static_cast<uint32_t>((static_cast<uint64_t>(i) * 7919) % kEntries);
    w->Schedule(id, At(kNow + off[(i * 13 + 5) & (kOffsets - 1)]));
    if (++i == kEntries) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Reschedule);

// Advances 1 ms per iteration; each fired entry is re-armed 200 ms - 120 s ahead, keeping 1M resident.
// Items are entries fired (each including its re-arm); time per iteration is per 1 ms Advance.
void BM_Advance(benchmark::State& state) {
  auto w = LoadedWheel(kEntries, kNow);
  const std::vector<int64_t>& off = Offsets();
  int64_t now = kNow;
  uint32_t k = 0;
  int64_t fired = 0;
  for (auto _ : state) {
    now += kMs;
    fired += static_cast<int64_t>(
        w->Advance(At(now), [&](uint32_t id) { w->Schedule(id, At(now + off[k++ & (kOffsets - 1)])); }));
  }
  state.SetItemsProcessed(fired);
  state.counters["fired_per_advance"] =
      benchmark::Counter(static_cast<double>(fired) / static_cast<double>(state.iterations()));
  state.counters["resident"] = benchmark::Counter(static_cast<double>(w->size()));
}
BENCHMARK(BM_Advance);

// An idle jump of hours over a loaded wheel that has nothing due in between: the cost of skipping.
void BM_AdvanceIdleJump(benchmark::State& state) {
  const std::vector<int64_t>& off = Offsets();
  const int64_t far = int64_t{10} * 24 * 3600 * 1000 * kMs;  // 10 days: entries sit on the upper levels
  const int64_t jump = int64_t{3} * 3600 * 1000 * kMs;       // 3 h per iteration
  auto load = [&] {
    auto w = std::make_unique<TimerWheel>(TimerWheel::Config{.capacity = kEntries});
    for (uint32_t id = 0; id < kEntries; ++id) w->Schedule(id, At(far + off[id & (kOffsets - 1)]));
    return w;
  };
  auto w = load();
  int64_t now = 0;
  for (auto _ : state) {
    if (now + jump >= far) {  // never reach the entries: start over
      state.PauseTiming();
      w = load();
      now = 0;
      state.ResumeTiming();
    }
    now += jump;
    benchmark::DoNotOptimize(w->Advance(At(now), [](uint32_t) {}));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_AdvanceIdleJump)->Iterations(64);

}  // namespace
}  // namespace synack

BENCHMARK_MAIN();
