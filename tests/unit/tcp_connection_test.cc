// The RFC 9293 state machine with exact segments in and out: Send(seg) feeds the connection,
// ExpectSent(seg) / ExpectNothingSent() check what it emitted, and every step checks the TCB invariants.
#include <deque>
#include <optional>
#include <set>

#include <gtest/gtest.h>

#include "lib/tcp/connection.h"
#include "tests/unit/tcp_fixture.h"

namespace synack {
namespace {

using namespace tcp_flags;
using namespace tcp_test;

TEST_F(TcpTest, StateNamesAreRfcNames) {
  EXPECT_STREQ(StateName(TcpState::kSynReceived), "SYN-RECEIVED");
  EXPECT_STREQ(StateName(TcpState::kTimeWait), "TIME-WAIT");
  EXPECT_STREQ(StateName(TcpState::kFinWait2), "FIN-WAIT-2");
}

TEST_F(TcpTest, PassiveOpenNegotiatesOptions) {
  config_.timestamps = true;
  config_.sack_permitted = true;
  config_.window_scale = 7;
  config_.rcv_buffer = 256 * 1024;
  New();
  TcpSegment syn = Seg(kSyn, kPeerIss, 0, 29200);
  syn.options.mss = 1400;
  syn.options.window_scale = 9;
  syn.options.sack_permitted = true;
  syn.options.timestamps = TcpTimestamps{777, 0};
  App([&](TcpConnection& c, Instant now, TcpOutput& out) { c.AcceptSyn(now, syn, SeqNum(kIss), out); });
  EXPECT_EQ(state(), TcpState::kSynReceived);
  TcpSegment synack = Out(kSyn | kAck, kIss, kPeerIss + 1, 65535);
  synack.options.mss = 1460;
  synack.options.window_scale = 7;
  synack.options.sack_permitted = true;
  synack.options.timestamps = TcpTimestamps{static_cast<uint32_t>(now_.ns() / 1000000), 777};
  ExpectSent(synack);
  TcpSegment ack = Seg(kAck, kPeerIss + 1, kIss + 1, 100);
  ack.options.timestamps = TcpTimestamps{778, synack.options.timestamps->tsval};
  Send(ack);
  EXPECT_EQ(state(), TcpState::kEstablished);
  EXPECT_TRUE(events_ & tcp_events::kConnected);
  EXPECT_EQ(conn_->snd_mss(), 1400 - 12);  // peer MSS minus the timestamp option
  EXPECT_EQ(conn_->snd_wscale(), 9);
  EXPECT_EQ(conn_->rcv_wscale(), 7);
  EXPECT_EQ(conn_->snd_wnd(), 100u << 9);
  EXPECT_TRUE(conn_->ts_enabled());
  EXPECT_TRUE(conn_->sack_enabled());
  ExpectNothingSent();
  EXPECT_EQ(counters_.transitions_to(TcpState::kEstablished), 1u);
}

TEST_F(TcpTest, PassiveOpenWithoutPeerOptionsUsesDefaults) {
  config_.timestamps = true;
  config_.window_scale = 7;
  New();
  App([this](TcpConnection& c, Instant now, TcpOutput& out) {
    c.AcceptSyn(now, WithPeerOptions(Seg(kSyn, kPeerIss)), SeqNum(kIss), out);
  });
  TcpSegment synack = Out(kSyn | kAck, kIss, kPeerIss + 1);
  synack.options.mss = 1460;  // nothing the peer did not offer
  ExpectSent(synack);
  Send(Seg(kAck, kPeerIss + 1, kIss + 1));
  EXPECT_EQ(conn_->snd_mss(), kDefaultMss);  // no MSS option: 536
  EXPECT_EQ(conn_->snd_wscale(), 0);
  EXPECT_FALSE(conn_->ts_enabled());
}

TEST_F(TcpTest, ActiveOpen) {
  config_.window_scale = 7;
  New();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Connect(now, {kOurPort, kPeerPort}, SeqNum(kIss), out); });
  EXPECT_EQ(state(), TcpState::kSynSent);
  TcpSegment syn = Out(kSyn, kIss);
  syn.options.mss = 1460;
  syn.options.window_scale = 7;
  ExpectSent(syn);
  TcpSegment synack = Seg(kSyn | kAck, kPeerIss, kIss + 1, 8192);
  synack.options.mss = 1200;
  synack.options.window_scale = 2;
  Send(synack);
  EXPECT_EQ(state(), TcpState::kEstablished);
  EXPECT_TRUE(events_ & tcp_events::kConnected);
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 1, 65535 >> 7));
  EXPECT_EQ(conn_->snd_mss(), 1200);
  EXPECT_EQ(conn_->snd_wnd(), 8192u);  // the SYN-ACK's window is not scaled
  EXPECT_EQ(counters_.rtt_samples, 1u);
}

// Regression: the advertised right edge must start at RCV.NXT, not at sequence 0. With a peer ISN just
// below 2^31 an unset edge compared "above" RCV.NXT + window and froze the window at 65535 -> every
// later segment failed the acceptability test.
TEST_F(TcpTest, ActiveOpenWithPeerIsnJustBelowHalfTheSequenceSpace) {
  for (uint32_t peer_iss : {0x7fffffffu - 1000u, 0x7fffffffu - 200000u, 0x80000000u + 5u, 0xffffff00u}) {
    New();
    App([](TcpConnection& c, Instant now, TcpOutput& out) {
      c.Connect(now, {kOurPort, kPeerPort}, SeqNum(kIss), out);
    });
    TakeSent();
    Send(Seg(kSyn | kAck, peer_iss, kIss + 1, 65535));
    ASSERT_EQ(state(), TcpState::kEstablished);
    ExpectSent(Out(kAck, kIss + 1, peer_iss + 1, 65535));
    Send(Seg(kAck | kPsh, peer_iss + 1, kIss + 1, 65535, 100));  // 100 bytes at RCV.NXT
    EXPECT_EQ(conn_->rcv_nxt(), SeqNum(peer_iss + 101)) << peer_iss;
    EXPECT_EQ(counters_.unacceptable, 0u) << peer_iss;
  }
}

TEST_F(TcpTest, SynAckWithBadAckIsAnsweredWithReset) {
  New();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Connect(now, {kOurPort, kPeerPort}, SeqNum(kIss), out); });
  TakeSent();
  Send(Seg(kSyn | kAck, kPeerIss, kIss + 7));
  ExpectSent(Out(kRst, kIss + 7));
  EXPECT_EQ(state(), TcpState::kSynSent);
  // A RST whose ACK is acceptable refuses the connection.
  Send(Seg(kRst | kAck, 0, kIss + 1));
  EXPECT_EQ(state(), TcpState::kClosed);
  EXPECT_EQ(error_, TcpError::kRefused);
  ExpectNothingSent();
}

TEST_F(TcpTest, RepeatedSynGetsTheSameIsn) {
  New();
  App([this](TcpConnection& c, Instant now, TcpOutput& out) {
    c.AcceptSyn(now, WithPeerOptions(Seg(kSyn, kPeerIss)), SeqNum(kIss), out);
  });
  OutSegment first = TakeSent();
  now_ = now_ + Duration::Milliseconds(300);
  Send(Seg(kSyn, kPeerIss));
  OutSegment second = TakeSent();
  first.seg.options.timestamps.reset();  // the clock moved on; the rest must be identical
  second.seg.options.timestamps.reset();
  EXPECT_EQ(first.seg, second.seg);
  EXPECT_EQ(second.seg.seq, SeqNum(kIss));
  EXPECT_EQ(state(), TcpState::kSynReceived);
}

TEST_F(TcpTest, SynRetransmissionDoublesThenTimesOut) {
  New();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Connect(now, {kOurPort, kPeerPort}, SeqNum(kIss), out); });
  const Instant start = now_;
  TakeSent();
  std::vector<int64_t> at_s;
  for (int i = 0; i < 400 && state() == TcpState::kSynSent; ++i) {
    Advance(Duration::Milliseconds(500));
    while (!sent_.empty()) {
      EXPECT_EQ(TakeSent().seg.flags, kSyn);
      at_s.push_back((now_ - start).ns() / 1000000000);
    }
  }
  // 1 s initial RTO doubling: retransmissions at 1, 3, 7, 15, 31, 63 s; given up at 127 s.
  EXPECT_EQ(at_s, (std::vector<int64_t>{1, 3, 7, 15, 31, 63}));
  EXPECT_EQ(state(), TcpState::kClosed);
  EXPECT_EQ(error_, TcpError::kTimedOut);
  EXPECT_TRUE(events_ & tcp_events::kClosed);
  EXPECT_EQ(counters_.syn_retransmits, 6u);
}

TEST_F(TcpTest, SynAckRetransmissionAndSynReceivedTimeout) {
  config_.synack_retries = 2;
  New();
  App([this](TcpConnection& c, Instant now, TcpOutput& out) {
    c.AcceptSyn(now, WithPeerOptions(Seg(kSyn, kPeerIss)), SeqNum(kIss), out);
  });
  TakeSent();
  Advance(Duration::Seconds(1));
  EXPECT_EQ(TakeSent().seg.flags, kSyn | kAck);
  Advance(Duration::Seconds(2));
  EXPECT_EQ(TakeSent().seg.flags, kSyn | kAck);
  Advance(Duration::Seconds(4));
  EXPECT_EQ(state(), TcpState::kClosed);
  ExpectNothingSent();
}

TEST_F(TcpTest, SimultaneousOpen) {
  New();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Connect(now, {kOurPort, kPeerPort}, SeqNum(kIss), out); });
  TakeSent();
  Send(Seg(kSyn, kPeerIss));  // their SYN crosses ours
  EXPECT_EQ(state(), TcpState::kSynReceived);
  TcpSegment synack = Out(kSyn | kAck, kIss, kPeerIss + 1);  // same ISS
  synack.options.mss = 1460;
  ExpectSent(synack);
  Send(Seg(kSyn | kAck, kPeerIss, kIss + 1));  // their SYN-ACK
  EXPECT_EQ(state(), TcpState::kEstablished);
  ExpectNothingSent();
}

TEST_F(TcpTest, LocalCloseFirstThroughTimeWait) {
  EstablishPassive();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Close(now, out); });
  EXPECT_EQ(state(), TcpState::kFinWait1);
  ExpectSent(Out(kAck | kFin, kIss + 1, kPeerIss + 1));
  Send(Seg(kAck, kPeerIss + 1, kIss + 2));
  EXPECT_EQ(state(), TcpState::kFinWait2);
  ExpectNothingSent();
  Send(Seg(kAck | kFin, kPeerIss + 1, kIss + 2));
  EXPECT_EQ(state(), TcpState::kTimeWait);
  ExpectSent(Out(kAck, kIss + 2, kPeerIss + 2));
  // The peer lost our ACK and retransmits its FIN 10 s later: ACK again, 2*MSL restarts.
  Advance(Duration::Seconds(10));
  Send(Seg(kAck | kFin, kPeerIss + 1, kIss + 2));
  ExpectSent(Out(kAck, kIss + 2, kPeerIss + 2));
  const Instant restarted = now_;
  RunUntil(restarted + Duration::Seconds(60) - Duration::Nanoseconds(1));
  EXPECT_EQ(state(), TcpState::kTimeWait);
  RunUntil(restarted + Duration::Seconds(60));  // exactly 2*MSL (MSL 30 s)
  EXPECT_EQ(state(), TcpState::kClosed);
  EXPECT_EQ(error_, TcpError::kNone);
  ExpectNothingSent();
}

TEST_F(TcpTest, RemoteCloseFirstThroughLastAck) {
  EstablishPassive();
  Send(Seg(kAck | kFin, kPeerIss + 1, kIss + 1));
  EXPECT_EQ(state(), TcpState::kCloseWait);
  EXPECT_TRUE(events_ & tcp_events::kPeerFin);
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 2));
  // Half-closed: we may still send.
  uint32_t n = 0;
  App([&](TcpConnection& c, Instant now, TcpOutput& out) { n = c.Send(now, 10, out); });
  EXPECT_EQ(n, 10u);
  ExpectSent(Out(kAck | kPsh, kIss + 1, kPeerIss + 2, 65535, 10));
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Close(now, out); });
  EXPECT_EQ(state(), TcpState::kLastAck);
  ExpectSent(Out(kAck | kFin, kIss + 11, kPeerIss + 2));
  Send(Seg(kAck, kPeerIss + 2, kIss + 12));
  EXPECT_EQ(state(), TcpState::kClosed);
  EXPECT_EQ(error_, TcpError::kNone);
  ExpectNothingSent();
}

TEST_F(TcpTest, SimultaneousClose) {
  EstablishPassive();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Close(now, out); });
  ExpectSent(Out(kAck | kFin, kIss + 1, kPeerIss + 1));
  Send(Seg(kAck | kFin, kPeerIss + 1, kIss + 1));  // their FIN, not acking ours
  EXPECT_EQ(state(), TcpState::kClosing);
  ExpectSent(Out(kAck, kIss + 2, kPeerIss + 2));
  Send(Seg(kAck, kPeerIss + 2, kIss + 2));
  EXPECT_EQ(state(), TcpState::kTimeWait);
  ExpectNothingSent();
}

TEST_F(TcpTest, FinBeyondAGapTakesEffectWhenTheGapFills) {
  EstablishPassive();
  Send(Seg(kAck | kFin, kPeerIss + 101, kIss + 1));  // 100 bytes before it are missing
  EXPECT_EQ(state(), TcpState::kEstablished);
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 1));  // duplicate ACK asks for the gap
  Send(Seg(kAck | kPsh, kPeerIss + 1, kIss + 1, 65535, 100));
  EXPECT_EQ(delivered_, 100u);
  // The remembered FIN follows the data at once; its ACK (covering both) cannot wait.
  EXPECT_EQ(state(), TcpState::kCloseWait);
  EXPECT_TRUE(events_ & tcp_events::kPeerFin);
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 102, 65535 - 100));
  ExpectNothingSent();
}

TEST_F(TcpTest, FinRetransmittedInOrderIsTakenToo) {
  EstablishPassive();
  Send(Seg(kAck | kPsh, kPeerIss + 1, kIss + 1, 65535, 100));
  Send(Seg(kAck | kFin, kPeerIss + 101, kIss + 1));
  EXPECT_EQ(state(), TcpState::kCloseWait);
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 102, 65535 - 100));
}

// TcpPhases: each phase's duration lands once in its histogram, in the bucket of its exact length.
void ExpectOneSample(const LogHistogram& h, Duration d, const char* phase) {
  EXPECT_EQ(h.count(), 1u) << phase;
  EXPECT_EQ(h.buckets[LogHistogram::BucketOf(d)], 1u) << phase;
  EXPECT_EQ(h.sum_us, static_cast<uint64_t>(d.ns() / 1000)) << phase;
}

TEST_F(TcpTest, PhasesOfAPassiveOpenAndALocalCloseThroughTimeWait) {
  New();
  App([this](TcpConnection& c, Instant now, TcpOutput& out) {
    c.AcceptSyn(now, WithPeerOptions(Seg(kSyn, kPeerIss)), SeqNum(kIss), out);
  });
  TakeSent();
  Advance(Duration::Microseconds(300));
  Send(Seg(kAck, kPeerIss + 1, kIss + 1));
  ASSERT_EQ(state(), TcpState::kEstablished);
  ExpectOneSample(counters_.phases.open_passive, Duration::Microseconds(300), "open_passive");
  EXPECT_EQ(counters_.phases.open_active.count(), 0u);
  Advance(Duration::Milliseconds(5));
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Close(now, out); });
  ExpectOneSample(counters_.phases.lifetime, Duration::Milliseconds(5), "lifetime");
  ExpectSent(Out(kAck | kFin, kIss + 1, kPeerIss + 1));
  Advance(Duration::Milliseconds(2));
  Send(Seg(kAck, kPeerIss + 1, kIss + 2));
  ASSERT_EQ(state(), TcpState::kFinWait2);
  EXPECT_EQ(counters_.phases.close.count(), 0u) << "FIN-WAIT-2 continues the close";
  Advance(Duration::Milliseconds(1));
  Send(Seg(kAck | kFin, kPeerIss + 1, kIss + 2));
  ASSERT_EQ(state(), TcpState::kTimeWait);
  ExpectOneSample(counters_.phases.close, Duration::Milliseconds(3), "close");
  RunUntil(now_ + Duration::Seconds(60));
  ASSERT_EQ(state(), TcpState::kClosed);
  ExpectOneSample(counters_.phases.time_wait, Duration::Seconds(60), "time_wait");
}

TEST_F(TcpTest, PhasesOfAnActiveOpenAndARemoteClose) {
  New();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Connect(now, {kOurPort, kPeerPort}, SeqNum(kIss), out); });
  TakeSent();
  Advance(Duration::Microseconds(100));
  Send(Seg(kSyn | kAck, kPeerIss, kIss + 1));
  ASSERT_EQ(state(), TcpState::kEstablished);
  ExpectOneSample(counters_.phases.open_active, Duration::Microseconds(100), "open_active");
  EXPECT_EQ(counters_.phases.open_passive.count(), 0u);
  TakeSent();
  Advance(Duration::Milliseconds(4));
  Send(Seg(kAck | kFin, kPeerIss + 1, kIss + 1));
  ASSERT_EQ(state(), TcpState::kCloseWait);
  EXPECT_EQ(counters_.phases.lifetime.count(), 0u) << "the lifetime runs until our FIN";
  Advance(Duration::Milliseconds(6));
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Close(now, out); });
  ASSERT_EQ(state(), TcpState::kLastAck);
  ExpectOneSample(counters_.phases.lifetime, Duration::Milliseconds(10), "lifetime");
  Advance(Duration::Microseconds(250));
  Send(Seg(kAck, kPeerIss + 2, kIss + 2));
  ASSERT_EQ(state(), TcpState::kClosed);
  ExpectOneSample(counters_.phases.close, Duration::Microseconds(250), "close");
  EXPECT_EQ(counters_.phases.time_wait.count(), 0u);
}

TEST_F(TcpTest, SimultaneousOpenIsTimedFromOurSyn) {
  New();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Connect(now, {kOurPort, kPeerPort}, SeqNum(kIss), out); });
  TakeSent();
  Advance(Duration::Microseconds(50));
  Send(Seg(kSyn, kPeerIss));
  ASSERT_EQ(state(), TcpState::kSynReceived);
  Advance(Duration::Microseconds(70));
  Send(Seg(kSyn | kAck, kPeerIss, kIss + 1));
  ASSERT_EQ(state(), TcpState::kEstablished);
  ExpectOneSample(counters_.phases.open_active, Duration::Microseconds(120), "open_active");
  EXPECT_EQ(counters_.phases.open_passive.count(), 0u);
}

TEST_F(TcpTest, ResetEndsTheLifetimeWithoutASample) {
  EstablishPassive();
  Advance(Duration::Milliseconds(1));
  Send(Seg(kRst, kPeerIss + 1));
  ASSERT_EQ(state(), TcpState::kClosed);
  EXPECT_EQ(counters_.phases.open_passive.count(), 1u);
  EXPECT_EQ(counters_.phases.lifetime.count(), 0u);
  EXPECT_EQ(counters_.phases.close.count(), 0u);
  EXPECT_EQ(counters_.phases.time_wait.count(), 0u);
}

TEST_F(TcpTest, CloseWithUnreadDataSendsReset) {
  EstablishPassive();
  Send(Seg(kAck | kPsh, kPeerIss + 1, kIss + 1, 65535, 10));
  EXPECT_EQ(conn_->unread(), 10u);
  sent_.clear();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Close(now, out); });
  ExpectSent(Out(kRst, kIss + 1));
  EXPECT_EQ(state(), TcpState::kClosed);
  ExpectNothingSent();
}

TEST_F(TcpTest, CloseInSynSentSendsNothingAndLateSynAckGetsReset) {
  New();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Connect(now, {kOurPort, kPeerPort}, SeqNum(kIss), out); });
  TakeSent();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Close(now, out); });
  EXPECT_EQ(state(), TcpState::kClosed);
  ExpectNothingSent();
  // The connection is gone; the table answers a late SYN-ACK as an unmatched segment.
  std::optional<TcpSegment> rst = ResetForUnmatched(Seg(kSyn | kAck, kPeerIss, kIss + 1));
  ASSERT_TRUE(rst.has_value());
  EXPECT_EQ(*rst, Out(kRst, kIss + 1));
  // And a closed connection object does the same.
  Send(Seg(kSyn | kAck, kPeerIss, kIss + 1));
  ExpectSent(Out(kRst, kIss + 1));
}

TEST_F(TcpTest, SegmentWithoutAckIsDropped) {
  EstablishPassive();
  Send(Seg(kPsh, kPeerIss + 1, 0, 65535, 50));
  EXPECT_EQ(delivered_, 0u);
  ExpectNothingSent();
  EXPECT_EQ(counters_.no_ack_flag, 1u);
  EXPECT_EQ(state(), TcpState::kEstablished);
}

TEST_F(TcpTest, UnacceptableSegmentsAreAckedAndDropped) {
  EstablishPassive();
  Send(Seg(kAck, kPeerIss + 1 + 70000, kIss + 1, 65535, 10));  // beyond the window
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 1));
  Send(Seg(kAck, kPeerIss - 100, kIss + 1, 65535, 10));  // entirely old
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 1));
  EXPECT_EQ(counters_.unacceptable, 2u);
  EXPECT_EQ(delivered_, 0u);
}

TEST_F(TcpTest, ZeroWindowAcceptability) {
  config_.rcv_buffer = 100;
  EstablishPassive();
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 65535, 100));  // fills the window
  EXPECT_EQ(delivered_, 100u);
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 101, 0));  // window full: ACK at once (no delay can help)
  // Zero window: a data segment is not acceptable but its ACK is still processed.
  uint32_t n = 0;
  App([&](TcpConnection& c, Instant now, TcpOutput& out) { n = c.Send(now, 5, out); });
  ExpectSent(Out(kAck | kPsh, kIss + 1, kPeerIss + 101, 0, 5));
  Send(Seg(kAck, kPeerIss + 101, kIss + 6, 65535, 1));
  EXPECT_EQ(delivered_, 100u);
  EXPECT_EQ(conn_->snd_una(), SeqNum(kIss + 6));
  ExpectSent(Out(kAck, kIss + 6, kPeerIss + 101, 0));
  // A zero-length segment at RCV.NXT is acceptable.
  Send(Seg(kAck, kPeerIss + 101, kIss + 6));
  ExpectNothingSent();
}

TEST_F(TcpTest, Rfc5961ResetHandling) {
  EstablishPassive();
  Send(Seg(kRst, kPeerIss + 1 + 100000));  // outside the window: silently dropped
  ExpectNothingSent();
  EXPECT_EQ(state(), TcpState::kEstablished);
  Send(Seg(kRst, kPeerIss + 50));  // in the window, not exact: challenge ACK
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 1));
  EXPECT_EQ(state(), TcpState::kEstablished);
  EXPECT_EQ(counters_.challenge_acks, 1u);
  Send(Seg(kRst, kPeerIss + 1));  // exactly RCV.NXT: reset
  EXPECT_EQ(state(), TcpState::kClosed);
  EXPECT_EQ(error_, TcpError::kReset);
  ExpectNothingSent();
}

TEST_F(TcpTest, Rfc5961SynInSynchronizedStateGetsChallengeAck) {
  EstablishPassive();
  Send(Seg(kSyn, kPeerIss + 10));
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 1));
  EXPECT_EQ(state(), TcpState::kEstablished);
  now_ = now_ + config_.challenge_ack_interval;
  Send(Seg(kSyn, kPeerIss + 1));  // even at RCV.NXT
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 1));
  EXPECT_EQ(state(), TcpState::kEstablished);
}

TEST_F(TcpTest, Rfc5961AckRange) {
  EstablishPassive();
  Send(Seg(kAck, kPeerIss + 1, kIss + 500));  // acknowledges data never sent
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 1));
  EXPECT_EQ(counters_.ack_too_new, 1u);
  now_ = now_ + config_.challenge_ack_interval;
  Send(Seg(kAck, kPeerIss + 1, kIss + 1 - 70000));  // older than SND.UNA - MAX.SND.WND
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 1));
  EXPECT_EQ(counters_.ack_too_old, 1u);
  Send(Seg(kAck, kPeerIss + 1, kIss + 1 - 100));  // old but within MAX.SND.WND: fine, ignored
  ExpectNothingSent();
  EXPECT_EQ(state(), TcpState::kEstablished);
}

// One stamp limits every ACK sent in answer to an invalid segment (as Linux's last_oow_ack_time): a
// challenge ACK holds back the answer to an out-of-window pure ACK, and the other way round.
TEST_F(TcpTest, ChallengeAcksAndOutOfWindowAnswersShareOneRateLimit) {
  EstablishPassive();
  Send(Seg(kSyn, kPeerIss + 10));  // challenge ACK
  EXPECT_EQ(sent_.size(), 1u);
  sent_.clear();
  now_ = now_ + config_.challenge_ack_interval - Duration::Nanoseconds(1);
  Send(Seg(kAck, kPeerIss + 1 + 200000, kIss + 1));  // out of window, data-less
  ExpectNothingSent();
  EXPECT_EQ(counters_.oow_acks_limited, 1u);
  now_ = now_ + Duration::Nanoseconds(1);
  Send(Seg(kAck, kPeerIss + 1 + 200000, kIss + 1));
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 1));
  Send(Seg(kSyn, kPeerIss + 10));  // within the interval of that answer
  ExpectNothingSent();
  EXPECT_EQ(counters_.challenge_acks_conn_limited, 1u);
}

TEST_F(TcpTest, ChallengeAcksAreRateLimitedPerConnection) {
  EstablishPassive();
  for (int i = 0; i < 5; ++i) Send(Seg(kSyn, kPeerIss + 10));
  EXPECT_EQ(sent_.size(), 1u);  // one per challenge_ack_interval
  EXPECT_EQ(counters_.challenge_acks_conn_limited, 4u);
  sent_.clear();
  now_ = now_ + config_.challenge_ack_interval - Duration::Nanoseconds(1);
  Send(Seg(kSyn, kPeerIss + 10));
  ExpectNothingSent();
  now_ = now_ + Duration::Nanoseconds(1);
  Send(Seg(kSyn, kPeerIss + 10));
  EXPECT_EQ(sent_.size(), 1u);
  sent_.clear();
}

TEST_F(TcpTest, ChallengeAcksAreRateLimitedPerEngine) {
  config_.challenge_ack_interval = Duration();
  limiter_ = ChallengeAckLimiter(2);  // a budget of 1 or 2 per second
  EstablishPassive();
  for (int i = 0; i < 5; ++i) Send(Seg(kSyn, kPeerIss + 10));
  EXPECT_EQ(sent_.size(), limiter_.budget());
  EXPECT_EQ(counters_.challenge_acks_suppressed, 5u - limiter_.budget());
  sent_.clear();
  now_ = now_ + Duration::Seconds(1);
  Send(Seg(kSyn, kPeerIss + 10));
  EXPECT_EQ(sent_.size(), 1u);
  sent_.clear();
}

// The engine-wide budget is random per second within [n/2, 3n/2): an off-path observer counting the
// challenge ACKs it can draw learns nothing exact from the count.
TEST(ChallengeAckLimiter, BudgetVariesWithinHalfToThreeHalves) {
  ChallengeAckLimiter l(1000, 42);
  Instant t = Instant::FromNanoseconds(int64_t{5} * 1000000000);
  std::set<uint32_t> budgets;
  for (int s = 0; s < 50; ++s, t = t + Duration::Seconds(1)) {
    uint32_t n = 0;
    while (l.Allow(t) && n < 5000) ++n;
    EXPECT_GE(n, 500u);
    EXPECT_LT(n, 1500u);
    EXPECT_EQ(n, l.budget());
    budgets.insert(n);
  }
  EXPECT_GT(budgets.size(), 40u);
}

TEST_F(TcpTest, SynReceivedBadAckIsReset) {
  New();
  App([this](TcpConnection& c, Instant now, TcpOutput& out) {
    c.AcceptSyn(now, WithPeerOptions(Seg(kSyn, kPeerIss)), SeqNum(kIss), out);
  });
  TakeSent();
  Send(Seg(kAck, kPeerIss + 1, kIss + 99));
  ExpectSent(Out(kRst, kIss + 99));
  EXPECT_EQ(state(), TcpState::kSynReceived);
}

TEST(TcpReset, ForSegmentsMatchingNoConnection) {
  // ACK set: <SEQ=SEG.ACK><CTL=RST>.
  EXPECT_EQ(*ResetForUnmatched(Seg(kAck, 7, 1234)), Out(kRst, 1234));
  // No ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN and FIN counting in SEG.LEN.
  TcpSegment want = Out(kRst | kAck, 0, 8);
  EXPECT_EQ(*ResetForUnmatched(Seg(kSyn, 7, 0, 0)), want);
  TcpSegment data_fin = Seg(kFin | kPsh, 7, 0, 0, 10);
  want.ack = SeqNum(18);
  EXPECT_EQ(*ResetForUnmatched(data_fin), want);
  // Never a RST for a RST.
  EXPECT_FALSE(ResetForUnmatched(Seg(kRst, 7)).has_value());
  EXPECT_FALSE(ResetForUnmatched(Seg(kRst | kAck, 7, 9)).has_value());
}

TEST(TcpListen, Rfc9293ListenRules) {
  EXPECT_EQ(ListenInput(Seg(kRst, 1)), ListenAction::kIgnore);
  EXPECT_EQ(ListenInput(Seg(kAck, 1, 2)), ListenAction::kSendReset);
  EXPECT_EQ(ListenInput(Seg(kSyn | kAck, 1, 2)), ListenAction::kSendReset);
  EXPECT_EQ(ListenInput(Seg(kSyn, 1)), ListenAction::kAcceptSyn);
  EXPECT_EQ(ListenInput(Seg(kFin, 1)), ListenAction::kIgnore);
}

TEST_F(TimeWaitTest, ExpiresAtExactlyTwoMsl) {
  config_.msl = Duration::Seconds(5);
  EnterTimeWait();
  const Instant entered = now_;
  EXPECT_EQ(conn_->NextDeadline(), entered + Duration::Seconds(10));
  RunUntil(entered + Duration::Seconds(10) - Duration::Nanoseconds(1));
  EXPECT_EQ(state(), TcpState::kTimeWait);
  RunUntil(entered + Duration::Seconds(10));
  EXPECT_EQ(state(), TcpState::kClosed);
  EXPECT_TRUE(events_ & tcp_events::kClosed);
}

TEST_F(TimeWaitTest, OldSynIsAckedAndDropped) {
  EnterTimeWait();
  Send(Seg(kSyn, kPeerIss + 1));  // not above RCV.NXT (PeerIss+2)
  ExpectSent(Out(kAck, kIss + 2, kPeerIss + 2));
  EXPECT_EQ(state(), TcpState::kTimeWait);
  EXPECT_FALSE(events_ & tcp_events::kReuseSyn);
}

TEST_F(TimeWaitTest, NewerSynEndsTimeWait) {
  EnterTimeWait();
  Send(Seg(kSyn, kPeerIss + 100000));
  EXPECT_EQ(state(), TcpState::kClosed);
  EXPECT_TRUE(events_ & tcp_events::kReuseSyn);
  ExpectNothingSent();
}

TEST_F(TimeWaitTest, ResetDoesNotAssassinateTimeWait) {
  EnterTimeWait();
  Send(Seg(kRst, kPeerIss + 2));
  EXPECT_EQ(state(), TcpState::kTimeWait);
  ExpectNothingSent();
}

TEST_F(TimeWaitTest, TimestampsDecideSynAcceptance) {
  config_.timestamps = true;
  New();
  TcpSegment syn = Seg(kSyn, kPeerIss);
  syn.options.timestamps = TcpTimestamps{100, 0};
  App([&](TcpConnection& c, Instant now, TcpOutput& out) { c.AcceptSyn(now, syn, SeqNum(kIss), out); });
  auto with_ts = [](TcpSegment s, uint32_t tsval) {
    s.options.timestamps = TcpTimestamps{tsval, 0};
    return s;
  };
  Send(with_ts(Seg(kAck, kPeerIss + 1, kIss + 1), 101));
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Close(now, out); });
  Send(with_ts(Seg(kAck, kPeerIss + 1, kIss + 2), 102));
  Send(with_ts(Seg(kAck | kFin, kPeerIss + 1, kIss + 2), 103));
  ASSERT_EQ(state(), TcpState::kTimeWait);
  sent_.clear();
  // Lower sequence number but a newer timestamp (RFC 6191): accepted.
  EXPECT_TRUE(conn_->TimeWaitAcceptsSyn(with_ts(Seg(kSyn, kPeerIss - 5000), 104)));
  // Higher sequence number but an old timestamp: refused.
  EXPECT_FALSE(conn_->TimeWaitAcceptsSyn(with_ts(Seg(kSyn, kPeerIss + 5000), 103)));
  Send(with_ts(Seg(kSyn, kPeerIss + 5000), 90));
  EXPECT_EQ(state(), TcpState::kTimeWait);
  EXPECT_EQ(TakeSent().seg.flags, kAck);
}

TEST_F(TimeWaitTest, CompactFormBehavesLikeTheConnection) {
  config_.msl = Duration::Seconds(5);
  EnterTimeWait();
  static_assert(sizeof(TimeWaitEntry) <= 32, "TIME-WAIT entries must stay compact");
  TimeWaitEntry tw = conn_->ToTimeWait();
  EXPECT_EQ(tw.expires, now_ + Duration::Seconds(10));
  now_ = now_ + Duration::Seconds(3);
  TcpOutput out;
  EXPECT_FALSE(TimeWaitInput(tw, now_, Seg(kAck | kFin, kPeerIss + 1, kIss + 2), config_, counters_, out));
  ASSERT_EQ(out.segments.size(), 1u);
  TcpSegment got = out.segments[0].seg, want = Out(kAck, kIss + 2, kPeerIss + 2);
  Normalize(got, want);
  EXPECT_EQ(got, want);
  EXPECT_EQ(tw.expires, now_ + Duration::Seconds(10));  // restarted
  out.Clear();
  EXPECT_FALSE(TimeWaitInput(tw, now_, Seg(kAck, kPeerIss + 2, kIss + 2), config_, counters_, out));
  EXPECT_TRUE(out.segments.empty());  // a plain duplicate ACK needs no answer
  EXPECT_FALSE(TimeWaitInput(tw, now_, Seg(kRst, kPeerIss + 2), config_, counters_, out));
  EXPECT_TRUE(out.segments.empty());
  EXPECT_FALSE(TimeWaitInput(tw, now_, Seg(kSyn, kPeerIss), config_, counters_, out));
  EXPECT_EQ(out.segments.size(), 1u);
  out.Clear();
  EXPECT_TRUE(TimeWaitInput(tw, now_, Seg(kSyn, kPeerIss + 10), config_, counters_, out));
  EXPECT_TRUE(out.segments.empty());
}

TEST_F(TcpTest, OrphanedFinWait2TimesOut) {
  config_.fin_wait2_timeout = Duration::Seconds(60);
  EstablishPassive();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Close(now, out); });
  TakeSent();
  Send(Seg(kAck, kPeerIss + 1, kIss + 2));
  ASSERT_EQ(state(), TcpState::kFinWait2);
  const Instant t = now_;
  RunUntil(t + Duration::Seconds(60) - Duration::Nanoseconds(1));
  EXPECT_EQ(state(), TcpState::kFinWait2);
  RunUntil(t + Duration::Seconds(60));
  EXPECT_EQ(state(), TcpState::kClosed);
  ExpectNothingSent();
}

TEST_F(TcpTest, HalfCloseKeepsReading) {
  EstablishPassive();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Shutdown(now, out); });
  ExpectSent(Out(kAck | kFin, kIss + 1, kPeerIss + 1));
  Send(Seg(kAck, kPeerIss + 1, kIss + 2));
  ASSERT_EQ(state(), TcpState::kFinWait2);
  EXPECT_EQ(conn_->NextDeadline(), Instant::Never());  // not orphaned: no FIN-WAIT-2 timeout
  Send(Seg(kAck | kPsh, kPeerIss + 1, kIss + 2, 65535, 200));
  EXPECT_EQ(delivered_, 200u);
  App([](TcpConnection& c, Instant now, TcpOutput& out) { EXPECT_EQ(c.Send(now, 10, out), 0u); });  // write side closed
}

TEST_F(TcpTest, AbortSendsReset) {
  EstablishPassive();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Abort(now, out); });
  ExpectSent(Out(kRst, kIss + 1));
  EXPECT_EQ(state(), TcpState::kClosed);
  EXPECT_EQ(error_, TcpError::kAborted);
}

TEST_F(TcpTest, RtoBackoffAndKarn) {
  EstablishPassive();
  const uint64_t samples = counters_.rtt_samples;  // the handshake gave one (SYN-ACK to ACK: 0 ms)
  ASSERT_EQ(samples, 1u);
  uint32_t n = 0;
  App([&](TcpConnection& c, Instant now, TcpOutput& out) { n = c.Send(now, 100, out); });
  ExpectSent(Out(kAck | kPsh, kIss + 1, kPeerIss + 1, 65535, 100));
  now_ = now_ + Duration::Milliseconds(80);
  Send(Seg(kAck, kPeerIss + 1, kIss + 101));
  EXPECT_EQ(counters_.rtt_samples, 2u);
  // RFC 6298 2.3 from SRTT 0, RTTVAR 0: RTTVAR = 80/4 = 20 ms, SRTT = 80/8 = 10 ms, RTO = 10 + 80 = 90 ms,
  // clamped to the 200 ms minimum.
  EXPECT_EQ(conn_->rto().srtt(), Duration::Milliseconds(10));
  EXPECT_EQ(conn_->rto().rttvar(), Duration::Milliseconds(20));
  EXPECT_EQ(conn_->rto().rto(), Duration::Milliseconds(200));
  EXPECT_TRUE(events_ & tcp_events::kAcked);

  App([&](TcpConnection& c, Instant now, TcpOutput& out) { n = c.Send(now, 100, out); });
  ExpectSent(Out(kAck | kPsh, kIss + 101, kPeerIss + 1, 65535, 100));
  const Instant sent_at = now_;
  Advance(Duration::Milliseconds(199));
  ExpectNothingSent();
  RunUntil(sent_at + Duration::Milliseconds(200));
  ExpectSent(Out(kAck | kPsh, kIss + 101, kPeerIss + 1, 65535, 100));  // earliest unacknowledged segment
  RunUntil(sent_at + Duration::Milliseconds(600));                     // backed off: 400 ms later
  ExpectSent(Out(kAck | kPsh, kIss + 101, kPeerIss + 1, 65535, 100));
  EXPECT_EQ(conn_->rto().rto(), Duration::Milliseconds(800));
  // The ACK of a retransmitted segment gives no RTT sample (Karn), and the backed-off RTO stays.
  now_ = now_ + Duration::Milliseconds(10);
  Send(Seg(kAck, kPeerIss + 1, kIss + 201));
  EXPECT_EQ(counters_.rtt_samples, 2u);
  EXPECT_EQ(conn_->rto().srtt(), Duration::Milliseconds(10));
  EXPECT_EQ(counters_.retransmits, 2u);
  EXPECT_EQ(conn_->NextDeadline(), Instant::Never());
}

TEST_F(TcpTest, RetransmissionLimitTimesOut) {
  config_.max_retransmits = 3;
  EstablishPassive();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Send(now, 10, out); });
  TakeSent();
  Advance(Duration::Seconds(100));
  EXPECT_EQ(sent_.size(), 3u);  // three retransmissions (1 s, 2 s, 4 s apart), then give up
  sent_.clear();
  EXPECT_EQ(state(), TcpState::kClosed);
  EXPECT_EQ(error_, TcpError::kTimedOut);
}

TEST_F(TcpTest, DelayedAck) {
  EstablishPassive();
  // One full-sized segment: ACK delayed by 40 ms.
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 65535, 1460));
  ExpectNothingSent();
  Advance(Duration::Milliseconds(39));
  ExpectNothingSent();
  Advance(Duration::Milliseconds(1));
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 1461, 65535 - 1460));
  EXPECT_EQ(counters_.delayed_acks, 1u);
  // Two full-sized segments: the second is ACKed at once.
  Send(Seg(kAck, kPeerIss + 1461, kIss + 1, 65535, 1460));
  ExpectNothingSent();
  Send(Seg(kAck, kPeerIss + 2921, kIss + 1, 65535, 1460));
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 4381, 65535 - 4380));
  // A small segment is delayed too, and outgoing data carries the ACK instead.
  Send(Seg(kAck, kPeerIss + 4381, kIss + 1, 65535, 10));
  ExpectNothingSent();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Send(now, 5, out); });
  ExpectSent(Out(kAck | kPsh, kIss + 1, kPeerIss + 4391, 65535 - 4390, 5));
  EXPECT_EQ(conn_->NextDeadline(), now_ + conn_->rto().rto());  // only the RTO remains
}

TEST_F(TcpTest, ReadingOpensTheWindowWithAnUpdate) {
  config_.rcv_buffer = 4000;
  EstablishPassive();
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 65535, 1460));
  Send(Seg(kAck, kPeerIss + 1461, kIss + 1, 65535, 1460));
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 2921, 4000 - 2920));
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Consume(now, 2920, out); });
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 2921, 4000));
}

TEST_F(TcpTest, KeepaliveProbes) {
  config_.keepalive = true;
  config_.keepalive_idle = Duration::Seconds(10);
  config_.keepalive_interval = Duration::Seconds(1);
  config_.keepalive_probes = 3;
  EstablishPassive();
  Advance(Duration::Seconds(10));
  ExpectSent(Out(kAck, kIss, kPeerIss + 1));  // SEQ = SND.UNA - 1
  Send(Seg(kAck, kPeerIss + 1, kIss + 1));    // the peer answers: idle again
  Advance(Duration::Seconds(9));
  ExpectNothingSent();
  Advance(Duration::Seconds(1));
  ExpectSent(Out(kAck, kIss, kPeerIss + 1));
  Advance(Duration::Seconds(1));
  ExpectSent(Out(kAck, kIss, kPeerIss + 1));
  Advance(Duration::Seconds(1));
  ExpectSent(Out(kAck, kIss, kPeerIss + 1));
  EXPECT_EQ(state(), TcpState::kEstablished);
  Advance(Duration::Seconds(1));  // three probes unanswered
  EXPECT_EQ(state(), TcpState::kClosed);
  EXPECT_EQ(error_, TcpError::kTimedOut);
  EXPECT_EQ(counters_.keepalive_probes, 4u);
}

TEST_F(TcpTest, KeepaliveIsOffByDefault) {
  EstablishPassive();
  EXPECT_EQ(conn_->NextDeadline(), Instant::Never());
}

TEST_F(TcpTest, PersistProbesAZeroWindow) {
  EstablishPassive();
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 0));  // peer closes its window
  App([](TcpConnection& c, Instant now, TcpOutput& out) { EXPECT_EQ(c.Send(now, 300, out), 300u); });
  ExpectNothingSent();
  const Instant t0 = now_;
  ASSERT_EQ(conn_->rto().rto(), Duration::Milliseconds(200));  // after the handshake's RTT sample
  RunUntil(t0 + Duration::Milliseconds(199));
  ExpectNothingSent();
  RunUntil(t0 + Duration::Milliseconds(200));  // first probe after one RTO
  ExpectSent(Out(kAck, kIss, kPeerIss + 1));
  RunUntil(t0 + Duration::Milliseconds(599));
  ExpectNothingSent();
  RunUntil(t0 + Duration::Milliseconds(600));  // then backing off: 400 ms
  ExpectSent(Out(kAck, kIss, kPeerIss + 1));
  RunUntil(t0 + Duration::Milliseconds(1400));  // 800 ms
  ExpectSent(Out(kAck, kIss, kPeerIss + 1));
  ExpectNothingSent();
  EXPECT_EQ(counters_.persist_probes, 3u);
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 1000));  // window opens: data flows, probing stops
  ExpectSent(Out(kAck | kPsh, kIss + 1, kPeerIss + 1, 65535, 300));
  EXPECT_EQ(conn_->NextDeadline(), now_ + conn_->rto().rto());  // only the retransmission timer
}

TEST_F(TcpTest, SendRespectsWindowAndMss) {
  EstablishPassive();
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 1072));  // two segments' worth
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Send(now, 3000, out); });
  // Peer MSS defaulted to 536 (no option in its SYN).
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 1, 65535, 536));
  OutSegment second = TakeSent();
  EXPECT_EQ(second.seg.payload_len, 536u);
  EXPECT_EQ(second.data_offset, 536u);
  ExpectNothingSent();
  Send(Seg(kAck, kPeerIss + 1, kIss + 537, 1072));
  OutSegment third = TakeSent();
  EXPECT_EQ(third.seg.seq, SeqNum(kIss + 1073));
  EXPECT_EQ(third.data_offset, 536u);  // offsets count from SND.UNA
  EXPECT_EQ(third.seg.payload_len, 536u);
}

// RFC 9293 3.8.6.2.1 (MUST-38): with data in flight, a piece the peer's window cuts short waits (it
// would be a silly small segment) until the window allows a full one or half the peer's largest window.
TEST_F(TcpTest, SenderAvoidsSillyWindowSegmentsWhileDataIsInFlight) {
  EstablishPassive();  // the SYN offered 65535
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 1000));
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Send(now, 3000, out); });
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 1, 65535, 536));
  ExpectNothingSent();                              // 464 bytes would fit, but they wait
  Send(Seg(kAck, kPeerIss + 1, kIss + 537, 1000));  // window slides: a full segment fits
  ExpectSent(Out(kAck, kIss + 537, kPeerIss + 1, 65535, 536));
  ExpectNothingSent();
  // Nothing in flight: whatever the window allows goes (no deadlock waiting for an ACK).
  Send(Seg(kAck, kPeerIss + 1, kIss + 1073, 300));
  ExpectSent(Out(kAck, kIss + 1073, kPeerIss + 1, 65535, 300));
}

// Nagle (RFC 9293 3.7.4): a small final piece waits while data is in flight; no-delay sends it.
TEST_F(TcpTest, NagleHoldsASmallSegmentWhileDataIsInFlight) {
  EstablishPassive();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Send(now, 600, out); });
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 1, 65535, 536));
  ExpectNothingSent();  // 64 bytes wait for the ACK
  Send(Seg(kAck, kPeerIss + 1, kIss + 537));
  ExpectSent(Out(kAck | kPsh, kIss + 537, kPeerIss + 1, 65535, 64));
  // A small write with nothing in flight goes at once.
  Send(Seg(kAck, kPeerIss + 1, kIss + 601));
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Send(now, 10, out); });
  ExpectSent(Out(kAck | kPsh, kIss + 601, kPeerIss + 1, 65535, 10));
}

TEST_F(TcpTest, NoDelaySendsSmallSegmentsAtOnce) {
  EstablishPassive();
  conn_->set_nodelay(true);
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Send(now, 600, out); });
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 1, 65535, 536));
  ExpectSent(Out(kAck | kPsh, kIss + 537, kPeerIss + 1, 65535, 64));
}

TEST_F(TcpTest, SequenceWrapAroundMidTransfer) {
  New();
  const uint32_t iss = 0xffffff00u;
  const uint32_t peer_iss = 0xfffffff0u;
  TcpSegment syn = Seg(kSyn, peer_iss);
  syn.options.mss = 1000;
  App([&](TcpConnection& c, Instant now, TcpOutput& out) { c.AcceptSyn(now, syn, SeqNum(iss), out); });
  TakeSent();
  Send(Seg(kAck, peer_iss + 1, iss + 1));
  ASSERT_EQ(state(), TcpState::kEstablished);
  uint32_t peer_seq = peer_iss + 1;
  uint32_t our_seq = iss + 1;
  for (int i = 0; i < 10; ++i) {
    Send(Seg(kAck, peer_seq, our_seq, 65535, 100));
    EXPECT_EQ(out_.deliver_len, 100u) << i;
    peer_seq += 100;
    App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Send(now, 100, out); });
    OutSegment s = sent_.back();
    sent_.clear();
    EXPECT_EQ(s.seg.seq, SeqNum(our_seq));
    EXPECT_EQ(s.seg.ack, SeqNum(peer_seq));
    our_seq += 100;
    Send(Seg(kAck, peer_seq, our_seq));
    EXPECT_EQ(conn_->snd_una(), SeqNum(our_seq));
  }
  EXPECT_LT(our_seq, iss);  // both sequence spaces wrapped
  EXPECT_LT(peer_seq, peer_iss);
  EXPECT_EQ(delivered_, 1000u);
  EXPECT_EQ(conn_->rcv_nxt(), SeqNum(peer_seq));
}

TEST(SeqNum, ComparesAcrossTheWrap) {
  EXPECT_LT(SeqNum(0xfffffff0u), SeqNum(5));
  EXPECT_GT(SeqNum(5), SeqNum(0xfffffff0u));
  EXPECT_EQ(SeqNum(5) - SeqNum(0xfffffff0u), 21);
  EXPECT_TRUE(InHalfOpen(SeqNum(0xfffffff0u), SeqNum(2), SeqNum(10)));
  EXPECT_FALSE(InHalfOpen(SeqNum(0xfffffff0u), SeqNum(10), SeqNum(10)));
  EXPECT_EQ(SeqNum(0xffffffffu) + 2, SeqNum(1));
}

}  // namespace
}  // namespace synack
