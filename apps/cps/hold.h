// synack-cps --loopback --hold role: HoldFirst opens N connections first and keeps them established and
// idle (up to 2048 handshakes at a time, over the server ports in turn), reports the memory they take,
// then starts the inner client (CpsClient), so that its connection rate is measured with N open.
// Ownership: the inner client and the server engine (read for its memory report) are the caller's. The
// held connections carry kHeldConnection as their user_data — no table of them — which no CpsClient slot
// uses, so the inner client ignores their events.
// Threading: Start/OnEvent/OnPoll on the client engine's lcore (the server engine is only read, between
// polls, for the report); dropped() on the main thread after the run.
#pragma once

#include <cstdint>

#include "apps/common/runtime.h"
#include "apps/cps/client.h"

namespace synack::app::cps {

inline constexpr uint64_t kHeldConnection = UINT64_MAX;

class HoldFirst : public App {
 public:
  HoldFirst(App& inner, const ClientConfig& config, uint64_t n, const Engine* server)
      : inner_(inner), config_(config), n_(n), server_(server) {}

  absl::Status Start(Engine& engine) override;
  void OnEvent(Engine& engine, const Event& e) override;
  void OnPoll(Engine& engine, Instant now) override;
  bool Done() const override { return start_failed_ || (!holding_ && inner_.Done()) || (holding_ && StopRequested()); }
  // Held connections that closed after the inner client started.
  uint64_t dropped() const { return dropped_; }
  uint64_t established() const { return established_; }

 private:
  App& inner_;
  ClientConfig config_;
  uint64_t n_;
  const Engine* server_;
  bool holding_ = true;
  bool start_failed_ = false;
  Instant start_;
  Instant resolved_at_;
  uint64_t opened_ = 0, established_ = 0, failed_ = 0, dropped_ = 0;
  uint64_t rss_before_ = 0;
};

}  // namespace synack::app::cps
