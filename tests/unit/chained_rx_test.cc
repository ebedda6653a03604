// Receiving frames whose payload continues in later mbuf segments, without gathering them: Mbuf::Slice
// against a byte vector for every range, the checksum over a packet's segments against the checksum of
// the same bytes in one buffer (odd segment lengths included), and the split-aware IPv4/TCP parsers.
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <rte_mempool.h>

#include "lib/base/mbuf.h"
#include "lib/base/mbuf_chain.h"
#include "lib/net/checksum.h"
#include "lib/net/ipv4.h"
#include "lib/tcp/tcp_header.h"
#include "tests/eal_env.h"
#include "tests/frames.h"

namespace synack {
namespace {

using testing::Bytes;

// `bytes` as a packet of segments with the given lengths (summing to bytes.size()).
Mbuf Chain(const Bytes& bytes, const std::vector<uint16_t>& lens) {
  Mbuf head;
  size_t at = 0;
  for (uint16_t n : lens) {
    Mbuf seg = testing::ToMbuf(testing::TestPool(), Bytes(bytes.begin() + at, bytes.begin() + at + n));
    at += n;
    if (!head) {
      head = std::move(seg);
    } else {
      EXPECT_EQ(rte_pktmbuf_chain(head.get(), seg.release()), 0);
    }
  }
  return head;
}

Bytes Flatten(const Mbuf& m) {
  Bytes out;
  for (const rte_mbuf* s = m.get(); s != nullptr; s = s->next) {
    const uint8_t* p = rte_pktmbuf_mtod(s, const uint8_t*);
    out.insert(out.end(), p, p + s->data_len);
  }
  return out;
}

TEST(ChainedRx, SliceKeepsExactlyTheRangeForEveryOffsetAndLength) {
  rte_mempool* pool = testing::TestPool();
  const unsigned in_use = rte_mempool_in_use_count(pool);
  Bytes data(50);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 1);
  const std::vector<uint16_t> lens = {13, 1, 20, 16};  // boundaries at 13, 14, 34
  for (uint32_t off = 0; off <= data.size(); ++off) {
    for (uint32_t len = 0; off + len <= data.size(); ++len) {
      SCOPED_TRACE(::testing::Message() << "off=" << off << " len=" << len);
      Mbuf m = Chain(data, lens);
      m.get()->hash.usr = 42;
      m.Slice(off, len);
      ASSERT_TRUE(m);
      EXPECT_EQ(m.pkt_len(), len);
      EXPECT_EQ(Flatten(m), Bytes(data.begin() + off, data.begin() + off + len));
      uint32_t segs = 0, sum = 0;
      for (const rte_mbuf* s = m.get(); s != nullptr; s = s->next) {
        ++segs;
        sum += s->data_len;
      }
      EXPECT_EQ(m.get()->nb_segs, segs);
      EXPECT_EQ(sum, len);
      EXPECT_EQ(m.get()->hash.usr, 42u);  // the packet's fields move to the new head
    }
  }
  EXPECT_EQ(rte_mempool_in_use_count(pool), in_use);  // every cut segment freed exactly once
}

TEST(ChainedRx, SliceKeepsAnIndirectHeadIndirect) {
  rte_mempool* pool = testing::TestPool();
  const unsigned in_use = rte_mempool_in_use_count(pool);
  const unsigned indirect_in_use = rte_mempool_in_use_count(testing::TestIndirectPool());
  {
    Mbuf payload = testing::ToMbuf(pool, Bytes(100, 0x5a));
    Mbuf head = testing::ToMbuf(pool, Bytes(40, 0x11));
    head.get()->ol_flags = RTE_MBUF_F_TX_IPV4;
    rte_mbuf* ind = rte_pktmbuf_alloc(testing::TestIndirectPool());
    ASSERT_NE(ind, nullptr);
    rte_pktmbuf_attach(ind, payload.get());
    ASSERT_EQ(rte_pktmbuf_chain(head.get(), ind), 0);
    head.Slice(45, 50);  // all in the indirect segment: the direct header segment is freed
    ASSERT_TRUE(RTE_MBUF_CLONED(head.get()));
    EXPECT_EQ(head.pkt_len(), 50u);
    EXPECT_EQ(head.data_len(), 50u);
    EXPECT_EQ(head.data()[0], 0x5a);
    head.ClearOffloadFlags();
    EXPECT_TRUE(RTE_MBUF_CLONED(head.get()));  // still freed as an indirect mbuf
    EXPECT_EQ(head.get()->ol_flags & RTE_MBUF_F_TX_IPV4, 0u);
  }
  EXPECT_EQ(rte_mempool_in_use_count(pool), in_use);
  EXPECT_EQ(rte_mempool_in_use_count(testing::TestIndirectPool()), indirect_in_use);
}

TEST(ChainedRx, QueuesChargeIndirectSegmentsByTheirBytesAndStayBalanced) {
  rte_mempool* pool = testing::TestPool();
  const unsigned in_use = rte_mempool_in_use_count(pool);
  {
    Mbuf direct = testing::ToMbuf(pool, Bytes(1000, 3));
    rte_mbuf* ind = rte_pktmbuf_alloc(testing::TestIndirectPool());
    ASSERT_NE(ind, nullptr);
    rte_pktmbuf_attach(ind, direct.get());
    const uint32_t direct_size = MbufChain::Truesize(direct.get());
    EXPECT_EQ(direct_size, sizeof(rte_mbuf) + direct.get()->buf_len);
    EXPECT_EQ(MbufChain::Truesize(ind), sizeof(rte_mbuf) + 1000u);
    // RangeTruesize is what Slice leaves: the indirect piece cut to the range, the direct one whole.
    ASSERT_EQ(rte_pktmbuf_chain(direct.get(), ind), 0);
    EXPECT_EQ(MbufChain::RangeTruesize(direct.get(), 1100, 300), sizeof(rte_mbuf) + 300u);
    EXPECT_EQ(MbufChain::RangeTruesize(direct.get(), 999, 2), direct_size + sizeof(rte_mbuf) + 1u);
    EXPECT_EQ(MbufChain::RangeTruesize(direct.get(), 0, 1000), direct_size);
    MbufChain q;
    q.Append(std::move(direct));
    EXPECT_EQ(q.truesize(), direct_size + sizeof(rte_mbuf) + 1000u);
    q.DropFront(1400);  // the direct segment and 400 bytes of the indirect one
    EXPECT_EQ(q.truesize(), sizeof(rte_mbuf) + 600u);
    q.DropFront(599);
    EXPECT_EQ(q.truesize(), sizeof(rte_mbuf) + 1u);
    q.DropFront(1);
    EXPECT_EQ(q.truesize(), 0u);
    EXPECT_TRUE(q.empty());
  }
  EXPECT_EQ(rte_mempool_in_use_count(pool), in_use);
}

TEST(ChainedRx, ChecksumOverSegmentsEqualsChecksumOverOneBuffer) {
  std::mt19937 rng(11);
  for (int round = 0; round < 300; ++round) {
    const size_t n = 1 + rng() % 600;
    Bytes data(n);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    std::vector<uint16_t> lens;
    for (size_t left = n; left > 0;) {
      const uint16_t l = static_cast<uint16_t>(std::min<size_t>(left, 1 + rng() % 97));  // odd lengths too
      lens.push_back(l);
      left -= l;
    }
    Mbuf m = Chain(data, lens);
    const uint32_t off = static_cast<uint32_t>(rng() % n) & ~1u;  // the range starts at an even offset
    const uint32_t len = static_cast<uint32_t>(rng() % (n - off + 1));
    const uint32_t acc0 = static_cast<uint32_t>(rng());
    SCOPED_TRACE(::testing::Message() << "round " << round << " off " << off << " len " << len);
    EXPECT_EQ(ChecksumFinish(ChecksumAddPacket(acc0, m.get(), off, len)),
              ChecksumFinish(ChecksumAdd(acc0, ConstBytes(data.data() + off, len))));
  }
}

TEST(ChainedRx, SplitParsersCheckLengthsAgainstTheWholeFrame) {
  // IPv4: the header in `data`, the total length checked against `available`, on both sides of the edge.
  Bytes ip = testing::Ipv4(Ipv4Addr::Of(198, 18, 0, 1), Ipv4Addr::Of(198, 18, 0, 2), Bytes(100, 1));
  ConstBytes head(ip.data(), 40);
  Parsed<Ipv4Packet> p = ParseIpv4(head, ip.size(), ChecksumState::kUnknown);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->payload_len(), 100u);
  EXPECT_EQ(p->payload.size(), 20u);  // what the first segment holds
  EXPECT_EQ(ParseIpv4(head, ip.size() - 1, ChecksumState::kUnknown).error(), Drop::kIpTruncated);
  EXPECT_EQ(ParseIpv4(ConstBytes(ip.data(), 19), ip.size(), ChecksumState::kUnknown).error(), Drop::kIpTruncated);

  // TCP: a 32-byte header (options) and 20 bytes of payload.
  const Ipv4Addr src = Ipv4Addr::Of(198, 18, 0, 1), dst = Ipv4Addr::Of(198, 18, 0, 2);
  Bytes tcp(52, 0);
  tcp[0] = 0x30;
  tcp[1] = 0x39;
  tcp[2] = 0x00;
  tcp[3] = 0x07;
  tcp[12] = 8 << 4;
  tcp[13] = 0x18;
  for (size_t i = 20; i < 32; ++i) tcp[i] = 1;  // NOPs
  for (size_t i = 32; i < 52; ++i) tcp[i] = static_cast<uint8_t>(i);
  const uint16_t c = testing::RefTcpChecksum(src, dst, tcp);
  tcp[16] = static_cast<uint8_t>(c >> 8);
  tcp[17] = static_cast<uint8_t>(c);
  // The whole header present: parsed, payload_len counts every byte.
  Parsed<TcpPacket> t = ParseTcp(ConstBytes(tcp.data(), 32), 52, src, dst, ChecksumState::kGood);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->seg.payload_len, 20u);
  EXPECT_EQ(t->payload.size(), 0u);
  // One byte of options missing from the first segment: refused.
  EXPECT_EQ(ParseTcp(ConstBytes(tcp.data(), 31), 52, src, dst, ChecksumState::kGood).error(), Drop::kTcpTruncated);
  // A software checksum over bytes the parser does not see: refused, never trusted.
  EXPECT_EQ(ParseTcp(ConstBytes(tcp.data(), 51), 52, src, dst, ChecksumState::kUnknown).error(), Drop::kTcpTruncated);
  // All bytes present: the software checksum passes, and fails when a payload byte changes.
  EXPECT_TRUE(ParseTcp(ConstBytes(tcp.data(), 52), 52, src, dst, ChecksumState::kUnknown).ok());
  tcp[40] ^= 1;
  EXPECT_EQ(ParseTcp(ConstBytes(tcp.data(), 52), 52, src, dst, ChecksumState::kUnknown).error(), Drop::kTcpBadChecksum);
}

}  // namespace
}  // namespace synack
