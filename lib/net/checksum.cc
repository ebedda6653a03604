#include "lib/net/checksum.h"

#include <cstring>

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

}  // namespace synack
