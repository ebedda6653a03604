// RSS: the symmetric Toeplitz hash of an IPv4/TCP 4-tuple and the rule that maps it to the engine that
// owns the flow. Hardware RSS (when the device has it and its configuration reads back as ours) and
// software dispatch (everywhere else) use the same rule, so a flow has one owner whichever queue its
// frames arrive on; active opens use it to pick a source port whose flow lands on the calling engine.
// Built on the control thread, then shared read-only by every engine (no writes after start-up).
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "lib/base/bytes.h"
#include "lib/core/flow.h"
#include "lib/net/addr.h"

namespace synack {

inline constexpr size_t kRssKeyLen = 40;
using RssKey = std::array<uint8_t, kRssKeyLen>;

// 0x6d5a repeated: the key's period (16 bits) divides both the address (32) and port (16) widths, so
// swapping source and destination leaves the hash unchanged and both directions of a flow agree.
RssKey SymmetricRssKey();

// Toeplitz hash over the 12-byte input src addr | dst addr | src port | dst port (the layout devices
// use for RTE_ETH_RSS_NONFRAG_IPV4_TCP), with per-byte tables: 12 lookups per hash.
class ToeplitzHash {
 public:
  explicit ToeplitzHash(const RssKey& key);
  uint32_t operator()(Ipv4Addr src, Ipv4Addr dst, uint16_t src_port, uint16_t dst_port) const;

 private:
  std::array<std::array<uint32_t, 256>, 12> table_;
};

// Which engine owns a flow: reta[hash % reta_size], with the redirection table programmed as
// reta[i] = i % engines (what the port set-up writes into the device).
class RssSteering {
 public:
  RssSteering(const RssKey& key, uint16_t engines, uint16_t reta_size = 128);

  uint16_t engines() const { return engines_; }
  uint16_t reta_size() const { return reta_size_; }
  const RssKey& key() const { return key_; }

  uint16_t OwnerOfHash(uint32_t hash) const { return static_cast<uint16_t>((hash % reta_size_) % engines_); }
  // The owner of a received frame's flow (src = the peer).
  uint16_t OwnerOf(Ipv4Addr src, Ipv4Addr dst, uint16_t src_port, uint16_t dst_port) const {
    return OwnerOfHash(hash_(src, dst, src_port, dst_port));
  }
  // The owner of one of our connections.
  uint16_t OwnerOf(const FlowKey& k) const { return OwnerOf(k.remote, k.local, k.remote_port, k.local_port); }

 private:
  RssKey key_;
  ToeplitzHash hash_;
  uint16_t engines_;
  uint16_t reta_size_;
};

// The 4-tuple of an unfragmented IPv4/TCP frame, read with every length checked; nullopt for anything
// else (ARP, ICMP, fragments, truncated or malformed frames — the receiving engine's stack judges those).
struct FrameTuple {
  Ipv4Addr src, dst;
  uint16_t src_port = 0, dst_port = 0;
};
std::optional<FrameTuple> PeekIpv4Tcp(ConstBytes frame);

}  // namespace synack
