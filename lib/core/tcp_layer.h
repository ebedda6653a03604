// TcpLayer: TCP for one engine — the connection table, listeners, compact TIME-WAIT entries, the timer
// wheel, and the zero-copy socket API applications use on this core.
//
// Received segments arrive from NetStack (Input); each is parsed, matched to a connection (or TIME-WAIT
// entry, or listener, or answered with a RST) and handed to its TcpConnection. Accepted payload stays in
// the mbuf it arrived in and is queued for the application; application data is sent from the mbufs the
// application handed over, attached (not copied) behind a small header mbuf, and kept until acknowledged.
//
// Application model: everything happens on the engine's lcore. After each Engine::PollOnce the
// application drains PollEvents() and calls Send/Recv/Close on the connections named there. Events are a
// bounded queue: a connection's readable/writable events are coalesced until drained.
//
// Owned by one engine; only that engine's core may call it.
#pragma once
/// @file
/// TcpLayer, its configuration and counters: the socket API of one engine (see the comment above).

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "lib/base/mbuf.h"
#include "lib/base/mbuf_chain.h"
#include "lib/core/connection_table.h"
#include "lib/core/event_queue.h"
#include "lib/core/events.h"
#include "lib/core/flow.h"
#include "lib/core/flow_table.h"
#include "lib/core/listener_table.h"
#include "lib/core/path_mtu_cache.h"
#include "lib/core/peer_filter.h"
#include "lib/core/phase_profile.h"
#include "lib/core/rss.h"
#include "lib/core/segment_writer.h"
#include "lib/core/syn_limiter.h"
#include "lib/core/syn_shedder.h"
#include "lib/core/time_wait_store.h"
#include "lib/core/timer_wheel.h"
#include "lib/net/net_stack.h"
#include "lib/tcp/connection.h"
#include "lib/tcp/isn.h"
#include "lib/tcp/syn_cookie.h"
#include "lib/tcp/tcp_header.h"

namespace synack {

/// How short of mbufs the engine's pool is (free share: >= 1/4, < 1/4, < 1/8, < 1/16). Each level
/// adds a defence: kLow clamps newly advertised windows to a few segments; kCritical drops received
/// payload that would need a new mbuf (control segments and payload that fits a buffer already held
/// are still processed, so RX never starves), refuses new connections and sends that need memory;
/// kExhausted also resets the connection pinning the most memory, every few milliseconds.
enum class MemoryPressure : uint8_t {
  kNone,      ///< at least 1/4 of the pool free
  kLow,       ///< less than 1/4 free
  kCritical,  ///< less than 1/8 free
  kExhausted  ///< less than 1/16 free
};
/// "none", "low", ... for logs.
const char* MemoryPressureName(MemoryPressure p);

/// A connection that takes over a TIME-WAIT 4-tuple (either side) starts this far above the old
/// incarnation's SND.NXT (RFC 1122 4.2.2.13; Linux uses the same gap).
inline constexpr uint32_t kTimeWaitReopenIssGap = 65537;

/// One engine's TCP layer: table sizes, SYN defences, timers and the connections' defaults.
struct TcpLayerConfig {
  uint32_t max_connections = 16384;  ///< full connection records (slab)
  uint32_t max_time_wait = 16384;    ///< compact TIME-WAIT entries
  uint32_t syn_backlog = 1024;       ///< per listener: connections in SYN-RECEIVED
  uint32_t max_half_open = 4096;     ///< per engine: SYN-RECEIVED connections over all listeners
  /// While a listener's half-open queue (or the engine's) is at least half full, half-open connections
  /// get only this many SYN-ACK retransmissions (so they time out after ~3 s instead of ~63 s).
  int synack_retries_under_pressure = 1;
  /// When listeners answer SYNs with cookies instead of keeping half-open state.
  SynCookieMode syn_cookies = SynCookieMode::kWhenFull;
  SynCookieJar::Config cookie;         ///< cookie time slot and lifetime
  SynSourceLimiter::Config syn_limit;  ///< per-source SYN rate limit (off unless rate > 0)
  /// Under receive overload (a full device burst), drop new SYNs beyond an adaptive budget before they
  /// are parsed (SynShedder; counted as syn_shed). Off: every SYN is processed however deep the ring.
  bool shed_syns_under_overload = true;
  uint32_t accept_backlog = 1024;  ///< per listener: accepted connections the application has not seen
  /// Connections the application closed that are still finishing (FIN-WAIT, CLOSING, LAST-ACK, data
  /// still queued). Beyond this, Close() resets the connection instead (as Linux's tcp_max_orphans).
  uint32_t max_orphans = 8192;
  /// LossState records (SACK scoreboard, out-of-order ranges) shared by the engine's connections while
  /// they recover from loss or reordering; 0: an eighth of max_connections, at least 1024. A connection
  /// holds one only while it has SACKed or out-of-order ranges; when all are taken it goes on without
  /// (loss_state_exhausted: no scoreboard, out-of-order data dropped).
  uint32_t loss_states = 0;
  uint16_t ephemeral_lo = 32768;              ///< lowest source port Connect picks
  uint16_t ephemeral_hi = 60999;              ///< highest source port Connect picks (inclusive)
  Duration tick = Duration::Milliseconds(1);  ///< timer wheel granularity
  TcpConfig tcp;                      ///< every connection's defaults (MSS, buffers, congestion control, timers)
  std::array<uint8_t, 16> isn_key{};  ///< RFC 6528 secret (use RandomKey())
  /// Engine-wide challenge ACKs per second: the mean of a budget drawn at random each second (see
  /// ChallengeAckLimiter); each connection also sends at most one per tcp.challenge_ack_interval.
  uint32_t challenge_acks_per_second = 1000;
  bool tx_tcp_cksum_offload = false;  ///< the device fills TCP checksums (we write the pseudo-header sum)
  /// Received TCP checksums are taken as good without summing the segment: frames that never left this
  /// process's memory (the loopback ring pair, whose sender leaves them to "the device" too), as Linux
  /// treats lo and veth.
  bool rx_cksum_trusted = false;
  /// With several engines: the shared flow-to-engine rule and this engine's index. Connect then only
  /// picks source ports whose flow this engine owns. Null for a single engine.
  const RssSteering* steering = nullptr;
  uint16_t engine_index = 0;  ///< this engine's index for `steering`
};

/// The TcpLayerCounters fields, as an X-macro: X(name) for each, in report order.
#define SYNACK_TCP_LAYER_COUNTERS(X) \
  X(syn_received)                    \
  X(synacks_sent)                    \
  X(syn_backlog_overflow)            \
  X(syn_dropped)                     \
  X(syn_source_limited)              \
  X(syn_shed)                        \
  X(syn_shed_known)                  \
  X(syn_shed_retransmit)             \
  X(rx_overloaded_bursts)            \
  X(half_open_timeouts)              \
  X(cookies_sent)                    \
  X(cookies_validated)               \
  X(cookies_rejected)                \
  X(cookies_expired)                 \
  X(accept_backlog_overflow)         \
  X(table_full)                      \
  X(syn_table_full)                  \
  X(cookie_ack_table_full)           \
  X(time_wait_full)                  \
  X(time_wait_rotated)               \
  X(time_wait_evicted)               \
  X(time_wait_entries)               \
  X(time_wait_reused)                \
  X(time_wait_reused_by_connect)     \
  X(resets_unmatched)                \
  X(replies_in_place)                \
  X(accepted)                        \
  X(connected)                       \
  X(closed)                          \
  X(events_dropped)                  \
  X(orphans_reset)                   \
  X(app_timeouts)                    \
  X(rx_coalesced)                    \
  X(icmp_unmatched)                  \
  X(ooo_join_mismatch)               \
  X(tx_coalesced)                    \
  X(snd_mem_limited)                 \
  X(pressure_low)                    \
  X(pressure_critical)               \
  X(pressure_exhausted)              \
  X(pressure_resets)                 \
  X(syn_pressure_dropped)            \
  X(no_mbufs)                        \
  X(tx_cksum_in_software)            \
  X(bytes_in)                        \
  X(bytes_out)

/// What the layer's preallocated tables cost, from their sizes (no payload: an idle connection holds
/// no mbufs).
struct TcpLayerMemory {
  size_t total_bytes = 0;           ///< every table, free list, timer entry and the event queue
  double per_connection = 0;        ///< bytes per connection record: slab, index, timer, free list, events
  double per_time_wait = 0;         ///< bytes per compact TIME-WAIT entry: ring slot and index share
  size_t socket_bytes = 0;          ///< sizeof one connection record (TCB, queues, bookkeeping)
  size_t time_wait_slot_bytes = 0;  ///< sizeof one compact TIME-WAIT entry with its key
};

/// The layer's counters (one uint64_t per SYNACK_TCP_LAYER_COUNTERS name: SYNs, cookies, table overflows,
/// events, memory pressure, bytes in and out). Single writer: the engine's lcore.
struct TcpLayerCounters {
#define SYNACK_X(name) uint64_t name = 0;
  SYNACK_TCP_LAYER_COUNTERS(SYNACK_X)
#undef SYNACK_X
  /// Calls f(name, value) for every counter, in SYNACK_TCP_LAYER_COUNTERS order.
  void ForEach(absl::FunctionRef<void(std::string_view, uint64_t)> f) const;
};

/// TCP for one engine and the zero-copy socket API applications call on its lcore (see the file comment).
class TcpLayer {
 public:
  /// Per-connection choices for Listen and Connect (synack::ConnOptions, in listener_table.h; the name
  /// is kept for code written against TcpLayer::ConnOptions).
  using ConnOptions = ::synack::ConnOptions;

  /// `net` sends our segments; `pool` supplies header mbufs and copies; `indirect_pool` supplies the
  /// zero-data-room mbufs that attach payload (both must outlive the layer).
  TcpLayer(const TcpLayerConfig& config, NetStack& net, rte_mempool* pool, rte_mempool* indirect_pool);
  /// Whether a layer can be built with `config` (max_connections within [1, 2^27 - 1], what the timer
  /// wheel addresses): InvalidArgument naming the setting otherwise. Stack and Loopback check it first.
  static absl::Status CheckConfig(const TcpLayerConfig& config);
  ~TcpLayer();
  // Connections point at the layer's shared context: it stays where it was built.
  TcpLayer(const TcpLayer&) = delete;
  TcpLayer& operator=(const TcpLayer&) = delete;

  /// Takes what NetStack::Input passed up (and ownership of its frame): a TCP datagram is received, an
  /// ICMP error goes to IcmpError, kNone is nothing.
  void Input(Instant now, Delivery&& d) {
    switch (d.kind) {
      case Delivery::Kind::kTcp:
        return Input(now, std::move(d.frame), d.ip);
      case Delivery::Kind::kIcmpError:
        return IcmpError(now, d.icmp);
      case Delivery::Kind::kNone:
        return;
    }
  }

  /// Takes ownership of a received frame carrying TCP (`ip` views into it), in every case: it is freed
  /// or kept as received data.
  void Input(Instant now, Mbuf&& frame, const Ipv4Packet& ip);

  /// Fails connections still opening towards each of `dsts` with kUnreachable (ARP gave up; what
  /// NetStack::Poll returns).
  void Unreachable(Instant now, std::span<const Ipv4Addr> dsts);
  /// An ICMP Destination Unreachable quoting a segment of ours: handed to the connection it names
  /// (which checks the quoted sequence number); a path MTU it accepts is also remembered for new
  /// connections to that destination.
  void IcmpError(Instant now, const synack::IcmpError& e);
  /// The path MTU learnt for `dst` (0: none).
  uint16_t PathMtu(Ipv4Addr dst) const;

  /// Runs due timers; the engine calls it every poll.
  void Poll(Instant now);

  /// The start of a device receive burst of `n` frames when `burst` were asked for (a full one means
  /// more are waiting: overload). The engine calls it before processing the burst.
  void BeginRxBurst(uint32_t n, uint32_t burst);
  /// What to do with a frame of the current burst before it is parsed (TriageBurst).
  enum class RxTriage : uint8_t {
    kProcess,  ///< now, in arrival order
    kDefer,    ///< an admitted new SYN from an unknown source in an overloaded burst: after the other frames
    kShed,     ///< a new SYN beyond the budget: free it unparsed (counted as syn_shed)
  };
  /// In an overloaded burst, new SYNs from sources without connections here are deferred (segments of
  /// known flows, SYNs of known sources and cookie ACKs go first) or shed (SynShedder); everything else,
  /// and every frame of a burst that is not overloaded, is processed now. Writes the verdicts, in arrival
  /// order, into `out` (frames.size() entries); the caller keeps the frames. Cheap: a few header bytes of
  /// each frame's first segment, no lookup. In two passes so the cache misses overlap: peek every frame and
  /// prefetch the shed memory of each unknown new SYN, then decide in arrival order.
  void TriageBurst(std::span<rte_mbuf* const> frames, RxTriage* out);
  /// TriageBurst for a burst of one frame, given as its first segment's bytes (same verdict, same counts).
  RxTriage TriageBeforeParse(ConstBytes frame);
  /// Whether the current burst is overloaded (TriageBurst can answer other than kProcess).
  bool rx_overloaded() const { return config_.shed_syns_under_overload && shedder_.overloaded(); }

  // --- The application API (see the class comment for the threading model). ---

  /// Accepts connections on `port` of our address. Error if the port is already listening.
  absl::Status Listen(uint16_t port, const ConnOptions& options = {});
  /// Opens a connection; completion is reported by a kConnected or kClosed event. `timeout` (0 = only the
  /// SYN retry limit) bounds the handshake. Errors: no route, port 0, out of ephemeral ports, table full,
  /// mbuf pool under critical memory pressure.
  absl::StatusOr<ConnId> Connect(Ipv4Addr dst, uint16_t port, Duration timeout = Duration(),
                                 const ConnOptions& options = {});
  /// TCP_INFO-like state of a live connection (cwnd, ssthresh, srtt, retransmissions, ...).
  std::optional<TcpInfo> Info(ConnId id) const;
  /// Turns Nagle off (true) or on for one connection.
  void SetNoDelay(ConnId id, bool nodelay);
  /// Attaches a value the application chooses (an index, a pointer) to a connection; every later event
  /// for it carries the value (Event::user_data), so the application needs no table of its own.
  void SetUserData(ConnId id, uint64_t value);
  /// Fills `out` with pending events, oldest first; returns how many. A connection that ends while events
  /// for it are queued keeps its record (counted against max_connections) until they are taken here.
  size_t PollEvents(absl::Span<Event> out);

  /// An mbuf from the engine's frame pool (standard headroom) for the application to fill and pass to
  /// Send; the caller owns it. Empty when the pool is exhausted.
  Mbuf AllocTxMbuf();
  /// Queues `data` (zero-copy: the mbufs themselves are transmitted; one segment or a chain). On kOk the
  /// stack owns `data` and `data` is left empty (a small one-segment write may be copied into the tail
  /// of the send queue and freed at once). On kWouldBlock and kNotConnected `data` is left untouched with
  /// the caller. An empty or zero-length `data` returns kOk and stays in the caller's handle.
  SendStatus Send(ConnId id, Mbuf&& data);
  /// Copying convenience: queues as many bytes of `data` as fit; returns how many (0 and a later
  /// kWritable when the buffer is full).
  size_t SendCopy(ConnId id, ConstBytes data);
  /// Hands all received data over as one mbuf chain, which the caller owns from now on (free it, or pass
  /// it to Send); empty when there is none, or for a stale or closed id.
  Mbuf Recv(ConnId id);
  /// Copying convenience: copies up to out.size() received bytes; returns how many.
  size_t RecvCopy(ConnId id, MutableBytes out);
  /// Bytes waiting to be read.
  uint32_t Readable(ConnId id) const;
  /// Closes our sending side after queued data (FIN); receiving continues.
  void Shutdown(ConnId id);
  /// Releases the connection: orderly close after queued data (RST if unread data remains). No new
  /// events are queued for `id`; events for it already returned by the same PollEvents batch are
  /// stale and should be skipped: Send, Recv, Shutdown, Abort, Close and the Set* calls with the id
  /// are refused from now on (the queries answer for the connection while it finishes).
  void Close(ConnId id);
  /// Resets the connection at once.
  void Abort(ConnId id);
  /// Resets the connection (RST; kClosed with kTimedOut) if it is still open `d` from now — e.g. a
  /// request-head or first-byte timeout. Replaces any earlier one; 0 clears it.
  void SetTimeout(ConnId id, Duration d);
  /// Resets the connection (RST; kClosed with kTimedOut) once no payload has been received or
  /// acknowledged for `d` (measured from now at the latest). 0 turns it off.
  void SetIdleTimeout(ConnId id, Duration d);
  /// The connection's TCP state, or CLOSED for a stale id.
  TcpState State(ConnId id) const;
  /// The peer of a live connection.
  std::optional<FlowKey> Flow(ConnId id) const;

  /// The memory the layer's tables take (sized at construction; constant afterwards).
  TcpLayerMemory Memory() const;
  /// The layer's counters (SYNs, cookies, overflows, events, memory pressure, bytes).
  const TcpLayerCounters& counters() const { return counters_; }
  /// The state machine's counters, summed over this engine's connections.
  const TcpCounters& tcp_counters() const { return tcp_counters_; }
  /// Connections in the flow table (any state but the compact TIME-WAIT entries).
  size_t connections() const { return flows_.size(); }
  /// Compact TIME-WAIT entries.
  size_t time_wait_entries() const { return tw_.size(); }
  /// The memory pressure level seen at the last check (every few hundred microseconds in Poll).
  MemoryPressure pressure() const { return pressure_; }
  /// Memory (mbuf truesize) the connection's queues pin: received data, then send data.
  std::pair<uint32_t, uint32_t> QueueMemory(ConnId id) const;
  /// LossState records in use (connections recovering from loss or holding out-of-order data).
  uint32_t loss_states_in_use() const { return loss_pool_.in_use(); }
  /// SYN-RECEIVED connections on this engine (all listeners).
  uint32_t half_open() const { return listeners_.half_open(); }
  /// Connections the application closed that are still finishing (see TcpLayerConfig::max_orphans).
  uint32_t orphans() const { return orphans_; }
  /// The time of the engine's current poll.
  Instant now() const { return now_; }

  // --- For monitoring (lib/core/telemetry.cc): read-only, on the engine's lcore like everything else. ---
  /// The configuration the layer was built with.
  const TcpLayerConfig& config() const { return config_; }
  /// The listeners with their SYN and accept queues (for monitoring).
  const ListenerTable& listeners() const { return listeners_; }
  /// The compact TIME-WAIT entries (for monitoring).
  const TimeWaitStore& time_wait() const { return tw_; }
  /// Calls f(key, info, send_queue_bytes, recv_queue_bytes) for live connections, lowest record first,
  /// looking at no more than `scan_limit` records; stops early when f returns false or every live one was
  /// seen.
  template <typename F>
  void ForEachConnection(uint32_t scan_limit, F&& f) const {
    const uint32_t end = std::min(scan_limit, sockets_.capacity());
    uint32_t left = sockets_.live();
    for (uint32_t i = 0; i < end && left > 0; ++i) {
      if (!sockets_.in_use(i)) continue;
      --left;
      const Socket& s = sockets_[i];
      if (!f(static_cast<const FlowKey&>(s.key), s.conn.Info(), s.snd_q.size(), s.rcv_q.size())) return;
    }
  }

 private:
  friend class Engine;            // sets the time of each poll
  friend class TcpLayerTestPeer;  // tests only (tests/tcp_layer_peer.h)

  void set_now(Instant now) { now_ = now; }
  // The protocol state of the connection with this 4-tuple, or null.
  const TcpConnection* FindConnection(const FlowKey& key) const;
  // The sum of the per-peer reference counts, which must equal connections() + time_wait_entries().
  uint64_t peer_refs_total() const { return peers_.Total(); }

  // Payloads up to this size are copied into the tail of a queue when it has room, instead of pinning
  // a buffer of their own.
  static constexpr uint32_t kCoalesceMax = 1024;

  struct Socket {
    explicit Socket(const TcpContext* ctx) : conn(ctx) {}
    // The key first, in the cache line where the connection starts: the flow index keeps no keys, so a
    // lookup reads this one. Then grouped by size (8, 4, 1 bytes) so that the record carries no padding
    // but 2 bytes at its end.
    FlowKey key;
    uint32_t listener = UINT32_MAX;  // passive connection not yet accepted: its listener
    TcpConnection conn;
    MbufChain snd_q;  // application data from SND.UNA on
    MbufQueue rcv_q;  // received, not yet read
    Instant connect_deadline = Instant::Never();
    uint64_t user_data = 0;                   // SetUserData
    Instant app_deadline = Instant::Never();  // SetTimeout
    Instant last_activity;                    // payload received or acknowledged (SetIdleTimeout)
    uint32_t idle_ms = 0;                     // SetIdleTimeout; 0: none
    bool app_owned = false;                   // the application knows this id (accepted or connected)
    bool app_closed = false;                  // Close() called: no more events
    bool orphan = false;                      // closed by the application, still finishing: counted in orphans_
    bool readable_pending = false;
    bool want_writable = false;
    bool writable_pending = false;  // a kWritable is queued (at most one at a time, as kReadable)
    // Entries in the event queue for this record (at most one of each EventType at a time: kReadable and
    // kWritable wait for PollEvents to take the last one, the others happen once): while any are, the
    // record is not reused, even after it is freed (ConnectionTable::Retire).
    uint8_t queued_events = 0;
  };

  // The flow index's key_of: a connection's 4-tuple is in its record (written before the index holds the
  // record's index, unchanged until it no longer does: AllocSocket, FreeSocket).
  struct SocketKey {
    const ConnectionTable<Socket>* sockets;
    const FlowKey& operator()(uint32_t index) const { return (*sockets)[index].key; }
  };
  using FlowIndex = FlowTable<SocketKey>;

  Socket* Find(ConnId id);
  const Socket* Find(ConnId id) const;
  ConnId IdOf(uint32_t index) const { return sockets_.IdOf(index); }
  uint32_t AllocSocket(const FlowKey& key);
  void FreeSocket(uint32_t index);
  void Deliver(uint32_t index, TcpOutput& out, Mbuf* frame, uint32_t payload_offset);
  void Transmit(const FlowKey& key, const OutSegment& seg, const MbufChain* snd_q);
  // A stateless reply (no payload) to the segment that arrived in `answered`, written into that buffer
  // when it can be (SegmentWriter::BuildInto). Takes `answered`.
  void TransmitReply(const FlowKey& key, const TcpSegment& seg, Mbuf&& answered);
  // Counts and hands `frame` (built for `seg`) to IPv4; an empty frame (no mbufs) is counted.
  void Send(const FlowKey& key, const OutSegment& seg, SegmentWriter::Frame&& frame);
  void Reschedule(uint32_t index);
  void PushEvent(uint32_t index, EventType type, TcpError error = TcpError::kNone);
  // `reopen_iss`: the SYN ended a TIME-WAIT of this 4-tuple; a new connection starts there.
  void InputListen(Instant now, Mbuf&& frame, const FlowKey& key, const TcpPacket& pkt, uint32_t listener,
                   uint32_t payload_offset, std::optional<SeqNum> reopen_iss);
  // The SYN path of a listener: limits, half-open bounds, then a half-open connection or a cookie.
  // Takes `frame`, the SYN's buffer, which a cookie SYN-ACK reuses.
  void InputListenSyn(Instant now, Mbuf&& frame, const FlowKey& key, const TcpSegment& syn, uint32_t listener,
                      std::optional<SeqNum> reopen_iss);
  void SendCookieSynAck(Instant now, const FlowKey& key, const TcpSegment& syn, Mbuf&& syn_frame);
  // An ACK at a listener that may answer one of our cookies: true if it opened a connection.
  bool InputCookieAck(Instant now, Mbuf& frame, const FlowKey& key, const TcpSegment& ack, uint32_t listener,
                      uint32_t payload_offset);
  // The one triage path behind TriageBurst and TriageBeforeParse: `n` frames, the first segment of frame
  // i being `first_segment(i)` (a ConstBytes). Defined and instantiated in tcp_layer.cc only.
  template <typename FirstSegment>
  void Triage(size_t n, const FirstSegment& first_segment, RxTriage* out);
  // Counts the shedder's verdict on a new SYN of an overloaded burst: shed, or processed after the rest.
  RxTriage CountTriage(ShedVerdict v);
  // Counts a SYN or cookie ACK that ListenerTable refused (nothing for kAccept and kCookie).
  void CountSynDrop(SynVerdict v);
  // A connection record for a passive open, counted in the listener's and the engine's half-open
  // numbers until Deliver sees it established or closed; UINT32_MAX (counted) when the table is full.
  uint32_t AllocHalfOpen(const FlowKey& key, uint32_t li);
  static void ApplyOptions(TcpConnection& c, const ConnOptions& o);
  // A passive connection left SYN-RECEIVED (established or died): it no longer counts as half-open.
  void LeaveSynQueue(Socket& s);
  // Out-of-order store of a socket: keep `m` (exactly the bytes at `seq`), join the stream, forget all.
  void OooInsert(Socket& s, Mbuf&& m, SeqNum seq);
  void OooInsertSegment(Socket& s, rte_mbuf* e, SeqNum seq);
  void OooJoin(Socket& s, SeqNum from, SeqNum to);
  void OooClear(Socket& s);
  // What keeping the `payload_len` bytes at `payload_offset` of `frame` in the connection's receive
  // queue would cost.
  RxMem RxMemFor(const Socket& s, const Mbuf& frame, uint32_t payload_offset, uint32_t payload_len, SeqNum seq) const;
  // Bytes a payload at `seq` could be copied onto the last kept out-of-order buffer (0: not contiguous).
  static uint16_t OooTailRoom(const Socket& s, SeqNum seq);
  // What the out-of-order payload a socket keeps pins (it lives in the connection's LossState).
  static uint32_t OooTruesize(const Socket& s) {
    const OooStore* o = s.conn.ooo_store();
    return o != nullptr ? o->truesize : 0;
  }
  uint32_t SndMemLimit() const;
  void UpdatePressure(Instant now);
  uint64_t PoolAvailable() const;
  // kExhausted: resets the connection (among a sample of the table) whose queues pin the most memory.
  void ResetMostExpensive(Instant now);
  bool ToTimeWait(uint32_t index);
  // Removes the TIME-WAIT entries whose 2*MSL has passed.
  void ExpireTimeWait(Instant now);
  // Ends `key`'s TIME-WAIT now (a SYN or an active open reuses the 4-tuple); its entry, or nullopt.
  std::optional<TimeWaitEntry> TakeTimeWait(const FlowKey& key);
  // An active open may take over this TIME-WAIT 4-tuple.
  bool TimeWaitReusable(const TimeWaitEntry& tw) const;

  TcpLayerConfig config_;
  NetStack& net_;
  rte_mempool* pool_;
  SegmentWriter writer_;
  TcpCounters tcp_counters_;
  ChallengeAckLimiter challenge_;
  LossStatePool loss_pool_;
  TcpContext ctx_;
  IsnGenerator isn_;
  SynCookieJar cookies_;
  Instant last_cookie_sent_ = Instant::Never();  // ACKs are checked as cookies only after one was sent
  uint32_t orphans_ = 0;
  PathMtuCache path_mtu_;  // learnt from ICMP (RFC 1191)
  MemoryPressure pressure_ = MemoryPressure::kNone;
  bool ring_pool_ = false;              // the frame pool is ring-backed (PoolAvailable reads the ring)
  uint32_t window_clamp_ = UINT32_MAX;  // what ctx_.window_clamp points at
  Instant next_pressure_check_;
  Instant next_pressure_reset_;
  uint32_t prune_cursor_ = 0;
  SynShedder shedder_;
  PeerFilter peers_;  // counts connections and TIME-WAIT entries per remote address
  TimerWheel wheel_;
  ConnectionTable<Socket> sockets_;  // the connection records, by ConnId
  FlowIndex flows_;                  // live connections by 4-tuple; keys read from sockets_
  TimeWaitStore tw_;
  ListenerTable listeners_;  // listeners, their SYN and accept queues, the SYN admission rules
  EventQueue events_;
  uint16_t next_ephemeral_;
  uint32_t next_local_ = 0;  // index of the local address Connect tries next
  // Connects towards saturated_remote_ since one last found a free port: every one of them took a
  // TIME-WAIT 4-tuple over (0: not saturated). See Connect.
  uint32_t saturated_connects_ = 0;
  Ipv4Addr saturated_remote_;
  TcpLayerCounters counters_;
  TcpOutput out_;                    // reused for every call: no allocation per segment
  PhaseProfile* profile_ = nullptr;  // the engine's, when it profiles (set by Engine)
  void Mark(Phase p) {
    if (profile_ != nullptr) profile_->Mark(p);
  }
  // Where a small payload split over mbuf segments is gathered before it is copied onto a kept buffer.
  uint8_t copy_buf_[kCoalesceMax] = {};
  Instant now_;
};

}  // namespace synack
