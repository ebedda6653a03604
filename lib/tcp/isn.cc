#include "lib/tcp/isn.h"

#include <bit>
#include <random>

#include "lib/base/bytes.h"

namespace synack {
namespace {

uint64_t LoadLe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// One SipRound over the state (v0, v1, v2, v3).
inline void SipRound(uint64_t& v0, uint64_t& v1, uint64_t& v2, uint64_t& v3) {
  v0 += v1;
  v1 = std::rotl(v1, 13);
  v1 ^= v0;
  v0 = std::rotl(v0, 32);
  v2 += v3;
  v3 = std::rotl(v3, 16);
  v3 ^= v2;
  v0 += v3;
  v3 = std::rotl(v3, 21);
  v3 ^= v0;
  v2 += v1;
  v1 = std::rotl(v1, 17);
  v1 ^= v2;
  v2 = std::rotl(v2, 32);
}

}  // namespace

uint64_t SipHash24(const std::array<uint8_t, 16>& key, absl::Span<const uint8_t> data) {
  const uint64_t k0 = LoadLe64(key.data());
  const uint64_t k1 = LoadLe64(key.data() + 8);
  // Initialisation: the key xored with "somepseudorandomlygeneratedbytes".
  uint64_t v0 = k0 ^ 0x736f6d6570736575ull;
  uint64_t v1 = k1 ^ 0x646f72616e646f6dull;
  uint64_t v2 = k0 ^ 0x6c7967656e657261ull;
  uint64_t v3 = k1 ^ 0x7465646279746573ull;

  // Compression: c = 2 rounds per 8-byte little-endian word.
  const size_t full = data.size() / 8 * 8;
  for (size_t i = 0; i < full; i += 8) {
    const uint64_t m = LoadLe64(data.data() + i);
    v3 ^= m;
    SipRound(v0, v1, v2, v3);
    SipRound(v0, v1, v2, v3);
    v0 ^= m;
  }
  // The last word: the remaining 0..7 bytes, zero padded, with the input length mod 256 in the top byte.
  uint64_t b = static_cast<uint64_t>(data.size() & 0xff) << 56;
  for (size_t i = full; i < data.size(); ++i) b |= static_cast<uint64_t>(data[i]) << (8 * (i - full));
  v3 ^= b;
  SipRound(v0, v1, v2, v3);
  SipRound(v0, v1, v2, v3);
  v0 ^= b;

  // Finalisation: d = 4 rounds.
  v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) SipRound(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}

std::array<uint8_t, 16> RandomKey() {
  std::random_device rd;
  std::array<uint8_t, 16> key{};
  for (size_t i = 0; i < key.size(); i += 4) {
    const uint32_t r = rd();
    StoreBe32(key.data() + i, r);
  }
  return key;
}

SeqNum IsnGenerator::Generate(Ipv4Addr local, uint16_t local_port, Ipv4Addr remote, uint16_t remote_port,
                              Instant now) const {
  std::array<uint8_t, 12> tuple;
  StoreBe32(tuple.data(), local.v);
  StoreBe16(tuple.data() + 4, local_port);
  StoreBe32(tuple.data() + 6, remote.v);
  StoreBe16(tuple.data() + 10, remote_port);
  const uint32_t f = static_cast<uint32_t>(SipHash24(key_, tuple));
  // M wraps modulo 2^32 like the sequence space; the cast through uint64_t keeps that well defined.
  const uint32_t m = static_cast<uint32_t>(static_cast<uint64_t>(now.ns() / kTickNs));
  return SeqNum(m + f);
}

}  // namespace synack
