// Test support: one engine's NetStack + TcpLayer on real mbufs with no device, and the test playing its
// peer on the wire. Inject() builds an Ethernet/IPv4/TCP frame from the peer (options as raw bytes, so
// a test can send anything a hostile peer could) and hands it to the stack; Sent() takes the frames
// the stack queued and parses them back into segments. Time is fake and moves only with Advance().
// The peer's ARP entry is learnt at construction. Main thread only.
#pragma once

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rte_mempool.h>

#include "lib/core/tcp_layer.h"
#include "lib/net/ethernet.h"
#include "lib/net/ipv4.h"
#include "lib/net/net_stack.h"
#include "lib/tcp/tcp_header.h"
#include "tests/eal_env.h"
#include "tests/frames.h"
#include "tests/tcp_layer_peer.h"

namespace synack::testing {

inline const MacAddr kWireOurMac{{0x02, 0x53, 0, 0, 0, 0x02}};
inline const MacAddr kWirePeerMac{{0x02, 0x4b, 0, 0, 0, 0x01}};
inline const Ipv4Addr kWireOurIp = Ipv4Addr::Of(198, 18, 0, 2);
inline const Ipv4Addr kWirePeerIp = Ipv4Addr::Of(198, 18, 0, 1);

// Raw option bytes, for TcpFields::options.
inline Bytes MssOption(uint16_t mss) { return {2, 4, static_cast<uint8_t>(mss >> 8), static_cast<uint8_t>(mss)}; }
inline Bytes WscaleOption(uint8_t shift) { return {1, 3, 3, shift}; }
inline Bytes SackPermittedOption() { return {1, 1, 4, 2}; }
inline Bytes TimestampsOption(uint32_t tsval, uint32_t tsecr) {
  Bytes b = {1, 1, 8, 10};
  Put32(b, tsval);
  Put32(b, tsecr);
  return b;
}

// A segment from the peer (port `src_port`) to our port `dst_port`.
inline TcpFields PeerFields(uint16_t dst_port, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window,
                            uint16_t src_port) {
  TcpFields f;
  f.src_port = src_port;
  f.dst_port = dst_port;
  f.seq = seq;
  f.ack = ack;
  f.flags = flags;
  f.window = window;
  return f;
}

// One segment the stack sent, parsed back.
struct SentSegment {
  Ipv4Addr dst;
  TcpSegment seg;
  Bytes payload;
  Ipv4Addr src;  // which of our addresses sent it
};

class WirePeer {
 public:
  // `pool`: where the stack allocates (null: the shared test pool). `local_count`: our addresses, from
  // kWireOurIp on.
  explicit WirePeer(const TcpLayerConfig& tcp, rte_mempool* pool = nullptr,
                    Instant start = Instant::FromNanoseconds(int64_t{1} << 40), uint32_t local_count = 1)
      : pool_(pool != nullptr ? pool : TestPool()), now_(start) {
    NetConfig nc;
    nc.local = Ipv4Prefix{kWireOurIp, 24};
    nc.local_count = local_count;
    nc.mac = kWireOurMac;
    stack_.emplace(nc, pool_);
    tcp_.emplace(tcp, *stack_, pool_, TestIndirectPool());
    TcpLayerTestPeer::SetNow(*tcp_, now_);
    Learn(kWirePeerIp);
  }
  // Makes the stack learn `addr` (at the peer's MAC) from an ARP request; our ARP reply is dropped.
  void Learn(Ipv4Addr addr) {
    for (Ipv4Addr a : learnt_) {
      if (a == addr) return;
    }
    learnt_.push_back(addr);
    InjectFrame(ArpFrame(1, MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}, kWirePeerMac, addr, MacAddr{}, kWireOurIp));
    // Drop our ARP reply; keep whatever else was queued, in order.
    std::vector<Mbuf> keep;
    while (Mbuf m = stack_->outbox().PopFront()) {
      const ConstBytes b = m.bytes();
      if (b.size() >= 14 && LoadBe16(b.data() + 12) == kEtherTypeArp) continue;
      keep.push_back(std::move(m));
    }
    for (Mbuf& m : keep) EXPECT_TRUE(stack_->outbox().Push(std::move(m)));
  }
  ~WirePeer() {
    tcp_.reset();
    stack_.reset();
  }

  TcpLayer& tcp() { return *tcp_; }
  NetStack& stack() { return *stack_; }
  Instant now() const { return now_; }
  rte_mempool* pool() const { return pool_; }

  // A frame from the peer (from `src`, default the peer's address) to us.
  // Addresses other than the peer's are learnt by ARP first (answers dropped).
  void Inject(const TcpFields& f, const Bytes& payload = {}, Ipv4Addr src = kWirePeerIp) {
    Learn(src);
    IpOpts o;
    o.protocol = 6;
    InjectFrame(Concat(EthHeader(kWireOurMac, kWirePeerMac, 0x0800),
                       Ipv4(src, kWireOurIp, Tcp(src, kWireOurIp, f, payload), o)));
  }
  // An ICMP echo request from the peer; true if the stack queued an echo reply for it.
  bool Ping(uint16_t seq) {
    IpOpts o;
    o.protocol = 1;
    InjectFrame(Concat(EthHeader(kWireOurMac, kWirePeerMac, 0x0800),
                       Ipv4(kWirePeerIp, kWireOurIp, IcmpEcho(8, 77, seq, 32), o)));
    bool replied = false;
    std::vector<Mbuf> keep;
    while (Mbuf m = stack_->outbox().PopFront()) {
      Parsed<EthernetFrame> eth = ParseEthernet(m.bytes());
      if (eth.ok() && eth->ethertype == kEtherTypeIpv4) {
        Parsed<Ipv4Packet> ip = ParseIpv4(eth->payload);
        if (ip.ok() && ip->protocol == kIpProtoIcmp && !ip->payload.empty() && ip->payload[0] == 0) {
          replied = true;
          continue;
        }
      }
      keep.push_back(std::move(m));
    }
    for (Mbuf& m : keep) EXPECT_TRUE(stack_->outbox().Push(std::move(m)));
    return replied;
  }
  // False when the pool had no mbuf for it (the frame never reached the stack).
  bool InjectFrame(const Bytes& frame) {
    Mbuf m = ToMbuf(pool_, frame);
    if (!m) return false;
    tcp_->Input(now_, stack_->Input(now_, std::move(m)));
    return true;
  }

  // Moves fake time forward, running the layer's timers (every `step`) and ARP.
  void Advance(Duration d, Duration step = Duration::Milliseconds(1)) {
    const Instant end = now_ + d;
    while (now_ < end) {
      now_ = std::min(end, now_ + step);
      tcp_->Poll(now_);
      tcp_->Unreachable(now_, stack_->Poll(now_));
    }
    TcpLayerTestPeer::SetNow(*tcp_, now_);
  }

  // Every TCP segment queued for transmission, oldest first; other frames are dropped.
  std::vector<SentSegment> Sent() {
    std::vector<SentSegment> out;
    while (Mbuf m = stack_->outbox().PopFront()) {
      if (!m.contiguous() && rte_pktmbuf_linearize(m.get()) != 0) {
        ADD_FAILURE() << "could not linearize a sent frame";
        continue;
      }
      Parsed<EthernetFrame> eth = ParseEthernet(m.bytes());
      if (!eth.ok() || eth->ethertype != kEtherTypeIpv4) continue;
      Parsed<Ipv4Packet> ip = ParseIpv4(eth->payload);
      if (!ip.ok() || ip->protocol != kIpProtoTcp) continue;
      Parsed<TcpPacket> tcp = ParseTcp(ip->payload, ip->src, ip->dst, ChecksumState::kUnknown);
      if (!tcp.ok()) {
        ADD_FAILURE() << "the stack sent a TCP segment it cannot parse back: " << DropName(tcp.error());
        continue;
      }
      out.push_back(SentSegment{ip->dst, tcp->seg, Bytes(tcp->payload.begin(), tcp->payload.end()), ip->src});
    }
    return out;
  }
  // The one segment sent since the last call (fails the test otherwise).
  std::optional<SentSegment> SentOne() {
    std::vector<SentSegment> s = Sent();
    EXPECT_EQ(s.size(), 1u) << (s.empty() ? std::string("nothing sent") : ToString(s[0].seg));
    if (s.size() != 1) return std::nullopt;
    return s[0];
  }
  void DropSent() {
    while (stack_->outbox().PopFront()) {
    }
  }

  // Drains the layer's events.
  std::vector<Event> Events() {
    std::vector<Event> out;
    Event ev[64];
    for (size_t n; (n = tcp_->PollEvents(ev)) > 0;) out.insert(out.end(), ev, ev + n);
    return out;
  }

 private:
  rte_mempool* pool_;
  Instant now_;
  std::optional<NetStack> stack_;
  std::optional<TcpLayer> tcp_;
  std::vector<Ipv4Addr> learnt_;
};

}  // namespace synack::testing
