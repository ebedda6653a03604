// libFuzzer target: the Ethernet/ARP/IPv4/ICMP parsers, the cheap peeks before them (PeekTcpOffset,
// PeekIpv4Tcp, PeekSyn) and NetStack's whole receive path.
//
// Input: byte 0 is a control byte, then frames, each as a 2-byte big-endian length and that many bytes
// (the last frame takes whatever is left if its length runs past the end).
//   control bits 0-1: the receive checksum verdict the "device" puts on every frame
//                     (none / IP good / IP bad / IP+L4 good);
//   bit 2: the stack sends an echo request to 198.18.0.1 first (a datagram waits on ARP, so ARP replies
//          in the input can release it);
//   bit 3: frames are given to the stack as chains of 2-3 mbufs (the linearising path);
//   bit 4: TX IPv4 checksum offload on;
//   bit 5: the stack's clock jumps 1.1 s before each frame (ARP retries, give-ups and expiry run);
//   bit 6: frames arrive through LearnArp (a sibling engine's copy) instead of Input.
//
// For every frame: each parser runs over an exact-size heap copy (ASan sees any read past the end) and
// what it returns must lie inside its input; then the frame goes through NetStack on a real mbuf. Every
// frame the stack emits must parse back (ARP from our MAC and address; IPv4 with a good header checksum
// unless offloaded; ICMP with a good checksum). After the outbox is drained, the pool holds exactly the
// mbufs waiting on ARP; when the stack is destroyed, every mbuf is back.
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "lib/core/rss.h"
#include "lib/core/syn_shedder.h"
#include "lib/net/arp.h"
#include "lib/net/ethernet.h"
#include "lib/net/icmp.h"
#include "lib/net/ipv4.h"
#include "lib/net/net_stack.h"
#include "tests/fuzz/fuzz_env.h"

namespace synack {
namespace {

const MacAddr kOurMac{{0x02, 0x53, 0, 0, 0, 0x02}};
const Ipv4Addr kOurIp = Ipv4Addr::Of(198, 18, 0, 2);

bool Within(ConstBytes inner, ConstBytes outer) {
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

// The parsers on their own, over an exact-size copy.
void ParseAll(ConstBytes frame) {
  auto copy = std::make_unique<uint8_t[]>(frame.size() + 1);
  if (!frame.empty()) std::memcpy(copy.get(), frame.data(), frame.size());
  const ConstBytes in(copy.get(), frame.size());
  Parsed<EthernetFrame> eth = ParseEthernet(in);
  if (!eth.ok()) {
    FUZZ_CHECK(in.size() < kEthHeaderLen, "Ethernet refused ", in.size(), " bytes");
  } else {
    FUZZ_CHECK(eth->payload.size() == in.size() - kEthHeaderLen && Within(eth->payload, in), "Ethernet payload");
  }
  // The cheap peeks before the full parse (dispatch, chained frames, SYN shedding) read only what they
  // checked is there, and agree with each other.
  const std::optional<size_t> tcp = PeekTcpOffset(in);
  if (tcp) FUZZ_CHECK(*tcp >= kEthHeaderLen + kIpv4MinHeaderLen && *tcp <= in.size(), "TCP offset ", *tcp);
  const std::optional<SynPeek> syn = PeekSyn(in);
  if (syn) FUZZ_CHECK(tcp && in.size() >= *tcp + 20, "SYN peeked past the TCP header");
  const std::optional<FrameTuple> tuple = PeekIpv4Tcp(in);
  if (tuple) FUZZ_CHECK(tcp && in.size() >= *tcp + 4, "ports peeked past the frame");
  if (syn) FUZZ_CHECK(tuple && tuple->src == syn->src && tuple->dst_port == syn->dst_port, "peeks disagree");
  // Each parser also over the whole input (not only where the Ethernet header says it starts).
  for (ConstBytes body : {in, eth.ok() ? eth->payload : in}) {
    Parsed<ArpPacket> arp = ParseArp(body);
    if (arp.ok()) FUZZ_CHECK(arp->op == kArpOpRequest || arp->op == kArpOpReply, "ARP op ", arp->op);
    for (ChecksumState c : {ChecksumState::kUnknown, ChecksumState::kGood, ChecksumState::kBad}) {
      Parsed<Ipv4Packet> ip = ParseIpv4(body, c);
      if (!ip.ok()) continue;
      FUZZ_CHECK(c != ChecksumState::kBad, "IPv4 accepted with a bad device verdict");
      FUZZ_CHECK(ip->header_len >= kIpv4MinHeaderLen && ip->header_len <= ip->total_len && ip->total_len <= body.size(),
                 "IPv4 lengths ", ip->header_len, "/", ip->total_len, "/", body.size());
      FUZZ_CHECK(ip->payload.size() == size_t{ip->total_len} - ip->header_len && Within(ip->payload, body),
                 "IPv4 payload");
      FUZZ_CHECK(ip->ttl != 0, "TTL 0 accepted");
      Parsed<IcmpMessage> icmp = ParseIcmp(ip->payload);
      if (icmp.ok()) FUZZ_CHECK(Within(icmp->data, ip->payload), "ICMP data");
    }
    Parsed<IcmpMessage> icmp = ParseIcmp(body);
    if (icmp.ok()) {
      FUZZ_CHECK(body.size() >= kIcmpHeaderLen && icmp->data.size() == body.size() - kIcmpHeaderLen, "ICMP data");
    }
  }
}

// A frame the stack emitted must be well-formed.
void CheckEmitted(const rte_mbuf* m, bool ip_offload) {
  const std::vector<uint8_t> bytes = fuzz::PacketBytes(m);
  Parsed<EthernetFrame> eth = ParseEthernet(bytes);
  FUZZ_CHECK(eth.ok(), "emitted frame of ", bytes.size(), " bytes has no Ethernet header");
  FUZZ_CHECK(eth->src == kOurMac, "emitted from MAC ", eth->src.ToString());
  if (eth->ethertype == kEtherTypeArp) {
    Parsed<ArpPacket> arp = ParseArp(eth->payload);
    FUZZ_CHECK(arp.ok(), "emitted ARP does not parse: ", std::string(DropName(arp.error())));
    FUZZ_CHECK(arp->sha == kOurMac && arp->spa == kOurIp, "emitted ARP claims ", arp->spa.ToString());
    return;
  }
  FUZZ_CHECK(eth->ethertype == kEtherTypeIpv4, "emitted ethertype ", eth->ethertype);
  const bool offloaded = ip_offload && (m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
  Parsed<Ipv4Packet> ip = ParseIpv4(eth->payload, offloaded ? ChecksumState::kGood : ChecksumState::kUnknown);
  FUZZ_CHECK(ip.ok(), "emitted IPv4 does not parse: ", std::string(DropName(ip.error())));
  FUZZ_CHECK(ip->src == kOurIp, "emitted from ", ip->src.ToString());
  FUZZ_CHECK(ip->protocol == kIpProtoIcmp, "the stack alone emitted protocol ", ip->protocol);
  Parsed<IcmpMessage> icmp = ParseIcmp(ip->payload);
  FUZZ_CHECK(icmp.ok(), "emitted ICMP does not parse: ", std::string(DropName(icmp.error())));
}

// Copies `frame` into one mbuf, or into a chain of up to three when `chain` is set.
Mbuf ToMbuf(rte_mempool* pool, ConstBytes frame, bool chain) {
  const size_t room = rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM;
  if (frame.size() > room) return Mbuf();
  std::vector<size_t> pieces;
  if (chain && frame.size() >= 3) {
    pieces = {frame.size() / 3, frame.size() / 3 + 1};
    pieces.push_back(frame.size() - pieces[0] - pieces[1]);
  } else {
    pieces = {frame.size()};
  }
  Mbuf head;
  size_t off = 0;
  for (size_t n : pieces) {
    Mbuf m = Mbuf::Alloc(pool);
    if (!m) return Mbuf();
    uint8_t* p = m.Append(static_cast<uint16_t>(n));
    if (p == nullptr) return Mbuf();
    if (n > 0) std::memcpy(p, frame.data() + off, n);
    off += n;
    if (!head) {
      head = std::move(m);
    } else if (rte_pktmbuf_chain(head.get(), m.get()) == 0) {
      (void)m.release();  // now part of head's chain
    } else {
      return Mbuf();
    }
  }
  return head;
}

}  // namespace
}  // namespace synack

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  synack::fuzz::StartEal();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace synack;
  if (size < 1) return 0;
  const uint8_t control = data[0];
  rte_mempool* pool = fuzz::Pool();
  const unsigned in_use_at_start = rte_mempool_in_use_count(pool);
  const uint64_t rx_flags[] = {0, RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_BAD,
                               RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD};
  {
    NetConfig nc;
    nc.local = Ipv4Prefix{kOurIp, 24};
    nc.mac = kOurMac;
    nc.tx_ip_cksum_offload = (control & 0x10) != 0;
    nc.arp.capacity = 8;
    nc.arp.max_pending = 4;
    nc.outbox_capacity = 64;
    NetStack stack(nc, pool);
    Instant now = Instant::FromNanoseconds(int64_t{1} << 40);
    stack.Start(now);
    if (control & 0x04) stack.SendEchoRequest(now, Ipv4Addr::Of(198, 18, 0, 1), 7, 1, 32);

    auto drain = [&] {
      while (Mbuf m = stack.outbox().PopFront()) CheckEmitted(m.get(), nc.tx_ip_cksum_offload);
      FUZZ_CHECK(rte_mempool_in_use_count(pool) == in_use_at_start + stack.neighbors().pending_packets(),
                 "mbufs in use ", rte_mempool_in_use_count(pool), " != ", in_use_at_start, " + ",
                 stack.neighbors().pending_packets(), " waiting on ARP");
      FUZZ_CHECK(stack.neighbors().size() <= nc.arp.capacity, "neighbour cache over capacity");
    };
    drain();

    size_t i = 1;
    for (int frames = 0; i < size && frames < 16; ++frames) {
      size_t len = size - i;
      if (len >= 2) {
        len = std::min<size_t>((size_t{data[i]} << 8) | data[i + 1], size - i - 2);
        i += 2;
      }
      const ConstBytes frame(data + i, len);
      i += len;
      ParseAll(frame);
      if (control & 0x20) {
        now = now + Duration::Milliseconds(1100);
        stack.Poll(now);
        drain();
      }
      Mbuf m = ToMbuf(pool, frame, (control & 0x08) != 0);
      if (!m) continue;
      m.get()->ol_flags = rx_flags[control & 3];
      if (control & 0x40) {
        stack.LearnArp(now, std::move(m));
      } else {
        // No transport here: a TCP datagram or ICMP error passed up is freed with the Delivery.
        static_cast<void>(stack.Input(now, std::move(m)));
      }
      drain();
    }
    // Let ARP give up on whatever still waits.
    for (int k = 0; k < 5; ++k) {
      now = now + Duration::Seconds(1);
      stack.Poll(now);
      drain();
    }
    FUZZ_CHECK(stack.neighbors().pending_packets() == 0, "packets still wait on ARP after 5 s");
  }
  FUZZ_CHECK(rte_mempool_in_use_count(pool) == in_use_at_start, "mbufs leaked: ", rte_mempool_in_use_count(pool),
             " in use, ", in_use_at_start, " at the start");
  return 0;
}
