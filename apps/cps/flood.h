// synack-cps flood role (--flood on --client and --loopback): the flood flags, the SynFlood they describe,
// FloodOnly (--flood-only: no legitimate connections, only the flood for the duration) and the flood's
// summary line. The flood itself is sent from the client's engine by the library's WithSynFlood.
// Ownership: MakeFlood gives the caller the SynFlood; its mbuf pool lives as long as the EAL.
// Threading: ParseFlood, MakeFlood and PrintFloodSummary on the main thread; FloodOnly on the client
// engine's lcore (its elapsed() on the main thread after the run).
#pragma once

#include <cstdio>
#include <memory>
#include <optional>

#include "apps/common/runtime.h"

namespace synack::app::cps {

// The flood flags; nullopt when --flood is absent. `duration` sizes the default --flood-count.
absl::StatusOr<std::optional<SynFloodOptions>> ParseFlood(const cli::Flags& flags, Duration duration);

// A SynFlood of `options` at `target`:`port` from `src_mac`, with a pool of its own.
absl::StatusOr<std::unique_ptr<SynFlood>> MakeFlood(SynFloodOptions options, Ipv4Addr target, uint16_t port,
                                                    const MacAddr& src_mac);

// --flood-only: resolves the target's next hop (one ping), then idles for the duration while
// WithSynFlood sends.
class FloodOnly : public App {
 public:
  FloodOnly(Ipv4Addr next_hop, Duration duration) : next_hop_(next_hop), duration_(duration) {}
  absl::Status Start(Engine& engine) override;
  void OnEvent(Engine&, const Event&) override {}
  void OnPoll(Engine& engine, Instant now) override;
  bool Done() const override { return done_; }
  Duration elapsed() const { return now_ - start_; }

 private:
  Ipv4Addr next_hop_;
  Duration duration_;
  Instant start_;
  Instant now_;
  Instant next_ping_;
  bool done_ = false;
};

// "flood: N spoofed SYNs sent (R/s) from P, M not sent (device busy)".
void PrintFloodSummary(FILE* out, const SynFlood& flood, Duration elapsed);

}  // namespace synack::app::cps
