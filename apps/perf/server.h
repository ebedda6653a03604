// synack-perf --server role: PerfServer accepts connections and reads everything (Recv hands over the
// received mbufs, which are counted, optionally checked against the pattern, and freed); live, it prints
// Gbit/s per second while data flows and one summary line per connection when the peer closes (then
// closes too); in --loopback it only collects the lines for the end.
// Ownership: per-connection state in a table by connection index, sized by the engine's max_connections
// at construction; each entry keeps its ConnId so that stale events are told apart. (Not the API's
// user_data: events queued before the application saw kAccepted — the peer's data and FIN in the same
// burst — carry none.)
// Threading: Start/OnEvent/OnPoll on the server engine's lcore; CloseOut and the printing on the main
// thread after the run.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "apps/common/runtime.h"

namespace synack::app::perf {

struct ConnSummary {
  std::string peer;
  uint64_t bytes = 0;
  Duration elapsed;  // first byte to the peer's FIN (or the end)
  uint64_t verify_errors = 0;
  TcpError error = TcpError::kNone;
  bool open = false;  // still open when the tool stopped (SIGINT)
};

class PerfServer : public App {
 public:
  // `live`: print progress and per-connection lines as they happen (else only collect them).
  PerfServer(uint16_t port, bool verify, bool live, uint32_t max_connections)
      : port_(port), verify_(verify), live_(live), conns_(max_connections) {}

  absl::Status Start(Engine& engine) override;
  void OnEvent(Engine& engine, const Event& e) override;
  void OnPoll(Engine& engine, Instant now) override;

  // After the engine stopped (SIGINT): a summary for each connection still open.
  void CloseOut(Instant now);

  const std::vector<ConnSummary>& finished() const { return finished_; }
  uint64_t bytes() const { return bytes_; }
  uint64_t verify_errors() const { return verify_errors_; }

  void PrintSummaries(FILE* out) const;
  void PrintTotals(FILE* out) const;

 private:
  struct Conn {
    ConnId id;
    bool live = false;
    std::string peer;
    Instant accepted, first_byte, last_byte;
    uint64_t bytes = 0;
    uint64_t verify_errors = 0;
  };

  void Drain(TcpLayer& tcp, Conn& c, Instant now);
  void Finish(Conn& c, Instant now, TcpError error, bool open = false);
  void PrintSummary(FILE* out, const ConnSummary& s) const;

  uint16_t port_;
  bool verify_;
  bool live_;
  std::vector<Conn> conns_;  // by connection index
  std::vector<ConnSummary> finished_;
  uint64_t bytes_ = 0;
  uint64_t bytes_at_report_ = 0;
  uint64_t verify_errors_ = 0;
  uint32_t active_ = 0;
  bool reporting_ = false;
  Instant next_report_, last_report_, report_start_;
};

}  // namespace synack::app::perf
