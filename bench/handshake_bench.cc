// The full per-connection cost of the stack, without a device: two in-process stacks (NetStack +
// TcpLayer each, with their own mempools, as an engine has) whose outboxes are shuttled straight into
// each other's Input. One iteration is a whole connection: Connect -> SYN, SYN-ACK, ACK -> accept ->
// server Close -> FIN, ACK -> client Close -> FIN, ACK -> the client's TIME-WAIT entry expiring — every
// frame built, checksummed, parsed and freed, tables and timers updated, events delivered. Variants add
// one 64-byte request and response (the client sends, the server echoes and closes).
//
// Time is simulated (1 ms per connection; MSL 1 ms so each TIME-WAIT entry expires while the run goes
// on), so only CPU work is timed. EAL starts in main() with the project's no-setup defaults and no
// devices. Single-threaded: both stacks run on the benchmark thread.
#include <cstdio>
#include <memory>
#include <optional>

#include <benchmark/benchmark.h>

#include "lib/core/tcp_layer.h"
#include "lib/dev/eal.h"
#include "lib/dev/port.h"
#include "lib/net/net_stack.h"

namespace synack {
namespace {

rte_mempool* g_pools[4];

struct Host {
  Host(Ipv4Addr ip, MacAddr mac, rte_mempool* pool, rte_mempool* indirect) {
    NetConfig nc;
    nc.local = Ipv4Prefix{ip, 24};
    nc.mac = mac;
    nc.outbox_capacity = 256;
    net.emplace(nc, pool);
    TcpLayerConfig tc;
    tc.max_connections = 1024;
    tc.max_time_wait = 4096;
    tc.tcp.msl = Duration::Microseconds(500);  // TIME-WAIT (2 MSL) = 1 ms of simulated time
    tc.isn_key.fill(static_cast<uint8_t>(ip.v));
    tcp = std::make_unique<TcpLayer>(tc, *net, pool, indirect);
  }
  std::optional<NetStack> net;
  std::unique_ptr<TcpLayer> tcp;
};

class Pair {
 public:
  Pair()
      : client_(Ipv4Addr::Of(198, 18, 0, 1), MacAddr{{2, 0, 0, 0, 0, 1}}, g_pools[0], g_pools[1]),
        server_(Ipv4Addr::Of(198, 18, 0, 2), MacAddr{{2, 0, 0, 0, 0, 2}}, g_pools[2], g_pools[3]) {
    client_.net->Start(now_);
    server_.net->Start(now_);
    if (!server_.tcp->Listen(80).ok()) std::abort();
    Shuttle();
  }

  // Moves every queued frame to the other host until both outboxes are empty.
  void Shuttle() {
    for (bool moved = true; moved;) {
      moved = false;
      while (Mbuf m = client_.net->outbox().PopFront()) {
        server_.tcp->Input(now_, server_.net->Input(now_, std::move(m)));
        moved = true;
      }
      while (Mbuf m = server_.net->outbox().PopFront()) {
        client_.tcp->Input(now_, client_.net->Input(now_, std::move(m)));
        moved = true;
      }
    }
  }

  // One whole connection; false if anything went wrong.
  bool OneConnection(uint32_t request) {
    now_ = now_ + Duration::Milliseconds(1);
    client_.tcp->Poll(now_);
    server_.tcp->Poll(now_);
    absl::StatusOr<ConnId> id = client_.tcp->Connect(Ipv4Addr::Of(198, 18, 0, 2), 80);
    if (!id.ok()) return false;
    Shuttle();
    Event ev[8];
    bool accepted = false, connected = false, closed = false;
    // The handshake is done: the client sends its request (if any), the server answers and closes.
    for (size_t n = client_.tcp->PollEvents(ev), i = 0; i < n; ++i) connected |= ev[i].type == EventType::kConnected;
    if (!connected) return false;
    if (request > 0) {
      uint8_t buf[1460] = {};
      client_.tcp->SendCopy(*id, ConstBytes(buf, request));
      Shuttle();
    }
    for (size_t n = server_.tcp->PollEvents(ev), i = 0; i < n; ++i) {
      if (ev[i].type != EventType::kAccepted && ev[i].type != EventType::kReadable) continue;
      accepted = true;
      if (Mbuf m = server_.tcp->Recv(ev[i].conn)) server_.tcp->Send(ev[i].conn, std::move(m));
      server_.tcp->Close(ev[i].conn);
    }
    if (!accepted) return false;
    Shuttle();
    uint8_t buf[1460];
    client_.tcp->RecvCopy(*id, buf);
    client_.tcp->Close(*id);
    Shuttle();
    for (size_t n = client_.tcp->PollEvents(ev), i = 0; i < n; ++i) closed |= ev[i].type == EventType::kPeerClosed;
    server_.tcp->PollEvents(ev);
    (void)closed;
    return client_.tcp->connections() == 0 && server_.tcp->connections() == 0;
  }

  const TcpLayer& client() const { return *client_.tcp; }

 private:
  Instant now_ = Instant() + Duration::Seconds(1);
  Host client_;
  Host server_;
};

void BM_HandshakeAndTeardown(benchmark::State& state) {
  Pair pair;
  const uint32_t request = static_cast<uint32_t>(state.range(0));
  uint64_t failures = 0;
  for (auto _ : state) {
    if (!pair.OneConnection(request)) ++failures;
  }
  state.counters["failures"] = static_cast<double>(failures);
  state.counters["conns_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["frames_per_conn"] = request == 0 ? 7 : 9;
  if (failures != 0) state.SkipWithError("connections failed");
}
BENCHMARK(BM_HandshakeAndTeardown)->ArgName("request_bytes")->Arg(0)->Arg(64);

}  // namespace
}  // namespace synack

int main(int argc, char** argv) {
  synack::EalConfig eal;
  eal.program_name = "synack_handshake_bench";
  eal.user_args = {"--no-pci", "-l", "0"};
  if (absl::Status s = synack::InitEal(eal); !s.ok()) {
    std::fprintf(stderr, "synack_handshake_bench: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  const char* names[4] = {"hs_client", "hs_client_ind", "hs_server", "hs_server_ind"};
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<rte_mempool*> p =
        (i % 2 == 0) ? synack::CreateMbufPool(names[i], 4095) : synack::CreateIndirectPool(names[i], 4095);
    if (!p.ok()) {
      std::fprintf(stderr, "synack_handshake_bench: %s\n", std::string(p.status().message()).c_str());
      return 2;
    }
    synack::g_pools[i] = *p;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  synack::CleanupEal();
  return 0;
}
