// synack-cps --loopback --pingpong role: request/response latency on one connection. EchoServer echoes
// whatever arrives (zero-copy) and never closes first; PingPongClient sends `size` bytes, waits for all of
// them to come back, records the round trip and sends again until the duration ends. No state per
// connection beyond the client's one ConnId.
// Threading: EchoServer on the server engine's lcore, PingPongClient on the client engine's; RunPingPong
// and PrintSummary on the main thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "apps/common/histogram.h"
#include "apps/common/runtime.h"

namespace synack::app::cps {

class EchoServer : public App {
 public:
  explicit EchoServer(uint16_t port) : port_(port) {}
  absl::Status Start(Engine& engine) override;
  void OnEvent(Engine& engine, const Event& e) override;

 private:
  uint16_t port_;
};

class PingPongClient : public App {
 public:
  PingPongClient(Ipv4Addr dst, uint16_t port, uint32_t size, Duration duration)
      : dst_(dst), port_(port), size_(size), duration_(duration), buf_(size, 'p') {}
  absl::Status Start(Engine& engine) override;
  void OnEvent(Engine& engine, const Event& e) override;
  bool Done() const override { return done_; }
  bool ok() const { return !error_ && latency_.count() > 0; }
  void PrintSummary(FILE* out) const;

 private:
  void SendOne(TcpLayer& tcp, Instant now);

  Ipv4Addr dst_;
  uint16_t port_;
  uint32_t size_;
  Duration duration_;
  std::string buf_;
  ConnId id_{};
  Instant start_, end_, sent_at_;
  uint64_t got_ = 0;
  bool done_ = false;
  bool error_ = false;
  LatencyHistogram latency_;
};

// Runs both over `lb` towards `dst`:`port`, then prints the summary and both engines' counters; returns
// the exit status.
int RunPingPong(Loopback& lb, Ipv4Addr dst, uint16_t port, uint32_t size, Duration duration);

}  // namespace synack::app::cps
