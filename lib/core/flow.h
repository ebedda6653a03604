// FlowKey: a TCP connection's 4-tuple as seen from this host, the key of the per-core connection and
// TIME-WAIT tables (FlowTable, TimeWaitStore). Plain value, any core.
#pragma once

#include <cstdint>

#include "lib/net/addr.h"

namespace synack {

struct FlowKey {
  Ipv4Addr local;
  Ipv4Addr remote;
  uint16_t local_port = 0;
  uint16_t remote_port = 0;
  friend bool operator==(const FlowKey&, const FlowKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const FlowKey& k) {
    return H::combine(std::move(h), k.local.v, k.remote.v, k.local_port, k.remote_port);
  }
};

// A keyed multiply-xorshift mix of the 96-bit tuple (the per-table `seed` keeps peers from choosing
// 4-tuples that pile up in one bucket).
inline uint64_t FlowHash(const FlowKey& k, uint64_t seed) {
  uint64_t a = ((uint64_t{k.local.v} << 32) | k.remote.v) ^ seed;
  const uint64_t b = (uint64_t{k.local_port} << 16) | k.remote_port;
  a *= 0x9e3779b97f4a7c15ull;
  a ^= (b + seed) * 0xc2b2ae3d27d4eb4full;
  a ^= a >> 29;
  a *= 0xbf58476d1ce4e5b9ull;
  a ^= a >> 32;
  return a;
}

// A keyed multiplicative hash of a remote address to 16 bits: the bucket of the per-peer tables
// (PeerFilter, PathMtuCache), with a per-engine `seed` so peers cannot choose addresses that collide.
inline uint32_t AddrHash16(Ipv4Addr a, uint64_t seed) {
  return static_cast<uint32_t>(((a.v ^ seed) * 0x9e3779b97f4a7c15ull) >> 48);
}

}  // namespace synack
