// PhaseProfile: where an engine's cycles go, by phase of its poll loop — sampled TSC laps, cheap enough
// to leave on in a benchmark (`--profile` on synack-cps and synack-perf).
//
// A lap model: Mark(p) charges the cycles since the previous mark to phase p, so the marks placed along
// the path (end of the RX burst, after the TCP parse, after the lookups, after the state machine, after
// delivery and transmit building, after the timers, after the TX burst) split the loop without nesting.
// The time between two polls (the application's event handling) is charged to kApp by the next poll's
// first mark. Only one poll in `every` is measured (the others pay one branch per mark); a measured poll
// that received nothing is charged as a whole to kIdle, so busy phases are not diluted by empty polls.
//
// Owned by one engine (its TcpLayer marks through a pointer); only that engine's core may call it. The
// totals are plain integers: read them after the engine stopped, or accept a torn read.
#pragma once

#include <array>
#include <cstdint>

#include <rte_cycles.h>

namespace synack {

enum class Phase : uint8_t {
  kApp,      ///< between polls: events handed to the application, its sends and receives
  kRxBurst,  ///< rte_eth_rx_burst, dispatch rings, impairment
  kParse,    ///< Ethernet, IPv4, TCP parsing and checksums; software dispatch
  kLookup,   ///< peer filter, connection table, TIME-WAIT store, listener
  kTcp,      ///< the state machine (connections, listeners, cookies, TIME-WAIT)
  kDeliver,  ///< receive/send queues, events, and building the segments it answers with
  kTimers,   ///< timer wheel, TIME-WAIT expiry, ARP
  kTxBurst,  ///< rte_eth_tx_burst (and the impaired link)
  kIdle,     ///< measured polls that received nothing
  kCount,
};
const char* PhaseName(Phase p);

class PhaseProfile {
 public:
  static constexpr size_t kPhases = static_cast<size_t>(Phase::kCount);

  /// Measures one poll in `every` (0: off).
  void Enable(uint32_t every) { every_ = every; }
  bool enabled() const { return every_ != 0; }

  /// Called at the start of every poll.
  void BeginPoll() {
    if (every_ == 0) return;
    active_ = next_active_;
    if (!active_) return;
    for (uint64_t& c : poll_) c = 0;
    Mark(Phase::kApp);
  }
  /// Charges the cycles since the previous mark to `p` (no-op in an unmeasured poll).
  void Mark(Phase p) {
    if (!active_) return;
    const uint64_t now = rte_rdtsc();
    poll_[static_cast<size_t>(p)] += now - last_;
    last_ = now;
  }
  /// Called at the end of every poll with the frames it received.
  void EndPoll(uint32_t frames) {
    if (every_ == 0) return;
    if (active_) {
      ++polls_;
      frames_ += frames;
      if (frames == 0) {
        uint64_t all = 0;
        for (size_t i = 0; i < kPhases; ++i) {
          if (i != static_cast<size_t>(Phase::kApp)) all += poll_[i];
        }
        cycles_[static_cast<size_t>(Phase::kApp)] += poll_[static_cast<size_t>(Phase::kApp)];
        cycles_[static_cast<size_t>(Phase::kIdle)] += all;
      } else {
        for (size_t i = 0; i < kPhases; ++i) cycles_[i] += poll_[i];
      }
      active_ = false;
    }
    next_active_ = ++count_ % every_ == 0;
    if (next_active_) last_ = rte_rdtsc();  // the next poll's kApp lap starts here
  }

  uint64_t cycles(Phase p) const { return cycles_[static_cast<size_t>(p)]; }
  uint64_t total_cycles() const {
    uint64_t n = 0;
    for (uint64_t c : cycles_) n += c;
    return n;
  }
  uint64_t polls() const { return polls_; }    ///< measured polls
  uint64_t frames() const { return frames_; }  ///< frames received in measured polls
  uint32_t every() const { return every_; }

 private:
  uint32_t every_ = 0;
  uint64_t count_ = 0;
  bool active_ = false;
  bool next_active_ = false;
  uint64_t last_ = 0;
  std::array<uint64_t, kPhases> poll_{};
  std::array<uint64_t, kPhases> cycles_{};
  uint64_t polls_ = 0;
  uint64_t frames_ = 0;
};

}  // namespace synack
