#include "lib/net/checksum.h"

#include <algorithm>
#include <cstring>

#include <rte_mbuf.h>

namespace synack {

uint32_t ChecksumAdd(uint32_t acc, ConstBytes data) {
  uint64_t sum = acc;
  const uint8_t* p = data.data();
  size_t n = data.size();
  // Eight bytes at a time; the one's-complement sum is byte-order independent as long as the
  // folding below is done on big-endian 16-bit words, so sum native 32-bit halves and swap at the end.
  uint64_t wide = 0;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    wide += (w & 0xffffffffu) + (w >> 32);
    p += 8;
    n -= 8;
  }
  while (n >= 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    wide += w;
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    uint8_t last[2] = {p[0], 0};
    uint16_t w;
    std::memcpy(&w, last, 2);
    wide += w;
  }
  // Fold the native-order sum to 16 bits, then convert to big-endian word order.
  while (wide >> 16) wide = (wide & 0xffff) + (wide >> 16);
  uint16_t native = static_cast<uint16_t>(wide);
  uint8_t bytes[2];
  std::memcpy(bytes, &native, 2);
  sum += (uint32_t{bytes[0]} << 8) | bytes[1];
  while (sum >> 32) sum = (sum & 0xffffffffu) + (sum >> 32);
  return static_cast<uint32_t>(sum);
}

uint32_t ChecksumAddPacket(uint32_t acc, const rte_mbuf* m, uint32_t off, uint32_t len) {
  size_t at = 0;  // offset in the summed range of the next piece
  for (const rte_mbuf* seg = m; seg != nullptr && len > 0; seg = seg->next) {
    if (off >= seg->data_len) {
      off -= seg->data_len;
      continue;
    }
    const uint32_t piece = std::min<uint32_t>(seg->data_len - off, len);
    acc = ChecksumAddAt(acc, ConstBytes(rte_pktmbuf_mtod_offset(seg, const uint8_t*, off), piece), at);
    at += piece;
    len -= piece;
    off = 0;
  }
  return acc;
}

}  // namespace synack
