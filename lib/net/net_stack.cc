#include "lib/net/net_stack.h"

#include <algorithm>
#include <cstring>

#include "lib/net/arp.h"
#include "lib/net/checksum.h"
#include "lib/net/icmp.h"

namespace synack {
namespace {

ChecksumState RxIpChecksumState(const rte_mbuf* m) {
  switch (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
    case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
    case RTE_MBUF_F_RX_IP_CKSUM_NONE:  // header integrity verified, checksum field not meaningful
      return ChecksumState::kGood;
    case RTE_MBUF_F_RX_IP_CKSUM_BAD:
      return ChecksumState::kBad;
    default:
      return ChecksumState::kUnknown;
  }
}

// Whether a multi-segment frame can be parsed where it lies: an IPv4 TCP segment (not a fragment)
// whose Ethernet, IPv4 and TCP headers, options included, are all in the first segment. Its payload
// may then stay in the later segments (no copy); anything else is gathered into one buffer first.
bool TcpHeadersInFirstSegment(ConstBytes first) {
  constexpr size_t kTcpMin = 20;
  const std::optional<size_t> tcp = PeekTcpOffset(first);
  if (!tcp || first.size() < *tcp + kTcpMin) return false;
  const size_t doff = static_cast<size_t>(first[*tcp + 12] >> 4) * 4;
  return first.size() >= *tcp + std::max(doff, kTcpMin);
}

}  // namespace

namespace {

// NetConfig::local_count within [1, kMaxLocalAddresses] and within the prefix: no address past its
// broadcast address.
uint32_t ClampLocalCount(const NetConfig& c) {
  const uint32_t last = c.local.len >= 32 ? c.local.addr.v : (c.local.addr.v | ~c.local.mask()) - 1;
  const uint32_t room = last >= c.local.addr.v ? last - c.local.addr.v + 1 : 1;
  return std::clamp<uint32_t>(std::min(c.local_count, room), 1, kMaxLocalAddresses);
}

}  // namespace

NetStack::NetStack(const NetConfig& config, rte_mempool* pool)
    : config_(config),
      pool_(pool),
      neighbors_(config.arp),
      outbox_(config.outbox_capacity),
      local_count_(ClampLocalCount(config)) {}

void NetStack::Discard(Mbuf&& m, Drop reason) {
  Mbuf dropped(std::move(m));  // freed here, exactly once
  counters_.Count(reason);
}

void NetStack::Transmit(Mbuf&& frame) {
  if (!outbox_.Push(std::move(frame))) counters_.Count(Drop::kTxQueueFull);
}

void NetStack::Start(Instant /*now*/) {
  // Gratuitous ARP (RFC 5227 announcement): sender and target are both our address — each of them.
  for (uint32_t i = 0; i < local_count_; ++i) {
    SendArpRequest(LocalAddress(i), LocalAddress(i));
    ++counters_.arp_gratuitous_tx;
  }
}

void NetStack::SendArpRequest(Ipv4Addr target, Ipv4Addr sender) {
  Mbuf m = Mbuf::Alloc(pool_);
  if (!m) {
    counters_.Count(Drop::kMempoolEmpty);
    return;
  }
  uint8_t* p = m.Append(kEthHeaderLen + kArpLen);
  WriteEthernetHeader(p, MacAddr::Broadcast(), config_.mac, kEtherTypeArp);
  ArpPacket a;
  a.op = kArpOpRequest;
  a.sha = config_.mac;
  a.spa = sender;
  a.tpa = target;
  WriteArp(p + kEthHeaderLen, a);
  ++counters_.arp_requests_tx;
  Transmit(std::move(m));
}

Delivery NetStack::Input(Instant now, Mbuf&& frame) {
  Mbuf m(std::move(frame));
  ++counters_.rx_frames;
  if (!m.contiguous()) {
    if (TcpHeadersInFirstSegment(m.bytes())) {
      ++counters_.rx_chained;  // parsed where it lies: the payload stays in its segments
    } else {
      // Other chained frames are gathered into the first segment when it has room (parsers read
      // contiguous bytes).
      if (rte_pktmbuf_linearize(m.get()) != 0) return Dropped(std::move(m), Drop::kNonContiguous);
      ++counters_.rx_linearized;
    }
  }
  Parsed<EthernetFrame> eth = ParseEthernet(m.bytes());
  if (!eth.ok()) return Dropped(std::move(m), eth.error());
  if (eth->dst != config_.mac && !eth->dst.is_broadcast()) {
    return Dropped(std::move(m), Drop::kEthNotForUs);
  }
  switch (eth->ethertype) {
    case kEtherTypeArp:
      HandleArp(now, std::move(m), *eth, /*shared=*/false);
      return {};
    case kEtherTypeIpv4:
      return HandleIpv4(now, std::move(m), *eth);
    default:
      return Dropped(std::move(m), Drop::kEthUnknownType);
  }
}

void NetStack::LearnArp(Instant now, Mbuf&& frame) {
  Mbuf m(std::move(frame));
  ++counters_.arp_shared_rx;
  Parsed<EthernetFrame> eth = ParseEthernet(m.bytes());
  if (!eth.ok()) return Discard(std::move(m), eth.error());
  HandleArp(now, std::move(m), *eth, /*shared=*/true);
}

void NetStack::HandleArp(Instant now, Mbuf&& frame, const EthernetFrame& eth, bool shared) {
  Mbuf m(std::move(frame));
  Parsed<ArpPacket> arp = ParseArp(eth.payload);
  if (!arp.ok()) return Discard(std::move(m), arp.error());
  if (IsLocal(arp->spa)) {
    // Another host claims our address (we never receive our own frames back).
    return Discard(std::move(m), Drop::kArpConflict);
  }
  const bool for_us = IsLocal(arp->tpa);
  if (shared) {
    // A sibling engine counted and answered it; only learn, so packets waiting here can leave.
    if (for_us && !arp->spa.is_zero() && !arp->sha.is_multicast()) {
      neighbors_.Update(arp->spa, arp->sha, now, true, [this](Mbuf&& waiting, const MacAddr& mac) {
        SendWithEthernet(std::move(waiting), mac, kEtherTypeIpv4);
      });
    }
    return;  // `m` freed here
  }
  if (arp->op == kArpOpRequest) {
    ++counters_.arp_requests_rx;
  } else {
    ++counters_.arp_replies_rx;
  }
  // RFC 826 merge: refresh an existing entry from any ARP; create one only when addressed to us.
  if (!arp->spa.is_zero() && !arp->sha.is_multicast()) {
    bool created_or_updated = neighbors_.Update(
        arp->spa, arp->sha, now, for_us,
        [this](Mbuf&& waiting, const MacAddr& mac) { SendWithEthernet(std::move(waiting), mac, kEtherTypeIpv4); });
    if (created_or_updated && for_us) ++counters_.arp_learned;
  }
  if (!for_us) return Discard(std::move(m), Drop::kArpNotForUs);
  if (arp->op != kArpOpRequest) return;  // reply consumed; `m` freed here

  // Answer in place: the request frame becomes the reply.
  ArpPacket reply;
  reply.op = kArpOpReply;
  reply.sha = config_.mac;
  reply.spa = arp->tpa;  // the address asked for (one of ours)
  reply.tha = arp->sha;
  reply.tpa = arp->spa;
  m.TrimTo(kEthHeaderLen + kArpLen);
  WriteEthernetHeader(m.data(), arp->sha, config_.mac, kEtherTypeArp);
  WriteArp(m.data() + kEthHeaderLen, reply);
  m.ClearOffloadFlags();
  ++counters_.arp_replies_tx;
  Transmit(std::move(m));
}

Delivery NetStack::HandleIpv4(Instant now, Mbuf&& frame, const EthernetFrame& eth) {
  Mbuf m(std::move(frame));
  const ChecksumState ip_cksum = config_.rx_cksum_trusted ? ChecksumState::kGood : RxIpChecksumState(m.get());
  Parsed<Ipv4Packet> ip = ParseIpv4(eth.payload, m.pkt_len() - kEthHeaderLen, ip_cksum);
  if (!ip.ok()) return Dropped(std::move(m), ip.error());
  if (ip->is_fragment()) return Dropped(std::move(m), Drop::kIpFragment);
  const bool to_broadcast = ip->dst.is_limited_broadcast() || ip->dst == config_.local.broadcast();
  if (!IsLocal(ip->dst) && !to_broadcast) return Dropped(std::move(m), Drop::kIpNotForUs);
  if (ip->src.is_multicast() || ip->src.is_limited_broadcast() || ip->src == config_.local.broadcast() ||
      IsLocal(ip->src)) {
    return Dropped(std::move(m), Drop::kIpBadSource);
  }
  ++counters_.ip_rx;
  // Strip Ethernet padding so the mbuf holds exactly the datagram.
  m.TrimTo(kEthHeaderLen + uint32_t{ip->total_len});
  switch (ip->protocol) {
    case kIpProtoIcmp:
      return HandleIcmp(now, std::move(m), eth, *ip);
    case kIpProtoTcp:
      return Delivery{Delivery::Kind::kTcp, std::move(m), *ip, {}};
    default:
      return Dropped(std::move(m), Drop::kIpUnknownProtocol);
  }
}

Delivery NetStack::HandleIcmp(Instant now, Mbuf&& frame, const EthernetFrame& eth, const Ipv4Packet& ip) {
  Mbuf m(std::move(frame));
  Parsed<IcmpMessage> icmp = ParseIcmp(ip.payload);
  if (!icmp.ok()) return Dropped(std::move(m), icmp.error());
  if (icmp->type == kIcmpEchoReply && icmp->code == 0) {
    ++counters_.icmp_echo_replies_rx;
    last_echo_reply_ = EchoReply{ip.src, icmp->id, icmp->seq, now};
    return {};  // consumed
  }
  if (icmp->type == kIcmpDestUnreachable) {
    Parsed<IcmpError> err = ParseIcmpError(*icmp);
    if (!err.ok()) return Dropped(std::move(m), err.error());
    if (!IsLocal(ip.dst) || !IsLocal(err->src) || err->protocol != kIpProtoTcp) {
      return Dropped(std::move(m), Drop::kIcmpErrorNotOurs);
    }
    ++counters_.icmp_errors_rx;
    // Whether it applies to a live connection is TCP's decision (RFC 5927); `m` frees the frame.
    return Delivery{Delivery::Kind::kIcmpError, Mbuf(), {}, *err};
  }
  if (icmp->type != kIcmpEchoRequest || icmp->code != 0) {
    return Dropped(std::move(m), Drop::kIcmpUnhandledType);
  }
  ++counters_.icmp_echo_requests_rx;
  if (!IsLocal(ip.dst)) {
    // RFC 1122 3.2.2.6: echo requests to a broadcast address may be silently discarded.
    return Dropped(std::move(m), Drop::kIpNotForUs);
  }
  // Reuse the request's mbuf: strip to the ICMP message, flip the type, re-checksum, and send it back
  // to the MAC it came from (no ARP round trip needed to answer).
  const uint16_t icmp_len = static_cast<uint16_t>(ip.payload.size());
  m.Adj(static_cast<uint16_t>(kEthHeaderLen + ip.header_len));
  uint8_t* p = m.data();
  WriteIcmpEcho(p, kIcmpEchoReply, icmp->id, icmp->seq, icmp_len - kIcmpHeaderLen);
  m.ClearOffloadFlags();
  ++counters_.icmp_echo_replies_tx;
  SendIpv4Via(std::move(m), ip.dst, ip.src, kIpProtoIcmp, eth.src);
  return {};
}

bool NetStack::PrependIpv4(Mbuf& m, Ipv4Addr src, Ipv4Addr dst, uint8_t protocol) {
  if (m.pkt_len() > 0xffff - kIpv4MinHeaderLen) return false;
  const uint16_t payload_len = static_cast<uint16_t>(m.pkt_len());
  uint8_t* p = m.Prepend(kIpv4MinHeaderLen);
  if (p == nullptr) return false;
  Ipv4HeaderFields f;
  f.src = src;
  f.dst = dst;
  f.protocol = protocol;
  f.id = next_ip_id_++;
  f.payload_len = payload_len;
  WriteIpv4Header(p, f, !config_.tx_ip_cksum_offload);
  return true;
}

void NetStack::SendIpv4Via(Mbuf&& payload, Ipv4Addr src, Ipv4Addr dst, uint8_t protocol, const MacAddr& dst_mac) {
  Mbuf m(std::move(payload));
  if (!PrependIpv4(m, src, dst, protocol)) return Discard(std::move(m), Drop::kNoHeadroom);
  SendWithEthernet(std::move(m), dst_mac, kEtherTypeIpv4);
}

void NetStack::SendWithEthernet(Mbuf&& ip_packet, const MacAddr& dst_mac, uint16_t ethertype) {
  Mbuf m(std::move(ip_packet));
  uint8_t* p = m.Prepend(kEthHeaderLen);
  if (p == nullptr) return Discard(std::move(m), Drop::kNoHeadroom);
  WriteEthernetHeader(p, dst_mac, config_.mac, ethertype);
  rte_mbuf* mb = m.get();
  mb->l2_len = kEthHeaderLen;
  mb->l3_len = kIpv4MinHeaderLen;
  if (config_.tx_ip_cksum_offload && ethertype == kEtherTypeIpv4) {
    mb->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
  }
  Transmit(std::move(m));
}

void NetStack::OutputIpv4(Instant now, Mbuf&& payload, Ipv4Addr dst, uint8_t protocol) {
  OutputIpv4(now, std::move(payload), config_.local.addr, dst, protocol);
}

void NetStack::OutputIpv4(Instant now, Mbuf&& payload, Ipv4Addr src, Ipv4Addr dst, uint8_t protocol) {
  Mbuf m(std::move(payload));
  Ipv4Addr next_hop = dst;
  if (!config_.local.Contains(dst)) {
    if (!config_.gateway) return Discard(std::move(m), Drop::kNoRoute);
    next_hop = *config_.gateway;
  }
  if (!PrependIpv4(m, src, dst, protocol)) return Discard(std::move(m), Drop::kNoHeadroom);
  if (const MacAddr* mac = neighbors_.Find(next_hop)) {
    return SendWithEthernet(std::move(m), *mac, kEtherTypeIpv4);
  }
  // Queue the datagram with its IPv4 header; the Ethernet header is added once ARP answers.
  switch (neighbors_.Enqueue(next_hop, now, std::move(m))) {
    case NeighborCache::EnqueueResult::kQueuedSendRequest:
      SendArpRequest(next_hop, config_.local.addr);
      break;
    case NeighborCache::EnqueueResult::kQueued:
      break;
    case NeighborCache::EnqueueResult::kDroppedQueueFull:
      counters_.Count(Drop::kArpQueueFull);
      break;
    case NeighborCache::EnqueueResult::kDroppedTableFull:
      counters_.Count(Drop::kArpTableFull);
      break;
  }
}

bool NetStack::SendEchoRequest(Instant now, Ipv4Addr dst, uint16_t id, uint16_t seq, uint16_t data_len) {
  Mbuf m = Mbuf::Alloc(pool_);
  if (!m) {
    counters_.Count(Drop::kMempoolEmpty);
    return false;
  }
  uint8_t* p = m.Append(static_cast<uint16_t>(kIcmpHeaderLen + data_len));
  if (p == nullptr) {
    Discard(std::move(m), Drop::kNoHeadroom);
    return false;
  }
  for (uint16_t i = 0; i < data_len; ++i) p[kIcmpHeaderLen + i] = static_cast<uint8_t>(i);
  WriteIcmpEcho(p, kIcmpEchoRequest, id, seq, data_len);
  ++counters_.icmp_echo_requests_tx;
  OutputIpv4(now, std::move(m), dst, kIpProtoIcmp);
  return true;
}

std::span<const Ipv4Addr> NetStack::Poll(Instant now) {
  unreachable_.clear();
  neighbors_.Poll(
      now, [this](Ipv4Addr ip) { SendArpRequest(ip, config_.local.addr); },
      [this](Mbuf&& m) {
        // The waiting datagram still starts with the IPv4 header we wrote: tell TCP whom it was for
        // (read through the parser like any header; ours carries no checksum yet when offloaded).
        Parsed<Ipv4Packet> ip = ParseIpv4(m.bytes(), m.pkt_len(), ChecksumState::kGood);
        if (ip.ok() && ip->protocol == kIpProtoTcp) unreachable_.push_back(ip->dst);
        Discard(std::move(m), Drop::kArpUnresolved);
      });
  return unreachable_;
}

}  // namespace synack
