// PeerFilter: the counts per remote address (add, remove, total), the "bucket zero → skip the lookups"
// contract on both sides (zero after the last remove, non-zero while one reference is left), addresses
// that share a bucket (a "maybe", never a false "no"), and the key changing the buckets.
#include "lib/core/peer_filter.h"

#include <optional>

#include <gtest/gtest.h>

namespace synack {
namespace {

constexpr uint64_t kSeed = 0x1234567890abcdefull;

Ipv4Addr Addr(uint32_t i) { return Ipv4Addr{0xc6120000u + i}; }  // 198.18.0.0 + i

// An address other than `a` in the same bucket.
std::optional<Ipv4Addr> SameBucket(const PeerFilter& f, Ipv4Addr a) {
  for (uint32_t i = 1; i < 4 * PeerFilter::kBuckets; ++i) {
    const Ipv4Addr b = Addr(i);
    if (b != a && f.Bucket(b) == f.Bucket(a)) return b;
  }
  return std::nullopt;
}

TEST(PeerFilter, EmptyFilterSkipsEveryLookup) {
  PeerFilter f(kSeed);
  EXPECT_EQ(f.Total(), 0u);
  for (uint32_t i = 0; i < 1000; ++i) EXPECT_FALSE(f.MayHave(Addr(i)));
  EXPECT_EQ(f.MemoryBytes(), PeerFilter::kBuckets * sizeof(uint32_t));
}

TEST(PeerFilter, CountsUntilTheLastReferenceGoes) {
  PeerFilter f(kSeed);
  const Ipv4Addr a = Addr(7);
  f.Add(a);  // a connection
  f.Add(a);  // and a TIME-WAIT entry
  EXPECT_TRUE(f.MayHave(a));
  EXPECT_EQ(f.Count(a), 2u);
  EXPECT_EQ(f.Total(), 2u);
  f.Remove(a);
  EXPECT_TRUE(f.MayHave(a));  // one left: the lookups must still be made
  EXPECT_EQ(f.Count(a), 1u);
  f.Remove(a);
  EXPECT_FALSE(f.MayHave(a));  // zero: skipped
  EXPECT_EQ(f.Total(), 0u);
}

TEST(PeerFilter, SharedBucketSaysMaybeNeverNo) {
  PeerFilter f(kSeed);
  const Ipv4Addr a = Addr(1);
  const std::optional<Ipv4Addr> b = SameBucket(f, a);
  ASSERT_TRUE(b.has_value());
  f.Add(a);
  f.Add(*b);
  EXPECT_EQ(f.Count(a), 2u);
  f.Remove(a);
  EXPECT_TRUE(f.MayHave(*b));  // b's reference keeps the bucket open
  EXPECT_TRUE(f.MayHave(a));   // and a is a "maybe" (the tables then say no)
  f.Remove(*b);
  EXPECT_FALSE(f.MayHave(a));
  EXPECT_FALSE(f.MayHave(*b));
}

TEST(PeerFilter, BucketsAreKeyed) {
  PeerFilter f(kSeed);
  PeerFilter g(kSeed + 1);
  uint32_t differ = 0;
  for (uint32_t i = 0; i < 256; ++i) {
    EXPECT_LT(f.Bucket(Addr(i)), PeerFilter::kBuckets);
    differ += f.Bucket(Addr(i)) != g.Bucket(Addr(i));
  }
  EXPECT_GT(differ, 200u);
  // Neighbouring addresses spread out: a /24 does not pile into a few buckets.
  f.Add(Addr(0));
  uint32_t maybe = 0;
  for (uint32_t i = 1; i < 256; ++i) maybe += f.MayHave(Addr(i));
  EXPECT_LE(maybe, 1u);
}

}  // namespace
}  // namespace synack
