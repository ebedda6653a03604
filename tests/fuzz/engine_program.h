// The input format of fuzz_engine: a little program. A 4-byte Config, then operations, each one op byte
// (taken modulo Op::kCount) followed by that op's fields: fixed-size little-endian integers, and for raw
// bytes a 2-byte length then the bytes. An input that ends early reads zeros for the rest of its last op.
// Each op's fields are listed once, in Fields(), which both the decoder (the target) and the encoder
// (make_corpus.cc) use, so the two cannot drift apart. The tables below give fields their meaning.
// Header-only test support, main thread.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "lib/base/time.h"
#include "lib/net/addr.h"

namespace synack::fuzz {

// --- The world the program runs in -----------------------------------------------------------------

inline constexpr Ipv4Addr kOurIp = Ipv4Addr::Of(198, 18, 0, 2);
inline constexpr MacAddr kOurMac{{0x02, 0x53, 0, 0, 0, 0x02}};
// Peers by index (field value & 7). 0-2 are on-link and known by ARP from the start; 3 is on-link but
// unknown (ARP must resolve it, or give up); 4 is the subnet broadcast, 5 off-link (no gateway: no
// route back), 6 is 0.0.0.0, 7 is our own address (both refused as sources).
inline constexpr std::array<Ipv4Addr, 8> kPeerIps = {Ipv4Addr::Of(198, 18, 0, 1),   Ipv4Addr::Of(198, 18, 0, 3),
                                                     Ipv4Addr::Of(198, 18, 0, 4),   Ipv4Addr::Of(198, 18, 0, 5),
                                                     Ipv4Addr::Of(198, 18, 0, 255), Ipv4Addr::Of(198, 19, 0, 1),
                                                     Ipv4Addr::Of(0, 0, 0, 0),      Ipv4Addr::Of(198, 18, 0, 2)};
inline constexpr int kKnownPeers = 3;
inline MacAddr PeerMac(uint8_t peer) { return MacAddr{{0x02, 0x4b, 0, 0, 0, static_cast<uint8_t>(0x10 + (peer & 7))}}; }
inline constexpr std::array<uint16_t, 8> kPeerPorts = {40000, 40001, 40002, 50000, 1024, 65535, 80, 0};
// Our ports a SYN goes to (value & 3): two listeners, a closed port, port 0.
inline constexpr uint16_t kListenPort = 80;
inline constexpr uint16_t kListenPort2 = 8080;
inline constexpr std::array<uint16_t, 4> kLocalPorts = {kListenPort, kListenPort2, 81, 0};
// Remote ports for Connect (value & 3).
inline constexpr std::array<uint16_t, 4> kConnectPorts = {80, 443, 8080, 40000};
// Connect timeouts (value & 3); 0 = only the SYN retry limit.
inline constexpr std::array<Duration, 4> kConnectTimeouts = {Duration(), Duration::Milliseconds(500),
                                                             Duration::Seconds(3), Duration::Seconds(30)};
// Payload lengths of injected segments (value & 15).
inline constexpr std::array<uint16_t, 16> kPayloadLens = {0,    1,    2,    7,    100,  511,  535,  536,
                                                          1000, 1447, 1448, 1459, 1460, 1461, 1500, 1800};
// Application send sizes (value & 15).
inline constexpr std::array<uint32_t, 16> kSendSizes = {1,    2,    3,    100,   535,   536,   1000,   1448,
                                                        1460, 2000, 4096, 16384, 65535, 65536, 100000, 300000};
// RecvCopy sizes ((value >> 1) & 7); value & 1 means Recv (everything, zero-copy).
inline constexpr std::array<uint32_t, 8> kRecvSizes = {1, 2, 100, 536, 1460, 4096, 65536, 1 << 20};
// SetTimeout / SetIdleTimeout durations (value & 7); 0 clears.
inline constexpr std::array<Duration, 8> kAppTimeouts = {
    Duration(),           Duration::Milliseconds(1), Duration::Milliseconds(100), Duration::Seconds(1),
    Duration::Seconds(5), Duration::Seconds(30),     Duration::Seconds(120),      Duration::Seconds(3600)};
// Clock steps (value & 15); 15 means the op's `ms` field in milliseconds.
inline constexpr std::array<Duration, 16> kAdvanceSteps = {
    Duration::Milliseconds(1),   Duration::Milliseconds(5),   Duration::Milliseconds(40), Duration::Milliseconds(41),
    Duration::Milliseconds(200), Duration::Milliseconds(500), Duration::Seconds(1),       Duration::Seconds(3),
    Duration::Seconds(10),       Duration::Seconds(30),       Duration::Seconds(60),      Duration::Seconds(61),
    Duration::Seconds(120),      Duration::Seconds(300),      Duration::Seconds(600),     Duration()};

// --- Encoding ---------------------------------------------------------------------------------------

inline constexpr uint16_t kMaxBlob = 1900;  // raw frame bytes (an mbuf holds 1920 past its headroom)

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  bool done() const { return i_ >= n_; }
  void operator()(uint8_t& v) { v = i_ < n_ ? p_[i_++] : 0; }
  void operator()(uint16_t& v) {
    uint8_t a, b;
    (*this)(a);
    (*this)(b);
    v = static_cast<uint16_t>(a | (b << 8));
  }
  void operator()(uint32_t& v) {
    uint16_t a, b;
    (*this)(a);
    (*this)(b);
    v = a | (uint32_t{b} << 16);
  }
  void operator()(std::vector<uint8_t>& v) {
    uint16_t len;
    (*this)(len);
    const size_t n = std::min<size_t>({len, kMaxBlob, n_ - std::min(i_, n_)});
    v.assign(p_ + i_, p_ + i_ + n);
    i_ += n;
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t i_ = 0;
};

class ByteWriter {
 public:
  void operator()(uint8_t v) { out_.push_back(v); }
  void operator()(uint16_t v) {
    (*this)(static_cast<uint8_t>(v));
    (*this)(static_cast<uint8_t>(v >> 8));
  }
  void operator()(uint32_t v) {
    (*this)(static_cast<uint16_t>(v));
    (*this)(static_cast<uint16_t>(v >> 16));
  }
  void operator()(const std::vector<uint8_t>& v) {
    (*this)(static_cast<uint16_t>(v.size()));
    out_.insert(out_.end(), v.begin(), v.end());
  }
  const std::vector<uint8_t>& bytes() const { return out_; }

 private:
  std::vector<uint8_t> out_;
};

// --- The program --------------------------------------------------------------------------------------

// flags: bits 0-1 SYN cookies (0 off, 1 when-full, 2 always, 3 when-full); bit 2 timestamps; bit 3 window
//   scaling; bit 4 SACK-permitted; bit 5 keepalive (10 s idle, 5 s interval, 3 probes); bit 6 TX checksum
//   offload (TCP and IPv4); bit 7 the stack allocates from tiny pools (48 frames, 16 indirect).
// sizes: bits 0-1 SYN backlog 1/2/4/8; bits 2-3 our MSS 1460/536/100/48; bits 4-5 receive buffer
//   256K/16K/2K/600; bits 6-7 send buffer 256K/16K/2K/600.
// limits: bits 0-1 accept backlog 1024/1/2/4; bit 2 per-source SYN limit (2/s, burst 2); bits 3-4 max
//   half-open 4096/2/4/8; bit 5 only 4 ephemeral ports (40000-40003: port reuse and exhaustion);
//   bit 6 challenge ACKs 2/s; bit 7 max_connections 4 instead of 8 (and TIME-WAIT entries 2 instead of 8).
// more: bits 0-1 max orphans 8192/0/1/2; bit 2 min_snd_mss 1 instead of 48; bit 3 SYN retries 1 and
//   SYN-ACK retries 1 instead of 6 and 5; bit 4 max_retransmits 2 instead of 15.
struct Config {
  uint8_t flags = 0;
  uint8_t sizes = 0;
  uint8_t limits = 0;
  uint8_t more = 0;
};
template <typename IO>
void Fields(IO& io, Config& c) {
  io(c.flags), io(c.sizes), io(c.limits), io(c.more);
}

enum class Op : uint8_t {
  kSyn,        // a SYN (or whatever flags) from a peer to one of our ports
  kSynAck,     // answers the last SYN a flow's active open sent (SYN-ACK, or a bare SYN: simultaneous open)
  kAckSynAck,  // answers the last SYN-ACK sent on a flow (also a cookie's), maybe with data
  kSegment,    // any segment on a flow, sequence and ACK numbers relative to what the layer sent
  kAckAll,     // acknowledges everything the layer sent on a flow, at its RCV.NXT, maybe with data/FIN
  kRawFrame,   // raw Ethernet frame
  kRawTcp,     // raw TCP segment in a well-formed IPv4/Ethernet frame from a peer
  kReflect,    // one of the last frames the layer sent, addressed back to us and mutated
  kAdvance,    // moves the clock (timers run)
  kConnect,
  kSend,
  kRecv,
  kClose,
  kShutdown,
  kAbort,
  kArp,      // ARP from a peer: request, reply, someone claiming our address, a request for someone else
  kPing,     // ICMP echo request from a peer
  kTimeout,  // SetTimeout or SetIdleTimeout on a connection
  kCount
};

// The TCP options a peer puts on a segment. mask: bit 0 MSS, 1 window scale, 2 SACK-permitted, 3
// timestamps, 4 SACK blocks, 5 an unknown option (kind 30), 6 EOL first (everything after is ignored),
// 7 a malformed option (length 1: the segment is dropped). ts: bits 0-1 TSval (peer clock, 2^31 older,
// 0, 0xffffffff); bits 2-3 TSecr (the flow's last TSval from us, 0, that + 1000, ts * 0x01010101).
// sack: bits 0-1 number of blocks - 1; the blocks sit around the layer's SND.NXT.
struct TcpOpts {
  uint8_t mask = 0;
  uint16_t mss = 0;
  uint8_t wscale = 0;
  uint8_t ts = 0;
  uint8_t sack = 0;
};
template <typename IO>
void Fields(IO& io, TcpOpts& o) {
  io(o.mask), io(o.mss), io(o.wscale), io(o.ts), io(o.sack);
}

// Flows are every 4-tuple the program has used or the layer has sent on, in order of first appearance;
// a `flow` field counts back from the newest (0 = the most recent). `conn` fields pick an application
// connection the same way among the live ones (Connect results and accepted connections), or with bit 7
// set one the application already closed (a stale id).
struct SynOp {
  uint8_t peer = 0, peer_port = 0, local_port = 0;
  uint32_t seq = 0;
  uint8_t extra_flags = 0;  // OR-ed into SYN
  uint16_t window = 0;
  TcpOpts opts;
  uint8_t payload = 0;  // kPayloadLens index
};
struct SynAckOp {
  uint8_t flow = 0;
  uint32_t seq = 0;
  uint8_t ack_delta = 0;  // ACK = their SYN + 1 + (int8)ack_delta
  uint8_t flags_xor = 0;  // XOR-ed into SYN|ACK (0x10 makes it a bare SYN)
  uint16_t window = 0;
  TcpOpts opts;
};
struct AckSynAckOp {
  uint8_t flow = 0;
  uint8_t flags_xor = 0;  // XOR-ed into ACK
  uint16_t window = 0;
  uint8_t ts = 0;  // bit 0: leave the timestamps option out
  uint8_t payload = 0;
};
// seq_mode & 3: RCV.NXT, + (int8)seq, + (int16)seq, seq itself. ack_mode & 3 likewise from SND.NXT (bit 2:
// from SND.UNA). With no connection record: the last ACK / highest sequence the layer sent on the flow.
struct SegmentOp {
  uint8_t flow = 0;
  uint8_t flags = 0;
  uint8_t seq_mode = 0;
  uint32_t seq = 0;
  uint8_t ack_mode = 0;
  uint32_t ack = 0;
  uint16_t window = 0;
  TcpOpts opts;
  uint8_t payload = 0;
};
struct AckAllOp {
  uint8_t flow = 0;
  uint8_t flags = 0;  // & 0xe9 (FIN, PSH, URG, ECE, CWR) OR-ed into ACK
  uint16_t window = 0;
  uint8_t payload = 0;
};
struct RawFrameOp {
  std::vector<uint8_t> bytes;
};
struct RawTcpOp {
  uint8_t peer = 0;
  uint8_t fix_checksum = 0;  // bit 0
  std::vector<uint8_t> bytes;
};
struct ReflectOp {
  uint8_t which = 0;  // counts back from the newest of the last 8 frames sent
  uint16_t pos1 = 0;
  uint8_t xor1 = 0;
  uint16_t pos2 = 0;
  uint8_t xor2 = 0;
  uint8_t fix = 0;  // bit 0: fix the IPv4 checksum, bit 1: fix the TCP checksum
};
struct AdvanceOp {
  uint8_t step = 0;
  uint16_t ms = 0;
};
struct ConnectOp {
  uint8_t peer = 0, port = 0, timeout = 0;
};
struct SendOp {
  uint8_t conn = 0;
  uint8_t size = 0;
  uint8_t mode = 0;  // & 3: SendCopy; Send of 2000-byte mbufs; Send of a chain of odd-sized pieces; empty Send
};
struct RecvOp {
  uint8_t conn = 0;
  uint8_t size = 0;
};
struct ConnOp {
  uint8_t conn = 0;
};
struct ArpOp {
  uint8_t peer = 0;
  uint8_t kind = 0;
};
struct PingOp {
  uint8_t peer = 0;
  uint8_t len = 0;
};
struct TimeoutOp {
  uint8_t conn = 0;
  uint8_t kind = 0;      // bit 0: SetIdleTimeout instead of SetTimeout
  uint8_t duration = 0;  // kAppTimeouts index
};

template <typename IO>
void Fields(IO& io, SynOp& a) {
  io(a.peer), io(a.peer_port), io(a.local_port), io(a.seq), io(a.extra_flags), io(a.window), Fields(io, a.opts),
      io(a.payload);
}
template <typename IO>
void Fields(IO& io, SynAckOp& a) {
  io(a.flow), io(a.seq), io(a.ack_delta), io(a.flags_xor), io(a.window), Fields(io, a.opts);
}
template <typename IO>
void Fields(IO& io, AckSynAckOp& a) {
  io(a.flow), io(a.flags_xor), io(a.window), io(a.ts), io(a.payload);
}
template <typename IO>
void Fields(IO& io, SegmentOp& a) {
  io(a.flow), io(a.flags), io(a.seq_mode), io(a.seq), io(a.ack_mode), io(a.ack), io(a.window), Fields(io, a.opts),
      io(a.payload);
}
template <typename IO>
void Fields(IO& io, AckAllOp& a) {
  io(a.flow), io(a.flags), io(a.window), io(a.payload);
}
template <typename IO>
void Fields(IO& io, RawFrameOp& a) {
  io(a.bytes);
}
template <typename IO>
void Fields(IO& io, RawTcpOp& a) {
  io(a.peer), io(a.fix_checksum), io(a.bytes);
}
template <typename IO>
void Fields(IO& io, ReflectOp& a) {
  io(a.which), io(a.pos1), io(a.xor1), io(a.pos2), io(a.xor2), io(a.fix);
}
template <typename IO>
void Fields(IO& io, AdvanceOp& a) {
  io(a.step), io(a.ms);
}
template <typename IO>
void Fields(IO& io, ConnectOp& a) {
  io(a.peer), io(a.port), io(a.timeout);
}
template <typename IO>
void Fields(IO& io, SendOp& a) {
  io(a.conn), io(a.size), io(a.mode);
}
template <typename IO>
void Fields(IO& io, RecvOp& a) {
  io(a.conn), io(a.size);
}
template <typename IO>
void Fields(IO& io, ConnOp& a) {
  io(a.conn);
}
template <typename IO>
void Fields(IO& io, ArpOp& a) {
  io(a.peer), io(a.kind);
}
template <typename IO>
void Fields(IO& io, PingOp& a) {
  io(a.peer), io(a.len);
}
template <typename IO>
void Fields(IO& io, TimeoutOp& a) {
  io(a.conn), io(a.kind), io(a.duration);
}

// Encoder for the corpus generator.
class ProgramWriter {
 public:
  explicit ProgramWriter(Config c) { Fields(w_, c); }
  template <typename A>
  ProgramWriter& Add(Op op, A args) {
    w_(static_cast<uint8_t>(op));
    Fields(w_, args);
    return *this;
  }
  const std::vector<uint8_t>& bytes() const { return w_.bytes(); }

 private:
  ByteWriter w_;
};

// Payload bytes: a function of the position in the stream, so that data delivered at the wrong offset
// (or bytes nobody sent) are caught. Peer stream: offset 0 is the byte after the peer's SYN.
inline uint8_t PeerByte(uint32_t offset) { return static_cast<uint8_t>(((offset + 1) * 0x9e3779b1u) >> 24); }
// Application stream: offset 0 is the first byte the application sent.
inline uint8_t AppByte(uint32_t offset) { return static_cast<uint8_t>(((offset + 7) * 0x85ebca6bu) >> 23); }

}  // namespace synack::fuzz
