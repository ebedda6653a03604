// synack-echo: brings one port up with an IPv4 address, answers ARP and ping, and runs a TCP echo
// server on --port: every byte received is sent back, zero-copy (the received mbufs are transmitted).
// Runs one engine on the main lcore; SIGINT/SIGTERM stop it and print its counters.
#include <csignal>
#include <cstdio>
#include <atomic>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "lib/core/clock.h"
#include "apps/common/cli.h"
#include "lib/core/engine.h"
#include "lib/dev/eal.h"
#include "lib/dev/port.h"
#include "lib/net/addr.h"
#include "lib/tcp/isn.h"

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
      {"mbufs", true, "mbufs in the pool (default 16383)"},
      {"max-connections", true, "connection table size (default 4096)"},
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
  absl::StatusOr<int64_t> mbufs = flags->GetInt("mbufs", 16383, 1024, 4 << 20);
  if (!mbufs.ok()) return Fail(std::string(mbufs.status().message()));
  absl::StatusOr<int64_t> max_conns = flags->GetInt("max-connections", 4096, 1, 1 << 22);
  if (!max_conns.ok()) return Fail(std::string(max_conns.status().message()));

  EalConfig eal;
  eal.program_name = "synack-echo";
  eal.user_args = split.eal;
  eal.hugepages = flags->Has("hugepages");
  if (absl::Status s = InitEal(eal); !s.ok()) return Fail(std::string(s.message()));

  absl::StatusOr<rte_mempool*> pool = CreateMbufPool("echo_pool", static_cast<uint32_t>(*mbufs));
  if (!pool.ok()) return Fail(std::string(pool.status().message()));
  absl::StatusOr<rte_mempool*> indirect = CreateIndirectPool("echo_indirect", static_cast<uint32_t>(*mbufs));
  if (!indirect.ok()) return Fail(std::string(indirect.status().message()));
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
  ec.tcp.max_connections = static_cast<uint32_t>(*max_conns);
  ec.tcp.max_time_wait = static_cast<uint32_t>(*max_conns);
  ec.tcp.isn_key = RandomKey();
  {
  Engine engine(ec, *pool, *indirect);
  TcpLayer& tcp = engine.tcp();
  if (absl::Status s = tcp.Listen(static_cast<uint16_t>(*tcp_port)); !s.ok()) return Fail(std::string(s.message()));
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::printf("listening on %s:%lld (tcp echo, arp, ping) on %s\n", local->addr.ToString().c_str(),
              static_cast<long long>(*tcp_port), port->Describe().c_str());
  std::fflush(stdout);

  // Data the send buffer could not take yet, per connection (retried on kWritable).
  absl::flat_hash_map<uint32_t, Mbuf> backlog;
  auto echo = [&](ConnId id) {
    Mbuf& pending = backlog[id.index];
    if (pending && tcp.Send(id, std::move(pending)) != SendStatus::kOk) return;
    pending.reset();
    while (Mbuf data = tcp.Recv(id)) {
      if (tcp.Send(id, std::move(data)) != SendStatus::kOk) {
        pending = std::move(data);  // kept: Send leaves it with us unless kOk
        return;
      }
    }
  };
  TscClock clock;
  engine.Start(clock.Now());
  Event events[64];
  while (!g_stop.load(std::memory_order_relaxed)) {
    engine.PollOnce(clock.Now());
    size_t n = tcp.PollEvents(events);
    for (size_t i = 0; i < n; ++i) {
      const Event& e = events[i];
      switch (e.type) {
        case EventType::kAccepted:
        case EventType::kReadable:
        case EventType::kWritable:
          echo(e.conn);
          break;
        case EventType::kPeerClosed:
          echo(e.conn);
          tcp.Close(e.conn);  // FIN after everything echoed so far
          backlog.erase(e.conn.index);
          break;
        case EventType::kClosed:
          backlog.erase(e.conn.index);
          break;
        case EventType::kConnected:
          break;
      }
    }
  }

  std::printf("synack-echo: stopped; counters:\n");
  auto print = [](std::string_view name, uint64_t v) {
    if (v != 0) std::printf("  %.*s %llu\n", static_cast<int>(name.size()), name.data(), static_cast<unsigned long long>(v));
  };
  engine.counters().ForEach(print);
  tcp.counters().ForEach([&](std::string_view name, uint64_t v) { print(std::string("tcp.").append(name), v); });
  std::fflush(stdout);
  }  // the engine (and any frames it still holds) goes before the port and the EAL
  ClosePort(pc.port_id);
  CleanupEal();
  return 0;
}
