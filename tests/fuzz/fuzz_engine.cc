// libFuzzer target: one engine's whole stack (NetStack + TcpLayer, no device, real mbufs, fake time) driven
// by a program of peer segments, clock steps and application calls (format: tests/fuzz/engine_program.h).
// The harness plays every peer on the wire and the application: it answers what the layer sends when the
// program says so (SYN-ACK for our SYN, ACK for a SYN-ACK or cookie, ACK of everything sent), so inputs
// reach data transfer, both close orders and TIME-WAIT in both roles within a few ops.
//
// After every op (and every clock step) it checks:
//   - every connection of every 4-tuple the program has seen: CheckInvariants() is empty, 0 < snd_mss <=
//     our MSS, the state is neither CLOSED nor LISTEN; the table holds no connection the program cannot
//     name; half_open() is the number of passive connections in SYN-RECEIVED;
//   - peer_refs_total() == connections() + time_wait_entries(), and every table within its bounds;
//   - each live application connection still exists (no lost kClosed); Readable() equals the TCB's unread
//     count; QueueMemory() covers the queued bytes; every byte the application sent on an established
//     connection is acknowledged or still queued; a kClosed id is stale at once; calls with a stale id
//     change nothing and send nothing, and Send/Close after Close are refused;
//   - every frame the stack sends parses back (checksums verified, or the pseudo-header sum when
//     offloaded); TCP headers are as long as their options; data segments carry exactly the bytes the
//     application sent at that sequence number, never past what it sent; data the application reads is
//     exactly what the peer sent, in order (unless the program injected raw or mutated frames);
// and at the end: the application closes everything, the peers fall silent, and within 3 hours of fake
// time every connection, TIME-WAIT entry and half-open count must be gone; then, with the layer and stack
// destroyed, every mbuf is back in its pool (frames and indirect).
//
// SYNACK_FUZZ_TRACE=1 in the environment prints each op and each segment sent (for reading reproducers).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/core/tcp_layer.h"
#include "lib/net/arp.h"
#include "lib/net/checksum.h"
#include "lib/net/ethernet.h"
#include "lib/net/icmp.h"
#include "lib/net/ipv4.h"
#include "lib/net/net_stack.h"
#include "lib/tcp/tcp_header.h"
#include "tests/frames.h"
#include "tests/fuzz/engine_program.h"
#include "tests/fuzz/fuzz_env.h"
#include "tests/tcp_layer_peer.h"

namespace synack {
namespace {

using namespace fuzz;
using namespace tcp_flags;
using testing::Bytes;

bool g_trace = false;
constexpr int kMaxOps = 256;
constexpr Duration kQuietPeriod = Duration::Seconds(3 * 3600);
constexpr Duration kQuietStep = Duration::Seconds(30);

const char* OpName(Op op) {
  static const char* const kNames[] = {"syn",     "synack",   "ack-synack", "segment", "ack-all", "raw-frame",
                                       "raw-tcp", "reflect",  "advance",    "connect", "send",    "recv",
                                       "close",   "shutdown", "abort",      "arp",     "ping",    "timeout"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<size_t>(Op::kCount));
  return kNames[static_cast<size_t>(op)];
}

std::string KeyString(const FlowKey& k) {
  return absl::StrCat(k.local.ToString(), ":", k.local_port, "<->", k.remote.ToString(), ":", k.remote_port);
}

// What the harness knows of one 4-tuple, from what it injected and what the layer sent.
struct FlowInfo {
  FlowKey key;
  bool syn_valid = false;  // the layer's last SYN (active open)
  SeqNum syn_seq;
  bool synack_valid = false;  // the layer's last SYN-ACK (also a cookie)
  SeqNum synack_seq, synack_ack;
  bool synack_ts = false;
  uint32_t synack_tsval = 0;
  bool have_ack = false;  // the last ACK number the layer sent
  SeqNum last_ack;
  bool have_end = false;  // the highest sequence number + length the layer sent
  SeqNum snd_end;
  bool ts_seen = false;
  uint32_t last_tsval = 0;  // the layer's last TSval
  // Application bytes sent on the connection `app_conn` of this 4-tuple (not its ISS: a new incarnation
  // at the same clock reading gets the same one).
  bool app_valid = false;
  ConnId app_conn;
  uint64_t app_sent = 0;
};

struct AppConn {
  ConnId id;
  FlowKey key;
  uint64_t received = 0;  // bytes the application read
};

class Harness {
 public:
  explicit Harness(const Config& c);
  ~Harness();
  void Run(ByteReader& r);

 private:
  std::string Where() const {
    return absl::StrCat(" [op #", op_index_, " ", op_name_, ", t=", (now_ - start_).seconds(), " s]");
  }
  size_t FlowIndex(const FlowKey& k);
  FlowInfo* PickFlow(uint8_t v) {
    if (flows_.empty()) return nullptr;
    return &flows_[flows_.size() - 1 - v % flows_.size()];
  }
  // An application connection picked by a `conn` field: a live one (newest first) or, with bit 7 set, one
  // the application already gave up.
  struct Picked {
    ConnId id;
    AppConn* live = nullptr;  // null: closed by the application or gone
    bool freed = false;       // gone (kClosed seen, aborted, or the orphan ended): every call is refused
  };
  std::optional<Picked> PickConn(uint8_t v);
  // The application gave `id` up: Close (`freed` false: it may live on as an orphan), or it is gone.
  void Release(ConnId id, bool freed);

  // Frames in.
  void InjectFrame(const Bytes& frame);
  void InjectTcp(Ipv4Addr src, const testing::TcpFields& f, const Bytes& payload);
  Bytes Options(const TcpOpts& o, const FlowInfo* flow) const;
  Bytes Payload(const FlowKey& key, SeqNum seq, bool syn, uint16_t len) const;
  uint32_t PeerTsval() const { return static_cast<uint32_t>(now_.ns() / 1000000) + 123456u; }

  // Frames out, events, checks.
  void Drain();
  void CheckSent(const rte_mbuf* m);
  void DrainEvents();
  void CheckInvariants();
  void Advance(Duration d);
  void Finish();

  void DoSyn(const SynOp& a);
  void DoSynAck(const SynAckOp& a);
  void DoAckSynAck(const AckSynAckOp& a);
  void DoSegment(const SegmentOp& a);
  void DoAckAll(const AckAllOp& a);
  void DoRawTcp(const RawTcpOp& a);
  void DoReflect(const ReflectOp& a);
  void DoConnect(const ConnectOp& a);
  void DoSend(const SendOp& a);
  void DoRecv(const RecvOp& a);
  void DoConnOp(Op op, const ConnOp& a);
  void DoArp(const ArpOp& a);
  void DoPing(const PingOp& a);
  void DoTimeout(const TimeoutOp& a);

  TcpLayerConfig lc_;
  NetConfig nc_;
  rte_mempool* stack_pool_;
  rte_mempool* indirect_pool_;
  std::array<unsigned, 4> pools_at_start_{};
  std::optional<NetStack> stack_;
  std::optional<TcpLayer> tcp_;
  Instant start_ = Instant::FromNanoseconds(int64_t{1} << 40);
  Instant now_ = start_;
  uint32_t injected_ = 0;  // frames injected: every fourth one arrives whole, the others in 2 to 4 segments
  std::vector<FlowInfo> flows_;
  absl::flat_hash_map<FlowKey, size_t> flow_index_;
  std::vector<AppConn> live_;
  std::vector<ConnId> closed_;               // Close()d by the application; may live on as an orphan
  std::vector<ConnId> stale_;                // gone
  std::deque<std::vector<uint8_t>> recent_;  // the last frames sent
  bool tainted_ = false;                     // raw or mutated frames were injected: received data may be anything
  int op_index_ = -1;
  const char* op_name_ = "setup";
  std::pair<size_t, size_t> last_sizes_{SIZE_MAX, SIZE_MAX};  // tables' sizes at the last peer-refs check
  uint32_t checks_ = 0;
};

#define ENGINE_CHECK(cond, ...) FUZZ_CHECK(cond, __VA_ARGS__, Where())

Harness::Harness(const Config& c) {
  const uint8_t f = c.flags, s = c.sizes, l = c.limits;
  static constexpr SynCookieMode kModes[] = {SynCookieMode::kOff, SynCookieMode::kWhenFull, SynCookieMode::kAlways,
                                             SynCookieMode::kWhenFull};
  static constexpr uint16_t kMss[] = {1460, 536, 100, 48};
  static constexpr uint32_t kBuffers[] = {256 * 1024, 16 * 1024, 2048, 600};
  static constexpr uint32_t kAcceptBacklog[] = {1024, 1, 2, 4};
  static constexpr uint32_t kHalfOpen[] = {4096, 2, 4, 8};
  lc_.max_connections = (l & 0x80) ? 4 : 8;
  lc_.max_time_wait = (l & 0x80) ? 2 : 8;
  lc_.syn_backlog = 1u << (s & 3);
  lc_.max_half_open = kHalfOpen[(l >> 3) & 3];
  lc_.syn_cookies = kModes[f & 3];
  lc_.syn_limit.rate = (l & 0x04) ? 2 : 0;
  lc_.syn_limit.burst = 2;
  lc_.syn_limit.entries = 16;
  lc_.accept_backlog = kAcceptBacklog[l & 3];
  if (l & 0x20) {
    lc_.ephemeral_lo = 40000;
    lc_.ephemeral_hi = 40003;
  }
  lc_.tcp.mss = kMss[(s >> 2) & 3];
  lc_.tcp.rcv_buffer = kBuffers[(s >> 4) & 3];
  lc_.tcp.snd_buffer = kBuffers[(s >> 6) & 3];
  lc_.tcp.timestamps = (f & 0x04) != 0;
  lc_.tcp.window_scale = (f & 0x08) ? 7 : 0;
  lc_.tcp.sack_permitted = (f & 0x10) != 0;
  lc_.tcp.keepalive = (f & 0x20) != 0;
  lc_.tcp.keepalive_idle = Duration::Seconds(10);
  lc_.tcp.keepalive_interval = Duration::Seconds(5);
  lc_.tcp.keepalive_probes = 3;
  lc_.tx_tcp_cksum_offload = (f & 0x40) != 0;
  lc_.challenge_acks_per_second = (l & 0x40) ? 2 : 1000;
  lc_.isn_key.fill(0x5a);
  static constexpr uint32_t kOrphans[] = {8192, 0, 1, 2};
  lc_.max_orphans = kOrphans[c.more & 3];
  if (c.more & 0x04) lc_.tcp.min_snd_mss = 1;
  if (c.more & 0x08) lc_.tcp.syn_retries = lc_.tcp.synack_retries = 1;
  if (c.more & 0x10) lc_.tcp.max_retransmits = 2;
  nc_.local = Ipv4Prefix{kOurIp, 24};
  nc_.mac = kOurMac;
  nc_.tx_ip_cksum_offload = (f & 0x40) != 0;
  nc_.arp.capacity = 8;
  nc_.arp.max_pending = 4;
  nc_.outbox_capacity = 4096;
  stack_pool_ = (f & 0x80) ? SmallPool() : Pool();
  indirect_pool_ = (f & 0x80) ? SmallIndirectPool() : IndirectPool();
  pools_at_start_ = {rte_mempool_in_use_count(Pool()), rte_mempool_in_use_count(IndirectPool()),
                     rte_mempool_in_use_count(SmallPool()), rte_mempool_in_use_count(SmallIndirectPool())};

  stack_.emplace(nc_, stack_pool_);
  tcp_.emplace(lc_, *stack_, stack_pool_, indirect_pool_);
  TcpLayerTestPeer::SetNow(*tcp_, now_);
  stack_->Start(now_);
  ENGINE_CHECK(tcp_->Listen(kListenPort).ok(), "listen");
  ENGINE_CHECK(tcp_->Listen(kListenPort2).ok(), "listen");
  ENGINE_CHECK(!tcp_->Listen(kListenPort).ok() && !tcp_->Listen(0).ok(), "listen twice / port 0 accepted");
  // Peers 0..kKnownPeers-1 introduce themselves (our ARP replies are drained and checked).
  for (uint8_t p = 0; p < kKnownPeers; ++p) {
    InjectFrame(testing::ArpFrame(kArpOpRequest, MacAddr::Broadcast(), PeerMac(p), kPeerIps[p], MacAddr{}, kOurIp));
  }
  Drain();
  CheckInvariants();
}

Harness::~Harness() = default;

size_t Harness::FlowIndex(const FlowKey& k) {
  auto [it, inserted] = flow_index_.try_emplace(k, flows_.size());
  if (inserted) {
    flows_.emplace_back();
    flows_.back().key = k;
  }
  return it->second;
}

std::optional<Harness::Picked> Harness::PickConn(uint8_t v) {
  const size_t released = closed_.size() + stale_.size();
  if ((v & 0x80) && released > 0) {
    const size_t i = (v & 0x7f) % released;
    if (i >= closed_.size()) return Picked{stale_[i - closed_.size()], nullptr, true};
    return Picked{closed_[i], nullptr, !tcp_->Flow(closed_[i]).has_value()};
  }
  if (live_.empty()) return std::nullopt;
  AppConn* a = &live_[live_.size() - 1 - (v & 0x7f) % live_.size()];
  return Picked{a->id, a, false};
}

void Harness::Release(ConnId id, bool freed) {
  live_.erase(std::remove_if(live_.begin(), live_.end(), [&](const AppConn& a) { return a.id == id; }), live_.end());
  closed_.erase(std::remove(closed_.begin(), closed_.end(), id), closed_.end());
  std::vector<ConnId>& to = freed ? stale_ : closed_;
  to.push_back(id);
  if (to.size() > 4) to.erase(to.begin());
}

// ---------------------------------------------------------------------------------------------------
// Frames in

void Harness::InjectFrame(const Bytes& frame) {
  // Remember the 4-tuple of anything that looks like TCP to us (leniently: the stack decides the rest).
  if (Parsed<EthernetFrame> eth = ParseEthernet(frame); eth.ok() && eth->ethertype == kEtherTypeIpv4) {
    if (Parsed<Ipv4Packet> ip = ParseIpv4(eth->payload, ChecksumState::kGood);
        ip.ok() && ip->protocol == kIpProtoTcp && ip->dst == kOurIp) {
      if (Parsed<TcpPacket> t = ParseTcp(ip->payload, ip->src, ip->dst, ChecksumState::kGood); t.ok()) {
        FlowIndex(FlowKey{ip->dst, ip->src, t->seg.dst_port, t->seg.src_port});
      }
    }
  }
  // Like a device that scatters frames over buffers (or a zero-copy peer): most frames arrive in 2 to 4
  // segments, cut at places that move with the frame count — inside the headers (gathered first) or in
  // the payload (kept where it lies).
  const uint32_t pieces =
      std::min<uint32_t>(1 + injected_++ % 4, static_cast<uint32_t>(std::max<size_t>(frame.size(), 1)));
  Mbuf m;
  size_t from = 0;
  for (uint32_t i = 1; i <= pieces; ++i) {
    // Each piece non-empty (pieces <= frame.size()), the last one ending the frame.
    const size_t end = i == pieces ? frame.size()
                                   : std::clamp(frame.size() * i / pieces + (injected_ % 3) - 1, from + 1,
                                                frame.size() - (pieces - i));
    Mbuf piece = testing::ToMbuf(Pool(), Bytes(frame.begin() + from, frame.begin() + end));
    if (!piece) return;  // larger than an mbuf, or the RX pool is empty (the "device" drops it); `m` freed
    if (!m) {
      m = std::move(piece);
    } else if (rte_pktmbuf_chain(m.get(), piece.get()) == 0) {
      static_cast<void>(piece.release());  // now part of `m`
    } else {
      return;  // too many segments
    }
    from = end;
  }
  if (!m) return;
  // Like a device whose ring is sometimes behind: in every other run of 8 frames each burst is "full", so
  // SYN shedding runs (new SYNs beyond its budget are dropped unparsed, through the engine's own call on
  // the scattered mbuf).
  tcp_->BeginRxBurst((injected_ / 8) % 2 == 1 ? 32 : 1, 32);
  rte_mbuf* const burst[1] = {m.get()};
  TcpLayer::RxTriage verdict;
  tcp_->TriageBurst(burst, &verdict);
  if (verdict == TcpLayer::RxTriage::kShed) return;  // `m` freed
  tcp_->Input(now_, stack_->Input(now_, std::move(m)));
}

uint8_t PeerIndexOf(Ipv4Addr a) {
  for (uint8_t i = 0; i < kPeerIps.size(); ++i) {
    if (kPeerIps[i] == a) return i;
  }
  return 0;
}

void Harness::InjectTcp(Ipv4Addr src, const testing::TcpFields& f, const Bytes& payload) {
  testing::IpOpts o;
  o.protocol = kIpProtoTcp;
  if (g_trace) {
    std::fprintf(stderr, "    in  %s:%u > %u flags=%s seq=%u ack=%u win=%u len=%zu opts=%zu\n", src.ToString().c_str(),
                 f.src_port, f.dst_port, TcpFlagsToString(f.flags).c_str(), f.seq, f.ack, f.window, payload.size(),
                 f.options.size());
  }
  InjectFrame(testing::Concat(testing::EthHeader(kOurMac, PeerMac(PeerIndexOf(src)), kEtherTypeIpv4),
                              testing::Ipv4(src, kOurIp, testing::Tcp(src, kOurIp, f, payload), o)));
}

Bytes Harness::Options(const TcpOpts& o, const FlowInfo* flow) const {
  Bytes b;
  if (o.mask & 0x40) b.push_back(tcp_option::kEol);
  if (o.mask & 0x01) b = testing::Concat(b, {2, 4, static_cast<uint8_t>(o.mss >> 8), static_cast<uint8_t>(o.mss)});
  if (o.mask & 0x02) b = testing::Concat(b, {1, 3, 3, o.wscale});
  if (o.mask & 0x04) b = testing::Concat(b, {1, 1, 4, 2});
  if (o.mask & 0x08) {
    const uint32_t last = flow != nullptr ? flow->last_tsval : 0;
    const uint32_t tsvals[] = {PeerTsval(), PeerTsval() - 0x80000000u, 0, 0xffffffffu};
    const uint32_t tsecrs[] = {last, 0, last + 1000, o.ts * 0x01010101u};
    b = testing::Concat(b, {1, 1, 8, 10});
    testing::Put32(b, tsvals[o.ts & 3]);
    testing::Put32(b, tsecrs[(o.ts >> 2) & 3]);
  }
  if (o.mask & 0x10) {
    const uint32_t base = flow != nullptr && flow->have_end ? flow->snd_end.raw() : 0;
    const int blocks = 1 + (o.sack & 3);
    b = testing::Concat(b, {1, 1, 5, static_cast<uint8_t>(2 + 8 * blocks)});
    for (int i = 0; i < blocks; ++i) {
      testing::Put32(b, base - 1000u * (i + 1) + (o.sack >> 2));
      testing::Put32(b, base - 1000u * i - 500u);
    }
  }
  if (o.mask & 0x20) b = testing::Concat(b, {30, 4, o.wscale, o.ts});
  if (o.mask & 0x80) b = testing::Concat(b, {8, 1});
  if (b.size() > kTcpMaxOptionsLen) b.resize(kTcpMaxOptionsLen);
  return b;
}

// The peer's stream bytes for a segment at `seq`: offset 0 is the byte after the peer's SYN, i.e. IRS+1
// of the connection that takes them (a cookie ACK's connection gets IRS = SEG.SEQ - 1).
Bytes Harness::Payload(const FlowKey& key, SeqNum seq, bool syn, uint16_t len) const {
  SeqNum base = seq;
  const TcpConnection* c = TcpLayerTestPeer::FindConnection(*tcp_, key);
  if (c != nullptr && c->state() != TcpState::kSynSent) {
    base = c->irs() + 1;
  } else if (syn) {
    base = seq + 1;
  }
  const SeqNum first = seq + (syn ? 1u : 0u);
  Bytes p(len);
  for (uint16_t i = 0; i < len; ++i) p[i] = PeerByte((first + i).raw() - base.raw());
  return p;
}

// ---------------------------------------------------------------------------------------------------
// Frames out and checks

void Harness::Drain() {
  ENGINE_CHECK(stack_->outbox().size() <= stack_->outbox().capacity(), "outbox over capacity");
  while (Mbuf m = stack_->outbox().PopFront()) CheckSent(m.get());
  DrainEvents();
}

void Harness::CheckSent(const rte_mbuf* m) {
  std::vector<uint8_t> bytes = PacketBytes(m);
  ENGINE_CHECK(bytes.size() == rte_pktmbuf_pkt_len(m), "pkt_len ", rte_pktmbuf_pkt_len(m), " but ", bytes.size(),
               " bytes in the segments");
  Parsed<EthernetFrame> eth = ParseEthernet(bytes);
  ENGINE_CHECK(eth.ok() && eth->src == kOurMac, "sent a frame without our Ethernet header");
  if (eth->ethertype == kEtherTypeArp) {
    Parsed<ArpPacket> arp = ParseArp(eth->payload);
    ENGINE_CHECK(arp.ok() && arp->sha == kOurMac && arp->spa == kOurIp, "sent a bad ARP frame");
    return;
  }
  ENGINE_CHECK(eth->ethertype == kEtherTypeIpv4, "sent ethertype ", eth->ethertype);
  const bool ip_offloaded = (m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) != 0;
  Parsed<Ipv4Packet> ip = ParseIpv4(eth->payload, ip_offloaded ? ChecksumState::kGood : ChecksumState::kUnknown);
  ENGINE_CHECK(ip.ok(), "sent IPv4 that does not parse: ", std::string(DropName(ip.error())));
  ENGINE_CHECK(ip->src == kOurIp && !ip->is_fragment() && ip->dst != kOurIp, "sent IPv4 ", ip->src.ToString(), " > ",
               ip->dst.ToString());
  if (ip->protocol == kIpProtoIcmp) {
    Parsed<IcmpMessage> icmp = ParseIcmp(ip->payload);
    ENGINE_CHECK(icmp.ok(), "sent ICMP that does not parse");
    return;
  }
  ENGINE_CHECK(ip->protocol == kIpProtoTcp, "sent IP protocol ", ip->protocol);
  ChecksumState l4 = ChecksumState::kUnknown;
  if (m->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM) {
    ENGINE_CHECK(ip->payload.size() >= kTcpMinHeaderLen, "offloaded TCP segment too short");
    uint32_t acc = TcpPseudoHeaderSum(ip->src, ip->dst, static_cast<uint16_t>(ip->payload.size()));
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    ENGINE_CHECK(LoadBe16(ip->payload.data() + 16) == acc, "offloaded TCP checksum field is not the pseudo-header sum");
    l4 = ChecksumState::kGood;
  }
  Parsed<TcpPacket> tcp = ParseTcp(ip->payload, ip->src, ip->dst, l4);
  ENGINE_CHECK(tcp.ok(), "sent a TCP segment that does not parse: ", std::string(DropName(tcp.error())));
  const TcpSegment& seg = tcp->seg;
  ENGINE_CHECK(tcp->header_len == kTcpMinHeaderLen + TcpOptionsLength(seg.options), "header length ", tcp->header_len);
  recent_.push_back(std::move(bytes));
  if (recent_.size() > 8) recent_.pop_front();

  const FlowKey key{ip->src, ip->dst, seg.src_port, seg.dst_port};
  FlowInfo& fl = flows_[FlowIndex(key)];
  if (g_trace) std::fprintf(stderr, "    out %s %s\n", KeyString(key).c_str(), ToString(seg).c_str());
  if (seg.syn() && !seg.ack_flag()) {
    fl.syn_valid = true;
    fl.syn_seq = seg.seq;
  }
  if (seg.syn() && seg.ack_flag()) {
    fl.synack_valid = true;
    fl.synack_seq = seg.seq;
    fl.synack_ack = seg.ack;
    fl.synack_ts = seg.options.timestamps.has_value();
    fl.synack_tsval = fl.synack_ts ? seg.options.timestamps->tsval : 0;
  }
  if (seg.ack_flag()) {
    fl.have_ack = true;
    fl.last_ack = seg.ack;
  }
  if (seg.options.timestamps) {
    fl.ts_seen = true;
    fl.last_tsval = seg.options.timestamps->tsval;
  }
  if (!seg.rst()) {
    const SeqNum end = seg.seq + seg.seg_len();
    if (!fl.have_end || end > fl.snd_end) fl.snd_end = end;
    fl.have_end = true;
  }
  if (seg.payload_len == 0) return;
  ENGINE_CHECK(!seg.syn() && !seg.rst(), "data on a SYN or RST: ", ToString(seg));
  const TcpConnection* c = TcpLayerTestPeer::FindConnection(*tcp_, key);
  if (c == nullptr || !fl.app_valid || tcp_->Flow(fl.app_conn) != key) return;  // cannot tell whose bytes these are
  const uint32_t offset = seg.seq.raw() - (c->iss() + 1).raw();
  ENGINE_CHECK(uint64_t{offset} + seg.payload_len <= fl.app_sent, "sent bytes [", offset, ", ",
               uint64_t{offset} + seg.payload_len, ") of a stream the application wrote ", fl.app_sent,
               " bytes of: ", ToString(seg));
  for (uint32_t i = 0; i < seg.payload_len; ++i) {
    ENGINE_CHECK(tcp->payload[i] == AppByte(offset + i), "sent the wrong byte at stream offset ", offset + i, " in ",
                 ToString(seg));
  }
}

void Harness::DrainEvents() {
  Event ev[32];
  for (size_t n; (n = tcp_->PollEvents(ev)) > 0;) {
    for (size_t i = 0; i < n; ++i) {
      const Event& e = ev[i];
      if (g_trace)
        std::fprintf(stderr, "    event %s conn %u/%u\n", EventName(e.type), e.conn.index, e.conn.generation);
      switch (e.type) {
        case EventType::kAccepted:
        case EventType::kConnected: {
          bool known = false;
          for (const AppConn& a : live_) known |= a.id == e.conn;
          if (known) break;
          if (std::optional<FlowKey> k = tcp_->Flow(e.conn)) {
            FlowIndex(*k);
            live_.push_back(AppConn{e.conn, *k, 0});
          }
          break;
        }
        case EventType::kClosed:
          ENGINE_CHECK(tcp_->State(e.conn) == TcpState::kClosed && !tcp_->Flow(e.conn), "kClosed for an id still live");
          Release(e.conn, true);
          break;
        default:
          break;
      }
    }
  }
}

void Harness::CheckInvariants() {
  TcpLayer& t = *tcp_;
  ENGINE_CHECK(t.connections() <= lc_.max_connections, "connections ", t.connections());
  ENGINE_CHECK(t.time_wait_entries() <= lc_.max_time_wait, "TIME-WAIT entries ", t.time_wait_entries());
  ENGINE_CHECK(t.half_open() <= lc_.max_half_open, "half-open ", t.half_open());
  ENGINE_CHECK(t.orphans() <= lc_.max_orphans && t.orphans() <= t.connections(), "orphans ", t.orphans());
  // peer_refs_total() sums 65,536 buckets: only when the tables changed size or every 32nd check (a
  // leaked reference also shows at the end, when everything must be back to zero).
  const std::pair<size_t, size_t> sizes{t.connections(), t.time_wait_entries()};
  if (sizes != last_sizes_ || ++checks_ % 32 == 0) {
    last_sizes_ = sizes;
    ENGINE_CHECK(TcpLayerTestPeer::PeerRefsTotal(t) == t.connections() + t.time_wait_entries(), "peer refs ",
                 TcpLayerTestPeer::PeerRefsTotal(t), " != connections ", t.connections(), " + TIME-WAIT ",
                 t.time_wait_entries());
  }
  ENGINE_CHECK(stack_->neighbors().size() <= nc_.arp.capacity, "neighbour cache over capacity");
  size_t found = 0;
  uint32_t half_open = 0;
  for (const FlowInfo& fl : flows_) {
    const TcpConnection* c = TcpLayerTestPeer::FindConnection(t, fl.key);
    if (c == nullptr) continue;
    ++found;
    const std::string bad = c->CheckInvariants();
    ENGINE_CHECK(bad.empty(), KeyString(fl.key), ": ", bad);
    // (In SYN-SENT nothing is negotiated yet: snd_mss is still the RFC default 536, whatever our MSS.)
    ENGINE_CHECK(c->snd_mss() > 0 && (c->snd_mss() <= lc_.tcp.mss || c->state() == TcpState::kSynSent),
                 KeyString(fl.key), ": snd_mss ", c->snd_mss(), " (our MSS ", lc_.tcp.mss, ")");
    ENGINE_CHECK(c->state() != TcpState::kClosed && c->state() != TcpState::kListen, KeyString(fl.key),
                 ": a table entry in ", StateName(c->state()));
    const bool passive = fl.key.local_port == kListenPort || fl.key.local_port == kListenPort2;
    if (passive && c->state() == TcpState::kSynReceived) ++half_open;
  }
  ENGINE_CHECK(found == t.connections(), "the table holds ", t.connections(), " connections, the program knows ",
               found);
  ENGINE_CHECK(half_open == t.half_open(), "half_open() ", t.half_open(), " but ", half_open,
               " passive connections in SYN-RECEIVED");
  for (const AppConn& a : live_) {
    std::optional<FlowKey> k = t.Flow(a.id);
    ENGINE_CHECK(k.has_value() && *k == a.key, "live connection ", a.id.index, "/", a.id.generation, " (",
                 KeyString(a.key), ") is gone without a kClosed event");
    const TcpConnection* c = TcpLayerTestPeer::FindConnection(t, a.key);
    ENGINE_CHECK(c != nullptr, "no connection for ", KeyString(a.key));
    ENGINE_CHECK(t.Readable(a.id) == c->unread(), KeyString(a.key), ": Readable ", t.Readable(a.id),
                 " != the TCB's unread ", c->unread());
    // Every byte the application handed over is either acknowledged or still queued.
    const FlowInfo& fl = flows_[flow_index_.at(a.key)];
    if (fl.app_valid && fl.app_conn == a.id &&
        (c->state() == TcpState::kEstablished || c->state() == TcpState::kCloseWait)) {
      const uint32_t acked = c->snd_una().raw() - (c->iss() + 1).raw();  // the SYN is acknowledged
      ENGINE_CHECK(fl.app_sent == uint64_t{acked} + c->send_queued(), KeyString(a.key), ": the application sent ",
                   fl.app_sent, " bytes; ", acked, " acknowledged + ", c->send_queued(), " queued");
    }
    // The memory the queues pin (mbuf truesize) covers their bytes; the send queue's is zero exactly when
    // it is empty (the receive side's also counts data kept out of order, which is not yet unread).
    const auto [rcv_mem, snd_mem] = t.QueueMemory(a.id);
    ENGINE_CHECK(rcv_mem >= c->unread() && (c->unread() == 0 || rcv_mem > 0), KeyString(a.key), ": receive queue pins ",
                 rcv_mem, " bytes of memory for ", c->unread(), " unread");
    ENGINE_CHECK(snd_mem >= c->send_queued() && (snd_mem == 0) == (c->send_queued() == 0), KeyString(a.key),
                 ": send queue pins ", snd_mem, " bytes of memory for ", c->send_queued(), " queued");
  }
}

void Harness::Advance(Duration d) {
  const int64_t ms = std::max<int64_t>(1, d.ns() / 1000000);
  const int64_t steps = std::min<int64_t>(64, ms);
  const Instant end = now_ + d;
  for (int64_t i = 1; i <= steps; ++i) {
    now_ = i == steps ? end : now_ + Duration::Nanoseconds(d.ns() / steps);
    tcp_->Poll(now_);
    tcp_->Unreachable(now_, stack_->Poll(now_));
    Drain();
    CheckInvariants();
  }
  TcpLayerTestPeer::SetNow(*tcp_, now_);
}

// ---------------------------------------------------------------------------------------------------
// Ops

void Harness::DoSyn(const SynOp& a) {
  const Ipv4Addr src = kPeerIps[a.peer & 7];
  testing::TcpFields f;
  f.src_port = kPeerPorts[a.peer_port & 7];
  f.dst_port = kLocalPorts[a.local_port & 3];
  f.seq = a.seq;
  f.ack = 0;
  f.flags = static_cast<uint8_t>(kSyn | a.extra_flags);
  f.window = a.window;
  const FlowKey key{kOurIp, src, f.dst_port, f.src_port};
  const FlowInfo& fl = flows_[FlowIndex(key)];
  f.options = Options(a.opts, &fl);
  InjectTcp(src, f, Payload(key, SeqNum(a.seq), true, kPayloadLens[a.payload & 15]));
}

void Harness::DoSynAck(const SynAckOp& a) {
  FlowInfo* fl = PickFlow(a.flow);
  if (fl == nullptr || !fl->syn_valid) return;
  testing::TcpFields f;
  f.src_port = fl->key.remote_port;
  f.dst_port = fl->key.local_port;
  f.seq = a.seq;
  f.ack = (fl->syn_seq + 1 + static_cast<uint32_t>(static_cast<int8_t>(a.ack_delta))).raw();
  f.flags = static_cast<uint8_t>((kSyn | kAck) ^ a.flags_xor);
  f.window = a.window;
  f.options = Options(a.opts, fl);
  InjectTcp(fl->key.remote, f, {});
}

void Harness::DoAckSynAck(const AckSynAckOp& a) {
  FlowInfo* fl = PickFlow(a.flow);
  if (fl == nullptr || !fl->synack_valid) return;
  testing::TcpFields f;
  f.src_port = fl->key.remote_port;
  f.dst_port = fl->key.local_port;
  f.seq = fl->synack_ack.raw();
  f.ack = (fl->synack_seq + 1).raw();
  f.flags = static_cast<uint8_t>(kAck ^ a.flags_xor);
  f.window = a.window;
  if (fl->synack_ts && !(a.ts & 1)) {
    f.options = {1, 1, 8, 10};
    testing::Put32(f.options, PeerTsval());
    testing::Put32(f.options, fl->synack_tsval);
  }
  const FlowKey key = fl->key;
  InjectTcp(key.remote, f, Payload(key, SeqNum(f.seq), f.flags & kSyn, kPayloadLens[a.payload & 15]));
}

SeqNum Relative(SeqNum base, uint8_t mode, uint32_t v) {
  switch (mode & 3) {
    case 0:
      return base;
    case 1:
      return base + static_cast<uint32_t>(static_cast<int8_t>(v));
    case 2:
      return base + static_cast<uint32_t>(static_cast<int16_t>(v));
    default:
      return SeqNum(v);
  }
}

void Harness::DoSegment(const SegmentOp& a) {
  FlowInfo* fl = PickFlow(a.flow);
  if (fl == nullptr) return;
  const FlowKey key = fl->key;
  const TcpConnection* c = TcpLayerTestPeer::FindConnection(*tcp_, key);
  const SeqNum base_seq = c != nullptr ? c->rcv_nxt() : fl->last_ack;
  const SeqNum base_ack = c != nullptr ? ((a.ack_mode & 4) ? c->snd_una() : c->snd_nxt()) : fl->snd_end;
  testing::TcpFields f;
  f.src_port = key.remote_port;
  f.dst_port = key.local_port;
  f.seq = Relative(base_seq, a.seq_mode, a.seq).raw();
  f.ack = Relative(base_ack, a.ack_mode, a.ack).raw();
  f.flags = a.flags;
  f.window = a.window;
  f.options = Options(a.opts, fl);
  InjectTcp(key.remote, f, Payload(key, SeqNum(f.seq), f.flags & kSyn, kPayloadLens[a.payload & 15]));
}

void Harness::DoAckAll(const AckAllOp& a) {
  FlowInfo* fl = PickFlow(a.flow);
  if (fl == nullptr) return;
  const FlowKey key = fl->key;
  const TcpConnection* c = TcpLayerTestPeer::FindConnection(*tcp_, key);
  if (c == nullptr && !(fl->have_ack && fl->have_end)) return;
  testing::TcpFields f;
  f.src_port = key.remote_port;
  f.dst_port = key.local_port;
  f.seq = (c != nullptr ? c->rcv_nxt() : fl->last_ack).raw();
  f.ack = (c != nullptr ? c->snd_nxt() : fl->snd_end).raw();
  f.flags = static_cast<uint8_t>(kAck | (a.flags & 0xe9));
  f.window = a.window;
  if (c != nullptr ? c->ts_enabled() : fl->ts_seen) {
    f.options = {1, 1, 8, 10};
    testing::Put32(f.options, PeerTsval());
    testing::Put32(f.options, fl->last_tsval);
  }
  InjectTcp(key.remote, f, Payload(key, SeqNum(f.seq), false, kPayloadLens[a.payload & 15]));
}

void Harness::DoRawTcp(const RawTcpOp& a) {
  const Ipv4Addr src = kPeerIps[a.peer & 7];
  Bytes seg = a.bytes;
  if ((a.fix_checksum & 1) && seg.size() >= 18) {
    seg[16] = seg[17] = 0;
    const uint16_t c = testing::RefTcpChecksum(src, kOurIp, seg);
    seg[16] = static_cast<uint8_t>(c >> 8);
    seg[17] = static_cast<uint8_t>(c);
  }
  testing::IpOpts o;
  o.protocol = kIpProtoTcp;
  InjectFrame(testing::Concat(testing::EthHeader(kOurMac, PeerMac(a.peer), kEtherTypeIpv4),
                              testing::Ipv4(src, kOurIp, seg, o)));
}

void Harness::DoReflect(const ReflectOp& a) {
  if (recent_.empty()) return;
  Bytes b = recent_[recent_.size() - 1 - a.which % recent_.size()];
  if (b.size() < kEthHeaderLen) return;
  // Addressed back to us: swap MACs, and for IPv4 the addresses and (TCP) the ports.
  std::memcpy(b.data() + 6, b.data(), 6);
  std::memcpy(b.data(), kOurMac.b.data(), 6);
  const bool ipv4 = LoadBe16(b.data() + 12) == kEtherTypeIpv4 && b.size() >= kEthHeaderLen + kIpv4MinHeaderLen;
  size_t ihl = 0;
  bool tcp = false;
  if (ipv4) {
    uint8_t* ip = b.data() + kEthHeaderLen;
    for (int i = 0; i < 4; ++i) std::swap(ip[12 + i], ip[16 + i]);
    ihl = size_t{ip[0] & 0x0fu} * 4;
    tcp = ip[9] == kIpProtoTcp && ihl >= kIpv4MinHeaderLen && b.size() >= kEthHeaderLen + ihl + kTcpMinHeaderLen;
    if (tcp) {
      uint8_t* t = ip + ihl;
      std::swap(t[0], t[2]);
      std::swap(t[1], t[3]);
    }
  }
  b[a.pos1 % b.size()] ^= a.xor1;
  b[a.pos2 % b.size()] ^= a.xor2;
  if (ipv4 && ihl >= kIpv4MinHeaderLen && b.size() >= kEthHeaderLen + ihl) {
    uint8_t* ip = b.data() + kEthHeaderLen;
    if (a.fix & 1) {
      ip[10] = ip[11] = 0;
      const uint16_t c = testing::RefChecksum(ip, ihl);
      ip[10] = static_cast<uint8_t>(c >> 8);
      ip[11] = static_cast<uint8_t>(c);
    }
    const size_t total = std::min<size_t>(LoadBe16(ip + 2), b.size() - kEthHeaderLen);
    if ((a.fix & 2) && tcp && total >= ihl + kTcpMinHeaderLen) {
      Bytes seg(ip + ihl, ip + total);
      seg[16] = seg[17] = 0;
      const uint16_t c = testing::RefTcpChecksum(Ipv4Addr{LoadBe32(ip + 12)}, Ipv4Addr{LoadBe32(ip + 16)}, seg);
      ip[ihl + 16] = static_cast<uint8_t>(c >> 8);
      ip[ihl + 17] = static_cast<uint8_t>(c);
    }
  }
  InjectFrame(b);
}

void Harness::DoConnect(const ConnectOp& a) {
  absl::StatusOr<ConnId> id =
      tcp_->Connect(kPeerIps[a.peer & 7], kConnectPorts[a.port & 3], kConnectTimeouts[a.timeout & 3]);
  if (!id.ok()) {
    if (g_trace) std::fprintf(stderr, "    connect: %s\n", std::string(id.status().message()).c_str());
    return;
  }
  std::optional<FlowKey> k = tcp_->Flow(*id);
  ENGINE_CHECK(k.has_value(), "Connect returned an id with no flow");
  ENGINE_CHECK(tcp_->State(*id) == TcpState::kSynSent, "Connect left ", StateName(tcp_->State(*id)));
  FlowIndex(*k);
  live_.push_back(AppConn{*id, *k, 0});
}

void Harness::DoSend(const SendOp& a) {
  const std::optional<Picked> p = PickConn(a.conn);
  if (!p) return;
  const std::optional<ConnId> id = p->id;
  AppConn* live = p->live;
  const uint32_t size = kSendSizes[a.size & 15];
  const int mode = a.mode & 3;
  if (live == nullptr) {  // closed by the application, or gone: refused, nothing changes
    const size_t before = tcp_->connections();
    ENGINE_CHECK(tcp_->SendCopy(*id, Bytes(size, 0)) == 0, "SendCopy with a released id");
    Mbuf m = tcp_->AllocTxMbuf();
    if (m && m.Append(1) != nullptr) {
      ENGINE_CHECK(tcp_->Send(*id, std::move(m)) == SendStatus::kNotConnected, "Send with a released id");
    }
    ENGINE_CHECK(tcp_->connections() == before && stack_->outbox().empty(), "a Send with a released id did something");
    return;
  }
  FlowInfo& fl = flows_[FlowIndex(live->key)];
  ENGINE_CHECK(TcpLayerTestPeer::FindConnection(*tcp_, live->key) != nullptr, "live connection without a TCB");
  if (!fl.app_valid || fl.app_conn != *id) {
    fl.app_valid = true;
    fl.app_conn = *id;
    fl.app_sent = 0;
  }
  if (mode == 0) {
    Bytes data(size);
    for (uint32_t i = 0; i < size; ++i) data[i] = AppByte(static_cast<uint32_t>(fl.app_sent + i));
    const size_t n = tcp_->SendCopy(*id, data);
    ENGINE_CHECK(n <= size, "SendCopy took ", n, " of ", size);
    fl.app_sent += n;
    return;
  }
  if (mode == 3) {
    const SendStatus st = tcp_->Send(*id, Mbuf());
    ENGINE_CHECK(st == SendStatus::kOk || st == SendStatus::kNotConnected, "empty Send");
    return;
  }
  // Zero-copy: a chain of mbufs, 1900-byte pieces or odd-sized ones.
  static constexpr uint16_t kOdd[] = {1, 3, 7, 1001, 17, 513, 1899, 2};
  Mbuf head;
  uint32_t len = 0;
  for (int piece = 0; len < std::min<uint32_t>(size, 65536) && piece < 256; ++piece) {
    const uint16_t n = static_cast<uint16_t>(
        std::min<uint32_t>(mode == 1 ? 1900 : kOdd[piece % 8], std::min<uint32_t>(size, 65536) - len));
    Mbuf m = tcp_->AllocTxMbuf();
    if (!m) break;
    uint8_t* p = m.Append(n);
    if (p == nullptr) break;
    for (uint16_t i = 0; i < n; ++i) p[i] = AppByte(static_cast<uint32_t>(fl.app_sent + len + i));
    if (!head) {
      head = std::move(m);
    } else if (rte_pktmbuf_chain(head.get(), m.get()) == 0) {
      (void)m.release();
    } else {
      break;
    }
    len += n;
  }
  if (!head) return;
  const SendStatus st = tcp_->Send(*id, std::move(head));
  if (st == SendStatus::kOk) fl.app_sent += len;
  // Otherwise `head` is still ours and is freed here.
}

void Harness::DoRecv(const RecvOp& a) {
  const std::optional<Picked> p = PickConn(a.conn);
  if (!p) return;
  const std::optional<ConnId> id = p->id;
  AppConn* live = p->live;
  std::vector<uint8_t> got;
  if (a.size & 1) {
    Mbuf m = tcp_->Recv(*id);
    if (m) got = PacketBytes(m.get());
    if (live != nullptr) ENGINE_CHECK(tcp_->Readable(*id) == 0, "Recv left ", tcp_->Readable(*id), " bytes");
  } else {
    const uint32_t want = kRecvSizes[(a.size >> 1) & 7];
    got.resize(want);
    const size_t n = tcp_->RecvCopy(*id, MutableBytes(got.data(), got.size()));
    ENGINE_CHECK(n <= want, "RecvCopy gave ", n, " of ", want);
    got.resize(n);
  }
  if (live == nullptr) {
    // (A connection the application closed may still hand over what arrived since: not checked.)
    ENGINE_CHECK(!p->freed || got.empty(), "Recv on a stale id gave ", got.size(), " bytes");
    return;
  }
  if (!tainted_) {
    for (size_t i = 0; i < got.size(); ++i) {
      ENGINE_CHECK(got[i] == PeerByte(static_cast<uint32_t>(live->received + i)), KeyString(live->key),
                   ": the application read the wrong byte at stream offset ", live->received + i);
    }
  }
  live->received += got.size();
}

void Harness::DoConnOp(Op op, const ConnOp& a) {
  const std::optional<Picked> p = PickConn(a.conn);
  if (!p) return;
  const size_t before = tcp_->connections() + tcp_->time_wait_entries();
  switch (op) {
    case Op::kClose:
      tcp_->Close(p->id);
      break;
    case Op::kShutdown:
      tcp_->Shutdown(p->id);
      break;
    default:
      tcp_->Abort(p->id);
      break;
  }
  // A stale id changes nothing; nor does a second Close. (Abort and Shutdown still act on a connection
  // the application closed that lives on as an orphan: lib/core/tcp_layer.cc checks app_closed only in
  // Send and Close.)
  if (p->freed || (p->live == nullptr && op == Op::kClose)) {
    ENGINE_CHECK(tcp_->connections() + tcp_->time_wait_entries() == before && stack_->outbox().empty(),
                 "a call with a released id did something");
    return;
  }
  if (op == Op::kClose) Release(p->id, false);
  if (op == Op::kAbort) Release(p->id, true);
}

void Harness::DoArp(const ArpOp& a) {
  const uint8_t p = a.peer & 7;
  const Ipv4Addr ip = kPeerIps[p];
  const MacAddr mac = PeerMac(p);
  switch (a.kind & 3) {
    case 0:
      return InjectFrame(testing::ArpFrame(kArpOpRequest, MacAddr::Broadcast(), mac, ip, MacAddr{}, kOurIp));
    case 1:
      return InjectFrame(testing::ArpFrame(kArpOpReply, kOurMac, mac, ip, kOurMac, kOurIp));
    case 2:  // someone claims our address
      return InjectFrame(testing::ArpFrame(kArpOpRequest, MacAddr::Broadcast(), mac, kOurIp, MacAddr{}, ip));
    default:
      return InjectFrame(
          testing::ArpFrame(kArpOpRequest, MacAddr::Broadcast(), mac, ip, MacAddr{}, Ipv4Addr::Of(198, 18, 0, 77)));
  }
}

void Harness::DoPing(const PingOp& a) {
  const uint8_t p = a.peer & 7;
  testing::IpOpts o;
  o.protocol = kIpProtoIcmp;
  InjectFrame(testing::Concat(testing::EthHeader(kOurMac, PeerMac(p), kEtherTypeIpv4),
                              testing::Ipv4(kPeerIps[p], kOurIp, testing::IcmpEcho(8, 1, 2, a.len & 63), o)));
}

void Harness::DoTimeout(const TimeoutOp& a) {
  const std::optional<Picked> p = PickConn(a.conn);
  if (!p) return;
  const size_t before = tcp_->connections() + tcp_->time_wait_entries();
  const Duration d = kAppTimeouts[a.duration & 7];
  if (a.kind & 1) {
    tcp_->SetIdleTimeout(p->id, d);
  } else {
    tcp_->SetTimeout(p->id, d);
  }
  if (p->freed) {
    ENGINE_CHECK(tcp_->connections() + tcp_->time_wait_entries() == before && stack_->outbox().empty(),
                 "a timeout set on a released id did something");
  }
}

void Harness::Run(ByteReader& r) {
  for (op_index_ = 0; op_index_ < kMaxOps && !r.done(); ++op_index_) {
    uint8_t code;
    r(code);
    const Op op = static_cast<Op>(code % static_cast<uint8_t>(Op::kCount));
    op_name_ = OpName(op);
    if (g_trace) std::fprintf(stderr, "op #%d %s (t=%.3f s)\n", op_index_, op_name_, (now_ - start_).seconds());
    switch (op) {
      case Op::kSyn: {
        SynOp a;
        Fields(r, a);
        DoSyn(a);
        break;
      }
      case Op::kSynAck: {
        SynAckOp a;
        Fields(r, a);
        DoSynAck(a);
        break;
      }
      case Op::kAckSynAck: {
        AckSynAckOp a;
        Fields(r, a);
        DoAckSynAck(a);
        break;
      }
      case Op::kSegment: {
        SegmentOp a;
        Fields(r, a);
        DoSegment(a);
        break;
      }
      case Op::kAckAll: {
        AckAllOp a;
        Fields(r, a);
        DoAckAll(a);
        break;
      }
      case Op::kRawFrame: {
        RawFrameOp a;
        Fields(r, a);
        tainted_ = true;
        InjectFrame(a.bytes);
        break;
      }
      case Op::kRawTcp: {
        RawTcpOp a;
        Fields(r, a);
        tainted_ = true;
        DoRawTcp(a);
        break;
      }
      case Op::kReflect: {
        ReflectOp a;
        Fields(r, a);
        tainted_ = true;
        DoReflect(a);
        break;
      }
      case Op::kAdvance: {
        AdvanceOp a;
        Fields(r, a);
        const size_t i = a.step & 15;
        Advance(i == 15 ? Duration::Milliseconds(a.ms) : kAdvanceSteps[i]);
        break;
      }
      case Op::kConnect: {
        ConnectOp a;
        Fields(r, a);
        DoConnect(a);
        break;
      }
      case Op::kSend: {
        SendOp a;
        Fields(r, a);
        DoSend(a);
        break;
      }
      case Op::kRecv: {
        RecvOp a;
        Fields(r, a);
        DoRecv(a);
        break;
      }
      case Op::kClose:
      case Op::kShutdown:
      case Op::kAbort: {
        ConnOp a;
        Fields(r, a);
        DoConnOp(op, a);
        break;
      }
      case Op::kArp: {
        ArpOp a;
        Fields(r, a);
        DoArp(a);
        break;
      }
      case Op::kPing: {
        PingOp a;
        Fields(r, a);
        DoPing(a);
        break;
      }
      case Op::kTimeout: {
        TimeoutOp a;
        Fields(r, a);
        DoTimeout(a);
        break;
      }
      case Op::kCount:
        break;
    }
    Drain();
    CheckInvariants();
    if (g_trace) {
      std::string counters;
      tcp_->tcp_counters().ForEach([&](std::string_view name, uint64_t v) {
        if (v != 0 && name != "segments_in" && name != "segments_out")
          absl::StrAppend(&counters, " ", std::string(name), "=", v);
      });
      tcp_->counters().ForEach([&](std::string_view name, uint64_t v) {
        if (v != 0) absl::StrAppend(&counters, " ", std::string(name), "=", v);
      });
      std::fprintf(stderr, "    counters:%s\n", counters.c_str());
      for (const FlowInfo& fl : flows_) {
        if (const TcpConnection* c = TcpLayerTestPeer::FindConnection(*tcp_, fl.key)) {
          std::fprintf(stderr, "    conn %s %s unread=%u queued=%u\n", KeyString(fl.key).c_str(), StateName(c->state()),
                       c->unread(), c->send_queued());
        }
      }
    }
  }
  Finish();
}

void Harness::Finish() {
  op_name_ = "teardown";
  // The application closes everything; then nobody answers. Every connection must end by itself.
  Drain();
  while (!live_.empty()) {
    const ConnId id = live_.back().id;
    tcp_->Close(id);
    Release(id, false);
    Drain();
  }
  CheckInvariants();
  const Instant deadline = now_ + kQuietPeriod;
  int steps = 0;
  while (now_ < deadline &&
         (tcp_->connections() > 0 || tcp_->time_wait_entries() > 0 || stack_->neighbors().pending_packets() > 0)) {
    now_ = now_ + kQuietStep;
    tcp_->Poll(now_);
    tcp_->Unreachable(now_, stack_->Poll(now_));
    Drain();
    if (++steps % 16 == 0) CheckInvariants();
  }
  CheckInvariants();
  if (tcp_->connections() > 0) {
    std::string left;
    for (const FlowInfo& fl : flows_) {
      if (const TcpConnection* c = TcpLayerTestPeer::FindConnection(*tcp_, fl.key)) {
        absl::StrAppend(&left, "\n  ", KeyString(fl.key), " ", StateName(c->state()), " snd_una=", c->snd_una().raw(),
                        " snd_nxt=", c->snd_nxt().raw(), " snd_wnd=", c->snd_wnd(), " queued=", c->send_queued(),
                        " unread=", c->unread(), " next deadline in ",
                        c->NextDeadline() == Instant::Never() ? -1.0 : (c->NextDeadline() - now_).seconds(), " s");
      }
    }
    ENGINE_CHECK(false, tcp_->connections(), " connections still open ", kQuietPeriod.seconds(),
                 " s after the application closed everything and the peers fell silent:", left);
  }
  ENGINE_CHECK(tcp_->time_wait_entries() == 0 && tcp_->half_open() == 0 &&
                   TcpLayerTestPeer::PeerRefsTotal(*tcp_) == 0 && tcp_->orphans() == 0,
               "TIME-WAIT ", tcp_->time_wait_entries(), ", half-open ", tcp_->half_open(), ", peer refs ",
               TcpLayerTestPeer::PeerRefsTotal(*tcp_), ", orphans ", tcp_->orphans(), " after the quiet period");
  tcp_.reset();
  stack_.reset();
  const std::array<unsigned, 4> now_in_use = {
      rte_mempool_in_use_count(Pool()), rte_mempool_in_use_count(IndirectPool()), rte_mempool_in_use_count(SmallPool()),
      rte_mempool_in_use_count(SmallIndirectPool())};
  static const char* const kPoolNames[] = {"frame pool", "indirect pool", "small frame pool", "small indirect pool"};
  for (size_t i = 0; i < now_in_use.size(); ++i) {
    ENGINE_CHECK(now_in_use[i] == pools_at_start_[i], kPoolNames[i], ": ", now_in_use[i], " mbufs in use, ",
                 pools_at_start_[i], " at the start");
  }
}

}  // namespace
}  // namespace synack

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  synack::fuzz::StartEal();
  const char* trace = std::getenv("SYNACK_FUZZ_TRACE");
  synack::g_trace = trace != nullptr && trace[0] == '1';
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace synack;
  fuzz::ByteReader r(data, size);
  fuzz::Config c;
  fuzz::Fields(r, c);
  Harness h(c);
  h.Run(r);
  return 0;
}
