// Live telemetry: Synack's commands on DPDK's telemetry socket (/var/run/dpdk/<file-prefix>/
// dpdk_telemetry.v2; `dpdk-telemetry.py -f <prefix>`), answered from the snapshots every engine publishes
// (lib/core/telemetry.h):
//
//   /synack/info                 version, engines (role, address, port), ports, dispatch mode
//   /synack/counters[,<e>|all]   every counter (the names PrintEngineCounters prints, with '/' for '.' and
//                                '_' for '-': DPDK's key rule), of engine <e> or summed over all engines
//                                (the default); state transitions as tcp/transitions/<FROM>/<TO>
//   /synack/listeners[,<e>|all]  per listener: port, SYN queue and backlog (half-open), accept queue and
//                                backlog, SYNs, cookies sent and validated
//   /synack/conns[,<e>|all]      an `ss`-like listing: 4-tuple, state, send/receive queue bytes, cwnd,
//                                flight, rto, srtt; at most kTelemetryReplyConns rows with a `truncated` flag
//   /synack/timewait[,<e>|all]   TIME-WAIT entry count and age histogram
//   /synack/latency[,<e>|all]    how long connections spend in each phase of their life (TcpPhases, power-of-
//                                two µs buckets): open_passive (SYN received -> ESTABLISHED), open_active
//                                (SYN sent -> ESTABLISHED), lifetime (ESTABLISHED -> our FIN), close (our
//                                FIN -> TIME-WAIT or CLOSED), time_wait (TIME-WAIT residency); per phase a
//                                row of count, mean_us, p50/p90/p99/max_us (bucket upper bounds) and its
//                                buckets as a column named after it, with upper_bounds_us (the last bucket
//                                open); `established` and `cookie_opens` from the same snapshots:
//                                open_passive + open_active + cookie_opens == established
//
// Every reply is a dict; lists are columns (arrays of equal length: DPDK 22.11 nests only arrays of
// values). A command with no live stack, or a bad engine, answers {"error": "..."}.
//
// Registry: the commands are registered with rte_telemetry once per process (the first Register) and
// answer from the most recently registered live source (a Stack or a Loopback; tests create and destroy
// many). Register returns a handle whose destruction removes the source; the registry's mutex is held
// around every command's reads, so once the handle is gone no command touches the source's engines.
// Threading: Register and the handle's destructor on the control thread, before the engines are
// destroyed; the commands run on DPDK's telemetry thread and read only the engines' published snapshots
// and the strings given here.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lib/core/engine.h"
#include "lib/dev/port.h"

namespace synack {

/// Rows of /synack/conns in one reply, over all engines asked for (a reply must fit DPDK's 16 KiB).
inline constexpr size_t kTelemetryReplyConns = 64;

/// What /synack/info shows about a stack, and the engines whose snapshots the commands read.
struct TelemetrySource {
  std::string kind;      ///< "stack" or "loopback"
  std::string dispatch;  ///< how flows reach their engine (Stack::dispatch())
  std::vector<std::string> ports;
  struct EngineEntry {
    EngineEntry(const Engine* e, std::string r) : engine(e), role(std::move(r)) {}
    const Engine* engine = nullptr;
    std::string role;          ///< "engine 0", "client", "server"
    std::string address, mac;  ///< filled in by Register from the engine (on the control thread)
  };
  std::vector<EngineEntry> engines;
};

/// Removes its source from the registry when destroyed (then no command reads its engines any more).
class TelemetryRegistration {
 public:
  ~TelemetryRegistration();
  TelemetryRegistration(const TelemetryRegistration&) = delete;
  TelemetryRegistration& operator=(const TelemetryRegistration&) = delete;

  /// Adds `source` (its engines must outlive the handle) and registers the /synack/ commands once per
  /// process. Control thread, after the EAL started.
  static std::unique_ptr<TelemetryRegistration> Register(TelemetrySource source);

 private:
  explicit TelemetryRegistration(std::unique_ptr<TelemetrySource> source) : source_(std::move(source)) {}
  std::unique_ptr<TelemetrySource> source_;
};

/// A port as /synack/info lists it (fits DPDK's 128-byte strings): "[role: ]port 0 name (driver) mac M mtu N".
std::string TelemetryPortLine(const PortInfo& port, const std::string& role = "");

/// Live sources in the registry (tests).
size_t TelemetrySources();

}  // namespace synack
