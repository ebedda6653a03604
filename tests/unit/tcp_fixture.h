// Test support for the protocol core: a TcpConnection driven with exact segments. Send(seg) feeds it,
// ExpectSent(seg) / ExpectNothingSent() check what it emitted, RunUntil(t) fires its timers at their
// deadlines, and every step checks the TCB invariants. The peer is port 4000 with ISN 5000; we are port
// 80 with ISS 1000. Main thread only.
#pragma once

#include <cstdlib>
#include <deque>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "lib/tcp/connection.h"

namespace synack::tcp_test {

using namespace tcp_flags;

inline constexpr uint16_t kOurPort = 80;
inline constexpr uint16_t kPeerPort = 4000;
inline constexpr uint32_t kIss = 1000;      // ours
inline constexpr uint32_t kPeerIss = 5000;  // theirs

inline TcpSegment Seg(uint8_t flags, uint32_t seq, uint32_t ack = 0, uint16_t window = 65535, uint32_t len = 0) {
  TcpSegment s;
  s.src_port = kPeerPort;
  s.dst_port = kOurPort;
  s.seq = SeqNum(seq);
  if (flags & kAck) s.ack = SeqNum(ack);
  s.flags = flags;
  s.window = window;
  s.payload_len = len;
  return s;
}

// What we send: ports reversed.
inline TcpSegment Out(uint8_t flags, uint32_t seq, uint32_t ack = 0, uint16_t window = 65535, uint32_t len = 0) {
  TcpSegment s = Seg(flags, seq, ack, (flags & kRst) ? 0 : window, len);
  std::swap(s.src_port, s.dst_port);
  return s;
}

// With SYNACK_TCP_OPTIONS set (the `unit_options` test), the same tests run with timestamps, SACK and
// window scaling negotiated: the peer's segments get what a peer with those options would send (its own
// TSval, our latest TSval echoed, an MSS 12 bytes larger so payload sizes stay as written), and the
// comparisons allow for what the options change on our side (TS option present on every non-RST
// segment, SYN options, windows shifted by our scale). Tests whose subject is an option-less rule are
// filtered out of that run (tests/CMakeLists.txt says which, and why).
inline bool OptionsMode() {
  static const bool on = std::getenv("SYNACK_TCP_OPTIONS") != nullptr;
  return on;
}

class TcpTest : public ::testing::Test {
 protected:
  TcpTest() {
    const bool opts = OptionsMode();
    config_.timestamps = opts;
    config_.sack_permitted = opts;
    config_.window_scale = opts ? 7 : 0;
    config_.rcv_buffer = 65535;
    config_.quickacks = 0;  // delayed ACKs from the first segment (tests of quick ACKs turn them on)
  }
  // The peer as one that uses the options (OptionsMode only): fills in what the test left unset.
  TcpSegment WithPeerOptions(TcpSegment s) {
    if (!OptionsMode()) return s;
    if (s.syn()) {
      if (!s.options.timestamps) {
        s.options.timestamps = TcpTimestamps{++peer_tsval_, s.ack_flag() ? our_tsval_ : 0};
        // The same payload per segment as the test meant without timestamps.
        const uint32_t mss = s.options.mss.value_or(kDefaultMss);
        s.options.mss = static_cast<uint16_t>(std::min<uint32_t>(mss + kTimestampsOptionBytes, 65535));
      }
      if (!s.options.window_scale) s.options.window_scale = 0;
      s.options.sack_permitted = true;
    } else if (!s.rst() && conn_ && conn_->ts_enabled() && !s.options.timestamps) {
      s.options.timestamps = TcpTimestamps{++peer_tsval_, our_tsval_};
    }
    return s;
  }
  // What to compare (OptionsMode only): our side's option-dependent parts removed from both.
  void Normalize(TcpSegment& got, TcpSegment& want) const {
    if (!OptionsMode()) return;
    if (conn_ && conn_->ts_enabled() && !got.rst() && !want.options.timestamps) {
      EXPECT_TRUE(got.options.timestamps.has_value()) << "no timestamps on " << ToString(got);
      got.options.timestamps.reset();
    }
    if (got.syn()) got.options = want.options;                         // the negotiation differs by design
    if (want.options.sack_count == 0 && got.options.sack_count > 0) {  // D-SACK reports: not these tests' subject
      got.options.sack_count = 0;
      got.options.sack = {};
    }
    if (!got.syn() && conn_ && conn_->rcv_wscale() > 0 && !got.rst())
      want.window = static_cast<uint16_t>(want.window >> conn_->rcv_wscale());
  }
  void New() {
    if (conn_) conn_->ReleaseResources();
    ctx_ = TcpContext{&config_, &counters_, &limiter_, nullptr, &loss_pool_};
    conn_.emplace(&ctx_);
  }

  void Collect() {
    for (const OutSegment& s : out_.segments) {
      sent_.push_back(s);
      if (s.seg.options.timestamps) our_tsval_ = s.seg.options.timestamps->tsval;
    }
    events_ |= out_.events;
    if (out_.events & tcp_events::kClosed) error_ = out_.error;
    delivered_ += out_.deliver_len;
    last_deliver_offset_ = out_.deliver_offset;
    EXPECT_EQ(conn_->CheckInvariants(), "") << "after step at t=" << now_.ns();
  }
  void Send(const TcpSegment& seg, RxMem mem = {}) {
    out_.Clear();
    conn_->Input(now_, WithPeerOptions(seg), out_, mem);
    Collect();
  }
  template <typename F>
  void App(F f) {
    out_.Clear();
    f(*conn_, now_, out_);
    Collect();
  }
  void ExpectSent(const TcpSegment& want) {
    ASSERT_FALSE(sent_.empty()) << "nothing sent; wanted " << ToString(want);
    TcpSegment got = sent_.front().seg;
    sent_.pop_front();
    TcpSegment w = want;
    Normalize(got, w);
    EXPECT_EQ(ToString(got), ToString(w));
    EXPECT_EQ(got, w);
  }
  OutSegment TakeSent() {
    EXPECT_FALSE(sent_.empty());
    if (sent_.empty()) return {};
    OutSegment s = sent_.front();
    sent_.pop_front();
    return s;
  }
  void ExpectNothingSent() {
    EXPECT_TRUE(sent_.empty()) << sent_.size() << " segments, first: " << ToString(sent_.front().seg);
    sent_.clear();
  }
  // Moves time forward to `t`, running every timer that falls due on the way, at its deadline.
  void RunUntil(Instant t) {
    for (int guard = 0; guard < 10000; ++guard) {
      Instant d = conn_->NextDeadline();
      if (d > t) break;
      now_ = d;
      out_.Clear();
      conn_->OnTimer(now_, out_);
      Collect();
    }
    now_ = t;
  }
  void Advance(Duration d) { RunUntil(now_ + d); }
  TcpState state() const { return conn_->state(); }

  // Passive open to ESTABLISHED: peer SYN, our SYN-ACK, peer ACK.
  void EstablishPassive() {
    New();
    App([this](TcpConnection& c, Instant now, TcpOutput& out) {
      c.AcceptSyn(now, WithPeerOptions(Seg(kSyn, kPeerIss)), SeqNum(kIss), out);
    });
    ExpectSent([this] {
      TcpSegment s =
          Out(kSyn | kAck, kIss, kPeerIss + 1, static_cast<uint16_t>(std::min<uint32_t>(config_.rcv_buffer, 65535)));
      s.options.mss = 1460;
      return s;
    }());
    Send(Seg(kAck, kPeerIss + 1, kIss + 1));
    ASSERT_EQ(state(), TcpState::kEstablished);
    ExpectNothingSent();
    events_ = 0;
  }

  // Passive open from `syn` (its options negotiated) to ESTABLISHED; the SYN-ACK is not checked.
  void EstablishPassiveFrom(const TcpSegment& syn) {
    New();
    App([&](TcpConnection& c, Instant now, TcpOutput& out) {
      c.AcceptSyn(now, WithPeerOptions(syn), SeqNum(kIss), out);
    });
    ASSERT_EQ(TakeSent().seg.flags, kSyn | kAck);
    TcpSegment ack = Seg(kAck, kPeerIss + 1, kIss + 1);
    if (conn_->ts_enabled() && syn.options.timestamps)
      ack.options.timestamps = TcpTimestamps{syn.options.timestamps->tsval + 1, 1};
    Send(ack);
    ASSERT_EQ(state(), TcpState::kEstablished);
    ExpectNothingSent();
    events_ = 0;
  }

  uint32_t peer_tsval_ = 1000;  // OptionsMode: the peer's clock, always moving forward
  uint32_t our_tsval_ = 0;      // the latest TSval we sent
  TcpConfig config_;
  TcpCounters counters_;
  ChallengeAckLimiter limiter_{1000};
  LossStatePool loss_pool_{16};
  TcpContext ctx_{};  // what conn_ points at
  std::optional<TcpConnection> conn_;
  TcpOutput out_;
  Instant now_ = Instant::FromNanoseconds(int64_t{1000} * 1000000000);
  std::deque<OutSegment> sent_;
  uint32_t events_ = 0;
  std::optional<TcpError> error_;
  uint64_t delivered_ = 0;
  uint32_t last_deliver_offset_ = 0;
};

class TimeWaitTest : public TcpTest {
 protected:
  void EnterTimeWait() {
    EstablishPassive();
    App([](TcpConnection& c, Instant now, TcpOutput& out) { c.Close(now, out); });
    Send(Seg(kAck, kPeerIss + 1, kIss + 2));
    Send(Seg(kAck | kFin, kPeerIss + 1, kIss + 2));
    ASSERT_EQ(state(), TcpState::kTimeWait);
    sent_.clear();
    events_ = 0;
  }
};

}  // namespace synack::tcp_test
