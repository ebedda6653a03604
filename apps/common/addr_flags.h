// The client tools' destination (synack-cps, synack-perf): `--connect ADDR:PORT` parsed with one-line
// errors that name the flag and the fix, and the next hop towards it once an engine is up.
// Threading: ParseConnect on the main thread before any engine runs; ConnectNextHop on the engine's
// lcore (an application's Start).
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "apps/common/cli.h"
#include "lib/api/synack.h"

namespace synack::app {

struct Endpoint {
  Ipv4Addr addr;
  uint16_t port = 0;
};

// `--connect ADDR:PORT` (required); the errors show the fix with `example_port`
// ("e.g. --connect 198.18.0.1:<example_port>").
absl::StatusOr<Endpoint> ParseConnect(const cli::Flags& flags, uint16_t example_port);

// The next hop towards `dst` (itself when on-link, else the gateway); an error naming --connect and the
// fix (--gateway) when there is none.
absl::StatusOr<Ipv4Addr> ConnectNextHop(const Engine& engine, Ipv4Addr dst);

}  // namespace synack::app
