#include "apps/cps/server.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "apps/common/addr_flags.h"
#include "apps/cps/client.h"
#include "apps/cps/cps.h"

namespace synack::app::cps {

absl::Status CpsServer::Start(Engine& engine) {
  for (uint32_t p = port_; p < uint32_t{port_} + ports_; ++p) {
    if (absl::Status s = engine.tcp().Listen(static_cast<uint16_t>(p)); !s.ok()) return s;
  }
  if (engine.index() != 0) return absl::OkStatus();  // one readiness line, from the main lcore's engine
  const std::string addr = engine.local().addr.ToString();
  std::string ports = ports_ > 1 ? absl::StrCat(", ports ", port_, "-", port_ + ports_ - 1) : "";
  std::printf("listening on %s:%u (cps server%s, %s)\n", addr.c_str(), port_, ports.c_str(),
              request_ ? "answers one request per connection, then closes" : "closes every connection at once");
  std::fflush(stdout);
  return absl::OkStatus();
}

void CpsServer::OnEvent(Engine& engine, const Event& e) {
  TcpLayer& tcp = engine.tcp();
  switch (e.type) {
    case EventType::kAccepted:
      if (held_ < hold_) {  // --hold: the first connections stay open, idle
        ++held_;
        break;
      }
      ++accepted_;
      if (!request_) {
        abortive_ ? tcp.Abort(e.conn) : tcp.Close(e.conn);
      } else if (tcp.Readable(e.conn) > 0) {
        Answer(tcp, e.conn);
      }
      break;
    case EventType::kReadable:
      Answer(tcp, e.conn);
      break;
    case EventType::kPeerClosed:
      // Events fetched in the same batch still arrive after our Close(); only a connection we have not
      // closed yet (CLOSE-WAIT) ended without a request.
      if (request_ && tcp.State(e.conn) == TcpState::kCloseWait) {
        if (tcp.Readable(e.conn) > 0) {
          Answer(tcp, e.conn);
        } else {
          ++no_request_;
          tcp.Close(e.conn);
        }
      }
      break;
    case EventType::kClosed:
      if (e.error != TcpError::kNone) ++errors_;
      break;
    case EventType::kConnected:
    case EventType::kWritable:
      break;
  }
}

void CpsServer::OnPoll(Engine& engine, Instant now) {
  if ((++polls_ & 255) != 0) return;
  const TcpLayer& tcp = engine.tcp();
  peak_half_open_ = std::max<uint64_t>(peak_half_open_, tcp.half_open());
  peak_connections_ = std::max<uint64_t>(peak_connections_, tcp.connections());
  peak_time_wait_ = std::max<uint64_t>(peak_time_wait_, tcp.time_wait_entries());
  peak_mbufs_ = std::max<uint64_t>(peak_mbufs_, rte_mempool_in_use_count(engine.pool()));
}

void CpsServer::PrintSummary(FILE* out) const {
  std::fprintf(
      out,
      "cps server state: peak half-open %llu, peak connections %llu, peak TIME-WAIT %llu, peak mbufs in use %llu\n",
      static_cast<unsigned long long>(peak_half_open_), static_cast<unsigned long long>(peak_connections_),
      static_cast<unsigned long long>(peak_time_wait_), static_cast<unsigned long long>(peak_mbufs_));
  std::fprintf(out, "cps server: accepted %llu", static_cast<unsigned long long>(accepted_));
  if (request_) std::fprintf(out, ", answered %llu", static_cast<unsigned long long>(answered_));
  if (request_) std::fprintf(out, ", closed without a request %llu", static_cast<unsigned long long>(no_request_));
  std::fprintf(out, ", reset/timed out %llu\n", static_cast<unsigned long long>(errors_));
}

void CpsServer::Answer(TcpLayer& tcp, ConnId id) {
  Mbuf m = tcp.Recv(id);
  if (!m) return;
  if (tcp.Send(id, std::move(m)) != SendStatus::kOk) {
    ++errors_;
    tcp.Abort(id);
    return;
  }
  ++answered_;
  tcp.Close(id);
}

int RunServer(const cli::SplitArgs& split, const cli::Flags& flags) {
  absl::StatusOr<CommonOptions> common = ParseCommon(flags);
  if (!common.ok()) return Fail(common.status().message());
  absl::StatusOr<PortRange> ports = GetPortRange(flags, "port", {5001, 5001});
  if (!ports.ok()) return Fail(ports.status().message());
  absl::StatusOr<bool> abortive = ParseCloseMode(flags);
  if (!abortive.ok()) return Fail(abortive.status().message());
  // Connections live for a handshake each: a big table, and a compact TIME-WAIT entry per 4-tuple a client
  // can use (the server closes at accept, often before the client's FIN arrives, and then holds the
  // TIME-WAIT): 64,512 per port of the range, up to 4 Mi entries of 64 B. A full store would end its
  // oldest entries early (tcp.time_wait_evicted).
  if (!flags.Has("max-connections")) common->max_connections = 65536;
  if (!flags.Has("max-time-wait")) {
    const uint64_t tuples = uint64_t{ports->size()} * 64512;
    common->max_time_wait =
        static_cast<uint32_t>(std::max<uint64_t>(common->max_connections, std::min<uint64_t>(tuples, 4u << 20)));
  }
  absl::StatusOr<std::unique_ptr<Stack>> rt = StartStack(kProgram, split, *common, TcpLayerConfig{});
  if (!rt.ok()) return Fail(rt.status().message());
  std::printf("engines: %s\n", (*rt)->dispatch().c_str());
  std::printf("listeners: %s\n", common->syn.Describe().c_str());
  InstallStopSignals();
  // One server per engine, each listening on its own lcore.
  std::vector<std::unique_ptr<CpsServer>> servers;
  std::vector<App*> apps;
  for (size_t i = 0; i < (*rt)->engines(); ++i) {
    servers.push_back(
        std::make_unique<CpsServer>(ports->lo, static_cast<uint16_t>(ports->size()), flags.Has("request")));
    servers.back()->set_abortive(*abortive);
    apps.push_back(servers.back().get());
  }
  // SIGUSR1: the same summary as at exit while the servers go on (the other engines' servers and counters
  // read while they run: see Stack::SetStatusPrinter).
  (*rt)->SetStatusPrinter([&](FILE* out) {
    std::fprintf(out, "status (SIGUSR1):\n");
    for (const auto& server : servers) server->PrintSummary(out);
    (*rt)->PrintCounters(out, "synack-cps: counters (SIGUSR1):");
  });
  if (absl::Status s = (*rt)->RunAll(apps); !s.ok()) return Fail(s.message());
  for (const auto& server : servers) server->PrintSummary(stdout);
  (*rt)->PrintCounters(stdout, "synack-cps: stopped; counters:");
  return 0;
}

}  // namespace synack::app::cps
