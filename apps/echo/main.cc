// synack-echo: brings one port up with an IPv4 address and answers ARP and ping on it.
// (The TCP echo service on --port arrives with the TCP issues; the command line is already final.)
// Runs one engine on the main lcore; SIGINT/SIGTERM stop it and print its counters.
#include <csignal>
#include <cstdio>
#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "apps/common/cli.h"
#include "lib/core/engine.h"
#include "lib/dev/eal.h"
#include "lib/dev/port.h"
#include "lib/net/addr.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

int Fail(const std::string& msg) {
  std::fprintf(stderr, "synack-echo: %s\n", msg.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace synack;
  const std::vector<cli::FlagSpec> specs = {
      {"ip", true, "our address with prefix length, e.g. 198.18.0.2/24 (required)"},
      {"gateway", true, "next hop for off-link destinations, e.g. 198.18.0.1"},
      {"port", true, "TCP port to serve (default 7)"},
      {"eth-port", true, "DPDK port id to use (default 0)"},
      {"mbufs", true, "mbufs in the pool (default 8191)"},
      {"hugepages", false, "use mounted hugepages instead of --no-huge"},
      {"help", false, "print this help"},
  };
  cli::SplitArgs split = cli::Split(argc, argv);
  absl::StatusOr<cli::Flags> flags = cli::Flags::Parse(split.app, specs);
  if (!flags.ok()) return Fail(std::string(flags.status().message()));
  if (flags->Has("help")) {
    std::fputs(cli::Usage("synack-echo", "Echo server: answers ARP, ping and (soon) TCP echo on one port.", specs)
                   .c_str(),
               stdout);
    return 0;
  }
  std::optional<std::string> ip_arg = flags->Get("ip");
  if (!ip_arg) return Fail("--ip is required (e.g. --ip 198.18.0.2/24)");
  absl::StatusOr<Ipv4Prefix> local = ParseIpv4Prefix(*ip_arg);
  if (!local.ok()) return Fail(absl::StrCat("--ip: ", local.status().message()));
  std::optional<Ipv4Addr> gateway;
  if (std::optional<std::string> g = flags->Get("gateway")) {
    absl::StatusOr<Ipv4Addr> gw = ParseIpv4Addr(*g);
    if (!gw.ok()) return Fail(absl::StrCat("--gateway: ", gw.status().message()));
    if (!local->Contains(*gw)) {
      return Fail(absl::StrCat("--gateway: ", gw->ToString(), " is not inside ", local->ToString(),
                               " (pick an on-link next hop)"));
    }
    gateway = *gw;
  }
  absl::StatusOr<int64_t> tcp_port = flags->GetInt("port", 7, 1, 65535);
  if (!tcp_port.ok()) return Fail(std::string(tcp_port.status().message()));
  absl::StatusOr<int64_t> eth_port = flags->GetInt("eth-port", 0, 0, RTE_MAX_ETHPORTS - 1);
  if (!eth_port.ok()) return Fail(std::string(eth_port.status().message()));
  absl::StatusOr<int64_t> mbufs = flags->GetInt("mbufs", 8191, 1024, 4 << 20);
  if (!mbufs.ok()) return Fail(std::string(mbufs.status().message()));

  EalConfig eal;
  eal.program_name = "synack-echo";
  eal.user_args = split.eal;
  eal.hugepages = flags->Has("hugepages");
  if (absl::Status s = InitEal(eal); !s.ok()) return Fail(std::string(s.message()));

  absl::StatusOr<rte_mempool*> pool = CreateMbufPool("echo_pool", static_cast<uint32_t>(*mbufs));
  if (!pool.ok()) return Fail(std::string(pool.status().message()));
  PortConfig pc;
  pc.port_id = static_cast<uint16_t>(*eth_port);
  pc.pool = *pool;
  absl::StatusOr<PortInfo> port = ConfigurePort(pc);
  if (!port.ok()) return Fail(std::string(port.status().message()));

  EngineConfig ec;
  ec.port_id = pc.port_id;
  ec.net.local = *local;
  ec.net.gateway = gateway;
  ec.net.mac = port->mac;
  ec.net.tx_ip_cksum_offload = port->tx_ip_cksum;
  {
  Engine engine(ec, *pool);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::printf("listening on %s:%lld (ARP and ICMP echo; TCP not yet) on %s\n", local->addr.ToString().c_str(),
              static_cast<long long>(*tcp_port), port->Describe().c_str());
  std::fflush(stdout);
  engine.Run(g_stop);

  std::printf("synack-echo: stopped; counters:\n");
  engine.counters().ForEach([](std::string_view name, uint64_t v) {
    if (v != 0) std::printf("  %.*s %llu\n", static_cast<int>(name.size()), name.data(), static_cast<unsigned long long>(v));
  });
  std::fflush(stdout);
  }  // the engine (and any frames it still holds) goes before the port and the EAL
  ClosePort(pc.port_id);
  CleanupEal();
  return 0;
}
