// synack-cps --loopback: a client engine and a server engine in this process over an in-memory ring pair
// (lib/api/loopback.h). Wires the roles together — CpsServer on the server engine; CpsClient on the client
// engine, wrapped by HoldFirst (--hold) and WithSynFlood (--flood) — or the pingpong pair (--pingpong),
// and prints their summaries. Main thread; the engines call the roles on their lcores during Run.
#include <algorithm>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "apps/cps/client.h"
#include "apps/cps/cps.h"
#include "apps/cps/flood.h"
#include "apps/cps/hold.h"
#include "apps/cps/pingpong.h"
#include "apps/cps/server.h"

namespace synack::app::cps {

int RunLoopback(const cli::SplitArgs& split, const cli::Flags& flags) {
  absl::StatusOr<ClientConfig> config = ParseClient(flags, Mode::kLoopback);
  if (!config.ok()) return Fail(config.status().message());
  absl::StatusOr<std::optional<SynFloodOptions>> flood_options = ParseFlood(flags, config->duration);
  if (!flood_options.ok()) return Fail(flood_options.status().message());
  absl::StatusOr<int64_t> mbufs = flags.GetInt("mbufs", 16383, 1024, 16 << 20);
  if (!mbufs.ok()) return Fail(mbufs.status().message());

  LoopbackOptions lo;
  lo.mbufs = static_cast<uint32_t>(*mbufs);
  lo.hugepages = flags.Has("hugepages");
  // Full records for the connections in flight and those still closing; compact TIME-WAIT entries for
  // every 4-tuple the run can use (a closed port stays in TIME-WAIT for 60 s), so ports run out before
  // the table does.
  absl::StatusOr<int64_t> hold = flags.GetInt("hold", 0, 0, 4 << 20);
  if (!hold.ok()) return Fail(hold.status().message());
  const uint64_t tuples = uint64_t{config->ports} * config->ephemeral.size();
  if (*hold > 0 && static_cast<uint64_t>(*hold) + 65536 > tuples) {
    return Fail(absl::StrCat("--hold: ", *hold, " connections need more 4-tuples than --ports ", config->ports,
                             " x --ephemeral-ports ", config->ephemeral.ToString(), " give (", tuples,
                             "); raise --ports"));
  }
  const uint32_t live = std::max<uint32_t>(4096, 4 * config->concurrency) + static_cast<uint32_t>(*hold);
  const uint32_t time_wait = static_cast<uint32_t>(std::min<uint64_t>(tuples, 4u << 20));
  for (TcpLayerConfig* t : {&lo.client_tcp, &lo.server_tcp}) {
    t->max_connections = live;
    t->max_time_wait = time_wait;
    t->syn_backlog = t->accept_backlog = std::max<uint32_t>(1024, 2 * config->concurrency);
  }
  SynDefenceOptions syn_defaults;
  syn_defaults.syn_backlog = lo.server_tcp.syn_backlog;
  syn_defaults.max_half_open = std::max<uint32_t>(4096, 2 * lo.server_tcp.syn_backlog);
  absl::StatusOr<SynDefenceOptions> syn = ParseSynDefence(flags, syn_defaults);
  if (!syn.ok()) return Fail(syn.status().message());
  syn->ApplyTo(lo.server_tcp);
  absl::StatusOr<TuningOptions> tuning = ParseTuning(flags);
  if (!tuning.ok()) return Fail(tuning.status().message());
  ApplyTuning(*tuning, lo);
  if (absl::Status st = ApplyLoopbackFlags(flags, lo); !st.ok()) return Fail(st.message());
  if (*flood_options) lo.server_gateway = lo.client.addr;  // replies to spoofed sources come back to us
  lo.client_tcp.ephemeral_lo = config->ephemeral.lo;
  lo.client_tcp.ephemeral_hi = config->ephemeral.hi;
  config->dst = lo.server.addr;

  absl::StatusOr<int64_t> pingpong = flags.GetInt("pingpong", 0, 0, 1400);
  if (!pingpong.ok()) return Fail(pingpong.status().message());

  if (config->output.json && *pingpong > 0) {
    return Fail("--json: not with --pingpong (its 'synack pingpong:' line is the result)");
  }
  JsonStdout json_out;
  if (config->output.json && !json_out.Begin()) return Fail("--json: cannot duplicate stdout");
  absl::StatusOr<std::unique_ptr<Loopback>> lb = StartLoopback(kProgram, split, lo, *tuning);
  if (!lb.ok()) return Fail(lb.status().message());
  std::printf("server listeners: %s\n", syn->Describe().c_str());
  InstallStopSignals();
  if (*pingpong > 0) {
    return RunPingPong(**lb, config->dst, config->port, static_cast<uint32_t>(*pingpong), config->duration);
  }
  CpsServer server(config->port, config->ports, config->request != 0, static_cast<uint64_t>(*hold));
  server.set_abortive(config->abortive);
  CpsClient client(*config);
  App* client_app = &client;
  std::optional<HoldFirst> holding;
  if (*hold > 0) {
    holding.emplace(client, *config, static_cast<uint64_t>(*hold), &(*lb)->server());
    client_app = &*holding;
  }
  std::unique_ptr<SynFlood> flood;
  std::optional<WithSynFlood> flooding;
  if (*flood_options) {
    absl::StatusOr<std::unique_ptr<SynFlood>> f =
        MakeFlood(**flood_options, lo.server.addr, config->port, (*lb)->client().mac());
    if (!f.ok()) return Fail(f.status().message());
    flood = std::move(*f);
    flooding.emplace(*client_app, *flood, lo.server.addr);
    client_app = &*flooding;
  }
  // The summary at exit, and on SIGUSR1 while the run goes on (on the main lcore, the client's; the
  // server's figures are read while its lcore runs: see Loopback::SetStatusPrinter).
  Loopback& pair = **lb;
  auto summary = [&](FILE* out, bool running) {
    if (holding && holding->dropped() > 0) {
      std::fprintf(out, "hold: %llu of the held connections closed during the run\n",
                   static_cast<unsigned long long>(holding->dropped()));
    }
    client.PrintSummary(out, pair.client().tcp().now(), running);
    if (flood) PrintFloodSummary(out, *flood, client.elapsed(pair.client().tcp().now()));
    server.PrintSummary(out);
    PrintLoopbackCounters(out, pair);
  };
  pair.SetStatusPrinter([&](FILE* out) {
    std::fprintf(out, "status (SIGUSR1):\n");
    summary(out, true);
  });
  if (absl::Status s = pair.Run(server, *client_app); !s.ok()) return Fail(s.message());
  summary(stdout, false);
  if (config->output.json) {
    json_out.Write(ResultJson(client, Mode::kLoopback, {&pair.client()}, &pair.server(), pair.client().tcp().now()));
  }
  return client.ok() > 0 && client.failed() == 0 ? 0 : 1;
}

}  // namespace synack::app::cps
