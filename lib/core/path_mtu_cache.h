// PathMtuCache: the path MTUs an engine learnt from ICMP "fragmentation needed" (RFC 1191), so that new
// connections to a destination start at its known MTU. Direct-mapped: kSlots slots chosen by a keyed
// hash of the destination, a newer destination replacing whatever held its slot; an entry is good for
// kLifetime (10 minutes, as RFC 1191 suggests) from when it was learnt, then it is ignored.
//
// Time is an argument (Learn, Get). The caller (TcpLayer) decides which ICMP messages to believe (the
// connection accepted the quoted sequence number); the cache clamps the value. Fixed size, no allocation.
// Owned by one engine; only its core may call it.
#pragma once

#include <array>
#include <cstdint>

#include "lib/base/time.h"
#include "lib/core/flow.h"
#include "lib/net/addr.h"

namespace synack {

class PathMtuCache {
 public:
  /// Slots (direct-mapped).
  static constexpr uint32_t kSlots = 256;
  /// How long a learnt MTU is used.
  static constexpr Duration kLifetime = Duration::Seconds(600);
  /// The MTU an ICMP message without one (an old router: next-hop MTU 0) stands for.
  static constexpr uint16_t kUnspecifiedMtu = 576;

  /// `seed` keys the slot hash (a per-engine secret).
  explicit PathMtuCache(uint64_t seed) : seed_(seed) {}

  /// Remembers the path MTU to `dst` from an ICMP next-hop MTU — 0 means kUnspecifiedMtu, and nothing
  /// below TcpConnection::kMinPathMtu is stored (a forged ICMP cannot shrink segments further) — until
  /// `now` + kLifetime. Replaces the slot's entry, whichever destination it was for.
  void Learn(Instant now, Ipv4Addr dst, uint16_t next_hop_mtu);
  /// The MTU learnt for `dst`, if it is still in its slot and `now` is before its expiry; 0 otherwise.
  uint16_t Get(Instant now, Ipv4Addr dst) const;
  /// The slot of `dst` (tests: which destinations replace each other).
  uint32_t SlotOf(Ipv4Addr dst) const { return AddrHash16(dst, seed_) % kSlots; }

 private:
  struct Entry {
    Ipv4Addr dst;
    uint16_t mtu = 0;  // 0: never filled
    Instant expires;
  };
  uint64_t seed_;
  std::array<Entry, kSlots> slots_{};
  uint32_t filled_ = 0;  // slots ever filled (0: Get skips the lookup)
};

}  // namespace synack
