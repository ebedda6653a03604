// The TCP wire layer on real mbufs: segments written by WriteTcpHeader match hand-built bytes and parse
// back to the same TcpSegment; every malformed header or option list is refused with its reason;
// checksums agree with a naive reference and with DPDK's own pseudo-header helper.
#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "lib/base/bytes.h"
#include "lib/net/checksum.h"
#include "lib/tcp/segment.h"
#include "lib/tcp/tcp_header.h"
#include "tests/eal_env.h"
#include "tests/frames.h"

namespace synack {
namespace {

using testing::Bytes;
using testing::TcpFields;

const Ipv4Addr kIpA = Ipv4Addr::Of(198, 18, 0, 1);
const Ipv4Addr kIpB = Ipv4Addr::Of(198, 18, 0, 2);

Bytes Be32(uint32_t v) {
  Bytes b;
  testing::Put32(b, v);
  return b;
}

TcpSegment SynWithAllOptions() {
  TcpSegment s;
  s.src_port = 40000;
  s.dst_port = 80;
  s.seq = SeqNum(0xfffffff0u);
  s.flags = tcp_flags::kSyn;
  s.window = 64240;
  s.options.mss = 1460;
  s.options.sack_permitted = true;
  s.options.timestamps = TcpTimestamps{0x01020304, 0};
  s.options.window_scale = 7;
  return s;
}

class TcpHeaderTest : public ::testing::Test {
 protected:
  // Parses through a real mbuf so the bytes seen are exactly what a device would hand us.
  Parsed<TcpPacket> Parse(const Bytes& b, ChecksumState cksum = ChecksumState::kUnknown) {
    mbuf_ = testing::ToMbuf(testing::TestPool(), b);
    EXPECT_TRUE(mbuf_);
    return ParseTcp(mbuf_.bytes(), kIpA, kIpB, cksum);
  }
  Drop ParseError(const Bytes& b) {
    Parsed<TcpPacket> t = Parse(b);
    EXPECT_FALSE(t.ok());
    return t.ok() ? Drop::kCount : t.error();
  }
  // A segment whose option bytes are `options` (zero-padded to a word), with a correct checksum.
  static Bytes WithOptions(Bytes options) {
    TcpFields f;
    f.options = std::move(options);
    return testing::Tcp(kIpA, kIpB, f);
  }
  // Writes `s` with `payload`, fills the checksum in software and returns the bytes.
  static Bytes Emit(const TcpSegment& s, const Bytes& payload) {
    const uint16_t hl = static_cast<uint16_t>(kTcpMinHeaderLen + TcpOptionsLength(s.options));
    Bytes out(hl + payload.size(), 0xee);  // 0xee: catches bytes WriteTcpHeader forgets to write
    WriteTcpHeader(out.data(), s);
    std::copy(payload.begin(), payload.end(), out.begin() + hl);
    FillTcpChecksum(out.data(), static_cast<uint16_t>(out.size()), kIpA, kIpB);
    return out;
  }

  Mbuf mbuf_;
};

TEST(TcpSegmentString, Flags) {
  EXPECT_EQ(TcpFlagsToString(tcp_flags::kSyn | tcp_flags::kAck), "SYN|ACK");
  EXPECT_EQ(TcpFlagsToString(tcp_flags::kFin | tcp_flags::kAck | tcp_flags::kPsh), "FIN|PSH|ACK");
  EXPECT_EQ(TcpFlagsToString(tcp_flags::kRst), "RST");
  EXPECT_EQ(TcpFlagsToString(0xff), "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR");
  EXPECT_EQ(TcpFlagsToString(0), "none");
}

TEST(TcpSegmentString, Segment) {
  TcpSegment s;
  s.flags = tcp_flags::kSyn | tcp_flags::kAck;
  s.seq = SeqNum(100);
  s.ack = SeqNum(201);
  s.window = 65535;
  s.options.mss = 1460;
  s.options.window_scale = 7;
  s.options.sack_permitted = true;
  s.options.timestamps = TcpTimestamps{5, 9};
  EXPECT_EQ(ToString(s), "SYN|ACK seq=100 ack=201 win=65535 len=0 <mss 1460,ws 7,sackOK,ts 5/9>");

  TcpSegment d;
  d.flags = tcp_flags::kAck | tcp_flags::kPsh;
  d.seq = SeqNum(4294967295u);
  d.ack = SeqNum(7);
  d.window = 512;
  d.payload_len = 1448;
  EXPECT_EQ(ToString(d), "PSH|ACK seq=4294967295 ack=7 win=512 len=1448");
  d.options.sack_count = 2;
  d.options.sack[0] = SackBlock{SeqNum(10), SeqNum(20)};
  d.options.sack[1] = SackBlock{SeqNum(30), SeqNum(40)};
  EXPECT_EQ(ToString(d), "PSH|ACK seq=4294967295 ack=7 win=512 len=1448 <sack 10-20 30-40>");
  d.flags |= tcp_flags::kUrg;
  d.urgent = 3;
  d.options.sack_count = 0;
  EXPECT_EQ(ToString(d), "PSH|ACK|URG seq=4294967295 ack=7 win=512 len=1448 urg=3");
}

TEST(TcpOptionsLengthTest, LinuxLayoutSizes) {
  TcpOptions o;
  EXPECT_EQ(TcpOptionsLength(o), 0);
  o.mss = 1460;
  EXPECT_EQ(TcpOptionsLength(o), 4);
  o.sack_permitted = true;
  EXPECT_EQ(TcpOptionsLength(o), 8);  // MSS, NOP,NOP,SACKOK
  o.timestamps = TcpTimestamps{1, 2};
  EXPECT_EQ(TcpOptionsLength(o), 16);  // MSS, SACKOK,TS
  o.window_scale = 14;
  EXPECT_EQ(TcpOptionsLength(o), 20);  // MSS, SACKOK,TS, NOP,WS

  TcpOptions ack;
  ack.window_scale = 0;
  EXPECT_EQ(TcpOptionsLength(ack), 4);
  ack = TcpOptions{};
  ack.timestamps = TcpTimestamps{1, 2};
  EXPECT_EQ(TcpOptionsLength(ack), 12);  // NOP,NOP,TS
  for (uint8_t n = 1; n <= 4; ++n) {
    ack.sack_count = n;
    // With timestamps only three blocks fit: 12 + 4 + 3 * 8 = 40.
    EXPECT_EQ(TcpOptionsLength(ack), 12 + 4 + 8 * std::min<int>(n, 3)) << int{n};
  }
  ack.timestamps.reset();
  ack.sack_count = 4;
  EXPECT_EQ(TcpOptionsLength(ack), 36);
  // Everything at once: 20 bytes of fixed options leave room for two blocks.
  o.sack_count = 4;
  EXPECT_EQ(TcpOptionsLength(o), 40);
  for (uint8_t n = 0; n <= 4; ++n) {
    ack.sack_count = n;
    EXPECT_EQ(TcpOptionsLength(ack) % 4, 0);
    EXPECT_LE(TcpOptionsLength(ack), kTcpMaxOptionsLen);
  }
}

// WriteTcpHeader reports where it put TSval (a header written once and patched per segment relies on it),
// in every layout of the other options, and 0 without timestamps.
TEST(WriteTcpHeaderTest, ReportsWhereTsvalWent) {
  Bytes out(kTcpMinHeaderLen + kTcpMaxOptionsLen, 0xee);
  TcpSegment s;
  EXPECT_EQ(WriteTcpHeader(out.data(), s), 0);
  s.options.mss = 1460;
  s.options.sack_permitted = true;
  s.options.window_scale = 7;
  s.options.sack_count = 1;
  EXPECT_EQ(WriteTcpHeader(out.data(), s), 0) << "every option but timestamps";
  for (int layout = 0; layout < 16; ++layout) {
    TcpSegment t;
    if (layout & 1) t.options.mss = 1460;
    t.options.sack_permitted = (layout & 2) != 0;
    if (layout & 4) t.options.window_scale = 7;
    t.options.sack_count = (layout & 8) ? 2 : 0;
    t.options.timestamps = TcpTimestamps{0x01020304, 0x05060708};
    const uint16_t at = WriteTcpHeader(out.data(), t);
    // MSS (4 bytes) if any, then SACKOK or NOP,NOP, then the option's kind and length.
    EXPECT_EQ(at, kTcpMinHeaderLen + ((layout & 1) ? 4 : 0) + 4) << "layout " << layout;
    ASSERT_GE(at, kTcpMinHeaderLen + 2);
    ASSERT_LE(at + 8u, kTcpMinHeaderLen + TcpOptionsLength(t.options));
    EXPECT_EQ(out[at - 2], tcp_option::kTimestamps);
    EXPECT_EQ(out[at - 1], 10);
    EXPECT_EQ(LoadBe32(out.data() + at), 0x01020304u);
    EXPECT_EQ(LoadBe32(out.data() + at + 4), 0x05060708u);
  }
}

TEST_F(TcpHeaderTest, SynWithAllOptionsMatchesLinuxLayoutAndRoundTrips) {
  const TcpSegment s = SynWithAllOptions();
  const Bytes wire = Emit(s, {});
  TcpFields f;
  f.seq = 0xfffffff0u;
  f.flags = 0x02;
  f.window = 64240;
  // MSS 1460; SACKOK, TS 0x01020304/0; NOP, WS 7.
  f.options = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7};
  EXPECT_EQ(wire, testing::Tcp(kIpA, kIpB, f));
  ASSERT_EQ(wire.size(), 40u);

  Parsed<TcpPacket> t = Parse(wire);
  ASSERT_TRUE(t.ok()) << DropName(t.error());
  EXPECT_EQ(t->seg, s) << ToString(t->seg);
  EXPECT_EQ(t->header_len, 40);
  EXPECT_TRUE(t->payload.empty());
  EXPECT_EQ(t->seg.seg_len(), 1u);
}

TEST_F(TcpHeaderTest, TimestampsWithoutSackPermittedUseNops) {
  TcpSegment s;
  s.flags = tcp_flags::kSyn | tcp_flags::kAck;
  s.options.timestamps = TcpTimestamps{7, 8};
  s.options.window_scale = 2;
  Bytes wire = Emit(s, {});
  Bytes opts(wire.begin() + 20, wire.end());
  Bytes expect = {1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 8, 1, 3, 3, 2};
  EXPECT_EQ(opts, expect);
  Parsed<TcpPacket> t = Parse(wire);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->seg, s);

  s.options = TcpOptions{};
  s.options.sack_permitted = true;
  wire = Emit(s, {});
  EXPECT_EQ(Bytes(wire.begin() + 20, wire.end()), (Bytes{1, 1, 4, 2}));
  EXPECT_EQ(Parse(wire)->seg, s);
}

TEST_F(TcpHeaderTest, DataSegmentWithSackBlocksRoundTrips) {
  TcpSegment s;
  s.src_port = 80;
  s.dst_port = 40000;
  s.seq = SeqNum(1000);
  s.ack = SeqNum(5000);
  s.flags = tcp_flags::kAck | tcp_flags::kPsh;
  s.window = 1024;
  s.options.timestamps = TcpTimestamps{111, 222};
  s.options.sack_count = 3;
  s.options.sack[0] = SackBlock{SeqNum(6000), SeqNum(7000)};
  s.options.sack[1] = SackBlock{SeqNum(8000), SeqNum(9000)};
  s.options.sack[2] = SackBlock{SeqNum(0xfffffff0u), SeqNum(0x10)};  // wraps
  Bytes payload(1001);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7);
  s.payload_len = static_cast<uint32_t>(payload.size());

  const Bytes wire = Emit(s, payload);
  TcpFields f;
  f.src_port = 80;
  f.dst_port = 40000;
  f.seq = 1000;
  f.ack = 5000;
  f.flags = 0x18;
  f.window = 1024;
  f.options = testing::Concat({1, 1, 8, 10}, testing::Concat(Be32(111), Be32(222)));
  f.options = testing::Concat(f.options, {1, 1, 5, 26});
  for (uint32_t v : {6000u, 7000u, 8000u, 9000u, 0xfffffff0u, 0x10u}) f.options = testing::Concat(f.options, Be32(v));
  EXPECT_EQ(wire, testing::Tcp(kIpA, kIpB, f, payload));

  Parsed<TcpPacket> t = Parse(wire);
  ASSERT_TRUE(t.ok()) << DropName(t.error());
  EXPECT_EQ(t->seg, s) << ToString(t->seg);
  EXPECT_EQ(t->header_len, 60);
  ASSERT_EQ(t->payload.size(), payload.size());
  EXPECT_EQ(Bytes(t->payload.begin(), t->payload.end()), payload);
  EXPECT_EQ(t->payload.data(), mbuf_.data() + 60);  // borrowed, not copied
}

TEST_F(TcpHeaderTest, SackBlocksThatDoNotFitAreDropped) {
  TcpSegment s;
  s.flags = tcp_flags::kAck;
  s.options.sack_count = 4;
  for (uint32_t i = 0; i < 4; ++i) s.options.sack[i] = SackBlock{SeqNum(100 * i), SeqNum(100 * i + 50)};
  // Without timestamps all four fit.
  Parsed<TcpPacket> t = Parse(Emit(s, {}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->seg, s);
  // With timestamps the fourth (oldest) block is left out.
  s.options.timestamps = TcpTimestamps{1, 2};
  t = Parse(Emit(s, {}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->header_len, 60);
  TcpSegment expect = s;
  expect.options.sack_count = 3;
  expect.options.sack[3] = SackBlock{};
  EXPECT_EQ(t->seg, expect) << ToString(t->seg);
}

TEST_F(TcpHeaderTest, AllFlagBitsAndFieldsRoundTrip) {
  for (int flags = 0; flags < 256; ++flags) {
    TcpSegment s;
    s.src_port = static_cast<uint16_t>(flags * 257);
    s.dst_port = static_cast<uint16_t>(~s.src_port);
    s.seq = SeqNum(0x80000000u + flags);
    s.ack = SeqNum(0x7fffffffu - flags);
    s.flags = static_cast<uint8_t>(flags);
    s.window = static_cast<uint16_t>(flags << 8);
    s.urgent = static_cast<uint16_t>(flags);
    Parsed<TcpPacket> t = Parse(Emit(s, {}));
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->seg, s) << ToString(t->seg);
  }
}

TEST_F(TcpHeaderTest, ReservedBitsAreIgnored) {
  Bytes b = testing::Tcp(kIpA, kIpB, {});
  b[12] |= 0x0f;  // reserved + NS (RFC 3540, historic); the checksum is not re-fixed
  Parsed<TcpPacket> t = Parse(b, ChecksumState::kGood);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->header_len, 20);
  EXPECT_EQ(t->seg.flags, tcp_flags::kSyn);
}

TEST_F(TcpHeaderTest, TruncatedBelowMinimumHeader) {
  const Bytes good = testing::Tcp(kIpA, kIpB, {});
  for (size_t n = 0; n < 20; ++n) {
    EXPECT_EQ(ParseError(Bytes(good.begin(), good.begin() + n)), Drop::kTcpTruncated) << n;
  }
}

TEST_F(TcpHeaderTest, DataOffsetBelowFive) {
  for (int doff = 0; doff < 5; ++doff) {
    TcpFields f;
    f.data_offset = doff;
    EXPECT_EQ(ParseError(testing::Tcp(kIpA, kIpB, f, Bytes(40, 0))), Drop::kTcpBadDataOffset) << doff;
  }
}

TEST_F(TcpHeaderTest, DataOffsetBeyondTheBytes) {
  TcpFields f;
  f.data_offset = 6;  // 24 bytes, 20 present
  EXPECT_EQ(ParseError(testing::Tcp(kIpA, kIpB, f)), Drop::kTcpTruncated);
  f.data_offset = 15;  // 60 bytes, 59 present
  EXPECT_EQ(ParseError(testing::Tcp(kIpA, kIpB, f, Bytes(39, 1))), Drop::kTcpTruncated);
  f.data_offset = 15;  // exactly 60: fine (all-NOP options)
  EXPECT_TRUE(Parse(testing::Tcp(kIpA, kIpB, f, Bytes(40, 1))).ok());
}

TEST_F(TcpHeaderTest, BadChecksum) {
  const Bytes good = testing::Tcp(kIpA, kIpB, {}, Bytes{1, 2, 3});
  ASSERT_TRUE(Parse(good).ok());
  for (size_t i = 0; i < good.size(); ++i) {
    Bytes b = good;
    b[i] ^= (i == 12 ? 0x01 : 0x10);  // byte 12: a reserved bit, so the data offset stays valid
    EXPECT_EQ(ParseError(b), Drop::kTcpBadChecksum) << i;
  }
  // The pseudo-header counts: the same bytes between other addresses fail. (Swapping source and
  // destination would not: the one's-complement sum is commutative.)
  mbuf_ = testing::ToMbuf(testing::TestPool(), good);
  EXPECT_TRUE(ParseTcp(mbuf_.bytes(), kIpB, kIpA, ChecksumState::kUnknown).ok());
  EXPECT_EQ(ParseTcp(mbuf_.bytes(), kIpA, Ipv4Addr::Of(198, 18, 0, 3), ChecksumState::kUnknown).error(),
            Drop::kTcpBadChecksum);
  EXPECT_EQ(ParseTcp(mbuf_.bytes(), Ipv4Addr::Of(198, 18, 0, 3), kIpB, ChecksumState::kUnknown).error(),
            Drop::kTcpBadChecksum);
  // A device verdict overrides software verification.
  Bytes b = good;
  b[17] ^= 0x01;
  EXPECT_TRUE(Parse(b, ChecksumState::kGood).ok());
  Parsed<TcpPacket> t = Parse(good, ChecksumState::kBad);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error(), Drop::kTcpBadChecksum);
  // Length checks still come first.
  EXPECT_EQ(Parse(Bytes(good.begin(), good.begin() + 19), ChecksumState::kBad).error(), Drop::kTcpTruncated);
}

TEST_F(TcpHeaderTest, OptionLengthZeroOneOrPastHeader) {
  EXPECT_EQ(ParseError(WithOptions({99, 0, 1, 1})), Drop::kTcpBadOption);
  EXPECT_EQ(ParseError(WithOptions({99, 1, 1, 1})), Drop::kTcpBadOption);
  EXPECT_EQ(ParseError(WithOptions({2, 0, 1, 1})), Drop::kTcpBadOption);
  EXPECT_EQ(ParseError(WithOptions({1, 1, 8, 10})), Drop::kTcpBadOption);  // TS runs past the header
  EXPECT_EQ(ParseError(WithOptions({1, 1, 99, 3})), Drop::kTcpBadOption);  // unknown, 1 byte past
  EXPECT_EQ(ParseError(WithOptions({1, 1, 1, 99})), Drop::kTcpBadOption);  // kind in the last byte, no length
  EXPECT_EQ(ParseError(WithOptions({1, 1, 1, 2})), Drop::kTcpBadOption);   // MSS kind, no length
  EXPECT_EQ(ParseError(WithOptions({99, 255, 1, 1, 1, 1, 1, 1})), Drop::kTcpBadOption);
  // Option bytes beyond the data offset are payload, not options: a length pointing there is past the header.
  TcpFields f;
  f.options = {1, 1, 2, 4};
  EXPECT_EQ(ParseError(testing::Tcp(kIpA, kIpB, f, Bytes{0x05, 0xb4})), Drop::kTcpBadOption);
}

TEST_F(TcpHeaderTest, KnownOptionWithWrongLength) {
  struct Case {
    const char* name;
    Bytes options;
  };
  const Case cases[] = {
      {"mss len 3", {2, 3, 5, 1}},
      {"mss len 5", {2, 5, 5, 0xb4, 0, 1, 1, 1}},
      {"mss len 2", {2, 2, 1, 1}},
      {"ws len 2", {3, 2, 1, 1}},
      {"ws len 4", {3, 4, 7, 0}},
      {"sackok len 3", {4, 3, 0, 1}},
      {"sackok len 4", {4, 4, 0, 0}},
      {"ts len 8", {8, 8, 0, 0, 0, 1, 0, 0}},
      {"ts len 12", {8, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}},
      {"sack len 2 (no blocks)", {5, 2, 1, 1}},
      {"sack len 9", {5, 9, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1}},
      {"sack len 11", {5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1}},
      {"sack len 17", Bytes{5, 17, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ParseError(WithOptions(c.options)), Drop::kTcpBadOption) << c.name;
  }
  // Five blocks (length 42) cannot fit in 40 option bytes: refused as running past the header.
  Bytes five = {5, 42};
  five.resize(40, 0);
  EXPECT_EQ(ParseError(WithOptions(five)), Drop::kTcpBadOption);
}

TEST_F(TcpHeaderTest, EverySackBlockCountParses) {
  for (uint8_t n = 1; n <= 4; ++n) {
    Bytes opts = {1, 1, 5, static_cast<uint8_t>(2 + 8 * n)};
    for (uint32_t i = 0; i < 2u * n; ++i) opts = testing::Concat(opts, Be32(1000 + i));
    Parsed<TcpPacket> t = Parse(WithOptions(opts));
    ASSERT_TRUE(t.ok()) << int{n};
    ASSERT_EQ(t->seg.options.sack_count, n);
    for (uint32_t i = 0; i < n; ++i) {
      EXPECT_EQ(t->seg.options.sack[i], (SackBlock{SeqNum(1000 + 2 * i), SeqNum(1001 + 2 * i)}));
    }
  }
}

TEST_F(TcpHeaderTest, UnknownOptionIsSkipped) {
  Parsed<TcpPacket> t = Parse(WithOptions({99, 4, 0xde, 0xad, 2, 4, 0x05, 0xb4, 99, 2, 1, 1}));
  ASSERT_TRUE(t.ok()) << DropName(t.error());
  EXPECT_EQ(t->seg.options.mss, 1460);
  EXPECT_EQ(t->header_len, 32);
  // An unknown option may end exactly at the header's end.
  t = Parse(WithOptions({1, 1, 99, 6, 0, 0, 0, 0}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->seg.options, TcpOptions{});
}

TEST_F(TcpHeaderTest, EolStopsParsing) {
  // After EOL the rest is padding: bytes that would be a malformed option are not looked at.
  Parsed<TcpPacket> t = Parse(WithOptions({2, 4, 0x05, 0xb4, 0, 2, 0, 3, 1, 0, 0, 0}));
  ASSERT_TRUE(t.ok()) << DropName(t.error());
  EXPECT_EQ(t->seg.options.mss, 1460);
  EXPECT_FALSE(t->seg.options.window_scale.has_value());
  t = Parse(WithOptions({0, 2, 4, 0x05, 0xb4}));
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->seg.options.mss.has_value());
  EXPECT_EQ(t->header_len, 28);  // the header still ends at the data offset
  // All-NOP option space is fine.
  t = Parse(WithOptions(Bytes(40, 1)));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->header_len, 60);
}

TEST(TcpChecksum, MatchesReference) {
  for (size_t payload_len : {0, 1, 2, 3, 7, 1460, 1461}) {
    TcpSegment s = SynWithAllOptions();
    s.flags = tcp_flags::kAck;
    const uint16_t hl = static_cast<uint16_t>(20 + TcpOptionsLength(s.options));
    Bytes seg(hl + payload_len);
    WriteTcpHeader(seg.data(), s);
    for (size_t i = 0; i < payload_len; ++i) seg[hl + i] = static_cast<uint8_t>(0xff - i);
    const uint16_t expect = testing::RefTcpChecksum(kIpA, kIpB, seg);  // field is zero here
    FillTcpChecksum(seg.data(), static_cast<uint16_t>(seg.size()), kIpA, kIpB);
    EXPECT_EQ(LoadBe16(seg.data() + 16), expect) << payload_len;
    EXPECT_EQ(testing::RefTcpChecksum(kIpA, kIpB, seg), 0) << payload_len;  // verifies to zero
    // A stale value in the field does not matter.
    seg[16] = 0x12;
    seg[17] = 0x34;
    FillTcpChecksum(seg.data(), static_cast<uint16_t>(seg.size()), kIpA, kIpB);
    EXPECT_EQ(LoadBe16(seg.data() + 16), expect) << payload_len;
  }
}

TEST(TcpChecksum, PseudoHeaderSumMatchesReference) {
  const Ipv4Addr addrs[] = {kIpA, kIpB, Ipv4Addr::Of(255, 255, 255, 255), Ipv4Addr::Of(0, 0, 0, 0),
                            Ipv4Addr::Of(10, 255, 0, 1)};
  for (Ipv4Addr src : addrs) {
    for (Ipv4Addr dst : addrs) {
      for (uint16_t len : {uint16_t{0}, uint16_t{20}, uint16_t{1480}, uint16_t{65515}, uint16_t{65535}}) {
        Bytes ph;
        testing::Put32(ph, src.v);
        testing::Put32(ph, dst.v);
        ph.push_back(0);
        ph.push_back(6);
        testing::Put16(ph, len);
        EXPECT_EQ(ChecksumFinish(TcpPseudoHeaderSum(src, dst, len)), testing::RefChecksum(ph.data(), ph.size()));
      }
    }
  }
}

TEST_F(TcpHeaderTest, OffloadPseudoChecksumMatchesDpdk) {
  const Bytes payload(100, 0x5a);
  TcpSegment s = SynWithAllOptions();
  s.flags = tcp_flags::kAck;
  const uint16_t hl = static_cast<uint16_t>(20 + TcpOptionsLength(s.options));
  Bytes tcp(hl + payload.size());
  WriteTcpHeader(tcp.data(), s);
  std::copy(payload.begin(), payload.end(), tcp.begin() + hl);
  testing::IpOpts ip_opts;
  ip_opts.protocol = 6;
  Mbuf m = testing::ToMbuf(testing::TestPool(), testing::Ipv4(kIpA, kIpB, tcp, ip_opts));
  ASSERT_TRUE(m);
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(m.data());
  uint8_t* l4 = m.data() + 20;
  const uint16_t tcp_len = static_cast<uint16_t>(tcp.size());

  // rte_ipv4_phdr_cksum returns the sum as it is to sit in memory (network order).
  FillTcpPseudoChecksumForOffload(l4, tcp_len, kIpA, kIpB);
  uint16_t dpdk = rte_ipv4_phdr_cksum(ip, RTE_MBUF_F_TX_TCP_CKSUM);
  EXPECT_EQ(std::memcmp(l4 + 16, &dpdk, 2), 0) << std::hex << LoadBe16(l4 + 16) << " vs " << dpdk;

  // What the device then does: checksum header + payload with the seeded field, store the complement.
  // The result must equal the software checksum.
  const uint16_t device = InternetChecksum(ConstBytes(l4, tcp_len));
  FillTcpChecksum(l4, tcp_len, kIpA, kIpB);
  EXPECT_EQ(LoadBe16(l4 + 16), device);

  // With TSO the length is left out of the sum.
  FillTcpPseudoChecksumForOffload(l4, 0, kIpA, kIpB);
  dpdk = rte_ipv4_phdr_cksum(ip, RTE_MBUF_F_TX_TCP_SEG);
  EXPECT_EQ(std::memcmp(l4 + 16, &dpdk, 2), 0);
}

TEST(TcpParseRobustness, NeverReadsPastTheSpan) {
  // Exact-size heap copies, so AddressSanitizer (SYNACK_SANITIZE=ON) flags any read past the end.
  std::mt19937 rng(7);
  TcpSegment s = SynWithAllOptions();
  s.options.sack_count = 2;
  s.options.sack[0] = SackBlock{SeqNum(1), SeqNum(2)};
  s.options.sack[1] = SackBlock{SeqNum(3), SeqNum(4)};
  const uint16_t hl = static_cast<uint16_t>(20 + TcpOptionsLength(s.options));
  Bytes base(hl + 8, 0x33);
  WriteTcpHeader(base.data(), s);
  FillTcpChecksum(base.data(), static_cast<uint16_t>(base.size()), kIpA, kIpB);
  ASSERT_TRUE(ParseTcp(ConstBytes(base.data(), base.size()), kIpA, kIpB, ChecksumState::kUnknown).ok());
  int accepted = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes b = base;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) b[20 + rng() % (b.size() - 20)] = static_cast<uint8_t>(rng());
    if (rng() % 2) b[12] = static_cast<uint8_t>(rng());  // random data offset
    b.resize(rng() % (b.size() + 1));
    auto heap = std::make_unique<uint8_t[]>(b.size());
    std::copy(b.begin(), b.end(), heap.get());
    Parsed<TcpPacket> t = ParseTcp(ConstBytes(heap.get(), b.size()), kIpA, kIpB, ChecksumState::kGood);
    if (!t.ok()) continue;
    ++accepted;
    ASSERT_GE(t->header_len, 20);
    ASSERT_LE(size_t{t->header_len}, b.size());
    ASSERT_EQ(t->header_len + t->payload.size(), b.size());
    ASSERT_LE(t->seg.options.sack_count, 4);
  }
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace synack
