// TcpLayer with the test as its peer on the wire (tests/wire_peer.h): real frames in, the frames the
// layer sends parsed back out, real mbufs throughout and every one back in its pool at the end.
#include <set>
#include <type_traits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rte_mempool.h>

#include "lib/core/tcp_layer.h"
#include "tests/eal_env.h"
#include "tests/frames.h"
#include "tests/tcp_layer_peer.h"
#include "tests/wire_peer.h"

namespace synack {
namespace {

using namespace tcp_flags;
using testing::Bytes;
using testing::SentSegment;
using testing::TcpFields;
using testing::WirePeer;

// The options type moved to listener_table.h; code that names it through TcpLayer still compiles.
static_assert(std::is_same_v<TcpLayer::ConnOptions, ConnOptions>);

constexpr uint16_t kPort = 80;
constexpr uint16_t kPeerPort = 40000;

TcpLayerConfig SmallConfig() {
  TcpLayerConfig c;
  c.max_connections = 64;
  c.max_time_wait = 64;
  c.isn_key.fill(7);
  c.tcp.timestamps = false;
  c.tcp.sack_permitted = false;
  c.tcp.window_scale = 0;
  return c;
}

TcpFields Fields(uint8_t flags, uint32_t seq, uint32_t ack = 0, uint16_t window = 65535,
                 uint16_t src_port = kPeerPort) {
  return testing::PeerFields(kPort, flags, seq, ack, window, src_port);
}

class TcpLayerTest : public ::testing::Test {
 protected:
  void SetUp() override { pool_in_use_ = rte_mempool_in_use_count(testing::TestPool()); }
  void TearDown() override {
    if (peer_) {
      peer_->DropSent();
      peer_.reset();
    }
    EXPECT_EQ(rte_mempool_in_use_count(testing::TestPool()), pool_in_use_) << "mbufs leaked";
  }
  void Start(const TcpLayerConfig& c = SmallConfig()) {
    peer_.emplace(c);
    ASSERT_TRUE(peer_->tcp().Listen(kPort).ok());
  }
  // Handshake from the peer (ISN `peer_isn`): returns our ISS and the accepted connection.
  std::pair<uint32_t, ConnId> Open(uint32_t peer_isn, const Bytes& syn_options = {},
                                   Ipv4Addr src = testing::kWirePeerIp, uint16_t src_port = kPeerPort) {
    TcpFields syn = Fields(kSyn, peer_isn, 0, 65535, src_port);
    syn.options = syn_options;
    peer_->Inject(syn, {}, src);
    std::optional<SentSegment> synack = peer_->SentOne();
    EXPECT_TRUE(synack && synack->seg.flags == (kSyn | kAck));
    if (!synack) return {0, ConnId{}};
    const uint32_t iss = synack->seg.seq.raw();
    peer_->Inject(Fields(kAck, peer_isn + 1, iss + 1, 65535, src_port), {}, src);
    ConnId id{};
    for (const Event& e : peer_->Events()) {
      if (e.type == EventType::kAccepted) id = e.conn;
    }
    EXPECT_EQ(peer_->tcp().State(id), TcpState::kEstablished);
    return {iss, id};
  }

  // The server closes `id` first and the peer answers with ACK and FIN: a compact TIME-WAIT entry.
  void CloseFromServer(ConnId id, uint32_t iss, uint32_t peer_isn, uint16_t src_port) {
    peer_->tcp().Close(id);
    std::optional<SentSegment> fin = peer_->SentOne();
    ASSERT_TRUE(fin && fin->seg.fin());
    peer_->Inject(Fields(kAck | kFin, peer_isn + 1, iss + 2, 65535, src_port));
    ASSERT_EQ(peer_->SentOne()->seg.flags, kAck);
  }
  // A server whose TIME-WAIT ring (kMaxRotate + 2 slots) is full after as many server-closed
  // connections; the peer then reopens one 4-tuple, ending its entry and leaving a hole `live_before`
  // entries behind the head, and the new connection closes first too.
  void FillTimeWaitThenReopen(uint32_t live_before) {
    constexpr uint32_t kSlots = TimeWaitStore::kMaxRotate + 2;
    TcpLayerConfig c = SmallConfig();
    c.max_connections = 2 * kSlots;
    c.max_time_wait = kSlots;
    Start(c);
    for (uint32_t i = 0; i < kSlots; ++i) {
      const uint16_t port = static_cast<uint16_t>(kPeerPort + i);
      auto [iss, id] = Open(5000, {}, testing::kWirePeerIp, port);
      CloseFromServer(id, iss, 5000, port);
    }
    ASSERT_EQ(peer_->tcp().time_wait().size(), kSlots);
    ASSERT_TRUE(peer_->tcp().time_wait().full());
    peer_->Advance(Duration::Seconds(2));
    const uint16_t port = static_cast<uint16_t>(kPeerPort + live_before);
    auto [iss, id] = Open(900000, {}, testing::kWirePeerIp, port);  // above the old RCV.NXT: reopened
    ASSERT_EQ(peer_->tcp().counters().time_wait_reused, 1u);
    CloseFromServer(id, iss, 900000, port);
    EXPECT_EQ(peer_->tcp().counters().time_wait_full, 0u) << "stored compactly, no full record kept";
    EXPECT_EQ(peer_->tcp().connections(), 0u);
    EXPECT_EQ(TcpLayerTestPeer::PeerRefsTotal(peer_->tcp()),
              peer_->tcp().connections() + peer_->tcp().time_wait_entries());
  }

  // One connection record, no cookies (a second SYN finds the table full while the record is taken),
  // and a connection open in it.
  std::pair<uint32_t, ConnId> StartWithOneRecordAndOpen() {
    TcpLayerConfig c = SmallConfig();
    c.max_connections = 1;
    c.syn_cookies = SynCookieMode::kOff;
    Start(c);
    return Open(5000);
  }

  std::optional<WirePeer> peer_;
  unsigned pool_in_use_ = 0;
};

// A SYN whose TCP checksum is wrong: dropped and counted, unless the layer trusts received checksums
// (the loopback ring pair: frames that never left memory, sent without a checksum).
void InjectSynWithBadChecksum(WirePeer& peer) {
  testing::IpOpts o;
  o.protocol = 6;
  Bytes tcp = testing::Tcp(testing::kWirePeerIp, testing::kWireOurIp, Fields(kSyn, 7000), {});
  tcp[16] ^= 0x5a;  // the checksum field
  peer.InjectFrame(testing::Concat(testing::EthHeader(testing::kWireOurMac, testing::kWirePeerMac, 0x0800),
                                   testing::Ipv4(testing::kWirePeerIp, testing::kWireOurIp, tcp, o)));
}

TEST_F(TcpLayerTest, BadTcpChecksumIsDroppedUnlessReceivedChecksumsAreTrusted) {
  Start();
  InjectSynWithBadChecksum(*peer_);
  EXPECT_TRUE(peer_->Sent().empty());
  EXPECT_EQ(peer_->stack().counters().dropped(Drop::kTcpBadChecksum), 1u);
  peer_->DropSent();
  peer_.reset();

  TcpLayerConfig trusted = SmallConfig();
  trusted.rx_cksum_trusted = true;
  Start(trusted);
  InjectSynWithBadChecksum(*peer_);
  std::optional<SentSegment> synack = peer_->SentOne();
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->seg.flags, kSyn | kAck);
  EXPECT_EQ(peer_->stack().counters().dropped(Drop::kTcpBadChecksum), 0u);
}

TEST_F(TcpLayerTest, TimeWaitStoreFullOfLiveEntriesEndsTheOldestInsteadOfKeepingARecord) {
  // Four TIME-WAIT slots, five server-closed connections: the fifth ends the first one's TIME-WAIT
  // early rather than staying in the connection table as a full record for 2*MSL (a table that a
  // client closing connections quickly enough could otherwise fill, so that no new one is accepted).
  TcpLayerConfig c = SmallConfig();
  c.max_time_wait = 4;
  Start(c);
  for (uint16_t i = 0; i < 5; ++i) {
    const uint16_t port = static_cast<uint16_t>(kPeerPort + i);
    auto [iss, id] = Open(5000, {}, testing::kWirePeerIp, port);
    CloseFromServer(id, iss, 5000, port);
    EXPECT_EQ(peer_->tcp().connections(), 0u) << i;
  }
  const TcpLayerCounters& counters = peer_->tcp().counters();
  EXPECT_EQ(counters.time_wait_evicted, 1u);
  EXPECT_EQ(counters.time_wait_full, 0u);
  EXPECT_EQ(counters.time_wait_rotated, 0u);
  EXPECT_EQ(peer_->tcp().time_wait_entries(), 4u);
  EXPECT_EQ(TcpLayerTestPeer::PeerRefsTotal(peer_->tcp()), 4u);
  // The first port's TIME-WAIT is gone: any SYN opens it again; the second's still answers an old SYN
  // with an ACK.
  peer_->Inject(Fields(kSyn, 100, 0, 65535, kPeerPort));
  std::optional<SentSegment> synack = peer_->SentOne();
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->seg.flags, kSyn | kAck);
  peer_->Inject(Fields(kSyn, 100, 0, 65535, kPeerPort + 1));
  std::optional<SentSegment> ack = peer_->SentOne();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->seg.flags, kAck);
}

TEST_F(TcpLayerTest, FullTimeWaitRingRotatesToAHoleWithinReach) {
  ASSERT_NO_FATAL_FAILURE(FillTimeWaitThenReopen(TimeWaitStore::kMaxRotate));  // 64 live entries before the hole
  const TcpLayerCounters& c = peer_->tcp().counters();
  EXPECT_EQ(c.time_wait_rotated, TimeWaitStore::kMaxRotate);
  EXPECT_EQ(c.time_wait_evicted, 0u);
  EXPECT_EQ(peer_->tcp().time_wait_entries(), TimeWaitStore::kMaxRotate + 2);
  EXPECT_EQ(peer_->tcp().tcp_counters().phases.time_wait.count(), 1u);  // the reopened one only
}

TEST_F(TcpLayerTest, FullTimeWaitRingEvictsWhenTheHoleIsOutOfReach) {
  ASSERT_NO_FATAL_FAILURE(FillTimeWaitThenReopen(TimeWaitStore::kMaxRotate + 1));  // 65 live entries before the hole
  const TcpLayerCounters& c = peer_->tcp().counters();
  EXPECT_EQ(c.time_wait_rotated, TimeWaitStore::kMaxRotate);
  EXPECT_EQ(c.time_wait_evicted, 1u);
  EXPECT_EQ(peer_->tcp().time_wait_entries(), TimeWaitStore::kMaxRotate + 1);
  EXPECT_EQ(peer_->tcp().tcp_counters().phases.time_wait.count(), 2u);  // reopened and evicted
  // The evicted entry was the oldest not rotated (the peer's 65th port): a SYN below its old RCV.NXT
  // opens a connection, while on the first port, still in TIME-WAIT, it does not.
  peer_->Inject(Fields(kSyn, 100, 0, 65535, kPeerPort + TimeWaitStore::kMaxRotate));
  std::optional<SentSegment> synack = peer_->SentOne();
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->seg.flags, kSyn | kAck);
  peer_->Inject(Fields(kSyn, 100, 0, 65535, kPeerPort));
  std::optional<SentSegment> answer = peer_->SentOne();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->seg.flags, kAck) << "TIME-WAIT answers an old SYN with an ACK";
  EXPECT_EQ(c.time_wait_reused, 1u);
}

// RFC 1122 4.2.2.13: a SYN that reopens a connection from TIME-WAIT gets an ISS above the old
// incarnation's sequence space — here the server (passive side) closed first and holds TIME-WAIT.
TEST_F(TcpLayerTest, SynReopeningCompactTimeWaitGetsIssAboveOldSndNxt) {
  Start();
  auto [iss, id] = Open(5000);
  peer_->tcp().Close(id);  // server closes first: FIN
  std::optional<SentSegment> fin = peer_->SentOne();
  ASSERT_TRUE(fin && fin->seg.fin());
  peer_->Inject(Fields(kAck | kFin, 5001, iss + 2));  // ACK of our FIN plus the peer's FIN
  ASSERT_EQ(peer_->SentOne()->seg.flags, kAck);
  ASSERT_EQ(peer_->tcp().time_wait_entries(), 1u);  // compact entry: the app had closed
  peer_->Advance(Duration::Seconds(2));
  peer_->Inject(Fields(kSyn, 900000));  // above the old RCV.NXT: TIME-WAIT ends
  std::optional<SentSegment> synack = peer_->SentOne();
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->seg.flags, kSyn | kAck);
  EXPECT_EQ(synack->seg.seq, SeqNum(iss + 2 + kTimeWaitReopenIssGap));
  EXPECT_EQ(peer_->tcp().counters().time_wait_reused, 1u);
  // The compact entry's TIME-WAIT ended with the SYN, two seconds in (TcpPhases::time_wait).
  const LogHistogram& residency = peer_->tcp().tcp_counters().phases.time_wait;
  EXPECT_EQ(residency.count(), 1u);
  EXPECT_GE(residency.sum_us, 2'000'000u);
  EXPECT_LT(residency.sum_us, 2'100'000u);
}

TEST_F(TcpLayerTest, SynReopeningFullRecordTimeWaitGetsIssAboveOldSndNxt) {
  Start();
  auto [iss, id] = Open(5000);
  peer_->tcp().Shutdown(id);  // FIN, but the app keeps the connection: TIME-WAIT stays a full record
  ASSERT_TRUE(peer_->SentOne()->seg.fin());
  peer_->Inject(Fields(kAck | kFin, 5001, iss + 2));
  peer_->Sent();
  ASSERT_EQ(peer_->tcp().State(id), TcpState::kTimeWait);
  ASSERT_EQ(peer_->tcp().time_wait_entries(), 0u);
  peer_->Inject(Fields(kSyn, 900000));
  std::optional<SentSegment> synack = peer_->SentOne();
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->seg.flags, kSyn | kAck);
  EXPECT_EQ(synack->seg.seq, SeqNum(iss + 2 + kTimeWaitReopenIssGap));
  EXPECT_EQ(peer_->tcp().tcp_counters().phases.time_wait.count(), 1u) << "the full record's TIME-WAIT ended";
}

// CVE-2016-5696: with one engine-wide challenge-ACK budget, an off-path attacker could spend part of
// it on a guessed 4-tuple (spoofed in-window RSTs) and count how many challenge ACKs its own connection
// still draws: fewer means the guessed connection exists. With the per-connection limit (and the
// randomised engine budget) the attacker's count is the same whether the victim exists or not.
TEST_F(TcpLayerTest, ChallengeAckCountsDoNotRevealOtherConnections) {
  const Ipv4Addr victim_ip = Ipv4Addr::Of(198, 18, 0, 9);
  constexpr uint16_t kVictimPort = 40001;
  auto run = [&](bool victim_exists) -> std::pair<size_t, size_t> {
    Start();
    Open(5000);  // the attacker's own connection
    if (victim_exists) Open(70000, {}, victim_ip, kVictimPort);
    peer_->Sent();
    // 500 spoofed RSTs in the victim's window (not at RCV.NXT), then 1,500 on the attacker's own.
    for (int i = 0; i < 500; ++i) peer_->Inject(Fields(kRst, 70000 + 1 + 100 + i, 0, 0, kVictimPort), {}, victim_ip);
    for (int i = 0; i < 1500; ++i) peer_->Inject(Fields(kRst, 5000 + 1 + 100 + i));
    size_t to_attacker = 0, to_victim = 0;
    for (const SentSegment& s : peer_->Sent()) {
      if (s.seg.flags != kAck) continue;
      (s.dst == victim_ip ? to_victim : to_attacker) += 1;
    }
    peer_->DropSent();
    peer_.reset();
    return {to_attacker, to_victim};
  };
  const auto [with_victim, victim_acks] = run(true);
  const auto [without_victim, no_victim_acks] = run(false);
  EXPECT_EQ(with_victim, without_victim);
  EXPECT_EQ(with_victim, 1u);  // one per connection per challenge_ack_interval
  EXPECT_EQ(victim_acks, 1u);
  EXPECT_EQ(no_victim_acks, 0u);
}

TEST_F(TcpLayerTest, OrphansBeyondTheLimitAreReset) {
  TcpLayerConfig c = SmallConfig();
  c.max_orphans = 2;
  Start(c);
  std::vector<std::pair<uint32_t, ConnId>> conns;
  for (uint16_t i = 0; i < 3; ++i) conns.push_back(Open(1000 + i * 100000, {}, testing::kWirePeerIp, kPeerPort + i));
  peer_->tcp().Close(conns[0].second);
  peer_->tcp().Close(conns[1].second);
  EXPECT_EQ(peer_->tcp().orphans(), 2u);
  std::vector<SentSegment> fins = peer_->Sent();
  ASSERT_EQ(fins.size(), 2u);
  EXPECT_TRUE(fins[0].seg.fin() && fins[1].seg.fin());
  peer_->tcp().Close(conns[2].second);  // a third orphan: reset instead
  std::optional<SentSegment> rst = peer_->SentOne();
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->seg.flags, kRst);
  EXPECT_EQ(peer_->tcp().counters().orphans_reset, 1u);
  EXPECT_EQ(peer_->tcp().orphans(), 2u);
  // The first orphan finishes (the peer ACKs our FIN and sends its own): room for one more.
  peer_->Inject(Fields(kAck | kFin, 1001, conns[0].first + 2, 65535, kPeerPort));
  peer_->Sent();
  EXPECT_EQ(peer_->tcp().orphans(), 1u);
  EXPECT_EQ(peer_->tcp().time_wait_entries(), 1u);
}

// A full connection table hands out no SYN-ACKs — not even cookies — and a cookie ACK that finds the
// table full gets a RST: no client believes in a connection that does not exist.
TEST_F(TcpLayerTest, FullTableAnswersNoSynAndResetsCookieAcks) {
  TcpLayerConfig c = SmallConfig();
  c.max_connections = 2;
  c.syn_cookies = SynCookieMode::kAlways;
  Start(c);
  Open(1000, {}, testing::kWirePeerIp, kPeerPort);
  // A third client's SYN while one record is still free: a cookie SYN-ACK.
  peer_->Inject(Fields(kSyn, 3000, 0, 65535, kPeerPort + 2));
  std::optional<SentSegment> cookie = peer_->SentOne();
  ASSERT_TRUE(cookie && cookie->seg.flags == (kSyn | kAck));
  Open(2000, {}, testing::kWirePeerIp, kPeerPort + 1);  // takes the last record
  ASSERT_EQ(peer_->tcp().connections(), 2u);
  // The cookie's ACK arrives: no room, RST.
  peer_->Inject(Fields(kAck, 3001, cookie->seg.seq.raw() + 1, 65535, kPeerPort + 2));
  std::optional<SentSegment> rst = peer_->SentOne();
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->seg.flags, kRst);
  EXPECT_EQ(rst->seg.seq, cookie->seg.seq + 1);
  EXPECT_EQ(peer_->tcp().counters().cookie_ack_table_full, 1u);
  // New SYNs get nothing at all while the table is full.
  peer_->Inject(Fields(kSyn, 4000, 0, 65535, kPeerPort + 3));
  EXPECT_TRUE(peer_->Sent().empty());
  EXPECT_EQ(peer_->tcp().counters().syn_table_full, 1u);
  EXPECT_EQ(peer_->tcp().counters().cookies_sent, 3u);
}

// Application timeouts (what a server needs against slowloris): a deadline from now, and an idle
// timeout that payload in either direction pushes back.
TEST_F(TcpLayerTest, SetTimeoutResetsAnOpenConnectionAtItsDeadline) {
  Start();
  auto [iss, id] = Open(5000);
  peer_->tcp().SetTimeout(id, Duration::Seconds(10));
  peer_->Inject(Fields(kAck | kPsh, 5001, iss + 1), Bytes(5, 'G'));  // data does not move a deadline
  peer_->Advance(Duration::Seconds(10) - Duration::Milliseconds(2));
  peer_->Sent();
  EXPECT_EQ(peer_->tcp().State(id), TcpState::kEstablished);
  peer_->Advance(Duration::Milliseconds(4));  // the deadline, within the wheel's 1 ms tick
  std::vector<SentSegment> sent = peer_->Sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].seg.flags, kRst);
  bool closed = false;
  for (const Event& e : peer_->Events()) {
    if (e.type == EventType::kClosed && e.conn == id) closed = e.error == TcpError::kTimedOut;
  }
  EXPECT_TRUE(closed);
  EXPECT_EQ(peer_->tcp().counters().app_timeouts, 1u);
}

TEST_F(TcpLayerTest, ClearedTimeoutDoesNotFire) {
  Start();
  auto [iss, id] = Open(5000);
  peer_->tcp().SetTimeout(id, Duration::Seconds(1));
  peer_->tcp().SetTimeout(id, Duration());
  peer_->Advance(Duration::Seconds(5));
  EXPECT_EQ(peer_->tcp().State(id), TcpState::kEstablished);
  EXPECT_EQ(peer_->tcp().counters().app_timeouts, 0u);
}

TEST_F(TcpLayerTest, IdleTimeoutIsPushedBackByPayloadAndFiresWhenIdle) {
  Start();
  auto [iss, id] = Open(5000);
  peer_->tcp().SetIdleTimeout(id, Duration::Seconds(5));
  uint32_t seq = 5001;
  for (int i = 0; i < 4; ++i) {  // a byte every 3 s keeps it alive for 12 s
    peer_->Advance(Duration::Seconds(3));
    peer_->Inject(Fields(kAck | kPsh, seq, iss + 1), Bytes(1, 'x'));
    seq += 1;
    ASSERT_EQ(peer_->tcp().State(id), TcpState::kEstablished) << i;
  }
  peer_->Sent();
  peer_->Advance(Duration::Seconds(5) - Duration::Milliseconds(2));
  EXPECT_EQ(peer_->tcp().State(id), TcpState::kEstablished);
  peer_->Advance(Duration::Milliseconds(4));
  EXPECT_EQ(peer_->tcp().State(id), TcpState::kClosed);
  bool rst = false;
  for (const SentSegment& s2 : peer_->Sent()) rst |= s2.seg.rst();
  EXPECT_TRUE(rst);
}

// --- ICMP: path MTU discovery (RFC 1191 with RFC 5927's checks) and hard errors ---------------------

// An ICMP Destination Unreachable from the peer quoting a segment we sent (ports and sequence number).
Bytes IcmpFor(uint8_t code, uint16_t mtu, uint16_t our_port, uint16_t peer_port, uint32_t seq) {
  Bytes tcp8;
  testing::Put16(tcp8, our_port);
  testing::Put16(tcp8, peer_port);
  testing::Put32(tcp8, seq);
  testing::IpOpts quoted_ip;
  quoted_ip.protocol = 6;
  const Bytes quoted = testing::Ipv4(testing::kWireOurIp, testing::kWirePeerIp, tcp8, quoted_ip);
  testing::IpOpts icmp_ip;
  icmp_ip.protocol = 1;
  return testing::Concat(
      testing::EthHeader(testing::kWireOurMac, testing::kWirePeerMac, 0x0800),
      testing::Ipv4(testing::kWirePeerIp, testing::kWireOurIp, testing::IcmpUnreachable(code, mtu, quoted), icmp_ip));
}

TEST_F(TcpLayerTest, FragmentationNeededLowersTheMssAndResendsWhatWasInFlight) {
  Start();
  auto [iss, id] = Open(5000, testing::MssOption(1460));
  ASSERT_EQ(peer_->tcp().Info(id)->snd_mss, 1460);
  std::vector<uint8_t> data(4380, 'd');
  ASSERT_EQ(peer_->tcp().SendCopy(id, ConstBytes(data.data(), data.size())), data.size());
  std::vector<SentSegment> first = peer_->Sent();
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].payload.size(), 1460u);
  // A router with a 1,000-byte next hop returns the first one.
  ASSERT_TRUE(peer_->InjectFrame(IcmpFor(4, 1000, kPort, kPeerPort, iss + 1)));
  EXPECT_EQ(peer_->tcp().Info(id)->snd_mss, 960);
  std::vector<SentSegment> again = peer_->Sent();
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again[0].seg.seq, SeqNum(iss + 1));
  for (const SentSegment& s : again) EXPECT_LE(s.payload.size(), 960u);
  EXPECT_EQ(peer_->tcp().tcp_counters().pmtu_reductions, 1u);
  EXPECT_EQ(peer_->tcp().PathMtu(testing::kWirePeerIp), 1000);
  // A new connection to the same destination starts at the learnt size.
  auto [iss2, id2] = Open(900000, testing::MssOption(1460), testing::kWirePeerIp, kPeerPort + 1);
  EXPECT_EQ(peer_->tcp().Info(id2)->snd_mss, 960);
}

TEST_F(TcpLayerTest, IcmpQuotingASequenceNotInFlightIsIgnored) {
  Start();
  auto [iss, id] = Open(5000, testing::MssOption(1460));
  std::vector<uint8_t> data(1000, 'd');
  peer_->tcp().SendCopy(id, ConstBytes(data.data(), data.size()));
  peer_->Sent();
  for (uint32_t seq : {iss, iss + 1001, iss + 500000}) {  // SND.UNA - 1, SND.NXT, far away
    ASSERT_TRUE(peer_->InjectFrame(IcmpFor(4, 600, kPort, kPeerPort, seq)));
  }
  EXPECT_EQ(peer_->tcp().Info(id)->snd_mss, 1460);
  EXPECT_EQ(peer_->tcp().tcp_counters().icmp_ignored, 3u);
  EXPECT_EQ(peer_->tcp().PathMtu(testing::kWirePeerIp), 0);
  ASSERT_TRUE(peer_->InjectFrame(IcmpFor(4, 600, kPort, kPeerPort + 7, iss + 1)));  // no such connection
  EXPECT_EQ(peer_->tcp().counters().icmp_unmatched, 1u);
  // SND.UNA itself is in flight: accepted (the lower edge).
  ASSERT_TRUE(peer_->InjectFrame(IcmpFor(4, 1200, kPort, kPeerPort, iss + 1)));
  EXPECT_EQ(peer_->tcp().Info(id)->snd_mss, 1160);
}

TEST_F(TcpLayerTest, ForgedTinyMtuIsClampedToTheFloor) {
  Start();
  auto [iss, id] = Open(5000, testing::MssOption(1460));
  std::vector<uint8_t> data(3000, 'd');
  peer_->tcp().SendCopy(id, ConstBytes(data.data(), data.size()));
  peer_->Sent();
  ASSERT_TRUE(peer_->InjectFrame(IcmpFor(4, 68, kPort, kPeerPort, iss + 1)));
  EXPECT_EQ(peer_->tcp().Info(id)->snd_mss, TcpConnection::kMinPathMtu - 40);
}

TEST_F(TcpLayerTest, PortUnreachableFailsAConnectInSynSentAtOnce) {
  Start();
  absl::StatusOr<ConnId> c = peer_->tcp().Connect(testing::kWirePeerIp, 9);
  ASSERT_TRUE(c.ok());
  std::optional<SentSegment> syn = peer_->SentOne();
  ASSERT_TRUE(syn && syn->seg.syn());
  ASSERT_TRUE(peer_->InjectFrame(IcmpFor(3, 0, syn->seg.src_port, 9, syn->seg.seq.raw())));
  bool unreachable = false;
  for (const Event& e : peer_->Events())
    unreachable |= e.type == EventType::kClosed && e.error == TcpError::kUnreachable;
  EXPECT_TRUE(unreachable);
  EXPECT_EQ(peer_->tcp().State(*c), TcpState::kClosed);
  EXPECT_EQ(peer_->tcp().tcp_counters().icmp_hard_errors, 1u);
}

TEST_F(TcpLayerTest, PortUnreachableDoesNotEndAnEstablishedConnection) {  // RFC 5461: soft there
  Start();
  auto [iss, id] = Open(5000);
  std::vector<uint8_t> data(100, 'd');
  peer_->tcp().SendCopy(id, ConstBytes(data.data(), data.size()));
  peer_->Sent();
  ASSERT_TRUE(peer_->InjectFrame(IcmpFor(3, 0, kPort, kPeerPort, iss + 1)));
  EXPECT_EQ(peer_->tcp().State(id), TcpState::kEstablished);
}

TEST_F(TcpLayerTest, EventsCarryTheApplicationsUserData) {
  Start();
  auto [iss, id] = Open(5000);
  peer_->tcp().SetUserData(id, 0xfeedf00du);
  peer_->Inject(Fields(kAck | kPsh, 5001, iss + 1), Bytes(3, 'u'));
  peer_->Inject(Fields(kAck | kFin, 5004, iss + 1));
  std::vector<Event> ev = peer_->Events();
  ASSERT_GE(ev.size(), 2u);
  for (const Event& e : ev) EXPECT_EQ(e.user_data, 0xfeedf00du) << EventName(e.type);
}

// A queued event names its record by index only: a record that dies with events queued is kept from
// reuse until PollEvents has taken them, so kClosed still carries the old ConnId and value, and the
// record's other events (of a connection now gone) are not reported.
TEST_F(TcpLayerTest, ARecordWithQueuedEventsIsNotReusedUntilTheyAreTaken) {
  auto [iss, id] = StartWithOneRecordAndOpen();
  peer_->tcp().SetUserData(id, 77);
  peer_->Inject(Fields(kAck | kPsh, 5001, iss + 1), Bytes(3, 'u'));  // kReadable queued
  peer_->Inject(Fields(kRst, 5004));                                 // kClosed queued, record freed
  peer_->DropSent();
  EXPECT_EQ(peer_->tcp().connections(), 0u);
  EXPECT_EQ(peer_->tcp().State(id), TcpState::kClosed);
  // The only record is retired, not free: a new SYN finds the table full.
  peer_->Inject(Fields(kSyn, 9000, 0, 65535, kPeerPort + 1));
  EXPECT_TRUE(peer_->Sent().empty());
  EXPECT_EQ(peer_->tcp().counters().syn_table_full, 1u);
  std::vector<Event> ev = peer_->Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, EventType::kClosed);
  EXPECT_EQ(ev[0].conn, id);
  EXPECT_EQ(ev[0].error, TcpError::kReset);
  EXPECT_EQ(ev[0].user_data, 77u);
  EXPECT_EQ(ev[0].local_port, kPort);
  // Taken: the record is free again, under a new generation.
  auto [iss2, id2] = Open(9000, {}, testing::kWirePeerIp, kPeerPort + 1);
  EXPECT_EQ(id2.index, id.index);
  EXPECT_NE(id2.generation, id.generation);
  EXPECT_EQ(peer_->tcp().State(id), TcpState::kClosed);
  EXPECT_EQ(peer_->tcp().State(id2), TcpState::kEstablished);
}

// kWritable is queued at most once at a time, as kReadable: a Send that would block again while one
// waits adds none (so a record's queued events stay bounded), and once it is taken the next can come.
TEST_F(TcpLayerTest, AtMostOneWritableEventIsQueuedAtATime) {
  TcpLayerConfig c = SmallConfig();
  c.tcp.snd_buffer = 4000;
  c.tcp.nodelay = true;
  Start(c);
  auto [iss, id] = Open(5000);
  uint32_t acked = iss + 1;
  const std::vector<uint8_t> data(8000, 'w');
  // Fills the send buffer until Send would block, then acknowledges everything sent.
  auto fill_until_blocked_then_ack = [&] {
    for (int i = 0; i < 10 && peer_->tcp().SendCopy(id, ConstBytes(data.data(), data.size())) > 0; ++i) {
    }
    for (const SentSegment& seg : peer_->Sent())
      acked = std::max(acked, seg.seg.seq.raw() + uint32_t(seg.payload.size()));
    peer_->Inject(Fields(kAck, 5001, acked));
    peer_->DropSent();
  };
  auto writable_events = [&] {
    int n = 0;
    for (const Event& e : peer_->Events()) n += e.type == EventType::kWritable;
    return n;
  };
  fill_until_blocked_then_ack();  // kWritable queued
  fill_until_blocked_then_ack();  // would block again, space freed again: nothing more queued
  fill_until_blocked_then_ack();
  EXPECT_EQ(writable_events(), 1);
  fill_until_blocked_then_ack();  // taken: the next one is queued
  EXPECT_EQ(writable_events(), 1);
}

// A record that dies with no event queued (the application closed it first) is free at once.
TEST_F(TcpLayerTest, ARecordWithNoQueuedEventIsFreeAsSoonAsItDies) {
  auto [iss, id] = StartWithOneRecordAndOpen();
  peer_->tcp().Abort(id);  // RST, record freed, no event for the application
  peer_->DropSent();
  EXPECT_TRUE(peer_->Events().empty());
  auto [iss2, id2] = Open(9000, {}, testing::kWirePeerIp, kPeerPort + 1);
  EXPECT_EQ(id2.index, id.index);
  EXPECT_EQ(peer_->tcp().State(id2), TcpState::kEstablished);
}

TEST_F(TcpLayerTest, EventsQueuedBeforeUserDataWasAttachedCarryItWhenPolled) {
  Start();
  auto [iss, id] = Open(5000);
  // Data and FIN are queued before the application attaches its value...
  peer_->Inject(Fields(kAck | kPsh, 5001, iss + 1), Bytes(3, 'u'));
  peer_->Inject(Fields(kAck | kFin, 5004, iss + 1));
  peer_->tcp().SetUserData(id, 42);
  // ...and still carry it when they are polled.
  std::vector<Event> ev = peer_->Events();
  ASSERT_GE(ev.size(), 2u);
  for (const Event& e : ev) EXPECT_EQ(e.user_data, 42u) << EventName(e.type);
}

// Before parsing, an overloaded burst's new SYNs from unknown sources wait for the burst's other frames
// (kDefer) or, beyond the shedder's budget, are dropped unparsed (kShed); everything else — SYNs of
// sources with connections here included — is processed in order. A burst that is not full changes
// nothing.
TEST_F(TcpLayerTest, OverloadedBurstDefersNewSynsAndShedsThoseBeyondTheBudget) {
  Start();
  auto [iss, id] = Open(5000);  // the peer's address is now known here
  const Ipv4Addr stranger = Ipv4Addr::Of(198, 18, 0, 77);
  auto frame = [](Ipv4Addr src, const TcpFields& f) {
    testing::IpOpts o;
    o.protocol = 6;
    return testing::Concat(testing::EthHeader(testing::kWireOurMac, testing::kWirePeerMac, 0x0800),
                           testing::Ipv4(src, testing::kWireOurIp, testing::Tcp(src, testing::kWireOurIp, f), o));
  };
  auto triage = [&](const Bytes& b) { return peer_->tcp().TriageBeforeParse(ConstBytes(b.data(), b.size())); };
  using T = TcpLayer::RxTriage;
  const Bytes syn = frame(stranger, Fields(kSyn, 1, 0, 65535, 50000));
  const Bytes ack = frame(testing::kWirePeerIp, Fields(kAck, 5001, iss + 1));
  peer_->tcp().BeginRxBurst(31, 32);  // one short of full: not overloaded
  EXPECT_EQ(triage(syn), T::kProcess);
  EXPECT_EQ(triage(ack), T::kProcess);
  peer_->tcp().BeginRxBurst(32, 32);  // full: overloaded
  EXPECT_EQ(peer_->tcp().counters().rx_overloaded_bursts, 1u);
  EXPECT_EQ(triage(ack), T::kProcess);
  EXPECT_EQ(triage(frame(testing::kWirePeerIp, Fields(kSyn, 9, 0, 65535, 40001))), T::kProcess);  // a known source
  EXPECT_EQ(peer_->tcp().counters().syn_shed_known, 1u);
  int deferred = 0;
  int shed = 0;
  for (uint16_t i = 0; i < 64; ++i) {
    const T t = triage(frame(stranger, Fields(kSyn, 1000u * i, 0, 65535, static_cast<uint16_t>(50001 + i))));
    EXPECT_NE(t, T::kProcess);
    (t == T::kDefer ? deferred : shed) += 1;
  }
  EXPECT_GE(deferred, 1);
  EXPECT_GE(shed, 1) << "the budget of one burst is below 64 new SYNs";
  EXPECT_EQ(peer_->tcp().counters().syn_shed, static_cast<uint64_t>(shed));
  EXPECT_EQ(triage(ack), T::kProcess) << "segments of known flows are never shed";
  EXPECT_EQ(peer_->tcp().counters().syn_received, 1u) << "triage parses nothing";
}

// With a range of local addresses, active opens take every address in turn with a port before moving to
// the next port, so one server port gets addresses x ports 4-tuples; the answers reach each connection
// at the address it used, and RSTs and SYN-ACKs leave from the address they answer for.
TEST_F(TcpLayerTest, ConnectsSpreadOverEveryLocalAddress) {
  TcpLayerConfig c = SmallConfig();
  c.ephemeral_lo = 40000;
  c.ephemeral_hi = 40001;  // two ports x three addresses: six 4-tuples towards the peer's port 80
  peer_.emplace(c, nullptr, Instant::FromNanoseconds(int64_t{1} << 40), 3);
  std::set<std::pair<uint32_t, uint16_t>> tuples;
  std::vector<std::pair<SentSegment, ConnId>> opened;
  for (int i = 0; i < 6; ++i) {
    absl::StatusOr<ConnId> id = peer_->tcp().Connect(testing::kWirePeerIp, 80, Duration::Seconds(5));
    ASSERT_TRUE(id.ok()) << id.status();
    std::optional<SentSegment> syn = peer_->SentOne();
    ASSERT_TRUE(syn && syn->seg.flags == kSyn);
    EXPECT_TRUE(peer_->stack().IsLocal(syn->src));
    tuples.insert({syn->src.v, syn->seg.src_port});
    opened.push_back({*syn, *id});
  }
  EXPECT_EQ(tuples.size(), 6u) << "every (address, port) pair once";
  EXPECT_FALSE(peer_->tcp().Connect(testing::kWirePeerIp, 80, Duration::Seconds(5)).ok()) << "all six in use";
  EXPECT_EQ(peer_->tcp().Connect(Ipv4Addr::Of(198, 18, 0, 4), 80, Duration::Seconds(5)).status().code(),
            absl::StatusCode::kInvalidArgument)
      << "the last of our own addresses";
  // The SYN-ACK to the third address completes that connection only.
  const auto& [syn, id] = opened[2];
  TcpFields sa = testing::PeerFields(syn.seg.src_port, kSyn | kAck, 7000, syn.seg.seq.raw() + 1, 65535, 80);
  testing::IpOpts o;
  o.protocol = 6;
  peer_->InjectFrame(testing::Concat(
      testing::EthHeader(testing::kWireOurMac, testing::kWirePeerMac, 0x0800),
      testing::Ipv4(testing::kWirePeerIp, syn.src, testing::Tcp(testing::kWirePeerIp, syn.src, sa), o)));
  EXPECT_EQ(peer_->tcp().State(id), TcpState::kEstablished);
  std::optional<SentSegment> ack = peer_->SentOne();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->src, syn.src);
  EXPECT_EQ(peer_->tcp().State(opened[1].second), TcpState::kSynSent);
}

// The burst form gives the verdicts, in order, and the counts that frame-by-frame triage gives.
TEST_F(TcpLayerTest, TriageOfAWholeBurstMatchesFrameByFrame) {
  WirePeer one(SmallConfig());
  WirePeer burst(SmallConfig());
  for (WirePeer* p : {&one, &burst}) ASSERT_TRUE(p->tcp().Listen(kPort).ok());
  auto frame = [](Ipv4Addr src, const TcpFields& f) {
    testing::IpOpts o;
    o.protocol = 6;
    return testing::Concat(testing::EthHeader(testing::kWireOurMac, testing::kWirePeerMac, 0x0800),
                           testing::Ipv4(src, testing::kWireOurIp, testing::Tcp(src, testing::kWireOurIp, f), o));
  };
  std::vector<Bytes> frames;
  for (uint16_t i = 0; i < 48; ++i) {
    const Ipv4Addr src = Ipv4Addr::Of(198, 18, 0, static_cast<uint8_t>(100 + i % 7));
    frames.push_back(i % 5 == 0 ? frame(src, Fields(kAck, 1, 1, 65535, static_cast<uint16_t>(41000 + i)))
                                : frame(src, Fields(kSyn, 77u * i, 0, 65535, static_cast<uint16_t>(41000 + i))));
  }
  std::vector<Mbuf> held;
  std::vector<rte_mbuf*> raw;
  for (const Bytes& b : frames) {
    held.push_back(testing::ToMbuf(testing::TestPool(), b));
    raw.push_back(held.back().get());
  }
  for (int round = 0; round < 3; ++round) {  // three full bursts: the budget shrinks, more is shed
    one.tcp().BeginRxBurst(32, 32);
    burst.tcp().BeginRxBurst(32, 32);
    std::vector<TcpLayer::RxTriage> got(raw.size());
    burst.tcp().TriageBurst(std::span<rte_mbuf* const>(raw.data(), raw.size()), got.data());
    for (size_t i = 0; i < frames.size(); ++i) {
      EXPECT_EQ(got[i], one.tcp().TriageBeforeParse(ConstBytes(frames[i].data(), frames[i].size())))
          << "round " << round << " frame " << i;
    }
  }
  EXPECT_GT(burst.tcp().counters().syn_shed, 0u);
  EXPECT_EQ(burst.tcp().counters().syn_shed, one.tcp().counters().syn_shed);
  EXPECT_EQ(burst.tcp().counters().syn_shed_retransmit, one.tcp().counters().syn_shed_retransmit);
  // Not overloaded: everything is processed.
  burst.tcp().BeginRxBurst(3, 32);
  std::vector<TcpLayer::RxTriage> got(raw.size(), TcpLayer::RxTriage::kShed);
  burst.tcp().TriageBurst(std::span<rte_mbuf* const>(raw.data(), raw.size()), got.data());
  for (TcpLayer::RxTriage t : got) EXPECT_EQ(t, TcpLayer::RxTriage::kProcess);
}

}  // namespace
}  // namespace synack
