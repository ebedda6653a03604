// synack-perf --loopback: a client engine and a server engine in this process over an in-memory ring
// pair (lib/api/loopback.h). Wires PerfServer (collecting, not live) to PerfClient, prints both summaries
// and checks that the server received every byte the client sent. Main thread; the engines call the roles
// on their lcores during Run.
#include <algorithm>
#include <memory>

#include "apps/perf/client.h"
#include "apps/perf/perf.h"
#include "apps/perf/server.h"

namespace synack::app::perf {

int RunLoopback(const cli::SplitArgs& split, const cli::Flags& flags) {
  absl::StatusOr<ClientConfig> config = ParseClient(flags, Mode::kLoopback);
  if (!config.ok()) return Fail(config.status().message());
  absl::StatusOr<int64_t> port = flags.GetInt("port", kDefaultPort, 1, 65535);
  if (!port.ok()) return Fail(port.status().message());
  // Each stream can hold a send buffer of mbufs on the client and a receive buffer of them on the
  // server (both from the client's pool: the ring hands the frames over as they are).
  const uint32_t per_stream = 2 * (TcpConfig{}.snd_buffer / 1024 + 64);
  absl::StatusOr<int64_t> mbufs =
      flags.GetInt("mbufs", std::max<uint32_t>(16383, config->streams * per_stream + 8192), 1024, 16 << 20);
  if (!mbufs.ok()) return Fail(mbufs.status().message());

  LoopbackOptions lo;
  lo.mbufs = static_cast<uint32_t>(*mbufs);
  lo.hugepages = flags.Has("hugepages");
  for (TcpLayerConfig* t : {&lo.client_tcp, &lo.server_tcp}) {
    t->max_connections = 1024;
    t->max_time_wait = 1024;
  }
  absl::StatusOr<TuningOptions> tuning = ParseTuning(flags);
  if (!tuning.ok()) return Fail(tuning.status().message());
  ApplyTuning(*tuning, lo);
  if (absl::Status st = ApplyLoopbackFlags(flags, lo); !st.ok()) return Fail(st.message());
  config->dst = lo.server.addr;
  config->port = static_cast<uint16_t>(*port);

  JsonStdout json_out;
  if (config->output.json && !json_out.Begin()) return Fail("--json: cannot duplicate stdout");
  absl::StatusOr<std::unique_ptr<Loopback>> lb = StartLoopback(kProgram, split, lo, *tuning);
  if (!lb.ok()) return Fail(lb.status().message());
  InstallStopSignals();
  PerfServer server(config->port, flags.Has("verify"), /*live=*/false, lo.server_tcp.max_connections);
  PerfClient client(*config);
  Loopback& pair = **lb;
  // SIGUSR1 while the run goes on (on the main lcore, the client's; the server's figures are read while
  // its lcore runs: see Loopback::SetStatusPrinter): the client's summary, the server's totals so far, the
  // counters.
  pair.SetStatusPrinter([&](FILE* out) {
    std::fprintf(out, "status (SIGUSR1):\n");
    client.PrintSummary(out, pair.client().tcp(), pair.client().tcp().now());
    server.PrintTotals(out);
    PrintLoopbackCounters(out, pair);
  });
  if (absl::Status s = pair.Run(server, client); !s.ok()) return Fail(s.message());
  client.PrintSummary(stdout, pair.client().tcp(), pair.client().tcp().now());
  server.CloseOut(pair.server().tcp().now());
  server.PrintSummaries(stdout);
  server.PrintTotals(stdout);
  PrintLoopbackCounters(stdout, pair);
  if (config->output.json) {
    json_out.Write(ResultJson(client, Mode::kLoopback, pair.client().tcp(), {&pair.client()}, &pair.server(), &server));
  }
  bool ok = client.ok() && server.verify_errors() == 0;
  if (client.ok() && server.bytes() != client.sent()) {
    std::printf("MISMATCH: the client sent %llu bytes, the server received %llu\n",
                static_cast<unsigned long long>(client.sent()), static_cast<unsigned long long>(server.bytes()));
    ok = false;
  }
  return ok ? 0 : 1;
}

}  // namespace synack::app::perf
