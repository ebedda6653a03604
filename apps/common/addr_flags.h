// The client tools' destination (synack-cps, synack-perf): `--connect ADDR:PORT` (synack-cps also
// `ADDR:LO-HI`, a range of server ports) and port ranges such as `--port 5001-5016`, parsed with one-line
// errors that name the flag and the fix, and the next hop towards the server once an engine is up.
// Threading: the parsers on the main thread before any engine runs; ConnectNextHop on the engine's
// lcore (an application's Start).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "apps/common/cli.h"
#include "lib/api/synack.h"

namespace synack::app {

struct Endpoint {
  Ipv4Addr addr;
  uint16_t port = 0;
};

// An inclusive range of TCP ports, written "P" (one port) or "LO-HI".
struct PortRange {
  uint16_t lo = 0;
  uint16_t hi = 0;
  uint32_t size() const { return uint32_t{hi} - lo + 1u; }
  std::string ToString() const;  // "5001" or "5001-5016"
};

// "P" or "LO-HI" with min <= LO <= HI <= 65535. The error says what is wrong without naming a flag (the
// callers prefix theirs): empty, not a number, out of range, reversed.
absl::StatusOr<PortRange> ParsePortRange(absl::string_view text, uint16_t min = 1);

// `--<name> P|LO-HI`; `default_range` when the flag is absent. Errors name the flag.
absl::StatusOr<PortRange> GetPortRange(const cli::Flags& flags, const std::string& name, PortRange default_range,
                                       uint16_t min = 1);

struct EndpointRange {
  Ipv4Addr addr;
  PortRange ports;
};

// `--connect ADDR:PORT` or `--connect ADDR:LO-HI` (required); the errors show the fix with
// `example_port` ("e.g. --connect 198.18.0.1:<example_port>").
absl::StatusOr<EndpointRange> ParseConnectRange(const cli::Flags& flags, uint16_t example_port);
// `--connect ADDR:PORT` (required), one port: a range is an error.
absl::StatusOr<Endpoint> ParseConnect(const cli::Flags& flags, uint16_t example_port);

// The next hop towards `dst` (itself when on-link, else the gateway); an error naming --connect and the
// fix (--gateway) when there is none.
absl::StatusOr<Ipv4Addr> ConnectNextHop(const Engine& engine, Ipv4Addr dst);

}  // namespace synack::app
