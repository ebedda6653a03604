// PathMtuCache: a learnt MTU is used until exactly kLifetime after it was learnt (one nanosecond before
// and at the edge), relearning extends it, the ICMP value is clamped (0 means 576; nothing below
// TcpConnection::kMinPathMtu, tested at 551/552/553), the slot is the peer-filter hash of the address,
// and a destination in the same slot is not taken for another and replaces it when learnt.
#include "lib/core/path_mtu_cache.h"

#include <optional>

#include <gtest/gtest.h>

#include "lib/core/peer_filter.h"
#include "lib/tcp/connection.h"

namespace synack {
namespace {

constexpr uint64_t kSeed = 0x0badc0ffee123457ull;
constexpr Instant kT0 = Instant() + Duration::Seconds(5);

Ipv4Addr Addr(uint32_t i) { return Ipv4Addr{0xc6130000u + i}; }  // 198.19.0.0 + i

// An address other than `a` in the same slot.
std::optional<Ipv4Addr> SameSlot(const PathMtuCache& c, Ipv4Addr a) {
  for (uint32_t i = 1; i < 64 * PathMtuCache::kSlots; ++i) {
    if (Addr(i) != a && c.SlotOf(Addr(i)) == c.SlotOf(a)) return Addr(i);
  }
  return std::nullopt;
}

TEST(PathMtuCache, EmptyKnowsNothing) {
  PathMtuCache c(kSeed);
  EXPECT_EQ(c.Get(kT0, Addr(1)), 0);
}

TEST(PathMtuCache, ExpiresExactlyAfterItsLifetime) {
  PathMtuCache c(kSeed);
  c.Learn(kT0, Addr(1), 1000);
  EXPECT_EQ(c.Get(kT0, Addr(1)), 1000);
  EXPECT_EQ(c.Get(kT0 + PathMtuCache::kLifetime - Duration::Nanoseconds(1), Addr(1)), 1000);
  EXPECT_EQ(c.Get(kT0 + PathMtuCache::kLifetime, Addr(1)), 0);
  EXPECT_EQ(PathMtuCache::kLifetime, Duration::Seconds(600));
}

TEST(PathMtuCache, RelearningExtendsTheLifetime) {
  PathMtuCache c(kSeed);
  c.Learn(kT0, Addr(1), 1200);
  const Instant later = kT0 + Duration::Seconds(300);
  c.Learn(later, Addr(1), 1100);
  EXPECT_EQ(c.Get(kT0 + PathMtuCache::kLifetime, Addr(1)), 1100);
  EXPECT_EQ(c.Get(later + PathMtuCache::kLifetime - Duration::Nanoseconds(1), Addr(1)), 1100);
  EXPECT_EQ(c.Get(later + PathMtuCache::kLifetime, Addr(1)), 0);
}

TEST(PathMtuCache, ClampsTheIcmpValue) {
  static_assert(TcpConnection::kMinPathMtu == 552);
  PathMtuCache c(kSeed);
  c.Learn(kT0, Addr(1), 0);
  EXPECT_EQ(c.Get(kT0, Addr(1)), PathMtuCache::kUnspecifiedMtu);  // an old router that did not say
  c.Learn(kT0, Addr(1), 551);
  EXPECT_EQ(c.Get(kT0, Addr(1)), 552);  // below the floor: the floor
  c.Learn(kT0, Addr(1), 552);
  EXPECT_EQ(c.Get(kT0, Addr(1)), 552);
  c.Learn(kT0, Addr(1), 553);
  EXPECT_EQ(c.Get(kT0, Addr(1)), 553);
  c.Learn(kT0, Addr(1), 1);
  EXPECT_EQ(c.Get(kT0, Addr(1)), 552);
}

TEST(PathMtuCache, SlotIsThePeerBucket) {
  PathMtuCache c(kSeed);
  PeerFilter f(kSeed);
  for (uint32_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(c.SlotOf(Addr(i)), f.Bucket(Addr(i)) % PathMtuCache::kSlots);
    EXPECT_LT(c.SlotOf(Addr(i)), PathMtuCache::kSlots);
  }
}

TEST(PathMtuCache, SameSlotIsNotTakenForAnotherAndReplacesIt) {
  PathMtuCache c(kSeed);
  const Ipv4Addr a = Addr(3);
  const std::optional<Ipv4Addr> b = SameSlot(c, a);
  ASSERT_TRUE(b.has_value());
  c.Learn(kT0, a, 1000);
  EXPECT_EQ(c.Get(kT0, *b), 0);  // same slot, other destination
  c.Learn(kT0, *b, 1300);        // direct-mapped: b replaces a
  EXPECT_EQ(c.Get(kT0, *b), 1300);
  EXPECT_EQ(c.Get(kT0, a), 0);
  // Another slot is untouched.
  Ipv4Addr other = Addr(4);
  for (uint32_t i = 4; c.SlotOf(other) == c.SlotOf(a); ++i) other = Addr(i);
  c.Learn(kT0, other, 900);
  EXPECT_EQ(c.Get(kT0, other), 900);
  EXPECT_EQ(c.Get(kT0, *b), 1300);
}

}  // namespace
}  // namespace synack
