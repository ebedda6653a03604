// NetStack: Ethernet, ARP, IPv4 and ICMP for one interface address, I/O-free.
// The engine hands it received frames with `Input(now, frame)` and calls `Poll(now)` for ARP retries
// and expiry; everything the stack wants to transmit is appended to `outbox()`, which the engine
// drains into the device. Every frame taken in is either transmitted (possibly rewritten in place),
// queued on ARP resolution, or freed exactly once with a Drop reason counted.
// Owned by one engine; only that engine's core may call it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <rte_mempool.h>

#include "lib/base/mbuf.h"
#include "lib/base/time.h"
#include "lib/net/addr.h"
#include "lib/net/counters.h"
#include "lib/net/ethernet.h"
#include "lib/net/icmp.h"
#include "lib/net/ipv4.h"
#include "lib/net/neighbor_cache.h"
#include "lib/net/outbox.h"

namespace synack {

// Most addresses one NetStack owns (NetConfig::local_count).
inline constexpr uint32_t kMaxLocalAddresses = 256;

struct NetConfig {
  Ipv4Prefix local;  // our (first) address and its subnet
  // Our addresses: local.addr and the next local_count - 1 (all inside `local`; NetStack clamps the
  // count to the prefix and to kMaxLocalAddresses). Each is answered by ARP, accepted as a destination
  // and usable as a source (a load generator's range of client addresses).
  uint32_t local_count = 1;
  std::optional<Ipv4Addr> gateway;   // next hop for off-link destinations
  MacAddr mac;                       // the port's MAC
  bool tx_ip_cksum_offload = false;  // the device fills IPv4 header checksums
  // Received IPv4 header checksums are taken as good without looking: frames that never left this
  // process's memory (the loopback ring pair), as Linux treats lo and veth.
  bool rx_cksum_trusted = false;
  NeighborCache::Config arp;
  uint32_t outbox_capacity = 1024;
};

// The most recent ICMP echo reply received (for ping tools and tests).
struct EchoReply {
  Ipv4Addr from;
  uint16_t id = 0;
  uint16_t seq = 0;
  Instant at;
};

// What NetStack::Input passes up to the transport layer. Most frames end inside the stack (answered,
// queued, or dropped with a reason counted): kind kNone. A TCP datagram addressed to us comes back as
// kTcp with the frame, and an ICMP Destination Unreachable quoting a TCP segment we sent as kIcmpError.
// The Delivery owns `frame`: whoever receives it moves the frame on or lets it be freed with it.
struct Delivery {
  enum class Kind : uint8_t { kNone, kTcp, kIcmpError };
  Kind kind = Kind::kNone;
  Mbuf frame;      // kTcp: the frame, still starting at its Ethernet header (Ethernet padding trimmed)
  Ipv4Packet ip;   // kTcp: its validated IPv4 header (`payload` views into `frame`)
  IcmpError icmp;  // kIcmpError: the quoted segment (source address checked to be ours)
};

class NetStack {
 public:
  // `pool` supplies frames the stack originates (ARP requests, pings); it must outlive the stack.
  NetStack(const NetConfig& config, rte_mempool* pool);

  // Announces our address with a gratuitous ARP.
  void Start(Instant now);

  // Takes ownership of one received frame. Returns what is for the transport layer (see Delivery);
  // everything else was handled here.
  [[nodiscard]] Delivery Input(Instant now, Mbuf&& frame);

  // Takes ownership of a copy of an ARP frame that a sibling engine received: learns the sender's
  // address (releasing packets waiting on it) but never answers; the receiving engine did that.
  void LearnArp(Instant now, Mbuf&& frame);

  // ARP retries and expiry; cheap enough to call every few milliseconds. Returns the destinations of
  // TCP datagrams dropped because their next hop never answered ARP (one entry per datagram; valid
  // until the next call), so TCP can fail connections still opening towards them.
  std::span<const Ipv4Addr> Poll(Instant now);

  // Sends an IPv4 datagram: `payload`'s data is the transport header and body, with headroom for
  // IPv4 and Ethernet headers. Takes ownership; resolves the next hop (queueing on ARP if needed).
  void OutputIpv4(Instant now, Mbuf&& payload, Ipv4Addr dst, uint8_t protocol);
  // The same from `src`, which must be one of our addresses (IsLocal).
  void OutputIpv4(Instant now, Mbuf&& payload, Ipv4Addr src, Ipv4Addr dst, uint8_t protocol);
  // Whether `a` is one of our addresses (NetConfig::local_count consecutive from local.addr).
  bool IsLocal(Ipv4Addr a) const { return a.v - config_.local.addr.v < local_count_; }
  // How many addresses we own, and the i-th (i < local_count()).
  uint32_t local_count() const { return local_count_; }
  Ipv4Addr LocalAddress(uint32_t i) const { return Ipv4Addr{config_.local.addr.v + i}; }

  // Builds and sends an ICMP echo request with `data_len` bytes of pattern data. False (and a
  // counted drop) when no frame could be allocated.
  bool SendEchoRequest(Instant now, Ipv4Addr dst, uint16_t id, uint16_t seq, uint16_t data_len);

  Outbox& outbox() { return outbox_; }
  const NetCounters& counters() const { return counters_; }
  NetCounters& mutable_counters() { return counters_; }
  const NeighborCache& neighbors() const { return neighbors_; }
  const NetConfig& config() const { return config_; }
  const std::optional<EchoReply>& last_echo_reply() const { return last_echo_reply_; }

 private:
  void HandleArp(Instant now, Mbuf&& frame, const EthernetFrame& eth, bool shared);
  Delivery HandleIpv4(Instant now, Mbuf&& frame, const EthernetFrame& eth);
  Delivery HandleIcmp(Instant now, Mbuf&& frame, const EthernetFrame& eth, const Ipv4Packet& ip);
  // Prepends an IPv4 header from `src` (ours) to `dst`; false when the headroom is too small.
  bool PrependIpv4(Mbuf& m, Ipv4Addr src, Ipv4Addr dst, uint8_t protocol);
  // Prepends IPv4 (from `src` to `dst`) and Ethernet (to `dst_mac`) headers and queues the frame for TX.
  void SendIpv4Via(Mbuf&& payload, Ipv4Addr src, Ipv4Addr dst, uint8_t protocol, const MacAddr& dst_mac);
  // Prepends only the Ethernet header to a frame that already has its IPv4 header.
  void SendWithEthernet(Mbuf&& ip_packet, const MacAddr& dst_mac, uint16_t ethertype);
  void SendArpRequest(Ipv4Addr target, Ipv4Addr sender);
  void Discard(Mbuf&& m, Drop reason);
  // Discard, for the receive path: nothing is delivered.
  Delivery Dropped(Mbuf&& m, Drop reason) {
    Discard(std::move(m), reason);
    return {};
  }
  void Transmit(Mbuf&& frame);

  NetConfig config_;
  rte_mempool* pool_;
  NeighborCache neighbors_;
  Outbox outbox_;
  NetCounters counters_;
  uint32_t local_count_ = 1;  // NetConfig::local_count, clamped
  uint16_t next_ip_id_ = 1;
  std::optional<EchoReply> last_echo_reply_;
  std::vector<Ipv4Addr> unreachable_;  // Poll's result
};

}  // namespace synack
