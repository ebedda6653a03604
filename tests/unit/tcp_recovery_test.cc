// Congestion control, loss recovery and the receiver's rules for a lossy network, with exact segments:
// slow start, fast retransmit and NewReno partial ACKs, SACK hole-only retransmission, the RTO loss
// window with go-back-N, restart after idle; reassembly with SACK and D-SACK blocks, PAWS, the
// TS.Recent rule, TSecr 0, delayed and quick ACKs, and RFC 6298 5.7.
#include <gtest/gtest.h>

#include "lib/tcp/connection.h"
#include "lib/tcp/tcp_header.h"
#include "tests/unit/tcp_fixture.h"

namespace synack {
namespace {

using namespace tcp_flags;
using namespace tcp_test;

constexpr uint32_t kMss = 1000;

class RecoveryTest : public TcpTest {
 protected:
  // ESTABLISHED with a peer MSS of 1000 (so IW10 = 10 segments) and, optionally, SACK.
  void Establish(bool sack) {
    config_.sack_permitted = sack;
    config_.congestion = CongestionAlgorithm::kNewReno;  // ssthresh = flight / 2 (CUBIC: 0.7 cwnd)
    config_.rcv_buffer = 64 * 1024;
    TcpSegment syn = Seg(kSyn, kPeerIss);
    syn.options.mss = kMss;
    syn.options.sack_permitted = sack;
    EstablishPassiveFrom(syn);
    ASSERT_EQ(conn_->snd_mss(), kMss);
    ASSERT_EQ(conn_->cc().cwnd, 10 * kMss);
  }
  void Write(uint32_t n) {
    App([n](TcpConnection& c, Instant now, TcpOutput& out) { c.Send(now, n, out); });
  }
  // What we sent since the last call, as (seq offset from ISS+1, length) pairs.
  std::vector<std::pair<uint32_t, uint32_t>> Took() {
    std::vector<std::pair<uint32_t, uint32_t>> v;
    for (const OutSegment& o : sent_) {
      if (o.seg.payload_len > 0) v.emplace_back(o.seg.seq.raw() - (kIss + 1), o.seg.payload_len);
    }
    sent_.clear();
    return v;
  }
  TcpSegment Ack(uint32_t acked, std::initializer_list<std::pair<uint32_t, uint32_t>> sacks = {}) {
    TcpSegment s = Seg(kAck, kPeerIss + 1, kIss + 1 + acked);
    for (const auto& [l, r] : sacks)
      s.options.sack[s.options.sack_count++] = SackBlock{SeqNum(kIss + 1 + l), SeqNum(kIss + 1 + r)};
    return s;
  }
  using Segs = std::vector<std::pair<uint32_t, uint32_t>>;
};

// --- Sender -----------------------------------------------------------------------------------------

TEST_F(RecoveryTest, SlowStartSendsTheInitialWindowThenGrowsPerAck) {
  Establish(false);
  Write(40 * kMss);
  EXPECT_EQ(Took().size(), 10u);  // IW10, not the peer's whole window
  Send(Ack(2 * kMss));            // 2 segments acknowledged: cwnd 10 -> 12, flight 8 -> 4 more go
  EXPECT_EQ(conn_->cc().cwnd, 12 * kMss);
  EXPECT_EQ(Took(), (Segs{{10000, 1000}, {11000, 1000}, {12000, 1000}, {13000, 1000}}));
}

TEST_F(RecoveryTest, FastRetransmitOnTheThirdDuplicateAckWithLimitedTransmit) {
  Establish(false);
  Write(40 * kMss);
  Took();
  Send(Ack(0));  // first duplicate: limited transmit lets one new segment out
  EXPECT_EQ(Took(), (Segs{{10000, 1000}}));
  Send(Ack(0));  // second
  EXPECT_EQ(Took(), (Segs{{11000, 1000}}));
  EXPECT_FALSE(conn_->in_recovery());
  Send(Ack(0));  // third: fast retransmit of the first segment, ssthresh = flight / 2
  EXPECT_EQ(Took(), (Segs{{0, 1000}}));
  EXPECT_TRUE(conn_->in_recovery());
  EXPECT_EQ(conn_->cc().ssthresh, 6 * kMss);
  EXPECT_EQ(counters_.fast_recoveries, 1u);
  EXPECT_EQ(counters_.fast_retransmits, 1u);
}

TEST_F(RecoveryTest, TwoDuplicateAcksAreNotALoss) {  // the other side of the edge
  Establish(false);
  Write(40 * kMss);
  Took();
  Send(Ack(0));
  Send(Ack(0));
  Took();
  Send(Ack(12 * kMss));  // the "lost" segment was only reordered
  EXPECT_FALSE(conn_->in_recovery());
  EXPECT_EQ(counters_.fast_recoveries, 0u);
}

TEST_F(RecoveryTest, NewRenoPartialAckRetransmitsTheNextHoleThenFullAckEndsRecovery) {
  Establish(false);
  Write(40 * kMss);
  Took();
  for (int i = 0; i < 3; ++i) Send(Ack(0));
  Took();  // limited transmit x2, fast retransmit of 0
  // Segments 0..2 arrive (the retransmission filled 0), 3 was lost too: a partial ACK.
  Send(Ack(3 * kMss));
  Segs after_partial = Took();
  ASSERT_FALSE(after_partial.empty());
  EXPECT_EQ(after_partial[0], (std::pair<uint32_t, uint32_t>{3000, 1000}));
  EXPECT_TRUE(conn_->in_recovery());
  // Everything up to the recovery point (12 segments) acknowledged: out of recovery at ssthresh.
  Send(Ack(12 * kMss));
  EXPECT_FALSE(conn_->in_recovery());
  EXPECT_EQ(conn_->cc().cwnd, conn_->cc().ssthresh);
}

TEST_F(RecoveryTest, SackRecoveryRetransmitsOnlyTheHoles) {
  Establish(true);
  Write(40 * kMss);
  Took();
  // Segment 0 lost; 1..3 SACKed: more than 2 SMSS SACKed above SND.UNA -> lost (RFC 6675 IsLost).
  Send(Ack(0, {{1000, 4000}}));
  EXPECT_TRUE(conn_->in_recovery());
  Segs first = Took();
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first[0], (std::pair<uint32_t, uint32_t>{0, 1000}));
  // 5..9 SACKed too; 4 is a hole: it goes, 1..3 and 5..9 never do.
  Send(Ack(0, {{5000, 10000}, {1000, 4000}}));
  Segs second = Took();
  Segs all = first;
  all.insert(all.end(), second.begin(), second.end());
  bool hole4 = false;
  for (const auto& [off, len] : all) {
    if (off < 10000) {
      EXPECT_TRUE(off == 0 || off == 4000) << "retransmitted SACKed data at " << off;
    }
    hole4 |= off == 4000;
  }
  EXPECT_TRUE(hole4);
  Send(Ack(10 * kMss));
  EXPECT_EQ(conn_->sacked().count(), 0);
}

TEST_F(RecoveryTest, CubicReducesToSevenTenths) {
  config_.congestion = CongestionAlgorithm::kCubic;
  config_.sack_permitted = false;
  TcpSegment syn = Seg(kSyn, kPeerIss);
  syn.options.mss = kMss;
  EstablishPassiveFrom(syn);
  Write(40 * kMss);
  Took();
  for (int i = 0; i < 3; ++i) Send(Ack(0));
  EXPECT_TRUE(conn_->in_recovery());
  EXPECT_EQ(conn_->cc().ssthresh, 7 * kMss);  // beta 0.7 of the 10-segment window
  EXPECT_EQ(conn_->Info().congestion, CongestionAlgorithm::kCubic);
}

TEST_F(RecoveryTest, BogusSackBlocksAreIgnored) {
  Establish(true);
  Write(5 * kMss);
  Took();
  Send(Ack(0, {{1000, 900000}}));  // beyond SND.NXT
  Send(Ack(0, {{3000, 2000}}));    // inverted
  EXPECT_EQ(conn_->sacked().count(), 0);
  EXPECT_EQ(counters_.sack_blocks_ignored, 2u);
  EXPECT_EQ(conn_->CheckInvariants(), "");
}

TEST_F(RecoveryTest, RtoLossWindowOfOneSegmentThenGoBackN) {
  Establish(false);
  Write(40 * kMss);
  Took();
  const Instant sent_at = now_;
  RunUntil(sent_at + conn_->rto().rto());  // no ACK at all
  EXPECT_EQ(Took(), (Segs{{0, 1000}}));    // cwnd = 1 SMSS: only the first segment
  EXPECT_EQ(conn_->cc().cwnd, kMss);
  EXPECT_EQ(conn_->cc().ssthresh, 5 * kMss);
  EXPECT_EQ(counters_.rto_recoveries, 1u);
  Send(Ack(1 * kMss));  // slow start: cwnd 2, resend from SND.UNA in order (go-back-N)
  EXPECT_EQ(Took(), (Segs{{1000, 1000}, {2000, 1000}}));
  Send(Ack(3 * kMss));
  EXPECT_EQ(Took(), (Segs{{3000, 1000}, {4000, 1000}, {5000, 1000}, {6000, 1000}}));
  EXPECT_TRUE(conn_->in_recovery());
  Send(Ack(10 * kMss));  // past the recovery point: new data again
  EXPECT_FALSE(conn_->in_recovery());
  Segs next = Took();
  ASSERT_FALSE(next.empty());
  EXPECT_EQ(next[0].first, 10000u);
}

TEST_F(RecoveryTest, RtoGoBackNSkipsWhatThePeerSacked) {
  Establish(true);
  Write(10 * kMss);
  Took();
  Send(Ack(0, {{3000, 6000}}));  // 3000 bytes SACKed: loss of 0 detected, fast retransmit
  Took();
  RunUntil(now_ + conn_->rto().rto());  // and still nothing: RTO
  EXPECT_EQ(Took(), (Segs{{0, 1000}}));
  Send(Ack(1000, {{3000, 6000}}));
  EXPECT_EQ(Took(), (Segs{{1000, 1000}, {2000, 1000}}));
  Send(Ack(3000, {{3000, 6000}}));
  Segs after = Took();
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(after[0].first, 6000u);  // 3..5 were SACKed: skipped
}

TEST_F(RecoveryTest, RestartAfterIdleFallsBackToTheInitialWindow) {
  Establish(false);
  Write(30 * kMss);
  Took();
  for (uint32_t acked = 2; acked <= 30; acked += 2) {
    Send(Ack(acked * kMss));
    Took();
  }
  ASSERT_GT(conn_->cc().cwnd, 20 * kMss);
  Advance(Duration::Seconds(5));  // idle for longer than the RTO
  Write(40 * kMss);
  EXPECT_EQ(Took().size(), 10u);
}

// --- Receiver ---------------------------------------------------------------------------------------

TEST_F(RecoveryTest, OutOfOrderDataIsKeptSackedAndJoinedWhenTheGapFills) {
  Establish(true);
  Send(Seg(kAck | kPsh, kPeerIss + 1 + 1000, kIss + 1, 65535, 1000));  // a gap of 1000 before it
  EXPECT_EQ(out_.ooo_len, 1000u);
  EXPECT_EQ(out_.ooo_seq, SeqNum(kPeerIss + 1 + 1000));
  EXPECT_EQ(delivered_, 0u);
  OutSegment got = TakeSent();  // at once, with a SACK block
  EXPECT_EQ(got.seg.ack, SeqNum(kPeerIss + 1));
  ASSERT_EQ(got.seg.options.sack_count, 1);
  EXPECT_EQ(got.seg.options.sack[0], (SackBlock{SeqNum(kPeerIss + 1001), SeqNum(kPeerIss + 2001)}));
  // The gap fills: both parts are in order now, ACKed at once, no SACK blocks left.
  Send(Seg(kAck | kPsh, kPeerIss + 1, kIss + 1, 65535, 1000));
  EXPECT_EQ(delivered_, 1000u);
  EXPECT_TRUE(out_.ooo_ready);
  EXPECT_EQ(out_.ooo_join_from, SeqNum(kPeerIss + 1001));
  EXPECT_EQ(out_.ooo_join_to, SeqNum(kPeerIss + 2001));
  EXPECT_EQ(conn_->rcv_nxt(), SeqNum(kPeerIss + 2001));
  EXPECT_EQ(conn_->unread(), 2000u);
  got = TakeSent();
  EXPECT_EQ(got.seg.ack, SeqNum(kPeerIss + 2001));
  EXPECT_EQ(got.seg.options.sack_count, 0);
}

TEST_F(RecoveryTest, FirstSackBlockHoldsTheMostRecentSegment) {
  Establish(true);
  Send(Seg(kAck, kPeerIss + 1 + 3000, kIss + 1, 65535, 500));
  Send(Seg(kAck, kPeerIss + 1 + 1000, kIss + 1, 65535, 500));
  sent_.clear();
  Send(Seg(kAck, kPeerIss + 1 + 5000, kIss + 1, 65535, 500));
  OutSegment got = TakeSent();
  ASSERT_EQ(got.seg.options.sack_count, 3);
  EXPECT_EQ(got.seg.options.sack[0].left, SeqNum(kPeerIss + 1 + 5000));  // most recent first
  EXPECT_EQ(got.seg.options.sack[1].left, SeqNum(kPeerIss + 1 + 3000));  // then highest first
  EXPECT_EQ(got.seg.options.sack[2].left, SeqNum(kPeerIss + 1 + 1000));
}

TEST_F(RecoveryTest, OverlappingOutOfOrderSegmentsMerge) {
  Establish(true);
  Send(Seg(kAck, kPeerIss + 1 + 1000, kIss + 1, 65535, 1000));
  Send(Seg(kAck, kPeerIss + 1 + 1500, kIss + 1, 65535, 1000));  // overlaps the first
  EXPECT_EQ(conn_->out_of_order().count(), 1);
  EXPECT_EQ(conn_->out_of_order()[0].right, SeqNum(kPeerIss + 1 + 2500));
  Send(Seg(kAck, kPeerIss + 1 + 1200, kIss + 1, 65535, 300));  // already kept: a duplicate
  EXPECT_EQ(out_.ooo_len, 0u);
  EXPECT_EQ(counters_.dup_segments, 1u);
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 65535, 1200));  // fills the gap and overlaps the kept data
  EXPECT_EQ(conn_->rcv_nxt(), SeqNum(kPeerIss + 1 + 2500));
  EXPECT_EQ(conn_->unread(), 2500u);
  EXPECT_EQ(out_.ooo_join_from, SeqNum(kPeerIss + 1 + 1200));
}

TEST_F(RecoveryTest, DuplicateSegmentIsReportedWithADsackBlock) {
  Establish(true);
  Send(Seg(kAck | kPsh, kPeerIss + 1, kIss + 1, 65535, 700));
  Advance(Duration::Milliseconds(50));
  sent_.clear();
  Send(Seg(kAck | kPsh, kPeerIss + 1, kIss + 1, 65535, 700));  // again: everything old
  OutSegment got = TakeSent();
  ASSERT_EQ(got.seg.options.sack_count, 1);
  EXPECT_EQ(got.seg.options.sack[0], (SackBlock{SeqNum(kPeerIss + 1), SeqNum(kPeerIss + 701)}));
  EXPECT_EQ(counters_.dsacks_sent, 1u);
  Send(Seg(kAck, kPeerIss + 701, kIss + 1, 65535, 0));
  ExpectNothingSent();  // reported once
}

TEST_F(RecoveryTest, DelayedAckCountsThePeersActualSegmentSize) {
  Establish(false);  // our MSS 1460; the peer sends 1000-byte segments
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 65535, 1000));
  ExpectNothingSent();
  Send(Seg(kAck, kPeerIss + 1001, kIss + 1, 65535, 1000));  // the second full-sized one: at once
  EXPECT_EQ(TakeSent().seg.ack, SeqNum(kPeerIss + 2001));
  Send(Seg(kAck, kPeerIss + 2001, kIss + 1, 65535, 400));  // small: delayed up to 40 ms
  ExpectNothingSent();
  Advance(Duration::Milliseconds(40));
  EXPECT_EQ(TakeSent().seg.ack, SeqNum(kPeerIss + 2401));
}

TEST_F(RecoveryTest, QuickAcksWhileTheConnectionStarts) {
  config_.quickacks = 2;
  Establish(false);
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 65535, 100));
  EXPECT_EQ(TakeSent().seg.ack, SeqNum(kPeerIss + 101));
  Send(Seg(kAck, kPeerIss + 101, kIss + 1, 65535, 100));
  EXPECT_EQ(TakeSent().seg.ack, SeqNum(kPeerIss + 201));
  Send(Seg(kAck, kPeerIss + 201, kIss + 1, 65535, 100));  // the third waits
  ExpectNothingSent();
}

// --- Timestamps ------------------------------------------------------------------------------------

class TimestampTest : public TcpTest {
 protected:
  void Establish() {
    config_.timestamps = true;
    TcpSegment syn = Seg(kSyn, kPeerIss);
    syn.options.timestamps = TcpTimestamps{100, 0};
    EstablishPassiveFrom(syn);  // the handshake ACK carries TSval 101
  }
  TcpSegment Data(uint32_t seq_off, uint32_t len, uint32_t tsval, uint32_t tsecr = 1) {
    TcpSegment s = Seg(kAck | kPsh, kPeerIss + 1 + seq_off, kIss + 1, 65535, len);
    s.options.timestamps = TcpTimestamps{tsval, tsecr};
    return s;
  }
};

TEST_F(TimestampTest, PawsDropsASegmentWithAnOlderTimestamp) {
  Establish();
  Send(Data(0, 100, 100));  // TSval 100 < TS.Recent 101: an old duplicate
  EXPECT_EQ(counters_.paws_dropped, 1u);
  EXPECT_EQ(delivered_, 0u);
  EXPECT_EQ(TakeSent().seg.flags, kAck);  // answered with an ACK
  Send(Data(0, 100, 101));                // equal is fine (the edge)
  EXPECT_EQ(delivered_, 100u);
  EXPECT_EQ(counters_.paws_dropped, 1u);
}

TEST_F(TimestampTest, PawsLetsAResetThrough) {
  Establish();
  TcpSegment rst = Seg(kRst, kPeerIss + 1);
  rst.options.timestamps = TcpTimestamps{5, 0};
  Send(rst);
  EXPECT_EQ(state(), TcpState::kClosed);
}

TEST_F(TimestampTest, TsRecentOnlyFromSegmentsCoveringOurLastAck) {
  Establish();
  Send(Data(1000, 100, 500));  // beyond RCV.NXT (out of order): must not become TS.Recent
  sent_.clear();
  Send(Data(0, 100, 200));  // in order, covers Last.ACK.sent
  Advance(Duration::Milliseconds(50));
  OutSegment ack = TakeSent();
  ASSERT_TRUE(ack.seg.options.timestamps.has_value());
  EXPECT_EQ(ack.seg.options.timestamps->tsecr, 200u);
}

TEST_F(TimestampTest, TsecrZeroIsNeverAnRttSample) {
  Establish();
  const uint64_t samples = counters_.rtt_samples;
  const Duration rto = conn_->rto().rto();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Send(now, 100, out); });
  sent_.clear();
  TcpSegment ack = Seg(kAck, kPeerIss + 1, kIss + 101);
  ack.options.timestamps = TcpTimestamps{102, 0};
  Send(ack);
  EXPECT_EQ(counters_.rtt_samples, samples);
  EXPECT_EQ(conn_->rto().rto(), rto);
}

// RFC 6298 5.7: a lost SYN-ACK and no RTT sample: data starts with RTO = 3 s.
TEST_F(TcpTest, LostSynAckMeansAThreeSecondRto) {
  New();
  App([this](TcpConnection& c, Instant now, TcpOutput& out) {
    c.AcceptSyn(now, WithPeerOptions(Seg(kSyn, kPeerIss)), SeqNum(kIss), out);
  });
  TakeSent();
  Advance(Duration::Seconds(1));  // the SYN-ACK times out and goes again (Karn: no sample)
  EXPECT_EQ(TakeSent().seg.flags, kSyn | kAck);
  Send(Seg(kAck, kPeerIss + 1, kIss + 1));
  ASSERT_EQ(state(), TcpState::kEstablished);
  EXPECT_FALSE(conn_->rto().has_sample());
  EXPECT_EQ(conn_->rto().rto(), Duration::Seconds(3));
}

// Out-of-order data that fills the memory budget must not block the segment that fills the gap: the
// kept data is given up (reneged) and the stream moves on.
TEST_F(RecoveryTest, InOrderDataPrunesOutOfOrderDataThatFillsTheBudget) {
  config_.rcv_mem = 10000;
  Establish(true);
  Send(Seg(kAck, kPeerIss + 1 + 1000, kIss + 1, 65535, 1000), RxMem{0, 0, 0, 2300});
  Send(Seg(kAck, kPeerIss + 1 + 3000, kIss + 1, 65535, 1000), RxMem{2300, 2300, 0, 2300});
  ASSERT_EQ(conn_->out_of_order().count(), 2);
  sent_.clear();
  // The budget is nearly gone (9,200 of 10,000), all of it out of order; the gap-filling segment costs 2,300.
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 65535, 1000), RxMem{9200, 9200, 2300, 2300});
  EXPECT_EQ(delivered_, 1000u);
  EXPECT_TRUE(out_.ooo_pruned);
  EXPECT_EQ(conn_->out_of_order().count(), 0);
  EXPECT_EQ(conn_->rcv_nxt(), SeqNum(kPeerIss + 1001));
  EXPECT_EQ(counters_.ooo_pruned, 1u);
  EXPECT_EQ(counters_.rcv_mem_dropped, 0u);
}

TEST_F(RecoveryTest, InOrderDataOverTheBudgetWithoutOutOfOrderDataIsDropped) {  // the other side
  config_.rcv_mem = 10000;
  Establish(true);
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 65535, 1000), RxMem{9200, 0, 2300, 2300});
  EXPECT_EQ(delivered_, 0u);
  EXPECT_EQ(counters_.rcv_mem_dropped, 1u);
}

// A data-less segment outside the window is answered at most once per interval (no ACK reflection);
// one with data always is.
TEST_F(RecoveryTest, OutOfWindowPureAcksAreAnsweredAtMostTwicePerSecond) {
  Establish(false);
  for (int i = 0; i < 10; ++i) Send(Seg(kAck, kPeerIss + 1 + 200000, kIss + 1));
  EXPECT_EQ(sent_.size(), 1u);
  EXPECT_EQ(counters_.oow_acks_limited, 9u);
  sent_.clear();
  Send(Seg(kAck, kPeerIss + 1 - 50, kIss + 1, 65535, 10));  // old data: always answered
  Send(Seg(kAck, kPeerIss + 1 - 50, kIss + 1, 65535, 10));
  EXPECT_EQ(sent_.size(), 2u);
  sent_.clear();
  now_ = now_ + config_.challenge_ack_interval;
  Send(Seg(kAck, kPeerIss + 1 + 200000, kIss + 1));
  EXPECT_EQ(sent_.size(), 1u);
}

// RFC 6691: the MSS counts payload plus options beyond the fixed header. Data segments that carry SACK
// blocks carry less payload, so they never exceed what the path (and the peer) takes.
TEST_F(RecoveryTest, DataSegmentsCarryingSackBlocksShrinkTheirPayload) {
  Establish(true);
  Send(Seg(kAck, kPeerIss + 1 + 1000, kIss + 1, 65535, 500));  // we now keep out-of-order data
  Send(Seg(kAck, kPeerIss + 1 + 3000, kIss + 1, 65535, 500));  // two ranges
  sent_.clear();
  Write(3 * kMss);
  ASSERT_FALSE(sent_.empty());
  for (const OutSegment& o : sent_) {
    EXPECT_EQ(o.seg.options.sack_count, 2);
    // Within what the peer announced (the MSS counts the timestamps option when the peer sends it).
    const uint32_t announced = conn_->snd_mss() + (conn_->ts_enabled() ? kTimestampsOptionBytes : 0);
    EXPECT_LE(o.seg.payload_len + TcpOptionsLength(o.seg.options), announced) << ToString(o.seg);
  }
  EXPECT_EQ(sent_.front().seg.payload_len, conn_->snd_mss() - 4u - 2 * 8);
}

// --- Segmentation offload (TcpConfig::tso_max) -----------------------------------------------------

TEST_F(RecoveryTest, TsoSendsTheCongestionWindowAsOneSegmentOfWholeMssPieces) {
  config_.tso_max = 64 * kMss;
  Establish(false);
  Write(40 * kMss);
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_.front().tso_segsz, kMss);
  EXPECT_EQ(Took(), (Segs{{0, 10 * kMss}}));  // IW10 in one segment, not the peer's whole window
  EXPECT_EQ(counters_.tso_segments_out, 1u);
  Send(Ack(10 * kMss));  // slow start: one ACK, at most 2 SMSS of growth (RFC 3465)
  EXPECT_EQ(conn_->cc().cwnd, 12 * kMss);
  EXPECT_EQ(Took(), (Segs{{10 * kMss, 12 * kMss}}));
  EXPECT_EQ(counters_.tso_segments_out, 2u);
  // Each ACK lets out what the window has room for, as one segment.
  Send(Ack(12 * kMss));  // cwnd 14 MSS, flight 10: room for 4
  EXPECT_EQ(Took(), (Segs{{22 * kMss, 4 * kMss}}));
  Send(Ack(21 * kMss));  // cwnd 16 MSS, flight 5: room for 11
  EXPECT_EQ(Took(), (Segs{{26 * kMss, 11 * kMss}}));
  EXPECT_EQ(counters_.tso_segments_out, 4u);
}

TEST_F(RecoveryTest, TsoSendsOneMssAsAPlainSegmentAndNothingIntoLessThanAnMssOfRoom) {
  config_.tso_max = 64 * kMss;
  Establish(false);
  Write(kMss);  // exactly one MSS: an ordinary segment
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_.front().tso_segsz, 0);
  EXPECT_EQ(Took(), (Segs{{0, kMss}}));
  EXPECT_EQ(counters_.tso_segments_out, 0u);
  Write(20 * kMss);  // room for 9 MSS: exactly that much in one segment
  EXPECT_EQ(Took(), (Segs{{kMss, 9 * kMss}}));
  Send(Ack(300));  // cwnd 10,300, flight 9,700: 600 bytes of room, less than an MSS
  EXPECT_EQ(conn_->cc().cwnd, 10 * kMss + 300);
  EXPECT_TRUE(Took().empty());
  Send(Ack(700));  // cwnd 10,700, flight 9,300: 1,400 of room -> one MSS, alone
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_.front().tso_segsz, 0);
  EXPECT_EQ(Took(), (Segs{{10 * kMss, kMss}}));
}

TEST_F(RecoveryTest, TsoCarriesTheFinWithAShortLastPiece) {
  config_.tso_max = 64 * kMss;
  Establish(false);
  Write(12 * kMss + 7);
  EXPECT_EQ(Took(), (Segs{{0, 10 * kMss}}));  // the congestion window is full
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Close(now, out); });
  EXPECT_TRUE(Took().empty());
  Send(Ack(10 * kMss));  // room for 12 MSS: the rest, short piece and FIN, in one segment
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_.front().seg.flags, kAck | kPsh | kFin);
  EXPECT_EQ(sent_.front().tso_segsz, kMss);
  EXPECT_EQ(Took(), (Segs{{10 * kMss, 2 * kMss + 7}}));
}

TEST_F(RecoveryTest, TsoStopsOnceThePathMtuIsKnown) {
  config_.tso_max = 64 * kMss;
  Establish(false);
  conn_->set_path_mtu(1500);  // a path MTU above the MSS: the MSS stays, TSO ends
  ASSERT_EQ(conn_->snd_mss(), kMss);
  Write(3 * kMss);
  EXPECT_EQ(Took(), (Segs{{0, kMss}, {kMss, kMss}, {2 * kMss, kMss}}));
  EXPECT_EQ(counters_.tso_segments_out, 0u);
}

TEST_F(RecoveryTest, TsoMaxOfLessThanTwoMssSendsOneMssPerSegment) {
  config_.tso_max = 2 * kMss - 1;
  Establish(false);
  Write(4 * kMss);
  EXPECT_EQ(Took(), (Segs{{0, kMss}, {kMss, kMss}, {2 * kMss, kMss}, {3 * kMss, kMss}}));
  EXPECT_EQ(counters_.tso_segments_out, 0u);
  config_.tso_max = 2 * kMss;  // read on every send
  Write(4 * kMss);
  EXPECT_EQ(Took(), (Segs{{4 * kMss, 2 * kMss}, {6 * kMss, 2 * kMss}}));
  EXPECT_EQ(counters_.tso_segments_out, 2u);
}

TEST_F(RecoveryTest, TsoLeavesAShortLastPieceToNagle) {
  config_.tso_max = 64 * kMss;
  Establish(false);
  Write(3 * kMss + 100);
  EXPECT_EQ(sent_.front().seg.flags, kAck);  // not the last of the data: no PSH
  EXPECT_EQ(Took(), (Segs{{0, 3 * kMss}}));  // the 100 bytes wait for the ACK, as Nagle has it
  Send(Ack(3 * kMss));
  EXPECT_EQ(Took(), (Segs{{3 * kMss, 100}}));
  // Exactly whole pieces: all of it, with PSH.
  Write(2 * kMss);
  EXPECT_EQ(sent_.front().seg.flags, kAck | kPsh);
  EXPECT_EQ(Took(), (Segs{{3 * kMss + 100, 2 * kMss}}));
  // No-delay: the short piece goes with the whole ones.
  Send(Ack(5 * kMss + 100));
  conn_->set_nodelay(true);
  Write(2 * kMss + 7);
  EXPECT_EQ(sent_.front().seg.flags, kAck | kPsh);
  EXPECT_EQ(sent_.front().tso_segsz, kMss);
  EXPECT_EQ(Took(), (Segs{{5 * kMss + 100, 2 * kMss + 7}}));
}

TEST_F(RecoveryTest, TsoKeepsToOneMssWithSackBlocksAndInRecovery) {
  config_.tso_max = 64 * kMss;
  Establish(true);
  Send(Seg(kAck, kPeerIss + 1 + 1000, kIss + 1, 65535, 500));  // out-of-order data: SACK blocks ride along
  sent_.clear();
  Write(3 * kMss);
  ASSERT_EQ(sent_.size(), 3u);  // 980-byte pieces (the MSS less one SACK block); the last 60 bytes wait
  for (const OutSegment& o : sent_) EXPECT_EQ(o.tso_segsz, 0) << ToString(o.seg);
  Send(Seg(kAck, kPeerIss + 1, conn_->snd_nxt().raw(), 65535, 1000));  // the gap filled: no blocks now
  sent_.clear();
  Write(20 * kMss);
  Segs first = Took();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_GT(first[0].second, kMss);
  // The peer misses the start of that segment and SACKs the rest: recovery resends and sends one MSS
  // at a time.
  const uint32_t start = first[0].first;
  const uint32_t seg_end = start + first[0].second;
  // (The peer's sequence number moved on with the 1,500 bytes it sent.)
  const auto from_peer = [&](TcpSegment a) {
    a.seq = conn_->rcv_nxt();
    return a;
  };
  Send(from_peer(Ack(start)));  // what went before it
  for (int i = 0; i < 3; ++i) Send(from_peer(Ack(start, {{start + kMss, seg_end}})));
  ASSERT_TRUE(conn_->in_recovery());
  for (const OutSegment& o : sent_) {
    EXPECT_LE(o.seg.payload_len, kMss) << ToString(o.seg);
    EXPECT_EQ(o.tso_segsz, 0) << ToString(o.seg);
  }
  EXPECT_FALSE(sent_.empty());
}

// --- Tail loss probe (RFC 8985 7) and early retransmit (RFC 5827) ------------------------------------

TEST_F(RecoveryTest, TailLossProbeResendsTheLastSegmentBeforeTheRto) {
  Establish(true);
  Write(3 * kMss);
  EXPECT_EQ(Took().size(), 3u);
  const Instant sent = now_;
  RunUntil(sent + Duration::Milliseconds(9));
  EXPECT_TRUE(Took().empty());
  RunUntil(sent + Duration::Milliseconds(10));  // PTO = max(2 SRTT, 10 ms), well before the 200 ms RTO
  EXPECT_EQ(Took(), (Segs{{2000, 1000}}));
  EXPECT_EQ(counters_.tlp_probes, 1u);
  EXPECT_FALSE(conn_->in_recovery());
  // The probe arrived, the two before it did not: the SACK for it starts recovery at once.
  Send(Ack(0, {{2000, 3000}}));
  EXPECT_TRUE(conn_->in_recovery());
  Segs rx = Took();
  ASSERT_FALSE(rx.empty());
  EXPECT_EQ(rx[0], (std::pair<uint32_t, uint32_t>{0, 1000}));
  EXPECT_EQ(counters_.rto_recoveries, 0u);
}

TEST_F(RecoveryTest, TailLossProbeOfASingleSegmentAllowsForADelayedAck) {
  Establish(true);
  Write(500);
  Took();
  const Instant sent = now_;
  RunUntil(sent + Duration::Milliseconds(199));
  EXPECT_TRUE(Took().empty());  // one segment out: the peer may be delaying its ACK
  RunUntil(sent + Duration::Milliseconds(200));
  EXPECT_EQ(counters_.tlp_probes, 0u);  // the 200 ms RTO comes first; no probe at the same time
}

TEST_F(RecoveryTest, NoTailLossProbeWithoutSack) {
  Establish(false);
  Write(3 * kMss);
  Took();
  RunUntil(now_ + Duration::Milliseconds(100));
  EXPECT_TRUE(Took().empty());
  EXPECT_EQ(counters_.tlp_probes, 0u);
}

TEST_F(RecoveryTest, EarlyRetransmitWithFewSegmentsOutstanding) {
  Establish(false);
  Write(3 * kMss);  // three segments, nothing more to send: the duplicate threshold is 2
  Took();
  Send(Ack(0));
  EXPECT_FALSE(conn_->in_recovery());
  Send(Ack(0));
  EXPECT_TRUE(conn_->in_recovery());
  EXPECT_EQ(Took(), (Segs{{0, 1000}}));
  EXPECT_EQ(counters_.early_retransmits, 1u);
}

}  // namespace
}  // namespace synack
