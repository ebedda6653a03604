// The Internet checksum (RFC 1071) over byte spans, with partial sums so pseudo-headers and
// scattered pieces can be combined. Pure functions, any core.
#pragma once

#include <cstdint>

#include "lib/base/bytes.h"

struct rte_mbuf;

namespace synack {

// Adds `data` to a running 32-bit one's-complement accumulator. `data` is treated as starting at an
// even offset of the checksummed message (true for all header-aligned uses here).
uint32_t ChecksumAdd(uint32_t acc, ConstBytes data);

// Folds the accumulator and complements it: the value to store in a checksum field.
inline uint16_t ChecksumFinish(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(~acc & 0xffff);
}

// Checksum of one contiguous buffer. Verifying a buffer that contains its own checksum field yields 0.
inline uint16_t InternetChecksum(ConstBytes data) { return ChecksumFinish(ChecksumAdd(0, data)); }

// Adds bytes [off, off + len) of packet `m` (any number of segments, off + len <= pkt_len), the
// first of them at an even offset of the checksummed message.
uint32_t ChecksumAddPacket(uint32_t acc, const rte_mbuf* m, uint32_t off, uint32_t len);

}  // namespace synack

namespace synack {

// Adds `data` that starts at byte `offset` of the checksummed message (odd offsets swap byte lanes),
// for summing a message scattered over mbuf segments of any length.
inline uint32_t ChecksumAddAt(uint32_t acc, ConstBytes data, size_t offset) {
  uint32_t part = ChecksumAdd(0, data);
  while (part >> 16) part = (part & 0xffff) + (part >> 16);
  if (offset & 1) part = ((part & 0xff) << 8) | (part >> 8);
  uint64_t sum = uint64_t{acc} + part;
  while (sum >> 32) sum = (sum & 0xffffffffu) + (sum >> 32);
  return static_cast<uint32_t>(sum);
}

}  // namespace synack
