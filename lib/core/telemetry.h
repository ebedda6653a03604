// EngineTelemetry: what an engine shows to monitoring threads (DPDK's telemetry thread, lib/api/telemetry.h)
// while it runs — a snapshot of its counters (with the connection phase histograms, TcpCounters::phases),
// listeners, a bounded listing of its connections and its TIME-WAIT ages, published every `every` (100 ms) of the
// engine's own clock from its housekeeping (the part of Engine::PollOnce that runs every poll_interval, never per
// packet).
//
// Design: a seqlock per engine (lib/base/seqlock.h). The engine fills a private scratch snapshot from its
// own structures on its own lcore (FillEngineSnapshot), then copies it into the seqlock; readers copy the
// latest published snapshot out and never touch the engine's tables or its plain counters. Publishing
// costs one scan of at most kTelemetryScanSlots connection records, a sample of at most
// kTelemetryTimeWaitSamples TIME-WAIT entries and two copies of sizeof(EngineSnapshot) (~8 KiB): no
// allocation, no lock, and the engine never waits for a reader.
//
// Ownership and threading: the Engine owns its EngineTelemetry. Due, scratch and Publish are called on the
// engine's lcore only; Read and publishes() from any thread for as long as the engine exists (the reader
// must know that it does: lib/api/telemetry.cc holds its registry lock around every read, and a Stack
// leaves the registry before its engines are destroyed).
#pragma once

#include <cstdint>
#include <memory>

#include "lib/base/seqlock.h"
#include "lib/base/time.h"
#include "lib/core/flow.h"
#include "lib/core/tcp_layer.h"
#include "lib/dev/impairment.h"
#include "lib/net/counters.h"
#include "lib/tcp/connection.h"

namespace synack {

class Engine;

/// Listeners in a snapshot (the rest are counted in EngineSnapshot::listeners_total).
inline constexpr uint32_t kTelemetryMaxListeners = 64;
/// Connections listed in a snapshot (the rest are counted in EngineSnapshot::conns_total).
inline constexpr uint32_t kTelemetryMaxConns = 64;
/// Connection records looked at per publish, at most: a table of a million records is not scanned every
/// 100 ms; records are handed out lowest index first, so live ones sit low in the table.
inline constexpr uint32_t kTelemetryScanSlots = 4096;
/// TIME-WAIT entries looked at per publish, at most; beyond that the age histogram is a sample scaled to
/// the entry count (TimeWaitAges::sampled).
inline constexpr uint32_t kTelemetryTimeWaitSamples = 4096;
/// The upper bounds (exclusive) of the TIME-WAIT age buckets, in milliseconds; the last bucket is open.
inline constexpr uint32_t kTimeWaitAgeBoundsMs[] = {1000, 2000, 5000, 10000, 20000, 30000, 60000};
inline constexpr uint32_t kTimeWaitAgeBuckets = sizeof(kTimeWaitAgeBoundsMs) / sizeof(kTimeWaitAgeBoundsMs[0]) + 1;

/// One listener: its queues, their bounds and what its SYNs got.
struct ListenerSnapshot {
  uint16_t port = 0;
  uint32_t syn_queue = 0;  ///< half-open (SYN-RECEIVED) connections
  uint32_t syn_backlog = 0;
  uint32_t accept_queue = 0;  ///< accepted connections the application has not seen
  uint32_t accept_backlog = 0;
  ListenerStats stats;
};

/// One connection, as `ss -ti` shows it.
struct ConnSnapshot {
  FlowKey key;
  TcpState state = TcpState::kClosed;
  uint32_t send_queue = 0;  ///< bytes from SND.UNA on (sent and unacknowledged, or not yet sent)
  uint32_t recv_queue = 0;  ///< bytes received and not yet read
  uint32_t cwnd = 0;        ///< bytes
  uint32_t flight = 0;      ///< bytes
  uint32_t rto_us = 0;
  uint32_t srtt_us = 0;
};

/// TIME-WAIT entries by age (time since they entered TIME-WAIT).
struct TimeWaitAges {
  uint64_t count = 0;                       ///< entries in all
  uint64_t buckets[kTimeWaitAgeBuckets]{};  ///< by kTimeWaitAgeBoundsMs; sums to `count`
  uint64_t oldest_ms = 0;                   ///< age of the oldest entry seen
  bool sampled = false;                     ///< more than kTelemetryTimeWaitSamples entries: scaled
};

/// Everything one publish shows: trivially copyable (it goes through a Seqlock).
struct EngineSnapshot {
  uint64_t publishes = 0;  ///< 1 for the first snapshot; 0: none published yet
  int64_t at_ns = 0;       ///< the engine's clock when it was taken
  NetCounters net;
  TcpLayerCounters layer;
  TcpCounters tcp;
  bool tx_impaired = false;
  bool rx_impaired = false;
  ImpairCounters tx_impair;
  ImpairCounters rx_impair;
  uint64_t frames_in_use = 0;  ///< the frame pool's mbufs in use
  uint64_t connections = 0;
  uint64_t time_wait = 0;
  uint64_t orphans = 0;
  uint64_t half_open = 0;
  uint64_t loss_states = 0;
  MemoryPressure pressure = MemoryPressure::kNone;
  uint32_t listeners_total = 0;
  uint32_t listeners_count = 0;  ///< entries of `listeners` filled
  ListenerSnapshot listeners[kTelemetryMaxListeners];
  uint32_t conns_count = 0;      ///< entries of `conns` filled
  bool conns_truncated = false;  ///< connections > conns_count
  ConnSnapshot conns[kTelemetryMaxConns];
  TimeWaitAges time_wait_ages;
};

/// Fills `*s` from `engine` as of `now` (everything but `publishes`). On the engine's lcore.
void FillEngineSnapshot(const Engine& engine, Instant now, EngineSnapshot* s);

/// The bucket of kTimeWaitAgeBoundsMs an age in milliseconds falls in.
uint32_t TimeWaitAgeBucket(uint64_t age_ms);

class EngineTelemetry {
 public:
  explicit EngineTelemetry(Duration every = Duration::Milliseconds(100))
      : every_(every),
        scratch_(std::make_unique<EngineSnapshot>()),
        published_(std::make_unique<Seqlock<EngineSnapshot>>()) {}

  /// Whether a snapshot is due at `now`. Engine's lcore.
  bool Due(Instant now) const { return now >= next_; }
  /// Where the engine builds the next snapshot. Engine's lcore.
  EngineSnapshot& scratch() { return *scratch_; }
  /// Publishes scratch() (stamping its publish count) and schedules the next one `every` from `now`.
  /// Engine's lcore.
  void Publish(Instant now) {
    scratch_->publishes = published_->writes() + 1;
    published_->Write(*scratch_);
    next_ = now + every_;
  }
  /// Copies the latest published snapshot into `*out` (publishes == 0: none yet). Any thread; false only
  /// if writes kept overlapping the copy (it retries for a while first).
  bool Read(EngineSnapshot* out) const { return published_->Read(out, 1u << 20); }
  /// Snapshots published so far. Any thread.
  uint32_t publishes() const { return published_->writes(); }

 private:
  Duration every_;
  Instant next_;
  std::unique_ptr<EngineSnapshot> scratch_;
  std::unique_ptr<Seqlock<EngineSnapshot>> published_;
};

}  // namespace synack
