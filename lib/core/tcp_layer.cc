#include "lib/core/tcp_layer.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>

#include <rte_ring.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/net/checksum.h"
#include "lib/tcp/tcp_header.h"

namespace synack {
namespace {

ChecksumState RxL4ChecksumState(const rte_mbuf* m) {
  switch (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
    case RTE_MBUF_F_RX_L4_CKSUM_GOOD:
    case RTE_MBUF_F_RX_L4_CKSUM_NONE:
      return ChecksumState::kGood;
    case RTE_MBUF_F_RX_L4_CKSUM_BAD:
      return ChecksumState::kBad;
    default:
      return ChecksumState::kUnknown;
  }
}

// `len` payload bytes at `off` of `frame`: where they lie when in one segment, else gathered into
// `buf` (at least `len` bytes).
ConstBytes PayloadBytes(const Mbuf& frame, uint32_t off, uint32_t len, uint8_t* buf) {
  const void* p = rte_pktmbuf_read(frame.get(), off, len, buf);
  return ConstBytes(static_cast<const uint8_t*>(p), p == nullptr ? 0 : len);
}

// A per-purpose secret derived from the engine's ISN secret (SipHash as a PRF, one domain byte each).
std::array<uint8_t, 16> DeriveKey(const std::array<uint8_t, 16>& key, uint8_t domain) {
  std::array<uint8_t, 16> out{};
  for (uint8_t half = 0; half < 2; ++half) {
    const std::array<uint8_t, 2> in = {domain, half};
    const uint64_t v = SipHash24(key, in);
    for (int i = 0; i < 8; ++i) out[half * 8 + i] = static_cast<uint8_t>(v >> (8 * i));
  }
  return out;
}
constexpr uint8_t kCookieKeyDomain = 0xc0;
constexpr uint8_t kLimiterKeyDomain = 0xc1;
constexpr uint8_t kPeerFilterDomain = 0xc2;
constexpr uint8_t kChallengeDomain = 0xc3;
constexpr uint8_t kShedderDomain = 0xc4;

uint64_t Seed64(const std::array<uint8_t, 16>& key) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{key[i]} << (8 * i);
  return v;
}

SynCookieJar::Config CookieConfig(const TcpLayerConfig& config) {
  SynCookieJar::Config c = config.cookie;
  c.timestamps = config.tcp.timestamps;
  return c;
}

// Pressure levels from the pool's free share (see MemoryPressure), checked this often.
constexpr Duration kPressureCheckInterval = Duration::Microseconds(250);
constexpr Duration kPressureResetInterval = Duration::Milliseconds(5);
constexpr uint32_t kPressureResetSample = 4096;  // connection records looked at per reset

CookieTuple CookieTupleOf(const FlowKey& key) {
  return CookieTuple{key.local, key.remote, key.local_port, key.remote_port};
}

}  // namespace

const char* MemoryPressureName(MemoryPressure p) {
  switch (p) {
    case MemoryPressure::kNone:
      return "none";
    case MemoryPressure::kLow:
      return "low";
    case MemoryPressure::kCritical:
      return "critical";
    case MemoryPressure::kExhausted:
      return "exhausted";
  }
  return "?";
}

void TcpLayerCounters::ForEach(absl::FunctionRef<void(std::string_view, uint64_t)> f) const {
#define SYNACK_X(name) f(#name, name);
  SYNACK_TCP_LAYER_COUNTERS(SYNACK_X)
#undef SYNACK_X
}

TcpLayer::TcpLayer(const TcpLayerConfig& config, NetStack& net, rte_mempool* pool, rte_mempool* indirect_pool)
    : config_(config),
      net_(net),
      pool_(pool),
      writer_(SegmentWriter::Config{pool, indirect_pool, config.tx_tcp_cksum_offload}),
      challenge_(config.challenge_acks_per_second, Seed64(DeriveKey(config.isn_key, kChallengeDomain))),
      loss_pool_(config.loss_states != 0 ? config.loss_states : std::max<uint32_t>(1024, config.max_connections / 8)),
      ctx_{&config_.tcp, &tcp_counters_, &challenge_, &window_clamp_, &loss_pool_},
      isn_(config.isn_key),
      cookies_(DeriveKey(config.isn_key, kCookieKeyDomain), CookieConfig(config)),
      path_mtu_(Seed64(DeriveKey(config.isn_key, kPeerFilterDomain))),
      shedder_(SynShedder::Config{.seed = Seed64(DeriveKey(config.isn_key, kShedderDomain))}),
      peers_(Seed64(DeriveKey(config.isn_key, kPeerFilterDomain))),
      wheel_(TimerWheel::Config{config.max_connections, config.tick, Instant()}),
      sockets_(config.max_connections, &ctx_),
      flows_(config.max_connections, SocketKey{&sockets_}),
      tw_(config.max_time_wait),
      listeners_(
          ListenerTable::Config{config.syn_backlog, config.max_half_open, config.accept_backlog, config.syn_cookies},
          config.syn_limit, DeriveKey(config.isn_key, kLimiterKeyDomain)),
      events_(size_t{2} * config.max_connections + 1024) {
  const uint32_t span = config.ephemeral_hi - config.ephemeral_lo + 1u;
  next_ephemeral_ = static_cast<uint16_t>(config.ephemeral_lo + (config.isn_key[0] | (config.isn_key[1] << 8)) % span);
  ring_pool_ = pool_ != nullptr && std::string_view(rte_mempool_get_ops(pool_->ops_index)->name).substr(0, 4) == "ring";
}

TcpLayer::~TcpLayer() = default;

absl::Status TcpLayer::CheckConfig(const TcpLayerConfig& config) {
  if (config.max_connections == 0 || config.max_connections > TimerWheel::kMaxCapacity) {
    return absl::InvalidArgumentError(absl::StrFormat("max_connections %u: must be within [1, %u]",
                                                      config.max_connections, TimerWheel::kMaxCapacity));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------------
// Receive path

void TcpLayer::BeginRxBurst(uint32_t n, uint32_t burst) {
  if (!config_.shed_syns_under_overload) return;
  shedder_.BeginBurst(now_, n, burst);
  if (shedder_.overloaded()) ++counters_.rx_overloaded_bursts;
}

template <typename FirstSegment>
void TcpLayer::Triage(size_t n, const FirstSegment& first_segment, RxTriage* out) {
  if (!rx_overloaded()) {
    std::fill(out, out + n, RxTriage::kProcess);
    return;
  }
  // The new SYNs for us of up to kChunk frames, in arrival order: where, and what Admit needs.
  constexpr size_t kChunk = 64;
  uint8_t at[kChunk];
  uint64_t fingerprint[kChunk];
  bool known[kChunk];
  for (size_t base = 0; base < n; base += kChunk) {
    const size_t k = std::min(kChunk, n - base);
    size_t syns = 0;
    for (size_t i = 0; i < k; ++i) {
      out[base + i] = RxTriage::kProcess;
      const std::optional<SynPeek> syn = PeekSyn(first_segment(base + i));
      if (!syn || !net_.IsLocal(syn->dst)) continue;  // not a new SYN for us
      at[syns] = static_cast<uint8_t>(i);
      known[syns] = peers_.MayHave(syn->src);
      fingerprint[syns] = shedder_.Fingerprint(*syn);
      if (!known[syns]) shedder_.Prefetch(fingerprint[syns]);
      ++syns;
    }
    for (size_t j = 0; j < syns; ++j) out[base + at[j]] = CountTriage(shedder_.Admit(fingerprint[j], known[j]));
  }
}

void TcpLayer::TriageBurst(std::span<rte_mbuf* const> frames, RxTriage* out) {
  const auto first_segment = [frames](size_t i) {
    const rte_mbuf* m = frames[i];
    return ConstBytes(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len);
  };
  Triage(frames.size(), first_segment, out);
}

TcpLayer::RxTriage TcpLayer::TriageBeforeParse(ConstBytes frame) {
  const auto first_segment = [frame](size_t) { return frame; };
  RxTriage out;
  Triage(1, first_segment, &out);
  return out;
}

TcpLayer::RxTriage TcpLayer::CountTriage(ShedVerdict v) {
  switch (v) {
    case ShedVerdict::kShed:
      ++counters_.syn_shed;
      return RxTriage::kShed;
    case ShedVerdict::kKnown:
      // A source with connections here is treated as a known flow: processed in arrival order.
      // (Deferring these too cost a third of the unflooded loopback rate, whose full bursts are all
      // the legitimate client's.)
      ++counters_.syn_shed_known;
      return RxTriage::kProcess;
    case ShedVerdict::kRetransmit:
      ++counters_.syn_shed_retransmit;
      break;
    case ShedVerdict::kProcess:
    case ShedVerdict::kBudget:
      break;
  }
  return RxTriage::kDefer;
}

void TcpLayer::Input(Instant now, Mbuf&& frame, const Ipv4Packet& ip) {
  Mbuf m(std::move(frame));
  now_ = now;
  NetCounters& nc = net_.mutable_counters();
  if (!net_.IsLocal(ip.dst)) {
    nc.Count(Drop::kIpNotForUs);  // TCP is never broadcast
    return;
  }
  ChecksumState cksum = config_.rx_cksum_trusted ? ChecksumState::kGood : RxL4ChecksumState(m.get());
  const uint16_t l4_len = ip.payload_len();
  if (cksum == ChecksumState::kUnknown && ip.payload.size() < l4_len) {
    // The payload continues in later segments (kept there, not gathered): verify it where it lies.
    const uint32_t l4_off = static_cast<uint32_t>(ip.payload.data() - m.data());
    const uint32_t acc = ChecksumAddPacket(TcpPseudoHeaderSum(ip.src, ip.dst, l4_len), m.get(), l4_off, l4_len);
    cksum = ChecksumFinish(acc) == 0 ? ChecksumState::kGood : ChecksumState::kBad;
  }
  Parsed<TcpPacket> pkt = ParseTcp(ip.payload, l4_len, ip.src, ip.dst, cksum);
  if (!pkt.ok()) {
    nc.Count(pkt.error());
    return;
  }
  Mark(Phase::kParse);
  const TcpSegment& seg = pkt->seg;
  const uint32_t payload_offset = static_cast<uint32_t>(pkt->payload.data() - m.data());
  const FlowKey key{ip.dst, ip.src, seg.dst_port, seg.src_port};

  const bool known_peer = peers_.MayHave(key.remote);
  // A SYN that ends a TIME-WAIT reopens the 4-tuple with an ISS above everything the old incarnation
  // sent (RFC 1122 4.2.2.13; the same +65537 as an active open that takes a TIME-WAIT over).
  std::optional<SeqNum> reopen_iss;
  if (const uint32_t* it = known_peer ? flows_.Find(key) : nullptr) {
    const uint32_t idx = *it;
    Mark(Phase::kLookup);
    out_.Clear();
    const SeqNum old_snd_nxt = sockets_[idx].conn.snd_nxt();
    sockets_[idx].conn.Input(now, seg, out_, RxMemFor(sockets_[idx], m, payload_offset, seg.payload_len, seg.seq));
    const bool reuse = out_.events & tcp_events::kReuseSyn;
    Mark(Phase::kTcp);
    Deliver(idx, out_, &m, payload_offset);
    Mark(Phase::kDeliver);
    if (!reuse) return;
    reopen_iss = old_snd_nxt + kTimeWaitReopenIssGap;
  } else if (TimeWaitEntry* tw = known_peer ? tw_.Find(key) : nullptr) {
    Mark(Phase::kLookup);
    out_.Clear();
    const Instant expires = tw->expires;
    const bool reuse = TimeWaitInput(*tw, now, seg, config_.tcp, tcp_counters_, out_);
    for (const OutSegment& s : out_.segments) Transmit(key, s, nullptr);
    if (!reuse) {
      if (tw->expires != expires) tw_.Requeue(key);  // 2*MSL restarted: keep the store in expiry order
      return;
    }
    reopen_iss = tw->snd_nxt + kTimeWaitReopenIssGap;
    TakeTimeWait(key);  // `tw` dangles from here
    ++counters_.time_wait_reused;
  }
  // No connection: a listener, or a reset (RFC 9293 3.10.7.1).
  if (const uint32_t li = listeners_.Find(seg.dst_port); li != ListenerTable::kNone) {
    Mark(Phase::kLookup);
    return InputListen(now, std::move(m), key, *pkt, li, payload_offset, reopen_iss);
  }
  if (std::optional<TcpSegment> rst = ResetForUnmatched(seg)) {
    ++counters_.resets_unmatched;
    TransmitReply(key, *rst, std::move(m));
  }
}

void TcpLayer::InputListen(Instant now, Mbuf&& frame, const FlowKey& key, const TcpPacket& pkt, uint32_t li,
                           uint32_t payload_offset, std::optional<SeqNum> reopen_iss) {
  Mbuf m(std::move(frame));  // a SYN's payload is not kept: the peer sends it again once established
  const TcpSegment& seg = pkt.seg;
  switch (ListenInput(seg)) {
    case ListenAction::kIgnore:
      return;
    case ListenAction::kSendReset:
      if (InputCookieAck(now, m, key, seg, li, payload_offset)) return;
      if (std::optional<TcpSegment> rst = ResetForUnmatched(seg)) {
        ++counters_.resets_unmatched;
        TransmitReply(key, *rst, std::move(m));
      }
      return;
    case ListenAction::kAcceptSyn:
      return InputListenSyn(now, std::move(m), key, seg, li, reopen_iss);
  }
}

void TcpLayer::InputListenSyn(Instant now, Mbuf&& frame, const FlowKey& key, const TcpSegment& syn, uint32_t li,
                              std::optional<SeqNum> reopen_iss) {
  Mbuf m(std::move(frame));  // freed unless a cookie SYN-ACK is written into it
  ++counters_.syn_received;
  listeners_.CountSyn(li);
  // No SYN-ACK — not even a cookie — when no connection could be admitted: a full connection table,
  // no memory, or an application that is not accepting. A client must never believe in a connection
  // that does not exist; this one's SYN retries either find room later or its connect times out.
  const SynDecision d =
      listeners_.AdmitSyn(now, key.remote, li, sockets_.full(), pressure_ >= MemoryPressure::kCritical);
  if (d.backlog_overflow) ++counters_.syn_backlog_overflow;
  if (d.verdict == SynVerdict::kCookie) {
    listeners_.CountCookieSent(li);
    return SendCookieSynAck(now, key, syn, std::move(m));
  }
  if (d.verdict != SynVerdict::kAccept) return CountSynDrop(d.verdict);
  const uint32_t idx = AllocHalfOpen(key, li);
  if (idx == UINT32_MAX) {
    ++counters_.syn_dropped;
    return;
  }
  Socket& s = sockets_[idx];
  const SeqNum iss =
      reopen_iss ? *reopen_iss : isn_.Generate(key.local, key.local_port, key.remote, key.remote_port, now);
  out_.Clear();
  s.conn.AcceptSyn(now, syn, iss, out_);
  Deliver(idx, out_, nullptr, 0);
}

void TcpLayer::SendCookieSynAck(Instant now, const FlowKey& key, const TcpSegment& syn, Mbuf&& syn_frame) {
  const SeqNum iss = cookies_.Encode(now, CookieTupleOf(key), syn.seq, syn.options.mss.value_or(kDefaultMss));
  ++counters_.cookies_sent;
  last_cookie_sent_ = now;
  // The SYN's bytes are not needed once `synack` is built: it leaves in the SYN's own buffer.
  const TcpSegment synack = CookieSynAck(now, syn, iss, config_.tcp);
  TransmitReply(key, synack, std::move(syn_frame));
}

bool TcpLayer::InputCookieAck(Instant now, Mbuf& frame, const FlowKey& key, const TcpSegment& ack, uint32_t li,
                              uint32_t payload_offset) {
  // Only a bare ACK (data and FIN allowed) can answer a SYN-ACK, and only while a cookie we sent
  // could still be valid; anything else at a listener is answered with a RST as before.
  if (config_.syn_cookies == SynCookieMode::kOff || !ack.ack_flag() || ack.syn() || ack.rst()) return false;
  const Duration lifetime = cookies_.config().slot * cookies_.config().max_age_slots;
  if (last_cookie_sent_ == Instant::Never() || now - last_cookie_sent_ > lifetime) return false;
  CookieSyn c;
  switch (cookies_.Check(now, CookieTupleOf(key), ack, c)) {
    case CookieCheck::kValid:
      break;
    case CookieCheck::kBadMac:
      ++counters_.cookies_rejected;
      return false;
    case CookieCheck::kExpired:
      ++counters_.cookies_expired;
      return false;
  }
  // A valid cookie can be replayed for as long as it lives; each replay is a new connection, so the
  // per-source limit applies to these as it does to SYNs. Refused ACKs are dropped (the frame is freed
  // by the caller) and counted here or by AllocHalfOpen.
  if (const SynVerdict v = listeners_.AdmitCookieAck(now, key.remote, li); v != SynVerdict::kAccept) {
    CountSynDrop(v);
    return true;
  }
  // Counted as half-open for the moment it takes Deliver to see it established.
  const uint32_t idx = AllocHalfOpen(key, li);
  if (idx == UINT32_MAX) {
    // The table filled up since the cookie went out: tell the client now (RST) rather than let it
    // believe in a connection that does not exist.
    ++counters_.cookie_ack_table_full;
    if (std::optional<TcpSegment> rst = ResetForUnmatched(ack)) Transmit(key, OutSegment{*rst, 0}, nullptr);
    return true;
  }
  ++counters_.cookies_validated;
  listeners_.CountCookieValidated(li);
  out_.Clear();
  sockets_[idx].conn.AcceptCookie(now, c, ack, out_,
                                  RxMemFor(sockets_[idx], frame, payload_offset, ack.payload_len, ack.seq));
  Deliver(idx, out_, &frame, payload_offset);
  return true;
}

void TcpLayer::CountSynDrop(SynVerdict v) {
  uint64_t* counter = nullptr;
  switch (v) {
    case SynVerdict::kAccept:
    case SynVerdict::kCookie:
      return;
    case SynVerdict::kDropTableFull:
      counter = &counters_.syn_table_full;
      break;
    case SynVerdict::kDropPressure:
      counter = &counters_.syn_pressure_dropped;
      break;
    case SynVerdict::kDropSourceLimited:
      counter = &counters_.syn_source_limited;
      break;
    case SynVerdict::kDropAcceptBacklog:
      counter = &counters_.accept_backlog_overflow;
      break;
    case SynVerdict::kDropBacklogFull:
      counter = &counters_.syn_dropped;
      break;
  }
  if (counter != nullptr) ++*counter;
  SYNACK_LOG_DEBUG(kCore, "SYN dropped at a listener: %s", SynVerdictName(v));
}

uint32_t TcpLayer::AllocHalfOpen(const FlowKey& key, uint32_t li) {
  const uint32_t idx = AllocSocket(key);
  if (idx == UINT32_MAX) {
    ++counters_.table_full;
    return idx;
  }
  listeners_.EnterSynQueue(li);
  sockets_[idx].listener = li;
  ApplyOptions(sockets_[idx].conn, listeners_.options(li));
  return idx;
}

void TcpLayer::LeaveSynQueue(Socket& s) {
  if (s.listener == UINT32_MAX) return;
  listeners_.LeaveSynQueue(s.listener);
  s.listener = UINT32_MAX;
}

void TcpLayer::Deliver(uint32_t idx, TcpOutput& out, Mbuf* frame, uint32_t payload_offset) {
  Socket& s = sockets_[idx];
  if (out.deliver_len > 0 && frame != nullptr && *frame && out.deliver_len <= kCoalesceMax &&
      out.deliver_len <= s.rcv_q.TailRoom()) {
    // A small payload shares the buffer at the tail of the receive queue (RxMemFor charged nothing):
    // a trickle of tiny segments cannot pin one mbuf each.
    s.rcv_q.CopyToTail(PayloadBytes(*frame, payload_offset + out.deliver_offset, out.deliver_len, copy_buf_));
    frame->reset();
    ++counters_.rx_coalesced;
    counters_.bytes_in += out.deliver_len;
    if (s.app_owned && !s.app_closed && !s.readable_pending) {
      s.readable_pending = true;
      PushEvent(idx, EventType::kReadable);
    }
  } else if (out.deliver_len > 0 && frame != nullptr && *frame) {
    // Zero-copy receive: the frame itself, trimmed to the accepted payload, joins the receive queue.
    Mbuf m(std::move(*frame));
    m.Slice(payload_offset + out.deliver_offset, out.deliver_len);
    m.ClearOffloadFlags();
    s.rcv_q.Append(std::move(m));
    counters_.bytes_in += out.deliver_len;
    if (s.app_owned && !s.app_closed && !s.readable_pending) {
      s.readable_pending = true;
      PushEvent(idx, EventType::kReadable);
    }
  }
  if (out.ooo_len > 0 && frame != nullptr && *frame) {
    // Kept out of order until the gap before it fills: exactly the bytes the connection keeps — copied
    // onto the last kept buffer when small and contiguous with it.
    if (out.ooo_len <= kCoalesceMax && out.ooo_len <= OooTailRoom(s, out.ooo_seq)) {
      rte_mbuf* t = s.conn.ooo_store()->tail;  // OooTailRoom found one
      ConstBytes b = PayloadBytes(*frame, payload_offset + out.ooo_offset, out.ooo_len, copy_buf_);
      std::memcpy(rte_pktmbuf_mtod_offset(t, uint8_t*, t->data_len), b.data(), b.size());
      t->data_len = static_cast<uint16_t>(t->data_len + out.ooo_len);
      t->pkt_len = t->data_len;
      frame->reset();
      ++counters_.rx_coalesced;
    } else {
      Mbuf m(std::move(*frame));
      m.Slice(payload_offset + out.ooo_offset, out.ooo_len);
      OooInsert(s, std::move(m), out.ooo_seq);
    }
  }
  if (out.ooo_ready) {
    const uint32_t before = s.rcv_q.size();
    OooJoin(s, out.ooo_join_from, out.ooo_join_to);
    counters_.bytes_in += s.rcv_q.size() - before;
    if (s.app_owned && !s.app_closed && !s.readable_pending) {
      s.readable_pending = true;
      PushEvent(idx, EventType::kReadable);
    }
  }
  if (out.ooo_pruned) OooClear(s);
  if (out.ooo_ready || out.ooo_pruned) s.conn.ReleaseIdleLoss();  // the store may be empty now
  if (out.acked > 0) s.snd_q.DropFront(out.acked);
  if (out.acked > 0 || out.deliver_len > 0) s.last_activity = now_;
  for (const OutSegment& seg : out.segments) Transmit(s.key, seg, &s.snd_q);

  const uint32_t ev = out.events;
  if (ev & tcp_events::kConnected) {
    s.connect_deadline = Instant::Never();
    if (s.listener != UINT32_MAX) {
      const uint32_t li = s.listener;
      LeaveSynQueue(s);
      if (!listeners_.EnterAcceptQueue(li)) {
        ++counters_.accept_backlog_overflow;
        TcpOutput abort_out;
        s.conn.Abort(now_, abort_out);
        for (const OutSegment& seg : abort_out.segments) Transmit(s.key, seg, nullptr);
        FreeSocket(idx);
        return;
      }
      s.app_owned = true;
      ++counters_.accepted;
      PushEvent(idx, EventType::kAccepted);
      // Data that came with the handshake-completing ACK is already queued.
      if (!s.rcv_q.empty()) {
        s.readable_pending = true;
        PushEvent(idx, EventType::kReadable);
      }
    } else {
      ++counters_.connected;
      PushEvent(idx, EventType::kConnected);
    }
  }
  const bool tell_app = s.app_owned && !s.app_closed;
  if ((ev & tcp_events::kWritable) && s.want_writable && tell_app) {
    s.want_writable = false;
    if (!s.writable_pending) {  // one queued at a time: the application sends again when it takes it
      s.writable_pending = true;
      PushEvent(idx, EventType::kWritable);
    }
  }
  if ((ev & tcp_events::kPeerFin) && tell_app) PushEvent(idx, EventType::kPeerClosed);
  if (ev & tcp_events::kClosed) {
    if (s.listener != UINT32_MAX) {  // a half-open connection died
      if (out.error == TcpError::kTimedOut) ++counters_.half_open_timeouts;
      LeaveSynQueue(s);
    }
    if (tell_app) PushEvent(idx, EventType::kClosed, out.error);
    ++counters_.closed;
    FreeSocket(idx);
    return;
  }
  if ((ev & tcp_events::kTimeWait) && s.app_closed && s.rcv_q.empty() && ToTimeWait(idx)) return;
  Reschedule(idx);
}

// ---------------------------------------------------------------------------------------------------
// Transmit path

void TcpLayer::Transmit(const FlowKey& key, const OutSegment& seg, const MbufChain* snd_q) {
  Send(key, seg, writer_.Build(key, seg, snd_q));
}

void TcpLayer::TransmitReply(const FlowKey& key, const TcpSegment& seg, Mbuf&& answered) {
  const OutSegment out{seg, 0};
  SegmentWriter::Frame f = writer_.BuildInto(std::move(answered), key, out);
  if (f.reused) ++counters_.replies_in_place;
  Send(key, out, std::move(f));
}

void TcpLayer::Send(const FlowKey& key, const OutSegment& seg, SegmentWriter::Frame&& f) {
  if (!f.frame) {
    ++counters_.no_mbufs;  // the connection's timers retransmit
    return;
  }
  if ((seg.seg.flags & (tcp_flags::kSyn | tcp_flags::kAck)) == (tcp_flags::kSyn | tcp_flags::kAck)) {
    ++counters_.synacks_sent;
  }
  if (f.cksum_in_software) ++counters_.tx_cksum_in_software;
  counters_.bytes_out += seg.seg.payload_len;
  net_.OutputIpv4(now_, std::move(f.frame), key.local, key.remote, kIpProtoTcp);
}

void TcpLayer::Reschedule(uint32_t idx) {
  const Socket& s = sockets_[idx];
  Instant d = std::min({s.conn.NextDeadline(), s.connect_deadline, s.app_deadline});
  if (s.idle_ms != 0) d = std::min(d, s.last_activity + Duration::Milliseconds(s.idle_ms));
  if (d == Instant::Never()) {
    wheel_.Cancel(idx);
  } else {
    wheel_.Schedule(idx, d);
  }
}

void TcpLayer::Unreachable(Instant now, std::span<const Ipv4Addr> dsts) {
  if (dsts.empty()) return;
  // Rare (ARP failure), so a scan of the slab is fine; only connections still in SYN-SENT are failed —
  // established ones keep their own retransmission timers and may recover when the neighbour returns.
  for (uint32_t idx = 0; idx < sockets_.capacity(); ++idx) {
    Socket& s = sockets_[idx];
    if (!sockets_.in_use(idx) || s.conn.state() != TcpState::kSynSent) continue;
    if (std::find(dsts.begin(), dsts.end(), s.key.remote) == dsts.end()) continue;
    out_.Clear();
    s.conn.Abort(now, out_);
    out_.error = TcpError::kUnreachable;
    Deliver(idx, out_, nullptr, 0);
  }
}

uint16_t TcpLayer::OooTailRoom(const Socket& s, SeqNum seq) {
  const OooStore* o = s.conn.ooo_store();
  const rte_mbuf* t = o != nullptr ? o->tail : nullptr;
  if (t == nullptr || SeqNum(t->hash.usr) + t->data_len != seq) return 0;  // not contiguous with it
  if (!RTE_MBUF_DIRECT(t) || rte_mbuf_refcnt_read(t) != 1) return 0;
  return rte_pktmbuf_tailroom(t);
}

RxMem TcpLayer::RxMemFor(const Socket& s, const Mbuf& frame, uint32_t payload_offset, uint32_t payload_len,
                         SeqNum seq) const {
  const uint32_t ooo_truesize = OooTruesize(s);
  RxMem mem{s.rcv_q.truesize() + ooo_truesize, ooo_truesize, 0, 0};
  if (payload_len == 0 || !frame) return mem;
  const bool critical = pressure_ >= MemoryPressure::kCritical;
  const uint32_t truesize = MbufChain::RangeTruesize(frame.get(), payload_offset, payload_len);
  // Out of order, a small payload that continues the last kept one shares its buffer.
  const bool ooo_shares = payload_len <= kCoalesceMax && payload_len <= OooTailRoom(s, seq);
  mem.ooo_cost = ooo_shares ? 0 : critical ? RxMem::kNoRoom : truesize;
  if (payload_len <= kCoalesceMax && payload_len <= s.rcv_q.TailRoom()) return mem;  // shares the tail
  mem.cost = critical ? RxMem::kNoRoom : truesize;
  return mem;
}

void TcpLayer::OooInsert(Socket& s, Mbuf&& m, SeqNum seq) {
  // Each mbuf segment of the payload becomes an entry of its own (the store links entries through
  // `next`), with the sequence number of its first byte.
  SplitSegments(std::move(m), [&](rte_mbuf* seg) {
    OooInsertSegment(s, seg, seq);
    seq = seq + seg->data_len;
  });
}

void TcpLayer::OooInsertSegment(Socket& s, rte_mbuf* e, SeqNum seq) {
  OooStore* o = s.conn.ooo_store();
  if (o == nullptr) {               // a connection reports out-of-order bytes only with ranges to keep them in
    ++counters_.ooo_join_mismatch;  // a bug if ever non-zero
    rte_pktmbuf_free_seg(e);
    return;
  }
  e->hash.usr = seq.raw();
  o->truesize += MbufChain::Truesize(e);
  auto seq_of = [](const rte_mbuf* x) { return SeqNum(x->hash.usr); };
  // Mostly appended at the tail (later segments of the same flight); otherwise find its place.
  if (o->head == nullptr) {
    o->head = o->tail = e;
  } else if (!(seq < seq_of(o->tail))) {
    o->tail->next = e;
    o->tail = e;
  } else if (seq < seq_of(o->head)) {
    e->next = o->head;
    o->head = e;
  } else {
    rte_mbuf* p = o->head;
    while (p->next != nullptr && !(seq < seq_of(p->next))) p = p->next;
    e->next = p->next;
    p->next = e;
  }
}

void TcpLayer::OooJoin(Socket& s, SeqNum from, SeqNum to) {
  SeqNum pos = from;
  OooStore* o = s.conn.ooo_store();
  while (o != nullptr && o->head != nullptr && pos < to) {
    rte_mbuf* e = o->head;
    const SeqNum seq(e->hash.usr);
    if (pos < seq) break;  // still a gap (cannot happen when the connection joined it)
    o->head = e->next;
    if (o->head == nullptr) o->tail = nullptr;
    e->next = nullptr;
    o->truesize -= MbufChain::Truesize(e);
    Mbuf m(e);
    const SeqNum end = seq + m.data_len();
    if (!(pos < end)) continue;  // all of it arrived before, in another segment: `m` frees it
    m.Slice(pos - seq, SeqMin(end, to) - pos);
    pos = pos + m.data_len();
    m.ClearOffloadFlags();
    s.rcv_q.Append(std::move(m));
  }
  if (pos != to) ++counters_.ooo_join_mismatch;  // a bug if ever non-zero
}

void TcpLayer::OooClear(Socket& s) {
  OooStore* o = s.conn.ooo_store();
  if (o == nullptr) return;
  while (o->head != nullptr) {
    rte_mbuf* e = o->head;
    o->head = e->next;
    e->next = nullptr;
    rte_pktmbuf_free(e);
  }
  o->tail = nullptr;
  o->truesize = 0;
}

uint32_t TcpLayer::SndMemLimit() const {
  const TcpConfig& c = config_.tcp;
  return c.snd_mem != 0 ? c.snd_mem : static_cast<uint32_t>(std::min<uint64_t>(uint64_t{c.snd_buffer} * 2, UINT32_MAX));
}

uint64_t TcpLayer::PoolAvailable() const {
  // rte_mempool_avail_count visits every lcore's cache (RTE_MAX_LCORE of them): too slow to call often.
  // For ring-backed pools (the default) read the ring and this lcore's cache instead; mbufs sitting in
  // other lcores' caches are missed until they spill back — a conservative reading.
  if (ring_pool_) {
    uint64_t n = rte_ring_count(static_cast<const rte_ring*>(pool_->pool_data));
    const unsigned lcore = rte_lcore_id();
    if (lcore < RTE_MAX_LCORE) {
      if (const rte_mempool_cache* c = rte_mempool_default_cache(pool_, lcore)) n += c->len;
    }
    return n;
  }
  return rte_mempool_avail_count(pool_);
}

void TcpLayer::UpdatePressure(Instant now) {
  next_pressure_check_ = now + kPressureCheckInterval;
  const uint64_t size = pool_->size;
  const uint64_t avail = PoolAvailable();
  MemoryPressure level = MemoryPressure::kNone;
  if (avail * 16 < size) {
    level = MemoryPressure::kExhausted;
  } else if (avail * 8 < size) {
    level = MemoryPressure::kCritical;
  } else if (avail * 4 < size) {
    level = MemoryPressure::kLow;
  }
  if (level > pressure_) {  // count each entry into a worse level
    if (level >= MemoryPressure::kLow && pressure_ < MemoryPressure::kLow) ++counters_.pressure_low;
    if (level >= MemoryPressure::kCritical && pressure_ < MemoryPressure::kCritical) ++counters_.pressure_critical;
    if (level >= MemoryPressure::kExhausted) ++counters_.pressure_exhausted;
  }
  if (level != pressure_) {
    SYNACK_LOG_DEBUG(kCore, "memory pressure %s -> %s (%llu of %llu frame mbufs free)", MemoryPressureName(pressure_),
                     MemoryPressureName(level), static_cast<unsigned long long>(avail),
                     static_cast<unsigned long long>(size));
  }
  pressure_ = level;
  // Under pressure new windows promise no more than a few segments each.
  window_clamp_ = level >= MemoryPressure::kLow ? uint32_t{4} * config_.tcp.mss : UINT32_MAX;
  if (level >= MemoryPressure::kLow && now >= next_pressure_reset_) {
    next_pressure_reset_ = now + kPressureResetInterval;
    // Out-of-order data is the first to go (the peer still has it and retransmits); at exhaustion the
    // connection pinning the most memory goes too.
    const uint32_t n = sockets_.capacity();
    for (uint32_t k = 0; k < std::min(n, kPressureResetSample); ++k) {
      const uint32_t i = (prune_cursor_ + k) % n;
      Socket& s = sockets_[i];
      if (!sockets_.in_use(i) || OooTruesize(s) == 0) continue;
      out_.Clear();
      s.conn.PruneOutOfOrder(out_);
      Deliver(i, out_, nullptr, 0);
    }
    if (level == MemoryPressure::kExhausted) {
      ResetMostExpensive(now);  // looks at the same sample, then moves on
    } else {
      prune_cursor_ = (prune_cursor_ + kPressureResetSample) % std::max<uint32_t>(n, 1);
    }
  }
}

void TcpLayer::ResetMostExpensive(Instant now) {
  const uint32_t n = sockets_.capacity();
  if (n == 0) return;
  uint32_t victim = UINT32_MAX;
  uint64_t most = 0;
  for (uint32_t k = 0; k < std::min(n, kPressureResetSample); ++k) {
    const uint32_t i = (prune_cursor_ + k) % n;
    const Socket& s = sockets_[i];
    if (!sockets_.in_use(i)) continue;
    const uint64_t held = uint64_t{s.rcv_q.truesize()} + s.snd_q.truesize() + OooTruesize(s);
    if (held > most) {
      most = held;
      victim = i;
    }
  }
  prune_cursor_ = (prune_cursor_ + kPressureResetSample) % n;
  if (victim == UINT32_MAX) return;
  ++counters_.pressure_resets;
  Socket& s = sockets_[victim];
  out_.Clear();
  s.conn.Abort(now, out_);
  Deliver(victim, out_, nullptr, 0);
}

void TcpLayer::IcmpError(Instant now, const synack::IcmpError& e) {
  now_ = now;
  const FlowKey key{e.src, e.dst, e.src_port, e.dst_port};
  const uint32_t* it = flows_.Find(key);
  if (it == nullptr) {
    ++counters_.icmp_unmatched;
    return;
  }
  const uint32_t idx = *it;
  out_.Clear();
  const bool accepted = sockets_[idx].conn.OnIcmpUnreachable(now, e.code, e.next_hop_mtu, SeqNum(e.seq), out_);
  if (accepted && e.code == 4) path_mtu_.Learn(now, e.dst, e.next_hop_mtu);
  Deliver(idx, out_, nullptr, 0);
}

uint16_t TcpLayer::PathMtu(Ipv4Addr dst) const { return path_mtu_.Get(now_, dst); }

void TcpLayer::Poll(Instant now) {
  now_ = now;
  if (now >= next_pressure_check_) UpdatePressure(now);
  ExpireTimeWait(now);
  wheel_.Advance(now, [&](uint32_t id) {
    Socket& s = sockets_[id];
    if (!sockets_.in_use(id)) return;
    out_.Clear();
    const bool idle = s.idle_ms != 0 && now - s.last_activity >= Duration::Milliseconds(s.idle_ms);
    if ((s.app_deadline <= now || idle) && s.conn.state() != TcpState::kTimeWait) {
      // The application's own timeouts (SetTimeout, SetIdleTimeout): reset, reported as timed out.
      ++counters_.app_timeouts;
      s.app_deadline = Instant::Never();
      s.idle_ms = 0;
      s.conn.Abort(now, out_);
      out_.error = TcpError::kTimedOut;
    } else if (s.connect_deadline <= now && s.conn.state() == TcpState::kSynSent) {
      s.connect_deadline = Instant::Never();
      s.conn.Abort(now, out_);
      out_.error = TcpError::kTimedOut;  // the connect timeout, not the application, ended it
    } else {
      if (s.listener != UINT32_MAX) {
        // Half-open: fewer SYN-ACK retries while the queue is under pressure (applies at once).
        s.conn.set_synack_retries(listeners_.UnderPressure(s.listener) ? config_.synack_retries_under_pressure : -1);
      }
      s.conn.OnTimer(now, out_);
    }
    Deliver(id, out_, nullptr, 0);
  });
}

// ---------------------------------------------------------------------------------------------------
// Tables

uint32_t TcpLayer::AllocSocket(const FlowKey& key) {
  const uint32_t idx = sockets_.Alloc();
  if (idx == ConnectionTable<Socket>::kNone) return UINT32_MAX;
  Socket& s = sockets_[idx];
  s.conn.ReleaseResources();
  // Re-initialised in place (a connection record is a few hundred bytes; no temporary and copy).
  s.conn.~TcpConnection();
  new (&s.conn) TcpConnection(&ctx_);
  s.key = key;  // before Insert: the index reads it back through SocketKey
  s.listener = UINT32_MAX;
  s.app_owned = s.app_closed = s.readable_pending = s.want_writable = s.writable_pending = false;
  s.connect_deadline = s.app_deadline = Instant::Never();
  s.idle_ms = 0;
  s.user_data = 0;
  flows_.Insert(key, idx);
  peers_.Add(key.remote);
  if (const uint16_t mtu = PathMtu(key.remote); mtu != 0) s.conn.set_path_mtu(mtu);
  return idx;
}

void TcpLayer::FreeSocket(uint32_t idx) {
  Socket& s = sockets_[idx];
  if (s.orphan) {
    s.orphan = false;
    --orphans_;
  }
  flows_.Erase(idx);  // before anything may change s.key
  peers_.Remove(s.key.remote);
  wheel_.Cancel(idx);
  s.snd_q.Clear();
  s.rcv_q.Clear();
  OooClear(s);
  s.conn.ReleaseResources();
  if (s.queued_events > 0) {
    sockets_.Retire(idx);  // recycled when PollEvents takes its last event
  } else {
    sockets_.Free(idx);
  }
}

bool TcpLayer::ToTimeWait(uint32_t idx) {
  Socket& s = sockets_[idx];
  if (tw_.full()) ExpireTimeWait(now_);  // what is due leaves as due, not rotated or evicted
  std::optional<TimeWaitStore::Evicted> evicted;
  const uint64_t rotated_before = tw_.rotated();
  const bool stored = tw_.Insert(s.key, s.conn.ToTimeWait(), &evicted, now_);
  counters_.time_wait_rotated += tw_.rotated() - rotated_before;  // entries moved behind later ones
  if (evicted) {  // an overdue entry met at the head, or the oldest, leaving early
    if (!evicted->due) ++counters_.time_wait_evicted;
    tcp_counters_.phases.time_wait.Add(TimeWaitResidency(evicted->tw, now_, config_.tcp));
    peers_.Remove(evicted->key.remote);
  }
  if (!stored) {
    ++counters_.time_wait_full;  // not stored (the key was present): keep the full record until it expires
    return false;
  }
  peers_.Add(s.key.remote);
  ++counters_.time_wait_entries;
  FreeSocket(idx);
  return true;
}

void TcpLayer::ExpireTimeWait(Instant now) {
  tw_.Expire(now, [&](const FlowKey& key, const TimeWaitEntry& tw) {
    tcp_counters_.phases.time_wait.Add(TimeWaitResidency(tw, now, config_.tcp));
    peers_.Remove(key.remote);
  });
}

std::optional<TimeWaitEntry> TcpLayer::TakeTimeWait(const FlowKey& key) {
  std::optional<TimeWaitEntry> tw = tw_.Take(key);
  if (tw) {
    tcp_counters_.phases.time_wait.Add(TimeWaitResidency(*tw, now_, config_.tcp));
    peers_.Remove(key.remote);
  }
  return tw;
}

TcpLayerMemory TcpLayer::Memory() const {
  TcpLayerMemory m;
  m.socket_bytes = ConnectionTable<Socket>::kSlotBytes;
  m.time_wait_slot_bytes = TimeWaitStore::kEntryBytes;
  const double conns = std::max<uint32_t>(config_.max_connections, 1);
  const double tws = std::max<uint32_t>(config_.max_time_wait, 1);
  const size_t conn_bytes = sockets_.MemoryBytes() + flows_.MemoryBytes() +
                            size_t{config_.max_connections} * TimerWheel::kEntryBytes + events_.MemoryBytes();
  const size_t tw_bytes = tw_.MemoryBytes();
  m.per_time_wait = static_cast<double>(tw_bytes) / tws;
  const size_t loss_bytes = size_t{loss_pool_.capacity()} * (sizeof(LossState) + sizeof(uint32_t));
  m.per_connection = static_cast<double>(conn_bytes + loss_bytes) / conns;
  m.total_bytes = conn_bytes + loss_bytes + tw_bytes + peers_.MemoryBytes();
  return m;
}

const TcpConnection* TcpLayer::FindConnection(const FlowKey& key) const {
  const uint32_t* idx = flows_.Find(key);
  return idx == nullptr ? nullptr : &sockets_[*idx].conn;
}

bool TcpLayer::TimeWaitReusable(const TimeWaitEntry& tw) const {
  // Like Linux's tcp_tw_reuse: only with timestamps (the new connection's are newer, so the peer's PAWS
  // rejects old duplicates) and at least a second after the last FIN (a lost final ACK has been
  // answered by then).
  const Instant entered = tw.expires - config_.tcp.msl - config_.tcp.msl;
  return tw.ts_enabled && now_ - entered >= Duration::Seconds(1);
}

void TcpLayer::PushEvent(uint32_t idx, EventType type, TcpError error) {
  Socket& s = sockets_[idx];
  assert(s.queued_events < 6);  // one of each EventType at most
  if (!events_.Push(QueuedEvent{idx, type, error, s.key.local_port})) {
    ++counters_.events_dropped;
    return;
  }
  ++s.queued_events;
}

TcpLayer::Socket* TcpLayer::Find(ConnId id) { return sockets_.Find(id); }

const TcpLayer::Socket* TcpLayer::Find(ConnId id) const { return sockets_.Find(id); }

// ---------------------------------------------------------------------------------------------------
// Application API

void TcpLayer::ApplyOptions(TcpConnection& c, const ConnOptions& o) {
  if (o.congestion) c.set_congestion(*o.congestion);
  if (o.nodelay) c.set_nodelay(*o.nodelay);
}

std::optional<TcpInfo> TcpLayer::Info(ConnId id) const {
  const Socket* s = Find(id);
  if (s == nullptr) return std::nullopt;
  return s->conn.Info();
}

void TcpLayer::SetUserData(ConnId id, uint64_t value) {
  if (Socket* s = Find(id); s != nullptr && !s->app_closed) s->user_data = value;
}

void TcpLayer::SetNoDelay(ConnId id, bool nodelay) {
  Socket* s = Find(id);
  if (s == nullptr || s->app_closed) return;
  s->conn.set_nodelay(nodelay);
  if (nodelay) {  // anything Nagle held goes now
    out_.Clear();
    s->conn.Send(now_, 0, out_);
    Deliver(id.index, out_, nullptr, 0);
  }
}

absl::Status TcpLayer::Listen(uint16_t port, const ConnOptions& options) {
  absl::Status s = listeners_.Listen(port, options);
  SYNACK_LOG_DEBUG(kCore, "listen on port %u: %s", static_cast<unsigned>(port), s.ok() ? "ok" : s.ToString().c_str());
  return s;
}

absl::StatusOr<ConnId> TcpLayer::Connect(Ipv4Addr dst, uint16_t port, Duration timeout, const ConnOptions& options) {
  const NetConfig& nc = net_.config();
  if (!nc.local.Contains(dst) && !nc.gateway) {
    return absl::FailedPreconditionError(
        absl::StrCat("connect: no route to ", dst.ToString(), " (not in ", nc.local.ToString(), " and no gateway)"));
  }
  if (port == 0) return absl::InvalidArgumentError("connect: port 0");
  if (net_.IsLocal(dst)) {
    return absl::InvalidArgumentError(absl::StrCat("connect: ", dst.ToString(), " is one of our own addresses"));
  }
  if (pressure_ >= MemoryPressure::kCritical) {
    return absl::ResourceExhaustedError(absl::StrCat("connect: mbuf pool under ", MemoryPressureName(pressure_),
                                                     " pressure; retry once memory is freed"));
  }
  if (sockets_.full()) {  // before a port is chosen: a full table must not consume a TIME-WAIT entry
    ++counters_.table_full;
    return absl::ResourceExhaustedError(
        absl::StrCat("connect: connection table full (max_connections ", config_.max_connections, ")"));
  }
  // Candidates are (local address, port) pairs: every local address in turn with a port, then the next
  // port — with one address, simply the next port.
  const uint32_t addresses = net_.local_count();
  const uint32_t span = (config_.ephemeral_hi - config_.ephemeral_lo + 1u) * addresses;
  // One call looks at no more candidates than one address's ports (per engine sharing the flows): with
  // a wide address range and a full tuple space a connect fails after a bounded scan, and the cursor
  // keeps its place, so the next one goes on from there instead of scanning millions again.
  const uint32_t engines = config_.steering != nullptr ? std::max<uint32_t>(config_.steering->engines(), 1) : 1;
  const uint32_t scan = std::min<uint64_t>(span, uint64_t{65536} * engines);
  FlowKey key{nc.local.addr, dst, 0, port};
  // The flow must hash to this engine (so the peer's answers come back here) and its 4-tuple must not
  // be in use. Free ports are preferred. When the first kBusyBeforeOldest candidate ports are all taken
  // (the steady state of a high connection rate: every port towards this peer is live or in TIME-WAIT),
  // the oldest TIME-WAIT entries — the head of the FIFO store, a few slots — are asked for one towards
  // this peer that may be reused safely (see TimeWaitReusable); it hashes home, since it was this
  // engine's connection. Failing that, the scan goes on: a free port, else the first reusable TIME-WAIT
  // port seen (looking at most kLookPastReusable ports further for a free one).
  // Once a connect towards this peer found no free port (saturated), the next ones ask the head of the
  // store first and scan only if it has nothing: in the steady state of a connection-rate run that is a
  // look at a few slots the last connect already brought into cache, instead of kBusyBeforeOldest index
  // lookups that each miss the cache in a store of millions. Every kRescanEvery-th connect scans first
  // all the same, so ports freed in the meantime are found again.
  constexpr uint32_t kBusyBeforeOldest = 8;
  constexpr uint32_t kOldestScan = 64;
  constexpr uint32_t kLookPastReusable = 64;
  constexpr uint32_t kRescanEvery = 16;
  const auto reusable_towards_peer = [&](const FlowKey& k, const TimeWaitEntry& tw) {
    return k.remote == dst && k.remote_port == port && net_.IsLocal(k.local) && k.local_port >= config_.ephemeral_lo &&
           k.local_port <= config_.ephemeral_hi && TimeWaitReusable(tw);
  };
  std::optional<uint16_t> free_port;
  std::optional<FlowKey> reuse;
  bool from_head = false;
  if (saturated_connects_ % kRescanEvery != 0 && saturated_remote_ == dst) {
    FlowKey oldest;
    from_head = tw_.FindOldest(kOldestScan, reusable_towards_peer, &oldest);
    if (from_head) reuse = oldest;
  }
  uint32_t busy = 0;
  uint32_t past_reusable = 0;
  for (uint32_t i = 0; i < scan && !from_head && !free_port && past_reusable <= kLookPastReusable; ++i) {
    key.local = net_.LocalAddress(next_local_);
    key.local_port = next_ephemeral_;
    if (++next_local_ == addresses) {
      next_local_ = 0;
      next_ephemeral_ =
          next_ephemeral_ == config_.ephemeral_hi ? config_.ephemeral_lo : static_cast<uint16_t>(next_ephemeral_ + 1);
    }
    if (reuse) ++past_reusable;
    if (config_.steering != nullptr && config_.steering->OwnerOf(key) != config_.engine_index) continue;
    const bool live = flows_.Contains(key);
    const TimeWaitEntry* tw = live ? nullptr : tw_.Find(key);
    if (!live && tw == nullptr) {
      free_port = key.local_port;
      break;
    }
    if (tw != nullptr && !reuse && TimeWaitReusable(*tw)) reuse = key;
    if (++busy == kBusyBeforeOldest) {
      FlowKey oldest;
      if (tw_.FindOldest(kOldestScan, reusable_towards_peer, &oldest)) {
        reuse = oldest;
        break;
      }
    }
  }
  // A reused 4-tuple starts its sequence space above the old connection's (as Linux does), so even a
  // peer that still remembers it sees the new SYN as newer.
  std::optional<SeqNum> iss_floor;
  if (free_port) {
    // `key` is the free candidate (the loop stopped on it).
    saturated_connects_ = 0;
  } else if (reuse) {
    if (saturated_remote_ != dst) saturated_connects_ = 0;
    saturated_remote_ = dst;
    ++saturated_connects_;
    key = *reuse;
    iss_floor = TakeTimeWait(key)->snd_nxt + kTimeWaitReopenIssGap;  // `reuse` came from the store
    ++counters_.time_wait_reused_by_connect;
  } else {
    return absl::ResourceExhaustedError(absl::StrCat("connect: out of ephemeral ports towards ", dst.ToString(), ":",
                                                     port, " (", scan, " of ", span,
                                                     " source address and port pairs tried, in use or in TIME-WAIT)"));
  }
  const uint32_t idx = AllocSocket(key);
  if (idx == UINT32_MAX) {
    ++counters_.table_full;
    return absl::ResourceExhaustedError(
        absl::StrCat("connect: connection table full (max_connections ", config_.max_connections, ")"));
  }
  Socket& s = sockets_[idx];
  s.app_owned = true;
  ApplyOptions(s.conn, options);
  if (timeout > Duration()) s.connect_deadline = now_ + timeout;
  out_.Clear();
  const SeqNum iss =
      iss_floor ? *iss_floor : isn_.Generate(key.local, key.local_port, key.remote, key.remote_port, now_);
  s.conn.Connect(now_, {key.local_port, key.remote_port}, iss, out_);
  const ConnId id = IdOf(idx);
  Deliver(idx, out_, nullptr, 0);
  return id;
}

size_t TcpLayer::PollEvents(absl::Span<Event> out) {
  size_t n = 0;
  QueuedEvent q;
  while (n < out.size() && events_.Pop(&q)) {
    if (q.type == EventType::kAccepted) listeners_.AcceptDrained(q.local_port);
    // The record cannot have been reused while this event was queued: it is live, or retired by
    // FreeSocket and kept until its last event is taken here.
    Socket& s = sockets_[q.index];
    const bool live = sockets_.in_use(q.index);
    if (q.type == EventType::kReadable && live) s.readable_pending = false;
    if (q.type == EventType::kWritable && live) s.writable_pending = false;
    // Events for connections the application already closed, or that are gone (but for kClosed, which
    // says so), are not reported. The value attached is the one now, not when the event was queued:
    // events that arrived with the handshake (data, FIN) are queued before the application saw kAccepted
    // and could attach anything.
    if (q.type == EventType::kClosed || (live && !s.app_closed)) {
      out[n++] = Event{sockets_.LastIdOf(q.index), q.type, q.error, q.local_port, s.user_data};
    }
    if (--s.queued_events == 0 && !live) sockets_.Recycle(q.index);
  }
  return n;
}

Mbuf TcpLayer::AllocTxMbuf() { return Mbuf::Alloc(pool_); }

SendStatus TcpLayer::Send(ConnId id, Mbuf&& data) {
  Socket* s = Find(id);
  if (s == nullptr || s->app_closed || !s->conn.can_send()) return SendStatus::kNotConnected;
  const uint32_t len = data ? data.pkt_len() : 0;
  if (len == 0) return SendStatus::kOk;
  if (len > config_.tcp.snd_buffer - s->conn.send_queued()) {
    s->want_writable = true;
    return SendStatus::kWouldBlock;
  }
  if (data.get()->nb_segs == 1 && len <= kCoalesceMax && len <= s->snd_q.TailRoom()) {
    // Small writes share the buffer at the tail of the send queue.
    s->snd_q.CopyToTail(data.bytes());
    data.reset();
    ++counters_.tx_coalesced;
  } else {
    // Memory, not only bytes: many small mbufs must not drain the pool. (An empty queue always takes
    // one packet, whatever its size.)
    if (!s->snd_q.empty() && (pressure_ >= MemoryPressure::kCritical ||
                              uint64_t{s->snd_q.truesize()} + MbufChain::PacketTruesize(data.get()) > SndMemLimit())) {
      ++counters_.snd_mem_limited;
      s->want_writable = true;
      return SendStatus::kWouldBlock;
    }
    s->snd_q.Append(std::move(data));
  }
  out_.Clear();
  s->conn.Send(now_, len, out_);
  Deliver(id.index, out_, nullptr, 0);
  return SendStatus::kOk;
}

size_t TcpLayer::SendCopy(ConnId id, ConstBytes data) {
  size_t done = 0;
  const uint16_t room = static_cast<uint16_t>(rte_pktmbuf_data_room_size(pool_) - RTE_PKTMBUF_HEADROOM);
  while (done < data.size()) {
    Socket* s = Find(id);
    if (s == nullptr || s->app_closed || !s->conn.can_send()) break;
    const uint32_t space = config_.tcp.snd_buffer - s->conn.send_queued();
    // Whole segments per buffer (as Linux sizes its buffers to the MSS): each transmitted segment then
    // attaches one buffer, and a zero-copy receiver on the same host keeps one per segment, not two.
    const uint16_t mss = s->conn.snd_mss();
    const uint16_t chunk = mss > 0 && mss <= room ? static_cast<uint16_t>(room - room % mss) : room;
    const uint16_t n = static_cast<uint16_t>(std::min<size_t>({data.size() - done, space, chunk}));
    if (n == 0) {
      s->want_writable = true;
      break;
    }
    Mbuf m = Mbuf::Alloc(pool_);
    if (!m) {
      ++counters_.no_mbufs;
      s->want_writable = true;
      break;
    }
    std::memcpy(m.Append(n), data.data() + done, n);
    if (Send(id, std::move(m)) != SendStatus::kOk) break;
    done += n;
  }
  return done;
}

Mbuf TcpLayer::Recv(ConnId id) {
  Socket* s = Find(id);
  if (s == nullptr || s->app_closed || s->rcv_q.empty()) return Mbuf();
  Mbuf m = s->rcv_q.TakeAll();
  out_.Clear();
  s->conn.Consume(now_, m.pkt_len(), out_, s->rcv_q.truesize() + OooTruesize(*s));
  Deliver(id.index, out_, nullptr, 0);
  return m;
}

size_t TcpLayer::RecvCopy(ConnId id, MutableBytes buf) {
  Socket* s = Find(id);
  if (s == nullptr || s->app_closed) return 0;
  const size_t n = s->rcv_q.CopyFront(buf);
  if (n == 0) return 0;
  s->rcv_q.DropFront(static_cast<uint32_t>(n));
  out_.Clear();
  s->conn.Consume(now_, static_cast<uint32_t>(n), out_, s->rcv_q.truesize() + OooTruesize(*s));
  Deliver(id.index, out_, nullptr, 0);
  return n;
}

uint32_t TcpLayer::Readable(ConnId id) const {
  const Socket* s = Find(id);
  return s == nullptr ? 0 : s->rcv_q.size();
}

void TcpLayer::Shutdown(ConnId id) {
  Socket* s = Find(id);
  if (s == nullptr || s->app_closed) return;
  out_.Clear();
  s->conn.Shutdown(now_, out_);
  Deliver(id.index, out_, nullptr, 0);
}

void TcpLayer::Close(ConnId id) {
  Socket* s = Find(id);
  if (s == nullptr || s->app_closed) return;
  s->app_closed = true;
  if (s->conn.state() == TcpState::kTimeWait) {
    s->rcv_q.Clear();
    if (!ToTimeWait(id.index)) Reschedule(id.index);
    return;
  }
  if (orphans_ >= config_.max_orphans) {
    // Too many connections are already finishing without an owner: this one ends now.
    ++counters_.orphans_reset;
    out_.Clear();
    s->conn.Abort(now_, out_);
    Deliver(id.index, out_, nullptr, 0);
    return;
  }
  s->orphan = true;
  ++orphans_;
  out_.Clear();
  s->conn.Close(now_, out_);
  Deliver(id.index, out_, nullptr, 0);
}

void TcpLayer::Abort(ConnId id) {
  Socket* s = Find(id);
  if (s == nullptr || s->app_closed) return;
  s->app_closed = true;
  out_.Clear();
  s->conn.Abort(now_, out_);
  Deliver(id.index, out_, nullptr, 0);
}

void TcpLayer::SetTimeout(ConnId id, Duration d) {
  Socket* s = Find(id);
  if (s == nullptr || s->app_closed) return;
  s->app_deadline = d > Duration() ? now_ + d : Instant::Never();
  Reschedule(id.index);
}

void TcpLayer::SetIdleTimeout(ConnId id, Duration d) {
  Socket* s = Find(id);
  if (s == nullptr || s->app_closed) return;
  s->idle_ms = d > Duration() ? static_cast<uint32_t>(std::clamp<int64_t>(d.ns() / 1000000, 1, UINT32_MAX)) : 0;
  s->last_activity = now_;
  Reschedule(id.index);
}

TcpState TcpLayer::State(ConnId id) const {
  const Socket* s = Find(id);
  return s == nullptr ? TcpState::kClosed : s->conn.state();
}

std::pair<uint32_t, uint32_t> TcpLayer::QueueMemory(ConnId id) const {
  const Socket* s = Find(id);
  if (s == nullptr) return {0, 0};
  return {s->rcv_q.truesize() + OooTruesize(*s), s->snd_q.truesize()};
}

std::optional<FlowKey> TcpLayer::Flow(ConnId id) const {
  const Socket* s = Find(id);
  if (s == nullptr) return std::nullopt;
  return s->key;
}

}  // namespace synack
