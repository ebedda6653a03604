#include "lib/core/rss.h"

#include "lib/net/ethernet.h"
#include "lib/net/ipv4.h"

namespace synack {
namespace {

// The 32 key bits starting at bit `bit` (bit 0 = most significant bit of key[0]).
uint32_t KeyWindow(const RssKey& key, size_t bit) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) {
    const size_t b = bit / 8 + i;
    v = (v << 8) | (b < key.size() ? key[b] : 0);
  }
  return static_cast<uint32_t>((v << (bit % 8)) >> 32);
}

}  // namespace

RssKey SymmetricRssKey() {
  RssKey k;
  for (size_t i = 0; i < k.size(); i += 2) {
    k[i] = 0x6d;
    k[i + 1] = 0x5a;
  }
  return k;
}

ToeplitzHash::ToeplitzHash(const RssKey& key) {
  for (size_t pos = 0; pos < table_.size(); ++pos) {
    for (uint32_t v = 0; v < 256; ++v) {
      uint32_t h = 0;
      for (uint32_t b = 0; b < 8; ++b) {
        if (v & (0x80u >> b)) h ^= KeyWindow(key, pos * 8 + b);
      }
      table_[pos][v] = h;
    }
  }
}

uint32_t ToeplitzHash::operator()(Ipv4Addr src, Ipv4Addr dst, uint16_t src_port, uint16_t dst_port) const {
  const uint32_t s = src.v, d = dst.v;  // host order: byte 0 of the wire form is the top byte
  return table_[0][s >> 24] ^ table_[1][(s >> 16) & 0xff] ^ table_[2][(s >> 8) & 0xff] ^ table_[3][s & 0xff] ^
         table_[4][d >> 24] ^ table_[5][(d >> 16) & 0xff] ^ table_[6][(d >> 8) & 0xff] ^ table_[7][d & 0xff] ^
         table_[8][src_port >> 8] ^ table_[9][src_port & 0xff] ^ table_[10][dst_port >> 8] ^
         table_[11][dst_port & 0xff];
}

RssSteering::RssSteering(const RssKey& key, uint16_t engines, uint16_t reta_size)
    : key_(key), hash_(key), engines_(engines == 0 ? 1 : engines), reta_size_(reta_size == 0 ? 128 : reta_size) {}

std::optional<FrameTuple> PeekIpv4Tcp(ConstBytes f) {
  const std::optional<size_t> tcp = PeekTcpOffset(f);
  if (!tcp || f.size() < *tcp + 4) return std::nullopt;  // a fragment or not TCP: the stack judges it
  const uint8_t* ip = f.data() + kEthHeaderLen;
  FrameTuple t;
  t.src = Ipv4Addr{LoadBe32(ip + 12)};
  t.dst = Ipv4Addr{LoadBe32(ip + 16)};
  t.src_port = LoadBe16(f.data() + *tcp);
  t.dst_port = LoadBe16(f.data() + *tcp + 2);
  return t;
}

}  // namespace synack
