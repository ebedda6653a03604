// Engine: the per-lcore poll loop. Owns one RX/TX queue pair of one port, the NetStack (Ethernet, ARP,
// IPv4, ICMP) and the TcpLayer (connections, listeners, timers, socket API) behind it:
// RX burst -> NetStack::Input per frame -> TCP timers -> periodic ARP timers -> TX burst of the outbox.
// It is the only layer that touches the device and reads the clock. Created on the control thread, then owned by and called only
// from the lcore that runs it.
#pragma once

#include <atomic>
#include <cstdint>

#include "lib/base/time.h"
#include "lib/core/tcp_layer.h"
#include "lib/net/net_stack.h"

namespace synack {

struct EngineConfig {
  uint16_t port_id = 0;
  uint16_t queue_id = 0;
  uint16_t burst = 32;
  Duration poll_interval = Duration::Milliseconds(10);  // how often timers (ARP) are driven
  NetConfig net;
  TcpLayerConfig tcp;
};

class Engine {
 public:
  // `pool` supplies frames; `indirect_pool` (data room 0) the mbufs that attach payload for zero-copy TX.
  Engine(const EngineConfig& config, rte_mempool* pool, rte_mempool* indirect_pool);

  // Sends the start-up announcements (gratuitous ARP).
  void Start(Instant now);

  // One iteration: receive a burst, process it, drive timers when due, transmit. Returns the number of
  // frames received.
  uint16_t PollOnce(Instant now);

  // Runs PollOnce with the TSC clock until `stop` becomes true, then flushes what it can.
  void Run(const std::atomic<bool>& stop);

  NetStack& stack() { return stack_; }
  TcpLayer& tcp() { return tcp_; }
  const NetCounters& counters() const { return stack_.counters(); }

 private:
  void Flush();

  EngineConfig config_;
  NetStack stack_;
  TcpLayer tcp_;
  Instant next_poll_;
};

}  // namespace synack
