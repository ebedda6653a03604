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
    case TcpState::kClosed:
      return "CLOSED";
    case TcpState::kListen:
      return "LISTEN";
    case TcpState::kSynSent:
      return "SYN-SENT";
    case TcpState::kSynReceived:
      return "SYN-RECEIVED";
    case TcpState::kEstablished:
      return "ESTABLISHED";
    case TcpState::kFinWait1:
      return "FIN-WAIT-1";
    case TcpState::kFinWait2:
      return "FIN-WAIT-2";
    case TcpState::kCloseWait:
      return "CLOSE-WAIT";
    case TcpState::kClosing:
      return "CLOSING";
    case TcpState::kLastAck:
      return "LAST-ACK";
    case TcpState::kTimeWait:
      return "TIME-WAIT";
  }
  return "?";
}

const char* ErrorName(TcpError e) {
  switch (e) {
    case TcpError::kNone:
      return "none";
    case TcpError::kRefused:
      return "connection refused";
    case TcpError::kReset:
      return "connection reset";
    case TcpError::kTimedOut:
      return "timed out";
    case TcpError::kAborted:
      return "aborted";
    case TcpError::kUnreachable:
      return "host unreachable (no ARP reply)";
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

void TcpConnection::SetState(Instant now, TcpState s, TcpOutput& out) {
  ++ctx_->counters->transitions[static_cast<size_t>(state_)][static_cast<size_t>(s)];
  SYNACK_TRACE_TRANSITION(ep_.local_port, ep_.remote_port, state_, s);
  RecordPhase(now, state_, s);
  state_ = s;
  if (s == TcpState::kEstablished) out.events |= tcp_events::kConnected;
}

// One timestamp, phase_at_, marks where the current phase began; a transition that ends a phase adds its
// duration to the engine's histogram and starts the next. CLOSE-WAIT, FIN-WAIT-2 and CLOSING continue the
// phase they are in (the lifetime runs until our FIN, the close until CLOSED or TIME-WAIT).
void TcpConnection::RecordPhase(Instant now, TcpState from, TcpState to) {
  TcpPhases& p = ctx_->counters->phases;
  LogHistogram* ended = nullptr;
  switch (to) {
    case TcpState::kSynSent:
    case TcpState::kSynReceived:
      // A simultaneous open (SYN-SENT -> SYN-RECEIVED) keeps the time of its SYN.
      if (from == TcpState::kClosed || from == TcpState::kListen) phase_at_ = now;
      return;
    case TcpState::kEstablished:
      ended = passive_ ? &p.open_passive : &p.open_active;
      break;
    case TcpState::kFinWait1:
    case TcpState::kLastAck:
      ended = &p.lifetime;
      break;
    case TcpState::kTimeWait:
      ended = &p.close;
      break;
    case TcpState::kClosed:
      if (from == TcpState::kTimeWait) {
        ended = &p.time_wait;
      } else if (from == TcpState::kFinWait1 || from == TcpState::kFinWait2 || from == TcpState::kClosing ||
                 from == TcpState::kLastAck) {
        ended = &p.close;
      }
      break;
    default:
      return;
  }
  if (ended != nullptr && phase_at_ != Instant::Never()) ended->Add(now - phase_at_);
  phase_at_ = now;
}

void TcpConnection::Finish(Instant now, TcpError e, TcpOutput& out) {
  SetState(now, TcpState::kClosed, out);
  ReleaseResources();
  out.events |= tcp_events::kClosed;
  out.error = e;
  if (e == TcpError::kTimedOut) ++ctx_->counters->timeouts;
  rto_deadline_ = pto_deadline_ = persist_deadline_ = delack_deadline_ = keepalive_deadline_ = close_deadline_ =
      Instant::Never();
}

void TcpConnection::EnterTimeWait(Instant now, TcpOutput& out) {
  SetState(now, TcpState::kTimeWait, out);
  out.events |= tcp_events::kTimeWait;
  rto_deadline_ = pto_deadline_ = persist_deadline_ = keepalive_deadline_ = Instant::Never();
  close_deadline_ = now + ctx_->config->msl * 2;
}

void TcpConnection::Established(Instant now, TcpOutput& out) {
  SetState(now, TcpState::kEstablished, out);
  ArmKeepalive(now);
  last_send_ = now;
  // RFC 6298 5.7: the SYN or SYN-ACK was lost and no RTT was measured: data starts with RTO = 3 s
  // (rather than the backed-off handshake timeout, or a 1 s guess that already proved too short).
  if (syn_retransmitted_ && !rto_.has_sample()) rto_.Restart(Duration::Seconds(3));
}

void TcpConnection::ArmKeepalive(Instant now) {
  if (!ctx_->config->keepalive) return;
  keepalive_deadline_ = now + ctx_->config->keepalive_idle;
  keepalive_sent_ = 0;
}

// ---------------------------------------------------------------------------------------------------
// Opening

void TcpConnection::Connect(Instant now, Endpoint ep, SeqNum iss, TcpOutput& out) {
  ep_ = ep;
  iss_ = iss;
  snd_una_ = iss;
  snd_nxt_ = iss + 1;
  recover_ = high_rxt_ = lost_point_ = iss;
  SetState(now, TcpState::kSynSent, out);
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
  recover_ = high_rxt_ = lost_point_ = iss;
  NegotiateOptions(syn);
  if (ts_enabled_) {
    ts_recent_ = syn.options.timestamps->tsval;
    ts_recent_at_ = now;
  }
  snd_wnd_ = syn.window;  // never scaled in a SYN
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = syn.seq;
  snd_wl2_ = iss;
  last_rx_ = now;
  SetState(now, TcpState::kSynReceived, out);
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
  recover_ = high_rxt_ = lost_point_ = cookie.iss;
  // The SYN as far as the cookie remembers it.
  TcpSegment syn;
  syn.options.mss = cookie.mss;
  syn.options.window_scale = cookie.peer_wscale;
  syn.options.sack_permitted = cookie.sack_permitted;
  if (cookie.timestamps && ack.options.timestamps)
    syn.options.timestamps = TcpTimestamps{ack.options.timestamps->tsval, 0};
  NegotiateOptions(syn);
  if (ts_enabled_) {
    ts_recent_ = ack.options.timestamps->tsval;
    ts_recent_at_ = now;
  }
  // What the cookie SYN-ACK advertised (CookieSynAck): the window, unscaled as in every SYN.
  rcv_adv_ = rcv_nxt_ + std::min<uint32_t>(ctx_->config->rcv_buffer, 65535);
  last_ack_sent_ = rcv_nxt_;
  snd_wl1_ = cookie.irs;
  snd_wl2_ = cookie.iss;
  last_rx_ = now;
  skip_ts_rtt_ = true;
  SetState(now, TcpState::kSynReceived, out);
  phase_at_ = Instant::Never();  // when the SYN came is unknown: no handshake sample (TcpPhases)
  Input(now, ack, out, mem);
}

void TcpConnection::NegotiateOptions(const TcpSegment& syn) {
  const TcpConfig& c = *ctx_->config;
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
  RecomputeSendMss();
  cc_.cwnd = InitialWindow(snd_mss_, c.initial_cwnd_segments);
  rcv_mss_ = static_cast<uint16_t>(std::clamp<uint32_t>(c.mss, 1, kDefaultMss));
}

void TcpConnection::RecomputeSendMss() {
  const TcpConfig& c = *ctx_->config;
  const uint16_t cap = path_mss_ != 0 ? std::min(c.mss, path_mss_) : c.mss;
  snd_mss_ = EffectiveSendMss(cap, c.min_snd_mss, peer_mss_, ts_enabled_);
}

void TcpConnection::set_path_mtu(uint16_t mtu) {
  const uint16_t cap = static_cast<uint16_t>(std::max(mtu, kMinPathMtu) - 40);
  if (path_mss_ != 0 && path_mss_ <= cap) return;
  path_mss_ = cap;
  if (synchronized() || state_ == TcpState::kSynReceived) RecomputeSendMss();
}

bool TcpConnection::OnIcmpUnreachable(Instant now, uint8_t code, uint16_t next_hop_mtu, SeqNum seq, TcpOutput& out) {
  const bool in_flight = state_ == TcpState::kSynSent ? seq == iss_ : (snd_una_ <= seq && seq < snd_nxt_);
  if (!in_flight || state_ == TcpState::kClosed || state_ == TcpState::kTimeWait) {
    ++ctx_->counters->icmp_ignored;
    return false;
  }
  switch (code) {
    case 4: {                            // fragmentation needed (RFC 1191)
      if (!synchronized()) return true;  // the SYN itself is small; nothing to resend
      const uint16_t before = snd_mss_;
      set_path_mtu(next_hop_mtu != 0 ? next_hop_mtu : 576);  // an old router that did not say: 576
      if (snd_mss_ < before) {
        ++ctx_->counters->pmtu_reductions;
        if (snd_una_ != snd_nxt_) {
          // What is in flight was too big for the path and is gone: resend it at the new size. Not a
          // congestion signal, so the window stays; retransmission works like the RTO's go-back-N.
          recovery_ = Recovery::kLoss;
          recover_ = snd_nxt_;
          high_rxt_ = snd_una_;
          lost_point_ = snd_nxt_;
          Output(now, out);
        }
      }
      return true;
    }
    case 2:  // protocol unreachable
    case 3:  // port unreachable
      if (state_ == TcpState::kSynSent) {
        ++ctx_->counters->icmp_hard_errors;
        Finish(now, TcpError::kUnreachable, out);
      }
      return true;
    default:  // soft errors: the retransmission timer decides
      return true;
  }
}

uint16_t EffectiveSendMss(const TcpConfig& c, uint16_t peer_mss, bool timestamps) {
  return EffectiveSendMss(c.mss, c.min_snd_mss, peer_mss, timestamps);
}

uint16_t EffectiveSendMss(uint16_t our_mss, uint16_t min_snd_mss, uint16_t peer_mss, bool timestamps) {
  // The peer's MSS option counts payload plus options beyond 20 bytes (RFC 9293 3.7.1, RFC 6691), so
  // the options every segment carries come off it. Computed in 32-bit signed arithmetic: an MSS of 0,
  // or one smaller than the option overhead, must clamp to the floor, never wrap.
  const int32_t cap = std::max<int32_t>(our_mss, 1);
  const int32_t floor = std::clamp<int32_t>(min_snd_mss, 1, cap);
  const int32_t overhead = timestamps ? kTimestampsOptionBytes : 0;
  const int32_t mss = std::min<int32_t>(peer_mss, cap) - overhead;
  return static_cast<uint16_t>(std::clamp(mss, floor, cap));
}

// ---------------------------------------------------------------------------------------------------
// Segment arrival (RFC 9293 3.10.7)

void TcpConnection::Input(Instant now, const TcpSegment& seg, TcpOutput& out, RxMem mem) {
  ++ctx_->counters->segments_in;
  rcv_mem_ = mem.held;
  switch (state_) {
    case TcpState::kClosed:
    case TcpState::kListen:
      if (std::optional<TcpSegment> rst = ResetForUnmatched(seg)) {
        ++ctx_->counters->resets_out;
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
  // RFC 7323 5.3 R1 (PAWS), before the sequence test: an old timestamp marks an old duplicate.
  if (PawsRejects(now, seg)) {
    ++ctx_->counters->paws_dropped;
    SendAck(now, out);
    return;
  }
  // First: check the sequence number.
  if (!SequenceAcceptable(seg)) {
    if (seg.rst()) return;  // RFC 5961 3.2: out-of-window RST is dropped silently
    ++ctx_->counters->unacceptable;
    // RFC 9293 3.10.7.4: a zero window still takes valid ACKs.
    if (rcv_adv_ == rcv_nxt_ && seg.seq == rcv_nxt_ && seg.ack_flag() && !seg.syn()) {
      if (!CheckAck(now, seg, out)) return;
    }
    if (seg.payload_len > 0 && seg.seq + seg.payload_len <= rcv_nxt_) {
      // Entirely received before: report it as a duplicate (RFC 2883 D-SACK) with this ACK.
      ++ctx_->counters->dup_segments;
      SetDsack(SeqRange{seg.seq, seg.seq + seg.payload_len});
    }
    // A data-less segment outside the window is answered at most once per interval (as Linux's
    // tcp_invalid_ratelimit): a spoofed ACK storm is not reflected one for one, and two stacks that
    // disagree cannot ACK each other forever. Segments with data are always answered.
    if (seg.payload_len == 0 && !seg.syn() && !seg.fin()) {
      if (now - last_invalid_ack_ < ctx_->config->challenge_ack_interval) {
        ++ctx_->counters->oow_acks_limited;
        return;
      }
      last_invalid_ack_ = now;
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
    ++ctx_->counters->no_ack_flag;
    return;
  }
  UpdateTimestamps(now, seg);
  if (!CheckAck(now, seg, out)) return;
  if (synchronized()) ArmKeepalive(now);
  // Seventh: segment text. Eighth: FIN.
  bool ack_now = false;
  if (seg.payload_len > 0) {
    ack_now = ProcessText(now, seg, out, mem);
    if (state_ == TcpState::kClosed) return;
  }
  const bool had_fin = fin_received_;
  ProcessFin(now, seg, out);
  if (const LossState* l = ls(); !fin_received_ && l != nullptr && l->ooo_fin && *l->ooo_fin == rcv_nxt_) {
    AcceptFin(now, out);  // the gap before it filled
  }
  MaybeReleaseLoss();
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
    ++ctx_->counters->resets_in;
    if (seg.ack_flag()) Finish(now, TcpError::kRefused, out);
    return;
  }
  if (!seg.syn()) return;
  irs_ = seg.seq;
  rcv_nxt_ = seg.seq + 1;
  rcv_adv_ = rcv_nxt_;  // nothing advertised yet: the right edge starts at RCV.NXT
  NegotiateOptions(seg);
  if (ts_enabled_) {
    ts_recent_ = seg.options.timestamps->tsval;
    ts_recent_at_ = now;
  }
  snd_wnd_ = seg.window;  // never scaled in a SYN
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = seg.seq;
  snd_wl2_ = seg.ack;
  last_rx_ = now;
  if (seg.ack_flag()) {
    snd_una_ = seg.ack;
    if (rtt_timing_) {
      rto_.OnRttSample(now - rtt_start_, ctx_->config->rto);
      ++ctx_->counters->rtt_samples;
      rtt_timing_ = false;
    }
    retries_ = 0;
    rto_deadline_ = Instant::Never();
    Established(now, out);
    Output(now, out);  // data queued during SYN-SENT goes now, carrying the ACK
    if (out.segments.empty()) SendAck(now, out);
    return;
  }
  // Simultaneous open (RFC 9293 figure 8): SYN-ACK with the same ISS.
  SetState(now, TcpState::kSynReceived, out);
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
  ++ctx_->counters->resets_in;
  if (seg.seq != rcv_nxt_) {
    SendChallengeAck(now, out);  // RFC 5961 3.2: in window but not exact
    return false;
  }
  if (state_ == TcpState::kSynReceived) {
    Finish(now, passive_ ? TcpError::kReset : TcpError::kRefused, out);
  } else {
    Finish(now, TcpError::kReset, out);
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
    Established(now, out);
    // A CLOSE while SYN-RECEIVED was queued until now (RFC 9293 3.10.4): the FIN goes after the data.
    if (fin_queued_) SetState(now, TcpState::kFinWait1, out);
  }
  if (seg.ack > snd_nxt_) {
    ++ctx_->counters->ack_too_new;
    SendChallengeAck(now, out);
    return false;
  }
  if (seg.ack < snd_una_ - max_snd_wnd_) {
    ++ctx_->counters->ack_too_old;
    SendChallengeAck(now, out);
    return false;
  }
  const uint32_t flight_before = flight();
  const uint32_t acked = snd_una_ < seg.ack ? static_cast<uint32_t>(seg.ack - snd_una_) : 0;
  if (acked > 0) OnAckAdvance(now, seg, out);
  const uint32_t newly_sacked = sack_enabled_ && seg.options.sack_count > 0 ? ProcessSackBlocks(seg) : 0;
  // Window update (RFC 9293 3.10.7.4, fifth step).
  bool window_changed = false;
  if (snd_una_ <= seg.ack && (snd_wl1_ < seg.seq || (snd_wl1_ == seg.seq && snd_wl2_ <= seg.ack))) {
    const uint32_t old_wnd = snd_wnd_;
    snd_wnd_ = static_cast<uint32_t>(seg.window) << snd_wscale_;
    window_changed = snd_wnd_ != old_wnd;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    if (old_wnd == 0 && snd_wnd_ > 0) {
      persist_deadline_ = Instant::Never();
      persist_backoff_ = 0;
    }
  }
  if (synchronized()) OnAckCongestion(now, seg, acked, newly_sacked, flight_before, window_changed);
  switch (state_) {
    case TcpState::kFinWait1:
      if (fin_acked()) {
        SetState(now, TcpState::kFinWait2, out);
        if (app_closed_) close_deadline_ = now + ctx_->config->fin_wait2_timeout;
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
        Finish(now, TcpError::kNone, out);
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
  if (LossState* l = ls()) l->sacked.RemoveBelow(snd_una_);
  if (high_rxt_ < snd_una_) high_rxt_ = snd_una_;
  // RTT sample: timestamps give one for every ACK of new data (RFC 7323 4.1); otherwise only from the
  // timed segment, and only if it was never retransmitted (Karn).
  if (ts_enabled_ && seg.options.timestamps && skip_ts_rtt_) {
    skip_ts_rtt_ = false;
  } else if (ts_enabled_ && seg.options.timestamps) {
    // A TSecr of 0 echoes nothing (the peer had no TSval of ours): never an RTT sample.
    const uint32_t echoed = seg.options.timestamps->tsecr;
    const int32_t rtt_ms = static_cast<int32_t>(MsClock(now) - echoed);
    if (echoed != 0 && rtt_ms >= 0) {
      rto_.OnRttSample(Duration::Milliseconds(rtt_ms), ctx_->config->rto);
      ++ctx_->counters->rtt_samples;
    }
  } else if (rtt_timing_ && seg.ack > rtt_seq_) {
    rto_.OnRttSample(now - rtt_start_, ctx_->config->rto);
    ++ctx_->counters->rtt_samples;
    rtt_timing_ = false;
  }
  retries_ = 0;
  if (tlp_out_ && !(snd_una_ < tlp_high_)) tlp_out_ = false;  // the probe's episode is over
  if (snd_una_ == snd_nxt_) {
    rto_deadline_ = pto_deadline_ = Instant::Never();
  } else {
    ArmRto(now);
    ArmPto(now);
  }
}

uint32_t TcpConnection::ProcessSackBlocks(const TcpSegment& seg) {
  uint32_t newly = 0;
  for (uint8_t i = 0; i < seg.options.sack_count; ++i) {
    const SackBlock& b = seg.options.sack[i];
    if (!(b.left < b.right)) {
      ++ctx_->counters->sack_blocks_ignored;
      continue;
    }
    // D-SACK (RFC 2883): a first block below the cumulative ACK, or inside the second block, reports
    // a duplicate the peer received — one of our retransmissions was not needed.
    if (i == 0 && (b.right <= seg.ack || (seg.options.sack_count > 1 && seg.options.sack[1].left <= b.left &&
                                          b.right <= seg.options.sack[1].right))) {
      ++ctx_->counters->dsacks_received;
      continue;
    }
    // Only what we sent and is not yet acknowledged can be SACKed; anything else is bogus.
    if (b.right > snd_nxt_ || b.left < snd_una_ - max_snd_wnd_) {
      ++ctx_->counters->sack_blocks_ignored;
      continue;
    }
    const SeqNum l = SeqMax(b.left, snd_una_);
    if (!(l < b.right)) continue;
    LossState* state = EnsureLoss();
    const int64_t added = state != nullptr ? state->sacked.Add(l, b.right) : -1;
    if (added < 0) {
      ++ctx_->counters->sack_blocks_ignored;  // no room: the data is retransmitted if need be
      continue;
    }
    newly += static_cast<uint32_t>(added);
  }
  return newly;
}

bool TcpConnection::IsLostAtUna() const {
  // RFC 6675 IsLost(SND.UNA): more than (DupThresh - 1) * SMSS bytes, or DupThresh discontiguous
  // ranges, SACKed above it.
  const SeqRanges& sacked_ranges = sacked();
  const uint32_t thresh = DupThresh();
  return sacked_ranges.BytesAbove(snd_una_) > (thresh - 1) * snd_mss_ ||
         static_cast<uint32_t>(sacked_ranges.count()) >= thresh;
}

void TcpConnection::UpdateLostPoint() {
  // Everything unSACKed below this point is deemed lost (IsLost): below the range where the SACKed
  // bytes counted from the top first exceed 2 SMSS, or below the third range from the top.
  const SeqRanges& sk = sacked();
  SeqNum point = snd_una_;
  uint32_t above = 0;
  for (int i = sk.count() - 1; i >= 0; --i) {
    above += sk[i].size();
    if (above > 2u * snd_mss_) {
      point = SeqMax(point, sk[i].left);
      break;
    }
  }
  if (sk.count() >= 3) point = SeqMax(point, sk[sk.count() - 3].left);
  lost_point_ = SeqMax(lost_point_, point);
}

uint32_t TcpConnection::Pipe() const {
  // RFC 6675 pipe: outstanding bytes not SACKed and not deemed lost, plus retransmissions in flight.
  // Without SACK each duplicate ACK stands for one segment that left the network (as Linux's
  // sacked_out for NewReno).
  const uint32_t fl = flight();
  // (Outside recovery NewReno uses the plain flight; limited transmit adds to the window instead.)
  const SeqRanges& sk = this->sacked();
  const uint32_t sacked = sack_enabled_ ? sk.BytesAbove(snd_una_)
                          : recovery_ == Recovery::kOpen
                              ? 0
                              : static_cast<uint32_t>(std::min<uint64_t>(uint64_t{dupacks_} * snd_mss_, fl));
  const uint32_t unsacked = fl - std::min(sacked, fl);
  if (recovery_ == Recovery::kOpen) return unsacked;
  const SeqNum from = SeqMax(snd_una_, high_rxt_);
  uint32_t lost = 0;
  if (from < lost_point_) lost = static_cast<uint32_t>(lost_point_ - from) - sk.BytesIn(from, lost_point_);
  return unsacked - std::min(lost, unsacked);
}

SeqRange TcpConnection::NextRetransmission() const {
  if (recovery_ == Recovery::kOpen) return {};
  const SeqRanges& sk = sacked();
  SeqNum s = SeqMax(snd_una_, high_rxt_);
  const SeqNum stop = SeqMin(lost_point_, snd_nxt_);
  while (s < stop) {
    if (const SeqRange* r = sk.Find(s)) {
      s = r->right;
      continue;
    }
    SeqNum end = SeqMin(s + SegmentPayloadMax(), stop);
    for (int i = 0; i < sk.count(); ++i) {
      if (s < sk[i].left) {
        end = SeqMin(end, sk[i].left);
        break;
      }
    }
    return SeqRange{s, end};
  }
  return {};
}

void TcpConnection::EnterFastRecovery(Instant now) {
  ++ctx_->counters->fast_recoveries;
  if (sack_enabled_ && !sacked().empty()) ++ctx_->counters->sack_recoveries;
  pto_deadline_ = Instant::Never();
  tlp_out_ = false;
  rxt_mark_valid_ = false;
  const uint32_t fl = flight();
  recovery_ = Recovery::kFast;
  recover_ = snd_nxt_;
  high_rxt_ = snd_una_;
  cca_.OnCongestion(cc_, fl, snd_mss_, now);
  if (LossState* l = EnsureLoss()) l->prr.Start(fl);
  prr_allowance_ = 0;
  // The first unacknowledged segment is presumed lost (RFC 5681 3.2, RFC 6675 5 (4.2)), plus whatever
  // the scoreboard says.
  lost_point_ = SeqMin(snd_una_ + snd_mss_, snd_nxt_);
  if (sack_enabled_) UpdateLostPoint();
  force_rxt_ = true;
}

void TcpConnection::OnAckCongestion(Instant now, const TcpSegment& seg, uint32_t acked, uint32_t newly_sacked,
                                    uint32_t flight_before, bool window_changed) {
  const uint32_t mss = snd_mss_;
  // RFC 5681 section 2 duplicate ACK (with SACK: one that SACKs new data, RFC 6675).
  const bool dup = acked == 0 && seg.payload_len == 0 && !seg.fin() && flight_before > 0 &&
                   (sack_enabled_ ? newly_sacked > 0 : !window_changed);
  if (acked > 0) {
    // In NewReno recovery (no SACK) each duplicate ACK stood for a segment that left the network; the
    // segments a partial ACK covers no longer do. Otherwise an advancing ACK ends the duplicates.
    if (recovery_ == Recovery::kFast && !sack_enabled_) {
      dupacks_ -= std::min(dupacks_, (acked + mss - 1) / mss);
    } else {
      dupacks_ = 0;
    }
  } else if (dup) {
    ++dupacks_;
  }
  switch (recovery_) {
    case Recovery::kOpen: {
      if (acked > 0) {
        // Grow only while the window was actually used (not limited by the application).
        const bool cwnd_limited = uint64_t{flight_before} + mss >= cc_.cwnd ||
                                  (cc_.in_slow_start() && uint64_t{flight_before} * 2 >= cc_.cwnd);
        if (cwnd_limited) cca_.OnAck(cc_, acked, mss, now, rto_.srtt());
      }
      // Fast retransmit: the third duplicate ACK, or SACK information that shows a loss (RFC 6675 5).
      // (A recovery ends only once SND.UNA passed its recovery point, so losses found here are new:
      // RFC 6582's "more than recover" holds.)
      if (dup) {
        const uint32_t thresh = DupThresh();
        // After a tail loss probe, an ACK that SACKs it without moving SND.UNA shows the data before it
        // is lost (what RACK would conclude from the send times; RFC 8985 7.4).
        const bool probe_shows_loss = tlp_out_ && sack_enabled_ && newly_sacked > 0;
        if (dupacks_ >= thresh || (sack_enabled_ && IsLostAtUna()) || probe_shows_loss) {
          if (dupacks_ < 3 && !(sack_enabled_ && sacked().BytesAbove(snd_una_) > 2u * mss))
            ++ctx_->counters->early_retransmits;
          EnterFastRecovery(now);
        }
      }
      break;
    }
    case Recovery::kFast: {
      if (seg.ack >= recover_) {
        // Full ACK: recovery is over; continue from ssthresh (RFC 6937, RFC 6582 3.2 step 3).
        recovery_ = Recovery::kOpen;
        cc_.cwnd = std::max(cc_.ssthresh, 2u * mss);
        cc_.bytes_acked = 0;
        dupacks_ = 0;
        break;
      }
      if (acked > 0 && !sack_enabled_) {
        // NewReno partial ACK: the next unacknowledged segment is lost too (RFC 6582 3.2 step 4).
        lost_point_ = SeqMax(lost_point_, SeqMin(snd_una_ + mss, snd_nxt_));
        force_rxt_ = true;
      }
      if (sack_enabled_) {
        UpdateLostPoint();
        // A retransmission is itself lost when data sent after it has been SACKed while the hole it
        // was meant to fill is still open (Linux's lost-retransmit detection): resend the holes again
        // rather than wait for the RTO.
        if (rxt_mark_valid_ && high_rxt_ > snd_una_ && !sacked().empty() && sacked().Highest() > rxt_mark_ + mss) {
          ++ctx_->counters->lost_retransmits;
          high_rxt_ = snd_una_;
          rxt_mark_valid_ = false;
        }
      }
      const uint32_t delivered = acked + newly_sacked + (!sack_enabled_ && dup ? mss : 0);
      const uint32_t pipe = Pipe();
      // PRR; without a LossState to keep its counts, simply the window above the pipe.
      LossState* l = ls();
      prr_allowance_ = l != nullptr ? l->prr.OnAck(delivered, pipe, cc_.ssthresh, mss)
                                    : (cc_.ssthresh > pipe ? cc_.ssthresh - pipe : 0);
      cc_.cwnd = pipe + prr_allowance_;
      break;
    }
    case Recovery::kLoss:
      // After an RTO: slow start from the loss window while go-back-N resends what was outstanding.
      if (acked > 0) cca_.OnAck(cc_, acked, mss, now, rto_.srtt());
      if (seg.ack >= recover_) {
        recovery_ = Recovery::kOpen;
        dupacks_ = 0;
      }
      break;
  }
}

bool TcpConnection::PawsRejects(Instant now, const TcpSegment& seg) const {
  if (!ts_enabled_ || !seg.options.timestamps || seg.rst()) return false;
  // TS.Recent is no longer valid after 24 days without an update (RFC 7323 5.5).
  if (now - ts_recent_at_ > Duration::Seconds(int64_t{24} * 24 * 3600)) return false;
  return static_cast<int32_t>(seg.options.timestamps->tsval - ts_recent_) < 0;
}

void TcpConnection::UpdateTimestamps(Instant now, const TcpSegment& seg) {
  // RFC 7323 4.3: remember the peer's TSval from a segment that covers our last ACK, and never let it
  // go backwards.
  if (ts_enabled_ && seg.options.timestamps && seg.seq <= last_ack_sent_ &&
      static_cast<int32_t>(seg.options.timestamps->tsval - ts_recent_) >= 0) {
    ts_recent_ = seg.options.timestamps->tsval;
    ts_recent_at_ = now;
  }
}

uint32_t TcpConnection::rcv_mem_limit() const {
  const TcpConfig& c = *ctx_->config;
  return c.rcv_mem != 0 ? c.rcv_mem : static_cast<uint32_t>(std::min<uint64_t>(uint64_t{c.rcv_buffer} * 2, UINT32_MAX));
}

bool TcpConnection::ProcessText(Instant now, const TcpSegment& seg, TcpOutput& out, RxMem mem) {
  if (state_ != TcpState::kEstablished && state_ != TcpState::kFinWait1 && state_ != TcpState::kFinWait2) return false;
  const SeqNum seg_end = seg.seq + seg.payload_len;
  if (app_closed_ && seg_end > rcv_nxt_) {
    // New data for a connection nobody will read again (RFC 9293 3.10.4 CLOSE; RFC 2525 2.17): tell
    // the peer at once with a RST instead of accepting it into an orphan.
    ++ctx_->counters->abort_on_data;
    SendRst(now, snd_nxt_, out);
    Finish(now, TcpError::kAborted, out);
    return false;
  }
  // The peer's segment size, for the delayed-ACK rule (the largest seen, capped at our MSS; as Linux).
  if (seg.payload_len > rcv_mss_)
    rcv_mss_ = static_cast<uint16_t>(std::min<uint32_t>(seg.payload_len, ctx_->config->mss));
  if (seg_end <= rcv_nxt_) {
    // Everything in it was received before (a spurious retransmission, or our ACK was lost): ACK at
    // once and report the duplicate (RFC 2883).
    ++ctx_->counters->dup_segments;
    SetDsack(SeqRange{seg.seq, seg_end});
    return true;
  }
  const uint32_t limit = rcv_mem_limit();
  if (seg.seq > rcv_nxt_) {
    // Out of order: a gap before it. Keep what lies within the window, ACK at once (RFC 5681 4.2) with
    // SACK blocks; the caller keeps the bytes.
    const SeqNum right = SeqMin(seg_end, rcv_adv_);
    if (!(seg.seq < right)) return true;
    if (out_of_order().Covers(seg.seq, right)) {
      ++ctx_->counters->dup_segments;
      SetDsack(SeqRange{seg.seq, right});
      return true;
    }
    if (mem.ooo_cost == RxMem::kNoRoom || uint64_t{mem.held} + mem.ooo_cost > limit) {
      ++ctx_->counters->rcv_mem_dropped;
      return true;
    }
    LossState* state = EnsureLoss();
    if (state == nullptr || state->ooo.Add(seg.seq, right) < 0) {
      ++ctx_->counters->ooo_dropped;  // too many gaps to track: the peer retransmits it later
      return true;
    }
    ++ctx_->counters->ooo_segments;
    rcv_mem_ = mem.held + mem.ooo_cost;
    state->last_ooo = seg.seq;
    out.ooo_seq = seg.seq;
    out.ooo_offset = 0;
    out.ooo_len = static_cast<uint32_t>(right - seg.seq);
    return true;
  }
  // In order (it covers RCV.NXT).
  const uint32_t skip = static_cast<uint32_t>(rcv_nxt_ - seg.seq);
  const uint32_t room = static_cast<uint32_t>(rcv_adv_ - rcv_nxt_);
  const uint32_t len = std::min(seg.payload_len - skip, room);
  if (len == 0) return true;
  if (mem.cost == RxMem::kNoRoom || uint64_t{mem.held} + mem.cost > limit) {
    if (mem.cost != RxMem::kNoRoom && !out_of_order().empty() &&
        uint64_t{mem.held} - mem.ooo_held + mem.cost <= limit) {
      // Out-of-order data filled the budget and now blocks the very data that would let the stream
      // move on: give it up (RFC 2018 allows reneging; the peer still has it) and take this.
      PruneOutOfOrder(out);
      mem.held -= mem.ooo_held;
    } else {
      // In the window but no memory to keep it: dropped like a lost segment (the duplicate ACK this
      // draws tells the peer where we are); the window the next ACK carries has shrunk already.
      ++ctx_->counters->rcv_mem_dropped;
      return true;
    }
  }
  rcv_mem_ = mem.held + mem.cost;
  if (skip > 0) SetDsack(SeqRange{seg.seq, rcv_nxt_});  // partly a duplicate
  out.deliver_offset = skip;
  out.deliver_len = len;
  out.events |= tcp_events::kReadable;
  rcv_nxt_ += len;
  rcv_unread_ += len;
  rcv_unacked_ += len;
  bool ack_now = skip > 0;
  if (LossState* state = ls(); state != nullptr && !state->ooo.empty()) {
    SeqRanges& ooo = state->ooo;
    // It filled all or part of a gap (RFC 5681 4.2: ACK at once). Kept data now contiguous with
    // RCV.NXT joins the stream; the caller moves its bytes.
    ack_now = true;
    if (ooo[0].left <= rcv_nxt_) {
      const SeqNum joined = SeqMax(rcv_nxt_, ooo[0].right);
      out.ooo_join_from = rcv_nxt_;
      out.ooo_join_to = joined;
      rcv_unread_ += static_cast<uint32_t>(joined - rcv_nxt_);
      rcv_nxt_ = joined;
      ooo.RemoveBelow(rcv_nxt_);
      out.ooo_ready = true;
    }
  }
  // Delayed ACK (RFC 9293 3.8.6.3, RFC 5681 4.2): at the latest every second full-sized segment —
  // full-sized as the peer actually sends them — and within the delay; at once while the connection
  // starts (quick ACKs let the peer's slow start grow) or when our window is closed.
  if (quickacks_left_ > 0) {
    --quickacks_left_;
    ack_now = true;
  }
  if (rcv_unacked_ > rcv_mss_ || rcv_adv_ == rcv_nxt_) ack_now = true;
  if (!ack_now && delack_deadline_ == Instant::Never()) delack_deadline_ = now + ctx_->config->delayed_ack;
  return ack_now;
}

void TcpConnection::ProcessFin(Instant now, const TcpSegment& seg, TcpOutput& out) {
  if (!seg.fin() || fin_received_) return;
  const SeqNum fin_at = seg.seq + seg.payload_len;
  if (fin_at != rcv_nxt_) {
    // Beyond a gap: remember where the stream ends; the FIN takes effect once the gap fills (a
    // retransmission of the FIN would do too). Not beyond the window, and only if its data was kept.
    if (fin_at > rcv_nxt_ && fin_at <= rcv_adv_ && (seg.payload_len == 0 || out_of_order().Covers(seg.seq, fin_at))) {
      if (LossState* l = EnsureLoss()) l->ooo_fin = fin_at;
    }
    return;
  }
  AcceptFin(now, out);
}

void TcpConnection::AcceptFin(Instant now, TcpOutput& out) {
  if (LossState* l = ls()) {
    l->ooo_fin.reset();
    // The stream ends here: anything kept beyond it was not part of it (as Linux's tcp_fin purges).
    PruneOutOfOrder(out);
  }
  fin_received_ = true;
  rcv_nxt_ += 1;
  out.events |= tcp_events::kPeerFin;
  switch (state_) {
    case TcpState::kSynReceived:
    case TcpState::kEstablished:
      SetState(now, TcpState::kCloseWait, out);
      break;
    case TcpState::kFinWait1:
      if (fin_acked()) {
        EnterTimeWait(now, out);
      } else {
        SetState(now, TcpState::kClosing, out);
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
  if (TimeWaitInput(tw, now, seg, *ctx_->config, *ctx_->counters, out)) {
    Finish(now, TcpError::kNone, out);
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

bool TcpConnection::TimeWaitAcceptsSyn(const TcpSegment& syn) const {
  return synack::TimeWaitAcceptsSyn(ToTimeWait(), syn);
}

bool TimeWaitAcceptsSyn(const TimeWaitEntry& tw, const TcpSegment& syn) {
  if (tw.ts_enabled && syn.options.timestamps) {
    return static_cast<int32_t>(syn.options.timestamps->tsval - tw.ts_recent) > 0;  // RFC 6191
  }
  return syn.seq > tw.rcv_nxt;
}

bool TimeWaitInput(TimeWaitEntry& tw, Instant now, const TcpSegment& seg, const TcpConfig& config,
                   TcpCounters& counters, TcpOutput& out) {
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
  const uint32_t accepted = std::min(n, ctx_->config->snd_buffer - snd_buf_);
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
  const uint32_t threshold = std::min<uint32_t>(ctx_->config->rcv_buffer / 2, ctx_->config->mss);
  if (new_right > rcv_adv_ && static_cast<uint32_t>(new_right - rcv_adv_) >= threshold) SendAck(now, out);
}

void TcpConnection::Shutdown(Instant now, TcpOutput& out) {
  switch (state_) {
    case TcpState::kSynSent:
      Finish(now, TcpError::kNone, out);
      return;
    case TcpState::kSynReceived:
      // RFC 9293 3.10.4: queued until ESTABLISHED (CheckAck moves on to FIN-WAIT-1 then); until our
      // SYN is acknowledged, a timeout retransmits the SYN-ACK, never a FIN.
      fin_queued_ = true;
      return;
    case TcpState::kEstablished:
      fin_queued_ = true;
      SetState(now, TcpState::kFinWait1, out);
      break;
    case TcpState::kCloseWait:
      fin_queued_ = true;
      SetState(now, TcpState::kLastAck, out);
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
    Finish(now, TcpError::kAborted, out);
    return;
  }
  if (state_ == TcpState::kFinWait2) close_deadline_ = now + ctx_->config->fin_wait2_timeout;
  Shutdown(now, out);
}

void TcpConnection::Abort(Instant now, TcpOutput& out) {
  if (state_ == TcpState::kClosed) return;
  if (state_ != TcpState::kSynSent && state_ != TcpState::kTimeWait && state_ != TcpState::kListen) {
    SendRst(now, snd_nxt_, out);
  }
  Finish(now, TcpError::kAborted, out);
}

// ---------------------------------------------------------------------------------------------------
// Timers

Instant TcpConnection::NextDeadline() const {
  return std::min(
      {rto_deadline_, pto_deadline_, persist_deadline_, delack_deadline_, keepalive_deadline_, close_deadline_});
}

void TcpConnection::ArmPto(Instant now) {
  pto_deadline_ = Instant::Never();
  if (!sack_enabled_ || tlp_out_ || recovery_ != Recovery::kOpen || snd_una_ == snd_nxt_ || !rto_.has_sample() ||
      !synchronized()) {
    return;
  }
  // RFC 8985 7.2: PTO = 2 SRTT; with a single segment out, time for a delayed ACK too; never below
  // 10 ms (as Linux) and never beyond the RTO.
  const Duration srtt = rto_.srtt();
  Duration pto = std::max(srtt * 2, Duration::Milliseconds(10));
  if (flight() <= snd_mss_)
    pto = std::max(pto, srtt + Duration::Nanoseconds(srtt.ns() / 2) + Duration::Milliseconds(200));
  const Instant at = now + pto;
  if (at < rto_deadline_) pto_deadline_ = at;
}

void TcpConnection::SendTailLossProbe(Instant now, TcpOutput& out) {
  // RFC 8985 7.3: new data if the windows allow, else the last segment again; its ACK (with SACK)
  // shows what was lost, so recovery starts without waiting for the RTO.
  ++ctx_->counters->tlp_probes;
  tlp_out_ = true;
  const SeqNum end = data_end();
  const bool new_data = snd_nxt_ < end && !fin_sent_ && snd_nxt_ < snd_una_ + snd_wnd_;
  if (new_data) {
    const size_t before = out.segments.size();
    const uint32_t cwnd = cc_.cwnd;
    cc_.cwnd = std::max(cc_.cwnd, flight() + snd_mss_);  // the probe may exceed the window by one segment
    Output(now, out);
    cc_.cwnd = cwnd;
    if (out.segments.size() != before) {
      tlp_high_ = snd_nxt_;
      return;
    }
  }
  const SeqNum stop = fin_sent_ ? fin_seq_ + 1 : snd_nxt_;
  const uint32_t span = static_cast<uint32_t>(stop - snd_una_);
  const SeqNum from = snd_una_ + (span > SegmentPayloadMax() ? span - SegmentPayloadMax() : 0);
  SendRange(now, from, stop, true, out);
  tlp_high_ = snd_nxt_;
}

uint32_t TcpConnection::DupThresh() const {
  const uint32_t segments = (flight() + snd_mss_ - 1) / snd_mss_;
  const bool nothing_new = !(snd_nxt_ < data_end()) || fin_sent_;
  return segments < 4 && nothing_new ? std::max<uint32_t>(1, segments - 1) : 3;
}

void TcpConnection::OnTimer(Instant now, TcpOutput& out) {
  const TcpConfig& c = *ctx_->config;
  if (close_deadline_ <= now) {
    // End of TIME-WAIT, or an orphaned FIN-WAIT-2 that waited long enough.
    Finish(now, state_ == TcpState::kTimeWait ? TcpError::kNone : TcpError::kTimedOut, out);
    return;
  }
  if (pto_deadline_ <= now) {
    pto_deadline_ = Instant::Never();
    if (rto_deadline_ > now && recovery_ == Recovery::kOpen && snd_una_ != snd_nxt_) SendTailLossProbe(now, out);
  }
  if (rto_deadline_ <= now) {
    pto_deadline_ = Instant::Never();
    const int limit = state_ == TcpState::kSynSent       ? c.syn_retries
                      : state_ == TcpState::kSynReceived ? (synack_retries_ >= 0 ? synack_retries_ : c.synack_retries)
                                                         : c.max_retransmits;
    if (retries_ >= limit) {
      Finish(now, TcpError::kTimedOut, out);
      return;
    }
    ++retries_;
    rto_.Backoff(ctx_->config->rto);
    Retransmit(now, out);
    ArmRto(now);
  }
  if (persist_deadline_ <= now) {
    // RFC 1122 4.2.2.17: probe for as long as the peer answers; a peer that stopped answering is
    // given up on like a retransmission timeout (RST, timed out).
    if (persist_unanswered_ >= c.max_retransmits) {
      ++ctx_->counters->persist_timeouts;
      SendRst(now, snd_nxt_, out);
      Finish(now, TcpError::kTimedOut, out);
      return;
    }
    ++persist_unanswered_;
    // Zero-window probe: an old sequence number makes the peer answer with its current window.
    ++ctx_->counters->persist_probes;
    Emit(Make(now, snd_una_ - 1, kAck), 0, out);
    persist_backoff_ = std::min(persist_backoff_ + 1, 20);
    Duration d = c.persist_min * (int64_t{1} << persist_backoff_);
    persist_deadline_ = now + std::min(d, c.persist_max);
  }
  if (delack_deadline_ <= now) {
    ++ctx_->counters->delayed_acks;
    SendAck(now, out);
  }
  if (keepalive_deadline_ <= now) {
    if (keepalive_sent_ >= c.keepalive_probes) {
      Finish(now, TcpError::kTimedOut, out);
      return;
    }
    ++keepalive_sent_;
    ++ctx_->counters->keepalive_probes;
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
  const uint32_t buffer = ctx_->config->rcv_buffer;
  uint32_t wnd = buffer - std::min(rcv_unread_, buffer);
  if (rcv_mem_ != 0) {
    const uint32_t limit = rcv_mem_limit();
    wnd = std::min(wnd, (limit - std::min(rcv_mem_, limit)) / 2);
  }
  if (ctx_->window_clamp != nullptr && *ctx_->window_clamp < wnd) wnd = *ctx_->window_clamp;
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
    if (loss_ != LossStatePool::kNone) FillSackBlocks(s);
  }
  if (ts_enabled_ && !(flags & kRst)) s.options.timestamps = TcpTimestamps{MsClock(now), ts_recent_};
  return s;
}

uint32_t TcpConnection::SegmentPayloadMax() const {
  const LossState* l = ls();
  if (!sack_enabled_ || l == nullptr || (l->ooo.empty() && !l->dsack)) return snd_mss_;
  // As many blocks as FillSackBlocks reports and the 40 option bytes hold next to timestamps.
  const uint32_t blocks = std::min<uint32_t>(l->ooo.count() + (l->dsack ? 1 : 0), ts_enabled_ ? 3 : 4);
  const uint32_t bytes = 4 + 8 * blocks;
  return std::max<uint32_t>(snd_mss_ > bytes ? snd_mss_ - bytes : 1, 1);
}

void TcpConnection::FillSackBlocks(TcpSegment& s) const {
  const LossState* l = ls();
  if (!sack_enabled_ || l == nullptr || (l->ooo.empty() && !l->dsack)) return;
  const SeqRanges& ooo = l->ooo;
  // RFC 2883: a D-SACK block first; RFC 2018: then the block holding the most recent out-of-order
  // segment, then the others (highest first). The writer keeps as many as fit with the other options.
  uint8_t n = 0;
  if (l->dsack) s.options.sack[n++] = SackBlock{l->dsack->left, l->dsack->right};
  const SeqRange* recent = ooo.Find(l->last_ooo);
  if (recent != nullptr) s.options.sack[n++] = SackBlock{recent->left, recent->right};
  for (int i = ooo.count() - 1; i >= 0 && n < s.options.sack.size(); --i) {
    if (&ooo[i] == recent) continue;
    s.options.sack[n++] = SackBlock{ooo[i].left, ooo[i].right};
  }
  s.options.sack_count = n;
}

void TcpConnection::Emit(const TcpSegment& seg, uint32_t data_offset, TcpOutput& out) {
  out.segments.push_back(OutSegment{seg, data_offset});
  ++ctx_->counters->segments_out;
  if (seg.ack_flag()) {
    last_ack_sent_ = rcv_nxt_;
    delack_deadline_ = Instant::Never();
    rcv_unacked_ = 0;
    if (LossState* l = ls(); l != nullptr && l->dsack && seg.options.sack_count > 0) {  // reported once
      l->dsack.reset();
      ++ctx_->counters->dsacks_sent;
    }
    const uint32_t scale = seg.syn() ? 0 : rcv_wscale_;
    const SeqNum right = rcv_nxt_ + (static_cast<uint32_t>(seg.window) << scale);
    if (right > rcv_adv_ || seg.syn()) rcv_adv_ = right;
  }
}

void TcpConnection::SendAck(Instant now, TcpOutput& out) { Emit(Make(now, snd_nxt_, kAck), 0, out); }

void TcpConnection::SendChallengeAck(Instant now, TcpOutput& out) {
  if (now - last_invalid_ack_ < ctx_->config->challenge_ack_interval) {
    ++ctx_->counters->challenge_acks_conn_limited;
    return;
  }
  if (!ctx_->challenge->Allow(now)) {
    ++ctx_->counters->challenge_acks_suppressed;
    return;
  }
  last_invalid_ack_ = now;
  ++ctx_->counters->challenge_acks;
  SendAck(now, out);
}

void TcpConnection::SendRst(Instant now, SeqNum seq, TcpOutput& out) {
  TcpSegment s;
  s.src_port = ep_.local_port;
  s.dst_port = ep_.remote_port;
  s.seq = seq;
  s.flags = kRst;
  ++ctx_->counters->resets_out;
  out.segments.push_back(OutSegment{s, 0});
  ++ctx_->counters->segments_out;
}

void TcpConnection::SendSyn(Instant now, TcpOutput& out) {
  const TcpConfig& c = *ctx_->config;
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

void TcpConnection::SendRange(Instant now, SeqNum seq, SeqNum end, bool retransmission, TcpOutput& out) {
  const SeqNum data_start = snd_una_ + (syn_unacked() ? 1 : 0);
  if (seq < data_start || !(seq < end)) return;
  // The stream's data ends where the FIN sits (once sent) or at the end of what is queued.
  const SeqNum data_stop = fin_sent_ ? fin_seq_ : data_end();
  const uint32_t len = seq < data_stop ? static_cast<uint32_t>(SeqMin(end, data_stop) - seq) : 0;
  uint8_t flags = kAck;
  if (len > 0 && seq + len == data_end()) flags |= kPsh;
  if (fin_sent_ && seq + len == fin_seq_ && end > fin_seq_) flags |= kFin;
  if (len == 0 && !(flags & kFin)) return;
  TcpSegment s = Make(now, seq, flags);
  s.payload_len = len;
  Emit(s, static_cast<uint32_t>(seq - data_start), out);
  last_send_ = now;
  if (retransmission) {
    ++ctx_->counters->retransmits;
    ++total_retrans_;
    if (recovery_ == Recovery::kFast) ++ctx_->counters->fast_retransmits;
    rtt_timing_ = false;  // Karn
  }
  if (rto_deadline_ == Instant::Never()) ArmRto(now);
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
  const uint32_t mss = snd_mss_;
  // RFC 5681 4.1: after an idle period longer than the RTO, restart from at most the initial window.
  if (snd_una_ == snd_nxt_ && recovery_ == Recovery::kOpen && now - last_send_ > rto_.rto()) {
    cc_.cwnd = std::min(cc_.cwnd, InitialWindow(mss, ctx_->config->initial_cwnd_segments));
    cca_.OnRestart();
  }

  // Retransmissions first, while recovering: the lost holes (RFC 6675 NextSeg), paced by PRR in fast
  // recovery and by the window after an RTO.
  if (recovery_ != Recovery::kOpen) {
    for (int guard = 0; guard < 4096; ++guard) {
      const SeqRange r = NextRetransmission();
      if (!(r.left < r.right)) break;
      const uint32_t len = r.size();
      if (recovery_ == Recovery::kFast) {
        if (!force_rxt_ && prr_allowance_ == 0) break;
        force_rxt_ = false;
        prr_allowance_ -= std::min(prr_allowance_, len);
        if (LossState* l = ls()) l->prr.OnSent(len);
      } else {
        const uint32_t pipe = Pipe();
        if (pipe > 0 && uint64_t{pipe} + len > cc_.cwnd) break;
      }
      if (!rxt_mark_valid_) {
        rxt_mark_valid_ = true;
        rxt_mark_ = snd_nxt_;
      }
      SendRange(now, r.left, r.right, true, out);
      high_rxt_ = r.right;
    }
  }

  // New data within the peer's window and the congestion window.
  const SeqNum wnd_end = snd_una_ + snd_wnd_;
  const SeqNum end = data_end();
  for (int guard = 0; snd_nxt_ < end && !fin_sent_ && guard < 65536; ++guard) {
    if (!(snd_nxt_ < wnd_end)) break;
    const uint32_t seg_max = SegmentPayloadMax();
    // Segmentation offload: whole MSS pieces in one segment, outside loss recovery, while no SACK
    // blocks shorten the segments and while no ICMP message has lowered the path MTU
    // (TcpConfig::tso_max).
    const uint32_t tso_max = std::min(ctx_->config->tso_max, kTsoMaxPayload);
    const bool tso = recovery_ == Recovery::kOpen && seg_max == snd_mss_ && path_mss_ == 0 && tso_max >= 2 * seg_max;
    const uint32_t burst_max = tso ? tso_max / seg_max * seg_max : seg_max;
    uint32_t len =
        std::min({static_cast<uint32_t>(end - snd_nxt_), static_cast<uint32_t>(wnd_end - snd_nxt_), burst_max});
    if (recovery_ == Recovery::kFast) {
      if (prr_allowance_ == 0) break;
    } else {
      // RFC 3042 limited transmit: without SACK, the first two duplicate ACKs each let one new segment
      // out (with SACK, pipe already dropped by what they SACKed).
      const uint64_t allowed =
          uint64_t{cc_.cwnd} + (recovery_ == Recovery::kOpen && !sack_enabled_ ? std::min(dupacks_, 2u) * mss : 0);
      const uint32_t pipe = Pipe();
      if (len > seg_max) {
        // A multi-MSS segment takes what the congestion window has room for, in whole MSS pieces (at
        // least one: that piece alone is judged below as any segment is). A short last piece goes with
        // it only where it could go alone at once — no-delay, or the FIN with it; otherwise Nagle and
        // sender SWS avoidance judge it as a segment of its own, next time round.
        const uint64_t room = allowed > pipe ? allowed - pipe : 0;
        if (len > room) len = static_cast<uint32_t>(std::max<uint64_t>(seg_max, room / seg_max * seg_max));
        const bool reaches_end = snd_nxt_ + len == end;
        if (len % seg_max != 0 && !(reaches_end && (nodelay_ || fin_queued_))) len -= len % seg_max;
      }
      if (pipe > 0 && pipe + len > allowed) break;
    }
    const bool last = snd_nxt_ + len == end;
    if (len < seg_max && flight() > 0) {
      // Nagle (RFC 9293 3.7.4): with data in flight, a small final piece waits for the ACK — unless
      // no-delay, or the FIN goes with it. Sender SWS avoidance (MUST-38): a piece cut short by the
      // peer's window waits until at least half its largest window can go.
      if (last && !nodelay_ && !fin_queued_) break;
      if (!last && len < max_snd_wnd_ / 2) break;
    }
    uint8_t flags = kAck;
    if (last) flags |= kPsh;
    if (last && fin_queued_) flags |= kFin;
    const SeqNum data_start = snd_una_ + (syn_unacked() ? 1 : 0);
    TcpSegment s = Make(now, snd_nxt_, flags);
    s.payload_len = len;
    Emit(s, static_cast<uint32_t>(snd_nxt_ - data_start), out);
    if (len > seg_max) {
      out.segments.back().tso_segsz = static_cast<uint16_t>(seg_max);
      ++ctx_->counters->tso_segments_out;
    }
    last_send_ = now;
    if (recovery_ == Recovery::kFast) {
      prr_allowance_ -= std::min(prr_allowance_, len);
      if (LossState* l = ls()) l->prr.OnSent(len);
    }
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
    last_send_ = now;
    fin_sent_ = true;
    fin_seq_ = snd_nxt_;
    snd_nxt_ += 1;
    if (rto_deadline_ == Instant::Never()) ArmRto(now);
  }
  if (pto_deadline_ == Instant::Never() && sack_enabled_ && snd_una_ != snd_nxt_) ArmPto(now);
  // Zero window with data waiting and nothing in flight to elicit an update: probe (persist timer).
  if (snd_wnd_ == 0 && snd_nxt_ < end && snd_una_ == snd_nxt_ && persist_deadline_ == Instant::Never()) {
    persist_deadline_ = now + std::max(rto_.rto(), ctx_->config->persist_min);
  }
}

void TcpConnection::Retransmit(Instant now, TcpOutput& out) {
  rtt_timing_ = false;  // Karn: no RTT from anything that was retransmitted
  if (state_ == TcpState::kSynSent || state_ == TcpState::kSynReceived) {
    ++ctx_->counters->retransmits;
    ++ctx_->counters->syn_retransmits;
    ++total_retrans_;
    syn_retransmitted_ = true;
    SendSyn(now, out);
    return;
  }
  if (snd_una_ == snd_nxt_) return;
  // RTO (RFC 5681 3.1, RFC 6298 5.4-5.6): ssthresh from the flight (held on repeated timeouts of the
  // same data), a loss window of one segment, and everything outstanding and not SACKed resent from
  // SND.UNA in order (go-back-N) as the window grows again. A second timeout in a row forgets the
  // SACK information too, in case the receiver reneged on it (RFC 2018 8).
  if (retries_ == 1) {
    ++ctx_->counters->rto_recoveries;
    cca_.OnCongestion(cc_, flight(), snd_mss_, now);
  } else if (LossState* l = ls()) {
    l->sacked.Clear();
  }
  cc_.cwnd = snd_mss_;
  cc_.bytes_acked = 0;
  cca_.OnRestart();
  tlp_out_ = false;
  rxt_mark_valid_ = false;
  recovery_ = Recovery::kLoss;
  recover_ = snd_nxt_;
  high_rxt_ = snd_una_;
  lost_point_ = snd_nxt_;
  dupacks_ = 0;
  const size_t before = out.segments.size();
  Output(now, out);
  if (out.segments.size() == before) {
    // Nothing left to resend by the scoreboard (all SACKed): resend the first segment anyway.
    SendRange(now, snd_una_, snd_una_ + snd_mss_ + 1, true, out);
    high_rxt_ = SeqMin(snd_una_ + snd_mss_, snd_nxt_);
  }
}

TcpInfo TcpConnection::Info() const {
  TcpInfo i;
  i.state = state_;
  i.congestion = cca_.algorithm();
  i.in_recovery = recovery_ != Recovery::kOpen;
  i.snd_mss = snd_mss_;
  i.rcv_mss = rcv_mss_;
  i.cwnd = cc_.cwnd;
  i.ssthresh = cc_.ssthresh;
  i.flight = flight();
  i.sacked = sacked().Bytes();
  i.snd_wnd = snd_wnd_;
  i.rcv_wnd = rcv_wnd();
  i.unread = rcv_unread_;
  i.ooo_bytes = out_of_order().Bytes();
  i.srtt = rto_.srtt();
  i.rttvar = rto_.rttvar();
  i.rto = rto_.rto();
  i.retransmits = static_cast<uint32_t>(retries_);
  i.total_retransmits = total_retrans_;
  i.dupacks = dupacks_;
  i.ts_enabled = ts_enabled_;
  i.sack_enabled = sack_enabled_;
  i.snd_wscale = snd_wscale_;
  i.rcv_wscale = rcv_wscale_;
  return i;
}

void TcpConnection::PruneOutOfOrder(TcpOutput& out) {
  LossState* l = ls();
  if (l == nullptr || l->ooo.empty()) return;  // (the common case: nothing kept)
  ++ctx_->counters->ooo_pruned;
  l->ooo.Clear();
  l->ooo_fin.reset();
  out.ooo_pruned = true;
}

const SeqRanges TcpConnection::kNoRanges;

LossState* TcpConnection::EnsureLoss() {
  if (loss_ != LossStatePool::kNone) return &(*ctx_->loss_pool)[loss_];
  if (ctx_->loss_pool != nullptr) loss_ = ctx_->loss_pool->Alloc();
  if (loss_ == LossStatePool::kNone) {
    ++ctx_->counters->loss_state_exhausted;
    return nullptr;
  }
  return &(*ctx_->loss_pool)[loss_];
}

void TcpConnection::ReleaseLoss() {
  ctx_->loss_pool->Free(loss_);
  loss_ = LossStatePool::kNone;
}

// ---------------------------------------------------------------------------------------------------

std::string TcpConnection::CheckInvariants() const {
  auto fail = [&](const char* what) { return absl::StrCat(StateName(state_), ": ", what); };
  if (state_ == TcpState::kClosed) {
    if (NextDeadline() != Instant::Never()) return fail("CLOSED with a timer armed");
    return "";
  }
  if (snd_nxt_ < snd_una_) return fail("SND.NXT < SND.UNA");
  if (snd_buf_ > ctx_->config->snd_buffer) return fail("send buffer over capacity");
  if (rcv_unread_ > ctx_->config->rcv_buffer) return fail("receive buffer over capacity");
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
  const SeqRanges& ooo = out_of_order();
  const SeqRanges& sk = sacked();
  if (!ooo.empty() && !(rcv_nxt_ < ooo[0].left)) return fail("out-of-order range not above RCV.NXT");
  if (!sk.empty() && (sk[0].left < snd_una_ || snd_nxt_ < sk.Highest())) {
    return fail("SACK scoreboard outside SND.UNA..SND.NXT");
  }
  if (synchronized() && cc_.cwnd == 0) return fail("zero congestion window");
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
