// synack_vdev_pair: the engine-pair TCP checks between two processes over a real virtual device (net_memif,
// net_af_packet, ...), through the public API (Stack, Application). Run as
//   synack_vdev_pair [EAL options] -- --role server --ip 198.18.0.2/24
//   synack_vdev_pair [EAL options] -- --role client --ip 198.18.0.1/24 --peer 198.18.0.2
// The server echoes on port 7 (closing when the client does) and on port 8 sends what an 8-byte request
// (size, seed) asks for, then closes first. The client runs the scenarios one after another — echo of sizes
// from 1 byte to 1 MB (by copy and as chained mbufs of odd sizes), every byte checked; the server closing
// first; --connections short connections, --concurrency at a time, both close orders mixed — then waits
// for every connection to finish and checks that its pools are back where they started, that no
// checksum failed, and that each close order took the path RFC 9293 gives it. It prints one verdict line
// ("vdev_pair client: PASS ..." or "vdev_pair client: FAIL ...") and exits 0 only on PASS, after
// --linger-s seconds or SIGINT, not polling the port meanwhile (so a driver can stop the server first). The server
// checks its own pools and connections when SIGINT/SIGTERM stops it, prints its verdict and exits 0 only on PASS.
// tests/interop/vdev_pair.sh starts the pair on each device.
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/api/synack.h"
#include "lib/core/clock.h"

namespace synack {
namespace {

constexpr uint16_t kEchoPort = 7;  // echo; the client closes first
constexpr uint16_t kSendPort = 8;  // sends what the request asks for; the server closes first
constexpr size_t kRequestLen = 8;  // little-endian u32 size, u32 seed

// The byte at `offset` of the stream with `seed`: every connection's stream differs from every other's.
uint8_t PatternByte(uint32_t seed, uint32_t offset) {
  uint32_t x = offset * 2654435761u ^ (seed + 1) * 40503u;
  x ^= x >> 15;
  x *= 2246822519u;
  return static_cast<uint8_t>(x >> 24);
}

void FillPattern(uint32_t seed, uint32_t offset, uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = PatternByte(seed, offset + static_cast<uint32_t>(i));
}

struct PoolMark {
  unsigned frames = 0;
  unsigned indirect = 0;
};
PoolMark InUse(const Engine& engine) {
  return {rte_mempool_in_use_count(engine.pool()), rte_mempool_in_use_count(engine.indirect_pool())};
}

uint64_t ChecksumDrops(const Engine& engine) {
  return engine.counters().dropped(Drop::kIpBadChecksum) + engine.counters().dropped(Drop::kTcpBadChecksum) +
         engine.counters().dropped(Drop::kIcmpBadChecksum);
}

// ---------------------------------------------------------------------------------------------------------
// The server.

class Server : public Application {
 public:
  explicit Server(int64_t corrupt_at) : corrupt_at_(corrupt_at) {}

  absl::Status Start(Engine& engine) override {
    for (uint16_t port : {kEchoPort, kSendPort}) {
      if (absl::Status s = engine.tcp().Listen(port); !s.ok()) return s;
    }
    std::printf("listening on %s:%u,%u (vdev pair server: echo, send-and-close)\n",
                engine.local().addr.ToString().c_str(), kEchoPort, kSendPort);
    std::fflush(stdout);
    return absl::OkStatus();
  }

  void OnEvent(Engine& engine, const Event& e) override {
    TcpLayer& tcp = engine.tcp();
    if (e.type == EventType::kAccepted) {
      Conn& c = conns_[e.conn.index];
      c = Conn{};
      c.id = e.conn;
      c.send_port = e.local_port == kSendPort;
      ++accepted_;
      ++(c.send_port ? accepted_send_ : accepted_echo_);
    }
    auto it = conns_.find(e.conn.index);
    if (it == conns_.end() || it->second.id != e.conn) return;
    Conn& c = it->second;
    switch (e.type) {
      case EventType::kAccepted:
      case EventType::kReadable:
      case EventType::kWritable:
        Serve(tcp, c);
        break;
      case EventType::kPeerClosed:
        if (c.send_port) {
          Error(absl::StrFormat("port %u: the client closed before the server (%u of %u bytes sent)", kSendPort, c.sent,
                                c.size));
          tcp.Close(c.id);
          conns_.erase(it);
          break;
        }
        c.closing = true;
        Serve(tcp, c);
        break;
      case EventType::kClosed:
        if (e.error != TcpError::kNone) Error(absl::StrCat("a connection ended: ", ErrorName(e.error)));
        conns_.erase(it);
        break;
      case EventType::kConnected:
        break;
    }
  }

  void OnPoll(Engine& engine, Instant now) override {
    // What the device holds when idle: the last poll before the first connection (the gratuitous ARP may
    // wait in the outbox until the link is up).
    if (accepted_ == 0) baseline_ = InUse(engine);
    // Retry what the send buffer refused (kWritable also says when), at most every millisecond.
    if (now < next_retry_) return;
    next_retry_ = now + Duration::Milliseconds(1);
    std::vector<uint32_t> busy;
    for (auto& [index, c] : conns_) {
      if (c.pending || (c.send_port && c.header_len == kRequestLen && c.sent < c.size)) busy.push_back(index);
    }
    for (uint32_t index : busy) {
      auto it = conns_.find(index);
      if (it != conns_.end()) Serve(engine.tcp(), it->second);
    }
  }

  // After the run: every connection gone, every mbuf back, no error seen. Prints the verdict.
  bool Check(const Engine& engine) {
    const PoolMark now = InUse(engine);
    if (engine.tcp().connections() != 0) {
      Error(absl::StrFormat("%u connections still open", engine.tcp().connections()));
    }
    if (baseline_ && (now.frames != baseline_->frames || now.indirect != baseline_->indirect)) {
      Error(absl::StrFormat("mbufs in use %u (indirect %u), %u (%u) at start", now.frames, now.indirect,
                            baseline_->frames, baseline_->indirect));
    }
    if (uint64_t n = ChecksumDrops(engine); n != 0) Error(absl::StrFormat("%u frames with a bad checksum", n));
    std::printf(
        "vdev_pair server: %s: accepted %u (echo %u, send-and-close %u), %" PRIu64 " bytes in, %" PRIu64
        " out, %" PRIu64 " retransmits, TIME-WAIT %u, mbufs in use %u (indirect %u), %u (%u) at start%s\n",
        errors_.empty() ? "PASS" : "FAIL", accepted_, accepted_echo_, accepted_send_, engine.tcp().counters().bytes_in,
        engine.tcp().counters().bytes_out, engine.tcp().tcp_counters().retransmits,
        static_cast<unsigned>(engine.tcp().time_wait_entries()), now.frames, now.indirect,
        baseline_ ? baseline_->frames : 0u, baseline_ ? baseline_->indirect : 0u,
        errors_.empty() ? "" : absl::StrCat("; ", errors_.size(), " error(s), first: ", errors_.front()).c_str());
    std::fflush(stdout);
    return errors_.empty();
  }

 private:
  struct Conn {
    ConnId id;
    bool send_port = false;
    bool closing = false;  // echo: the client closed; close once everything is echoed
    Mbuf pending;          // echo: what the send buffer refused
    uint64_t echoed = 0;   // echo: bytes handed back
    uint8_t header[kRequestLen] = {};
    size_t header_len = 0;
    uint32_t size = 0, seed = 0, sent = 0;  // send port: the request and how far it got
  };

  void Serve(TcpLayer& tcp, Conn& c) {
    if (c.send_port) {
      ServeSend(tcp, c);
    } else {
      ServeEcho(tcp, c);
    }
  }

  void ServeEcho(TcpLayer& tcp, Conn& c) {
    if (c.pending && tcp.Send(c.id, std::move(c.pending)) != SendStatus::kOk) return;
    c.pending.reset();
    while (Mbuf m = tcp.Recv(c.id)) {
      MaybeCorrupt(c, m);
      c.echoed += m.pkt_len();
      if (tcp.Send(c.id, std::move(m)) != SendStatus::kOk) {
        c.pending = std::move(m);  // left with us; kWritable follows
        return;
      }
    }
    if (c.closing) {
      const ConnId id = c.id;
      conns_.erase(id.index);
      tcp.Close(id);  // FIN after everything echoed
    }
  }

  void ServeSend(TcpLayer& tcp, Conn& c) {
    while (c.header_len < kRequestLen) {
      const size_t n = tcp.RecvCopy(c.id, MutableBytes(c.header + c.header_len, kRequestLen - c.header_len));
      if (n == 0) return;
      c.header_len += n;
      if (c.header_len == kRequestLen) {
        std::memcpy(&c.size, c.header, 4);
        std::memcpy(&c.seed, c.header + 4, 4);
      }
    }
    uint8_t buf[16384];
    while (c.sent < c.size) {
      const size_t n = std::min<size_t>(sizeof(buf), c.size - c.sent);
      FillPattern(c.seed, c.sent, buf, n);
      const size_t took = tcp.SendCopy(c.id, ConstBytes(buf, n));
      c.sent += static_cast<uint32_t>(took);
      if (took < n) return;  // kWritable follows
    }
    const ConnId id = c.id;
    conns_.erase(id.index);
    tcp.Close(id);  // the server closes first
  }

  // --corrupt-at N: flips the echoed byte at offset N of the first echo connection that gets that far (to
  // show that the client's checks fail).
  void MaybeCorrupt(const Conn& c, Mbuf& m) {
    if (corrupt_at_ < 0 || corrupted_) return;
    const uint64_t at = static_cast<uint64_t>(corrupt_at_);
    if (at < c.echoed || at >= c.echoed + m.pkt_len()) return;
    uint64_t off = at - c.echoed;
    for (rte_mbuf* seg = m.get(); seg != nullptr; seg = seg->next) {
      if (off < seg->data_len) {
        rte_pktmbuf_mtod_offset(seg, uint8_t*, off)[0] ^= 0x5a;
        corrupted_ = true;
        std::printf("vdev_pair server: corrupted echoed byte %" PRId64 " (--corrupt-at)\n", corrupt_at_);
        return;
      }
      off -= seg->data_len;
    }
  }

  void Error(std::string msg) {
    if (errors_.size() < 5) std::fprintf(stderr, "vdev_pair server: %s\n", msg.c_str());
    errors_.push_back(std::move(msg));
  }

  int64_t corrupt_at_;
  bool corrupted_ = false;
  absl::flat_hash_map<uint32_t, Conn> conns_;  // by ConnId index
  unsigned accepted_ = 0, accepted_echo_ = 0, accepted_send_ = 0;
  std::optional<PoolMark> baseline_;
  Instant next_retry_;
  std::vector<std::string> errors_;
};

// ---------------------------------------------------------------------------------------------------------
// The client.

struct ClientOptions {
  Ipv4Addr peer;
  uint32_t connections = 300;  // the many-connections phase
  uint32_t concurrency = 64;
  Duration timeout = Duration::Seconds(30);  // for everything up to the verdict
  Duration linger = Duration();              // after the verdict, until SIGINT
};

class Client : public Application {
 public:
  explicit Client(const ClientOptions& options) : options_(options) {}

  absl::Status Start(Engine& engine) override {
    std::printf("vdev pair client: towards %s, %u connections (%u at a time)\n", options_.peer.ToString().c_str(),
                options_.connections, options_.concurrency);
    std::fflush(stdout);
    return absl::OkStatus();
  }

  void OnEvent(Engine& engine, const Event& e) override {
    if (phase_ == Phase::kVerdict) return;
    TcpLayer& tcp = engine.tcp();
    auto it = flows_.find(e.conn.index);
    if (it == flows_.end() || it->second.id != e.conn) return;
    Flow& f = it->second;
    switch (e.type) {
      case EventType::kConnected:
        f.connected = true;
        Pump(tcp, f);
        break;
      case EventType::kReadable:
      case EventType::kWritable:
        Pump(tcp, f);
        break;
      case EventType::kPeerClosed: {
        if (!f.send_port) {
          return Fail(
              absl::StrFormat("%s: the server closed first after %u of %u bytes", f.Name(), f.received, f.size));
        }
        Pump(tcp, f);  // what arrived before the FIN
        if (phase_ == Phase::kVerdict) return;
        if (f.received != f.size) {
          return Fail(absl::StrFormat("%s: the server closed after %u of %u bytes", f.Name(), f.received, f.size));
        }
        Finish(tcp, f);
        break;
      }
      case EventType::kClosed:
        return Fail(
            absl::StrFormat("%s: closed (%s) after %u of %u bytes", f.Name(), ErrorName(e.error), f.received, f.size));
      case EventType::kAccepted:
        break;
    }
  }

  void OnPoll(Engine& engine, Instant now) override {
    if (!started_) {
      started_ = true;
      start_ = now;
    }
    // What the device holds when idle: the last poll before the first connection.
    if (phase_ == Phase::kResolve) baseline_ = InUse(engine);
    if (phase_ == Phase::kVerdict) return;
    if (!(now < start_ + options_.timeout)) {
      return Fail(absl::StrFormat("timed out after %.1f s in phase %s (%u connections open, %u finished)",
                                  (now - start_).seconds(), PhaseName(), static_cast<unsigned>(flows_.size()),
                                  finished_));
    }
    if (StopRequested()) return Fail(absl::StrCat("interrupted in phase ", PhaseName()));
    TcpLayer& tcp = engine.tcp();
    if (now < next_retry_) return;
    next_retry_ = now + Duration::Microseconds(200);
    // Retry sends the buffer refused (kWritable also says when). Pump may finish (erase) a flow.
    std::vector<uint32_t> busy;
    for (const auto& [index, f] : flows_) {
      if (f.connected && f.sent < (f.send_port ? kRequestLen : f.size)) busy.push_back(index);
    }
    for (uint32_t index : busy) {
      auto it = flows_.find(index);
      if (it != flows_.end()) Pump(tcp, it->second);
      if (phase_ == Phase::kVerdict) return;
    }
    switch (phase_) {
      case Phase::kResolve:
        if (engine.Resolved(options_.peer)) {
          std::printf("vdev pair client: %s resolved after %.3f s\n", options_.peer.ToString().c_str(),
                      (now - start_).seconds());
          std::fflush(stdout);
          phase_start_ = now;
          phase_ = Phase::kEcho;
          // Echo: one connection per size, at once; even ones by copy, odd ones as chained mbufs.
          const uint32_t sizes[] = {1, 2, 535, 1459, 1460, 1461, 2920, 4097, 65535, 65536, 262143, 1000000};
          for (size_t i = 0; i < std::size(sizes); ++i) Open(tcp, kEchoPort, sizes[i], i % 2 == 1);
        } else if (!(now < next_probe_)) {
          engine.Probe(now, options_.peer);  // ARP, then a ping; again every 200 ms until the link is up
          next_probe_ = now + Duration::Milliseconds(200);
        }
        break;
      case Phase::kEcho:
        if (flows_.empty()) {
          EndPhase(now);
          phase_ = Phase::kServerCloses;
          // The server closes first: after nothing, a byte, a segment, and more than its buffers hold.
          for (uint32_t size : {0u, 1u, 1460u, 100000u, 1000000u}) Open(tcp, kSendPort, size, false);
        }
        break;
      case Phase::kServerCloses:
        if (flows_.empty()) {
          EndPhase(now);
          phase_ = Phase::kMany;
        }
        break;
      case Phase::kMany:
        while (many_opened_ < options_.connections && flows_.size() < options_.concurrency) {
          const uint32_t k = many_opened_++;
          // 1 to 4000 bytes; odd ones ask the server to send and close first, every third sends chains.
          Open(tcp, k % 2 == 0 ? kEchoPort : kSendPort, 1 + (k * 7919u) % 4000u, k % 3 == 0);
          if (phase_ == Phase::kVerdict) return;
        }
        if (flows_.empty() && many_opened_ == options_.connections) {
          EndPhase(now);
          phase_ = Phase::kDrain;
        }
        break;
      case Phase::kDrain:
        // Every connection finished (the last ACKs of LAST-ACK included), then 200 ms of quiet.
        if (tcp.connections() != 0) {
          quiet_since_ = now;
        } else if (!(now < quiet_since_ + Duration::Milliseconds(200))) {
          Verdict(engine, now);
        }
        break;
      case Phase::kVerdict:
        break;
    }
  }

  bool Done() const override { return phase_ == Phase::kVerdict; }
  bool passed() const { return phase_ == Phase::kVerdict && error_.empty(); }

 private:
  enum class Phase { kResolve, kEcho, kServerCloses, kMany, kDrain, kVerdict };
  const char* PhaseName() const {
    switch (phase_) {
      case Phase::kResolve:
        return "resolve";
      case Phase::kEcho:
        return "echo";
      case Phase::kServerCloses:
        return "server-closes-first";
      case Phase::kMany:
        return "many-connections";
      case Phase::kDrain:
        return "drain";
      case Phase::kVerdict:
        return "verdict";
    }
    return "?";
  }

  struct Flow {
    ConnId id;
    uint32_t number = 0;     // in the order opened
    bool send_port = false;  // the server sends `size` bytes and closes first
    bool chained = false;    // send chained mbufs of odd sizes instead of SendCopy
    bool connected = false;
    uint32_t size = 0, seed = 0;
    uint32_t sent = 0;  // echo: payload bytes queued; send port: request bytes queued
    uint32_t received = 0;
    std::string Name() const {
      return absl::StrFormat("connection %u (port %u, %u bytes%s)", number, send_port ? kSendPort : kEchoPort, size,
                             chained ? ", chained mbufs" : "");
    }
  };

  void Open(TcpLayer& tcp, uint16_t port, uint32_t size, bool chained) {
    absl::StatusOr<ConnId> id = tcp.Connect(options_.peer, port, Duration::Seconds(5));
    if (!id.ok()) return Fail(absl::StrCat("connect: ", id.status().ToString()));
    Flow f;
    f.id = *id;
    f.number = opened_++;
    f.send_port = port == kSendPort;
    f.chained = chained;
    f.size = size;
    f.seed = f.number * 7 + 3;
    tcp.SetUserData(*id, f.number);
    flows_[id->index] = f;
  }

  // Sends what is due and checks what arrived.
  void Pump(TcpLayer& tcp, Flow& f) {
    if (!f.connected) return;
    if (f.send_port) {
      if (f.sent < kRequestLen) {
        uint8_t req[kRequestLen];
        std::memcpy(req, &f.size, 4);
        std::memcpy(req + 4, &f.seed, 4);
        f.sent += static_cast<uint32_t>(tcp.SendCopy(f.id, ConstBytes(req + f.sent, kRequestLen - f.sent)));
      }
    } else if (f.chained) {
      SendChains(tcp, f);
    } else {
      uint8_t buf[16384];
      while (f.sent < f.size) {
        const size_t n = std::min<size_t>(sizeof(buf), f.size - f.sent);
        FillPattern(f.seed, f.sent, buf, n);
        const size_t took = tcp.SendCopy(f.id, ConstBytes(buf, n));
        f.sent += static_cast<uint32_t>(took);
        bytes_out_ += took;
        if (took < n) break;
      }
    }
    uint8_t buf[16384];
    while (size_t n = tcp.RecvCopy(f.id, MutableBytes(buf, sizeof(buf)))) {
      if (f.received + n > f.size) {
        return Fail(absl::StrFormat("%s: %u bytes received, more than %u", f.Name(), f.received + n, f.size));
      }
      for (size_t i = 0; i < n; ++i) {
        const uint8_t want = PatternByte(f.seed, f.received + static_cast<uint32_t>(i));
        if (buf[i] != want) {
          return Fail(absl::StrFormat("%s: byte %u is 0x%02x, expected 0x%02x", f.Name(),
                                      f.received + static_cast<uint32_t>(i), buf[i], want));
        }
      }
      f.received += static_cast<uint32_t>(n);
      bytes_in_ += n;
    }
    if (!f.send_port && f.received == f.size) Finish(tcp, f);  // echo: the client closes first
  }

  // Zero-copy sends of up to 3 chained mbufs of odd sizes per Send.
  void SendChains(TcpLayer& tcp, Flow& f) {
    static constexpr uint16_t kSegSizes[] = {700, 333, 1201, 1, 1500, 97};
    while (f.sent < f.size) {
      Mbuf head;
      uint32_t len = 0;
      for (int s = 0; s < 3 && f.sent + len < f.size; ++s) {
        const uint16_t n = static_cast<uint16_t>(std::min<uint32_t>(
            kSegSizes[(f.sent / 97 + s + chain_turn_++) % std::size(kSegSizes)], f.size - f.sent - len));
        Mbuf seg = tcp.AllocTxMbuf();
        if (!seg) return;  // the pool is short: try again on the next poll
        uint8_t* p = seg.Append(n);
        if (p == nullptr) return;
        FillPattern(f.seed, f.sent + len, p, n);
        if (!head) {
          head = std::move(seg);
        } else if (rte_mbuf* raw = seg.release(); rte_pktmbuf_chain(head.get(), raw) != 0) {
          rte_pktmbuf_free(raw);  // too many segments: send what is chained
          break;
        }
        len += n;
      }
      if (tcp.Send(f.id, std::move(head)) != SendStatus::kOk) return;  // left with us: freed; kWritable follows
      f.sent += len;
      bytes_out_ += len;
      ++chains_sent_;
    }
  }

  void Finish(TcpLayer& tcp, Flow& f) {
    (f.send_port ? server_closed_first_ : client_closed_first_) += 1;
    ++finished_;
    const ConnId id = f.id;
    flows_.erase(id.index);
    tcp.Close(id);
  }

  void EndPhase(Instant now) {
    std::printf("vdev pair client: phase %s done in %.3f s (%u connections finished so far)\n", PhaseName(),
                (now - phase_start_).seconds(), finished_);
    std::fflush(stdout);
    phase_start_ = now;
  }

  void Fail(std::string msg) {
    if (phase_ == Phase::kVerdict) return;
    error_ = std::move(msg);
    std::printf("vdev_pair client: FAIL: %s\n", error_.c_str());
    std::fflush(stdout);
    phase_ = Phase::kVerdict;
  }

  void Verdict(const Engine& engine, Instant now) {
    const TcpLayer& tcp = engine.tcp();
    const PoolMark end = InUse(engine);
    if (end.frames != baseline_.frames || end.indirect != baseline_.indirect) {
      return Fail(absl::StrFormat("mbufs in use %u (indirect %u), %u (%u) at start", end.frames, end.indirect,
                                  baseline_.frames, baseline_.indirect));
    }
    if (uint64_t n = ChecksumDrops(engine); n != 0) return Fail(absl::StrFormat("%u frames with a bad checksum", n));
    // The client closed first: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT. The server did: CLOSE-WAIT, LAST-ACK.
    const uint64_t tw = tcp.tcp_counters().transitions_to(TcpState::kTimeWait);
    const uint64_t last_ack = tcp.tcp_counters().transitions_to(TcpState::kLastAck);
    if (tw != client_closed_first_ || last_ack != server_closed_first_) {
      return Fail(
          absl::StrFormat("%u TIME-WAIT and %u LAST-ACK transitions for %u client-first and %u "
                          "server-first closes",
                          tw, last_ack, client_closed_first_, server_closed_first_));
    }
    phase_ = Phase::kVerdict;
    std::printf("vdev_pair client: PASS: %u connections (%u closed first by the client, %u by the server), %" PRIu64
                " bytes sent and %" PRIu64 " received, every byte checked, %u chained sends, %" PRIu64
                " retransmits, mbufs in use %u (indirect %u) as at start, in %.3f s\n",
                finished_, client_closed_first_, server_closed_first_, bytes_out_, bytes_in_, chains_sent_,
                tcp.tcp_counters().retransmits, end.frames, end.indirect, (now - start_).seconds());
    std::fflush(stdout);
  }

  ClientOptions options_;
  Phase phase_ = Phase::kResolve;
  bool started_ = false;
  Instant start_, phase_start_, next_probe_, next_retry_, quiet_since_;
  PoolMark baseline_;
  absl::flat_hash_map<uint32_t, Flow> flows_;  // open connections by ConnId index
  uint32_t opened_ = 0, finished_ = 0, many_opened_ = 0, chains_sent_ = 0, chain_turn_ = 0;
  uint32_t client_closed_first_ = 0, server_closed_first_ = 0;
  uint64_t bytes_out_ = 0, bytes_in_ = 0;
  std::string error_;
};

// ---------------------------------------------------------------------------------------------------------

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "synack_vdev_pair: %s\nusage: synack_vdev_pair [EAL options] -- --role server|client --ip A/N "
               "[--peer A] [--connections N] [--concurrency N] [--timeout-s S] [--linger-s S] [--corrupt-at N]\n",
               why.c_str());
  return 2;
}

int Main(int argc, char** argv) {
  StackConfig config;
  config.program = "synack_vdev_pair";
  std::vector<std::string> app;
  bool after = false;
  for (int i = 1; i < argc; ++i) {
    if (!after && std::strcmp(argv[i], "--") == 0) {
      after = true;
    } else {
      (after ? app : config.eal_args).emplace_back(argv[i]);
    }
  }
  std::string role;
  ClientOptions client_options;
  bool have_ip = false, have_peer = false;
  int64_t corrupt_at = -1;
  for (size_t i = 0; i < app.size(); ++i) {
    const std::string& flag = app[i];
    if (i + 1 >= app.size()) return Usage(flag + " needs a value");
    const std::string& v = app[++i];
    uint32_t n = 0;
    if (flag == "--role" && (v == "server" || v == "client")) {
      role = v;
    } else if (flag == "--ip") {
      absl::StatusOr<Ipv4Prefix> p = ParseIpv4Prefix(v);
      if (!p.ok()) return Usage("--ip: " + std::string(p.status().message()));
      config.local = *p;
      have_ip = true;
    } else if (flag == "--peer") {
      absl::StatusOr<Ipv4Addr> a = ParseIpv4Addr(v);
      if (!a.ok()) return Usage("--peer: " + std::string(a.status().message()));
      client_options.peer = *a;
      have_peer = true;
    } else if (flag == "--connections" && absl::SimpleAtoi(v, &n) && n > 0 && n <= 100000) {
      client_options.connections = n;
    } else if (flag == "--concurrency" && absl::SimpleAtoi(v, &n) && n > 0 && n <= 1000) {
      client_options.concurrency = n;
    } else if (flag == "--timeout-s" && absl::SimpleAtoi(v, &n) && n > 0 && n <= 3600) {
      client_options.timeout = Duration::Seconds(n);
    } else if (flag == "--linger-s" && absl::SimpleAtoi(v, &n) && n <= 3600) {
      client_options.linger = Duration::Seconds(n);
    } else if (flag == "--corrupt-at" && absl::SimpleAtoi(v, &n)) {
      corrupt_at = n;
    } else {
      return Usage("bad flag or value: " + flag + " " + v);
    }
  }
  if (role.empty()) return Usage("--role server|client is required");
  if (!have_ip) return Usage("--ip is required");
  if (role == "client" && !have_peer) return Usage("--peer is required with --role client");

  absl::StatusOr<std::unique_ptr<Stack>> stack = Stack::Create(config);
  if (!stack.ok()) {
    std::fprintf(stderr, "synack_vdev_pair: %s\n", std::string(stack.status().message()).c_str());
    return 2;
  }
  std::printf("port: %s\n", (*stack)->port().Describe().c_str());
  std::printf("device: %s\n", (*stack)->port().DescribeDevice().c_str());
  std::fflush(stdout);
  InstallStopSignals();
  bool pass = false;
  if (role == "server") {
    Server server(corrupt_at);
    if (absl::Status s = (*stack)->Run(server); !s.ok()) {
      std::fprintf(stderr, "synack_vdev_pair: %s\n", s.ToString().c_str());
      return 1;
    }
    pass = server.Check((*stack)->engine(0));
  } else {
    Client client(client_options);
    if (absl::Status s = (*stack)->Run(client); !s.ok()) {
      std::fprintf(stderr, "synack_vdev_pair: %s\n", s.ToString().c_str());
      return 1;
    }
    pass = client.passed();
    if (!pass) (*stack)->PrintCounters(stdout, "vdev_pair client counters:");
    // Linger with the port open but no lcore polling it, until SIGINT: the driver stops the server first.
    // (DPDK 22.11's memif driver unmaps a departing peer's memory from its control thread while an lcore
    // may be inside rx_burst; nothing polls here, and the server stops polling before it closes its port.)
    TscClock clock;
    const Instant until = clock.Now() + client_options.linger;
    while (!StopRequested() && clock.Now() < until) rte_delay_us_sleep(10000);
  }
  return pass ? 0 : 1;
}

}  // namespace
}  // namespace synack

int main(int argc, char** argv) { return synack::Main(argc, argv); }
