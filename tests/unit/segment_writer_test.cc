// SegmentWriter on real mbufs: the payload is attached zero-copy (indirect mbufs referencing the send
// queue's, which keep their data), the header and options are what the core asked for, and the
// checksum is right — in software, prepared for offload, and in software despite offload when an inner
// piece has an odd length (the net_tap quirk). An empty indirect pool fails cleanly. A reply is written
// into the buffer it answers only when that buffer is one direct segment nobody else references.
#include "lib/core/segment_writer.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include "lib/base/bytes.h"
#include "lib/net/checksum.h"
#include "lib/tcp/tcp_header.h"
#include "tests/eal_env.h"

namespace synack {
namespace {

const FlowKey kKey{Ipv4Addr::Of(198, 18, 0, 1), Ipv4Addr::Of(198, 18, 0, 2), 40000, 80};

// A send queue of pieces with the given lengths, bytes 0, 1, 2, ... in order.
MbufChain Queue(const std::vector<uint16_t>& pieces) {
  MbufChain q;
  uint8_t next = 0;
  for (uint16_t n : pieces) {
    Mbuf m = Mbuf::Alloc(testing::TestPool());
    uint8_t* p = m.Append(n);
    for (uint16_t i = 0; i < n; ++i) p[i] = next++;
    q.Append(std::move(m));
  }
  return q;
}

OutSegment Seg(uint32_t data_offset, uint32_t len) {
  OutSegment o;
  o.seg.src_port = kKey.local_port;
  o.seg.dst_port = kKey.remote_port;
  o.seg.seq = SeqNum(1000);
  o.seg.ack = SeqNum(2000);
  o.seg.flags = tcp_flags::kAck | tcp_flags::kPsh;
  o.seg.window = 512;
  o.seg.options.timestamps = TcpTimestamps{7, 9};
  o.seg.payload_len = len;
  o.data_offset = data_offset;
  return o;
}

std::vector<uint8_t> Bytes(const Mbuf& m) {
  std::vector<uint8_t> v;
  for (const rte_mbuf* p = m.get(); p != nullptr; p = p->next) {
    const uint8_t* d = rte_pktmbuf_mtod(p, const uint8_t*);
    v.insert(v.end(), d, d + p->data_len);
  }
  return v;
}

TEST(SegmentWriter, AttachesPayloadZeroCopyWithASoftwareChecksum) {
  MbufChain q = Queue({5, 7, 9});
  SegmentWriter w({testing::TestPool(), testing::TestIndirectPool(), false});
  SegmentWriter::Frame f = w.Build(kKey, Seg(3, 12), &q);  // bytes 3..14: 2 of the first, 7, 3 of the last
  ASSERT_TRUE(f.frame);
  EXPECT_FALSE(f.cksum_in_software);
  EXPECT_EQ(f.frame.get()->nb_segs, 4);  // header + three attached pieces
  for (const rte_mbuf* p = f.frame.get()->next; p != nullptr; p = p->next) EXPECT_TRUE(RTE_MBUF_CLONED(p));
  const std::vector<uint8_t> bytes = Bytes(f.frame);
  Parsed<TcpPacket> pkt =
      ParseTcp(ConstBytes(bytes.data(), bytes.size()), kKey.local, kKey.remote, ChecksumState::kUnknown);
  ASSERT_TRUE(pkt.ok());  // checksum verified in software
  EXPECT_EQ(pkt->seg.seq, SeqNum(1000));
  EXPECT_EQ(pkt->seg.window, 512);
  ASSERT_TRUE(pkt->seg.options.timestamps.has_value());
  EXPECT_EQ(pkt->seg.options.timestamps->tsval, 7u);
  std::vector<uint8_t> want(12);
  std::iota(want.begin(), want.end(), uint8_t{3});
  EXPECT_EQ(std::vector<uint8_t>(pkt->payload.begin(), pkt->payload.end()), want);
  f.frame.reset();
  EXPECT_EQ(q.size(), 21u);  // the queue still holds all its data
}

// What a device with TCP checksum offload does to the frame: sums the whole segment, the checksum field
// holding the pseudo-header sum the stack left there, and stores the complement.
std::vector<uint8_t> CompleteOffload(const Mbuf& frame) {
  std::vector<uint8_t> bytes = Bytes(frame);
  StoreBe16(bytes.data() + 16, InternetChecksum(ConstBytes(bytes.data(), bytes.size())));
  return bytes;
}

TEST(SegmentWriter, PreparesTheOffloadWhenEveryInnerPieceIsEven) {
  MbufChain q = Queue({6, 8});
  SegmentWriter w({testing::TestPool(), testing::TestIndirectPool(), true});
  SegmentWriter::Frame f = w.Build(kKey, Seg(0, 14), &q);
  ASSERT_TRUE(f.frame);
  EXPECT_FALSE(f.cksum_in_software);
  EXPECT_TRUE(f.frame.get()->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM);
  EXPECT_EQ(f.frame.get()->l4_len, kTcpMinHeaderLen + 12);  // timestamps: 12 option bytes
  // The pseudo-header sum left in the checksum field is the one that makes the device's sum right.
  const std::vector<uint8_t> bytes = CompleteOffload(f.frame);
  EXPECT_TRUE(ParseTcp(ConstBytes(bytes.data(), bytes.size()), kKey.local, kKey.remote, ChecksumState::kUnknown).ok());
}

TEST(SegmentWriter, PreparesTheOffloadForAHeaderOnlySegment) {
  SegmentWriter w({testing::TestPool(), testing::TestIndirectPool(), true});
  SegmentWriter::Frame f = w.Build(kKey, Seg(0, 0), nullptr);
  ASSERT_TRUE(f.frame);
  EXPECT_FALSE(f.cksum_in_software);
  EXPECT_EQ(f.frame.get()->nb_segs, 1);
  EXPECT_TRUE(f.frame.get()->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM);
  const std::vector<uint8_t> raw = Bytes(f.frame);
  // Not a finished checksum: the frame as it leaves the stack does not verify...
  EXPECT_FALSE(ParseTcp(ConstBytes(raw.data(), raw.size()), kKey.local, kKey.remote, ChecksumState::kUnknown).ok());
  // ...and does once the device has summed it.
  const std::vector<uint8_t> bytes = CompleteOffload(f.frame);
  EXPECT_TRUE(ParseTcp(ConstBytes(bytes.data(), bytes.size()), kKey.local, kKey.remote, ChecksumState::kUnknown).ok());
}

TEST(SegmentWriter, SumsInSoftwareDespiteOffloadWhenAnInnerPieceIsOdd) {
  MbufChain q = Queue({5, 8});  // the first piece, not the last, has an odd length
  SegmentWriter w({testing::TestPool(), testing::TestIndirectPool(), true});
  SegmentWriter::Frame f = w.Build(kKey, Seg(0, 13), &q);
  ASSERT_TRUE(f.frame);
  EXPECT_TRUE(f.cksum_in_software);
  EXPECT_FALSE(f.frame.get()->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM);
  const std::vector<uint8_t> bytes = Bytes(f.frame);
  EXPECT_TRUE(ParseTcp(ConstBytes(bytes.data(), bytes.size()), kKey.local, kKey.remote, ChecksumState::kUnknown).ok());
  // An odd length only in the last piece is summed correctly by such devices: offload stays on.
  MbufChain q2 = Queue({6, 7});
  SegmentWriter::Frame g = w.Build(kKey, Seg(0, 13), &q2);
  ASSERT_TRUE(g.frame);
  EXPECT_FALSE(g.cksum_in_software);
}

TEST(SegmentWriter, AnEmptyIndirectPoolFailsWithoutLeaking) {
  rte_mempool* empty = rte_pktmbuf_pool_create("sw_test_empty", 64, 0, 0, 0, SOCKET_ID_ANY);
  ASSERT_NE(empty, nullptr);
  std::vector<rte_mbuf*> held(64);
  ASSERT_EQ(rte_pktmbuf_alloc_bulk(empty, held.data(), 64), 0);
  MbufChain q = Queue({10});
  const unsigned in_use = rte_mempool_in_use_count(testing::TestPool());
  SegmentWriter w({testing::TestPool(), empty, false});
  SegmentWriter::Frame f = w.Build(kKey, Seg(0, 10), &q);
  EXPECT_FALSE(f.frame);
  EXPECT_EQ(rte_mempool_in_use_count(testing::TestPool()), in_use);  // the header went back
  // Without payload no indirect mbuf is needed.
  EXPECT_TRUE(w.Build(kKey, Seg(0, 0), nullptr).frame);
  for (rte_mbuf* m : held) rte_pktmbuf_free(m);
  rte_mempool_free(empty);
}

// A received frame: `len` bytes of 0xee (with RX offload flags, as a device sets them).
Mbuf Received(uint16_t len) {
  Mbuf m = Mbuf::Alloc(testing::TestPool());
  uint8_t* p = m.Append(len);
  std::fill(p, p + len, 0xee);
  m.get()->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
  return m;
}

TEST(SegmentWriter, ReplyIsWrittenIntoTheBufferItAnswers) {
  SegmentWriter w({testing::TestPool(), testing::TestIndirectPool(), false});
  Mbuf rx = Received(60);
  rx.Adj(14);  // the stack has stripped the Ethernet header
  const rte_mbuf* buffer = rx.get();
  const unsigned in_use = rte_mempool_in_use_count(testing::TestPool());
  SegmentWriter::Frame f = w.BuildInto(std::move(rx), kKey, Seg(0, 0));
  ASSERT_TRUE(f.frame);
  EXPECT_TRUE(f.reused);
  EXPECT_EQ(f.frame.get(), buffer);
  EXPECT_EQ(rte_mempool_in_use_count(testing::TestPool()), in_use);  // nothing allocated
  EXPECT_EQ(f.frame.get()->ol_flags & (RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD), 0u);
  EXPECT_EQ(rte_pktmbuf_headroom(f.frame.get()), RTE_PKTMBUF_HEADROOM);  // room for IPv4 and Ethernet again
  const std::vector<uint8_t> bytes = Bytes(f.frame);
  Parsed<TcpPacket> p =
      ParseTcp(ConstBytes(bytes.data(), bytes.size()), kKey.local, kKey.remote, ChecksumState::kUnknown);
  ASSERT_TRUE(p.ok());  // only the new header: none of the old bytes, a valid checksum
  EXPECT_EQ(bytes.size(), kTcpMinHeaderLen + TcpOptionsLength(Seg(0, 0).seg.options));
  EXPECT_EQ(p->seg.seq, SeqNum(1000));
  EXPECT_EQ(p->seg.payload_len, 0u);
}

TEST(SegmentWriter, ReplyGetsItsOwnBufferWhenTheAnsweredOneIsShared) {
  SegmentWriter w({testing::TestPool(), testing::TestIndirectPool(), false});
  // Referenced by an indirect mbuf (a queue still holds its payload): written elsewhere, freed once.
  Mbuf rx = Received(60);
  Mbuf clone(rte_pktmbuf_clone(rx.get(), testing::TestIndirectPool()));
  ASSERT_TRUE(clone);
  EXPECT_FALSE(SegmentWriter::Reusable(rx));
  const rte_mbuf* buffer = rx.get();
  SegmentWriter::Frame f = w.BuildInto(std::move(rx), kKey, Seg(0, 0));
  ASSERT_TRUE(f.frame);
  EXPECT_FALSE(f.reused);
  EXPECT_NE(f.frame.get(), buffer);
  EXPECT_EQ(rte_mbuf_refcnt_read(buffer), 1);  // our reference was dropped, the clone's remains
  const std::vector<uint8_t> kept = Bytes(clone);
  EXPECT_EQ(kept, std::vector<uint8_t>(60, 0xee));  // the clone's bytes were not overwritten
  // Indirect and chained buffers are not reused either.
  EXPECT_FALSE(SegmentWriter::Reusable(clone));
  Mbuf chained = Received(20);
  Mbuf tail = Received(20);
  ASSERT_EQ(rte_pktmbuf_chain(chained.get(), tail.release()), 0);
  EXPECT_FALSE(SegmentWriter::Reusable(chained));
  const unsigned in_use = rte_mempool_in_use_count(testing::TestPool());
  SegmentWriter::Frame g = w.BuildInto(std::move(chained), kKey, Seg(0, 0));
  ASSERT_TRUE(g.frame);
  EXPECT_FALSE(g.reused);
  EXPECT_EQ(rte_mempool_in_use_count(testing::TestPool()), in_use - 1);  // two segments freed, one allocated
  EXPECT_FALSE(SegmentWriter::Reusable(Mbuf()));
}

}  // namespace
}  // namespace synack
