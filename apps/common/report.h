// Report formatting shared by the client/server tools (synack-cps, synack-perf): durations and rates as
// their progress and summary lines print them, and the clock of the once-a-second progress lines.
// Ownership and threading: plain values and functions; a PerSecond belongs to one application and is
// ticked on its engine's lcore.
#pragma once

#include <cstdint>
#include <string>

#include "lib/api/synack.h"

namespace synack::app {

// "850 ns", "12.3 us", "4.56 ms", "1.23 s".
std::string FormatDuration(Duration d);

// Gbit/s of `bytes` over `d` (0 for an empty interval).
double Gbps(uint64_t bytes, Duration d);

// Whole seconds, for the "t=Ns" of progress lines.
long long WholeSeconds(Duration d);

// When the next progress line is due, and what a counter did since the last one. Lines are due a second
// apart; after a stall (a line printed late) the next is due a second after the late one, not at once.
class PerSecond {
 public:
  struct Interval {
    Duration elapsed;  // since the previous line (or Start)
    uint64_t delta;    // of the counter over that time
  };
  // The first line is due a second after `now`; the counter stands at `total`.
  void Start(Instant now, uint64_t total);
  bool Due(Instant now) const { return now >= next_; }
  // A line is printed at `now` with the counter at `total`.
  Interval Tick(Instant now, uint64_t total);

 private:
  Instant last_, next_;
  uint64_t total_ = 0;
};

}  // namespace synack::app
