// synack-cps: the connection-rate tool. Three modes:
//   --server    listens and, per accepted connection, closes at once (or answers one small request first);
//   --client    keeps K connections in flight towards a server and reports connections per second, connect
//               latency percentiles and failures by reason;
//   --loopback  both of the above in one process over an in-memory net_ring port pair (no set-up at all).
// This file is the command line only: each mode's flags and --help, then the mode's runner. The roles are
// one file each: server.cc (CpsServer, --server), client.cc (CpsClient, --client), loopback.cc (both
// roles wired together), hold.cc (--hold), pingpong.cc (--pingpong) and flood.cc (--flood). Every engine
// runs on one lcore with its role's application (lib/api/stack.h, lib/api/loopback.h). Main thread.
#include <vector>

#include "apps/common/modes.h"
#include "apps/cps/cps.h"

namespace synack::app::cps {
namespace {

constexpr char kSummary[] =
    "Connection-rate tool: how many TCP connections per second open (and close), with connect latency.\n"
    "\n"
    "  synack-cps [EAL options] -- --server --ip A.B.C.D/N [--port 5001|LO-HI] [--request]\n"
    "      accept and close every connection (with --request: read one request, echo it back, close)\n"
    "  synack-cps [EAL options] -- --client --ip A.B.C.D/N --connect A.B.C.D:P|A.B.C.D:LO-HI\n"
    "             [--concurrency 16] [--duration 5] [--connections 0] [--request 0]\n"
    "             [--connect-timeout-ms 1000] [--ephemeral-ports 1024-65535]\n"
    "      keep K connections in flight: connect, then close at once (or send --request bytes and read\n"
    "      as many back), until --duration seconds or --connections connections, whichever comes first;\n"
    "      connects go round-robin over the server ports of the range\n"
    "  synack-cps [-l 0-1] -- --loopback [client options]\n"
    "      client and server engines in this process over an in-memory ring pair, no set-up needed\n"
    "      (client 198.18.0.1/24, server 198.18.0.2/24; one lcore each when two are available)\n"
    "\n"
    "SYN flood (client and loopback): --flood RATE|max sends spoofed SYNs (sources from --flood-sources,\n"
    "default 198.19.0.0/16) at the server port alongside the legitimate client, from the client's engine,\n"
    "until --flood-count SYNs (default RATE x duration, or 100 million for max) or the run ends. The server\n"
    "defends itself with --syn-cookies, --syn-backlog, --max-half-open and --syn-rate-per-source; in\n"
    "loopback mode its replies to spoofed sources go back to the client's port and are dropped there.\n"
    "\n"
    "The client prints a progress line per second and a summary: connections/s, connect latency p50/p99/p99.9\n"
    "and failures by reason (refused, reset, timed out, no route/ARP reply, out of ports, table full, closed\n"
    "before the response). Each connection the client closes keeps its 4-tuple in TIME-WAIT for 60 s; the\n"
    "client uses source ports 1024-65535 and, when none is free, reuses a 4-tuple whose TIME-WAIT is over 1 s\n"
    "old (timestamps on, like Linux's tcp_tw_reuse), so ~64,500 connections per server port per second at\n"
    "most: give the client and the server a port range (--connect A.B.C.D:5001-5016, --server --port\n"
    "5001-5016) to multiply the 4-tuples. When connects run out of 4-tuples or take over TIME-WAIT ones, the\n"
    "client reports the tuple space (addresses x server ports x ephemeral ports) and the TIME-WAIT reuses per\n"
    "second (progress lines: tw_reused/s=, no_4tuple=; summary: 'tuple space:', 'tuple reuse:').\n"
    "--json (client, loopback) prints one JSON document on stdout instead of the lines above (they go to\n"
    "stderr): start parameters, one object per --interval (default 1 s), the summary with connect latency\n"
    "percentiles and failures by reason, and every counter. SIGUSR1 prints the summary and the counters so\n"
    "far and the run goes on; SIGINT/SIGTERM end it with the summary.\n"
    "Exit status: 0 when at least one connection succeeded and none failed; 1 when any failed or none\n"
    "succeeded; 2 on bad options or set-up errors.";

std::vector<cli::FlagSpec> ModeFlags(Mode mode) {
  std::vector<cli::FlagSpec> specs = ModeBaseFlags(mode, "mbufs per engine (default 16383)");
  if (mode == Mode::kServer) {
    specs.push_back({"server", false, "mode: accept connections"});
    specs.push_back({"request", false, "read one request per connection and send as many bytes back, then close"});
  } else {
    if (mode == Mode::kClient) {
      specs.push_back({"client", false, "mode: open connections towards --connect"});
      specs.push_back({"connect", true,
                       "server address and port or port range, e.g. 198.18.0.1:5001 or 198.18.0.1:5001-5016 "
                       "(required; connects go round-robin over the ports)"});
    }
    specs.push_back({"concurrency", true, "connections in flight (default 16, max 16384)"});
    specs.push_back({"duration", true, "seconds to run (default 5)"});
    specs.push_back({"connections", true, "stop after this many connections (default 0: no limit)"});
    specs.push_back(
        {"request", true, "bytes to send per connection and read back (default 0: connect/close; max 1400)"});
    specs.push_back({"connect-timeout-ms", true, "connect timeout, also the response timeout (default 1000)"});
    specs.push_back({"ports", true,
                     mode == Mode::kLoopback
                         ? "server ports --port.. used in turn (default 32; or --port LO-HI)"
                         : "server ports P..P+N-1 used in turn (default 1; or --connect ADDR:LO-HI)"});
    specs.push_back({"ephemeral-ports", true,
                     "our source ports, LO-HI (default 1024-65535); a 4-tuple per source port and server port"});
    for (cli::FlagSpec& f : OutputFlags()) specs.push_back(std::move(f));
  }
  specs.push_back({"close", true,
                   "fin (default) or rst: how each connection ends; rst resets it (as SO_LINGER 0), so no "
                   "TIME-WAIT holds its 4-tuple (server: only without --request)"});
  if (mode != Mode::kClient) {
    specs.push_back({"port", true, "server port or range LO-HI to listen on, e.g. 5001-5016 (default 5001)"});
  }
  if (mode == Mode::kLoopback) {
    for (const cli::FlagSpec& f : SynDefenceFlags()) specs.push_back(f);
    specs.push_back(
        {"hold", true, "first open N connections and keep them idle (memory report; rate measured with them open)"});
    specs.push_back(
        {"pingpong", true, "instead: request/response latency, BYTES (1..1400) back and forth on one connection"});
  }
  if (mode != Mode::kServer) {
    specs.push_back({"flood", true, "also send spoofed SYNs at the server: SYNs per second, or max"});
    specs.push_back(
        {"flood-count", true, "stop the flood after this many SYNs (default: rate x duration; 100 million for max)"});
    specs.push_back({"flood-sources", true, "spoofed source addresses (default 198.19.0.0/16)"});
    if (mode == Mode::kClient) {
      specs.push_back({"flood-only", false, "with --flood: send only the flood, no legitimate connections"});
    }
  }
  return specs;
}

std::vector<cli::FlagSpec> HelpFlags() {
  std::vector<cli::FlagSpec> specs =
      HelpFlagsStart("mode: accept connections", "mode: open connections towards --connect");
  for (const cli::FlagSpec& f : ModeFlags(Mode::kClient)) {
    if (f.name == "request") {
      specs.push_back({"request", true,
                       "client/loopback: BYTES to send and read back (default 0: connect/close; max 1400); "
                       "server: flag, answer one request per connection"});
    } else {
      AddIfNew(specs, f);
    }
  }
  specs.push_back({"port", true, "server/loopback: port or range LO-HI to listen on, e.g. 5001-5016 (default 5001)"});
  return specs;
}

int Main(int argc, char** argv) {
  return RunModeTool(argc, argv, {kProgram, kSummary, ModeFlags, HelpFlags(), RunServer, RunClient, RunLoopback});
}

}  // namespace
}  // namespace synack::app::cps

int main(int argc, char** argv) { return synack::app::cps::Main(argc, argv); }
