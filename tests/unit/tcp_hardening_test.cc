// Wire values that bound work, and the protocol defects a hostile or unlucky peer could exploit, each
// with exact segments: MSS clamping, Karn on repeated SYNs, CLOSE in SYN-RECEIVED, and the edges of
// every comparison in the acceptability and handshake tests (one test on each side of each edge).
#include <gtest/gtest.h>

#include "lib/tcp/connection.h"
#include "tests/unit/tcp_fixture.h"

namespace synack {
namespace {

using namespace tcp_flags;
using namespace tcp_test;

// --- Effective send MSS --------------------------------------------------------------------------

TEST(EffectiveSendMss, EveryPeerMssClampsBetweenTheFloorAndOurMss) {
  TcpConfig c;  // mss 1460, floor 48
  struct Case {
    uint16_t peer;
    bool ts;
    uint16_t want;
  };
  for (const Case& k : std::initializer_list<Case>{
           {0, false, 48},      {0, true, 48},       {1, false, 48},      {1, true, 48},      {11, true, 48},
           {12, true, 48},      {13, true, 48},      {47, false, 48},     {48, false, 48},    {49, false, 49},
           {59, true, 48},      {60, true, 48},      {61, true, 49},      {536, false, 536},  {536, true, 524},
           {1459, false, 1459}, {1460, false, 1460}, {1461, false, 1460}, {1460, true, 1448}, {65535, true, 1448},
           {65535, false, 1460}}) {
    EXPECT_EQ(EffectiveSendMss(c, k.peer, k.ts), k.want) << "peer " << k.peer << " ts " << k.ts;
  }
}

TEST(EffectiveSendMss, ConfigIsClampedToo) {
  TcpConfig c;
  c.min_snd_mss = 0;  // would allow empty segments: at least one byte
  EXPECT_EQ(EffectiveSendMss(c, 0, true), 1);
  c.min_snd_mss = 2000;  // above our own MSS: the MSS wins
  EXPECT_EQ(EffectiveSendMss(c, 100, false), 1460);
  c.mss = 0;
  c.min_snd_mss = 48;
  EXPECT_EQ(EffectiveSendMss(c, 0, true), 1);
}

TEST_F(TcpTest, PeerMssZeroWithTimestampsSendsFloorSizedSegmentsAndStops) {
  config_.timestamps = true;
  config_.nodelay = true;
  config_.initial_cwnd_segments = 100;  // the whole kilobyte in one flight
  for (uint16_t peer_mss : {0, 1, 11, 12}) {
    TcpSegment syn = Seg(kSyn, kPeerIss);
    syn.options.mss = peer_mss;
    syn.options.timestamps = TcpTimestamps{100, 0};
    EstablishPassiveFrom(syn);
    ASSERT_EQ(conn_->snd_mss(), 48) << peer_mss;
    uint32_t accepted = 0;
    App([&](TcpConnection& c, Instant now, TcpOutput& out) { accepted = c.Send(now, 1000, out); });
    EXPECT_EQ(accepted, 1000u);
    // ceil(1000 / 48) = 21 segments, none empty, the last one 40 bytes.
    ASSERT_EQ(sent_.size(), 21u) << peer_mss;
    uint32_t bytes = 0;
    for (const OutSegment& o : sent_) {
      EXPECT_GT(o.seg.payload_len, 0u);
      EXPECT_LE(o.seg.payload_len, 48u);
      bytes += o.seg.payload_len;
    }
    EXPECT_EQ(bytes, 1000u);
    EXPECT_EQ(sent_.back().seg.payload_len, 40u);
    sent_.clear();
  }
}

TEST_F(TcpTest, PeerMssOneWithoutTimestampsUsesTheFloor) {
  config_.nodelay = true;  // every piece at once (no Nagle wait for the last one)
  TcpSegment syn = Seg(kSyn, kPeerIss);
  syn.options.mss = 1;
  EstablishPassiveFrom(syn);
  EXPECT_EQ(conn_->snd_mss(), 48);
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Send(now, 100, out); });
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 1, 65535, 48));
  ExpectSent(Out(kAck, kIss + 49, kPeerIss + 1, 65535, 48));
  ExpectSent(Out(kAck | kPsh, kIss + 97, kPeerIss + 1, 65535, 4));
  ExpectNothingSent();
}

TEST_F(TcpTest, ActiveOpenClampsTheSynAcksMssToo) {
  config_.timestamps = true;
  New();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Connect(now, {kOurPort, kPeerPort}, SeqNum(kIss), out); });
  TakeSent();
  TcpSegment synack = Seg(kSyn | kAck, kPeerIss, kIss + 1);
  synack.options.mss = 0;
  synack.options.timestamps = TcpTimestamps{5, 1};
  Send(synack);
  ASSERT_EQ(state(), TcpState::kEstablished);
  EXPECT_EQ(conn_->snd_mss(), 48);
}

// --- Handshake defects -----------------------------------------------------------------------------

// A repeated SYN makes us send the SYN-ACK twice: the ACK that completes the handshake cannot say
// which one it answers, so it must not be an RTT sample (Karn).
TEST_F(TcpTest, RepeatedSynCancelsHandshakeRttTiming) {
  New();
  App([this](TcpConnection& c, Instant now, TcpOutput& out) {
    c.AcceptSyn(now, WithPeerOptions(Seg(kSyn, kPeerIss)), SeqNum(kIss), out);
  });
  TakeSent();
  now_ = now_ + Duration::Milliseconds(900);
  Send(Seg(kSyn, kPeerIss));
  EXPECT_EQ(TakeSent().seg.flags, kSyn | kAck);
  now_ = now_ + Duration::Milliseconds(5);
  Send(Seg(kAck, kPeerIss + 1, kIss + 1));
  ASSERT_EQ(state(), TcpState::kEstablished);
  EXPECT_EQ(counters_.rtt_samples, 0u);
  EXPECT_FALSE(conn_->rto().has_sample());
}

TEST_F(TcpTest, UnrepeatedSynAckGivesAnRttSample) {  // the other side of the edge above
  New();
  App([this](TcpConnection& c, Instant now, TcpOutput& out) {
    c.AcceptSyn(now, WithPeerOptions(Seg(kSyn, kPeerIss)), SeqNum(kIss), out);
  });
  TakeSent();
  now_ = now_ + Duration::Milliseconds(5);
  Send(Seg(kAck, kPeerIss + 1, kIss + 1));
  EXPECT_EQ(counters_.rtt_samples, 1u);
  EXPECT_EQ(conn_->rto().srtt(), Duration::Milliseconds(5));
}

// RFC 9293 3.10.4: CLOSE in SYN-RECEIVED is queued until ESTABLISHED. Until then the retransmission
// timer resends the SYN-ACK (never a malformed data segment or a FIN before our SYN is acknowledged).
TEST_F(TcpTest, ShutdownInSimultaneousOpenSynReceivedWaitsForEstablished) {
  New();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Connect(now, {kOurPort, kPeerPort}, SeqNum(kIss), out); });
  TakeSent();
  Send(Seg(kSyn, kPeerIss));
  ASSERT_EQ(state(), TcpState::kSynReceived);
  TakeSent();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Shutdown(now, out); });
  EXPECT_EQ(state(), TcpState::kSynReceived);
  ExpectNothingSent();
  EXPECT_FALSE(conn_->can_send());
  Advance(Duration::Seconds(1));
  TcpSegment synack = Out(kSyn | kAck, kIss, kPeerIss + 1);
  synack.options.mss = 1460;
  ExpectSent(synack);
  // The peer's ACK of our SYN: ESTABLISHED, then at once FIN-WAIT-1 with our FIN.
  Send(Seg(kAck, kPeerIss + 1, kIss + 1));
  EXPECT_EQ(state(), TcpState::kFinWait1);
  ExpectSent(Out(kAck | kFin, kIss + 1, kPeerIss + 1));
  Send(Seg(kAck | kFin, kPeerIss + 1, kIss + 2));
  EXPECT_EQ(state(), TcpState::kTimeWait);
  ExpectSent(Out(kAck, kIss + 2, kPeerIss + 2));
}

TEST_F(TcpTest, ShutdownInEstablishedSendsFinAtOnce) {  // the other side: nothing queued once synchronized
  EstablishPassive();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Shutdown(now, out); });
  EXPECT_EQ(state(), TcpState::kFinWait1);
  ExpectSent(Out(kAck | kFin, kIss + 1, kPeerIss + 1));
}

// --- Edges of the acceptability test (RFC 9293 3.10.7.4, the table) -------------------------------

TEST_F(TcpTest, EmptySegmentAtTheRightEdgeOfTheWindowIsUnacceptable) {
  EstablishPassive();                               // RCV.WND 65535
  Send(Seg(kAck, kPeerIss + 1 + 65535, kIss + 1));  // seq == RCV.NXT + RCV.WND
  EXPECT_EQ(counters_.unacceptable, 1u);
  ExpectSent(Out(kAck, kIss + 1, kPeerIss + 1));
}

TEST_F(TcpTest, EmptySegmentJustInsideTheRightEdgeIsAcceptable) {
  EstablishPassive();
  Send(Seg(kAck, kPeerIss + 1 + 65534, kIss + 1));  // seq == RCV.NXT + RCV.WND - 1
  EXPECT_EQ(counters_.unacceptable, 0u);
  ExpectNothingSent();
}

TEST_F(TcpTest, SegmentEndingJustBeforeRcvNxtIsUnacceptable) {
  EstablishPassive();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Send(now, 100, out); });
  TakeSent();
  // 10 old bytes, the last at RCV.NXT - 1, carrying an ACK of our data: dropped with its ACK.
  Send(Seg(kAck, kPeerIss + 1 - 10, kIss + 101, 65535, 10));
  EXPECT_EQ(counters_.unacceptable, 1u);
  EXPECT_EQ(conn_->snd_una(), SeqNum(kIss + 1));
  ExpectSent(Out(kAck, kIss + 101, kPeerIss + 1));
  EXPECT_EQ(delivered_, 0u);
}

TEST_F(TcpTest, SegmentEndingAtRcvNxtIsAcceptable) {
  EstablishPassive();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Send(now, 100, out); });
  TakeSent();
  // 11 bytes, the last one at RCV.NXT: acceptable; one new byte and the ACK are taken.
  Send(Seg(kAck, kPeerIss + 1 - 10, kIss + 101, 65535, 11));
  EXPECT_EQ(counters_.unacceptable, 0u);
  EXPECT_EQ(conn_->snd_una(), SeqNum(kIss + 101));
  EXPECT_EQ(delivered_, 1u);
  EXPECT_EQ(last_deliver_offset_, 10u);
  EXPECT_EQ(conn_->rcv_nxt(), SeqNum(kPeerIss + 2));
}

// --- Edges of the handshake's ACK tests -------------------------------------------------------------

TEST_F(TcpTest, AckOfIssInSynReceivedDrawsResetAndKeepsState) {
  New();
  App([this](TcpConnection& c, Instant now, TcpOutput& out) {
    c.AcceptSyn(now, WithPeerOptions(Seg(kSyn, kPeerIss)), SeqNum(kIss), out);
  });
  TakeSent();
  Send(Seg(kAck, kPeerIss + 1, kIss));  // SEG.ACK == ISS: acknowledges nothing we sent
  ExpectSent(Out(kRst, kIss));
  EXPECT_EQ(state(), TcpState::kSynReceived);
  Send(Seg(kAck, kPeerIss + 1, kIss + 2));  // SEG.ACK > SND.NXT
  ExpectSent(Out(kRst, kIss + 2));
  EXPECT_EQ(state(), TcpState::kSynReceived);
  Send(Seg(kAck, kPeerIss + 1, kIss + 1));  // SEG.ACK == SND.NXT: the one acceptable value
  EXPECT_EQ(state(), TcpState::kEstablished);
  ExpectNothingSent();
}

TEST_F(TcpTest, AckOfIssInSynSentDrawsResetAndKeepsState) {
  New();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Connect(now, {kOurPort, kPeerPort}, SeqNum(kIss), out); });
  TakeSent();
  Send(Seg(kSyn | kAck, kPeerIss, kIss));  // SEG.ACK =< ISS
  ExpectSent(Out(kRst, kIss));
  EXPECT_EQ(state(), TcpState::kSynSent);
  Send(Seg(kSyn | kAck, kPeerIss, kIss + 2));  // SEG.ACK > SND.NXT
  ExpectSent(Out(kRst, kIss + 2));
  EXPECT_EQ(state(), TcpState::kSynSent);
  Send(Seg(kSyn | kAck, kPeerIss, kIss + 1));
  EXPECT_EQ(state(), TcpState::kEstablished);
}

// RFC 7323 2.2: the window field of a segment with SYN set is never scaled.
TEST_F(TcpTest, WindowOfAPassiveSynIsNeverScaled) {
  config_.window_scale = 7;
  New();
  TcpSegment syn = Seg(kSyn, kPeerIss, 0, 1000);
  syn.options.window_scale = 7;
  App([&](TcpConnection& c, Instant now, TcpOutput& out) { c.AcceptSyn(now, syn, SeqNum(kIss), out); });
  EXPECT_EQ(conn_->snd_wnd(), 1000u);
  TakeSent();
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 1000));  // after the handshake, the same field is scaled
  EXPECT_EQ(conn_->snd_wnd(), 1000u << 7);
}

TEST_F(TcpTest, WindowOfASynAckIsNeverScaled) {
  config_.window_scale = 7;
  New();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Connect(now, {kOurPort, kPeerPort}, SeqNum(kIss), out); });
  TakeSent();
  TcpSegment synack = Seg(kSyn | kAck, kPeerIss, kIss + 1, 1000);
  synack.options.window_scale = 7;
  Send(synack);
  EXPECT_EQ(conn_->snd_wnd(), 1000u);
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 999));  // a later window update is scaled
  EXPECT_EQ(conn_->snd_wnd(), 999u << 7);
}

// --- Give-up limits ---------------------------------------------------------------------------------

// RFC 1122 4.2.2.17 keeps probing a zero window for as long as the peer answers; a peer that stops
// answering is given up on after max_retransmits probes, like a retransmission timeout.
TEST_F(TcpTest, ZeroWindowProbingGivesUpWhenThePeerVanishes) {
  config_.max_retransmits = 3;
  EstablishPassive();
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 0));
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Send(now, 300, out); });
  ExpectNothingSent();
  Advance(Duration::Seconds(30));
  // Three unanswered probes (200, 400, 800 ms apart), then at the fourth deadline a RST.
  ASSERT_EQ(sent_.size(), 4u);
  for (int i = 0; i < 3; ++i) ExpectSent(Out(kAck, kIss, kPeerIss + 1));
  ExpectSent(Out(kRst, kIss + 1));
  EXPECT_EQ(state(), TcpState::kClosed);
  EXPECT_EQ(error_, TcpError::kTimedOut);
  EXPECT_EQ(counters_.persist_timeouts, 1u);
}

TEST_F(TcpTest, ZeroWindowProbingGoesOnWhileThePeerAnswers) {
  config_.max_retransmits = 3;
  EstablishPassive();
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 0));
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Send(now, 300, out); });
  for (int probe = 0; probe < 20; ++probe) {
    RunUntil(conn_->NextDeadline());
    ASSERT_EQ(state(), TcpState::kEstablished) << "probe " << probe;
    ExpectSent(Out(kAck, kIss, kPeerIss + 1));
    Send(Seg(kAck, kPeerIss + 1, kIss + 1, 0));  // still closed, but alive
  }
  EXPECT_EQ(counters_.persist_timeouts, 0u);
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 1000));
  ExpectSent(Out(kAck | kPsh, kIss + 1, kPeerIss + 1, 65535, 300));
}

// Data for a connection the application closed (and so will never read) is answered with RST
// (RFC 2525 2.17, as Linux's TCPAbortOnData), not accepted into the orphan.
TEST_F(TcpTest, DataAfterCloseIsAnsweredWithReset) {
  EstablishPassive();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Close(now, out); });
  ExpectSent(Out(kAck | kFin, kIss + 1, kPeerIss + 1));
  Send(Seg(kAck, kPeerIss + 1, kIss + 2));
  ASSERT_EQ(state(), TcpState::kFinWait2);
  Send(Seg(kAck | kPsh, kPeerIss + 1, kIss + 2, 65535, 10));
  ExpectSent(Out(kRst, kIss + 2));
  EXPECT_EQ(state(), TcpState::kClosed);
  EXPECT_EQ(error_, TcpError::kAborted);
  EXPECT_EQ(counters_.abort_on_data, 1u);
  EXPECT_EQ(delivered_, 0u);
}

TEST_F(TcpTest, OldDataAndFinAfterCloseAreStillFine) {  // the other side of the edge: nothing new
  EstablishPassive();
  Send(Seg(kAck | kPsh, kPeerIss + 1, kIss + 1, 65535, 10));
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Consume(now, 10, out); });
  sent_.clear();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Close(now, out); });
  ExpectSent(Out(kAck | kFin, kIss + 1, kPeerIss + 11));
  Send(Seg(kAck, kPeerIss + 11, kIss + 2));
  ASSERT_EQ(state(), TcpState::kFinWait2);
  Send(Seg(kAck | kPsh, kPeerIss + 1, kIss + 2, 65535, 10));  // a retransmission of what we had
  EXPECT_EQ(state(), TcpState::kFinWait2);
  ExpectSent(Out(kAck, kIss + 2, kPeerIss + 11));
  Send(Seg(kAck | kFin, kPeerIss + 11, kIss + 2));
  EXPECT_EQ(state(), TcpState::kTimeWait);
  EXPECT_EQ(counters_.abort_on_data, 0u);
}

TEST_F(TcpTest, HalfClosedConnectionStillReceivesData) {  // Shutdown is not Close
  EstablishPassive();
  App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Shutdown(now, out); });
  sent_.clear();
  Send(Seg(kAck | kPsh, kPeerIss + 1, kIss + 2, 65535, 10));
  EXPECT_EQ(state(), TcpState::kFinWait2);
  EXPECT_EQ(delivered_, 10u);
}

TEST_F(TcpTest, OrphanedConnectionStopsProbingAZeroWindowEvenIfAnswered) {
  config_.max_retransmits = 3;
  EstablishPassive();
  Send(Seg(kAck, kPeerIss + 1, kIss + 1, 0));
  App([](TcpConnection& c, Instant now, TcpOutput& out) {
    c.Send(now, 300, out);
    c.Close(now, out);
  });
  ASSERT_EQ(state(), TcpState::kFinWait1);
  for (int probe = 0; probe < 3; ++probe) {
    RunUntil(conn_->NextDeadline());
    ExpectSent(Out(kAck, kIss, kPeerIss + 1));
    Send(Seg(kAck, kPeerIss + 1, kIss + 1, 0));
  }
  RunUntil(conn_->NextDeadline());
  ExpectSent(Out(kRst, kIss + 1));
  EXPECT_EQ(state(), TcpState::kClosed);
  EXPECT_EQ(counters_.persist_timeouts, 1u);
}

}  // namespace
}  // namespace synack
