#include "apps/cps/pingpong.h"

#include "apps/cps/cps.h"

namespace synack::app::cps {

absl::Status EchoServer::Start(Engine& engine) {
  if (absl::Status s = engine.tcp().Listen(port_); !s.ok()) return s;
  std::printf("listening on %s:%u (echo server for --pingpong)\n", engine.local().addr.ToString().c_str(), port_);
  std::fflush(stdout);
  return absl::OkStatus();
}

void EchoServer::OnEvent(Engine& engine, const Event& e) {
  TcpLayer& tcp = engine.tcp();
  if (e.type == EventType::kAccepted || e.type == EventType::kReadable) {
    if (Mbuf m = tcp.Recv(e.conn)) {
      if (tcp.Send(e.conn, std::move(m)) != SendStatus::kOk) tcp.Abort(e.conn);
    }
  } else if (e.type == EventType::kPeerClosed) {
    tcp.Close(e.conn);
  }
}

absl::Status PingPongClient::Start(Engine& engine) {
  absl::StatusOr<ConnId> id = engine.tcp().Connect(dst_, port_, Duration::Seconds(5));
  if (!id.ok()) return id.status();
  id_ = *id;
  return absl::OkStatus();
}

void PingPongClient::OnEvent(Engine& engine, const Event& e) {
  if (!(e.conn == id_)) return;
  TcpLayer& tcp = engine.tcp();
  const Instant now = tcp.now();
  switch (e.type) {
    case EventType::kConnected:
      start_ = now;
      std::printf("pingpong: %u-byte requests on one connection for %.0f s\n", size_, duration_.seconds());
      std::fflush(stdout);
      SendOne(tcp, now);
      break;
    case EventType::kReadable: {
      uint8_t tmp[2048];
      while (size_t n = tcp.RecvCopy(id_, tmp)) got_ += n;
      if (got_ >= size_) {
        latency_.Record(now - sent_at_);
        got_ -= size_;
        if (now - start_ >= duration_ || StopRequested()) {
          end_ = now;
          tcp.Close(id_);
          done_ = true;
        } else {
          SendOne(tcp, now);
        }
      }
      break;
    }
    case EventType::kClosed:
    case EventType::kPeerClosed:
      if (!done_) error_ = true;
      done_ = true;
      end_ = now;
      break;
    default:
      break;
  }
}

void PingPongClient::PrintSummary(FILE* out) const {
  const double us = 1e-3;
  std::fprintf(out, "synack pingpong: size=%u round_trips=%llu seconds=%.2f p50_us=%.1f p99_us=%.1f p999_us=%.1f\n",
               size_, static_cast<unsigned long long>(latency_.count()), (end_ - start_).seconds(),
               static_cast<double>(latency_.Percentile(0.50).ns()) * us,
               static_cast<double>(latency_.Percentile(0.99).ns()) * us,
               static_cast<double>(latency_.Percentile(0.999).ns()) * us);
}

void PingPongClient::SendOne(TcpLayer& tcp, Instant now) {
  sent_at_ = now;
  if (tcp.SendCopy(id_, ConstBytes(reinterpret_cast<const uint8_t*>(buf_.data()), size_)) != size_) error_ = true;
}

int RunPingPong(Loopback& lb, Ipv4Addr dst, uint16_t port, uint32_t size, Duration duration) {
  EchoServer echo(port);
  PingPongClient pp(dst, port, size, duration);
  if (absl::Status s = lb.Run(echo, pp); !s.ok()) return Fail(s.message());
  pp.PrintSummary(stdout);
  PrintLoopbackCounters(stdout, lb);
  return pp.ok() ? 0 : 1;
}

}  // namespace synack::app::cps
