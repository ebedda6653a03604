// synack-perf: the bulk-throughput tool (like iperf), zero-copy on both sides. Three modes:
//   --server    accepts connections and reads everything (Recv hands over the received mbufs, which are
//               counted, optionally checked against the pattern, and freed); prints Gbit/s per second while
//               data flows and one summary line per connection when the peer closes (then closes too);
//   --client    opens N connections and sends as fast as the send buffers take it: each mbuf comes from
//               AllocTxMbuf, is filled once with the stream's pattern and handed to Send (the stack
//               transmits that very mbuf); prints Gbit/s per second and a summary, closes first and waits
//               (bounded) for the server's FIN;
//   --loopback  both in one process over an in-memory net_ring port pair (no set-up at all).
// The client always fills byte i of every stream with i % 251, so `--verify` on the server can check
// integrity. Every engine runs on one lcore with its app (apps/common/runtime.h, apps/common/loopback.h).
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "apps/common/modes.h"
#include "apps/common/runtime.h"

namespace synack::app {
namespace {

constexpr char kProgram[] = "synack-perf";
constexpr uint32_t kMaxStreams = 128;
constexpr uint16_t kDefaultPort = 5201;
constexpr Duration kConnectTimeout = Duration::Seconds(3);  // the first SYN may wait for ARP
constexpr Duration kCloseTimeout = Duration::Seconds(5);    // FIN exchange after the last byte

// The stream pattern: byte i of every stream is i % kPeriod (a prime, so it never lines up with segment
// or mbuf sizes). A table of kPeriod + kMaxChunk bytes lets any piece be filled or checked with one
// memcpy/memcmp starting at offset % kPeriod.
class Pattern {
 public:
  static constexpr uint32_t kPeriod = 251;
  static constexpr uint32_t kMaxChunk = 4096;

  Pattern() {
    for (size_t i = 0; i < bytes_.size(); ++i) bytes_[i] = static_cast<uint8_t>(i % kPeriod);
  }
  // The kMaxChunk bytes from stream offset `offset` on.
  const uint8_t* At(uint64_t offset) const { return bytes_.data() + offset % kPeriod; }
  // Bytes of `data` that differ from the pattern at stream offset `offset`.
  uint64_t Mismatches(const uint8_t* data, size_t len, uint64_t offset) const {
    uint64_t bad = 0;
    while (len > 0) {
      const size_t n = std::min<size_t>(len, kMaxChunk);
      const uint8_t* want = At(offset);
      if (std::memcmp(data, want, n) != 0) {
        for (size_t i = 0; i < n; ++i) bad += data[i] != want[i];
      }
      data += n;
      len -= n;
      offset += n;
    }
    return bad;
  }

 private:
  std::array<uint8_t, kPeriod + kMaxChunk> bytes_{};
};

const Pattern& ThePattern() {
  static const Pattern p;
  return p;
}

double Gbps(uint64_t bytes, Duration d) {
  const double secs = d.seconds();
  return secs <= 0 ? 0.0 : static_cast<double>(bytes) * 8.0 / secs / 1e9;
}

std::string FlowName(TcpLayer& tcp, ConnId id) {
  std::optional<FlowKey> k = tcp.Flow(id);
  return k ? absl::StrCat(k->remote.ToString(), ":", k->remote_port) : "?";
}

// ---------------------------------------------------------------------------------------------------
// Server

struct ConnSummary {
  std::string peer;
  uint64_t bytes = 0;
  Duration elapsed;  // first byte to the peer's FIN (or the end)
  uint64_t verify_errors = 0;
  TcpError error = TcpError::kNone;
  bool open = false;  // still open when the tool stopped (SIGINT)
};

class PerfServer : public App {
 public:
  // `live`: print progress and per-connection lines as they happen (else only collect them).
  PerfServer(uint16_t port, bool verify, bool live, uint32_t max_connections)
      : port_(port), verify_(verify), live_(live), conns_(max_connections) {}

  absl::Status Start(Engine& engine) override {
    if (absl::Status s = engine.tcp().Listen(port_); !s.ok()) return s;
    if (live_) {
      std::printf("listening on %s:%u (perf server: reads and discards%s)\n",
                  engine.local().addr.ToString().c_str(), port_,
                  verify_ ? ", checks byte i == i % 251" : "");
      std::fflush(stdout);
    }
    return absl::OkStatus();
  }

  void OnEvent(Engine& engine, const Event& e) override {
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

  void OnPoll(Engine& engine, Instant now) override {
    if (!live_ || now < next_report_) return;
    if (bytes_ != bytes_at_report_) {
      if (!reporting_) {
        reporting_ = true;
        report_start_ = last_report_;
      }
      std::printf("t=%llds %.2f Gbit/s (connections %u)\n",
                  static_cast<long long>((now - report_start_).ns() / 1000000000 ),
                  Gbps(bytes_ - bytes_at_report_, now - last_report_), active_);
      std::fflush(stdout);
    } else {
      reporting_ = false;  // idle: the next burst counts its seconds from 1 again
    }
    bytes_at_report_ = bytes_;
    last_report_ = now;
    next_report_ = now + Duration::Seconds(1);
  }

  // After the engine stopped (SIGINT): a summary for each connection still open.
  void CloseOut(Instant now) {
    for (Conn& c : conns_) {
      if (c.live) Finish(c, now, TcpError::kNone, /*open=*/true);
    }
  }

  const std::vector<ConnSummary>& finished() const { return finished_; }
  uint64_t bytes() const { return bytes_; }
  uint64_t verify_errors() const { return verify_errors_; }

  void PrintSummaries(FILE* out) const {
    for (const ConnSummary& s : finished_) PrintSummary(out, s);
  }

  void PrintTotals(FILE* out) const {
    std::fprintf(out, "perf server: %zu connections, %llu bytes received, ", finished_.size(),
                 static_cast<unsigned long long>(bytes_));
    if (verify_) {
      std::fprintf(out, "verify errors %llu\n", static_cast<unsigned long long>(verify_errors_));
    } else {
      std::fprintf(out, "not verified\n");
    }
    std::fflush(out);
  }

 private:
  struct Conn {
    ConnId id;
    bool live = false;
    std::string peer;
    Instant accepted, first_byte, last_byte;
    uint64_t bytes = 0;
    uint64_t verify_errors = 0;
  };

  void Drain(TcpLayer& tcp, Conn& c, Instant now) {
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

  void Finish(Conn& c, Instant now, TcpError error, bool open = false) {
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

  void PrintSummary(FILE* out, const ConnSummary& s) const {
    std::fprintf(out, "perf server: %s received %llu bytes in %.2f s: %.2f Gbit/s, %s%s\n", s.peer.c_str(),
                 static_cast<unsigned long long>(s.bytes), s.elapsed.seconds(), Gbps(s.bytes, s.elapsed),
                 verify_ ? absl::StrCat("verify errors ", s.verify_errors).c_str() : "not verified",
                 s.open                       ? " [still open]"
                 : s.error == TcpError::kNone ? ""
                                              : absl::StrCat(" [", ErrorName(s.error), "]").c_str());
    std::fflush(out);
  }

  uint16_t port_;
  bool verify_;
  bool live_;
  std::vector<Conn> conns_;  // by connection index
  std::vector<ConnSummary> finished_;
  uint64_t bytes_ = 0;
  uint64_t bytes_at_report_ = 0;
  uint64_t verify_errors_ = 0;
  uint32_t active_ = 0;
  bool reporting_ = false;
  Instant next_report_, last_report_, report_start_;
};

// ---------------------------------------------------------------------------------------------------
// Client

struct ClientConfig {
  Ipv4Addr dst;
  uint16_t port = kDefaultPort;
  uint32_t streams = 1;
  Duration duration = Duration::Seconds(5);
  uint64_t bytes = 0;  // total over all streams; 0: until the duration ends
  uint32_t max_connections = 0;
};

class PerfClient : public App {
 public:
  explicit PerfClient(const ClientConfig& config) : config_(config) {}

  absl::Status Start(Engine& engine) override {
    if (std::optional<Ipv4Addr> hop = engine.NextHop(config_.dst)) {
      next_hop_ = *hop;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--connect: no route to ", config_.dst.ToString(), " (not in ",
                                                     engine.local().ToString(), "; add --gateway)"));
    }
    streams_.resize(config_.streams);
    for (uint32_t i = 0; i < config_.streams; ++i) {
      // --bytes is split evenly; the first streams take the remainder.
      streams_[i].quota = config_.bytes == 0 ? 0
                                             : config_.bytes / config_.streams + (i < config_.bytes % config_.streams);
    }
    stream_of_conn_.assign(config_.max_connections, kNoStream);
    started_at_ = engine.tcp().now();
    std::printf("perf client: %s:%u, %u stream%s, %s, zero-copy, pattern byte i = i %% 251\n",
                config_.dst.ToString().c_str(), config_.port, config_.streams, config_.streams == 1 ? "" : "s",
                config_.bytes != 0 ? absl::StrCat(config_.bytes, " bytes (or ", config_.duration.seconds(), " s)").c_str()
                                   : absl::StrCat(config_.duration.seconds(), " s").c_str());
    std::fflush(stdout);
    return absl::OkStatus();
  }

  void OnEvent(Engine& engine, const Event& e) override {
    if (e.conn.index >= stream_of_conn_.size()) return;
    const uint32_t si = stream_of_conn_[e.conn.index];
    if (si == kNoStream || !(streams_[si].id == e.conn)) return;
    Stream& s = streams_[si];
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
          next_report_ = now + Duration::Seconds(1);
          last_report_ = now;
          std::printf("connected to %s:%u after %.1f ms (%u-byte mbufs)\n", config_.dst.ToString().c_str(),
                      config_.port, (now - started_at_).seconds() * 1e3, s.chunk);
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

  void OnPoll(Engine& engine, Instant now) override {
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
        stream_of_conn_[id->index] = static_cast<uint32_t>(&s - streams_.data());
        if (!resolved_) break;
      }
    }
    if (connected_ > 0 && !stopping_) {
      if (now >= end_ || (config_.bytes != 0 && sent_ >= config_.bytes)) {
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
    if (connected_ > 0 && now >= next_report_ && !stopping_) Report(tcp, now);
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

  bool Done() const override { return done_; }

  bool ok() const { return done_ && failed_ == 0 && sent_ > 0; }
  uint64_t sent() const { return sent_; }

  void PrintSummary(FILE* out, TcpLayer& tcp, Instant now) const {
    const Instant end = done_ ? finished_ : now;
    const Duration elapsed = connected_ > 0 ? end - t0_ : Duration();
    std::fprintf(out, "perf: sent %llu bytes in %.2f s: %.2f Gbit/s (%u stream%s, %u-byte mbufs), retransmits %llu%s\n",
                 static_cast<unsigned long long>(sent_), elapsed.seconds(), Gbps(sent_, elapsed), config_.streams,
                 config_.streams == 1 ? "" : "s", chunk_,
                 static_cast<unsigned long long>(tcp.tcp_counters().retransmits),
                 done_ ? "" : " [interrupted]");
    if (config_.streams > 1 || failed_ > 0) {
      for (size_t i = 0; i < streams_.size(); ++i) {
        const Stream& s = streams_[i];
        const Duration d = s.phase == Phase::kDone || s.phase == Phase::kFailed ? s.ended - t0_ : end - t0_;
        std::fprintf(out, "  stream %zu: %llu bytes, %.2f Gbit/s%s%s\n", i + 1,
                     static_cast<unsigned long long>(s.sent), Gbps(s.sent, d),
                     s.phase == Phase::kFailed ? ", failed: " : "", s.phase == Phase::kFailed ? s.why.c_str() : "");
      }
    }
    std::fflush(out);
  }

 private:
  static constexpr uint32_t kNoStream = UINT32_MAX;
  enum class Phase : uint8_t { kIdle, kConnecting, kSending, kClosing, kDone, kFailed };
  struct Stream {
    ConnId id;
    Phase phase = Phase::kIdle;
    bool blocked = false;  // Send said kWouldBlock; kWritable follows
    uint16_t chunk = 0;
    uint64_t quota = 0;  // 0: no limit
    uint64_t sent = 0;   // bytes the stack took (stream offset of the next byte)
    Mbuf pending;        // filled for offset `sent`, refused with kWouldBlock
    Instant ended;
    std::string why;
  };

  // Sends until the send buffer is full (kWouldBlock: keep the mbuf, wait for kWritable) or the quota is met.
  void Fill(TcpLayer& tcp, Stream& s) {
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

  // Our FIN goes after the queued data; the server answers with its own once it has read everything.
  void StartClose(TcpLayer& tcp, Stream& s, Instant now) {
    s.pending.reset();
    tcp.Shutdown(s.id);
    s.phase = Phase::kClosing;
  }

  void End(Stream& s, Instant now, std::optional<std::string> failure) {
    if (s.phase == Phase::kDone || s.phase == Phase::kFailed) return;
    s.pending.reset();
    s.ended = now;
    if (s.id.valid() && s.id.index < stream_of_conn_.size()) stream_of_conn_[s.id.index] = kNoStream;
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

  void Finish(Instant now) {
    done_ = true;
    finished_ = now;
  }

  void Report(TcpLayer& tcp, Instant now) {
    std::printf("t=%llds %.2f Gbit/s (total %.1f MB, retransmits %llu)\n",
                static_cast<long long>((now - t0_).ns() / 1000000000), Gbps(sent_ - sent_at_report_, now - last_report_),
                static_cast<double>(sent_) / 1e6, static_cast<unsigned long long>(tcp.tcp_counters().retransmits));
    std::fflush(stdout);
    sent_at_report_ = sent_;
    last_report_ = now;
    next_report_ = next_report_ + Duration::Seconds(1);
    if (next_report_ <= now) next_report_ = now + Duration::Seconds(1);
  }

  ClientConfig config_;
  Ipv4Addr next_hop_;
  std::vector<Stream> streams_;
  std::vector<uint32_t> stream_of_conn_;  // connection index -> stream
  Instant started_at_, t0_, end_, send_end_, close_deadline_, finished_, next_report_, last_report_;
  uint64_t sent_ = 0;
  uint64_t sent_at_report_ = 0;
  uint64_t no_mbufs_ = 0;
  uint32_t opened_ = 0;
  uint32_t connected_ = 0;
  uint32_t ended_ = 0;
  uint32_t failed_ = 0;
  uint16_t chunk_ = 0;
  bool resolved_ = false;
  bool stopping_ = false;
  bool done_ = false;
};

// ---------------------------------------------------------------------------------------------------
// Command line

constexpr char kSummary[] =
    "Bulk-throughput tool (like iperf), zero-copy: the client sends mbufs it filled once, the server reads\n"
    "the received mbufs and frees them.\n"
    "\n"
    "  synack-perf [EAL options] -- --server --ip A.B.C.D/N [--port 5201] [--verify]\n"
    "      read and discard everything each connection sends; Gbit/s per second, and a line per connection\n"
    "      when its client closes (then close too). --verify checks every byte against the pattern.\n"
    "  synack-perf [EAL options] -- --client --ip A.B.C.D/N --connect A.B.C.D:P [--streams 1] [--duration 5]\n"
    "             [--bytes 0]\n"
    "      send as fast as possible over --streams connections for --duration seconds (or --bytes in all),\n"
    "      then close first and wait for the server's FIN (at most 5 s)\n"
    "  synack-perf [-l 0-1] -- --loopback [--streams 1] [--duration 5] [--bytes 0] [--verify]\n"
    "      client and server engines in this process over an in-memory ring pair, no set-up needed\n"
    "      (client 198.18.0.1/24, server 198.18.0.2/24; one lcore each when two are available)\n"
    "\n"
    "Byte i of every stream is i % 251. The client prints `t=Ns X Gbit/s` each second and a summary (bytes,\n"
    "Gbit/s from the first connection to the last close, retransmits). Exit status: 0 when every stream\n"
    "sent and closed cleanly (loopback: and the server received every byte, with no verify error); 1\n"
    "otherwise (server: verify errors); 2 on bad options or set-up errors.";

std::vector<cli::FlagSpec> ModeFlags(Mode mode) {
  std::vector<cli::FlagSpec> specs;
  if (mode == Mode::kLoopback) {
    specs = LoopbackFlags("mbufs per engine (default 16383, more with many streams)");
  } else {
    specs = CommonFlags();
  }
  if (mode == Mode::kServer) specs.push_back({"server", false, "mode: accept connections and read"});
  if (mode == Mode::kClient) {
    specs.push_back({"client", false, "mode: send towards --connect"});
    specs.push_back({"connect", true, "server address and port, e.g. 198.18.0.1:5201 (required)"});
  }
  if (mode != Mode::kServer) {
    specs.push_back({"streams", true, "parallel connections (default 1, max 128)"});
    specs.push_back({"duration", true, "seconds to send (default 5)"});
    specs.push_back({"bytes", true, "stop after this many bytes in all (default 0: --duration decides)"});
  }
  if (mode != Mode::kClient) {
    specs.push_back({"port", true, "port to listen on (default 5201)"});
    specs.push_back({"verify", false, "check that byte i of every stream is i % 251"});
  }
  return specs;
}

std::vector<cli::FlagSpec> HelpFlags() {
  std::vector<cli::FlagSpec> specs = CommonFlags();
  specs.insert(specs.begin(), {{"server", false, "mode: accept connections and read"},
                               {"client", false, "mode: send towards --connect"},
                               {"loopback", false, "mode: client and server in this process (needs no other flag)"}});
  for (Mode m : {Mode::kClient, Mode::kServer}) {
    for (const cli::FlagSpec& f : ModeFlags(m)) {
      if (std::none_of(specs.begin(), specs.end(), [&](const cli::FlagSpec& s) { return s.name == f.name; })) {
        specs.push_back(f);
      }
    }
  }
  return specs;
}

int Fail(absl::string_view msg) { return FailWith(kProgram, msg); }

absl::StatusOr<ClientConfig> ParseClient(const cli::Flags& flags, Mode mode) {
  ClientConfig c;
  absl::StatusOr<int64_t> streams = flags.GetInt("streams", 1, 1, kMaxStreams);
  if (!streams.ok()) return streams.status();
  c.streams = static_cast<uint32_t>(*streams);
  absl::StatusOr<int64_t> duration = flags.GetInt("duration", 5, 1, 86400);
  if (!duration.ok()) return duration.status();
  c.duration = Duration::Seconds(*duration);
  absl::StatusOr<int64_t> bytes = flags.GetInt("bytes", 0, 0, int64_t{1} << 50);
  if (!bytes.ok()) return bytes.status();
  c.bytes = static_cast<uint64_t>(*bytes);
  if (mode == Mode::kClient) {
    std::optional<std::string> connect = flags.Get("connect");
    if (!connect) return absl::InvalidArgumentError("--connect is required (e.g. --connect 198.18.0.1:5201)");
    std::vector<std::string> parts = absl::StrSplit(*connect, ':');
    int port = 0;
    absl::StatusOr<Ipv4Addr> addr =
        parts.size() == 2 ? ParseIpv4Addr(parts[0]) : absl::InvalidArgumentError("not ADDR:PORT");
    if (!addr.ok() || !absl::SimpleAtoi(parts[1], &port) || port < 1 || port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("--connect: '", *connect, "' is not ADDR:PORT (e.g. --connect 198.18.0.1:5201)"));
    }
    c.dst = *addr;
    c.port = static_cast<uint16_t>(port);
  }
  return c;
}

int RunServer(const cli::SplitArgs& split, const cli::Flags& flags) {
  absl::StatusOr<CommonOptions> common = ParseCommon(flags);
  if (!common.ok()) return Fail(common.status().message());
  absl::StatusOr<int64_t> port = flags.GetInt("port", kDefaultPort, 1, 65535);
  if (!port.ok()) return Fail(port.status().message());
  absl::StatusOr<std::unique_ptr<Stack>> rt = CreateStack(kProgram, split, *common, TcpLayerConfig{});
  if (!rt.ok()) return Fail(rt.status().message());
  std::printf("port: %s\n", (*rt)->port().Describe().c_str());
  std::printf("tcp: %s\n", common->tuning.Describe().c_str());
  InstallStopSignals();
  PerfServer server(static_cast<uint16_t>(*port), flags.Has("verify"), /*live=*/true, common->max_connections);
  if (absl::Status s = (*rt)->Run(server); !s.ok()) return Fail(s.message());
  server.CloseOut((*rt)->engine().tcp().now());
  server.PrintTotals(stdout);
  (*rt)->PrintCounters(stdout, "synack-perf: stopped; counters:");
  return server.verify_errors() == 0 ? 0 : 1;
}

int RunClient(const cli::SplitArgs& split, const cli::Flags& flags) {
  absl::StatusOr<CommonOptions> common = ParseCommon(flags);
  if (!common.ok()) return Fail(common.status().message());
  absl::StatusOr<ClientConfig> config = ParseClient(flags, Mode::kClient);
  if (!config.ok()) return Fail(config.status().message());
  if (common->max_connections < config->streams) {
    return Fail(absl::StrCat("--streams: ", config->streams, " needs --max-connections of at least ", config->streams));
  }
  config->max_connections = common->max_connections;
  absl::StatusOr<std::unique_ptr<Stack>> rt = CreateStack(kProgram, split, *common, TcpLayerConfig{});
  if (!rt.ok()) return Fail(rt.status().message());
  std::printf("port: %s\n", (*rt)->port().Describe().c_str());
  std::printf("tcp: %s\n", common->tuning.Describe().c_str());
  InstallStopSignals();
  PerfClient client(*config);
  if (absl::Status s = (*rt)->Run(client); !s.ok()) return Fail(s.message());
  client.PrintSummary(stdout, (*rt)->engine().tcp(), (*rt)->engine().tcp().now());
  (*rt)->PrintCounters(stdout, "synack-perf: client counters:");
  return client.ok() ? 0 : 1;
}

int RunLoopback(const cli::SplitArgs& split, const cli::Flags& flags) {
  absl::StatusOr<ClientConfig> config = ParseClient(flags, Mode::kLoopback);
  if (!config.ok()) return Fail(config.status().message());
  absl::StatusOr<int64_t> port = flags.GetInt("port", kDefaultPort, 1, 65535);
  if (!port.ok()) return Fail(port.status().message());
  // Each stream can hold a send buffer of mbufs on the client and a receive buffer of them on the
  // server (both from the client's pool: the ring hands the frames over as they are).
  const uint32_t per_stream = 2 * (TcpConfig{}.snd_buffer / 1024 + 64);
  absl::StatusOr<int64_t> mbufs =
      flags.GetInt("mbufs", std::max<uint32_t>(16383, config->streams * per_stream + 8192), 1024, 16 << 20);
  if (!mbufs.ok()) return Fail(mbufs.status().message());

  LoopbackOptions lo;
  lo.mbufs = static_cast<uint32_t>(*mbufs);
  lo.hugepages = flags.Has("hugepages");
  for (TcpLayerConfig* t : {&lo.client_tcp, &lo.server_tcp}) {
    t->max_connections = 1024;
    t->max_time_wait = 1024;
  }
  absl::StatusOr<TuningOptions> tuning = ParseTuning(flags);
  if (!tuning.ok()) return Fail(tuning.status().message());
  tuning->ApplyTo(lo.client_tcp);
  tuning->ApplyTo(lo.server_tcp);
  lo.impair = tuning->impair;
  config->dst = lo.server.addr;
  config->port = static_cast<uint16_t>(*port);
  config->max_connections = lo.client_tcp.max_connections;

  lo.program = kProgram;
  lo.eal_args = split.eal;
  absl::StatusOr<std::unique_ptr<Loopback>> lb = Loopback::Create(lo);
  if (!lb.ok()) return Fail(lb.status().message());
  std::printf("%s\n", (*lb)->Describe().c_str());
  std::printf("tcp: %s\n", tuning->Describe().c_str());
  InstallStopSignals();
  PerfServer server(config->port, flags.Has("verify"), /*live=*/false, lo.server_tcp.max_connections);
  PerfClient client(*config);
  if (absl::Status s = (*lb)->Run(server, client); !s.ok()) return Fail(s.message());
  client.PrintSummary(stdout, (*lb)->client().tcp(), (*lb)->client().tcp().now());
  server.CloseOut((*lb)->server().tcp().now());
  server.PrintSummaries(stdout);
  server.PrintTotals(stdout);
  PrintEngineCounters(stdout, {&(*lb)->client()}, "client counters:");
  PrintEngineCounters(stdout, {&(*lb)->server()}, "server counters:");
  bool ok = client.ok() && server.verify_errors() == 0;
  if (client.ok() && server.bytes() != client.sent()) {
    std::printf("MISMATCH: the client sent %llu bytes, the server received %llu\n",
                static_cast<unsigned long long>(client.sent()), static_cast<unsigned long long>(server.bytes()));
    ok = false;
  }
  return ok ? 0 : 1;
}

int Main(int argc, char** argv) {
  return RunModeTool(argc, argv, {kProgram, kSummary, ModeFlags, HelpFlags(), RunServer, RunClient, RunLoopback});
}

}  // namespace
}  // namespace synack::app

int main(int argc, char** argv) { return synack::app::Main(argc, argv); }
