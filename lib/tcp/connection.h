// TcpConnection: one connection's RFC 9293 state machine and TCB, I/O-free.
//
// Inputs are `(now, segment)` (Input), application calls (Send, Close, Shutdown, Abort, Consume) and
// timer expiry (OnTimer); every call appends the segments to transmit to a caller-owned TcpOutput and
// reports application events there; NextDeadline() says when OnTimer must run next. The connection
// never touches bytes: an outgoing segment names the range of the send buffer it carries
// (`data_offset` bytes past SND.UNA), an incoming segment's accepted payload is reported as a range of
// that segment's payload for the caller to append to its receive queue. States carry RFC names and
// every transition goes through SetState(), which counts it.
//
// Sending follows the congestion window (CUBIC or NewReno, slow start with byte counting, IW10,
// restart after idle), recovers losses by fast retransmit on the third duplicate ACK or by the SACK
// scoreboard (RFC 6675, with PRR for the reduction), and after an RTO resends from SND.UNA with a loss
// window of one segment (go-back-N, skipping what the peer SACKed). Receiving keeps out-of-order data
// (the caller stores the bytes; the connection tracks the ranges), reports them in SACK blocks (RFC
// 2018, D-SACK RFC 2883) and ACKs by the peer's actual segment size. Timestamps get PAWS (RFC 7323).
// Not yet: urgent data, RACK-TLP.
//
// Owned by the engine of the core its flow hashes to; only that core may call it.
#pragma once
/// @file
/// The TCP types applications see (TcpState, TcpError, TcpConfig, TcpInfo, TcpCounters) and the
/// connection state machine behind them (see the comment above).

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "lib/base/log.h"
#include "lib/base/log_histogram.h"
#include "lib/base/time.h"
#include "lib/tcp/congestion.h"
#include "lib/tcp/loss_state.h"
#include "lib/tcp/rto.h"
#include "lib/tcp/segment.h"
#include "lib/tcp/seq_ranges.h"
#include "lib/tcp/syn_cookie.h"

namespace synack {

/// A compile-time hook on every state transition (all go through TcpConnection::SetState): define
/// SYNACK_TRACE_TRANSITION(local_port, remote_port, from, to) before this header (e.g. with -D) to log or
/// count them your way. By default it logs "synack.tcp: :<local> > :<remote> FROM -> TO" at debug level
/// (lib/base/log.h: `--log-level=synack.tcp:debug`); while that is off it costs one bit test.
#ifndef SYNACK_TRACE_TRANSITION
#define SYNACK_TRACE_TRANSITION(local_port, remote_port, from, to)                                                    \
  SYNACK_LOG_DEBUG(kTcp, ":%u > :%u %s -> %s", static_cast<unsigned>(local_port), static_cast<unsigned>(remote_port), \
                   ::synack::StateName(from), ::synack::StateName(to))
#endif

/// A connection's state (RFC 9293 names).
enum class TcpState : uint8_t {
  kClosed,       ///< CLOSED: no connection (also what a stale id reports)
  kListen,       ///< LISTEN
  kSynSent,      ///< SYN-SENT: our SYN sent (active open)
  kSynReceived,  ///< SYN-RECEIVED: the peer's SYN answered (passive open)
  kEstablished,  ///< ESTABLISHED
  kFinWait1,     ///< FIN-WAIT-1: our FIN sent, not yet acknowledged
  kFinWait2,     ///< FIN-WAIT-2: our FIN acknowledged, the peer still sending
  kCloseWait,    ///< CLOSE-WAIT: the peer finished sending, we have not
  kClosing,      ///< CLOSING: both FINs sent, ours not yet acknowledged
  kLastAck,      ///< LAST-ACK: the peer finished first, our FIN awaits its ACK
  kTimeWait,     ///< TIME-WAIT: both finished; lingers 2*MSL
};
/// The number of TcpState values.
inline constexpr size_t kTcpStateCount = 11;
/// "SYN-SENT", "TIME-WAIT", ... for logs.
const char* StateName(TcpState s);

/// Why a connection ended (what the application is told).
enum class TcpError : uint8_t {
  kNone,         ///< an orderly close
  kRefused,      ///< RST in answer to our SYN
  kReset,        ///< RST in a synchronized state
  kTimedOut,     ///< retransmissions, SYN retries or keepalive probes exhausted (or an application timeout)
  kAborted,      ///< the application aborted (we sent RST)
  kUnreachable,  ///< the next hop never answered ARP: no host at that address
};
/// "none", "connection refused", ... for logs.
const char* ErrorName(TcpError e);

inline constexpr uint16_t kTimestampsOptionBytes = 12;  // NOP,NOP,TS on every segment

/// Every connection's protocol settings (TcpLayerConfig::tcp).
struct TcpConfig {
  uint16_t mss = 1460;  ///< advertised; also the cap on what we send
  /// Floor of the payload per segment whatever MSS the peer announced (Linux's tcp_min_snd_mss is 48):
  /// an MSS option of 0, or one smaller than our option overhead, cannot make us send empty or tiny
  /// segments. Clamped to [1, mss].
  uint16_t min_snd_mss = 48;
  uint8_t window_scale = 7;          ///< our shift (RFC 7323), used when the peer offers scaling too
  bool timestamps = true;            ///< offer RFC 7323 timestamps
  bool sack_permitted = true;        ///< offer SACK-permitted (blocks are not generated yet)
  uint32_t rcv_buffer = 256 * 1024;  ///< bytes the receive side holds; the advertised window follows it
  uint32_t snd_buffer = 256 * 1024;  ///< bytes the send side accepts from the application
  /// Memory (mbuf truesize, not payload bytes) the receive side may pin; 0: twice rcv_buffer. A peer
  /// whose segments cost far more memory than they carry sees the window shrink, then its payload
  /// dropped (rcv_mem_dropped) — never the pool drained.
  uint32_t rcv_mem = 0;
  /// Memory (mbuf truesize) the send queue may pin; 0: twice snd_buffer. Enforced by the engine.
  uint32_t snd_mem = 0;
  RtoConfig rto;                                                 ///< retransmission timeout bounds
  CongestionAlgorithm congestion = CongestionAlgorithm::kCubic;  ///< CUBIC or NewReno
  uint32_t initial_cwnd_segments = 10;                           ///< RFC 6928
  bool nodelay = false;     ///< true: no Nagle (RFC 9293 3.7.4) — send small segments at once
  uint32_t quickacks = 16;  ///< data segments ACKed at once while a connection starts
  /// Segmentation offload: the most payload one new-data segment may carry, in whole send-MSS pieces,
  /// for a link that carries it whole (the loopback's ring pair, as Linux's veth carries GSO packets);
  /// at most kTsoMaxPayload. 0, or less than two MSS: one MSS per segment. Retransmissions, segments
  /// carrying SACK blocks, everything sent in loss recovery and everything sent once an ICMP message
  /// lowered the path MTU are one MSS. Real ports leave it 0 (NIC TSO is not wired yet).
  uint32_t tso_max = 0;
  int syn_retries = 6;       ///< SYN retransmissions before connect() times out
  int synack_retries = 5;    ///< SYN-ACK retransmissions before a half-open connection goes
  int max_retransmits = 15;  ///< data/FIN retransmissions before the connection times out;
                             ///< also unanswered zero-window probes before it gives up
  /// At most one challenge ACK (RFC 5961) per connection per interval (Linux's tcp_invalid_ratelimit).
  Duration challenge_ack_interval = Duration::Milliseconds(500);
  Duration msl = Duration::Seconds(30);                 ///< TIME-WAIT lasts 2*MSL
  Duration delayed_ack = Duration::Milliseconds(40);    ///< longest an ACK is delayed
  Duration fin_wait2_timeout = Duration::Seconds(60);   ///< for connections the application closed
  bool keepalive = false;                               ///< send keepalive probes on idle connections
  Duration keepalive_idle = Duration::Seconds(7200);    ///< idle time before the first probe
  Duration keepalive_interval = Duration::Seconds(75);  ///< between unanswered probes
  int keepalive_probes = 9;                             ///< unanswered probes before the connection times out
  Duration persist_min = Duration::Milliseconds(200);   ///< shortest zero-window probe interval
  Duration persist_max = Duration::Seconds(60);         ///< longest (the interval doubles up to it)
};

// RFC 5961 section 7: the engine-wide limit on challenge ACKs, with a budget drawn at random for each
// one-second window from [per_second/2, per_second*3/2) — as Linux after CVE-2016-5696 — so that the
// number of challenge ACKs one connection sees says nothing about what other connections triggered.
// (Each connection also sends at most one per TcpConfig::challenge_ack_interval.) The generator is a
// keyed xorshift, deterministic for a given seed (tests), unpredictable off-path.
class ChallengeAckLimiter {
 public:
  explicit ChallengeAckLimiter(uint32_t per_second = 1000, uint64_t seed = 0x9e3779b97f4a7c15ull)
      : per_second_(per_second), rng_(seed | 1) {}
  bool Allow(Instant now) {
    if (!started_ || now - window_start_ >= Duration::Seconds(1)) {
      started_ = true;
      window_start_ = now;
      sent_ = 0;
      budget_ = per_second_ / 2 + (per_second_ == 0 ? 0 : static_cast<uint32_t>(Next() % per_second_));
    }
    if (sent_ >= budget_) return false;
    ++sent_;
    return true;
  }
  // This window's budget (tests).
  uint32_t budget() const { return budget_; }

 private:
  uint64_t Next() {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  }
  uint32_t per_second_;
  uint32_t sent_ = 0;
  uint32_t budget_ = 0;
  bool started_ = false;
  uint64_t rng_;
  Instant window_start_;
};

/// The TcpCounters fields, as an X-macro: X(name) for each, in report order.
#define SYNACK_TCP_COUNTERS(X)                                                                                       \
  X(segments_in)                                                                                                     \
  X(segments_out)                                                                                                    \
  X(tso_segments_out) /* segments of more than one MSS, for a device that cuts them (TcpConfig::tso_max) */          \
  X(retransmits)                                                                                                     \
  X(syn_retransmits)                                                                                                 \
  X(unacceptable) /* failed the sequence test (answered with ACK unless RST) */                                      \
  X(no_ack_flag)  /* synchronized state, ACK bit off: dropped */                                                     \
  X(ack_too_new)  /* SEG.ACK > SND.NXT */                                                                            \
  X(ack_too_old)  /* SEG.ACK below SND.UNA - MAX.SND.WND (RFC 5961 5.2) */                                           \
  X(challenge_acks)                                                                                                  \
  X(challenge_acks_suppressed)                                                                                       \
  X(resets_in)                                                                                                       \
  X(resets_out)                                                                                                      \
  X(out_of_order_dropped)                                                                                            \
  X(delayed_acks)                                                                                                    \
  X(keepalive_probes)                                                                                                \
  X(persist_probes)                                                                                                  \
  X(persist_timeouts)            /* zero-window probes went unanswered max_retransmits times: RST */                 \
  X(challenge_acks_conn_limited) /* the connection sent one less than an interval ago */                             \
  X(oow_acks_limited)            /* no ACK for a data-less out-of-window segment: sent one recently */               \
  X(rcv_mem_dropped)             /* in-window payload dropped: over the connection's memory budget */                \
  X(abort_on_data)               /* new data after the application closed: RST */                                    \
  X(fast_retransmits)            /* retransmissions by fast retransmit / SACK recovery */                            \
  X(fast_recoveries)             /* entries into fast recovery */                                                    \
  X(rto_recoveries)              /* RTOs with data outstanding: loss window, go-back-N */                            \
  X(ooo_segments)                /* out-of-order segments kept for reassembly */                                     \
  X(ooo_dropped)                 /* out-of-order segments not kept (range capacity) */                               \
  X(dup_segments)                /* segments entirely received before (answered with D-SACK) */                      \
  X(dsacks_sent)                                                                                                     \
  X(dsacks_received)      /* the peer reported a duplicate: a retransmission was spurious */                         \
  X(sack_blocks_ignored)  /* SACK blocks outside SND.UNA..SND.NXT, or no room to track them */                       \
  X(paws_dropped)         /* RFC 7323 PAWS: an old timestamp */                                                      \
  X(ooo_pruned)           /* out-of-order data given up under memory pressure */                                     \
  X(loss_state_exhausted) /* needed SACK/out-of-order state, the engine's pool had none */                           \
  X(tlp_probes)           /* tail loss probes sent (RFC 8985 7) */                                                   \
  X(early_retransmits)    /* fast retransmits with fewer than 3 duplicates (RFC 5827) */                             \
  X(sack_recoveries)      /* fast recoveries driven by the SACK scoreboard */                                        \
  X(lost_retransmits)     /* retransmissions found lost by SACKs for data sent after them */                         \
  X(pmtu_reductions)      /* ICMP fragmentation needed lowered the send MSS */                                       \
  X(icmp_hard_errors)     /* protocol/port unreachable ended a connection in SYN-SENT */                             \
  X(icmp_ignored)                                                                                                    \
  /* ICMP errors quoting a sequence number not in flight (RFC 5927) */ /* new data after the application closed: RST \
                                                                        */                                           \
  X(timeouts)                                                                                                        \
  X(rtt_samples)

/// How long connections spend in each phase of their life, per engine (TcpCounters::phases; the
/// /synack/latency telemetry command). TcpConnection::SetState records the first four from one
/// timestamp per connection (when its current phase began); the engine records the TIME-WAIT residency
/// of its compact entries when they leave the store.
struct TcpPhases {
  LogHistogram open_passive;  ///< SYN received -> ESTABLISHED (connections opened from a SYN cookie: none)
  LogHistogram open_active;   ///< SYN sent -> ESTABLISHED (simultaneous opens included)
  LogHistogram lifetime;      ///< ESTABLISHED -> our FIN queued (Close/Shutdown: FIN-WAIT-1 or LAST-ACK)
  LogHistogram close;         ///< our FIN -> TIME-WAIT, or -> CLOSED (LAST-ACK's ACK, a reset, a timeout)
  LogHistogram time_wait;     ///< TIME-WAIT -> gone (2*MSL expiry, or a SYN or connect reusing the 4-tuple)
};

/// The state machine's counters (one uint64_t per SYNACK_TCP_COUNTERS name, and the state transitions),
/// shared by the connections of one engine. Single writer: the engine's lcore.
struct TcpCounters {
  std::array<std::array<uint64_t, kTcpStateCount>, kTcpStateCount> transitions{};  ///< [from][to]
  TcpPhases phases;                                                                ///< phase durations (not in ForEach)
#define SYNACK_X(name) uint64_t name = 0;
  SYNACK_TCP_COUNTERS(SYNACK_X)
#undef SYNACK_X
  /// Transitions into `s` from any state.
  uint64_t transitions_to(TcpState s) const;
  /// Every scalar counter by name (transitions not included).
  void ForEach(absl::FunctionRef<void(std::string_view, uint64_t)> f) const;
};

// Shared by all connections of one engine.
struct TcpContext {
  const TcpConfig* config;
  TcpCounters* counters;
  ChallengeAckLimiter* challenge;
  // The engine's cap on newly advertised windows (bytes; it lowers it under memory pressure). Null:
  // none.
  const uint32_t* window_clamp = nullptr;
  // Where connections take their LossState while data is missing. Null: none (no SACK scoreboard,
  // no out-of-order data kept).
  LossStatePool* loss_pool = nullptr;
};

// What keeping a received segment's payload would cost, from the engine's buffers (the core never sees
// mbufs): `held` is the memory the connection's received data pins now, `cost` what this payload would
// add (0 when it can share a buffer already held; kNoRoom when the engine has none to give).
struct RxMem {
  static constexpr uint32_t kNoRoom = UINT32_MAX;
  uint32_t held = 0;
  uint32_t ooo_held = 0;  // the part of `held` that out-of-order data pins
  uint32_t cost = 0;      // if the payload goes to the receive queue in order
  uint32_t ooo_cost = 0;  // if it is kept out of order
};

/// The most payload a segment can carry in one IPv4 datagram: 65,535 bytes less a 20-byte IP header
/// and a TCP header with 40 option bytes (the ceiling of TcpConfig::tso_max).
inline constexpr uint32_t kTsoMaxPayload = 65535 - 20 - 60;

struct OutSegment {
  TcpSegment seg;
  uint32_t data_offset = 0;  // payload = send buffer bytes [data_offset, data_offset + payload_len) past SND.UNA
  uint16_t tso_segsz = 0;    // > 0: the payload spans several MSS; the device cuts it into pieces this size
};

namespace tcp_events {
inline constexpr uint32_t kConnected = 1u << 0;  // reached ESTABLISHED
inline constexpr uint32_t kReadable = 1u << 1;   // new in-order data (see TcpOutput::deliver_*)
inline constexpr uint32_t kPeerFin = 1u << 2;    // the peer finished sending
inline constexpr uint32_t kWritable = 1u << 3;   // send buffer space was freed
inline constexpr uint32_t kClosed = 1u << 4;     // reached CLOSED (error says why) — release the connection
inline constexpr uint32_t kTimeWait = 1u << 5;   // entered TIME-WAIT (may move to a compact entry)
inline constexpr uint32_t kAcked = 1u << 6;      // SND.UNA advanced by `acked` bytes: free them
inline constexpr uint32_t kReuseSyn = 1u << 7;   // TIME-WAIT ended by a safely newer SYN: hand it to the listener
}  // namespace tcp_events

// What one call produced. Reused by the caller (Clear() keeps capacity): no allocation per packet.
struct TcpOutput {
  absl::InlinedVector<OutSegment, 4> segments;
  uint32_t events = 0;
  TcpError error = TcpError::kNone;
  uint32_t deliver_offset = 0;  // accepted payload: bytes [offset, offset+len) of the input segment's payload
  uint32_t deliver_len = 0;
  uint32_t acked = 0;  // send-buffer bytes acknowledged by this input (drop them from the front)
  // Out-of-order payload to keep: bytes [ooo_offset, ooo_offset + ooo_len) of the input segment's
  // payload, at sequence ooo_seq, until the gap before them fills.
  uint32_t ooo_offset = 0;
  uint32_t ooo_len = 0;
  SeqNum ooo_seq;
  // RCV.NXT moved over kept data: the stream continues from ooo_join_from with the kept bytes, up to
  // ooo_join_to (the caller moves them to the receive queue, dropping any overlap).
  bool ooo_ready = false;
  SeqNum ooo_join_from;
  SeqNum ooo_join_to;
  bool ooo_pruned = false;  // the connection forgot its out-of-order ranges: free the kept bytes
  void Clear() {
    segments.clear();
    events = 0;
    error = TcpError::kNone;
    deliver_offset = deliver_len = acked = ooo_offset = ooo_len = 0;
    ooo_ready = ooo_pruned = false;
  }
};

// A TIME-WAIT connection in compact form (RFC 9293 3.10.7.4 TIME-WAIT rules need only this much):
// what the table keeps once the full connection is released. 28 bytes plus the table's 4-tuple key.
struct TimeWaitEntry {
  SeqNum snd_nxt;  // our sequence number for ACKs (after our FIN)
  SeqNum rcv_nxt;  // after the peer's FIN
  uint32_t ts_recent = 0;
  Instant expires;  // 2*MSL after the last FIN
  uint16_t local_port = 0;
  uint16_t remote_port = 0;
  uint16_t window = 0;  // last advertised (unscaled as on the wire)
  bool ts_enabled = false;
};

/// Linux TCP_INFO-like snapshot of one connection (TcpLayer::Info).
struct TcpInfo {
  TcpState state = TcpState::kClosed;                            ///< the connection's state
  CongestionAlgorithm congestion = CongestionAlgorithm::kCubic;  ///< its congestion control
  bool in_recovery = false;                                      ///< fast recovery or RTO loss recovery
  uint16_t snd_mss = 0;                                          ///< payload per segment we send
  uint16_t rcv_mss = 0;                                          ///< estimated from the peer's segments
  uint32_t cwnd = 0;                                             ///< bytes
  uint32_t ssthresh = 0;                                         ///< bytes (UINT32_MAX before the first loss)
  uint32_t flight = 0;                                           ///< SND.NXT - SND.UNA
  uint32_t sacked = 0;                                           ///< bytes the peer SACKed above SND.UNA
  uint32_t snd_wnd = 0;                                          ///< the peer's window (bytes, scaled)
  uint32_t rcv_wnd = 0;                                          ///< the window we offer (bytes)
  uint32_t unread = 0;                                           ///< received bytes the application has not read
  uint32_t ooo_bytes = 0;                                        ///< kept out of order
  Duration srtt;                                                 ///< smoothed round-trip time
  Duration rttvar;                                               ///< round-trip time variation
  Duration rto;                                                  ///< the current retransmission timeout
  uint32_t retransmits = 0;                                      ///< consecutive RTOs of the current data
  uint64_t total_retransmits = 0;                                ///< segments retransmitted on this connection
  uint32_t dupacks = 0;                                          ///< duplicate ACKs counted towards fast retransmit
  bool ts_enabled = false;                                       ///< RFC 7323 timestamps negotiated
  bool sack_enabled = false;                                     ///< SACK negotiated
  uint8_t snd_wscale = 0;  ///< the peer's window shift (applied to the windows it sends)
  uint8_t rcv_wscale = 0;  ///< our window shift (applied to the windows we send)
};

class TcpConnection {
 public:
  struct Endpoint {
    uint16_t local_port = 0;
    uint16_t remote_port = 0;
  };

  // `ctx` is the engine's, shared by all its connections: it must outlive the connection.
  explicit TcpConnection(const TcpContext* ctx) : ctx_(ctx), rto_(ctx->config->rto) {
    cca_ = CongestionControl(ctx->config->congestion);
    nodelay_ = ctx->config->nodelay;
    quickacks_left_ = ctx->config->quickacks;
  }

  // Active open (RFC 9293 3.10.1): CLOSED -> SYN-SENT, emits the SYN.
  void Connect(Instant now, Endpoint ep, SeqNum iss, TcpOutput& out);
  // Passive open from a listener that received `syn`: -> SYN-RECEIVED, emits the SYN-ACK.
  void AcceptSyn(Instant now, const TcpSegment& syn, SeqNum iss, TcpOutput& out);

  // Passive open from a valid SYN cookie (the listener kept no state): the TCB our cookie SYN-ACK
  // implied, then `ack` processed as its answer: -> ESTABLISHED, with any data or FIN it carries.
  void AcceptCookie(Instant now, const CookieSyn& cookie, const TcpSegment& ack, TcpOutput& out, RxMem mem = {});
  // Lowers (or restores) how many SYN-ACK retransmissions a half-open connection gets; the listener
  // shortens it while its SYN queue is under pressure. Negative: the configured synack_retries.
  void set_synack_retries(int n) { synack_retries_ = static_cast<int8_t>(std::max(-1, std::min(n, 100))); }

  // A segment for this connection arrived (RFC 9293 3.10.7). `mem`: what keeping its payload costs.
  void Input(Instant now, const TcpSegment& seg, TcpOutput& out, RxMem mem = {});

  // Application writes `n` bytes (already appended to its send buffer); returns how many fit.
  uint32_t Send(Instant now, uint32_t n, TcpOutput& out);
  // Application consumed `n` received bytes, after which the received data left pins `mem_held`
  // bytes of memory: frees receive space, may open the window.
  void Consume(Instant now, uint32_t n, TcpOutput& out, uint32_t mem_held = 0);
  // Closes the write side (FIN after queued data); reading continues.
  void Shutdown(Instant now, TcpOutput& out);
  // close(): Shutdown, or RST when received data is unread; in SYN-SENT just goes away.
  void Close(Instant now, TcpOutput& out);
  // abort(): RST in synchronized states; CLOSED.
  void Abort(Instant now, TcpOutput& out);

  // Runs whatever timers are due at `now`.
  void OnTimer(Instant now, TcpOutput& out);
  Instant NextDeadline() const;

  // TIME-WAIT only: the compact form the table may keep instead of this connection.
  TimeWaitEntry ToTimeWait() const;
  // TIME-WAIT only: whether a new SYN for this 4-tuple may start a new connection (RFC 9293 3.10.7.4
  // with RFC 6191): its sequence is above RCV.NXT, or its timestamp is newer than the last one seen.
  bool TimeWaitAcceptsSyn(const TcpSegment& syn) const;

  // Checks every TCB invariant; returns an empty string or a description of the first violation.
  std::string CheckInvariants() const;

  // An ICMP Destination Unreachable quoting one of our segments with sequence number `seq`. Accepted
  // only if `seq` is in flight (RFC 5927); fragmentation needed lowers the send MSS to the next-hop MTU
  // (at least kMinPathMtu) and resends what is in flight at the new size; protocol/port unreachable
  // end a connection still in SYN-SENT (RFC 1122 4.2.3.9, RFC 5461); other codes are soft errors.
  // Returns whether it was accepted.
  bool OnIcmpUnreachable(Instant now, uint8_t code, uint16_t next_hop_mtu, SeqNum seq, TcpOutput& out);
  // Caps the send MSS for a path MTU learnt earlier (before the handshake, or any time).
  void set_path_mtu(uint16_t mtu);
  static constexpr uint16_t kMinPathMtu = 552;  // as Linux's min_pmtu: a forged ICMP cannot shrink segments below
  // Per connection: no Nagle (send small segments at once); the congestion algorithm (before data flows).
  void set_nodelay(bool v) { nodelay_ = v; }
  void set_congestion(CongestionAlgorithm a) { cca_ = CongestionControl(a); }
  // Memory pressure: forget the out-of-order ranges (out.ooo_pruned tells the caller to free the bytes).
  void PruneOutOfOrder(TcpOutput& out);
  TcpInfo Info() const;
  const SeqRanges& out_of_order() const {
    const LossState* l = ls();
    return l != nullptr ? l->ooo : kNoRanges;
  }
  const SeqRanges& sacked() const {
    const LossState* l = ls();
    return l != nullptr ? l->sacked : kNoRanges;
  }
  // Gives back what the connection holds outside its record (its LossState), unless its out-of-order
  // store still holds payload (the owner empties it, then calls this again). Called when the connection
  // closes and when the record is released or reused; the connection is unusable afterwards until
  // re-initialised.
  void ReleaseResources() {
    if (loss_ != LossStatePool::kNone && ls()->store.empty()) ReleaseLoss();
  }
  // The store for the out-of-order payload the connection keeps: null when it keeps none (no LossState).
  // The owner puts there exactly the bytes the connection reported (TcpOutput::ooo_*) and takes them out
  // as it reports them joined or pruned, then calls ReleaseIdleLoss.
  OooStore* ooo_store() const {
    LossState* l = ls();
    return l != nullptr ? &l->store : nullptr;
  }
  // Gives the LossState back if nothing in it is needed any more (after the owner emptied its store).
  void ReleaseIdleLoss() { MaybeReleaseLoss(); }
  const CcWindow& cc() const { return cc_; }
  bool in_recovery() const { return recovery_ != Recovery::kOpen; }

  TcpState state() const { return state_; }
  // Whether Send can queue data now (open or opening, write side not shut).
  bool can_send() const {
    return !fin_queued_ && (state_ == TcpState::kSynSent || state_ == TcpState::kSynReceived ||
                            state_ == TcpState::kEstablished || state_ == TcpState::kCloseWait);
  }
  Endpoint endpoint() const { return ep_; }
  // TCB, RFC 9293 names.
  SeqNum iss() const { return iss_; }
  SeqNum irs() const { return irs_; }
  SeqNum snd_una() const { return snd_una_; }
  SeqNum snd_nxt() const { return snd_nxt_; }
  uint32_t snd_wnd() const { return snd_wnd_; }
  SeqNum rcv_nxt() const { return rcv_nxt_; }
  uint32_t rcv_wnd() const;
  uint16_t snd_mss() const { return snd_mss_; }
  uint8_t snd_wscale() const { return snd_wscale_; }
  uint8_t rcv_wscale() const { return rcv_wscale_; }
  bool ts_enabled() const { return ts_enabled_; }
  bool sack_enabled() const { return sack_enabled_; }
  uint32_t unread() const { return rcv_unread_; }
  uint32_t send_queued() const { return snd_buf_; }
  const RtoEstimator& rto() const { return rto_; }
  int retransmit_count() const { return retries_; }

 private:
  bool synchronized() const;
  void SetState(Instant now, TcpState s, TcpOutput& out);
  void RecordPhase(Instant now, TcpState from, TcpState to);  // TcpPhases, from SetState
  void Finish(Instant now, TcpError e, TcpOutput& out);       // -> CLOSED with kClosed event

  // Segment arrival, one function per RFC 9293 3.10.7 step.
  void InputSynchronized(Instant now, const TcpSegment& seg, TcpOutput& out, RxMem mem);  // SYN-RECEIVED .. LAST-ACK
  void InputSynSent(Instant now, const TcpSegment& seg, TcpOutput& out);
  bool SequenceAcceptable(const TcpSegment& seg) const;
  void InputTimeWait(Instant now, const TcpSegment& seg, TcpOutput& out);
  bool CheckRst(Instant now, const TcpSegment& seg, TcpOutput& out);
  bool CheckSyn(Instant now, const TcpSegment& seg, TcpOutput& out);
  bool CheckAck(Instant now, const TcpSegment& seg, TcpOutput& out);
  // Returns whether the ACK for this segment must go at once (RFC 5681 4.2, RFC 2018).
  bool ProcessText(Instant now, const TcpSegment& seg, TcpOutput& out, RxMem mem);
  void AcceptFin(Instant now, TcpOutput& out);
  uint32_t rcv_mem_limit() const;
  void ProcessFin(Instant now, const TcpSegment& seg, TcpOutput& out);

  void NegotiateOptions(const TcpSegment& syn);
  void RecomputeSendMss();
  bool PawsRejects(Instant now, const TcpSegment& seg) const;
  void UpdateTimestamps(Instant now, const TcpSegment& seg);
  void OnAckAdvance(Instant now, const TcpSegment& seg, TcpOutput& out);
  // SACK blocks of an ACK into the scoreboard; returns the bytes newly SACKed.
  uint32_t ProcessSackBlocks(const TcpSegment& seg);
  // Congestion control and loss recovery for one acceptable ACK.
  void OnAckCongestion(Instant now, const TcpSegment& seg, uint32_t acked, uint32_t newly_sacked,
                       uint32_t flight_before, bool window_changed);
  void EnterFastRecovery(Instant now);
  void UpdateLostPoint();
  uint32_t Pipe() const;
  // The next range to retransmit in recovery (RFC 6675 NextSeg, rule 1): [left, right) — empty if none.
  SeqRange NextRetransmission() const;
  void Established(Instant now, TcpOutput& out);  // SYN-SENT/SYN-RECEIVED -> ESTABLISHED bookkeeping
  void FillSackBlocks(TcpSegment& s) const;
  LossState* ls() const { return loss_ == LossStatePool::kNone ? nullptr : &(*ctx_->loss_pool)[loss_]; }
  // This connection's LossState, taken from the pool if it has none; null (counted) when exhausted.
  LossState* EnsureLoss();
  // Gives the LossState back once nothing in it is needed.
  void MaybeReleaseLoss() {
    if (loss_ != LossStatePool::kNone && recovery_ == Recovery::kOpen && (*ctx_->loss_pool)[loss_].idle())
      ReleaseLoss();
  }
  void ReleaseLoss();
  void SetDsack(SeqRange r) {
    if (LossState* l = EnsureLoss()) l->dsack = r;
  }
  static const SeqRanges kNoRanges;
  // Payload that fits the next segment: the send MSS less whatever SACK blocks it will carry (the MSS
  // already allows for the timestamps option; RFC 6691), so a segment never outgrows the path.
  uint32_t SegmentPayloadMax() const;

  // Output.
  TcpSegment Make(Instant now, SeqNum seq, uint8_t flags) const;
  void Emit(const TcpSegment& seg, uint32_t data_offset, TcpOutput& out);
  void SendAck(Instant now, TcpOutput& out);
  void SendChallengeAck(Instant now, TcpOutput& out);
  void SendRst(Instant now, SeqNum seq, TcpOutput& out);
  void SendSyn(Instant now, TcpOutput& out);     // SYN or SYN-ACK by state
  void Output(Instant now, TcpOutput& out);      // retransmissions in recovery, then new data and FIN
  void Retransmit(Instant now, TcpOutput& out);  // the retransmission timer fired
  // Emits [seq, seq + len) of the stream (data and, where it falls, the FIN); counts retransmissions.
  void SendRange(Instant now, SeqNum seq, SeqNum end, bool retransmission, TcpOutput& out);
  uint16_t advertised_window() const;
  SeqNum data_end() const { return snd_una_ + snd_buf_ + (syn_unacked() ? 1 : 0); }
  bool syn_unacked() const { return snd_una_ == iss_; }
  bool fin_sent() const { return fin_sent_; }
  bool fin_acked() const { return fin_sent_ && snd_una_ == fin_seq_ + 1; }
  uint32_t flight() const { return static_cast<uint32_t>(snd_nxt_ - snd_una_); }
  bool IsLostAtUna() const;  // RFC 6675 IsLost(SND.UNA)
  void ArmRto(Instant now) { rto_deadline_ = now + rto_.rto(); }
  // Arms (or re-arms) the tail loss probe while SACK is in use, data is in flight and no recovery or
  // probe is under way; otherwise clears it.
  void ArmPto(Instant now);
  void SendTailLossProbe(Instant now, TcpOutput& out);
  // Fewer than four segments out and nothing new to send: the duplicate threshold drops (RFC 5827).
  uint32_t DupThresh() const;
  void EnterTimeWait(Instant now, TcpOutput& out);
  void ArmKeepalive(Instant now);

  // Members are grouped by size (8, 4, 2, 1 bytes) so that the record has no padding: one per
  // connection, and a server holds millions. Within each group, by subject.

  // --- 8-byte members ---
  const TcpContext* ctx_;
  // When the current phase of the connection's life began (TcpPhases; Never: unknown, no sample).
  Instant phase_at_ = Instant::Never();
  CongestionControl cca_;
  Instant last_send_;
  uint64_t total_retrans_ = 0;
  Instant ts_recent_at_;  // when TS.Recent was last updated (PAWS validity)
  RtoEstimator rto_;
  // Timers (Instant::Never() when off).
  Instant rto_deadline_ = Instant::Never();  // retransmission (SYN, data, FIN)
  Instant pto_deadline_ = Instant::Never();  // tail loss probe (RFC 8985 7)
  Instant persist_deadline_ = Instant::Never();
  Instant delack_deadline_ = Instant::Never();
  Instant keepalive_deadline_ = Instant::Never();
  Instant close_deadline_ = Instant::Never();  // TIME-WAIT 2*MSL, or FIN-WAIT-2 orphan timeout
  // The last ACK sent in answer to an invalid segment: a challenge ACK (RFC 5961) or the answer to a
  // data-less segment outside the window. One stamp rate-limits both, as Linux's last_oow_ack_time.
  Instant last_invalid_ack_ = Instant::FromNanoseconds(INT64_MIN / 2);
  Instant last_rx_;
  Instant rtt_start_;  // RTT measurement without timestamps (see rtt_timing_)

  // --- 4-byte members ---
  Endpoint ep_;
  // Send sequence space (RFC 9293 3.3.1).
  SeqNum iss_;
  SeqNum snd_una_;
  SeqNum snd_nxt_;
  uint32_t snd_wnd_ = 0;  // scaled, bytes
  uint32_t max_snd_wnd_ = 0;
  SeqNum snd_wl1_;
  SeqNum snd_wl2_;
  uint32_t snd_buf_ = 0;  // application bytes queued (from SND.UNA's data position)
  SeqNum fin_seq_;
  // Receive sequence space.
  SeqNum irs_;
  SeqNum rcv_nxt_;
  SeqNum rcv_adv_;  // right edge we advertised (never shrunk)
  uint32_t rcv_unread_ = 0;
  uint32_t rcv_mem_ = 0;  // memory the received data pins (as the engine last reported it)
  // Options.
  uint32_t ts_recent_ = 0;
  SeqNum last_ack_sent_;
  // Congestion control and loss recovery (sender).
  CcWindow cc_;
  SeqNum recover_;     // RFC 6582: SND.NXT when the last recovery began
  SeqNum high_rxt_;    // retransmitted up to here in this recovery
  SeqNum lost_point_;  // unSACKed data below this is deemed lost
  uint32_t dupacks_ = 0;
  uint32_t prr_allowance_ = 0;  // bytes PRR lets us send after the last ACK (fast recovery)
  SeqNum rxt_mark_;
  // SACK scoreboard, out-of-order ranges, D-SACK, PRR: only while needed (LossState).
  uint32_t loss_ = LossStatePool::kNone;
  // Receiver.
  uint32_t rcv_unacked_ = 0;  // in-order bytes since our last ACK
  uint32_t quickacks_left_ = 0;
  SeqNum tlp_high_;  // SND.NXT when the probe went (valid while tlp_out_)
  int retries_ = 0;  // consecutive retransmissions of the same data
  int persist_backoff_ = 0;
  int persist_unanswered_ = 0;  // zero-window probes sent since the peer last answered
  int keepalive_sent_ = 0;
  SeqNum rtt_seq_;

  // --- 2-byte members ---
  uint16_t snd_mss_ = kDefaultMss;   // effective payload per segment (EffectiveSendMss)
  uint16_t peer_mss_ = kDefaultMss;  // as announced in the peer's SYN
  uint16_t path_mss_ = 0;            // cap from the path MTU (0: none)
  uint16_t rcv_mss_ = kDefaultMss;   // the peer's segment size, as estimated from what arrives

  // --- 1-byte members ---
  TcpState state_ = TcpState::kClosed;
  bool passive_ = false;        // opened from a listener
  bool app_closed_ = false;     // Close() called: orphaned once the FIN is out
  bool skip_ts_rtt_ = false;    // opened from a cookie: the handshake ACK's TSecr was rounded, no RTT sample
  int8_t synack_retries_ = -1;  // -1: the configured limit
  bool fin_queued_ = false;
  bool fin_sent_ = false;
  uint8_t snd_wscale_ = 0;  // shift applied to the peer's window
  uint8_t rcv_wscale_ = 0;  // shift the peer applies to ours
  bool fin_received_ = false;
  bool ts_enabled_ = false;
  bool ws_enabled_ = false;
  bool sack_enabled_ = false;
  enum class Recovery : uint8_t { kOpen, kFast, kLoss };
  Recovery recovery_ = Recovery::kOpen;
  bool force_rxt_ = false;       // the fast retransmit goes out whatever PRR says
  bool rxt_mark_valid_ = false;  // rxt_mark_ holds SND.NXT as of this pass's first retransmission
  bool nodelay_ = false;
  bool syn_retransmitted_ = false;  // RFC 6298 5.7
  bool tlp_out_ = false;            // a probe is outstanding
  // RTT measurement without timestamps (Karn: invalid once anything is retransmitted): rtt_seq_ and
  // rtt_start_ hold the timed segment.
  bool rtt_timing_ = false;
};

// Handles one segment for a TIME-WAIT entry: a retransmitted FIN is ACKed again and restarts 2*MSL;
// an unacceptable segment or an old SYN is ACKed; RSTs are ignored (RFC 1337); a safely newer SYN
// (sequence above RCV.NXT, or a newer timestamp per RFC 6191) returns true: end TIME-WAIT and give
// the SYN to the listener. ACKs to send are appended to `out`.
bool TimeWaitInput(TimeWaitEntry& tw, Instant now, const TcpSegment& seg, const TcpConfig& config,
                   TcpCounters& counters, TcpOutput& out);
bool TimeWaitAcceptsSyn(const TimeWaitEntry& tw, const TcpSegment& syn);
// How long a compact entry has been in TIME-WAIT at `now` (TcpPhases::time_wait): since 2*MSL before
// its deadline — so from the last retransmitted FIN that restarted 2*MSL, if any.
inline Duration TimeWaitResidency(const TimeWaitEntry& tw, Instant now, const TcpConfig& config) {
  return now - (tw.expires - config.msl * 2);
}

// The payload bytes per segment we send: the peer's MSS option (536 when absent) capped at our own
// `config.mss`, minus the timestamps option when every segment carries it, clamped to
// [config.min_snd_mss, config.mss] so that no MSS from the wire can drive it to 0 or wrap it.
uint16_t EffectiveSendMss(const TcpConfig& config, uint16_t peer_mss, bool timestamps);
uint16_t EffectiveSendMss(uint16_t our_mss, uint16_t min_snd_mss, uint16_t peer_mss, bool timestamps);

// RFC 9293 3.10.7.1: the reset to send for a segment that matches no connection; none for a RST.
std::optional<TcpSegment> ResetForUnmatched(const TcpSegment& seg);

// RFC 9293 3.10.7.2: what a LISTEN socket does with a segment.
enum class ListenAction : uint8_t { kIgnore, kSendReset, kAcceptSyn };
ListenAction ListenInput(const TcpSegment& seg);

}  // namespace synack
