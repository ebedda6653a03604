// Micro-benchmarks of the per-core connection table (synack::FlowTable, lib/core/flow_table.h) holding
// 1,000,000 connections, sized at start-up for that many like TcpLayer does: lookup hit, lookup miss, and an
// erase+insert pair at a steady 1M (the oldest connection goes, a new one comes). Keys are visited in
// random order so the table's memory, not one cache line, is what is timed; each key is computed from its
// index (a few arithmetic operations, in registers — as a key parsed from a packet header would be), so
// no key array adds cache misses of its own. Two key shapes (the benchmark argument):
//   0 "server": our one address:port, many clients (4096 addresses, ~245 ephemeral ports each);
//   1 "client": our one address with every port 1024-65535, towards 16 server addresses on port 443.
// The table stores no keys: its key_of computes a value's key the same way (here a value is the key's
// index), so a hit reads no second cache line — in TcpLayer it reads the key from the connection record,
// which the segment's processing reads next anyway.
// Counters: bytes_per_entry = table bytes (8 a slot) / size, load = size / capacity; the churn benchmark
// also reports the slowest single erase+insert pair it saw (a table that rehashed in place would show
// milliseconds there).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "lib/core/flow_table.h"

namespace synack {
namespace {

constexpr uint32_t kEntries = 1000000;

enum Shape : int { kServerView = 0, kClientView = 1 };

// The i-th distinct key of a shape; i < 2 * kEntries (the second million is never in the table at first).
FlowKey MakeKey(Shape shape, uint32_t i) {
  FlowKey k;
  if (shape == kServerView) {
    constexpr uint32_t kPorts = 60999 - 32768 + 1;
    k.local = Ipv4Addr::Of(198, 18, 0, 2);
    k.local_port = 443;
    // Clients 198.19.0.1 .. 198.19.16.0 (4096), each with ~245 connections from ports 32768 on (the Linux
    // default ephemeral range); 2M keys use ~489 ports per client, well inside the range.
    static_assert(2 * kEntries / 4096 < kPorts);
    const uint32_t client = i % 4096;
    k.remote = Ipv4Addr{Ipv4Addr::Of(198, 19, 0, 0).v + client + 1};
    k.remote_port = static_cast<uint16_t>(32768 + (i / 4096) % kPorts);
  } else {
    constexpr uint32_t kPorts = 65535 - 1024 + 1;
    k.local = Ipv4Addr::Of(198, 18, 0, 1);
    k.local_port = static_cast<uint16_t>(1024 + i % kPorts);
    k.remote = Ipv4Addr{Ipv4Addr::Of(198, 19, 128, 0).v + 1 + i / kPorts};  // servers 198.19.128.1 ..
    k.remote_port = 443;
  }
  return k;
}

// The table's key_of: value i is the key MakeKey(shape, i).
struct KeyOfValue {
  Shape shape;
  FlowKey operator()(uint32_t value) const { return MakeKey(shape, value); }
};
using Table = FlowTable<KeyOfValue>;

struct Fixture {
  explicit Fixture(Shape s) : shape(s), table(kEntries, KeyOfValue{s}) {}
  Shape shape;
  Table table;                  // as TcpLayer: flows_(max_connections, ...)
  std::vector<uint32_t> order;  // a random permutation of 0..kEntries-1
  // Keys MakeKey(shape, i) for i in [window, window + kEntries) (mod 2 * kEntries) are resident, each
  // with its i as value.
  uint64_t window = 0;
  static uint32_t Value(uint64_t i) { return static_cast<uint32_t>(i % (2 * kEntries)); }
  FlowKey Key(uint64_t i) const { return MakeKey(shape, Value(i)); }
  // The steady churn's step: the oldest connection goes, a new one comes.
  void Churn() {
    table.Erase(Value(window));
    table.Insert(Key(window + kEntries), Value(window + kEntries));
    ++window;
  }
};

// Built once per shape and kept (Google Benchmark calls a benchmark several times while sizing its run).
Fixture& Get(Shape shape) {
  static std::unique_ptr<Fixture> fixtures[2];
  std::unique_ptr<Fixture>& f = fixtures[shape];
  if (!f) {
    f = std::make_unique<Fixture>(shape);
    for (uint32_t i = 0; i < kEntries; ++i) f->table.Insert(f->Key(i), Fixture::Value(i));
    f->order.resize(kEntries);
    for (uint32_t i = 0; i < kEntries; ++i) f->order[i] = i;
    std::shuffle(f->order.begin(), f->order.end(), std::mt19937(12345));
  }
  return *f;
}

void Report(benchmark::State& state, const Table& t) {
  const double cap = static_cast<double>(t.capacity());
  const double size = static_cast<double>(t.size());
  state.counters["size"] = size;
  state.counters["capacity"] = cap;
  state.counters["load"] = size / cap;
  state.counters["bytes_per_entry"] = static_cast<double>(t.MemoryBytes()) / size;
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Finds a resident key (random order).
void BM_LookupHit(benchmark::State& state) {
  Fixture& f = Get(static_cast<Shape>(state.range(0)));
  const uint64_t base = f.window;
  uint32_t i = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    sum += *f.table.Find(f.Key(base + f.order[i]));
    if (++i == kEntries) i = 0;
  }
  benchmark::DoNotOptimize(sum);
  Report(state, f.table);
}
BENCHMARK(BM_LookupHit)->Arg(kServerView)->Arg(kClientView);

// Looks up a key of the same shape that is not in the table (a segment for no connection).
void BM_LookupMiss(benchmark::State& state) {
  Fixture& f = Get(static_cast<Shape>(state.range(0)));
  const uint64_t base = f.window + kEntries;
  uint32_t i = 0;
  uint64_t found = 0;
  for (auto _ : state) {
    found += f.table.Contains(f.Key(base + f.order[i]));
    if (++i == kEntries) i = 0;
  }
  if (found != 0) state.SkipWithError("a miss key was found");
  Report(state, f.table);
}
BENCHMARK(BM_LookupMiss)->Arg(kServerView)->Arg(kClientView);

// Steady state at 1M: erase the oldest connection, insert a new one (one iteration = the pair).
void BM_InsertErasePair(benchmark::State& state) {
  Fixture& f = Get(static_cast<Shape>(state.range(0)));
  // Churn 2M pairs untimed first so the run does not start from a freshly built table.
  while (f.window < 2 * kEntries) f.Churn();
  for (auto _ : state) f.Churn();
  if (f.table.size() != kEntries) state.SkipWithError("size drifted from 1M");
  Report(state, f.table);
}
BENCHMARK(BM_InsertErasePair)->Arg(kServerView)->Arg(kClientView);

// The slowest single pair over 2M pairs of churn, each timed on its own (the timing adds ~50 ns).
void BM_InsertEraseWorstPair(benchmark::State& state) {
  Fixture& f = Get(static_cast<Shape>(state.range(0)));
  double worst_us = 0;
  for (auto _ : state) {
    for (int i = 0; i < 2000000; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      f.Churn();
      const auto t1 = std::chrono::steady_clock::now();
      worst_us = std::max(worst_us, std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
  }
  state.counters["worst_pair_us"] = worst_us;
  Report(state, f.table);
}
BENCHMARK(BM_InsertEraseWorstPair)->Arg(kServerView)->Iterations(1);

}  // namespace
}  // namespace synack

BENCHMARK_MAIN();
