#include "lib/core/telemetry.h"

#include <rte_mempool.h>

#include "lib/core/engine.h"

namespace synack {

uint32_t TimeWaitAgeBucket(uint64_t age_ms) {
  uint32_t b = 0;
  while (b < kTimeWaitAgeBuckets - 1 && age_ms >= kTimeWaitAgeBoundsMs[b]) ++b;
  return b;
}

namespace {

uint32_t Micros(Duration d) {
  const int64_t us = d.ns() / 1000;
  return us < 0 ? 0 : us > int64_t{UINT32_MAX} ? UINT32_MAX : static_cast<uint32_t>(us);
}

void FillTimeWaitAges(const TcpLayer& tcp, Instant now, TimeWaitAges* a) {
  *a = TimeWaitAges{};
  const TimeWaitStore& tw = tcp.time_wait();
  a->count = tw.size();
  if (a->count == 0) return;
  // An entry's deadline is 2*MSL after it entered TIME-WAIT (or after a retransmitted FIN restarted it).
  const Duration life = tcp.config().tcp.msl * 2;
  uint64_t seen[kTimeWaitAgeBuckets] = {};
  const uint64_t visited = tw.Sample(kTelemetryTimeWaitSamples, [&](const TimeWaitEntry& e) {
    const int64_t age_ns = (now - (e.expires - life)).ns();
    const uint64_t age_ms = age_ns < 0 ? 0 : static_cast<uint64_t>(age_ns) / 1000000;
    if (age_ms > a->oldest_ms) a->oldest_ms = age_ms;
    ++seen[TimeWaitAgeBucket(age_ms)];
  });
  if (visited == 0) return;
  a->sampled = visited < a->count;
  // Scale a sample to the entry count; the largest bucket takes the rounding so the buckets sum to count.
  uint64_t sum = 0;
  uint32_t largest = 0;
  for (uint32_t b = 0; b < kTimeWaitAgeBuckets; ++b) {
    a->buckets[b] = a->sampled ? seen[b] * a->count / visited : seen[b];
    sum += a->buckets[b];
    if (seen[b] > seen[largest]) largest = b;
  }
  a->buckets[largest] += a->count - sum;
}

}  // namespace

void FillEngineSnapshot(const Engine& engine, Instant now, EngineSnapshot* s) {
  const TcpLayer& tcp = engine.tcp();
  s->at_ns = now.ns();
  s->net = engine.counters();
  s->layer = tcp.counters();
  s->tcp = tcp.tcp_counters();
  s->tx_impaired = engine.tx_impairment() != nullptr;
  s->rx_impaired = engine.rx_impairment() != nullptr;
  s->tx_impair = s->tx_impaired ? engine.tx_impairment()->counters() : ImpairCounters{};
  s->rx_impair = s->rx_impaired ? engine.rx_impairment()->counters() : ImpairCounters{};
  s->frames_in_use = engine.pool() != nullptr ? rte_mempool_in_use_count(engine.pool()) : 0;
  s->connections = tcp.connections();
  s->time_wait = tcp.time_wait_entries();
  s->orphans = tcp.orphans();
  s->half_open = tcp.half_open();
  s->loss_states = tcp.loss_states_in_use();
  s->pressure = tcp.pressure();

  const ListenerTable& lt = tcp.listeners();
  s->listeners_total = static_cast<uint32_t>(lt.size());
  s->listeners_count = 0;
  for (uint32_t li = 0; li < lt.size() && li < kTelemetryMaxListeners; ++li) {
    ListenerSnapshot& l = s->listeners[s->listeners_count++];
    l.port = lt.port(li);
    l.syn_queue = lt.syn_queue(li);
    l.syn_backlog = lt.config().syn_backlog;
    l.accept_queue = lt.accept_queue(li);
    l.accept_backlog = lt.config().accept_backlog;
    l.stats = lt.stats(li);
  }

  s->conns_count = 0;
  tcp.ForEachConnection(kTelemetryScanSlots, [&](const FlowKey& key, const TcpInfo& info, uint32_t snd, uint32_t rcv) {
    ConnSnapshot& c = s->conns[s->conns_count++];
    c.key = key;
    c.state = info.state;
    c.send_queue = snd;
    c.recv_queue = rcv;
    c.cwnd = info.cwnd;
    c.flight = info.flight;
    c.rto_us = Micros(info.rto);
    c.srtt_us = Micros(info.srtt);
    return s->conns_count < kTelemetryMaxConns;
  });
  s->conns_truncated = s->connections > s->conns_count;

  FillTimeWaitAges(tcp, now, &s->time_wait_ages);
}

}  // namespace synack
