// SipHash-2-4 reference vectors and RFC 6528 initial sequence numbers: determinism, tuple and key sensitivity,
// and the 4-microsecond clock.
#include <array>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "lib/tcp/isn.h"

namespace synack {
namespace {

// The key of the SipHash paper's test vectors: bytes 00 01 ... 0f.
constexpr std::array<uint8_t, 16> kPaperKey = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
constexpr std::array<uint8_t, 16> kKey1 = {0x5a, 0x11, 0x02, 0x93, 0x44, 0xf5, 0x66, 0x07,
                                           0x18, 0xa9, 0x3a, 0xcb, 0x1c, 0x0d, 0xee, 0x7f};

const Ipv4Addr kLocal = Ipv4Addr::Of(198, 18, 0, 2);
const Ipv4Addr kRemote = Ipv4Addr::Of(198, 18, 0, 1);

Instant AtUs(int64_t us) { return Instant::FromNanoseconds(us * 1000); }

// Message bytes 00 01 ... (n-1), as in the paper's vectors.
std::vector<uint8_t> Counting(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i);
  return v;
}

TEST(SipHashTest, PaperAppendixAVector) {
  // SipHash paper, Appendix A: key 00..0f, 15-byte message 00..0e.
  EXPECT_EQ(SipHash24(kPaperKey, Counting(15)), 0xa129ca6149be45e5ull);
}

TEST(SipHashTest, ReferenceVectorsAcrossLengths) {
  // From the reference implementation's vector table (same key, message 00..n-1); they cover the empty input,
  // a partial last word and an exact multiple of 8 bytes.
  EXPECT_EQ(SipHash24(kPaperKey, {}), 0x726fdb47dd0e0e31ull);
  EXPECT_EQ(SipHash24(kPaperKey, Counting(1)), 0x74f839c593dc67fdull);
  EXPECT_EQ(SipHash24(kPaperKey, Counting(8)), 0x93f5f5799a932462ull);
}

TEST(SipHashTest, KeyMatters) {
  const std::vector<uint8_t> msg = Counting(15);
  EXPECT_NE(SipHash24(kPaperKey, msg), SipHash24(kKey1, msg));
}

TEST(IsnTest, SameTupleAndTimeGiveSameIsn) {
  const IsnGenerator a(kKey1);
  const IsnGenerator b(kKey1);
  EXPECT_EQ(a.Generate(kLocal, 80, kRemote, 40000, AtUs(123456)), a.Generate(kLocal, 80, kRemote, 40000, AtUs(123456)));
  EXPECT_EQ(a.Generate(kLocal, 80, kRemote, 40000, AtUs(123456)), b.Generate(kLocal, 80, kRemote, 40000, AtUs(123456)));
  // Within one 4 us tick M has not moved.
  EXPECT_EQ(a.Generate(kLocal, 80, kRemote, 40000, AtUs(4)), a.Generate(kLocal, 80, kRemote, 40000, AtUs(7)));
}

TEST(IsnTest, DifferentTuplesDiffer) {
  const IsnGenerator g(kKey1);
  const Instant now = AtUs(1000);
  const SeqNum base = g.Generate(kLocal, 80, kRemote, 40000, now);
  EXPECT_NE(base, g.Generate(kLocal, 80, kRemote, 40001, now));                       // remote port
  EXPECT_NE(base, g.Generate(kLocal, 81, kRemote, 40000, now));                       // local port
  EXPECT_NE(base, g.Generate(kLocal, 80, Ipv4Addr::Of(198, 18, 0, 3), 40000, now));   // remote address
  EXPECT_NE(base, g.Generate(Ipv4Addr::Of(198, 18, 0, 4), 80, kRemote, 40000, now));  // local address
  EXPECT_NE(base, g.Generate(kRemote, 40000, kLocal, 80, now));                       // the reverse direction
  EXPECT_NE(base, g.Generate(kLocal, 40000, kRemote, 80, now));                       // ports swapped
}

TEST(IsnTest, AdvancesTwoHundredFiftyPerMillisecond) {
  const IsnGenerator g(kKey1);
  const SeqNum t0 = g.Generate(kLocal, 80, kRemote, 40000, AtUs(0));
  EXPECT_EQ(g.Generate(kLocal, 80, kRemote, 40000, AtUs(4)) - t0, 1);
  EXPECT_EQ(g.Generate(kLocal, 80, kRemote, 40000, AtUs(1000)) - t0, 250);
  EXPECT_EQ(g.Generate(kLocal, 80, kRemote, 40000, AtUs(7000)) - t0, 1750);
  // One second later: 250000 ticks, and the arithmetic is modular past the 2^32 wrap (about 4.77 hours).
  EXPECT_EQ(g.Generate(kLocal, 80, kRemote, 40000, AtUs(1000000)) - t0, 250000);
  const Instant wrap = Instant::FromNanoseconds((int64_t{1} << 32) * IsnGenerator::kTickNs);
  EXPECT_EQ(g.Generate(kLocal, 80, kRemote, 40000, wrap), t0);
  EXPECT_EQ(g.Generate(kLocal, 80, kRemote, 40000, wrap + Duration::Milliseconds(1)) - t0, 250);
}

TEST(IsnTest, DifferentKeysDiffer) {
  const IsnGenerator a(kKey1);
  const IsnGenerator b(kPaperKey);
  EXPECT_NE(a.Generate(kLocal, 80, kRemote, 40000, AtUs(0)), b.Generate(kLocal, 80, kRemote, 40000, AtUs(0)));
  EXPECT_EQ(a.key(), kKey1);
}

TEST(IsnTest, RandomKeysAreFreshAndUsable) {
  const std::array<uint8_t, 16> k1 = RandomKey();
  const std::array<uint8_t, 16> k2 = RandomKey();
  EXPECT_NE(k1, k2);  // fails with probability 2^-128
  EXPECT_NE(IsnGenerator(k1).Generate(kLocal, 80, kRemote, 40000, AtUs(0)),
            IsnGenerator(k2).Generate(kLocal, 80, kRemote, 40000, AtUs(0)));  // ~2^-32
}

}  // namespace
}  // namespace synack
