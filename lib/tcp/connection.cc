#include "lib/tcp/connection.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace synack {
namespace {

using namespace tcp_flags;

uint32_t MsClock(Instant now) { return static_cast<uint32_t>(now.ns() / 1000000); }

}  // namespace

const char* StateName(TcpState s) {
  switch (s) {
    case TcpState::kClosed: return "CLOSED";
    case TcpState::kListen: return "LISTEN";
    case TcpState::kSynSent: return "SYN-SENT";
    case TcpState::kSynReceived: return "SYN-RECEIVED";
    case TcpState::kEstablished: return "ESTABLISHED";
    case TcpState::kFinWait1: return "FIN-WAIT-1";
    case TcpState::kFinWait2: return "FIN-WAIT-2";
    case TcpState::kCloseWait: return "CLOSE-WAIT";
    case TcpState::kClosing: return "CLOSING";
    case TcpState::kLastAck: return "LAST-ACK";
    case TcpState::kTimeWait: return "TIME-WAIT";
  }
  return "?";
}

const char* ErrorName(TcpError e) {
  switch (e) {
    case TcpError::kNone: return "none";
    case TcpError::kRefused: return "connection refused";
    case TcpError::kReset: return "connection reset";
    case TcpError::kTimedOut: return "timed out";
    case TcpError::kAborted: return "aborted";
    case TcpError::kUnreachable: return "host unreachable (no ARP reply)";
  }
  return "?";
}

void TcpCounters::ForEach(absl::FunctionRef<void(std::string_view, uint64_t)> f) const {
#define SYNACK_X(name) f(#name, name);
  SYNACK_TCP_COUNTERS(SYNACK_X)
#undef SYNACK_X
}

uint64_t TcpCounters::transitions_to(TcpState s) const {
  uint64_t n = 0;
  for (const auto& row : transitions) n += row[static_cast<size_t>(s)];
  return n;
}

// ---------------------------------------------------------------------------------------------------
// State bookkeeping

bool TcpConnection::synchronized() const {
  switch (state_) {
    case TcpState::kClosed:
    case TcpState::kListen:
    case TcpState::kSynSent:
    case TcpState::kSynReceived:
      return false;
    default:
      return true;
  }
}

void TcpConnection::SetState(TcpState s, TcpOutput& out) {
  ++ctx_.counters->transitions[static_cast<size_t>(state_)][static_cast<size_t>(s)];
  state_ = s;
  if (s == TcpState::kEstablished) out.events |= tcp_events::kConnected;
}

void TcpConnection::Finish(TcpError e, TcpOutput& out) {
  SetState(TcpState::kClosed, out);
  out.events |= tcp_events::kClosed;
  out.error = e;
  if (e == TcpError::kTimedOut) ++ctx_.counters->timeouts;
  rto_deadline_ = persist_deadline_ = delack_deadline_ = keepalive_deadline_ = close_deadline_ = Instant::Never();
}

void TcpConnection::EnterTimeWait(Instant now, TcpOutput& out) {
  SetState(TcpState::kTimeWait, out);
  out.events |= tcp_events::kTimeWait;
  rto_deadline_ = persist_deadline_ = keepalive_deadline_ = Instant::Never();
  close_deadline_ = now + ctx_.config->msl * 2;
}

void TcpConnection::ArmKeepalive(Instant now) {
  if (!ctx_.config->keepalive) return;
  keepalive_deadline_ = now + ctx_.config->keepalive_idle;
  keepalive_sent_ = 0;
}

// ---------------------------------------------------------------------------------------------------
// Opening

void TcpConnection::Connect(Instant now, Endpoint ep, SeqNum iss, TcpOutput& out) {
  ep_ = ep;
  iss_ = iss;
  snd_una_ = iss;
  snd_nxt_ = iss + 1;
  SetState(TcpState::kSynSent, out);
  SendSyn(now, out);
  rtt_timing_ = true;
  rtt_seq_ = iss;
  rtt_start_ = now;
  ArmRto(now);
}

void TcpConnection::AcceptSyn(Instant now, const TcpSegment& syn, SeqNum iss, TcpOutput& out) {
  passive_ = true;
  ep_ = Endpoint{syn.dst_port, syn.src_port};
  irs_ = syn.seq;
  rcv_nxt_ = syn.seq + 1;
  rcv_adv_ = rcv_nxt_;
  iss_ = iss;
  snd_una_ = iss;
  snd_nxt_ = iss + 1;
  NegotiateOptions(syn);
  if (ts_enabled_) ts_recent_ = syn.options.timestamps->tsval;
  snd_wnd_ = syn.window;  // never scaled in a SYN
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = syn.seq;
  snd_wl2_ = iss;
  last_rx_ = now;
  SetState(TcpState::kSynReceived, out);
  SendSyn(now, out);
  rtt_timing_ = true;
  rtt_seq_ = iss;
  rtt_start_ = now;
  ArmRto(now);
}

void TcpConnection::AcceptCookie(Instant now, const CookieSyn& cookie, const TcpSegment& ack, TcpOutput& out,
                                 RxMem mem) {
  passive_ = true;
  ep_ = Endpoint{ack.dst_port, ack.src_port};
  irs_ = cookie.irs;
  rcv_nxt_ = cookie.irs + 1;
  iss_ = cookie.iss;
  snd_una_ = cookie.iss;
  snd_nxt_ = cookie.iss + 1;
  // The SYN as far as the cookie remembers it.
  TcpSegment syn;
  syn.options.mss = cookie.mss;
  syn.options.window_scale = cookie.peer_wscale;
  syn.options.sack_permitted = cookie.sack_permitted;
  if (cookie.timestamps && ack.options.timestamps) syn.options.timestamps = TcpTimestamps{ack.options.timestamps->tsval, 0};
  NegotiateOptions(syn);
  if (ts_enabled_) ts_recent_ = ack.options.timestamps->tsval;
  // What the cookie SYN-ACK advertised (CookieSynAck): the window, unscaled as in every SYN.
  rcv_adv_ = rcv_nxt_ + std::min<uint32_t>(ctx_.config->rcv_buffer, 65535);
  last_ack_sent_ = rcv_nxt_;
  snd_wl1_ = cookie.irs;
  snd_wl2_ = cookie.iss;
  last_rx_ = now;
  skip_ts_rtt_ = true;
  SetState(TcpState::kSynReceived, out);
  Input(now, ack, out, mem);
}

void TcpConnection::NegotiateOptions(const TcpSegment& syn) {
  const TcpConfig& c = *ctx_.config;
  ws_enabled_ = syn.options.window_scale.has_value();
  if (ws_enabled_) {
    snd_wscale_ = std::min<uint8_t>(*syn.options.window_scale, 14);  // RFC 7323 2.3
    rcv_wscale_ = c.window_scale;
  } else {
    snd_wscale_ = rcv_wscale_ = 0;
  }
  ts_enabled_ = c.timestamps && syn.options.timestamps.has_value();
  sack_enabled_ = c.sack_permitted && syn.options.sack_permitted;
  peer_mss_ = syn.options.mss.value_or(kDefaultMss);
  snd_mss_ = EffectiveSendMss(c, peer_mss_, ts_enabled_);
}

uint16_t EffectiveSendMss(const TcpConfig& c, uint16_t peer_mss, bool timestamps) {
  // The peer's MSS option counts payload plus options beyond 20 bytes (RFC 9293 3.7.1, RFC 6691), so
  // the options every segment carries come off it. Computed in 32-bit signed arithmetic: an MSS of 0,
  // or one smaller than the option overhead, must clamp to the floor, never wrap.
  const int32_t cap = std::max<int32_t>(c.mss, 1);
  const int32_t floor = std::clamp<int32_t>(c.min_snd_mss, 1, cap);
  const int32_t overhead = timestamps ? kTimestampsOptionBytes : 0;
  const int32_t mss = std::min<int32_t>(peer_mss, cap) - overhead;
  return static_cast<uint16_t>(std::clamp(mss, floor, cap));
}

// ---------------------------------------------------------------------------------------------------
// Segment arrival (RFC 9293 3.10.7)

void TcpConnection::Input(Instant now, const TcpSegment& seg, TcpOutput& out, RxMem mem) {
  ++ctx_.counters->segments_in;
  rcv_mem_ = mem.held;
  switch (state_) {
    case TcpState::kClosed:
    case TcpState::kListen:
      if (std::optional<TcpSegment> rst = ResetForUnmatched(seg)) {
        ++ctx_.counters->resets_out;
        out.segments.push_back(OutSegment{*rst, 0});
      }
      return;
    case TcpState::kSynSent:
      return InputSynSent(now, seg, out);
    case TcpState::kTimeWait:
      return InputTimeWait(now, seg, out);
    default:
      break;
  }

  if (state_ == TcpState::kSynReceived && seg.syn() && !seg.rst() && seg.seq == irs_) {
    // A retransmitted SYN while our SYN-ACK is unanswered: answer with the same SYN-ACK (same ISS).
    if (!seg.ack_flag()) {
      rtt_timing_ = false;  // Karn: the SYN-ACK now went twice; its ACK cannot tell which it answers
      return SendSyn(now, out);
    }
    // Simultaneous open (RFC 9293 figure 8): the peer's SYN-ACK repeats the SYN we already took;
    // its ACK completes the handshake.
    if (!passive_ && seg.ack == snd_nxt_) {
      TcpSegment ack_only = seg;
      ack_only.flags &= static_cast<uint8_t>(~kSyn);
      ack_only.seq = seg.seq + 1;
      return InputSynchronized(now, ack_only, out, mem);
    }
  }
  InputSynchronized(now, seg, out, mem);
}

void TcpConnection::InputSynchronized(Instant now, const TcpSegment& seg, TcpOutput& out, RxMem mem) {
  const size_t emitted_before = out.segments.size();
  // First: check the sequence number.
  if (!SequenceAcceptable(seg)) {
    if (seg.rst()) return;  // RFC 5961 3.2: out-of-window RST is dropped silently
    ++ctx_.counters->unacceptable;
    // RFC 9293 3.10.7.4: a zero window still takes valid ACKs.
    if (rcv_adv_ == rcv_nxt_ && seg.seq == rcv_nxt_ && seg.ack_flag() && !seg.syn()) {
      if (!CheckAck(now, seg, out)) return;
    }
    SendAck(now, out);
    return;
  }
  last_rx_ = now;
  // The peer is alive: keep probing a zero window (RFC 1122 4.2.2.17) — unless the application has
  // closed, in which case nobody waits for the data and probing ends after max_retransmits probes.
  if (!app_closed_) persist_unanswered_ = 0;
  // Second: RST. Fourth: SYN.
  if (seg.rst()) {
    CheckRst(now, seg, out);
    return;
  }
  if (seg.syn()) {
    CheckSyn(now, seg, out);
    return;
  }
  // Fifth: ACK.
  if (!seg.ack_flag()) {
    ++ctx_.counters->no_ack_flag;
    return;
  }
  UpdateTimestamps(seg);
  if (!CheckAck(now, seg, out)) return;
  if (synchronized()) ArmKeepalive(now);
  // Seventh: segment text. Eighth: FIN.
  bool ack_now = false;
  if (seg.payload_len > 0) {
    ProcessText(now, seg, out, mem);
    if (state_ == TcpState::kClosed) return;
    ack_now = delack_deadline_ == Instant::Never() && out.deliver_len == 0;  // duplicate/out of order
    // Every second full-sized segment, or when the window is now closed, the ACK cannot wait.
    if (delack_segments_ >= 2 || rcv_adv_ == rcv_nxt_) ack_now = true;
  }
  const bool had_fin = fin_received_;
  ProcessFin(now, seg, out);
  if (seg.fin() || fin_received_ != had_fin) ack_now = true;
  if (state_ == TcpState::kClosed) return;
  Output(now, out);
  if (ack_now && out.segments.size() == emitted_before) SendAck(now, out);
}

void TcpConnection::InputSynSent(Instant now, const TcpSegment& seg, TcpOutput& out) {
  if (seg.ack_flag() && (seg.ack <= iss_ || seg.ack > snd_nxt_)) {
    if (!seg.rst()) SendRst(now, seg.ack, out);
    return;
  }
  if (seg.rst()) {
    ++ctx_.counters->resets_in;
    if (seg.ack_flag()) Finish(TcpError::kRefused, out);
    return;
  }
  if (!seg.syn()) return;
  irs_ = seg.seq;
  rcv_nxt_ = seg.seq + 1;
  rcv_adv_ = rcv_nxt_;  // nothing advertised yet: the right edge starts at RCV.NXT
  NegotiateOptions(seg);
  if (ts_enabled_) ts_recent_ = seg.options.timestamps->tsval;
  snd_wnd_ = seg.window;  // never scaled in a SYN
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = seg.seq;
  snd_wl2_ = seg.ack;
  last_rx_ = now;
  if (seg.ack_flag()) {
    snd_una_ = seg.ack;
    if (rtt_timing_) {
      rto_.OnRttSample(now - rtt_start_);
      ++ctx_.counters->rtt_samples;
      rtt_timing_ = false;
    }
    retries_ = 0;
    rto_deadline_ = Instant::Never();
    SetState(TcpState::kEstablished, out);
    ArmKeepalive(now);
    Output(now, out);  // data queued during SYN-SENT goes now, carrying the ACK
    if (out.segments.empty()) SendAck(now, out);
    return;
  }
  // Simultaneous open (RFC 9293 figure 8): SYN-ACK with the same ISS.
  SetState(TcpState::kSynReceived, out);
  SendSyn(now, out);
}

bool TcpConnection::SequenceAcceptable(const TcpSegment& seg) const {
  const uint32_t wnd = static_cast<uint32_t>(rcv_adv_ - rcv_nxt_);
  const uint32_t len = seg.seg_len();
  if (len == 0) {
    if (wnd == 0) return seg.seq == rcv_nxt_;
    return InHalfOpen(rcv_nxt_, seg.seq, rcv_nxt_ + wnd);
  }
  if (wnd == 0) return false;
  return InHalfOpen(rcv_nxt_, seg.seq, rcv_nxt_ + wnd) || InHalfOpen(rcv_nxt_, seg.seq + (len - 1), rcv_nxt_ + wnd);
}

bool TcpConnection::CheckRst(Instant now, const TcpSegment& seg, TcpOutput& out) {
  ++ctx_.counters->resets_in;
  if (seg.seq != rcv_nxt_) {
    SendChallengeAck(now, out);  // RFC 5961 3.2: in window but not exact
    return false;
  }
  if (state_ == TcpState::kSynReceived) {
    Finish(passive_ ? TcpError::kReset : TcpError::kRefused, out);
  } else {
    Finish(TcpError::kReset, out);
  }
  return true;
}

bool TcpConnection::CheckSyn(Instant now, const TcpSegment& seg, TcpOutput& out) {
  // RFC 5961 4.2: any SYN in a synchronized (or SYN-RECEIVED) state gets a challenge ACK.
  SendChallengeAck(now, out);
  return false;
}

bool TcpConnection::CheckAck(Instant now, const TcpSegment& seg, TcpOutput& out) {
  if (state_ == TcpState::kSynReceived) {
    if (!(snd_una_ < seg.ack && seg.ack <= snd_nxt_)) {
      SendRst(now, seg.ack, out);
      return false;
    }
    snd_wnd_ = static_cast<uint32_t>(seg.window) << snd_wscale_;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    SetState(TcpState::kEstablished, out);
    ArmKeepalive(now);
    // A CLOSE while SYN-RECEIVED was queued until now (RFC 9293 3.10.4): the FIN goes after the data.
    if (fin_queued_) SetState(TcpState::kFinWait1, out);
  }
  if (seg.ack > snd_nxt_) {
    ++ctx_.counters->ack_too_new;
    SendChallengeAck(now, out);
    return false;
  }
  if (seg.ack < snd_una_ - max_snd_wnd_) {
    ++ctx_.counters->ack_too_old;
    SendChallengeAck(now, out);
    return false;
  }
  if (snd_una_ < seg.ack) OnAckAdvance(now, seg, out);
  // Window update (RFC 9293 3.10.7.4, fifth step).
  if (snd_una_ <= seg.ack && (snd_wl1_ < seg.seq || (snd_wl1_ == seg.seq && snd_wl2_ <= seg.ack))) {
    const uint32_t old_wnd = snd_wnd_;
    snd_wnd_ = static_cast<uint32_t>(seg.window) << snd_wscale_;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    if (old_wnd == 0 && snd_wnd_ > 0) {
      persist_deadline_ = Instant::Never();
      persist_backoff_ = 0;
    }
  }
  switch (state_) {
    case TcpState::kFinWait1:
      if (fin_acked()) {
        SetState(TcpState::kFinWait2, out);
        if (app_closed_) close_deadline_ = now + ctx_.config->fin_wait2_timeout;
      }
      break;
    case TcpState::kClosing:
      if (fin_acked()) {
        EnterTimeWait(now, out);
        return false;  // nothing else to do with this segment
      }
      break;
    case TcpState::kLastAck:
      if (fin_acked()) {
        Finish(TcpError::kNone, out);
        return false;
      }
      break;
    default:
      break;
  }
  return true;
}

void TcpConnection::OnAckAdvance(Instant now, const TcpSegment& seg, TcpOutput& out) {
  uint32_t acked = static_cast<uint32_t>(seg.ack - snd_una_);
  if (syn_unacked()) --acked;
  if (fin_sent_ && seg.ack == fin_seq_ + 1) --acked;
  snd_buf_ -= acked;
  out.acked += acked;
  if (acked > 0) out.events |= tcp_events::kAcked | tcp_events::kWritable;
  snd_una_ = seg.ack;
  // RTT sample: timestamps give one for every ACK of new data (RFC 7323 4.1); otherwise only from the
  // timed segment, and only if it was never retransmitted (Karn).
  if (ts_enabled_ && seg.options.timestamps && skip_ts_rtt_) {
    skip_ts_rtt_ = false;
  } else if (ts_enabled_ && seg.options.timestamps) {
    const uint32_t echoed = seg.options.timestamps->tsecr;
    const int32_t rtt_ms = static_cast<int32_t>(MsClock(now) - echoed);
    if (rtt_ms >= 0) {
      rto_.OnRttSample(Duration::Milliseconds(rtt_ms));
      ++ctx_.counters->rtt_samples;
    }
  } else if (rtt_timing_ && seg.ack > rtt_seq_) {
    rto_.OnRttSample(now - rtt_start_);
    ++ctx_.counters->rtt_samples;
    rtt_timing_ = false;
  }
  retries_ = 0;
  if (snd_una_ == snd_nxt_) {
    rto_deadline_ = Instant::Never();
  } else {
    ArmRto(now);
  }
}

void TcpConnection::UpdateTimestamps(const TcpSegment& seg) {
  // RFC 7323 4.3: remember the peer's TSval from the segment that covers our last ACK.
  if (ts_enabled_ && seg.options.timestamps && seg.seq <= last_ack_sent_) {
    ts_recent_ = seg.options.timestamps->tsval;
  }
}

uint32_t TcpConnection::rcv_mem_limit() const {
  const TcpConfig& c = *ctx_.config;
  return c.rcv_mem != 0 ? c.rcv_mem : static_cast<uint32_t>(std::min<uint64_t>(uint64_t{c.rcv_buffer} * 2, UINT32_MAX));
}

void TcpConnection::ProcessText(Instant now, const TcpSegment& seg, TcpOutput& out, RxMem mem) {
  if (state_ != TcpState::kEstablished && state_ != TcpState::kFinWait1 && state_ != TcpState::kFinWait2) return;
  if (app_closed_ && seg.seq + seg.payload_len > rcv_nxt_) {
    // New data for a connection nobody will read again (RFC 9293 3.10.4 CLOSE; RFC 2525 2.17): tell
    // the peer at once with a RST instead of accepting it into an orphan.
    ++ctx_.counters->abort_on_data;
    SendRst(now, snd_nxt_, out);
    Finish(TcpError::kAborted, out);
    return;
  }
  if (seg.seq > rcv_nxt_) {
    ++ctx_.counters->out_of_order_dropped;  // no reassembly yet: a duplicate ACK asks for the gap
    return;
  }
  const uint32_t skip = static_cast<uint32_t>(rcv_nxt_ - seg.seq);
  if (skip >= seg.payload_len) return;  // all duplicate
  const uint32_t room = static_cast<uint32_t>(rcv_adv_ - rcv_nxt_);
  const uint32_t len = std::min(seg.payload_len - skip, room);
  if (len == 0) return;
  if (mem.cost == RxMem::kNoRoom || uint64_t{mem.held} + mem.cost > rcv_mem_limit()) {
    // In the window but no memory to keep it: dropped like a lost segment (the duplicate ACK this
    // draws tells the peer where we are); the window the next ACK carries has shrunk already.
    ++ctx_.counters->rcv_mem_dropped;
    return;
  }
  rcv_mem_ = mem.held + mem.cost;
  out.deliver_offset = skip;
  out.deliver_len = len;
  out.events |= tcp_events::kReadable;
  rcv_nxt_ += len;
  rcv_unread_ += len;
  const uint32_t full_size = ctx_.config->mss - (ts_enabled_ ? 12u : 0u);
  if (len >= full_size) ++delack_segments_;
  if (delack_deadline_ == Instant::Never()) delack_deadline_ = now + ctx_.config->delayed_ack;
}

void TcpConnection::ProcessFin(Instant now, const TcpSegment& seg, TcpOutput& out) {
  if (!seg.fin()) return;
  if (seg.seq + seg.payload_len != rcv_nxt_) {
    // Out of order (data missing before it) or a retransmission of a FIN already taken.
    return;
  }
  if (fin_received_) return;
  fin_received_ = true;
  rcv_nxt_ += 1;
  out.events |= tcp_events::kPeerFin;
  switch (state_) {
    case TcpState::kSynReceived:
    case TcpState::kEstablished:
      SetState(TcpState::kCloseWait, out);
      break;
    case TcpState::kFinWait1:
      if (fin_acked()) {
        EnterTimeWait(now, out);
      } else {
        SetState(TcpState::kClosing, out);
      }
      break;
    case TcpState::kFinWait2:
      EnterTimeWait(now, out);
      break;
    default:
      break;
  }
}

void TcpConnection::InputTimeWait(Instant now, const TcpSegment& seg, TcpOutput& out) {
  TimeWaitEntry tw = ToTimeWait();
  const size_t before = out.segments.size();
  if (TimeWaitInput(tw, now, seg, *ctx_.config, *ctx_.counters, out)) {
    Finish(TcpError::kNone, out);
    out.events |= tcp_events::kReuseSyn;
    return;
  }
  if (out.segments.size() != before) last_ack_sent_ = rcv_nxt_;
  close_deadline_ = tw.expires;
}

TimeWaitEntry TcpConnection::ToTimeWait() const {
  TimeWaitEntry tw;
  tw.snd_nxt = snd_nxt_;
  tw.rcv_nxt = rcv_nxt_;
  tw.ts_recent = ts_recent_;
  tw.expires = close_deadline_;
  tw.local_port = ep_.local_port;
  tw.remote_port = ep_.remote_port;
  tw.window = advertised_window();
  tw.ts_enabled = ts_enabled_;
  return tw;
}

bool TcpConnection::TimeWaitAcceptsSyn(const TcpSegment& syn) const { return synack::TimeWaitAcceptsSyn(ToTimeWait(), syn); }

bool TimeWaitAcceptsSyn(const TimeWaitEntry& tw, const TcpSegment& syn) {
  if (tw.ts_enabled && syn.options.timestamps) {
    return static_cast<int32_t>(syn.options.timestamps->tsval - tw.ts_recent) > 0;  // RFC 6191
  }
  return syn.seq > tw.rcv_nxt;
}

bool TimeWaitInput(TimeWaitEntry& tw, Instant now, const TcpSegment& seg, const TcpConfig& config, TcpCounters& counters,
                   TcpOutput& out) {
  if (seg.rst()) {
    // RFC 1337: a RST must not cut TIME-WAIT short (TIME-WAIT assassination).
    ++counters.resets_in;
    return false;
  }
  if (seg.syn() && !seg.ack_flag() && TimeWaitAcceptsSyn(tw, seg)) return true;
  // A retransmitted FIN (the peer lost our ACK) restarts the 2*MSL wait. Anything else that is not
  // exactly at RCV.NXT (an old SYN, a stray duplicate) is answered with an ACK too.
  const bool retransmitted_fin = seg.fin() && seg.seq + seg.payload_len + 1 == tw.rcv_nxt;
  if (retransmitted_fin) tw.expires = now + config.msl * 2;
  if (retransmitted_fin || seg.syn() || seg.seq != tw.rcv_nxt || seg.payload_len > 0) {
    TcpSegment ack;
    ack.src_port = tw.local_port;
    ack.dst_port = tw.remote_port;
    ack.seq = tw.snd_nxt;
    ack.ack = tw.rcv_nxt;
    ack.flags = tcp_flags::kAck;
    ack.window = tw.window;
    if (tw.ts_enabled) ack.options.timestamps = TcpTimestamps{MsClock(now), tw.ts_recent};
    out.segments.push_back(OutSegment{ack, 0});
    ++counters.segments_out;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------
// Application calls

uint32_t TcpConnection::Send(Instant now, uint32_t n, TcpOutput& out) {
  switch (state_) {
    case TcpState::kSynSent:
    case TcpState::kSynReceived:
    case TcpState::kEstablished:
    case TcpState::kCloseWait:
      break;
    default:
      return 0;
  }
  if (fin_queued_) return 0;
  const uint32_t accepted = std::min(n, ctx_.config->snd_buffer - snd_buf_);
  snd_buf_ += accepted;
  if (synchronized()) Output(now, out);
  return accepted;
}

void TcpConnection::Consume(Instant now, uint32_t n, TcpOutput& out, uint32_t mem_held) {
  rcv_unread_ -= std::min(n, rcv_unread_);
  rcv_mem_ = mem_held;
  if (!synchronized()) return;
  // Receiver-side silly window avoidance (RFC 9293 3.8.6.2.2): announce when the window grew enough.
  const SeqNum new_right = rcv_nxt_ + rcv_wnd();
  const uint32_t threshold = std::min<uint32_t>(ctx_.config->rcv_buffer / 2, ctx_.config->mss);
  if (new_right > rcv_adv_ && static_cast<uint32_t>(new_right - rcv_adv_) >= threshold) SendAck(now, out);
}

void TcpConnection::Shutdown(Instant now, TcpOutput& out) {
  switch (state_) {
    case TcpState::kSynSent:
      Finish(TcpError::kNone, out);
      return;
    case TcpState::kSynReceived:
      // RFC 9293 3.10.4: queued until ESTABLISHED (CheckAck moves on to FIN-WAIT-1 then); until our
      // SYN is acknowledged, a timeout retransmits the SYN-ACK, never a FIN.
      fin_queued_ = true;
      return;
    case TcpState::kEstablished:
      fin_queued_ = true;
      SetState(TcpState::kFinWait1, out);
      break;
    case TcpState::kCloseWait:
      fin_queued_ = true;
      SetState(TcpState::kLastAck, out);
      break;
    default:
      return;
  }
  Output(now, out);
}

void TcpConnection::Close(Instant now, TcpOutput& out) {
  app_closed_ = true;
  if (rcv_unread_ > 0 && synchronized()) {
    // RFC 1122 4.2.2.13 / RFC 2525: closing with unread data resets the connection.
    SendRst(now, snd_nxt_, out);
    Finish(TcpError::kAborted, out);
    return;
  }
  if (state_ == TcpState::kFinWait2) close_deadline_ = now + ctx_.config->fin_wait2_timeout;
  Shutdown(now, out);
}

void TcpConnection::Abort(Instant now, TcpOutput& out) {
  if (state_ == TcpState::kClosed) return;
  if (state_ != TcpState::kSynSent && state_ != TcpState::kTimeWait && state_ != TcpState::kListen) {
    SendRst(now, snd_nxt_, out);
  }
  Finish(TcpError::kAborted, out);
}

// ---------------------------------------------------------------------------------------------------
// Timers

Instant TcpConnection::NextDeadline() const {
  return std::min({rto_deadline_, persist_deadline_, delack_deadline_, keepalive_deadline_, close_deadline_});
}

void TcpConnection::OnTimer(Instant now, TcpOutput& out) {
  const TcpConfig& c = *ctx_.config;
  if (close_deadline_ <= now) {
    // End of TIME-WAIT, or an orphaned FIN-WAIT-2 that waited long enough.
    Finish(state_ == TcpState::kTimeWait ? TcpError::kNone : TcpError::kTimedOut, out);
    return;
  }
  if (rto_deadline_ <= now) {
    const int limit = state_ == TcpState::kSynSent       ? c.syn_retries
                      : state_ == TcpState::kSynReceived ? (synack_retries_ >= 0 ? synack_retries_ : c.synack_retries)
                                                         : c.max_retransmits;
    if (retries_ >= limit) {
      Finish(TcpError::kTimedOut, out);
      return;
    }
    ++retries_;
    rto_.Backoff();
    Retransmit(now, out);
    ArmRto(now);
  }
  if (persist_deadline_ <= now) {
    // RFC 1122 4.2.2.17: probe for as long as the peer answers; a peer that stopped answering is
    // given up on like a retransmission timeout (RST, timed out).
    if (persist_unanswered_ >= c.max_retransmits) {
      ++ctx_.counters->persist_timeouts;
      SendRst(now, snd_nxt_, out);
      Finish(TcpError::kTimedOut, out);
      return;
    }
    ++persist_unanswered_;
    // Zero-window probe: an old sequence number makes the peer answer with its current window.
    ++ctx_.counters->persist_probes;
    Emit(Make(now, snd_una_ - 1, kAck), 0, out);
    persist_backoff_ = std::min(persist_backoff_ + 1, 20);
    Duration d = c.persist_min * (int64_t{1} << persist_backoff_);
    persist_deadline_ = now + std::min(d, c.persist_max);
  }
  if (delack_deadline_ <= now) {
    ++ctx_.counters->delayed_acks;
    SendAck(now, out);
  }
  if (keepalive_deadline_ <= now) {
    if (keepalive_sent_ >= c.keepalive_probes) {
      Finish(TcpError::kTimedOut, out);
      return;
    }
    ++keepalive_sent_;
    ++ctx_.counters->keepalive_probes;
    Emit(Make(now, snd_una_ - 1, kAck), 0, out);
    keepalive_deadline_ = now + c.keepalive_interval;
  }
}

// ---------------------------------------------------------------------------------------------------
// Output

uint32_t TcpConnection::rcv_wnd() const {
  // Room in bytes, but never more than half the memory left: payload carried in segments that cost
  // more than twice their size closes the window before it can exhaust the budget. The engine may
  // clamp it further under memory pressure.
  const uint32_t bytes = ctx_.config->rcv_buffer - std::min(rcv_unread_, ctx_.config->rcv_buffer);
  const uint32_t limit = rcv_mem_limit();
  const uint32_t mem = (limit - std::min(rcv_mem_, limit)) / 2;
  uint32_t wnd = std::min(bytes, mem);
  if (ctx_.window_clamp != nullptr) wnd = std::min(wnd, *ctx_.window_clamp);
  return wnd;
}

uint16_t TcpConnection::advertised_window() const {
  SeqNum right = rcv_nxt_ + rcv_wnd();
  if (right < rcv_adv_) right = rcv_adv_;  // never shrink the window (RFC 9293 3.8.6.2.2)
  const uint32_t wnd = static_cast<uint32_t>(right - rcv_nxt_) >> rcv_wscale_;
  return static_cast<uint16_t>(std::min<uint32_t>(wnd, 65535));
}

TcpSegment TcpConnection::Make(Instant now, SeqNum seq, uint8_t flags) const {
  TcpSegment s;
  s.src_port = ep_.local_port;
  s.dst_port = ep_.remote_port;
  s.seq = seq;
  s.flags = flags;
  if (flags & kAck) {
    s.ack = rcv_nxt_;
    s.window = advertised_window();
  }
  if (ts_enabled_ && !(flags & kRst)) s.options.timestamps = TcpTimestamps{MsClock(now), ts_recent_};
  return s;
}

void TcpConnection::Emit(const TcpSegment& seg, uint32_t data_offset, TcpOutput& out) {
  out.segments.push_back(OutSegment{seg, data_offset});
  ++ctx_.counters->segments_out;
  if (seg.ack_flag()) {
    last_ack_sent_ = rcv_nxt_;
    delack_deadline_ = Instant::Never();
    delack_segments_ = 0;
    const uint32_t scale = seg.syn() ? 0 : rcv_wscale_;
    const SeqNum right = rcv_nxt_ + (static_cast<uint32_t>(seg.window) << scale);
    if (right > rcv_adv_ || seg.syn()) rcv_adv_ = right;
  }
}

void TcpConnection::SendAck(Instant now, TcpOutput& out) { Emit(Make(now, snd_nxt_, kAck), 0, out); }

void TcpConnection::SendChallengeAck(Instant now, TcpOutput& out) {
  if (now - last_challenge_ack_ < ctx_.config->challenge_ack_interval) {
    ++ctx_.counters->challenge_acks_conn_limited;
    return;
  }
  if (!ctx_.challenge->Allow(now)) {
    ++ctx_.counters->challenge_acks_suppressed;
    return;
  }
  last_challenge_ack_ = now;
  ++ctx_.counters->challenge_acks;
  SendAck(now, out);
}

void TcpConnection::SendRst(Instant now, SeqNum seq, TcpOutput& out) {
  TcpSegment s;
  s.src_port = ep_.local_port;
  s.dst_port = ep_.remote_port;
  s.seq = seq;
  s.flags = kRst;
  ++ctx_.counters->resets_out;
  out.segments.push_back(OutSegment{s, 0});
  ++ctx_.counters->segments_out;
}

void TcpConnection::SendSyn(Instant now, TcpOutput& out) {
  const TcpConfig& c = *ctx_.config;
  const bool synack = state_ == TcpState::kSynReceived;
  TcpSegment s;
  s.src_port = ep_.local_port;
  s.dst_port = ep_.remote_port;
  s.seq = iss_;
  s.flags = synack ? (kSyn | kAck) : kSyn;
  if (synack) s.ack = rcv_nxt_;
  s.window = static_cast<uint16_t>(std::min<uint32_t>(rcv_wnd(), 65535));
  s.options.mss = c.mss;
  // On a SYN-ACK only what the peer offered (RFC 7323 1.3, RFC 2018).
  if (synack ? ws_enabled_ : true) s.options.window_scale = c.window_scale;
  if (synack ? sack_enabled_ : c.sack_permitted) s.options.sack_permitted = true;
  if (synack ? ts_enabled_ : c.timestamps) s.options.timestamps = TcpTimestamps{MsClock(now), synack ? ts_recent_ : 0};
  Emit(s, 0, out);
}

void TcpConnection::Output(Instant now, TcpOutput& out) {
  switch (state_) {
    case TcpState::kEstablished:
    case TcpState::kCloseWait:
    case TcpState::kFinWait1:
    case TcpState::kLastAck:
    case TcpState::kClosing:
      break;
    default:
      return;
  }
  const SeqNum data_start = snd_una_ + (syn_unacked() ? 1 : 0);
  const SeqNum wnd_end = snd_una_ + snd_wnd_;
  const SeqNum end = data_end();
  while (snd_nxt_ < end && !fin_sent_) {
    if (!(snd_nxt_ < wnd_end)) break;
    const uint32_t len = std::min({static_cast<uint32_t>(end - snd_nxt_), static_cast<uint32_t>(wnd_end - snd_nxt_),
                                   static_cast<uint32_t>(snd_mss_)});
    uint8_t flags = kAck;
    const bool last = snd_nxt_ + len == end;
    if (last) flags |= kPsh;
    if (last && fin_queued_) flags |= kFin;
    TcpSegment s = Make(now, snd_nxt_, flags);
    s.payload_len = len;
    Emit(s, static_cast<uint32_t>(snd_nxt_ - data_start), out);
    if (!rtt_timing_ && !ts_enabled_ && retries_ == 0) {
      rtt_timing_ = true;
      rtt_seq_ = snd_nxt_;
      rtt_start_ = now;
    }
    snd_nxt_ += len;
    if (flags & kFin) {
      fin_sent_ = true;
      fin_seq_ = snd_nxt_;
      snd_nxt_ += 1;
    }
    if (rto_deadline_ == Instant::Never()) ArmRto(now);
  }
  if (fin_queued_ && !fin_sent_ && snd_nxt_ == end) {
    Emit(Make(now, snd_nxt_, kAck | kFin), 0, out);
    fin_sent_ = true;
    fin_seq_ = snd_nxt_;
    snd_nxt_ += 1;
    if (rto_deadline_ == Instant::Never()) ArmRto(now);
  }
  // Zero window with data waiting and nothing in flight to elicit an update: probe (persist timer).
  if (snd_wnd_ == 0 && snd_nxt_ < end && snd_una_ == snd_nxt_ && persist_deadline_ == Instant::Never()) {
    persist_deadline_ = now + std::max(rto_.rto(), ctx_.config->persist_min);
  }
}

void TcpConnection::Retransmit(Instant now, TcpOutput& out) {
  ++ctx_.counters->retransmits;
  rtt_timing_ = false;  // Karn: no RTT from anything that was retransmitted
  if (state_ == TcpState::kSynSent || state_ == TcpState::kSynReceived) {
    ++ctx_.counters->syn_retransmits;
    SendSyn(now, out);
    return;
  }
  const SeqNum data_start = snd_una_ + (syn_unacked() ? 1 : 0);
  const SeqNum data_stop = fin_sent_ ? fin_seq_ : snd_nxt_;  // end of data sent
  const uint32_t outstanding = data_stop > snd_una_ ? static_cast<uint32_t>(data_stop - snd_una_) : 0;
  const uint32_t len = std::min<uint32_t>(outstanding, snd_mss_);
  uint8_t flags = kAck;
  if (fin_sent_ && snd_una_ + len == fin_seq_ && !fin_acked()) flags |= kFin;
  if (len == 0 && !(flags & kFin)) return;
  if (len > 0) flags |= kPsh;
  TcpSegment s = Make(now, snd_una_, flags);
  s.payload_len = len;
  Emit(s, static_cast<uint32_t>(snd_una_ - data_start), out);
}

// ---------------------------------------------------------------------------------------------------

std::string TcpConnection::CheckInvariants() const {
  auto fail = [&](const char* what) { return absl::StrCat(StateName(state_), ": ", what); };
  if (state_ == TcpState::kClosed) {
    if (NextDeadline() != Instant::Never()) return fail("CLOSED with a timer armed");
    return "";
  }
  if (snd_nxt_ < snd_una_) return fail("SND.NXT < SND.UNA");
  if (snd_buf_ > ctx_.config->snd_buffer) return fail("send buffer over capacity");
  if (rcv_unread_ > ctx_.config->rcv_buffer) return fail("receive buffer over capacity");
  const SeqNum limit = data_end() + (fin_sent_ ? 1 : 0);
  if (snd_nxt_ > limit) return fail("SND.NXT beyond queued data");
  switch (state_) {
    case TcpState::kSynSent:
      if (snd_una_ != iss_ || snd_nxt_ != iss_ + 1) return fail("SYN-SENT with SND.UNA/NXT not ISS/ISS+1");
      if (rto_deadline_ == Instant::Never()) return fail("SYN-SENT without a retransmission timer");
      break;
    case TcpState::kSynReceived:
      if (rcv_nxt_ != irs_ + 1) return fail("SYN-RECEIVED with RCV.NXT != IRS+1");
      break;
    case TcpState::kTimeWait:
      if (close_deadline_ == Instant::Never()) return fail("TIME-WAIT without its 2*MSL timer");
      if (rto_deadline_ != Instant::Never()) return fail("TIME-WAIT with a retransmission timer");
      if (!fin_received_) return fail("TIME-WAIT without the peer's FIN");
      break;
    case TcpState::kFinWait2:
      if (!fin_acked()) return fail("FIN-WAIT-2 with our FIN unacknowledged");
      break;
    case TcpState::kCloseWait:
    case TcpState::kLastAck:
    case TcpState::kClosing:
      if (!fin_received_) return fail("peer FIN not recorded");
      break;
    default:
      break;
  }
  if (synchronized()) {
    if (rcv_adv_ < rcv_nxt_) return fail("advertised right edge behind RCV.NXT");
    if (snd_una_ != snd_nxt_ && rto_deadline_ == Instant::Never() && state_ != TcpState::kTimeWait) {
      return fail("data in flight without a retransmission timer");
    }
  }
  return "";
}

std::optional<TcpSegment> ResetForUnmatched(const TcpSegment& seg) {
  if (seg.rst()) return std::nullopt;  // never answer a RST
  TcpSegment r;
  r.src_port = seg.dst_port;
  r.dst_port = seg.src_port;
  if (seg.ack_flag()) {
    r.seq = seg.ack;
    r.flags = kRst;
  } else {
    r.seq = SeqNum(0);
    r.ack = seg.seq + seg.seg_len();
    r.flags = kRst | kAck;
  }
  return r;
}

ListenAction ListenInput(const TcpSegment& seg) {
  if (seg.rst()) return ListenAction::kIgnore;
  if (seg.ack_flag()) return ListenAction::kSendReset;
  if (seg.syn()) return ListenAction::kAcceptSyn;
  return ListenAction::kIgnore;
}

}  // namespace synack
