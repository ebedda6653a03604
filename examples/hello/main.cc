// synack-hello: the smallest useful Synack server, and the README's API walk-through. Answers every
// connection on --port (default 8080) with "hello from synack\n" and closes it after the peer's first
// bytes arrive (or at once with --greet-first). One instance per engine, each on its own lcore.
// Built in the tree as build/synack-hello, and out of it against an installed Synack with the
// CMakeLists.txt (find_package) or the Makefile (pkg-config) next to this file.
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <synack/synack.h>

namespace synack::app {
namespace {

constexpr char kGreeting[] = "hello from synack\n";

class Hello : public Application {
 public:
  Hello(uint16_t port, bool greet_first) : port_(port), greet_first_(greet_first) {}

  absl::Status Start(Engine& engine) override {
    if (absl::Status s = engine.tcp().Listen(port_); !s.ok()) return s;  // on every engine
    if (engine.index() == 0) {
      std::printf("listening on %s:%u (hello)\n", engine.local().addr.ToString().c_str(), port_);
      std::fflush(stdout);
    }
    return absl::OkStatus();
  }

  void OnEvent(Engine& engine, const Event& e) override {
    TcpLayer& tcp = engine.tcp();
    switch (e.type) {
      case EventType::kAccepted:
        if (greet_first_) Greet(tcp, e.conn);
        break;
      case EventType::kReadable:
        if (Mbuf request = tcp.Recv(e.conn)) {  // zero-copy: the received mbufs themselves
          ++requests_;
          request.reset();  // we own them; dropping the handle frees them
          Greet(tcp, e.conn);
        }
        break;
      case EventType::kPeerClosed:
      case EventType::kClosed:
        if (e.type == EventType::kPeerClosed) tcp.Close(e.conn);
        break;
      default:
        break;
    }
  }

  uint64_t requests() const { return requests_; }

 private:
  // Zero-copy send: fill an mbuf from the stack (headroom reserved for headers) and hand it over.
  void Greet(TcpLayer& tcp, ConnId id) {
    Mbuf m = tcp.AllocTxMbuf();
    if (!m) return tcp.Abort(id);  // pool exhausted: back-pressure, the peer sees a reset
    std::memcpy(m.Append(sizeof(kGreeting) - 1), kGreeting, sizeof(kGreeting) - 1);
    if (tcp.Send(id, std::move(m)) != SendStatus::kOk) return tcp.Abort(id);  // `m` is still ours: freed here
    tcp.Close(id);                                                            // FIN after the greeting
  }

  uint16_t port_;
  bool greet_first_;
  uint64_t requests_ = 0;
};

int Main(int argc, char** argv) {
  std::vector<cli::FlagSpec> specs = CommonFlags();
  specs.push_back({"port", true, "TCP port (default 8080)"});
  specs.push_back({"greet-first", false, "greet as soon as a connection is accepted"});
  cli::SplitArgs split = cli::Split(argc, argv);
  if (cli::PrintVersionIfAsked(split, "synack-hello")) return 0;
  auto fail = [](absl::string_view msg) {
    std::fprintf(stderr, "synack-hello: %.*s\n", static_cast<int>(msg.size()), msg.data());
    return 2;
  };
  absl::StatusOr<cli::Flags> flags = cli::Flags::Parse(split.app, specs);
  if (!flags.ok()) return fail(flags.status().message());
  if (flags->Has("help")) {
    std::fputs(cli::Usage("synack-hello", "Greets every TCP connection, then closes it.", specs).c_str(), stdout);
    return 0;
  }
  absl::StatusOr<CommonOptions> common = ParseCommon(*flags);
  if (!common.ok()) return fail(common.status().message());
  absl::StatusOr<int64_t> port = flags->GetInt("port", 8080, 1, 65535);
  if (!port.ok()) return fail(port.status().message());

  absl::StatusOr<std::unique_ptr<Stack>> rt = CreateStack("synack-hello", split, *common, TcpLayerConfig{});
  if (!rt.ok()) return fail(rt.status().message());
  InstallStopSignals();
  std::vector<std::unique_ptr<Hello>> servers;  // one per engine
  std::vector<Application*> apps;
  for (size_t i = 0; i < (*rt)->engines(); ++i) {
    servers.push_back(std::make_unique<Hello>(static_cast<uint16_t>(*port), flags->Has("greet-first")));
    apps.push_back(servers.back().get());
  }
  if (absl::Status s = (*rt)->RunAll(apps); !s.ok()) return fail(s.message());
  (*rt)->PrintCounters(stdout, "synack-hello: stopped; counters:");
  return 0;
}

}  // namespace
}  // namespace synack::app

int main(int argc, char** argv) { return synack::app::Main(argc, argv); }
