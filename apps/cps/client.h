// synack-cps --client role: CpsClient keeps K connections in flight towards a server — connect, then close
// at once (or send a request and read as many bytes back) — until a duration or a number of connections,
// and reports connections per second, connect latency percentiles and failures by reason. When connects
// run out of 4-tuples (every ephemeral port towards a server port live or in TIME-WAIT) or take over
// TIME-WAIT 4-tuples, it also reports the tuple space (addresses x server ports x ephemeral ports) and
// how fast TIME-WAIT gave 4-tuples back, so a user sees when the space, not the stack, is the limit.
// ClientConfig is its part of the command line (--client and --loopback share it).
// Ownership: the client owns one slot per connection in flight (sized by --concurrency at Start, no
// allocation per connection); each connection carries its slot in the API's user_data, and the slot
// keeps the ConnId so that events for a connection it has finished are told apart.
// Threading: Start/OnEvent/OnPoll on the client engine's lcore; PrintSummary and the accessors on the
// main thread after the run.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "apps/common/addr_flags.h"
#include "apps/common/histogram.h"
#include "apps/common/json.h"
#include "apps/common/modes.h"
#include "apps/common/report.h"

namespace synack::app::cps {

struct ClientConfig {
  Ipv4Addr dst;
  uint16_t port = 5001;
  uint16_t ports = 1;                // destination ports port..port+ports-1, used in turn
  PortRange ephemeral{1024, 65535};  // our source ports (--ephemeral-ports)
  uint32_t addresses = 1;            // our source addresses (--ip-count)
  uint32_t engines = 1;  // engines of the client's stack: with several, RSS gives ours ~1/engines of the ports
  uint32_t concurrency = 16;
  Duration duration = Duration::Seconds(5);
  uint64_t connections = 0;  // 0: until the duration ends
  uint32_t request = 0;      // bytes; 0: connect and close
  Duration connect_timeout = Duration::Milliseconds(1000);
  bool abortive = false;  // --close rst: end each connection with RST (no TIME-WAIT) instead of FIN
  OutputOptions output;   // --json, --interval
};

// --close fin|rst: true for rst. Errors name the flag.
absl::StatusOr<bool> ParseCloseMode(const cli::Flags& flags);

// The client flags of `mode`: the server ports from --connect ADDR:P|LO-HI (--client) or --port P|LO-HI
// (--loopback), or --ports N after the first; --ephemeral-ports. Errors name the flag and the fix.
absl::StatusOr<ClientConfig> ParseClient(const cli::Flags& flags, Mode mode);

enum class Failure : uint8_t {
  kRefused,      // RST in answer to the SYN
  kReset,        // RST after the handshake
  kTimedOut,     // connect (or response) timeout, SYN retries exhausted
  kNoArp,        // timed out while the next hop never answered ARP
  kOutOfPorts,   // Connect: every ephemeral port towards the server is in use or in TIME-WAIT
  kTableFull,    // Connect: connection table full
  kClosedEarly,  // the server closed before the whole response arrived
  kOther,
  kCount,
};

class CpsClient : public App {
 public:
  explicit CpsClient(const ClientConfig& config) : config_(config), request_bytes_(config.request, 'q') {}

  absl::Status Start(Engine& engine) override;
  // Events whose user_data names no slot of ours (0, or another role's tag) are not ours.
  void OnEvent(Engine& engine, const Event& e) override;
  void OnPoll(Engine& engine, Instant now) override;
  bool Done() const override { return done_; }

  uint64_t ok() const { return ok_; }
  uint64_t failed() const { return failed_; }
  Duration elapsed(Instant now) const { return (done_ ? finished_ : now) - start_; }

  // The summary so far; `running` (a SIGUSR1 status) marks an unfinished run as still running rather than
  // interrupted.
  void PrintSummary(FILE* out, Instant now, bool running = false) const;
  // --json: the client's part of "start" (its parameters), then "intervals" (one object per progress
  // line) and "summary" (rate, latency percentiles in ns, failures by reason), as keys of the open object.
  void AddParametersJson(JsonWriter& w) const;
  void AddResultsJson(JsonWriter& w, Instant now) const;
  const OutputOptions& output() const { return config_.output; }

 private:
  struct Slot {
    ConnId id;
    Instant started;
    Instant deadline = Instant::Never();  // response deadline once connected
    uint32_t sent = 0;
    uint32_t received = 0;
    bool connected = false;
  };

  bool Open(Engine& engine, Instant now);
  void SendRequest(TcpLayer& tcp, Slot& s);
  // Reads what arrived; true once the whole response is in.
  bool ReadResponse(TcpLayer& tcp, Slot& s);
  std::optional<Failure> Classify(Engine& engine, TcpError error) const;
  void ExpireResponses(Engine& engine, Instant now);
  void Finish(uint32_t si, Instant now, std::optional<Failure> failure);
  void Count(Failure f);
  void Report(Engine& engine, Instant now);
  // Reads the TIME-WAIT figures of the client's engine into the snapshot PrintSummary reports.
  void SnapshotTimeWait(const Engine& engine);
  // The 4-tuples this client can use: local addresses x server ports x ephemeral ports (its engine's
  // share of them when RSS splits the ports between engines).
  uint64_t Tuples() const;
  // "1 address x 16 server ports x 64512 ephemeral ports = 1032192 4-tuples[ (engine 0 of 2: ~516096)]".
  std::string TupleSpace() const;

  // One progress line: its end (since Start), length, and the figures it printed.
  struct IntervalRecord {
    Duration end;
    Duration length;
    uint64_t ok = 0;      // connections completed in the interval
    uint64_t failed = 0;  // failures in the interval
    uint32_t inflight = 0;
    uint64_t tw_reused = 0;     // TIME-WAIT 4-tuples taken over by connect in the interval
    uint64_t out_of_ports = 0;  // connects that found no free 4-tuple in the interval
  };

  ClientConfig config_;
  std::vector<IntervalRecord> intervals_;  // reserved at Start for the whole --duration
  uint64_t failed_at_tick_ = 0;
  std::string request_bytes_;
  Ipv4Addr next_hop_;
  std::vector<Slot> slots_;  // a connection's user_data is its slot + 1
  std::vector<uint32_t> free_slots_;
  LatencyHistogram latency_;
  std::array<uint64_t, static_cast<size_t>(Failure::kCount)> failures_{};
  PerSecond progress_;
  Instant start_, end_, finished_, next_expiry_scan_, backoff_until_;
  uint64_t started_ = 0;
  uint64_t ok_ = 0;
  uint64_t failed_ = 0;
  uint32_t inflight_ = 0;
  uint32_t next_port_ = 0;
  // The client engine's TIME-WAIT figures: 4-tuples taken over by Connect (its counter
  // time_wait_reused_by_connect) and entries held.
  struct TimeWaitSnapshot {
    uint64_t reused = 0;
    uint64_t entries = 0;
  };
  // At Start, at the last progress line, at the last snapshot (the end of the run once done).
  TimeWaitSnapshot tw_start_, tw_tick_, tw_;
  uint64_t out_of_ports_at_tick_ = 0;  // Failure::kOutOfPorts at the last progress line
  bool told_tuple_space_ = false;
  bool resolved_ = false;
  bool stopping_ = false;
  bool done_ = false;
};

// --json: the whole document of a client run — "start" (common part and the client's parameters),
// "intervals", "summary", and "counters" with every counter of the client's engines (and, in loopback,
// the server's). Main thread, after the run.
JsonWriter ResultJson(const CpsClient& client, Mode mode, const std::vector<const Engine*>& client_engines,
                      const Engine* server_engine, Instant now);

}  // namespace synack::app::cps
