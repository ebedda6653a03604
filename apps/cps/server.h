// synack-cps --server role: CpsServer listens and, per accepted connection, closes at once (or echoes one
// small request first), counts what it did and samples what a flood could make it hold. No state per
// connection. In --loopback it can also keep the first --hold connections open, idle.
// Threading: one CpsServer per engine; Start/OnEvent/OnPoll on that engine's lcore, PrintSummary on the
// main thread after the run.
#pragma once

#include <cstdint>
#include <cstdio>

#include "apps/common/runtime.h"

namespace synack::app::cps {

class CpsServer : public App {
 public:
  // Listens on ports `port`..`port + ports - 1`; `request`: answer one request per connection first;
  // `hold`: leave the first `hold` accepted connections open.
  CpsServer(uint16_t port, uint16_t ports, bool request, uint64_t hold = 0)
      : port_(port), ports_(ports), request_(request), hold_(hold) {}

  // --close rst: reset each connection at accept instead of closing it (only without `request`: a reset
  // would discard the answer).
  void set_abortive(bool v) { abortive_ = v; }

  absl::Status Start(Engine& engine) override;
  void OnEvent(Engine& engine, const Event& e) override;
  // Samples the server's state every 256 polls: what a flood could make it hold.
  void OnPoll(Engine& engine, Instant now) override;

  void PrintSummary(FILE* out) const;

 private:
  // Echoes whatever arrived (zero-copy), then closes: the FIN follows the answer.
  void Answer(TcpLayer& tcp, ConnId id);

  uint16_t port_;
  uint16_t ports_;
  bool request_;
  bool abortive_ = false;
  uint64_t accepted_ = 0;
  uint64_t answered_ = 0;
  uint64_t no_request_ = 0;
  uint64_t errors_ = 0;
  uint64_t hold_ = 0;
  uint64_t held_ = 0;
  uint64_t polls_ = 0;
  uint64_t peak_half_open_ = 0;
  uint64_t peak_connections_ = 0;
  uint64_t peak_time_wait_ = 0;
  uint64_t peak_mbufs_ = 0;
};

}  // namespace synack::app::cps
