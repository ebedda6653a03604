// Parsers and emitters of lib/net on real mbufs: every malformed case is refused with its reason.
#include <random>

#include <gtest/gtest.h>

#include "lib/net/addr.h"
#include "lib/net/arp.h"
#include "lib/net/checksum.h"
#include "lib/net/ethernet.h"
#include "lib/net/icmp.h"
#include "lib/net/ipv4.h"
#include "tests/eal_env.h"
#include "tests/frames.h"

namespace synack {
namespace {

using testing::Bytes;

const MacAddr kMacA{{0x02, 0, 0, 0, 0, 0xa}};
const MacAddr kMacB{{0x02, 0, 0, 0, 0, 0xb}};
const Ipv4Addr kIpA = Ipv4Addr::Of(198, 18, 0, 1);
const Ipv4Addr kIpB = Ipv4Addr::Of(198, 18, 0, 2);

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d.
  const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(InternetChecksum(ConstBytes(data, sizeof(data))), 0x220d);
}

TEST(Checksum, MatchesReferenceForAllLengthsAndSplits) {
  std::mt19937 rng(42);
  Bytes buf(300);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t n = 0; n <= buf.size(); ++n) {
    ASSERT_EQ(InternetChecksum(ConstBytes(buf.data(), n)), testing::RefChecksum(buf.data(), n)) << n;
    size_t split = (n / 2) & ~size_t{1};  // even split point
    uint32_t acc = ChecksumAdd(0, ConstBytes(buf.data(), split));
    acc = ChecksumAdd(acc, ConstBytes(buf.data() + split, n - split));
    ASSERT_EQ(ChecksumFinish(acc), testing::RefChecksum(buf.data(), n)) << n;
  }
}

TEST(Addr, ParsesAndRejects) {
  EXPECT_EQ(ParseIpv4Addr("198.18.0.2").value(), Ipv4Addr::Of(198, 18, 0, 2));
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "a.b.c.d", "1..2.3", "1.2.3.-4", "1.2.3.4 "}) {
    EXPECT_FALSE(ParseIpv4Addr(bad).ok()) << bad;
  }
  absl::StatusOr<Ipv4Prefix> p = ParseIpv4Prefix("198.18.0.2/24");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->len, 24);
  EXPECT_TRUE(p->Contains(Ipv4Addr::Of(198, 18, 0, 200)));
  EXPECT_FALSE(p->Contains(Ipv4Addr::Of(198, 19, 0, 2)));
  EXPECT_EQ(p->broadcast(), Ipv4Addr::Of(198, 18, 0, 255));
  for (const char* bad : {"198.18.0.2", "198.18.0.2/", "198.18.0.2/33", "198.18.0.2/0", "198.18.0.2/x"}) {
    EXPECT_FALSE(ParseIpv4Prefix(bad).ok()) << bad;
  }
  EXPECT_EQ(kMacA.ToString(), "02:00:00:00:00:0a");
}

class WireTest : public ::testing::Test {
 protected:
  // Parses through a real mbuf so the bytes seen are exactly what a device would hand us.
  Mbuf Load(const Bytes& b) {
    Mbuf m = testing::ToMbuf(testing::TestPool(), b);
    EXPECT_TRUE(m);
    return m;
  }
};

TEST_F(WireTest, EthernetTruncated) {
  for (size_t n = 0; n < kEthHeaderLen; ++n) {
    Mbuf m = Load(Bytes(n, 0xff));
    Parsed<EthernetFrame> f = ParseEthernet(m.bytes());
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.error(), Drop::kEthTruncated);
  }
}

TEST_F(WireTest, EthernetRoundTrip) {
  Mbuf m = Load(testing::Concat(testing::EthHeader(kMacA, kMacB, 0x0800), Bytes{1, 2, 3}));
  Parsed<EthernetFrame> f = ParseEthernet(m.bytes());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->dst, kMacA);
  EXPECT_EQ(f->src, kMacB);
  EXPECT_EQ(f->ethertype, 0x0800);
  EXPECT_EQ(f->payload.size(), 3u);
  uint8_t out[14];
  WriteEthernetHeader(out, kMacA, kMacB, 0x0800);
  EXPECT_EQ(Bytes(out, out + 14), testing::EthHeader(kMacA, kMacB, 0x0800));
}

TEST_F(WireTest, ArpValidAndMalformed) {
  Bytes frame = testing::ArpFrame(1, MacAddr::Broadcast(), kMacA, kIpA, MacAddr{}, kIpB);
  Mbuf m = Load(frame);
  Parsed<ArpPacket> a = ParseArp(ParseEthernet(m.bytes())->payload);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->op, kArpOpRequest);
  EXPECT_EQ(a->sha, kMacA);
  EXPECT_EQ(a->spa, kIpA);
  EXPECT_EQ(a->tpa, kIpB);

  Bytes arp(frame.begin() + 14, frame.end());
  for (size_t n = 0; n < kArpLen; ++n) {
    Parsed<ArpPacket> t = ParseArp(ConstBytes(arp.data(), n));
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error(), Drop::kArpTruncated);
  }
  struct Mutation {
    size_t offset;
    uint8_t value;
  };
  for (Mutation mu : {Mutation{1, 6} /*htype 6*/, Mutation{2, 0x86} /*ptype*/, Mutation{4, 8} /*hlen*/,
                      Mutation{5, 16} /*plen*/, Mutation{7, 3} /*op 3*/}) {
    Bytes bad = arp;
    bad[mu.offset] = mu.value;
    Parsed<ArpPacket> t = ParseArp(ConstBytes(bad.data(), bad.size()));
    ASSERT_FALSE(t.ok()) << mu.offset;
    EXPECT_EQ(t.error(), Drop::kArpUnsupported);
  }
  uint8_t out[kArpLen];
  WriteArp(out, *a);
  EXPECT_EQ(Bytes(out, out + kArpLen), arp);
}

TEST_F(WireTest, Ipv4Valid) {
  Bytes pkt = testing::Ipv4(kIpA, kIpB, Bytes{9, 8, 7, 6}, {.ttl = 1, .protocol = 6});
  Mbuf m = Load(pkt);
  Parsed<Ipv4Packet> ip = ParseIpv4(m.bytes());
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->src, kIpA);
  EXPECT_EQ(ip->dst, kIpB);
  EXPECT_EQ(ip->protocol, 6);
  EXPECT_EQ(ip->ttl, 1);  // RFC 1122: TTL 1 is accepted by a host
  EXPECT_EQ(ip->header_len, 20);
  EXPECT_EQ(ip->payload.size(), 4u);
  EXPECT_FALSE(ip->is_fragment());
}

TEST_F(WireTest, Ipv4OptionsAndPadding) {
  Bytes pkt = testing::Ipv4(kIpA, kIpB, Bytes{1, 2}, {.options_words = 3});
  pkt.resize(pkt.size() + 10, 0);  // Ethernet padding after the datagram
  Mbuf m = Load(pkt);
  Parsed<Ipv4Packet> ip = ParseIpv4(m.bytes());
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->header_len, 32);
  EXPECT_EQ(ip->payload.size(), 2u);
  EXPECT_EQ(ip->payload[0], 1);
}

TEST_F(WireTest, Ipv4Malformed) {
  const Bytes good = testing::Ipv4(kIpA, kIpB, Bytes(8, 0));
  auto parse = [&](Bytes b) {
    Mbuf m = Load(b);
    return ParseIpv4(m.bytes());
  };
  auto refix_checksum = [](Bytes& b) {
    b[10] = b[11] = 0;
    size_t hl = (b[0] & 0xf) * 4u;
    uint16_t c = testing::RefChecksum(b.data(), std::min(hl, b.size()));
    b[10] = static_cast<uint8_t>(c >> 8);
    b[11] = static_cast<uint8_t>(c);
  };
  for (size_t n = 0; n < 20; ++n) {
    EXPECT_EQ(parse(Bytes(good.begin(), good.begin() + n)).error(), Drop::kIpTruncated) << n;
  }
  Bytes b = good;
  b[0] = 0x65;
  EXPECT_EQ(parse(b).error(), Drop::kIpBadVersion);
  b = good;
  b[0] = 0x44;  // IHL 4
  EXPECT_EQ(parse(b).error(), Drop::kIpBadHeaderLength);
  b = good;
  b[0] = 0x4f;  // IHL 15 = 60 bytes > 28 received
  EXPECT_EQ(parse(b).error(), Drop::kIpTruncated);
  b = good;
  b[2] = 0;
  b[3] = 19;  // total length below header length
  refix_checksum(b);
  EXPECT_EQ(parse(b).error(), Drop::kIpBadTotalLength);
  b = good;
  b[3] = static_cast<uint8_t>(b[3] + 1);  // claims one byte more than received
  refix_checksum(b);
  EXPECT_EQ(parse(b).error(), Drop::kIpTruncated);
  b = good;
  b[11] ^= 0x01;
  EXPECT_EQ(parse(b).error(), Drop::kIpBadChecksum);
  b = good;
  b[8] = 0;
  refix_checksum(b);
  EXPECT_EQ(parse(b).error(), Drop::kIpTtlZero);

  // A device verdict overrides software verification.
  b = good;
  b[11] ^= 0x01;
  Mbuf m = Load(b);
  EXPECT_TRUE(ParseIpv4(m.bytes(), ChecksumState::kGood).ok());
  EXPECT_EQ(ParseIpv4(Load(good).bytes(), ChecksumState::kBad).error(), Drop::kIpBadChecksum);
}

TEST_F(WireTest, Ipv4Fragments) {
  Mbuf mf = Load(testing::Ipv4(kIpA, kIpB, Bytes(8, 0), {.frag = 0x2000}));
  EXPECT_TRUE(ParseIpv4(mf.bytes())->is_fragment());
  Mbuf off = Load(testing::Ipv4(kIpA, kIpB, Bytes(8, 0), {.frag = 0x0001}));
  EXPECT_TRUE(ParseIpv4(off.bytes())->is_fragment());
}

TEST_F(WireTest, Ipv4HeaderWrite) {
  uint8_t out[20];
  Ipv4HeaderFields f;
  f.src = kIpA;
  f.dst = kIpB;
  f.protocol = 1;
  f.id = 0x1234;
  f.payload_len = 8;
  WriteIpv4Header(out, f, true);
  EXPECT_EQ(testing::RefChecksum(out, 20), 0);
  Bytes expect = testing::Ipv4(kIpA, kIpB, Bytes(8, 0), {.ttl = 64, .protocol = 1});
  EXPECT_EQ(Bytes(out, out + 20), Bytes(expect.begin(), expect.begin() + 20));
  WriteIpv4Header(out, f, false);
  EXPECT_EQ(out[10], 0);
  EXPECT_EQ(out[11], 0);
}

TEST(PeekTcpOffset, EachCheckOnBothSidesOfItsEdge) {
  // Ethernet + IPv4 (ihl words) + 20 TCP bytes, then cut to `size` bytes.
  auto frame = [](uint8_t ihl_words, uint8_t protocol = 6, uint16_t frag = 0x4000) {
    testing::Bytes f = testing::Concat(testing::EthHeader(MacAddr::Broadcast(), MacAddr::Broadcast(), 0x0800),
                                       testing::Bytes(ihl_words * 4u + 20u, 0));
    f[14] = static_cast<uint8_t>(0x40 | ihl_words);
    f[14 + 6] = static_cast<uint8_t>(frag >> 8);
    f[14 + 7] = static_cast<uint8_t>(frag);
    f[14 + 9] = protocol;
    return f;
  };
  auto peek = [](const testing::Bytes& f, size_t size) { return PeekTcpOffset(ConstBytes(f.data(), size)); };
  const testing::Bytes plain = frame(5);
  EXPECT_EQ(peek(plain, plain.size()), std::optional<size_t>(34));
  EXPECT_EQ(peek(plain, 34), std::optional<size_t>(34));  // the IPv4 header held; TCP is not checked
  EXPECT_FALSE(peek(plain, 33).has_value());
  const testing::Bytes opts = frame(6);  // 24-byte IPv4 header
  EXPECT_EQ(peek(opts, 38), std::optional<size_t>(38));
  EXPECT_FALSE(peek(opts, 37).has_value());
  EXPECT_FALSE(peek(frame(4), 60).has_value());  // ihl 16 < 20
  EXPECT_FALSE(peek(frame(5, 17), 54).has_value());
  EXPECT_FALSE(peek(frame(5, 6, 0x2000), 54).has_value());              // more fragments
  EXPECT_FALSE(peek(frame(5, 6, 0x0001), 54).has_value());              // offset 8
  EXPECT_EQ(peek(frame(5, 6, 0x0000), 54), std::optional<size_t>(34));  // DF clear is not a fragment
  testing::Bytes v6 = plain;
  v6[14] = 0x65;
  EXPECT_FALSE(peek(v6, v6.size()).has_value());
  testing::Bytes arp = plain;
  arp[13] = 0x06;
  EXPECT_FALSE(peek(arp, arp.size()).has_value());
}

TEST_F(WireTest, Icmp) {
  Bytes echo = testing::IcmpEcho(8, 0x77, 3, 56);
  Mbuf m = Load(echo);
  Parsed<IcmpMessage> ok = ParseIcmp(m.bytes());
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->type, kIcmpEchoRequest);
  EXPECT_EQ(ok->id, 0x77);
  EXPECT_EQ(ok->seq, 3);
  EXPECT_EQ(ok->data.size(), 56u);
  for (size_t n = 0; n < kIcmpHeaderLen; ++n) {
    EXPECT_EQ(ParseIcmp(ConstBytes(echo.data(), n)).error(), Drop::kIcmpTruncated);
  }
  Bytes bad = echo;
  bad[20] ^= 0xff;
  EXPECT_EQ(ParseIcmp(ConstBytes(bad.data(), bad.size())).error(), Drop::kIcmpBadChecksum);
  // Odd-length message: checksum covers the padded last byte.
  Bytes odd = testing::IcmpEcho(8, 1, 1, 3);
  EXPECT_TRUE(ParseIcmp(ConstBytes(odd.data(), odd.size())).ok());

  Bytes out(8 + 56);
  std::copy(echo.begin() + 8, echo.end(), out.begin() + 8);
  WriteIcmpEcho(out.data(), kIcmpEchoReply, 0x77, 3, 56);
  EXPECT_EQ(testing::RefChecksum(out.data(), out.size()), 0);
  EXPECT_EQ(out[0], 0);
}

TEST(Counters, EveryDropReasonHasAName) {
  for (size_t i = 0; i < static_cast<size_t>(Drop::kCount); ++i) {
    EXPECT_NE(DropName(static_cast<Drop>(i)), "unknown") << i;
  }
}

}  // namespace
}  // namespace synack
