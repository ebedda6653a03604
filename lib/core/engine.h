// Engine: the per-lcore poll loop. Owns its RX queues and one TX queue of one port, the NetStack
// (Ethernet, ARP, IPv4, ICMP) and the TcpLayer (connections, listeners, timers, socket API) behind it:
// RX bursts -> dispatch -> NetStack::Input per frame -> TCP timers -> periodic ARP timers -> TX burst.
// It is the only layer that touches the device and reads the clock.
//
// With several engines on one port, every received TCP frame's owner is computed with the shared
// RssSteering (symmetric Toeplitz); frames that arrived on another engine's queue (no RSS, fewer queues
// than engines, or a device whose RSS disagrees) are handed to their owner over a single-producer/
// single-consumer rte_ring, so each connection lives on exactly one engine. ARP frames are processed
// where they arrive and a copy goes to every sibling so all neighbour caches learn.
//
// Created on the control thread, then owned by and called only from the lcore that runs it; the only
// cross-core traffic is the dispatch rings (each with one producer engine and one consumer engine).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <rte_ring.h>

#include "lib/base/time.h"
#include "lib/core/phase_profile.h"
#include "lib/core/rss.h"
#include "lib/core/tcp_layer.h"
#include "lib/core/telemetry.h"
#include "lib/dev/capture.h"
#include "lib/dev/impairment.h"
#include "lib/net/net_stack.h"

namespace synack {

/// How an engine shares its port with sibling engines (flow dispatch over rings).
struct DispatchConfig {
  const RssSteering* steering = nullptr;  ///< null: a single engine, no dispatch
  uint16_t index = 0;                     ///< this engine's index in [0, steering->engines())
  std::vector<rte_ring*> to;              ///< [engines]: SP/SC ring carrying frames to engine j (null at index)
  std::vector<rte_ring*> from;            ///< [engines]: SP/SC ring carrying frames from engine j (null at index)
};

/// Everything an Engine needs besides its pools (lib/api/stack.h: EngineConfigForPort fills most of it).
struct EngineConfig {
  uint16_t port_id = 0;                   ///< DPDK port
  uint16_t queue_id = 0;                  ///< TX queue
  std::vector<uint16_t> rx_queues = {0};  ///< RX queues this engine polls (none: it only gets dispatched frames)
  uint16_t burst = 32;                    ///< frames per RX burst (at most 64)
  Duration poll_interval = Duration::Milliseconds(10);  ///< how often timers (ARP) are driven
  NetConfig net;                                        ///< our address, gateway, MAC, ARP and IPv4 settings (NetStack)
  TcpLayerConfig tcp;                                   ///< the TCP layer's tables and defaults
  DispatchConfig dispatch;                              ///< sibling engines and the rings to them
  /// A seeded impaired link (loss, reordering, duplication, corruption, delay, rate) on what this engine
  /// transmits and/or receives. Off unless enabled().
  ImpairConfig tx_impair;
  ImpairConfig rx_impair;  ///< as `tx_impair`, on what this engine receives
  /// Measure where cycles go in one poll out of this many (PhaseProfile; 0: off).
  uint32_t profile_every = 0;
  /// Copies every frame of this engine's device RX and TX bursts for a pcapng file (lib/dev/capture.h;
  /// null: off, one branch per burst). Owned by the caller (a CaptureWriter), which outlives the engine.
  CaptureTap* capture = nullptr;
};

/// The per-lcore poll loop over one port's queues, with the NetStack and TcpLayer behind it (see the file
/// comment).
class Engine {
 public:
  /// `pool` supplies frames; `indirect_pool` (data room 0) the mbufs that attach payload for zero-copy TX.
  /// Both stay the caller's and must outlive the engine.
  Engine(const EngineConfig& config, rte_mempool* pool, rte_mempool* indirect_pool);

  /// Sends the start-up announcements (gratuitous ARP; engine 0 only when there are several).
  void Start(Instant now);

  /// One iteration: receive bursts (device queues and dispatch rings), process them, drive timers when
  /// due, transmit. Returns the number of frames received.
  uint16_t PollOnce(Instant now);

  /// Start, then PollOnce with the TSC clock until `stop` becomes true, then flushes what it can.
  void Run(const std::atomic<bool>& stop);

  /// The socket API of this engine (Listen, Connect, Send, Recv, Close, PollEvents, Info, ...).
  TcpLayer& tcp() { return tcp_; }
  const TcpLayer& tcp() const { return tcp_; }  ///< @copydoc tcp()
  /// The network layer's counters (frames in and out, drops by reason).
  const NetCounters& counters() const { return stack_.counters(); }

  // Addresses and neighbours, for applications (the same on every engine of a stack).
  /// Our address and prefix.
  const Ipv4Prefix& local() const { return stack_.config().local; }
  /// Our MAC address.
  const MacAddr& mac() const { return stack_.config().mac; }
  /// Where a datagram to `dst` goes first: `dst` itself when on-link, else the gateway (nullopt when
  /// off-link and there is none).
  std::optional<Ipv4Addr> NextHop(Ipv4Addr dst) const;
  /// True when the next hop towards `dst` is in this engine's neighbour cache (ARP answered).
  bool Resolved(Ipv4Addr dst) const;
  /// The MAC of the next hop towards `dst`, if resolved.
  std::optional<MacAddr> NextHopMac(Ipv4Addr dst) const;
  /// Sends one ICMP echo request to `dst` (which starts ARP for its next hop); false if it could not be
  /// queued. On this engine's lcore.
  bool Probe(Instant now, Ipv4Addr dst);

  /// Takes ownership of one frame as if this engine's device had received it, and processes it here
  /// (network layer, then TCP), whichever engine would own its flow. For sibling hand-offs and tests.
  void Input(Instant now, Mbuf&& frame) { tcp_.Input(now, stack_.Input(now, std::move(frame))); }

  /// The network layer (Ethernet, ARP, IPv4, ICMP) under this engine: for the library and its tests.
  NetStack& stack() { return stack_; }
  const NetStack& stack() const { return stack_; }  ///< @copydoc stack()
  /// This engine's index among its siblings (DispatchConfig::index).
  uint16_t index() const { return config_.dispatch.index; }
  /// The frame pool (diagnostics: mbufs in use).
  rte_mempool* pool() const { return pool_; }
  /// The pool of data-less mbufs that attach payload for zero-copy TX (diagnostics: mbufs in use).
  rte_mempool* indirect_pool() const { return indirect_pool_; }
  /// The impairment on what this engine transmits (null when off).
  const Impairment* tx_impairment() const { return tx_impair_.get(); }
  /// Cycles per phase of the poll loop (enabled by EngineConfig::profile_every).
  const PhaseProfile& profile() const { return profile_; }
  /// The impairment on what this engine receives (null when off).
  const Impairment* rx_impairment() const { return rx_impair_.get(); }
  /// This engine's packet-capture tap (null when capture is off).
  const CaptureTap* capture() const { return config_.capture; }
  /// The snapshots this engine publishes for monitoring threads (readable from any thread while the
  /// engine exists; see lib/core/telemetry.h).
  const EngineTelemetry& telemetry() const { return telemetry_; }

 private:
  void Flush(Instant now);
  // Fills and publishes a telemetry snapshot (housekeeping, every EngineTelemetry period).
  void PublishTelemetry(Instant now);
  static void PrefetchHeaders(const rte_mbuf* m);
  // Takes ownership of a frame from the device: processes it here or hands it to its owner.
  void Receive(Instant now, Mbuf&& frame);
  // Takes ownership; false (frame freed, counted) when the ring is full.
  void HandTo(uint16_t engine, Mbuf&& frame);

  EngineConfig config_;
  rte_mempool* pool_;
  rte_mempool* indirect_pool_;
  NetStack stack_;
  TcpLayer tcp_;
  Instant next_poll_;
  std::unique_ptr<Impairment> tx_impair_;
  PhaseProfile profile_;
  std::unique_ptr<Impairment> rx_impair_;
  EngineTelemetry telemetry_;  // published from the housekeeping of PollOnce
};

}  // namespace synack
