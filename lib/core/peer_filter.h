// PeerFilter: how many connections and TIME-WAIT entries each remote address has, counted in kBuckets
// buckets by a keyed hash of the address. A segment from an address whose bucket is zero matches neither
// table, so both lookups — cache misses in big tables — are skipped: what keeps a flood of SYNs from
// spoofed addresses cheap. A non-zero bucket says only "maybe" (other addresses share it).
//
// The caller (TcpLayer) owns the tables and keeps the filter in step with them: Add when a connection
// record or TIME-WAIT entry for a remote address appears, Remove when it goes, so Total() always equals
// connections + TIME-WAIT entries. 256 KiB, allocated at construction, none afterwards. Owned by one
// engine; only its core may call it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lib/core/flow.h"
#include "lib/net/addr.h"

namespace synack {

class PeerFilter {
 public:
  /// Buckets (the hash keeps 16 bits).
  static constexpr uint32_t kBuckets = 1u << 16;

  /// `seed` keys the hash (a per-engine secret, so peers cannot aim at one bucket).
  explicit PeerFilter(uint64_t seed) : seed_(seed), refs_(kBuckets, 0) {}

  /// The bucket of `remote`.
  uint32_t Bucket(Ipv4Addr remote) const { return AddrHash16(remote, seed_); }
  /// One more connection or TIME-WAIT entry for `remote`.
  void Add(Ipv4Addr remote) { ++refs_[Bucket(remote)]; }
  /// One fewer (it must have been added).
  void Remove(Ipv4Addr remote) { --refs_[Bucket(remote)]; }
  /// False when no connection or TIME-WAIT entry can have `remote` (its bucket is zero): skip the
  /// lookups. True means only that one may.
  bool MayHave(Ipv4Addr remote) const { return refs_[Bucket(remote)] != 0; }
  /// The count in `remote`'s bucket.
  uint32_t Count(Ipv4Addr remote) const { return refs_[Bucket(remote)]; }
  /// The sum of all buckets: connections + TIME-WAIT entries when the caller keeps the contract. Visits
  /// every bucket (tests and checks, not the data path).
  uint64_t Total() const {
    uint64_t n = 0;
    for (uint32_t c : refs_) n += c;
    return n;
  }
  /// Bytes the counts take (fixed).
  size_t MemoryBytes() const { return refs_.size() * sizeof(uint32_t); }

 private:
  uint64_t seed_;
  std::vector<uint32_t> refs_;
};

}  // namespace synack
