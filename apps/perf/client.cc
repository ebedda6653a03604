#include "apps/perf/client.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "apps/common/addr_flags.h"
#include "apps/perf/pattern.h"
#include "apps/perf/perf.h"
#include "apps/perf/server.h"

namespace synack::app::perf {
namespace {

constexpr uint32_t kMaxStreams = 128;
constexpr Duration kConnectTimeout = Duration::Seconds(3);  // the first SYN may wait for ARP
constexpr Duration kCloseTimeout = Duration::Seconds(5);    // FIN exchange after the last byte

}  // namespace

absl::Status PerfClient::Start(Engine& engine) {
  absl::StatusOr<Ipv4Addr> hop = ConnectNextHop(engine, config_.dst);
  if (!hop.ok()) return hop.status();
  next_hop_ = *hop;
  streams_.resize(config_.streams);
  for (uint32_t i = 0; i < config_.streams; ++i) {
    // --bytes is split evenly; the first streams take the remainder.
    streams_[i].quota =
        config_.bytes == 0 ? 0 : config_.bytes / config_.streams + (i < config_.bytes % config_.streams);
  }
  started_at_ = engine.tcp().now();
  intervals_.reserve(static_cast<size_t>(config_.duration.ns() / config_.output.interval.ns()) + 2);
  retransmits_at_tick_ = engine.tcp().tcp_counters().retransmits;
  std::printf("perf client: %s:%u, %u stream%s, %s, zero-copy, pattern byte i = i %% 251\n",
              config_.dst.ToString().c_str(), config_.port, config_.streams, config_.streams == 1 ? "" : "s",
              config_.bytes != 0 ? absl::StrCat(config_.bytes, " bytes (or ", config_.duration.seconds(), " s)").c_str()
                                 : absl::StrCat(config_.duration.seconds(), " s").c_str());
  std::fflush(stdout);
  return absl::OkStatus();
}

void PerfClient::OnEvent(Engine& engine, const Event& e) {
  if (e.user_data == 0 || e.user_data > streams_.size()) return;
  Stream& s = streams_[e.user_data - 1];
  if (!(s.id == e.conn)) return;  // a connection this stream has ended
  TcpLayer& tcp = engine.tcp();
  const Instant now = tcp.now();
  switch (e.type) {
    case EventType::kConnected: {
      s.phase = Phase::kSending;
      const uint16_t room = static_cast<uint16_t>(
          std::min<uint32_t>(Pattern::kMaxChunk, RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM));
      const std::optional<TcpInfo> info = tcp.Info(e.conn);
      // One mbuf per segment: the payload of a full-sized segment, capped by the mbuf's room.
      s.chunk = std::min<uint16_t>(room, info && info->snd_mss > 0 ? info->snd_mss : 1448);
      chunk_ = s.chunk;
      if (connected_++ == 0) {
        t0_ = now;
        end_ = now + config_.duration;
        progress_.Start(now, sent_, config_.output.interval);
        std::printf("connected to %s:%u after %.1f ms (%u-byte mbufs)\n", config_.dst.ToString().c_str(), config_.port,
                    (now - started_at_).seconds() * 1e3, s.chunk);
        std::fflush(stdout);
      }
      if (stopping_) {
        StartClose(tcp, s, now);
      } else {
        Fill(tcp, s);
      }
      break;
    }
    case EventType::kWritable:
      s.blocked = false;
      if (s.phase == Phase::kSending && !stopping_) Fill(tcp, s);
      break;
    case EventType::kReadable:
      tcp.Recv(e.conn);  // the server sends nothing; discard whatever comes
      break;
    case EventType::kPeerClosed:
      tcp.Recv(e.conn);
      if (s.phase == Phase::kClosing) {
        tcp.Close(e.conn);  // the FIN exchange is complete; we hold TIME-WAIT
        End(s, now, std::nullopt);
      } else {
        tcp.Close(e.conn);
        End(s, now, "the server closed first");
      }
      break;
    case EventType::kClosed:
      End(s, now, e.error == TcpError::kNone ? "closed" : ErrorName(e.error));
      break;
    case EventType::kAccepted:
      break;
  }
}

void PerfClient::OnPoll(Engine& engine, Instant now) {
  if (done_) return;
  TcpLayer& tcp = engine.tcp();
  if (!resolved_) resolved_ = engine.Resolved(next_hop_);
  // One connection until the server's MAC is known (the neighbour queue holds only a few packets).
  if (opened_ < streams_.size() && (opened_ == 0 || resolved_) && !stopping_) {
    while (opened_ < streams_.size()) {
      Stream& s = streams_[opened_];
      absl::StatusOr<ConnId> id = tcp.Connect(config_.dst, config_.port, kConnectTimeout);
      ++opened_;
      if (!id.ok()) {
        End(s, now, std::string(id.status().message()));
        continue;
      }
      s.id = *id;
      s.phase = Phase::kConnecting;
      tcp.SetUserData(*id, static_cast<uint64_t>(&s - streams_.data()) + 1);
      if (!resolved_) break;
    }
  }
  if (connected_ > 0 && !stopping_) {
    if (now >= end_ || (config_.bytes != 0 && sent_ >= config_.bytes)) {
      if (progress_.Pending(now)) Report(tcp, now);  // the last (partial) interval: sending ends here
      stopping_ = true;
      close_deadline_ = now + kCloseTimeout;
      send_end_ = now;
      for (Stream& s : streams_) {
        if (s.phase == Phase::kSending) StartClose(tcp, s, now);
      }
    } else {
      for (Stream& s : streams_) {
        if (s.phase == Phase::kSending && !s.blocked) Fill(tcp, s);
      }
    }
  }
  if (connected_ > 0 && progress_.Due(now) && !stopping_) Report(tcp, now);
  if (ended_ == streams_.size()) {
    Finish(now);
  } else if (connected_ == 0 && opened_ == streams_.size() && now - started_at_ > kConnectTimeout * 2) {
    Finish(now);  // nothing connected (the connects report their own timeouts; this is a safety net)
  } else if (stopping_ && now >= close_deadline_) {
    for (Stream& s : streams_) {
      if (s.phase == Phase::kConnecting || s.phase == Phase::kSending || s.phase == Phase::kClosing) {
        tcp.Abort(s.id);
        End(s, now, "close timed out");
      }
    }
    Finish(now);
  }
}

void PerfClient::PrintSummary(FILE* out, TcpLayer& tcp, Instant now) const {
  const Instant end = done_ ? finished_ : now;
  const Duration elapsed = connected_ > 0 ? end - t0_ : Duration();
  std::fprintf(out, "perf: sent %llu bytes in %.2f s: %.2f Gbit/s (%u stream%s, %u-byte mbufs), retransmits %llu%s\n",
               static_cast<unsigned long long>(sent_), elapsed.seconds(), Gbps(sent_, elapsed), config_.streams,
               config_.streams == 1 ? "" : "s", chunk_, static_cast<unsigned long long>(tcp.tcp_counters().retransmits),
               done_ ? "" : " [interrupted]");
  if (config_.streams > 1 || failed_ > 0) {
    for (size_t i = 0; i < streams_.size(); ++i) {
      const Stream& s = streams_[i];
      const Duration d = s.phase == Phase::kDone || s.phase == Phase::kFailed ? s.ended - t0_ : end - t0_;
      std::fprintf(out, "  stream %zu: %llu bytes, %.2f Gbit/s%s%s\n", i + 1, static_cast<unsigned long long>(s.sent),
                   Gbps(s.sent, d), s.phase == Phase::kFailed ? ", failed: " : "",
                   s.phase == Phase::kFailed ? s.why.c_str() : "");
    }
  }
  std::fflush(out);
}

void PerfClient::AddParametersJson(JsonWriter& w) const {
  w.String("server", config_.dst.ToString())
      .Uint("port", config_.port)
      .Uint("streams", config_.streams)
      .Double("duration_s", config_.duration.seconds())
      .Uint("bytes", config_.bytes);
}

void PerfClient::AddResultsJson(JsonWriter& w, TcpLayer& tcp, Instant now) const {
  w.BeginArray("intervals");
  for (const IntervalRecord& i : intervals_) {
    w.BeginObject()
        .Double("start_s", (i.end - i.length).seconds())
        .Double("end_s", i.end.seconds())
        .Double("seconds", i.length.seconds())
        .Uint("bytes", i.bytes)
        .Double("gbit_per_s", Gbps(i.bytes, i.length))
        .Uint("retransmits", i.retransmits)
        .EndObject();
  }
  w.EndArray();
  const Instant end = done_ ? finished_ : now;
  const Duration elapsed = connected_ > 0 ? end - t0_ : Duration();
  w.BeginObject("summary")
      .Uint("bytes", sent_)
      .Double("seconds", elapsed.seconds())
      .Double("gbit_per_s", Gbps(sent_, elapsed))
      .Uint("retransmits", tcp.tcp_counters().retransmits)
      .Uint("chunk_bytes", chunk_)
      .Uint("no_mbufs", no_mbufs_)
      .Uint("failed_streams", failed_)
      .Bool("interrupted", !done_)
      .BeginArray("streams");
  for (const Stream& s : streams_) {
    const Duration d = s.phase == Phase::kDone || s.phase == Phase::kFailed ? s.ended - t0_ : end - t0_;
    w.BeginObject().Uint("bytes", s.sent).Double("gbit_per_s", Gbps(s.sent, d));
    if (s.phase == Phase::kFailed) w.String("failed", s.why);
    w.EndObject();
  }
  w.EndArray().EndObject();
}

void PerfClient::Fill(TcpLayer& tcp, Stream& s) {
  const Pattern& p = ThePattern();
  while (!s.blocked) {
    Mbuf m = std::move(s.pending);
    if (!m) {
      uint64_t n = s.chunk;
      if (s.quota != 0) n = std::min<uint64_t>(n, s.quota - s.sent);
      if (n == 0) return;
      m = tcp.AllocTxMbuf();
      if (!m) {
        ++no_mbufs_;  // the pool is drained by what is in flight; retried next poll
        return;
      }
      std::memcpy(m.Append(static_cast<uint16_t>(n)), p.At(s.sent), n);
    }
    const uint32_t len = m.pkt_len();
    switch (tcp.Send(s.id, std::move(m))) {
      case SendStatus::kOk:
        s.sent += len;
        sent_ += len;
        break;
      case SendStatus::kWouldBlock:
        s.pending = std::move(m);  // left with us: the same bytes go first once there is room
        s.blocked = true;
        return;
      case SendStatus::kNotConnected:
        return;  // the kClosed/kPeerClosed event says why
    }
  }
}

void PerfClient::StartClose(TcpLayer& tcp, Stream& s, Instant now) {
  s.pending.reset();
  tcp.Shutdown(s.id);
  s.phase = Phase::kClosing;
}

void PerfClient::End(Stream& s, Instant now, std::optional<std::string> failure) {
  if (s.phase == Phase::kDone || s.phase == Phase::kFailed) return;
  s.pending.reset();
  s.ended = now;
  s.id = ConnId{};  // later events for the connection are stale
  ++ended_;
  if (failure) {
    s.phase = Phase::kFailed;
    s.why = *failure;
    ++failed_;
    std::printf("stream %zu failed: %s\n", static_cast<size_t>(&s - streams_.data()) + 1, s.why.c_str());
    std::fflush(stdout);
  } else {
    s.phase = Phase::kDone;
  }
}

void PerfClient::Finish(Instant now) {
  done_ = true;
  finished_ = now;
}

void PerfClient::Report(TcpLayer& tcp, Instant now) {
  const PerSecond::Interval last = progress_.Tick(now, sent_);
  const uint64_t retransmits = tcp.tcp_counters().retransmits;
  intervals_.push_back({now - t0_, last.elapsed, last.delta, retransmits - retransmits_at_tick_});
  retransmits_at_tick_ = retransmits;
  std::printf("t=%ss %.2f Gbit/s (total %.1f MB, retransmits %llu)\n",
              ProgressTime(now - t0_, progress_.period()).c_str(), Gbps(last.delta, last.elapsed),
              static_cast<double>(sent_) / 1e6, static_cast<unsigned long long>(tcp.tcp_counters().retransmits));
  std::fflush(stdout);
}

absl::StatusOr<ClientConfig> ParseClient(const cli::Flags& flags, Mode mode) {
  ClientConfig c;
  absl::StatusOr<int64_t> streams = flags.GetInt("streams", 1, 1, kMaxStreams);
  if (!streams.ok()) return streams.status();
  c.streams = static_cast<uint32_t>(*streams);
  absl::StatusOr<Duration> duration = ParseDuration(flags);
  if (!duration.ok()) return duration.status();
  c.duration = *duration;
  absl::StatusOr<int64_t> bytes = flags.GetInt("bytes", 0, 0, int64_t{1} << 50);
  if (!bytes.ok()) return bytes.status();
  c.bytes = static_cast<uint64_t>(*bytes);
  absl::StatusOr<OutputOptions> output = ParseOutput(flags);
  if (!output.ok()) return output.status();
  c.output = *output;
  if (mode == Mode::kClient) {
    absl::StatusOr<Endpoint> server = ParseConnect(flags, kDefaultPort);
    if (!server.ok()) return server.status();
    c.dst = server->addr;
    c.port = server->port;
  }
  return c;
}

JsonWriter ResultJson(const PerfClient& client, Mode mode, TcpLayer& tcp,
                      const std::vector<const Engine*>& client_engines, const Engine* server_engine,
                      const PerfServer* server) {
  JsonWriter w;
  w.BeginObject().BeginObject("start");
  AddStartJson(w, kProgram, mode, client.output());
  client.AddParametersJson(w);
  w.EndObject();
  client.AddResultsJson(w, tcp, tcp.now());
  if (server != nullptr) {
    w.BeginObject("server").Uint("bytes", server->bytes()).Uint("verify_errors", server->verify_errors()).EndObject();
  }
  w.BeginObject("counters");
  AddCountersJson(w, "client", client_engines);
  if (server_engine != nullptr) AddCountersJson(w, "server", {server_engine});
  w.EndObject().EndObject();
  return w;
}

int RunClient(const cli::SplitArgs& split, const cli::Flags& flags) {
  absl::StatusOr<CommonOptions> common = ParseCommon(flags);
  if (!common.ok()) return Fail(common.status().message());
  absl::StatusOr<ClientConfig> config = ParseClient(flags, Mode::kClient);
  if (!config.ok()) return Fail(config.status().message());
  if (common->max_connections < config->streams) {
    return Fail(absl::StrCat("--streams: ", config->streams, " needs --max-connections of at least ", config->streams));
  }
  JsonStdout json_out;
  if (config->output.json && !json_out.Begin()) return Fail("--json: cannot duplicate stdout");
  absl::StatusOr<std::unique_ptr<Stack>> rt = StartStack(kProgram, split, *common, TcpLayerConfig{});
  if (!rt.ok()) return Fail(rt.status().message());
  InstallStopSignals();
  PerfClient client(*config);
  // The summary at exit, and on SIGUSR1 while the run goes on (on the main lcore, the client's).
  Stack& stack = **rt;
  auto summary = [&](FILE* out, const char* counters_title) {
    client.PrintSummary(out, stack.engine().tcp(), stack.engine().tcp().now());
    stack.PrintCounters(out, counters_title);
  };
  stack.SetStatusPrinter([&](FILE* out) {
    std::fprintf(out, "status (SIGUSR1):\n");
    summary(out, "synack-perf: client counters (SIGUSR1):");
  });
  if (absl::Status s = stack.Run(client); !s.ok()) return Fail(s.message());
  summary(stdout, "synack-perf: client counters:");
  if (config->output.json) {
    std::vector<const Engine*> engines;
    for (size_t i = 0; i < stack.engines(); ++i) engines.push_back(&stack.engine(i));
    json_out.Write(ResultJson(client, Mode::kClient, stack.engine().tcp(), engines, nullptr, nullptr));
  }
  return client.ok() ? 0 : 1;
}

}  // namespace synack::app::perf
