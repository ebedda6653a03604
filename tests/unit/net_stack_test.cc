// NetStack end to end on real mbufs, without a device: frames in, exact frames out, every drop counted
// and every mbuf returned to the pool.
#include <gtest/gtest.h>
#include <rte_mempool.h>

#include "lib/net/net_stack.h"
#include "tests/eal_env.h"
#include "tests/frames.h"

namespace synack {
namespace {

using testing::Bytes;
using testing::Concat;
using testing::EthHeader;

const MacAddr kOurMac{{0x02, 0x53, 0, 0, 0, 0x02}};
const MacAddr kPeerMac{{0x02, 0x4b, 0, 0, 0, 0x01}};
const MacAddr kGwMac{{0x02, 0x4b, 0, 0, 0, 0xfe}};
const Ipv4Addr kOurIp = Ipv4Addr::Of(198, 18, 0, 2);
const Ipv4Addr kPeerIp = Ipv4Addr::Of(198, 18, 0, 1);
const Ipv4Addr kGwIp = Ipv4Addr::Of(198, 18, 0, 254);
const Ipv4Addr kFarIp = Ipv4Addr::Of(198, 19, 7, 7);

Instant At(int64_t ms) { return Instant::FromNanoseconds(ms * 1000000); }

class NetStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    in_use_at_start_ = rte_mempool_in_use_count(testing::TestPool());
    NetConfig c;
    c.local = Ipv4Prefix{kOurIp, 24};
    c.mac = kOurMac;
    c.arp.retry_interval = Duration::Seconds(1);
    c.arp.max_requests = 3;
    Reset(c);
  }
  void TearDown() override {
    last_ = Delivery{};
    stack_.reset();
    EXPECT_EQ(rte_mempool_in_use_count(testing::TestPool()), in_use_at_start_) << "mbuf leaked";
  }
  void Reset(const NetConfig& c) {
    stack_.reset();
    stack_.emplace(c, testing::TestPool());
  }

  void Send(const Bytes& frame, Instant now = At(0)) {
    Mbuf m = testing::ToMbuf(testing::TestPool(), frame);
    ASSERT_TRUE(m);
    last_ = stack_->Input(now, std::move(m));
  }
  void ExpectSent(const Bytes& frame) {
    Mbuf m = stack_->outbox().PopFront();
    ASSERT_TRUE(m) << "nothing sent";
    EXPECT_EQ(testing::FromMbuf(m), frame);
  }
  Bytes TakeSent() {
    Mbuf m = stack_->outbox().PopFront();
    return m ? testing::FromMbuf(m) : Bytes{};
  }
  void ExpectNothingSent() { EXPECT_TRUE(stack_->outbox().empty()) << stack_->outbox().size() << " frames queued"; }
  void ExpectDropped(Drop d, uint64_t n = 1) {
    EXPECT_EQ(stack_->counters().dropped(d), n) << DropName(d);
    EXPECT_EQ(stack_->counters().total_drops(), n) << "other drops counted too";
  }

  Bytes PingFrame(uint16_t id, uint16_t seq, size_t len, Ipv4Addr dst = kOurIp, const MacAddr& mac = kOurMac,
                  testing::IpOpts o = {}) {
    return Concat(EthHeader(mac, kPeerMac, 0x0800), testing::Ipv4(kPeerIp, dst, testing::IcmpEcho(8, id, seq, len), o));
  }

  std::optional<NetStack> stack_;
  Delivery last_;  // what the last Send passed up (its frame is freed with it)
  unsigned in_use_at_start_ = 0;
};

TEST_F(NetStackTest, GratuitousArpAtStart) {
  stack_->Start(At(0));
  ExpectSent(testing::ArpFrame(1, MacAddr::Broadcast(), kOurMac, kOurIp, MacAddr{}, kOurIp));
  ExpectNothingSent();
  EXPECT_EQ(stack_->counters().arp_gratuitous_tx, 1u);
}

TEST_F(NetStackTest, AnswersArpRequestForUsAndLearnsSender) {
  Bytes req = testing::ArpFrame(1, MacAddr::Broadcast(), kPeerMac, kPeerIp, MacAddr{}, kOurIp);
  req.resize(60, 0);  // minimum-size Ethernet frame with padding
  Send(req);
  ExpectSent(testing::ArpFrame(2, kPeerMac, kOurMac, kOurIp, kPeerMac, kPeerIp));
  ExpectNothingSent();
  EXPECT_EQ(stack_->counters().arp_requests_rx, 1u);
  EXPECT_EQ(stack_->counters().arp_replies_tx, 1u);
  ASSERT_NE(stack_->neighbors().Find(kPeerIp), nullptr);
  EXPECT_EQ(*stack_->neighbors().Find(kPeerIp), kPeerMac);
  ExpectDropped(Drop::kArpNotForUs, 0);
}

TEST_F(NetStackTest, IgnoresArpForOthersWithoutLearning) {
  Send(testing::ArpFrame(1, MacAddr::Broadcast(), kPeerMac, kPeerIp, MacAddr{}, Ipv4Addr::Of(198, 18, 0, 9)));
  ExpectNothingSent();
  ExpectDropped(Drop::kArpNotForUs);
  EXPECT_EQ(stack_->neighbors().Find(kPeerIp), nullptr);
}

TEST_F(NetStackTest, ArpConflictIsCounted) {
  Send(testing::ArpFrame(1, MacAddr::Broadcast(), kPeerMac, kOurIp, MacAddr{}, kOurIp));
  ExpectNothingSent();
  ExpectDropped(Drop::kArpConflict);
}

TEST_F(NetStackTest, AnswersPingInPlace) {
  Bytes req = PingFrame(0x4242, 7, 56);
  Send(req);
  Bytes reply = TakeSent();
  ExpectNothingSent();
  // Expected reply: addresses swapped, type 0, fresh IP header (TTL 64, our ID sequence), same data.
  Bytes icmp = testing::IcmpEcho(0, 0x4242, 7, 56);
  ASSERT_EQ(reply.size(), 14u + 20u + icmp.size());
  EXPECT_EQ(Bytes(reply.begin(), reply.begin() + 14), EthHeader(kPeerMac, kOurMac, 0x0800));
  EXPECT_EQ(testing::RefChecksum(reply.data() + 14, 20), 0) << "IPv4 checksum";
  EXPECT_EQ(reply[14 + 8], 64);  // TTL
  EXPECT_EQ(reply[14 + 9], 1);   // ICMP
  EXPECT_EQ(Bytes(reply.begin() + 26, reply.begin() + 30), (Bytes{198, 18, 0, 2}));
  EXPECT_EQ(Bytes(reply.begin() + 30, reply.begin() + 34), (Bytes{198, 18, 0, 1}));
  EXPECT_EQ(Bytes(reply.begin() + 34, reply.end()), icmp);
  EXPECT_EQ(stack_->counters().icmp_echo_requests_rx, 1u);
  EXPECT_EQ(stack_->counters().icmp_echo_replies_tx, 1u);
  ExpectDropped(Drop::kIpBadChecksum, 0);
}

TEST_F(NetStackTest, PingWithIpOptionsAndPaddingIsAnsweredWithoutThem) {
  Bytes req = PingFrame(1, 1, 0, kOurIp, kOurMac, {.options_words = 2});
  req.resize(60, 0);
  Send(req);
  Bytes reply = TakeSent();
  ASSERT_EQ(reply.size(), 14u + 20u + 8u);
  EXPECT_EQ(Bytes(reply.begin() + 34, reply.end()), testing::IcmpEcho(0, 1, 1, 0));
}

TEST_F(NetStackTest, UsesTxChecksumOffloadWhenTheDeviceHasIt) {
  NetConfig c = stack_->config();
  c.tx_ip_cksum_offload = true;
  Reset(c);
  Send(PingFrame(1, 1, 8));
  Mbuf m = stack_->outbox().PopFront();
  ASSERT_TRUE(m);
  EXPECT_EQ(m.data()[14 + 10], 0);
  EXPECT_EQ(m.data()[14 + 11], 0);
  EXPECT_TRUE(m.get()->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
  EXPECT_EQ(m.get()->l2_len, 14u);
  EXPECT_EQ(m.get()->l3_len, 20u);
}

TEST_F(NetStackTest, DropsAndCountsEveryMalformedFrame) {
  struct Case {
    const char* what;
    Bytes frame;
    Drop reason;
  };
  Bytes ping = PingFrame(1, 1, 8);
  auto mutate = [&](size_t off, uint8_t v) {
    Bytes b = ping;
    b[off] = v;
    return b;
  };
  Bytes bad_icmp = ping;
  bad_icmp[14 + 20 + 9] ^= 0x55;
  std::vector<Case> cases = {
      {"runt", Bytes(10, 0), Drop::kEthTruncated},
      {"other mac", PingFrame(1, 1, 8, kOurIp, kPeerMac), Drop::kEthNotForUs},
      {"ipv6", Concat(EthHeader(kOurMac, kPeerMac, 0x86dd), Bytes(40, 0)), Drop::kEthUnknownType},
      {"arp short", Concat(EthHeader(kOurMac, kPeerMac, 0x0806), Bytes(20, 0)), Drop::kArpTruncated},
      {"ip short", Concat(EthHeader(kOurMac, kPeerMac, 0x0800), Bytes(19, 0x45)), Drop::kIpTruncated},
      {"ip version", mutate(14, 0x55), Drop::kIpBadVersion},
      {"ip ihl", mutate(14, 0x43), Drop::kIpBadHeaderLength},
      {"ip checksum", mutate(14 + 11, static_cast<uint8_t>(ping[14 + 11] ^ 1)), Drop::kIpBadChecksum},
      {"fragment", PingFrame(1, 1, 8, kOurIp, kOurMac, {.frag = 0x2000}), Drop::kIpFragment},
      {"not our ip", PingFrame(1, 1, 8, Ipv4Addr::Of(198, 18, 0, 3)), Drop::kIpNotForUs},
      {"broadcast ping", PingFrame(1, 1, 8, Ipv4Addr::Of(198, 18, 0, 255), MacAddr::Broadcast()), Drop::kIpNotForUs},
      {"udp",
       Concat(EthHeader(kOurMac, kPeerMac, 0x0800), testing::Ipv4(kPeerIp, kOurIp, Bytes(8, 0), {.protocol = 17})),
       Drop::kIpUnknownProtocol},
      {"icmp short", Concat(EthHeader(kOurMac, kPeerMac, 0x0800), testing::Ipv4(kPeerIp, kOurIp, Bytes(4, 0))),
       Drop::kIcmpTruncated},
      {"icmp checksum", bad_icmp, Drop::kIcmpBadChecksum},
      {"icmp timestamp request",
       Concat(EthHeader(kOurMac, kPeerMac, 0x0800), testing::Ipv4(kPeerIp, kOurIp, testing::IcmpEcho(13, 0, 0, 12))),
       Drop::kIcmpUnhandledType},
      {"icmp unreachable quoting too little",
       Concat(EthHeader(kOurMac, kPeerMac, 0x0800), testing::Ipv4(kPeerIp, kOurIp, testing::IcmpEcho(3, 0, 0, 8))),
       Drop::kIcmpBadError},
      {"icmp unreachable quoting a bad IPv4 header",
       Concat(EthHeader(kOurMac, kPeerMac, 0x0800),
              testing::Ipv4(kPeerIp, kOurIp, testing::IcmpUnreachable(3, 0, Bytes(28, 0x4f)))),
       Drop::kIcmpBadError},
      {"icmp unreachable for someone else's datagram",
       Concat(
           EthHeader(kOurMac, kPeerMac, 0x0800),
           testing::Ipv4(kPeerIp, kOurIp,
                         testing::IcmpUnreachable(
                             3, 0, Concat(testing::Ipv4(kPeerIp, kFarIp, {}, testing::IpOpts{64, 6}), Bytes(8, 0))))),
       Drop::kIcmpErrorNotOurs},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Reset(stack_->config());
    Send(c.frame);
    ExpectNothingSent();
    ExpectDropped(c.reason);
  }
  // TTL 0 and a bad source address.
  Reset(stack_->config());
  Send(PingFrame(1, 1, 8, kOurIp, kOurMac, {.ttl = 0}));
  ExpectDropped(Drop::kIpTtlZero);
  Reset(stack_->config());
  Send(Concat(EthHeader(kOurMac, kPeerMac, 0x0800),
              testing::Ipv4(Ipv4Addr::Of(224, 0, 0, 1), kOurIp, testing::IcmpEcho(8, 1, 1, 8))));
  ExpectDropped(Drop::kIpBadSource);
}

TEST_F(NetStackTest, PassesTcpAndIcmpErrorsForTcpUpAsValues) {
  // A TCP segment to us comes back with its frame (padding trimmed) and its parsed IPv4 header.
  testing::TcpFields f;
  f.flags = 0x02;
  Bytes seg = testing::Tcp(kPeerIp, kOurIp, f);
  Bytes frame = Concat(EthHeader(kOurMac, kPeerMac, 0x0800), testing::Ipv4(kPeerIp, kOurIp, seg, {.protocol = 6}));
  const size_t unpadded = frame.size();
  frame.resize(80, 0);  // Ethernet padding beyond the datagram
  Send(frame);
  ASSERT_EQ(last_.kind, Delivery::Kind::kTcp);
  EXPECT_EQ(last_.frame.pkt_len(), unpadded);
  EXPECT_EQ(last_.ip.src, kPeerIp);
  EXPECT_EQ(last_.ip.dst, kOurIp);
  EXPECT_EQ(last_.ip.payload.size(), seg.size());
  EXPECT_EQ(stack_->counters().total_drops(), 0u);
  ExpectNothingSent();

  // An ICMP Destination Unreachable quoting a TCP datagram from us: the quoted fields, no frame.
  Bytes quoted = Concat(testing::Ipv4(kOurIp, kPeerIp, {}, testing::IpOpts{64, 6}),
                        Bytes{0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04});  // ports 40000 -> 80, seq
  Send(Concat(EthHeader(kOurMac, kPeerMac, 0x0800),
              testing::Ipv4(kPeerIp, kOurIp, testing::IcmpUnreachable(4, 1200, quoted))));
  ASSERT_EQ(last_.kind, Delivery::Kind::kIcmpError);
  EXPECT_FALSE(last_.frame);
  EXPECT_EQ(last_.icmp.next_hop_mtu, 1200);
  EXPECT_EQ(last_.icmp.dst, kPeerIp);
  EXPECT_EQ(last_.icmp.src_port, 40000);
  EXPECT_EQ(last_.icmp.dst_port, 80);
  EXPECT_EQ(last_.icmp.seq, 0x01020304u);
  EXPECT_EQ(stack_->counters().icmp_errors_rx, 1u);

  // Everything the stack handles itself passes nothing up: a ping is answered ...
  Send(PingFrame(1, 1, 8));
  EXPECT_EQ(last_.kind, Delivery::Kind::kNone);
  EXPECT_FALSE(last_.frame);
  EXPECT_FALSE(TakeSent().empty());
  // ... and a TCP segment to another address is dropped here.
  Send(Concat(EthHeader(kOurMac, kPeerMac, 0x0800),
              testing::Ipv4(kPeerIp, Ipv4Addr::Of(198, 18, 0, 3), seg, {.protocol = 6})));
  EXPECT_EQ(last_.kind, Delivery::Kind::kNone);
  ExpectDropped(Drop::kIpNotForUs);
}

TEST_F(NetStackTest, PollReturnsTheDestinationsOfTcpDatagramsArpGaveUpOn) {
  // Two TCP datagrams and a ping wait on one unanswered neighbour; only the TCP ones are reported.
  for (int i = 0; i < 2; ++i) {
    Mbuf m = testing::ToMbuf(testing::TestPool(), Bytes(20, 0));
    ASSERT_TRUE(m);
    stack_->OutputIpv4(At(0), std::move(m), kPeerIp, kIpProtoTcp);
  }
  ASSERT_TRUE(stack_->SendEchoRequest(At(0), kPeerIp, 9, 1, 4));
  EXPECT_EQ(TakeSent().size(), 42u);  // one ARP request for all three
  size_t reported = 0;
  int64_t given_up_at = -1;
  for (int64_t ms = 100; ms <= 4000; ms += 100) {
    std::span<const Ipv4Addr> gone = stack_->Poll(At(ms));
    for (Ipv4Addr a : gone) EXPECT_EQ(a, kPeerIp);
    if (!gone.empty()) given_up_at = ms;
    reported += gone.size();
  }
  EXPECT_EQ(reported, 2u);
  EXPECT_EQ(given_up_at, 3000);  // the third request unanswered after its retry interval
  while (!TakeSent().empty()) {
  }
  ExpectDropped(Drop::kArpUnresolved, 3);
}

TEST_F(NetStackTest, MultiSegmentFramesAreGatheredOrRefused) {
  // A ping split over two segments is gathered into the first and answered.
  Bytes ping = PingFrame(1, 1, 100);
  Mbuf head = testing::ToMbuf(testing::TestPool(), Bytes(ping.begin(), ping.begin() + 40));
  Mbuf tail = testing::ToMbuf(testing::TestPool(), Bytes(ping.begin() + 40, ping.end()));
  ASSERT_EQ(rte_pktmbuf_chain(head.get(), tail.release()), 0);
  last_ = stack_->Input(At(0), std::move(head));
  EXPECT_EQ(TakeSent().size(), ping.size());
  EXPECT_EQ(stack_->counters().rx_linearized, 1u);
  // One that cannot fit in the first segment is dropped and counted.
  Bytes big = PingFrame(1, 2, 1400);
  head = testing::ToMbuf(testing::TestPool(), big);
  tail = testing::ToMbuf(testing::TestPool(), Bytes(1000, 0));
  ASSERT_EQ(rte_pktmbuf_chain(head.get(), tail.release()), 0);
  last_ = stack_->Input(At(0), std::move(head));
  ExpectNothingSent();
  ExpectDropped(Drop::kNonContiguous);
}

TEST_F(NetStackTest, OutputResolvesNextHopThenSendsQueuedDatagrams) {
  ASSERT_TRUE(stack_->SendEchoRequest(At(0), kPeerIp, 9, 1, 4));
  ASSERT_TRUE(stack_->SendEchoRequest(At(1), kPeerIp, 9, 2, 4));
  // One ARP request for both.
  ExpectSent(testing::ArpFrame(1, MacAddr::Broadcast(), kOurMac, kOurIp, MacAddr{}, kPeerIp));
  ExpectNothingSent();
  // The reply releases both pings, in order, with the learned MAC.
  Send(testing::ArpFrame(2, kOurMac, kPeerMac, kPeerIp, kOurMac, kOurIp), At(2));
  for (uint16_t seq : {1, 2}) {
    Bytes f = TakeSent();
    ASSERT_EQ(f.size(), 14u + 20u + 8u + 4u);
    EXPECT_EQ(Bytes(f.begin(), f.begin() + 14), EthHeader(kPeerMac, kOurMac, 0x0800));
    EXPECT_EQ(testing::RefChecksum(f.data() + 14, 20), 0);
    Bytes icmp(f.begin() + 34, f.end());
    EXPECT_EQ(testing::RefChecksum(icmp.data(), icmp.size()), 0);
    EXPECT_EQ(icmp[0], 8);
    EXPECT_EQ(icmp[7], seq);
  }
  ExpectNothingSent();
  // Now resolved: the next datagram goes straight out.
  ASSERT_TRUE(stack_->SendEchoRequest(At(3), kPeerIp, 9, 3, 4));
  EXPECT_EQ(TakeSent().size(), 46u);
  // The peer's reply is recorded.
  Send(Concat(EthHeader(kOurMac, kPeerMac, 0x0800), testing::Ipv4(kPeerIp, kOurIp, testing::IcmpEcho(0, 9, 3, 4))),
       At(4));
  ASSERT_TRUE(stack_->last_echo_reply().has_value());
  EXPECT_EQ(stack_->last_echo_reply()->seq, 3);
  EXPECT_EQ(stack_->counters().icmp_echo_replies_rx, 1u);
}

TEST_F(NetStackTest, UnansweredArpDropsQueuedDatagrams) {
  ASSERT_TRUE(stack_->SendEchoRequest(At(0), kPeerIp, 9, 1, 4));
  EXPECT_EQ(TakeSent().size(), 42u);  // ARP request
  for (int64_t ms = 100; ms <= 4000; ms += 100) stack_->Poll(At(ms));
  EXPECT_EQ(TakeSent().size(), 42u);  // retry at 1 s
  EXPECT_EQ(TakeSent().size(), 42u);  // retry at 2 s
  ExpectNothingSent();
  ExpectDropped(Drop::kArpUnresolved);
}

TEST_F(NetStackTest, OffLinkGoesViaGatewayOrIsRefused) {
  ASSERT_TRUE(stack_->SendEchoRequest(At(0), kFarIp, 1, 1, 0));
  ExpectNothingSent();
  ExpectDropped(Drop::kNoRoute);

  NetConfig c = stack_->config();
  c.gateway = kGwIp;
  Reset(c);
  ASSERT_TRUE(stack_->SendEchoRequest(At(0), kFarIp, 1, 1, 0));
  ExpectSent(testing::ArpFrame(1, MacAddr::Broadcast(), kOurMac, kOurIp, MacAddr{}, kGwIp));
  Send(testing::ArpFrame(2, kOurMac, kGwMac, kGwIp, kOurMac, kOurIp));
  Bytes f = TakeSent();
  ASSERT_EQ(f.size(), 42u);
  EXPECT_EQ(Bytes(f.begin(), f.begin() + 14), EthHeader(kGwMac, kOurMac, 0x0800));
  EXPECT_EQ(Bytes(f.begin() + 30, f.begin() + 34), (Bytes{198, 19, 7, 7}));
}

TEST_F(NetStackTest, FullOutboxIsBackPressureWithACounter) {
  NetConfig c = stack_->config();
  c.outbox_capacity = 2;
  Reset(c);
  for (int i = 0; i < 5; ++i) Send(PingFrame(1, static_cast<uint16_t>(i), 8));
  EXPECT_EQ(stack_->outbox().size(), 2u);
  ExpectDropped(Drop::kTxQueueFull, 3);
}

// A range of local addresses (NetConfig::local_count): each is announced, answered by ARP with itself as
// the sender, accepted as a destination (the one past the range is not) and answers pings from itself;
// a frame claiming any of them as its source is refused; the count is clamped to the prefix.
TEST_F(NetStackTest, EveryAddressOfALocalRangeIsOurs) {
  NetConfig c;
  c.local = Ipv4Prefix{kOurIp, 24};  // .2, .3, .4
  c.mac = kOurMac;
  c.local_count = 3;
  Reset(c);
  const Ipv4Addr last = Ipv4Addr::Of(198, 18, 0, 4);
  const Ipv4Addr past = Ipv4Addr::Of(198, 18, 0, 5);
  EXPECT_EQ(stack_->local_count(), 3u);
  EXPECT_TRUE(stack_->IsLocal(kOurIp));
  EXPECT_TRUE(stack_->IsLocal(last));
  EXPECT_FALSE(stack_->IsLocal(past));
  EXPECT_FALSE(stack_->IsLocal(kPeerIp));  // .1: below the range
  stack_->Start(At(0));
  for (uint8_t i = 2; i <= 4; ++i) {
    const Ipv4Addr a = Ipv4Addr::Of(198, 18, 0, i);
    ExpectSent(testing::ArpFrame(1, MacAddr::Broadcast(), kOurMac, a, MacAddr{}, a));
  }
  ExpectNothingSent();
  Send(testing::ArpFrame(1, MacAddr::Broadcast(), kPeerMac, kPeerIp, MacAddr{}, last));
  ExpectSent(testing::ArpFrame(2, kPeerMac, kOurMac, last, kPeerMac, kPeerIp));
  Send(testing::ArpFrame(1, MacAddr::Broadcast(), kPeerMac, kPeerIp, MacAddr{}, past));
  ExpectNothingSent();
  Send(PingFrame(9, 1, 8, last));
  Bytes reply = TakeSent();
  ASSERT_EQ(reply.size(), 14u + 20u + 8u + 8u);
  EXPECT_EQ(Bytes(reply.begin() + 26, reply.begin() + 30), (Bytes{198, 18, 0, 4}))
      << "the reply comes from the address pinged";
  Send(PingFrame(9, 2, 8, past));
  ExpectNothingSent();
  testing::TcpFields f;
  f.flags = 0x02;
  Send(Concat(EthHeader(kOurMac, kPeerMac, 0x0800),
              testing::Ipv4(kPeerIp, last, testing::Tcp(kPeerIp, last, f), {.protocol = 6})));
  EXPECT_EQ(last_.kind, Delivery::Kind::kTcp);
  Send(Concat(EthHeader(kOurMac, kPeerMac, 0x0800),
              testing::Ipv4(last, kOurIp, testing::Tcp(last, kOurIp, f), {.protocol = 6})));
  EXPECT_EQ(last_.kind, Delivery::Kind::kNone);
  EXPECT_EQ(stack_->counters().dropped(Drop::kIpBadSource), 1u);
  EXPECT_EQ(stack_->counters().dropped(Drop::kIpNotForUs), 1u);
  EXPECT_EQ(stack_->counters().dropped(Drop::kArpNotForUs), 1u);
  // Clamped: never past the prefix's last host address, never more than kMaxLocalAddresses.
  c.local = Ipv4Prefix{Ipv4Addr::Of(198, 18, 0, 250), 24};
  c.local_count = 10;
  Reset(c);
  EXPECT_EQ(stack_->local_count(), 5u);  // .250 .. .254
  EXPECT_TRUE(stack_->IsLocal(Ipv4Addr::Of(198, 18, 0, 254)));
  EXPECT_FALSE(stack_->IsLocal(Ipv4Addr::Of(198, 18, 0, 255)));
  c.local = Ipv4Prefix{Ipv4Addr::Of(198, 18, 0, 1), 16};
  c.local_count = 100000;
  Reset(c);
  EXPECT_EQ(stack_->local_count(), kMaxLocalAddresses);
  c.local_count = 0;
  Reset(c);
  EXPECT_EQ(stack_->local_count(), 1u);
}

}  // namespace
}  // namespace synack
