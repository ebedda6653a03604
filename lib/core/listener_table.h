// ListenerTable: an engine's listening ports and the SYN admission rules in front of them — which port
// listens (with the options its connections get), how many connections each listener has in SYN-RECEIVED
// (its SYN queue) and how many accepted ones the application has not seen yet (its accept queue), the
// engine-wide half-open count over all listeners, and the per-source SYN rate limiter.
//
// The decisions are values: DecideSyn says what a SYN gets (half-open state, a cookie, or a drop and the
// counter that names it) and DecideCookieAck whether a valid cookie may open a connection, both as pure
// functions of the table's numbers and of the facts the caller passes in (connection table full, memory
// critical, source within its rate). AdmitSyn and AdmitCookieAck add the one side effect: they charge the
// source's rate only when the decision gets that far. The caller (TcpLayer) keeps the segments, the
// connection records and the counters, and reports every move in and out of the queues (EnterSynQueue,
// LeaveSynQueue, EnterAcceptQueue, AcceptDrained); a listener is a small index that stays valid for the
// table's lifetime (listeners are never removed).
//
// No allocation after Listen. Owned by one engine; only its core may call it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "lib/base/time.h"
#include "lib/core/syn_limiter.h"
#include "lib/net/addr.h"
#include "lib/tcp/congestion.h"

namespace synack {

/// When a listener answers SYNs with cookies instead of keeping half-open state.
enum class SynCookieMode : uint8_t {
  kOff,       ///< never: SYNs beyond the half-open bounds are dropped
  kWhenFull,  ///< when the listener's (or the engine's) half-open queue is full — the default
  kAlways,    ///< for every SYN: no half-open state at all
};
/// "off", "when-full", "always"; nullopt for anything else.
std::optional<SynCookieMode> ParseSynCookieMode(std::string_view s);
/// "off", "when-full", "always".
const char* SynCookieModeName(SynCookieMode m);

/// Per-connection choices for Listen (every accepted connection) and Connect; unset fields keep the
/// engine's TcpConfig.
struct ConnOptions {
  std::optional<CongestionAlgorithm> congestion;  ///< CUBIC or NewReno instead of TcpConfig::congestion
  std::optional<bool> nodelay;                    ///< Nagle off (true) or on instead of TcpConfig::nodelay
};

/// What a SYN (or the ACK of a SYN cookie) at a listener gets. Each drop names the TcpLayer counter
/// that counts it.
enum class SynVerdict : uint8_t {
  kAccept,             ///< state is kept: a SYN-RECEIVED connection (SYN) or an established one (cookie ACK)
  kCookie,             ///< a SYN cookie is sent, nothing is kept (SYN only)
  kDropTableFull,      ///< the connection table is full: syn_table_full
  kDropPressure,       ///< the mbuf pool is critically low: syn_pressure_dropped
  kDropSourceLimited,  ///< the source is over its SYN rate: syn_source_limited
  kDropAcceptBacklog,  ///< the application is not accepting: accept_backlog_overflow
  kDropBacklogFull,    ///< the half-open queue is full and cookies are off: syn_dropped
};

/// "accept", "cookie", "table_full", "pressure", "source_limited", "accept_backlog", "backlog_full".
const char* SynVerdictName(SynVerdict v);

/// The decision for one SYN.
struct SynDecision {
  SynVerdict verdict = SynVerdict::kAccept;
  /// The listener's (or the engine's) half-open queue was full when the SYN got that far: counted as
  /// syn_backlog_overflow whatever the verdict (a cookie or a drop).
  bool backlog_overflow = false;
  friend bool operator==(const SynDecision&, const SynDecision&) = default;
};

/// What one listener's SYNs got (the engine-wide numbers are TcpLayerCounters), for monitoring.
struct ListenerStats {
  uint64_t syn_received = 0;       ///< SYNs that reached the listener's admission rules
  uint64_t cookies_sent = 0;       ///< SYN-ACKs carrying a cookie (no state kept)
  uint64_t cookies_validated = 0;  ///< returning ACKs whose cookie was valid
};

/// What the caller knows about the engine when a SYN or a cookie ACK arrives.
struct SynConditions {
  bool table_full = false;       ///< no free connection record
  bool memory_critical = false;  ///< MemoryPressure::kCritical or worse
  bool source_allowed = true;    ///< the source is within its SYN rate (SynSourceLimiter::Allow)
};

class ListenerTable {
 public:
  /// The listener index meaning "none" (Find of a port nobody listens on).
  static constexpr uint32_t kNone = UINT32_MAX;

  struct Config {
    uint32_t syn_backlog = 1024;     ///< per listener: connections in SYN-RECEIVED
    uint32_t max_half_open = 4096;   ///< per engine: SYN-RECEIVED connections over all listeners
    uint32_t accept_backlog = 1024;  ///< per listener: accepted connections the application has not seen
    SynCookieMode syn_cookies = SynCookieMode::kWhenFull;
  };

  /// `limit` and `limiter_key` configure the per-source SYN rate limiter (off unless limit.rate > 0).
  ListenerTable(const Config& config, const SynSourceLimiter::Config& limit,
                const std::array<uint8_t, 16>& limiter_key);

  // --- The table. ---

  /// Starts listening on `port` with `options` for its connections. Error for port 0 or a port that
  /// already listens.
  absl::Status Listen(uint16_t port, const ConnOptions& options);
  /// The listener on `port`, or kNone.
  uint32_t Find(uint16_t port) const;
  /// The port of listener `li` (a valid index).
  uint16_t port(uint32_t li) const { return listeners_[li].port; }
  /// The options of listener `li`'s connections.
  const ConnOptions& options(uint32_t li) const { return listeners_[li].options; }
  /// How many ports listen.
  size_t size() const { return listeners_.size(); }

  // --- The queues. ---

  /// A connection of listener `li` entered SYN-RECEIVED: counted in its SYN queue and the engine's
  /// half-open number.
  void EnterSynQueue(uint32_t li);
  /// A connection of listener `li` left SYN-RECEIVED (established, or died): no longer half-open.
  void LeaveSynQueue(uint32_t li);
  /// An established connection of listener `li` joins its accept queue (its kAccepted event is queued);
  /// false, and nothing counted, when the accept queue is full (the caller resets the connection).
  bool EnterAcceptQueue(uint32_t li);
  /// The application drained the kAccepted event of a connection on `port`. No-op for a port that does
  /// not listen.
  void AcceptDrained(uint16_t port);
  /// Connections in SYN-RECEIVED at listener `li`.
  uint32_t syn_queue(uint32_t li) const { return listeners_[li].syn_queue; }
  /// kAccepted events of listener `li` the application has not drained.
  uint32_t accept_queue(uint32_t li) const { return listeners_[li].accept_queue; }
  /// SYN-RECEIVED connections over all listeners.
  uint32_t half_open() const { return half_open_; }
  /// What listener `li`'s SYNs got (the caller counts them: CountSyn, CountCookieSent, CountCookieValidated).
  const ListenerStats& stats(uint32_t li) const { return listeners_[li].stats; }
  void CountSyn(uint32_t li) { ++listeners_[li].stats.syn_received; }
  void CountCookieSent(uint32_t li) { ++listeners_[li].stats.cookies_sent; }
  void CountCookieValidated(uint32_t li) { ++listeners_[li].stats.cookies_validated; }
  /// Whether listener `li`'s SYN queue, or the engine's half-open number, is at least half its bound:
  /// half-open connections then get fewer SYN-ACK retransmissions.
  bool UnderPressure(uint32_t li) const;

  // --- The decisions. ---

  /// Pure: what a SYN at listener `li` gets. In order: a full connection table or critical memory drops
  /// it (no SYN-ACK, not even a cookie, when no connection could be admitted); then the source's rate
  /// and the accept queue; then the half-open bounds decide between state, a cookie and a drop, by the
  /// cookie mode.
  SynDecision DecideSyn(uint32_t li, const SynConditions& c) const;
  /// Pure: whether a valid cookie ACK at listener `li` may open a connection (kAccept) or is dropped
  /// (kDropSourceLimited, kDropAcceptBacklog): a replayed cookie is a new connection each time, so the
  /// source's rate and the accept queue apply as to a SYN. Only `c.source_allowed` is read.
  SynVerdict DecideCookieAck(uint32_t li, const SynConditions& c) const;
  /// DecideSyn with the source's rate from the limiter, charged only when the table and memory checks
  /// pass (a SYN dropped before costs its source nothing).
  SynDecision AdmitSyn(Instant now, Ipv4Addr src, uint32_t li, bool table_full, bool memory_critical);
  /// DecideCookieAck with the source's rate from the limiter (always charged).
  SynVerdict AdmitCookieAck(Instant now, Ipv4Addr src, uint32_t li);

  const Config& config() const { return config_; }

 private:
  struct Listener {
    uint16_t port = 0;
    ConnOptions options;
    uint32_t syn_queue = 0;     // SYN-RECEIVED connections
    uint32_t accept_queue = 0;  // kAccepted events not yet drained
    ListenerStats stats;
  };
  // Whether the half-open bounds (listener `li`'s SYN queue or the engine's) are reached.
  bool SynQueueFull(uint32_t li) const;

  Config config_;
  SynSourceLimiter limiter_;
  std::vector<Listener> listeners_;
  absl::flat_hash_map<uint16_t, uint32_t> by_port_;
  uint32_t half_open_ = 0;
};

}  // namespace synack
