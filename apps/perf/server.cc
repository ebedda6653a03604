#include "apps/perf/server.h"

#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "apps/common/report.h"
#include "apps/perf/pattern.h"
#include "apps/perf/perf.h"

namespace synack::app::perf {
namespace {

std::string FlowName(TcpLayer& tcp, ConnId id) {
  std::optional<FlowKey> k = tcp.Flow(id);
  return k ? absl::StrCat(k->remote.ToString(), ":", k->remote_port) : "?";
}

}  // namespace

absl::Status PerfServer::Start(Engine& engine) {
  if (absl::Status s = engine.tcp().Listen(port_); !s.ok()) return s;
  if (live_) {
    std::printf("listening on %s:%u (perf server: reads and discards%s)\n", engine.local().addr.ToString().c_str(),
                port_, verify_ ? ", checks byte i == i % 251" : "");
    std::fflush(stdout);
  }
  return absl::OkStatus();
}

void PerfServer::OnEvent(Engine& engine, const Event& e) {
  TcpLayer& tcp = engine.tcp();
  const Instant now = tcp.now();
  if (e.conn.index >= conns_.size()) return;
  Conn& c = conns_[e.conn.index];
  if (e.type == EventType::kAccepted) {
    c = Conn{};
    c.id = e.conn;
    c.live = true;
    c.peer = FlowName(tcp, e.conn);
    c.accepted = now;
    ++active_;
    Drain(tcp, c, now);
    return;
  }
  if (!c.live || !(c.id == e.conn)) return;
  switch (e.type) {
    case EventType::kReadable:
      Drain(tcp, c, now);
      break;
    case EventType::kPeerClosed:
      Drain(tcp, c, now);
      Finish(c, now, TcpError::kNone);
      tcp.Close(e.conn);  // our FIN answers the client's
      break;
    case EventType::kClosed:
      Finish(c, now, e.error);
      break;
    case EventType::kAccepted:
    case EventType::kConnected:
    case EventType::kWritable:
      break;
  }
}

void PerfServer::OnPoll(Engine& engine, Instant now) {
  if (!live_ || now < next_report_) return;
  if (bytes_ != bytes_at_report_) {
    if (!reporting_) {
      reporting_ = true;
      report_start_ = last_report_;
    }
    std::printf("t=%llds %.2f Gbit/s (connections %u)\n", WholeSeconds(now - report_start_),
                Gbps(bytes_ - bytes_at_report_, now - last_report_), active_);
    std::fflush(stdout);
  } else {
    reporting_ = false;  // idle: the next burst counts its seconds from 1 again
  }
  bytes_at_report_ = bytes_;
  last_report_ = now;
  next_report_ = now + Duration::Seconds(1);
}

void PerfServer::CloseOut(Instant now) {
  for (Conn& c : conns_) {
    if (c.live) Finish(c, now, TcpError::kNone, /*open=*/true);
  }
}

void PerfServer::PrintSummaries(FILE* out) const {
  for (const ConnSummary& s : finished_) PrintSummary(out, s);
}

void PerfServer::PrintTotals(FILE* out) const {
  std::fprintf(out, "perf server: %zu connections, %llu bytes received, ", finished_.size(),
               static_cast<unsigned long long>(bytes_));
  if (verify_) {
    std::fprintf(out, "verify errors %llu\n", static_cast<unsigned long long>(verify_errors_));
  } else {
    std::fprintf(out, "not verified\n");
  }
  std::fflush(out);
}

void PerfServer::Drain(TcpLayer& tcp, Conn& c, Instant now) {
  Mbuf m = tcp.Recv(c.id);
  if (!m) return;
  if (c.bytes == 0) c.first_byte = now;
  c.last_byte = now;
  const uint32_t len = m.pkt_len();
  if (verify_) {
    uint64_t offset = c.bytes;
    for (const rte_mbuf* s = m.get(); s != nullptr; s = s->next) {
      const uint64_t bad = ThePattern().Mismatches(rte_pktmbuf_mtod(s, const uint8_t*), s->data_len, offset);
      c.verify_errors += bad;
      verify_errors_ += bad;
      offset += s->data_len;
    }
  }
  c.bytes += len;
  bytes_ += len;
  // `m` (the whole received chain) is freed here.
}

void PerfServer::Finish(Conn& c, Instant now, TcpError error, bool open) {
  ConnSummary s;
  s.peer = c.peer;
  s.bytes = c.bytes;
  s.elapsed = c.bytes == 0 ? Duration() : now - c.first_byte;
  s.verify_errors = c.verify_errors;
  s.error = error;
  s.open = open;
  c.live = false;
  --active_;
  if (live_) PrintSummary(stdout, s);
  finished_.push_back(std::move(s));  // control path: once per connection
}

void PerfServer::PrintSummary(FILE* out, const ConnSummary& s) const {
  std::fprintf(out, "perf server: %s received %llu bytes in %.2f s: %.2f Gbit/s, %s%s\n", s.peer.c_str(),
               static_cast<unsigned long long>(s.bytes), s.elapsed.seconds(), Gbps(s.bytes, s.elapsed),
               verify_ ? absl::StrCat("verify errors ", s.verify_errors).c_str() : "not verified",
               s.open                       ? " [still open]"
               : s.error == TcpError::kNone ? ""
                                            : absl::StrCat(" [", ErrorName(s.error), "]").c_str());
  std::fflush(out);
}

int RunServer(const cli::SplitArgs& split, const cli::Flags& flags) {
  absl::StatusOr<CommonOptions> common = ParseCommon(flags);
  if (!common.ok()) return Fail(common.status().message());
  absl::StatusOr<int64_t> port = flags.GetInt("port", kDefaultPort, 1, 65535);
  if (!port.ok()) return Fail(port.status().message());
  absl::StatusOr<std::unique_ptr<Stack>> rt = StartStack(kProgram, split, *common, TcpLayerConfig{});
  if (!rt.ok()) return Fail(rt.status().message());
  InstallStopSignals();
  PerfServer server(static_cast<uint16_t>(*port), flags.Has("verify"), /*live=*/true, common->max_connections);
  (*rt)->SetStatusPrinter([&](FILE* out) {  // SIGUSR1, on the main lcore (the server's)
    std::fprintf(out, "status (SIGUSR1):\n");
    server.PrintTotals(out);
    (*rt)->PrintCounters(out, "synack-perf: counters (SIGUSR1):");
  });
  if (absl::Status s = (*rt)->Run(server); !s.ok()) return Fail(s.message());
  server.CloseOut((*rt)->engine().tcp().now());
  server.PrintTotals(stdout);
  (*rt)->PrintCounters(stdout, "synack-perf: stopped; counters:");
  return server.verify_errors() == 0 ? 0 : 1;
}

}  // namespace synack::app::perf
