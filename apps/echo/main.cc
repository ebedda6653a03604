// synack-echo: brings one port up with an IPv4 address, answers ARP and ping, and runs a TCP echo
// server on --port: every byte received is sent back zero-copy (the received mbufs are transmitted).
// One engine on the main lcore; SIGINT/SIGTERM stop it and print its counters.
#include <cstdio>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "apps/common/runtime.h"

namespace synack::app {
namespace {

class EchoServer : public App {
 public:
  explicit EchoServer(uint16_t port) : port_(port) {}

  absl::Status Start(Engine& engine) override {
    if (absl::Status s = engine.tcp().Listen(port_); !s.ok()) return s;
    if (engine.index() != 0) return absl::OkStatus();  // one readiness line, from the main lcore's engine
    std::printf("listening on %s:%u (tcp echo, arp, ping)\n", engine.local().addr.ToString().c_str(), port_);
    std::fflush(stdout);
    return absl::OkStatus();
  }

  void OnEvent(Engine& engine, const Event& e) override {
    TcpLayer& tcp = engine.tcp();
    switch (e.type) {
      case EventType::kAccepted:
      case EventType::kReadable:
      case EventType::kWritable:
        Echo(tcp, e.conn);
        break;
      case EventType::kPeerClosed:
        Echo(tcp, e.conn);
        tcp.Close(e.conn);  // FIN after everything echoed so far
        backlog_.erase(e.conn.index);
        break;
      case EventType::kClosed:
        backlog_.erase(e.conn.index);
        break;
      case EventType::kConnected:
        break;
    }
  }

 private:
  void Echo(TcpLayer& tcp, ConnId id) {
    Mbuf& pending = backlog_[id.index];
    if (pending && tcp.Send(id, std::move(pending)) != SendStatus::kOk) return;
    pending.reset();
    while (Mbuf data = tcp.Recv(id)) {
      if (tcp.Send(id, std::move(data)) != SendStatus::kOk) {
        pending = std::move(data);  // Send leaves it with us unless kOk; retried on kWritable
        return;
      }
    }
  }

  uint16_t port_;
  absl::flat_hash_map<uint32_t, Mbuf> backlog_;  // data the send buffer could not take yet
};

int Main(int argc, char** argv) {
  std::vector<cli::FlagSpec> specs = CommonFlags();
  specs.push_back({"port", true, "TCP port to serve (default 7)"});
  cli::SplitArgs split = cli::Split(argc, argv);
  if (cli::PrintVersionIfAsked(split, "synack-echo")) return 0;
  auto fail = [](absl::string_view msg) {
    std::fprintf(stderr, "synack-echo: %.*s\n", static_cast<int>(msg.size()), msg.data());
    return 2;
  };
  absl::StatusOr<cli::Flags> flags = cli::Flags::Parse(split.app, specs);
  if (!flags.ok()) return fail(flags.status().message());
  if (flags->Has("help")) {
    std::fputs(cli::Usage("synack-echo", "TCP echo server (zero-copy); also answers ARP and ping.", specs).c_str(),
               stdout);
    return 0;
  }
  absl::StatusOr<CommonOptions> common = ParseCommon(*flags);
  if (!common.ok()) return fail(common.status().message());
  absl::StatusOr<int64_t> port = flags->GetInt("port", 7, 1, 65535);
  if (!port.ok()) return fail(port.status().message());

  absl::StatusOr<std::unique_ptr<Stack>> rt = CreateStack("synack-echo", split, *common, TcpLayerConfig{});
  if (!rt.ok()) return fail(rt.status().message());
  std::printf("port: %s\n", (*rt)->port().Describe().c_str());
  std::printf("device: %s\n", (*rt)->port().DescribeDevice().c_str());
  std::printf("engines: %s\n", (*rt)->dispatch().c_str());
  std::printf("listeners: %s\n", common->syn.Describe().c_str());
  InstallStopSignals();
  // One server per engine, each listening on the same port on its own lcore.
  std::vector<std::unique_ptr<EchoServer>> servers;
  std::vector<App*> apps;
  for (size_t i = 0; i < (*rt)->engines(); ++i) {
    servers.push_back(std::make_unique<EchoServer>(static_cast<uint16_t>(*port)));
    apps.push_back(servers.back().get());
  }
  if (absl::Status s = (*rt)->RunAll(apps); !s.ok()) return fail(s.message());
  (*rt)->PrintCounters(stdout, "synack-echo: stopped; counters:");
  return 0;
}

}  // namespace
}  // namespace synack::app

int main(int argc, char** argv) { return synack::app::Main(argc, argv); }
