// SynFlood: a SYN-flood generator for testing the stack's defences — spoofed SYNs (random source
// addresses from a prefix, random ports and sequence numbers, Linux-like options: MSS, SACK-permitted,
// timestamps, window scale) at a set rate, bounded by count, pushed into an engine's outbox so they
// leave on that engine's port. The frames come from the generator's own mempool, so the flood cannot
// starve the engine of mbufs; when the outbox or the pool is full the SYN is not sent and counted.
//
// Owned by one engine's lcore (Poll runs there, typically from an App's OnPoll); Create and the
// destructor belong to the control thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <rte_mempool.h>

#include "absl/status/statusor.h"
#include "lib/base/time.h"
#include "lib/net/addr.h"
#include "lib/net/outbox.h"

namespace synack::app {

struct SynFloodOptions {
  double rate = 0;             // SYNs per second; 0 = as fast as possible (a burst per poll)
  uint64_t count = 0;          // stop after this many (0 = no limit; the caller bounds the time)
  Ipv4Prefix sources = {Ipv4Addr::Of(198, 19, 0, 0), 16};  // spoofed source addresses
  Ipv4Addr target;
  uint16_t target_port = 0;
  MacAddr src_mac;
  MacAddr dst_mac;             // the target's (or its gateway's) MAC
  uint32_t burst = 32;         // most SYNs queued per Poll
  uint64_t seed = 1;
};

class SynFlood {
 public:
  static absl::StatusOr<std::unique_ptr<SynFlood>> Create(const std::string& name, const SynFloodOptions& options);
  ~SynFlood();
  SynFlood(const SynFlood&) = delete;
  SynFlood& operator=(const SynFlood&) = delete;

  // Queues the SYNs due by `now` (the first call starts the clock) into `outbox`; returns how many.
  uint32_t Poll(Instant now, Outbox& outbox);
  bool done() const { return options_.count != 0 && sent_ >= options_.count; }

  uint64_t sent() const { return sent_; }
  uint64_t not_sent() const { return not_sent_; }  // outbox or pool full
  const SynFloodOptions& options() const { return options_; }

 private:
  SynFlood() = default;
  uint64_t Next();  // xorshift64*

  SynFloodOptions options_;
  rte_mempool* pool_ = nullptr;
  uint64_t rng_ = 1;
  Instant start_ = Instant::Never();
  uint64_t sent_ = 0;
  uint64_t not_sent_ = 0;
  uint16_t ip_id_ = 1;
};

}  // namespace synack::app
