// synack-cps: the connection-rate tool. Three modes:
//   --server    listens and, per accepted connection, closes at once (or answers one small request first);
//   --client    keeps K connections in flight towards a server and reports connections per second, connect
//               latency percentiles and failures by reason;
//   --loopback  both of the above in one process over an in-memory net_ring port pair (no set-up at all).
// Every engine runs on one lcore with its app (see apps/common/runtime.h and apps/common/loopback.h); the
// client keeps its per-connection state in fixed arrays sized at start-up (no allocation per connection).
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "apps/common/modes.h"
#include "apps/common/runtime.h"

namespace synack::app {
namespace {

constexpr char kProgram[] = "synack-cps";
constexpr uint32_t kMaxConcurrency = 16384;
constexpr uint32_t kMaxRequest = 1400;  // one segment: the server answers what one read returns
// Ephemeral ports the client uses (wider than the stack's default: each port stays in TIME-WAIT 60 s).
constexpr uint16_t kEphemeralLo = 1024;
constexpr uint16_t kEphemeralHi = 65535;
constexpr uint32_t kEphemeralSpan = kEphemeralHi - kEphemeralLo + 1u;

std::string FormatDuration(Duration d) {
  const double ns = static_cast<double>(d.ns());
  if (ns < 1e3) return absl::StrFormat("%.0f ns", ns);
  if (ns < 1e6) return absl::StrFormat("%.1f us", ns / 1e3);
  if (ns < 1e9) return absl::StrFormat("%.2f ms", ns / 1e6);
  return absl::StrFormat("%.2f s", ns / 1e9);
}

// Log-linear latency histogram: exact below 128 ns, then 128 buckets per power of two (< 0.8% error) up to
// 2^36 ns (~69 s); larger values land in the last bucket. Fixed size, no allocation when recording.
class LatencyHistogram {
 public:
  void Record(Duration d) {
    const uint64_t ns = d.ns() <= 0 ? 0 : static_cast<uint64_t>(d.ns());
    ++counts_[Index(std::min<uint64_t>(ns, (uint64_t{1} << kMaxBits) - 1))];
    ++count_;
    max_ns_ = std::max(max_ns_, ns);
  }
  uint64_t count() const { return count_; }
  Duration max() const { return Duration::Nanoseconds(static_cast<int64_t>(max_ns_)); }
  // The value below which a fraction `q` of the samples lie (bucket midpoint).
  Duration Percentile(double q) const {
    if (count_ == 0) return Duration();
    const uint64_t target = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= target) {
        const uint64_t mid = Lower(i) + Width(i) / 2;
        return Duration::Nanoseconds(static_cast<int64_t>(std::min(mid, max_ns_)));
      }
    }
    return max();
  }

 private:
  static constexpr int kSubBits = 7;
  static constexpr int kMaxBits = 36;
  static constexpr size_t kBuckets = size_t{kMaxBits - kSubBits + 1} << kSubBits;
  static size_t Index(uint64_t ns) {
    if (ns < (uint64_t{1} << kSubBits)) return static_cast<size_t>(ns);
    const int shift = std::bit_width(ns) - 1 - kSubBits;
    return (static_cast<size_t>(shift + 1) << kSubBits) + static_cast<size_t>((ns >> shift) - (uint64_t{1} << kSubBits));
  }
  static uint64_t Lower(size_t i) {
    const size_t block = i >> kSubBits;
    if (block == 0) return i;
    return ((i & ((size_t{1} << kSubBits) - 1)) + (uint64_t{1} << kSubBits)) << (block - 1);
  }
  static uint64_t Width(size_t i) {
    const size_t block = i >> kSubBits;
    return block == 0 ? 1 : uint64_t{1} << (block - 1);
  }
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ns_ = 0;
};

enum class Failure : uint8_t {
  kRefused,       // RST in answer to the SYN
  kReset,         // RST after the handshake
  kTimedOut,      // connect (or response) timeout, SYN retries exhausted
  kNoArp,         // timed out while the next hop never answered ARP
  kOutOfPorts,    // Connect: every ephemeral port towards the server is in use or in TIME-WAIT
  kTableFull,     // Connect: connection table full
  kClosedEarly,   // the server closed before the whole response arrived
  kOther,
  kCount,
};

const char* FailureName(Failure f) {
  switch (f) {
    case Failure::kRefused: return "refused";
    case Failure::kReset: return "reset";
    case Failure::kTimedOut: return "timed out";
    case Failure::kNoArp: return "no route/ARP reply";
    case Failure::kOutOfPorts: return "out of ports";
    case Failure::kTableFull: return "table full";
    case Failure::kClosedEarly: return "closed before the response";
    case Failure::kOther: return "other";
    case Failure::kCount: break;
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------------
// Server

class CpsServer : public App {
 public:
  CpsServer(uint16_t port, uint16_t ports, bool request, uint64_t hold = 0)
      : port_(port), ports_(ports), request_(request), hold_(hold) {}

  absl::Status Start(Engine& engine) override {
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

  void OnEvent(Engine& engine, const Event& e) override {
    TcpLayer& tcp = engine.tcp();
    switch (e.type) {
      case EventType::kAccepted:
        if (held_ < hold_) {  // --hold: the first connections stay open, idle
          ++held_;
          break;
        }
        ++accepted_;
        if (!request_) {
          tcp.Close(e.conn);
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

  // Samples the server's state every 256 polls: what a flood could make it hold.
  void OnPoll(Engine& engine, Instant now) override {
    if ((++polls_ & 255) != 0) return;
    const TcpLayer& tcp = engine.tcp();
    peak_half_open_ = std::max<uint64_t>(peak_half_open_, tcp.half_open());
    peak_connections_ = std::max<uint64_t>(peak_connections_, tcp.connections());
    peak_time_wait_ = std::max<uint64_t>(peak_time_wait_, tcp.time_wait_entries());
    peak_mbufs_ = std::max<uint64_t>(peak_mbufs_, rte_mempool_in_use_count(engine.pool()));
  }

  void PrintSummary(FILE* out) const {
    std::fprintf(out, "cps server state: peak half-open %llu, peak connections %llu, peak TIME-WAIT %llu, peak mbufs in use %llu\n",
                 static_cast<unsigned long long>(peak_half_open_), static_cast<unsigned long long>(peak_connections_),
                 static_cast<unsigned long long>(peak_time_wait_), static_cast<unsigned long long>(peak_mbufs_));
    std::fprintf(out, "cps server: accepted %llu", static_cast<unsigned long long>(accepted_));
    if (request_) std::fprintf(out, ", answered %llu", static_cast<unsigned long long>(answered_));
    if (request_) std::fprintf(out, ", closed without a request %llu", static_cast<unsigned long long>(no_request_));
    std::fprintf(out, ", reset/timed out %llu\n", static_cast<unsigned long long>(errors_));
  }

 private:
  // Echoes whatever arrived (zero-copy), then closes: the FIN follows the answer.
  void Answer(TcpLayer& tcp, ConnId id) {
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

  uint16_t port_;
  uint16_t ports_;
  bool request_;
  uint64_t accepted_ = 0;
  uint64_t answered_ = 0;
  uint64_t no_request_ = 0;
  uint64_t errors_ = 0;
  uint64_t hold_ = 0;
  uint64_t held_ = 0;
  uint64_t polls_ = 0;
  uint64_t peak_half_open_ = 0;
  uint64_t peak_connections_ = 0;
  uint64_t peak_time_wait_ = 0;
  uint64_t peak_mbufs_ = 0;
};

// ---------------------------------------------------------------------------------------------------
// Client

struct ClientConfig {
  Ipv4Addr dst;
  uint16_t port = 5001;
  uint16_t ports = 1;  // destination ports port..port+ports-1, used in turn
  uint32_t concurrency = 16;
  Duration duration = Duration::Seconds(5);
  uint64_t connections = 0;  // 0: until the duration ends
  uint32_t request = 0;      // bytes; 0: connect and close
  Duration connect_timeout = Duration::Milliseconds(1000);
  uint32_t max_connections = 0;  // the engine's table size (ids index a fixed array)
};

class CpsClient : public App {
 public:
  explicit CpsClient(const ClientConfig& config) : config_(config), request_bytes_(config.request, 'q') {}

  absl::Status Start(Engine& engine) override {
    if (std::optional<Ipv4Addr> hop = engine.NextHop(config_.dst)) {
      next_hop_ = *hop;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--connect: no route to ", config_.dst.ToString(), " (not in ",
                                                     engine.local().ToString(), "; add --gateway)"));
    }
    slots_.resize(config_.concurrency);
    free_slots_.reserve(config_.concurrency);
    for (uint32_t i = config_.concurrency; i > 0; --i) free_slots_.push_back(i - 1);
    slot_of_conn_.assign(config_.max_connections, kNoSlot);
    start_ = engine.tcp().now();
    end_ = start_ + config_.duration;
    next_report_ = start_ + Duration::Seconds(1);
    next_expiry_scan_ = start_;
    std::printf("cps client: %s:%u%s, concurrency %u, %s, %s\n", config_.dst.ToString().c_str(), config_.port,
                config_.ports > 1 ? absl::StrCat(" (+", config_.ports - 1, " ports)").c_str() : "",
                config_.concurrency,
                config_.request == 0 ? "connect/close" : absl::StrCat(config_.request, "-byte request/response").c_str(),
                config_.connections != 0
                    ? absl::StrCat("up to ", config_.connections, " connections or ",
                                   FormatDuration(config_.duration)).c_str()
                    : absl::StrCat("for ", FormatDuration(config_.duration)).c_str());
    std::fflush(stdout);
    return absl::OkStatus();
  }

  void OnEvent(Engine& engine, const Event& e) override {
    if (e.conn.index >= slot_of_conn_.size()) return;
    const uint32_t si = slot_of_conn_[e.conn.index];
    if (si == kNoSlot || !(slots_[si].id == e.conn)) return;
    Slot& s = slots_[si];
    TcpLayer& tcp = engine.tcp();
    const Instant now = tcp.now();
    switch (e.type) {
      case EventType::kConnected:
        latency_.Record(now - s.started);
        s.connected = true;
        if (config_.request == 0) {
          tcp.Close(e.conn);
          Finish(si, now, std::nullopt);
          return;
        }
        s.deadline = now + config_.connect_timeout;
        SendRequest(tcp, s);
        break;
      case EventType::kWritable:
        SendRequest(tcp, s);
        break;
      case EventType::kReadable:
        if (ReadResponse(tcp, s)) {
          tcp.Close(e.conn);
          Finish(si, now, std::nullopt);
        }
        break;
      case EventType::kPeerClosed: {
        const bool complete = ReadResponse(tcp, s);
        tcp.Close(e.conn);
        Finish(si, now, complete ? std::nullopt : std::optional<Failure>(Failure::kClosedEarly));
        break;
      }
      case EventType::kClosed:
        Finish(si, now, Classify(engine, e.error));
        break;
      case EventType::kAccepted:
        break;
    }
  }

  void OnPoll(Engine& engine, Instant now) override {
    if (done_) return;
    if (!stopping_ && (now >= end_ || StopRequested() || (config_.connections != 0 && started_ >= config_.connections))) {
      stopping_ = true;
    }
    if (!resolved_) resolved_ = engine.Resolved(next_hop_);
    if (!stopping_ && now >= backoff_until_) {
      // One connection until the server's MAC is known (the neighbour queue holds only a few packets), then K.
      const uint32_t limit = resolved_ ? config_.concurrency : 1;
      while (inflight_ < limit && (config_.connections == 0 || started_ < config_.connections)) {
        if (!Open(engine, now)) break;
      }
    }
    if (config_.request != 0 && now >= next_expiry_scan_) ExpireResponses(engine, now);
    if (now >= next_report_) Report(now);
    if (stopping_ && inflight_ == 0) {
      done_ = true;
      finished_ = now;
    }
  }

  bool Done() const override { return done_; }

  uint64_t ok() const { return ok_; }
  uint64_t failed() const { return failed_; }
  Duration elapsed(Instant now) const { return (done_ ? finished_ : now) - start_; }

  void PrintSummary(FILE* out, Instant now) const {
    const Instant end = done_ ? finished_ : now;
    const double secs = std::max((end - start_).seconds(), 1e-9);
    std::fprintf(out, "cps: %llu ok, %llu failed in %.2f s: %.0f conns/s (concurrency %u, %s)%s\n",
                 static_cast<unsigned long long>(ok_), static_cast<unsigned long long>(failed_), secs,
                 static_cast<double>(ok_) / secs, config_.concurrency,
                 config_.request == 0 ? "connect/close" : absl::StrCat(config_.request, "-byte request").c_str(),
                 done_ ? "" : absl::StrCat(" [interrupted with ", inflight_, " in flight]").c_str());
    if (latency_.count() > 0) {
      std::fprintf(out, "connect latency: p50 %s  p99 %s  p99.9 %s  max %s  (%llu samples)\n",
                   FormatDuration(latency_.Percentile(0.50)).c_str(), FormatDuration(latency_.Percentile(0.99)).c_str(),
                   FormatDuration(latency_.Percentile(0.999)).c_str(), FormatDuration(latency_.max()).c_str(),
                   static_cast<unsigned long long>(latency_.count()));
    }
    if (failed_ > 0) {
      std::string line = "failures:";
      for (size_t i = 0; i < failures_.size(); ++i) {
        if (failures_[i] != 0) absl::StrAppend(&line, " ", FailureName(static_cast<Failure>(i)), " ", failures_[i], ";");
      }
      line.pop_back();
      std::fprintf(out, "%s\n", line.c_str());
      if (failures_[static_cast<size_t>(Failure::kOutOfPorts)] != 0) {
        std::fprintf(out,
                     "  (each closed connection keeps its port in TIME-WAIT for 60 s and a port is reused only "
                     "after 1 s with timestamps: %u ports per server port; spread over more with --ports)\n",
                     kEphemeralSpan);
      }
    }
    std::fflush(out);
  }

 private:
  static constexpr uint32_t kNoSlot = UINT32_MAX;
  struct Slot {
    ConnId id;
    Instant started;
    Instant deadline = Instant::Never();  // response deadline once connected
    uint32_t sent = 0;
    uint32_t received = 0;
    bool connected = false;
  };

  bool Open(Engine& engine, Instant now) {
    const uint16_t port = static_cast<uint16_t>(config_.port + next_port_);
    next_port_ = next_port_ + 1 == config_.ports ? 0 : next_port_ + 1;
    absl::StatusOr<ConnId> id = engine.tcp().Connect(config_.dst, port, config_.connect_timeout);
    if (!id.ok()) {
      // Out of ports or table full: count it and try again a little later instead of spinning.
      const bool ports = absl::StrContains(id.status().message(), "ephemeral");
      Count(ports ? Failure::kOutOfPorts
                  : id.status().code() == absl::StatusCode::kResourceExhausted ? Failure::kTableFull : Failure::kOther);
      backoff_until_ = now + Duration::Milliseconds(10);
      return false;
    }
    const uint32_t si = free_slots_.back();
    free_slots_.pop_back();
    slots_[si] = Slot{*id, now, Instant::Never(), 0, 0, false};
    slot_of_conn_[id->index] = si;
    ++inflight_;
    ++started_;
    return true;
  }

  void SendRequest(TcpLayer& tcp, Slot& s) {
    if (s.sent < config_.request) {
      s.sent += static_cast<uint32_t>(
          tcp.SendCopy(s.id, ConstBytes(reinterpret_cast<const uint8_t*>(request_bytes_.data()) + s.sent,
                                        config_.request - s.sent)));
    }
  }

  // Reads what arrived; true once the whole response is in.
  bool ReadResponse(TcpLayer& tcp, Slot& s) {
    uint8_t buf[2048];
    while (size_t n = tcp.RecvCopy(s.id, MutableBytes(buf, sizeof(buf)))) s.received += static_cast<uint32_t>(n);
    return s.connected && s.received >= config_.request;
  }

  std::optional<Failure> Classify(Engine& engine, TcpError error) const {
    switch (error) {
      case TcpError::kRefused: return Failure::kRefused;
      case TcpError::kReset: return Failure::kReset;
      case TcpError::kTimedOut:
        return !engine.Resolved(next_hop_) ? Failure::kNoArp : Failure::kTimedOut;
      case TcpError::kNone: return Failure::kClosedEarly;
      case TcpError::kAborted: return Failure::kOther;
      case TcpError::kUnreachable: return Failure::kNoArp;
    }
    return Failure::kOther;
  }

  void ExpireResponses(Engine& engine, Instant now) {
    next_expiry_scan_ = now + Duration::Milliseconds(1);
    for (uint32_t i = 0; i < slots_.size(); ++i) {
      Slot& s = slots_[i];
      if (s.id.valid() && s.connected && s.deadline <= now) {
        engine.tcp().Abort(s.id);
        Finish(i, now, Failure::kTimedOut);
      }
    }
  }

  void Finish(uint32_t si, Instant now, std::optional<Failure> failure) {
    Slot& s = slots_[si];
    slot_of_conn_[s.id.index] = kNoSlot;
    s.id = ConnId{};
    free_slots_.push_back(si);
    --inflight_;
    if (failure) {
      Count(*failure);
      return;
    }
    if (ok_++ == 0) {
      std::printf("connected to %s (first connection after %s)\n", config_.dst.ToString().c_str(),
                  FormatDuration(now - start_).c_str());
      std::fflush(stdout);
    }
  }

  void Count(Failure f) {
    ++failed_;
    ++failures_[static_cast<size_t>(f)];
  }

  void Report(Instant now) {
    const double secs = (now - last_report_at()).seconds();
    std::printf("t=%llds conns/s=%.0f ok=%llu failed=%llu inflight=%u\n",
                static_cast<long long>((now - start_).ns() / 1000000000), static_cast<double>(ok_ - ok_at_report_) / secs,
                static_cast<unsigned long long>(ok_), static_cast<unsigned long long>(failed_), inflight_);
    std::fflush(stdout);
    ok_at_report_ = ok_;
    last_report_ = now;
    next_report_ = next_report_ + Duration::Seconds(1);
    if (next_report_ <= now) next_report_ = now + Duration::Seconds(1);
  }
  Instant last_report_at() const { return last_report_ == Instant() ? start_ : last_report_; }

  ClientConfig config_;
  std::string request_bytes_;
  Ipv4Addr next_hop_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<uint32_t> slot_of_conn_;  // connection index -> slot
  LatencyHistogram latency_;
  std::array<uint64_t, static_cast<size_t>(Failure::kCount)> failures_{};
  Instant start_, end_, finished_, next_report_, last_report_, next_expiry_scan_, backoff_until_;
  uint64_t started_ = 0;
  uint64_t ok_ = 0;
  uint64_t failed_ = 0;
  uint64_t ok_at_report_ = 0;
  uint32_t inflight_ = 0;
  uint32_t next_port_ = 0;
  bool resolved_ = false;
  bool stopping_ = false;
  bool done_ = false;
};

// ---------------------------------------------------------------------------------------------------
// Command line

constexpr char kSummary[] =
    "Connection-rate tool: how many TCP connections per second open (and close), with connect latency.\n"
    "\n"
    "  synack-cps [EAL options] -- --server --ip A.B.C.D/N [--port 5001] [--request]\n"
    "      accept and close every connection (with --request: read one request, echo it back, close)\n"
    "  synack-cps [EAL options] -- --client --ip A.B.C.D/N --connect A.B.C.D:P [--concurrency 16]\n"
    "             [--duration 5] [--connections 0] [--request 0] [--connect-timeout-ms 1000] [--ports 1]\n"
    "      keep K connections in flight: connect, then close at once (or send --request bytes and read\n"
    "      as many back), until --duration seconds or --connections connections, whichever comes first\n"
    "  synack-cps [-l 0-1] -- --loopback [client options]\n"
    "      client and server engines in this process over an in-memory ring pair, no set-up needed\n"
    "      (client 198.18.0.1/24, server 198.18.0.2/24; one lcore each when two are available)\n"
    "\n"
    "SYN flood (client and loopback): --flood RATE|max sends spoofed SYNs (sources from --flood-sources,\n"
    "default 198.19.0.0/16) at the server port alongside the legitimate client, from the client's engine,\n"
    "until --flood-count SYNs (default RATE x duration, or 100 million for max) or the run ends. The server\n"
    "defends itself with --syn-cookies, --syn-backlog, --max-half-open and --syn-rate-per-source; in\n"
    "loopback mode its replies to spoofed sources go back to the client's port and are dropped there.\n"
    "\n"
    "The client prints a progress line per second and a summary: connections/s, connect latency p50/p99/p99.9\n"
    "and failures by reason (refused, reset, timed out, no route/ARP reply, out of ports, table full, closed\n"
    "before the response). Each connection the client closes keeps its port in TIME-WAIT for 60 s; the client\n"
    "uses ports 1024-65535 and, when none is free, reuses one whose TIME-WAIT is over 1 s old (timestamps on,\n"
    "like Linux's tcp_tw_reuse), so ~64,500 connections per server port per second at most (see --ports).\n"
    "Exit status: 0 when at least one connection succeeded and none failed; 1 when any failed or none\n"
    "succeeded; 2 on bad options or set-up errors.";

std::vector<cli::FlagSpec> ModeFlags(Mode mode) {
  std::vector<cli::FlagSpec> specs;
  if (mode == Mode::kLoopback) {
    specs = LoopbackFlags("mbufs per engine (default 16383)");
  } else {
    specs = CommonFlags();
  }
  if (mode == Mode::kServer) {
    specs.push_back({"server", false, "mode: accept connections"});
    specs.push_back({"request", false, "read one request per connection and send as many bytes back, then close"});
  } else {
    if (mode == Mode::kClient) {
      specs.push_back({"client", false, "mode: open connections towards --connect"});
      specs.push_back({"connect", true, "server address and port, e.g. 198.18.0.1:5001 (required)"});
    }
    specs.push_back({"concurrency", true, "connections in flight (default 16, max 16384)"});
    specs.push_back({"duration", true, "seconds to run (default 5)"});
    specs.push_back({"connections", true, "stop after this many connections (default 0: no limit)"});
    specs.push_back({"request", true, "bytes to send per connection and read back (default 0: connect/close; max 1400)"});
    specs.push_back({"connect-timeout-ms", true, "connect timeout, also the response timeout (default 1000)"});
    specs.push_back({"ports", true,
                     mode == Mode::kLoopback ? "server ports --port.. used in turn (default 32)"
                                             : "server ports P..P+N-1 used in turn (default 1)"});
  }
  if (mode != Mode::kClient) specs.push_back({"port", true, "(first) server port (default 5001)"});
  if (mode == Mode::kLoopback) {
    for (const cli::FlagSpec& f : SynDefenceFlags()) specs.push_back(f);
    specs.push_back({"hold", true, "first open N connections and keep them idle (memory report; rate measured with them open)"});
    specs.push_back({"pingpong", true, "instead: request/response latency, BYTES (1..1400) back and forth on one connection"});
  }
  if (mode != Mode::kServer) {
    specs.push_back({"flood", true, "also send spoofed SYNs at the server: SYNs per second, or max"});
    specs.push_back({"flood-count", true, "stop the flood after this many SYNs (default: rate x duration; 100 million for max)"});
    specs.push_back({"flood-sources", true, "spoofed source addresses (default 198.19.0.0/16)"});
    if (mode == Mode::kClient) {
      specs.push_back({"flood-only", false, "with --flood: send only the flood, no legitimate connections"});
    }
  }
  return specs;
}

std::vector<cli::FlagSpec> HelpFlags() {
  std::vector<cli::FlagSpec> specs = CommonFlags();
  specs.insert(specs.begin(), {{"server", false, "mode: accept connections"},
                               {"client", false, "mode: open connections towards --connect"},
                               {"loopback", false, "mode: client and server in this process (needs no other flag)"}});
  for (const cli::FlagSpec& f : ModeFlags(Mode::kClient)) {
    if (f.name == "request") {
      specs.push_back({"request", true,
                       "client/loopback: BYTES to send and read back (default 0: connect/close; max 1400); "
                       "server: flag, answer one request per connection"});
    } else if (f.name != "client" && std::none_of(specs.begin(), specs.end(), [&](const cli::FlagSpec& s) {
                 return s.name == f.name;
               })) {
      specs.push_back(f);
    }
  }
  specs.push_back({"port", true, "server/loopback: (first) port to listen on (default 5001)"});
  return specs;
}

int Fail(absl::string_view msg) { return FailWith(kProgram, msg); }

// The flood flags; nullopt when --flood is absent.
absl::StatusOr<std::optional<SynFloodOptions>> ParseFlood(const cli::Flags& flags, Duration duration) {
  std::optional<std::string> rate = flags.Get("flood");
  if (!rate) {
    for (const char* f : {"flood-count", "flood-sources", "flood-only"}) {
      if (flags.Has(f)) return absl::InvalidArgumentError(absl::StrCat("--", f, ": only with --flood RATE|max"));
    }
    return std::optional<SynFloodOptions>();
  }
  SynFloodOptions o;
  uint64_t default_count = 100'000'000;
  if (*rate != "max") {
    double r = 0;
    if (!absl::SimpleAtod(*rate, &r) || !(r >= 1) || r > 1e9) {
      return absl::InvalidArgumentError(absl::StrCat("--flood: '", *rate, "' is not a rate (SYNs per second, 1..1e9, or max)"));
    }
    o.rate = r;
    default_count = static_cast<uint64_t>(r * duration.seconds());
  }
  absl::StatusOr<int64_t> count = flags.GetInt("flood-count", static_cast<int64_t>(default_count), 1, int64_t{1} << 40);
  if (!count.ok()) return count.status();
  o.count = static_cast<uint64_t>(*count);
  if (std::optional<std::string> src = flags.Get("flood-sources")) {
    absl::StatusOr<Ipv4Prefix> p = ParseIpv4Prefix(*src);
    if (!p.ok()) return absl::InvalidArgumentError(absl::StrCat("--flood-sources: ", p.status().message()));
    o.sources = *p;
  }
  return std::optional<SynFloodOptions>(o);
}

// --pingpong: request/response latency on one connection. The server echoes whatever arrives
// (zero-copy) and never closes first; the client sends `size` bytes, waits for all of them to come back,
// records the round trip in the histogram, and sends again until the duration ends.
class EchoServer : public App {
 public:
  explicit EchoServer(uint16_t port) : port_(port) {}
  absl::Status Start(Engine& engine) override {
    if (absl::Status s = engine.tcp().Listen(port_); !s.ok()) return s;
    std::printf("listening on %s:%u (echo server for --pingpong)\n", engine.local().addr.ToString().c_str(),
                port_);
    std::fflush(stdout);
    return absl::OkStatus();
  }
  void OnEvent(Engine& engine, const Event& e) override {
    TcpLayer& tcp = engine.tcp();
    if (e.type == EventType::kAccepted || e.type == EventType::kReadable) {
      if (Mbuf m = tcp.Recv(e.conn)) {
        if (tcp.Send(e.conn, std::move(m)) != SendStatus::kOk) tcp.Abort(e.conn);
      }
    } else if (e.type == EventType::kPeerClosed) {
      tcp.Close(e.conn);
    }
  }

 private:
  uint16_t port_;
};

class PingPongClient : public App {
 public:
  PingPongClient(Ipv4Addr dst, uint16_t port, uint32_t size, Duration duration)
      : dst_(dst), port_(port), size_(size), duration_(duration), buf_(size, 'p') {}
  absl::Status Start(Engine& engine) override {
    absl::StatusOr<ConnId> id = engine.tcp().Connect(dst_, port_, Duration::Seconds(5));
    if (!id.ok()) return id.status();
    id_ = *id;
    return absl::OkStatus();
  }
  void OnEvent(Engine& engine, const Event& e) override {
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
  bool Done() const override { return done_; }
  bool ok() const { return !error_ && latency_.count() > 0; }
  void PrintSummary(FILE* out) const {
    const double us = 1e-3;
    std::fprintf(out, "synack pingpong: size=%u round_trips=%llu seconds=%.2f p50_us=%.1f p99_us=%.1f p999_us=%.1f\n",
                 size_, static_cast<unsigned long long>(latency_.count()), (end_ - start_).seconds(),
                 static_cast<double>(latency_.Percentile(0.50).ns()) * us,
                 static_cast<double>(latency_.Percentile(0.99).ns()) * us,
                 static_cast<double>(latency_.Percentile(0.999).ns()) * us);
  }

 private:
  void SendOne(TcpLayer& tcp, Instant now) {
    sent_at_ = now;
    if (tcp.SendCopy(id_, ConstBytes(reinterpret_cast<const uint8_t*>(buf_.data()), size_)) != size_) error_ = true;
  }
  Ipv4Addr dst_;
  uint16_t port_;
  uint32_t size_;
  Duration duration_;
  std::string buf_;
  ConnId id_{};
  Instant start_, end_, sent_at_;
  uint64_t got_ = 0;
  bool done_ = false;
  bool error_ = false;
  LatencyHistogram latency_;
};

// Resident memory of this process (bytes), from /proc/self/statm.
uint64_t ResidentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

void PrintMemory(FILE* out, const char* who, const TcpLayer& tcp) {
  const TcpLayerMemory m = tcp.Memory();
  std::fprintf(out,
               "memory %s: %.0f B per connection (record %zu B + index, timer, event share), %.0f B per TIME-WAIT "
               "entry (entry %zu B + index, timer); tables %.1f MiB in all, allocated at start-up\n",
               who, m.per_connection, m.socket_bytes, m.per_time_wait, m.time_wait_slot_bytes,
               static_cast<double>(m.total_bytes) / (1 << 20));
}

// --hold N: first opens N connections and keeps them established and idle (up to 2048 handshakes at a
// time, over the server ports in turn), reports the memory they take, then starts the inner client, so
// its connection rate is measured with N connections open.
class HoldFirst : public App {
 public:
  HoldFirst(App& inner, const ClientConfig& config, uint64_t n, const Engine* server)
      : inner_(inner), config_(config), n_(n), server_(server) {}

  absl::Status Start(Engine& engine) override {
    rss_before_ = ResidentBytes();
    std::printf("opening %llu connections to hold\n", static_cast<unsigned long long>(n_));
    std::fflush(stdout);
    return absl::OkStatus();
  }
  void OnEvent(Engine& engine, const Event& e) override {
    if (holding_) {
      if (e.type == EventType::kConnected) ++established_;
      if (e.type == EventType::kClosed) ++failed_;
      return;
    }
    if (e.type == EventType::kClosed && e.conn.index < held_.size() && held_[e.conn.index] == e.conn.generation + 1) {
      ++dropped_;
    }
    inner_.OnEvent(engine, e);
  }
  void OnPoll(Engine& engine, Instant now) override {
    if (!holding_) return inner_.OnPoll(engine, now);
    if (start_ == Instant()) start_ = now;
    const bool resolved = engine.Resolved(config_.dst);
    if (resolved && resolved_at_ == Instant()) resolved_at_ = now;
    const uint64_t window = resolved ? 2048 : 1;
    // At most 256 SYNs per poll: the engine's outbox (1024 frames) drains between polls.
    for (int burst = 0; burst < 256 && opened_ < n_ && opened_ - established_ - failed_ < window && !StopRequested();
         ++burst) {
      const uint16_t port = static_cast<uint16_t>(config_.port + opened_ % config_.ports);
      absl::StatusOr<ConnId> id = engine.tcp().Connect(config_.dst, port, Duration::Seconds(10));
      if (!id.ok()) {
        ++failed_;
        ++opened_;
        if (failed_ == 1) std::printf("hold: %s\n", std::string(id.status().message()).c_str());
        continue;
      }
      if (held_.size() <= id->index) held_.resize(size_t{id->index} + 1, 0);
      held_[id->index] = id->generation + 1;
      ++opened_;
    }
    if (established_ + failed_ < n_ && !StopRequested()) return;
    holding_ = false;
    const uint64_t rss = ResidentBytes();
    std::printf("holding %llu established connections (%llu failed), opened in %.2f s once ARP resolved (%.2f s "
                "after start); process RSS %.1f MiB (%.1f MiB before they were opened)\n",
                static_cast<unsigned long long>(established_), static_cast<unsigned long long>(failed_),
                (now - resolved_at_).seconds(), (now - start_).seconds(), static_cast<double>(rss) / (1 << 20),
                static_cast<double>(rss_before_) / (1 << 20));
    PrintMemory(stdout, "client", engine.tcp());
    if (server_ != nullptr) {
      std::printf("server holds %zu connections\n", server_->tcp().connections());
      PrintMemory(stdout, "server", server_->tcp());
    }
    std::fflush(stdout);
    if (absl::Status s = inner_.Start(engine); !s.ok()) {
      std::fprintf(stderr, "synack-cps: %s\n", std::string(s.message()).c_str());
      start_failed_ = true;
    }
  }
  bool Done() const override { return start_failed_ || (!holding_ && inner_.Done()) || (holding_ && StopRequested()); }
  uint64_t dropped() const { return dropped_; }
  uint64_t established() const { return established_; }

 private:
  App& inner_;
  ClientConfig config_;
  uint64_t n_;
  const Engine* server_;
  bool holding_ = true;
  bool start_failed_ = false;
  Instant start_;
  Instant resolved_at_;
  uint64_t opened_ = 0, established_ = 0, failed_ = 0, dropped_ = 0;
  uint64_t rss_before_ = 0;
  std::vector<uint32_t> held_;  // by connection index: generation + 1 of the held connection there
};

absl::StatusOr<std::unique_ptr<SynFlood>> MakeFlood(SynFloodOptions options, Ipv4Addr target, uint16_t port,
                                                    const MacAddr& src_mac) {
  options.target = target;
  options.target_port = port;
  options.src_mac = src_mac;
  // A pool of its own that lives as long as the EAL (frames may still be in flight when the run ends).
  absl::StatusOr<rte_mempool*> pool = CreateMbufPool("cps_flood", 4095);
  if (!pool.ok()) return pool.status();
  return SynFlood::Create("cps_flood", options, *pool);
}

// --flood-only: resolves the target's next hop (one ping), then idles for the duration while
// WithSynFlood sends.
class FloodOnly : public App {
 public:
  FloodOnly(Ipv4Addr next_hop, Duration duration) : next_hop_(next_hop), duration_(duration) {}
  absl::Status Start(Engine& engine) override {
    start_ = engine.tcp().now();
    std::printf("flooding for %.0f s (no legitimate connections)\n", duration_.seconds());
    std::fflush(stdout);
    return absl::OkStatus();
  }
  void OnEvent(Engine&, const Event&) override {}
  void OnPoll(Engine& engine, Instant now) override {
    if (start_ == Instant()) start_ = now;
    now_ = now;
    if (!engine.Resolved(next_hop_) && now >= next_ping_) {
      engine.Probe(now, next_hop_);  // makes ARP resolve the next hop
      next_ping_ = now + Duration::Milliseconds(200);
    }
    if (now - start_ >= duration_ || StopRequested()) done_ = true;
  }
  bool Done() const override { return done_; }
  Duration elapsed() const { return now_ - start_; }

 private:
  Ipv4Addr next_hop_;
  Duration duration_;
  Instant start_;
  Instant now_;
  Instant next_ping_;
  bool done_ = false;
};

void PrintFloodSummary(FILE* out, const SynFlood& flood, Duration elapsed) {
  const double secs = std::max(elapsed.seconds(), 1e-9);
  std::fprintf(out, "flood: %llu spoofed SYNs sent (%.0f/s) from %s, %llu not sent (device busy)\n",
               static_cast<unsigned long long>(flood.sent()), static_cast<double>(flood.sent()) / secs,
               flood.options().sources.ToString().c_str(), static_cast<unsigned long long>(flood.not_sent()));
}

absl::StatusOr<ClientConfig> ParseClient(const cli::Flags& flags, Mode mode) {
  ClientConfig c;
  absl::StatusOr<int64_t> k = flags.GetInt("concurrency", 16, 1, kMaxConcurrency);
  if (!k.ok()) return k.status();
  c.concurrency = static_cast<uint32_t>(*k);
  absl::StatusOr<int64_t> duration = flags.GetInt("duration", 5, 1, 86400);
  if (!duration.ok()) return duration.status();
  c.duration = Duration::Seconds(*duration);
  absl::StatusOr<int64_t> n = flags.GetInt("connections", 0, 0, int64_t{1} << 50);
  if (!n.ok()) return n.status();
  c.connections = static_cast<uint64_t>(*n);
  absl::StatusOr<int64_t> request = flags.GetInt("request", 0, 0, kMaxRequest);
  if (!request.ok()) return request.status();
  c.request = static_cast<uint32_t>(*request);
  absl::StatusOr<int64_t> timeout = flags.GetInt("connect-timeout-ms", 1000, 1, 600000);
  if (!timeout.ok()) return timeout.status();
  c.connect_timeout = Duration::Milliseconds(*timeout);
  absl::StatusOr<int64_t> ports = flags.GetInt("ports", mode == Mode::kLoopback ? 32 : 1, 1, 1024);
  if (!ports.ok()) return ports.status();
  c.ports = static_cast<uint16_t>(*ports);
  if (mode == Mode::kClient) {
    std::optional<std::string> connect = flags.Get("connect");
    if (!connect) return absl::InvalidArgumentError("--connect is required (e.g. --connect 198.18.0.1:5001)");
    std::vector<std::string> parts = absl::StrSplit(*connect, ':');
    int port = 0;
    absl::StatusOr<Ipv4Addr> addr =
        parts.size() == 2 ? ParseIpv4Addr(parts[0]) : absl::InvalidArgumentError("not ADDR:PORT");
    if (!addr.ok() || !absl::SimpleAtoi(parts[1], &port) || port < 1 || port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("--connect: '", *connect, "' is not ADDR:PORT (e.g. --connect 198.18.0.1:5001)"));
    }
    if (port + c.ports - 1 > 65535) return absl::InvalidArgumentError("--ports: the last port would pass 65535");
    c.dst = *addr;
    c.port = static_cast<uint16_t>(port);
  }
  return c;
}

int RunServer(const cli::SplitArgs& split, const cli::Flags& flags) {
  absl::StatusOr<CommonOptions> common = ParseCommon(flags);
  if (!common.ok()) return Fail(common.status().message());
  absl::StatusOr<int64_t> port = flags.GetInt("port", 5001, 1, 65535);
  if (!port.ok()) return Fail(port.status().message());
  // Connections live for a handshake each: a big table with as many compact TIME-WAIT entries (the server
  // holds TIME-WAIT when it answers a request and closes first).
  if (!flags.Has("max-connections")) common->max_connections = 65536;
  if (!flags.Has("max-time-wait")) common->max_time_wait = common->max_connections;
  absl::StatusOr<std::unique_ptr<Stack>> rt = CreateStack(kProgram, split, *common, TcpLayerConfig{});
  if (!rt.ok()) return Fail(rt.status().message());
  std::printf("port: %s\n", (*rt)->port().Describe().c_str());
  std::printf("tcp: %s\n", common->tuning.Describe().c_str());
  std::printf("engines: %s\n", (*rt)->dispatch().c_str());
  std::printf("listeners: %s\n", common->syn.Describe().c_str());
  InstallStopSignals();
  // One server per engine, each listening on its own lcore.
  std::vector<std::unique_ptr<CpsServer>> servers;
  std::vector<App*> apps;
  for (size_t i = 0; i < (*rt)->engines(); ++i) {
    servers.push_back(std::make_unique<CpsServer>(static_cast<uint16_t>(*port), 1, flags.Has("request")));
    apps.push_back(servers.back().get());
  }
  if (absl::Status s = (*rt)->RunAll(apps); !s.ok()) return Fail(s.message());
  for (const auto& server : servers) server->PrintSummary(stdout);
  (*rt)->PrintCounters(stdout, "synack-cps: stopped; counters:");
  return 0;
}

int RunClient(const cli::SplitArgs& split, const cli::Flags& flags) {
  absl::StatusOr<CommonOptions> common = ParseCommon(flags);
  if (!common.ok()) return Fail(common.status().message());
  absl::StatusOr<ClientConfig> config = ParseClient(flags, Mode::kClient);
  if (!config.ok()) return Fail(config.status().message());
  absl::StatusOr<std::optional<SynFloodOptions>> flood_options = ParseFlood(flags, config->duration);
  if (!flood_options.ok()) return Fail(flood_options.status().message());
  // The table also sizes the compact TIME-WAIT entries the client's closes leave behind: one per port.
  if (!flags.Has("max-connections")) common->max_connections = std::max<uint32_t>(65536, 4 * config->concurrency);
  if (!flags.Has("max-time-wait")) common->max_time_wait = common->max_connections;
  if (common->max_connections < 2 * config->concurrency) {
    return Fail(absl::StrCat("--concurrency: ", config->concurrency, " needs --max-connections of at least ",
                             2 * config->concurrency));
  }
  config->max_connections = common->max_connections;
  TcpLayerConfig tcp;
  tcp.ephemeral_lo = kEphemeralLo;
  tcp.ephemeral_hi = kEphemeralHi;
  absl::StatusOr<std::unique_ptr<Stack>> rt = CreateStack(kProgram, split, *common, tcp);
  if (!rt.ok()) return Fail(rt.status().message());
  std::printf("port: %s\n", (*rt)->port().Describe().c_str());
  std::printf("tcp: %s\n", common->tuning.Describe().c_str());
  InstallStopSignals();
  std::unique_ptr<SynFlood> flood;
  if (*flood_options) {
    absl::StatusOr<std::unique_ptr<SynFlood>> f =
        MakeFlood(**flood_options, config->dst, config->port, (*rt)->engine().mac());
    if (!f.ok()) return Fail(f.status().message());
    flood = std::move(*f);
  }
  const Ipv4Addr next_hop = common->local.Contains(config->dst) ? config->dst : common->gateway.value_or(config->dst);
  if (flags.Has("flood-only")) {
    // No legitimate connections: only the flood, for --duration seconds.
    FloodOnly idle(next_hop, config->duration);
    WithSynFlood flooding(idle, *flood, next_hop);
    if (absl::Status s = (*rt)->Run(flooding); !s.ok()) return Fail(s.message());
    PrintFloodSummary(stdout, *flood, idle.elapsed());
    (*rt)->PrintCounters(stdout, "synack-cps: flood counters:");
    return flood->sent() > 0 ? 0 : 1;
  }
  CpsClient client(*config);
  std::optional<WithSynFlood> flooding;
  if (flood) flooding.emplace(client, *flood, next_hop);
  if (absl::Status s = (*rt)->Run(flooding ? static_cast<App&>(*flooding) : client); !s.ok()) return Fail(s.message());
  client.PrintSummary(stdout, (*rt)->engine().tcp().now());
  if (flood) PrintFloodSummary(stdout, *flood, client.elapsed((*rt)->engine().tcp().now()));
  (*rt)->PrintCounters(stdout, "synack-cps: client counters:");
  return client.ok() > 0 && client.failed() == 0 ? 0 : 1;
}

int RunLoopback(const cli::SplitArgs& split, const cli::Flags& flags) {
  absl::StatusOr<ClientConfig> config = ParseClient(flags, Mode::kLoopback);
  if (!config.ok()) return Fail(config.status().message());
  absl::StatusOr<std::optional<SynFloodOptions>> flood_options = ParseFlood(flags, config->duration);
  if (!flood_options.ok()) return Fail(flood_options.status().message());
  absl::StatusOr<int64_t> port = flags.GetInt("port", 5001, 1, 65535);
  if (!port.ok()) return Fail(port.status().message());
  if (*port + config->ports - 1 > 65535) return Fail("--ports: the last port would pass 65535");
  absl::StatusOr<int64_t> mbufs = flags.GetInt("mbufs", 16383, 1024, 16 << 20);
  if (!mbufs.ok()) return Fail(mbufs.status().message());

  LoopbackOptions lo;
  lo.mbufs = static_cast<uint32_t>(*mbufs);
  lo.hugepages = flags.Has("hugepages");
  // Full records for the connections in flight and those still closing; compact TIME-WAIT entries for
  // every 4-tuple the run can use (a closed port stays in TIME-WAIT for 60 s), so ports run out before
  // the table does.
  absl::StatusOr<int64_t> hold = flags.GetInt("hold", 0, 0, 4 << 20);
  if (!hold.ok()) return Fail(hold.status().message());
  if (static_cast<uint64_t>(*hold) + 65536 > uint64_t{config->ports} * kEphemeralSpan) {
    return Fail(absl::StrCat("--hold: ", *hold, " connections need more 4-tuples than --ports ", config->ports,
                             " give (", config->ports * kEphemeralSpan, "); raise --ports"));
  }
  const uint32_t live = std::max<uint32_t>(4096, 4 * config->concurrency) + static_cast<uint32_t>(*hold);
  const uint32_t time_wait = std::min<uint32_t>(config->ports * kEphemeralSpan, 4u << 20);
  for (TcpLayerConfig* t : {&lo.client_tcp, &lo.server_tcp}) {
    t->max_connections = live;
    t->max_time_wait = time_wait;
    t->syn_backlog = t->accept_backlog = std::max<uint32_t>(1024, 2 * config->concurrency);
  }
  SynDefenceOptions syn_defaults;
  syn_defaults.syn_backlog = lo.server_tcp.syn_backlog;
  syn_defaults.max_half_open = std::max<uint32_t>(4096, 2 * lo.server_tcp.syn_backlog);
  absl::StatusOr<SynDefenceOptions> syn = ParseSynDefence(flags, syn_defaults);
  if (!syn.ok()) return Fail(syn.status().message());
  syn->ApplyTo(lo.server_tcp);
  absl::StatusOr<TuningOptions> tuning = ParseTuning(flags);
  if (!tuning.ok()) return Fail(tuning.status().message());
  tuning->ApplyTo(lo.client_tcp);
  tuning->ApplyTo(lo.server_tcp);
  lo.impair = tuning->impair;
  if (*flood_options) lo.server_gateway = lo.client.addr;  // replies to spoofed sources come back to us
  lo.client_tcp.ephemeral_lo = kEphemeralLo;
  lo.client_tcp.ephemeral_hi = kEphemeralHi;
  config->dst = lo.server.addr;
  config->port = static_cast<uint16_t>(*port);
  config->max_connections = live;

  absl::StatusOr<int64_t> pingpong = flags.GetInt("pingpong", 0, 0, 1400);
  if (!pingpong.ok()) return Fail(pingpong.status().message());

  lo.program = kProgram;
  lo.eal_args = split.eal;
  absl::StatusOr<std::unique_ptr<Loopback>> lb = Loopback::Create(lo);
  if (!lb.ok()) return Fail(lb.status().message());
  std::printf("%s\n", (*lb)->Describe().c_str());
  std::printf("tcp: %s\n", tuning->Describe().c_str());
  std::printf("server listeners: %s\n", syn->Describe().c_str());
  InstallStopSignals();
  if (*pingpong > 0) {
    EchoServer echo(config->port);
    PingPongClient pp(config->dst, config->port, static_cast<uint32_t>(*pingpong), config->duration);
    if (absl::Status s = (*lb)->Run(echo, pp); !s.ok()) return Fail(s.message());
    pp.PrintSummary(stdout);
    PrintEngineCounters(stdout, {&(*lb)->client()}, "client counters:");
    PrintEngineCounters(stdout, {&(*lb)->server()}, "server counters:");
    return pp.ok() ? 0 : 1;
  }
  CpsServer server(config->port, config->ports, config->request != 0, static_cast<uint64_t>(*hold));
  CpsClient client(*config);
  App* client_app = &client;
  std::optional<HoldFirst> holding;
  if (*hold > 0) {
    holding.emplace(client, *config, static_cast<uint64_t>(*hold), &(*lb)->server());
    client_app = &*holding;
  }
  std::unique_ptr<SynFlood> flood;
  std::optional<WithSynFlood> flooding;
  if (*flood_options) {
    absl::StatusOr<std::unique_ptr<SynFlood>> f =
        MakeFlood(**flood_options, lo.server.addr, config->port, (*lb)->client().mac());
    if (!f.ok()) return Fail(f.status().message());
    flood = std::move(*f);
    flooding.emplace(*client_app, *flood, lo.server.addr);
    client_app = &*flooding;
  }
  if (absl::Status s = (*lb)->Run(server, *client_app); !s.ok()) return Fail(s.message());
  if (holding && holding->dropped() > 0) {
    std::printf("hold: %llu of the held connections closed during the run\n",
                static_cast<unsigned long long>(holding->dropped()));
  }
  client.PrintSummary(stdout, (*lb)->client().tcp().now());
  if (flood) PrintFloodSummary(stdout, *flood, client.elapsed((*lb)->client().tcp().now()));
  server.PrintSummary(stdout);
  PrintEngineCounters(stdout, {&(*lb)->client()}, "client counters:");
  PrintEngineCounters(stdout, {&(*lb)->server()}, "server counters:");
  return client.ok() > 0 && client.failed() == 0 ? 0 : 1;
}

int Main(int argc, char** argv) {
  return RunModeTool(argc, argv, {kProgram, kSummary, ModeFlags, HelpFlags(), RunServer, RunClient, RunLoopback});
}

}  // namespace
}  // namespace synack::app

int main(int argc, char** argv) { return synack::app::Main(argc, argv); }
