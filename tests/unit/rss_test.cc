// The symmetric Toeplitz hash and the flow-to-engine rule: the Microsoft RSS verification vector,
// agreement with DPDK's rte_softrss, symmetry, and the length-checked 4-tuple peek.
#include "lib/core/rss.h"

#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <rte_thash.h>

namespace synack {
namespace {

RssKey MicrosoftKey() {
  const uint8_t k[kRssKeyLen] = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
                                 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
                                 0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
  RssKey key;
  std::copy(k, k + kRssKeyLen, key.begin());
  return key;
}

TEST(ToeplitzHash, MatchesTheMicrosoftVerificationVectors) {
  ToeplitzHash h(MicrosoftKey());
  // "Verifying the RSS hash calculation", IPv4 with TCP ports: source 66.9.149.187:2794,
  // destination 161.142.100.80:1766 -> 0x51ccc178.
  EXPECT_EQ(h(Ipv4Addr::Of(66, 9, 149, 187), Ipv4Addr::Of(161, 142, 100, 80), 2794, 1766), 0x51ccc178u);
  EXPECT_EQ(h(Ipv4Addr::Of(199, 92, 111, 2), Ipv4Addr::Of(65, 69, 140, 83), 14230, 4739), 0xc626b0eau);
}

TEST(ToeplitzHash, AgreesWithDpdkSoftRss) {
  std::mt19937 rng(7);
  for (const RssKey& key : {MicrosoftKey(), SymmetricRssKey()}) {
    ToeplitzHash h(key);
    for (int i = 0; i < 2000; ++i) {
      const Ipv4Addr s{static_cast<uint32_t>(rng())}, d{static_cast<uint32_t>(rng())};
      const uint16_t sp = static_cast<uint16_t>(rng()), dp = static_cast<uint16_t>(rng());
      uint32_t tuple[3] = {s.v, d.v, (uint32_t{sp} << 16) | dp};
      ASSERT_EQ(h(s, d, sp, dp), rte_softrss(tuple, 3, key.data())) << i;
    }
  }
}

TEST(ToeplitzHash, SymmetricKeyGivesBothDirectionsOneHash) {
  ToeplitzHash h(SymmetricRssKey());
  ToeplitzHash ms(MicrosoftKey());
  std::mt19937 rng(11);
  int asymmetric_with_ms_key = 0;
  for (int i = 0; i < 2000; ++i) {
    const Ipv4Addr a{static_cast<uint32_t>(rng())}, b{static_cast<uint32_t>(rng())};
    const uint16_t p = static_cast<uint16_t>(rng()), q = static_cast<uint16_t>(rng());
    ASSERT_EQ(h(a, b, p, q), h(b, a, q, p));
    asymmetric_with_ms_key += ms(a, b, p, q) != ms(b, a, q, p);
  }
  EXPECT_GT(asymmetric_with_ms_key, 1900);  // the property comes from the key, not from the code
}

TEST(RssSteering, SpreadsFlowsOverEnginesAndAgreesFromBothEnds) {
  RssSteering st(SymmetricRssKey(), 3, 512);
  std::vector<int> per_engine(3);
  for (uint16_t port = 32768; port < 32768 + 3000; ++port) {
    FlowKey client{Ipv4Addr::Of(198, 18, 0, 1), Ipv4Addr::Of(198, 18, 0, 2), port, 80};
    FlowKey server{client.remote, client.local, client.remote_port, client.local_port};
    const uint16_t owner = st.OwnerOf(client);
    ASSERT_LT(owner, 3);
    ASSERT_EQ(owner, st.OwnerOf(server));
    ++per_engine[owner];
  }
  for (int n : per_engine) EXPECT_GT(n, 800);
}

std::vector<uint8_t> TcpFrame() {
  std::vector<uint8_t> f(14 + 20 + 20, 0);
  f[12] = 0x08;
  f[13] = 0x00;
  f[14] = 0x45;
  f[14 + 9] = 6;
  const uint8_t src[4] = {198, 18, 0, 1}, dst[4] = {198, 18, 0, 2};
  std::copy(src, src + 4, f.begin() + 26);
  std::copy(dst, dst + 4, f.begin() + 30);
  f[34] = 0x12;  // 0x1234
  f[35] = 0x34;
  f[36] = 0x00;  // 80
  f[37] = 80;
  return f;
}

TEST(PeekIpv4Tcp, ReadsTheTuple) {
  std::vector<uint8_t> f = TcpFrame();
  std::optional<FrameTuple> t = PeekIpv4Tcp(ConstBytes(f.data(), f.size()));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->src, Ipv4Addr::Of(198, 18, 0, 1));
  EXPECT_EQ(t->dst, Ipv4Addr::Of(198, 18, 0, 2));
  EXPECT_EQ(t->src_port, 0x1234);
  EXPECT_EQ(t->dst_port, 80);
  f[14] = 0x46;  // IHL 6: the ports move 4 bytes on and must still fit
  EXPECT_FALSE(PeekIpv4Tcp(ConstBytes(f.data(), 14 + 24 + 3)).has_value());
  EXPECT_TRUE(PeekIpv4Tcp(ConstBytes(f.data(), 14 + 24 + 4)).has_value());
}

TEST(PeekIpv4Tcp, RefusesEverythingElse) {
  const std::vector<uint8_t> good = TcpFrame();
  for (size_t len = 0; len < 14 + 24; ++len) {
    EXPECT_FALSE(PeekIpv4Tcp(ConstBytes(good.data(), len)).has_value()) << len;
  }
  auto with = [&](size_t at, uint8_t v) {
    std::vector<uint8_t> f = good;
    f[at] = v;
    return PeekIpv4Tcp(ConstBytes(f.data(), f.size())).has_value();
  };
  EXPECT_FALSE(with(13, 0x06));      // ARP
  EXPECT_FALSE(with(14, 0x65));      // IPv6 version nibble
  EXPECT_FALSE(with(14, 0x44));      // IHL 4
  EXPECT_FALSE(with(14 + 9, 17));    // UDP
  EXPECT_FALSE(with(14 + 6, 0x20));  // more fragments
  EXPECT_FALSE(with(14 + 7, 0x01));  // fragment offset
  EXPECT_TRUE(with(14 + 6, 0x40));   // don't-fragment is fine
}

}  // namespace
}  // namespace synack
