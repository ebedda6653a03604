#include "apps/common/runtime.h"

#include <csignal>
#include <atomic>

#include "absl/strings/str_cat.h"
#include "lib/core/clock.h"
#include "lib/dev/eal.h"
#include "lib/tcp/isn.h"

namespace synack::app {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

}  // namespace

void InstallStopSignals() {
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
}

bool StopRequested() { return g_stop.load(std::memory_order_relaxed); }

std::vector<cli::FlagSpec> CommonFlags() {
  return {
      {"ip", true, "our address with prefix length, e.g. 198.18.0.2/24 (required)"},
      {"gateway", true, "next hop for off-link destinations, e.g. 198.18.0.1"},
      {"eth-port", true, "DPDK port id to use (default 0)"},
      {"mbufs", true, "mbufs in the pool (default 16383)"},
      {"max-connections", true, "connection table size (default 4096)"},
      {"hugepages", false, "use mounted hugepages instead of --no-huge"},
      {"help", false, "print this help"},
  };
}

absl::StatusOr<CommonOptions> ParseCommon(const cli::Flags& flags) {
  CommonOptions o;
  std::optional<std::string> ip = flags.Get("ip");
  if (!ip) return absl::InvalidArgumentError("--ip is required (e.g. --ip 198.18.0.2/24)");
  absl::StatusOr<Ipv4Prefix> local = ParseIpv4Prefix(*ip);
  if (!local.ok()) return absl::InvalidArgumentError(absl::StrCat("--ip: ", local.status().message()));
  o.local = *local;
  if (std::optional<std::string> g = flags.Get("gateway")) {
    absl::StatusOr<Ipv4Addr> gw = ParseIpv4Addr(*g);
    if (!gw.ok()) return absl::InvalidArgumentError(absl::StrCat("--gateway: ", gw.status().message()));
    if (!o.local.Contains(*gw)) {
      return absl::InvalidArgumentError(absl::StrCat("--gateway: ", gw->ToString(), " is not inside ",
                                                     o.local.ToString(), " (pick an on-link next hop)"));
    }
    o.gateway = *gw;
  }
  absl::StatusOr<int64_t> eth_port = flags.GetInt("eth-port", 0, 0, RTE_MAX_ETHPORTS - 1);
  if (!eth_port.ok()) return eth_port.status();
  o.eth_port = static_cast<uint16_t>(*eth_port);
  absl::StatusOr<int64_t> mbufs = flags.GetInt("mbufs", 16383, 1024, 16 << 20);
  if (!mbufs.ok()) return mbufs.status();
  o.mbufs = static_cast<uint32_t>(*mbufs);
  absl::StatusOr<int64_t> conns = flags.GetInt("max-connections", 4096, 1, 1 << 24);
  if (!conns.ok()) return conns.status();
  o.max_connections = static_cast<uint32_t>(*conns);
  o.hugepages = flags.Has("hugepages");
  return o;
}

absl::StatusOr<std::unique_ptr<Runtime>> Runtime::Create(const std::string& program, const cli::SplitArgs& args,
                                                         const CommonOptions& options, const TcpLayerConfig& tcp) {
  EalConfig eal;
  eal.program_name = program;
  eal.user_args = args.eal;
  eal.hugepages = options.hugepages;
  if (absl::Status s = InitEal(eal); !s.ok()) return s;
  absl::StatusOr<rte_mempool*> pool = CreateMbufPool("app_pool", options.mbufs);
  if (!pool.ok()) return pool.status();
  absl::StatusOr<rte_mempool*> indirect = CreateIndirectPool("app_indirect", options.mbufs);
  if (!indirect.ok()) return indirect.status();
  PortConfig pc;
  pc.port_id = options.eth_port;
  pc.pool = *pool;
  absl::StatusOr<PortInfo> port = ConfigurePort(pc);
  if (!port.ok()) return port.status();

  std::unique_ptr<Runtime> rt(new Runtime());
  rt->port_ = *port;
  EngineConfig ec;
  ec.port_id = pc.port_id;
  ec.net.local = options.local;
  ec.net.gateway = options.gateway;
  ec.net.mac = port->mac;
  ec.net.tx_ip_cksum_offload = port->tx_ip_cksum;
  ec.tcp = tcp;
  ec.tcp.tx_tcp_cksum_offload = port->tx_tcp_cksum;
  ec.tcp.max_connections = options.max_connections;
  ec.tcp.max_time_wait = options.max_connections;
  ec.tcp.isn_key = RandomKey();
  rt->engine_ = std::make_unique<Engine>(ec, *pool, *indirect);
  return rt;
}

Runtime::~Runtime() {
  const uint16_t port = port_.port_id;
  engine_.reset();  // frees every frame the engine still holds before the port and the EAL go
  ClosePort(port);
  CleanupEal();
}

absl::Status Runtime::Run(App& app) {
  Engine& engine = *engine_;
  TscClock clock;
  engine.Start(clock.Now());
  if (absl::Status s = app.Start(engine); !s.ok()) return s;
  Event events[64];
  while (!StopRequested() && !app.Done()) {
    const Instant now = clock.Now();
    engine.PollOnce(now);
    for (size_t n; (n = engine.tcp().PollEvents(events)) > 0;) {
      for (size_t i = 0; i < n; ++i) app.OnEvent(engine, events[i]);
    }
    app.OnPoll(engine, now);
  }
  // Give queued frames (final ACKs, FINs) a chance to leave.
  for (int i = 0; i < 100; ++i) engine.PollOnce(clock.Now());
  return absl::OkStatus();
}

void Runtime::PrintCounters(FILE* out, const std::string& title) const {
  std::fprintf(out, "%s\n", title.c_str());
  auto print = [out](std::string_view prefix, std::string_view name, uint64_t v) {
    if (v != 0) {
      std::fprintf(out, "  %.*s%.*s %llu\n", static_cast<int>(prefix.size()), prefix.data(),
                   static_cast<int>(name.size()), name.data(), static_cast<unsigned long long>(v));
    }
  };
  engine_->counters().ForEach([&](std::string_view n, uint64_t v) { print("", n, v); });
  engine_->tcp().counters().ForEach([&](std::string_view n, uint64_t v) { print("tcp.", n, v); });
  const TcpCounters& tc = engine_->tcp().tcp_counters();
  print("tcp.", "segments_in", tc.segments_in);
  print("tcp.", "segments_out", tc.segments_out);
  print("tcp.", "retransmits", tc.retransmits);
  print("tcp.", "challenge_acks", tc.challenge_acks);
  print("tcp.", "out_of_order_dropped", tc.out_of_order_dropped);
  print("tcp.", "timeouts", tc.timeouts);
  std::fflush(out);
}

}  // namespace synack::app
