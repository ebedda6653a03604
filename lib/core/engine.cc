#include "lib/core/engine.h"

#include <rte_ethdev.h>

#include "lib/core/clock.h"

namespace synack {

Engine::Engine(const EngineConfig& config, rte_mempool* pool, rte_mempool* indirect_pool)
    : config_(config), stack_(config.net, pool), tcp_(config.tcp, stack_, pool, indirect_pool) {}

void Engine::Start(Instant now) {
  tcp_.set_now(now);
  stack_.Start(now);
  next_poll_ = now + config_.poll_interval;
  Flush();
}

void Engine::Flush() {
  // Frames the device does not take stay in the outbox and are retried on the next poll.
  stack_.mutable_counters().tx_frames += stack_.outbox().Drain([this](rte_mbuf** pkts, uint16_t n) {
    return rte_eth_tx_burst(config_.port_id, config_.queue_id, pkts, n);
  });
}

uint16_t Engine::PollOnce(Instant now) {
  constexpr uint16_t kMaxBurst = 64;
  rte_mbuf* pkts[kMaxBurst];
  const uint16_t burst = config_.burst < kMaxBurst ? config_.burst : kMaxBurst;
  tcp_.set_now(now);
  const uint16_t n = rte_eth_rx_burst(config_.port_id, config_.queue_id, pkts, burst);
  for (uint16_t i = 0; i < n; ++i) {
    if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
    stack_.Input(now, Mbuf(pkts[i]));
  }
  tcp_.Poll(now);
  if (now >= next_poll_) {
    stack_.Poll(now);
    next_poll_ = now + config_.poll_interval;
  }
  if (!stack_.outbox().empty()) Flush();
  return n;
}

void Engine::Run(const std::atomic<bool>& stop) {
  TscClock clock;
  Start(clock.Now());
  while (!stop.load(std::memory_order_relaxed)) PollOnce(clock.Now());
  Flush();
}

}  // namespace synack
