// synack-perf: the bulk-throughput tool (like iperf), zero-copy on both sides. Three modes:
//   --server    accepts connections and reads everything (Recv hands over the received mbufs, which are
//               counted, optionally checked against the pattern, and freed); prints Gbit/s per second while
//               data flows and one summary line per connection when the peer closes (then closes too);
//   --client    opens N connections and sends as fast as the send buffers take it: each mbuf comes from
//               AllocTxMbuf, is filled once with the stream's pattern and handed to Send (the stack
//               transmits that very mbuf); prints Gbit/s per second and a summary, closes first and waits
//               (bounded) for the server's FIN;
//   --loopback  both in one process over an in-memory net_ring port pair (no set-up at all).
// The client always fills byte i of every stream with i % 251, so `--verify` on the server can check
// integrity (pattern.h). This file is the command line only: each mode's flags and --help, then the
// mode's runner; the roles are one file each: server.cc (PerfServer, --server), client.cc (PerfClient,
// --client) and loopback.cc (both wired together). Every engine runs on one lcore with its role's
// application (lib/api/stack.h, lib/api/loopback.h). Main thread.
#include <vector>

#include "apps/common/modes.h"
#include "apps/perf/perf.h"

namespace synack::app::perf {
namespace {

constexpr char kSummary[] =
    "Bulk-throughput tool (like iperf), zero-copy: the client sends mbufs it filled once, the server reads\n"
    "the received mbufs and frees them.\n"
    "\n"
    "  synack-perf [EAL options] -- --server --ip A.B.C.D/N [--port 5201] [--verify]\n"
    "      read and discard everything each connection sends; Gbit/s per second, and a line per connection\n"
    "      when its client closes (then close too). --verify checks every byte against the pattern.\n"
    "  synack-perf [EAL options] -- --client --ip A.B.C.D/N --connect A.B.C.D:P [--streams 1] [--duration 5]\n"
    "             [--bytes 0]\n"
    "      send as fast as possible over --streams connections for --duration seconds (or --bytes in all),\n"
    "      then close first and wait for the server's FIN (at most 5 s)\n"
    "  synack-perf [-l 0-1] -- --loopback [--streams 1] [--duration 5] [--bytes 0] [--verify]\n"
    "      client and server engines in this process over an in-memory ring pair, no set-up needed\n"
    "      (client 198.18.0.1/24, server 198.18.0.2/24; one lcore each when two are available)\n"
    "\n"
    "Byte i of every stream is i % 251. The client prints `t=Ns X Gbit/s` each second and a summary (bytes,\n"
    "Gbit/s from the first connection to the last close, retransmits). Exit status: 0 when every stream\n"
    "sent and closed cleanly (loopback: and the server received every byte, with no verify error); 1\n"
    "otherwise (server: verify errors); 2 on bad options or set-up errors.\n"
    "--json (client, loopback) prints one JSON document on stdout instead of the lines above (they go to\n"
    "stderr): start parameters, one object per --interval (default 1 s), the summary (bytes, Gbit/s,\n"
    "retransmits, each stream) and every counter. SIGUSR1 prints the summary and the counters so far and the\n"
    "run goes on; SIGINT/SIGTERM end it with the summary.";

std::vector<cli::FlagSpec> ModeFlags(Mode mode) {
  std::vector<cli::FlagSpec> specs = ModeBaseFlags(mode, "mbufs per engine (default 16383, more with many streams)");
  if (mode == Mode::kServer) specs.push_back({"server", false, "mode: accept connections and read"});
  if (mode == Mode::kClient) {
    specs.push_back({"client", false, "mode: send towards --connect"});
    specs.push_back({"connect", true, "server address and port, e.g. 198.18.0.1:5201 (required)"});
  }
  if (mode != Mode::kServer) {
    specs.push_back({"streams", true, "parallel connections (default 1, max 128)"});
    specs.push_back({"duration", true, "seconds to send (default 5)"});
    specs.push_back({"bytes", true, "stop after this many bytes in all (default 0: --duration decides)"});
    for (cli::FlagSpec& f : OutputFlags()) specs.push_back(std::move(f));
  }
  if (mode != Mode::kClient) {
    specs.push_back({"port", true, "port to listen on (default 5201)"});
    specs.push_back({"verify", false, "check that byte i of every stream is i % 251"});
  }
  return specs;
}

std::vector<cli::FlagSpec> HelpFlags() {
  std::vector<cli::FlagSpec> specs =
      HelpFlagsStart("mode: accept connections and read", "mode: send towards --connect");
  for (Mode m : {Mode::kClient, Mode::kServer}) {
    for (const cli::FlagSpec& f : ModeFlags(m)) AddIfNew(specs, f);
  }
  return specs;
}

int Main(int argc, char** argv) {
  return RunModeTool(argc, argv, {kProgram, kSummary, ModeFlags, HelpFlags(), RunServer, RunClient, RunLoopback});
}

}  // namespace
}  // namespace synack::app::perf

int main(int argc, char** argv) { return synack::app::perf::Main(argc, argv); }
