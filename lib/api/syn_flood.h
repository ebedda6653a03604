/// @file
/// SynFlood: a SYN-flood generator for testing the stack's defences — spoofed SYNs (random source
/// addresses from a prefix, random ports and sequence numbers, Linux-like options: MSS, SACK-permitted,
/// timestamps, window scale) at a set rate, bounded by count, pushed into an engine's outbox so they
/// leave on that engine's port. The frames come from the generator's own mempool, so the flood cannot
/// starve the engine of mbufs; when the outbox or the pool is full the SYN is not sent and counted.
///
/// Owned by one engine's lcore (Poll runs there, typically from an App's OnPoll); Create and the
/// destructor belong to the control thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include <rte_mempool.h>

#include "absl/status/statusor.h"
#include "lib/api/stack.h"
#include "lib/base/time.h"
#include "lib/net/addr.h"
#include "lib/net/outbox.h"

namespace synack {

/// What SynFlood::Create generates.
struct SynFloodOptions {
  double rate = 0;     ///< SYNs per second; 0 = as fast as possible (a burst per poll)
  uint64_t count = 0;  ///< stop after this many (0 = no limit; the caller bounds the time)
  Ipv4Prefix sources = {Ipv4Addr::Of(198, 19, 0, 0), 16};  ///< spoofed source addresses
  Ipv4Addr target;                                         ///< the address attacked
  uint16_t target_port = 0;                                ///< the port attacked
  MacAddr src_mac;                                         ///< the frames' source MAC
  MacAddr dst_mac;                                         ///< the target's (or its gateway's) MAC
  uint32_t burst = 32;  ///< most SYNs queued per Poll (clamped to [1, 256] by Create)
  uint64_t seed = 1;    ///< seeds the addresses, ports and sequence numbers
};

/// The SYN-flood generator (see the file comment).
class SynFlood {
 public:
  /// With `pool` null the generator creates its own pool `name` and frees it when destroyed (destroy it
  /// only once none of its frames can still be in flight); otherwise it uses `pool`, which stays the
  /// caller's.
  static absl::StatusOr<std::unique_ptr<SynFlood>> Create(const std::string& name, const SynFloodOptions& options,
                                                          rte_mempool* pool = nullptr);
  ~SynFlood();
  SynFlood(const SynFlood&) = delete;
  SynFlood& operator=(const SynFlood&) = delete;

  /// Queues the SYNs due by `now` (the first call starts the clock) into `outbox`; returns how many.
  /// Each frame is allocated from pool() and its ownership passes to `outbox`; when the pool is empty
  /// or the outbox full the SYN is counted in not_sent() (a frame the outbox refuses is freed by it).
  uint32_t Poll(Instant now, Outbox& outbox);
  /// True once `count` SYNs were sent (never when `count` is 0).
  bool done() const { return options_.count != 0 && sent_ >= options_.count; }
  /// Sets the frames' destination MAC (once the next hop answered ARP).
  void set_dst_mac(const MacAddr& mac) { options_.dst_mac = mac; }

  /// SYNs queued into the outbox so far.
  uint64_t sent() const { return sent_; }
  /// SYNs not sent because the outbox or the pool was full.
  uint64_t not_sent() const { return not_sent_; }
  /// The options in effect (`burst` clamped, `dst_mac` as last set).
  const SynFloodOptions& options() const { return options_; }
  /// The pool the frames come from (its own or the caller's).
  rte_mempool* pool() const { return pool_; }

 private:
  SynFlood() = default;
  uint64_t Next();  // xorshift64*

  // Every SYN is the same frame but for the source address, IP ID, source port, sequence number and
  // TSval: a template written once (again when the destination MAC changes) with those fields zero and
  // the checksums' sums over everything else, so a SYN costs a copy, five stores and two short sums.
  struct Template {
    std::array<uint8_t, 128> frame{};
    uint16_t len = 0;        // Ethernet + IPv4 + TCP with options
    uint16_t tsval_off = 0;  // of the TSval within the TCP header
    uint32_t ip_sum = 0;     // one's-complement sum of the IPv4 header with the variable fields zero
    uint32_t tcp_sum = 0;    // pseudo-header + TCP header, likewise
    MacAddr dst_mac;         // the template's destination (rebuilt when options_.dst_mac changes)
    bool valid = false;
  };
  void BuildTemplate();

  SynFloodOptions options_;
  Template template_;
  rte_mempool* pool_ = nullptr;
  bool owns_pool_ = false;
  uint64_t rng_ = 1;
  Instant start_ = Instant::Never();
  uint64_t sent_ = 0;
  uint64_t not_sent_ = 0;
  uint16_t ip_id_ = 1;
};

/// Runs `inner` on an engine and, alongside it, a flood out of the same engine's port: the flood starts
/// once the next hop towards the target has answered ARP (its MAC becomes the frames' destination) and
/// stops when its count is reached or the inner app is done.
class WithSynFlood : public Application {
 public:
  /// Wraps `inner` and `flood` (both stay the caller's and must outlive this); `next_hop` is the address
  /// whose MAC the frames are sent to (the target, or the gateway towards it).
  WithSynFlood(Application& inner, SynFlood& flood, Ipv4Addr next_hop)
      : inner_(inner), flood_(flood), next_hop_(next_hop) {}
  absl::Status Start(Engine& engine) override { return inner_.Start(engine); }
  void OnEvent(Engine& engine, const Event& e) override { inner_.OnEvent(engine, e); }
  /// Polls `inner`, then, once the next hop is resolved, the flood into the engine's outbox.
  void OnPoll(Engine& engine, Instant now) override;
  bool Done() const override { return inner_.Done(); }

 private:
  Application& inner_;
  SynFlood& flood_;
  Ipv4Addr next_hop_;
  bool resolved_ = false;
};

}  // namespace synack
