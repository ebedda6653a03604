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

// The "t=..." of a progress line: whole seconds ("3") when `period` is whole seconds, else tenths ("1.5").
std::string ProgressTime(Duration since_start, Duration period);

// When the next progress line is due, and what a counter did since the last one. Lines are due `period`
// (--interval, default a second) apart; after a stall (a line printed late) the next is due a period after
// the late one, not at once.
class PerSecond {
 public:
  struct Interval {
    Duration elapsed;  // since the previous line (or Start)
    uint64_t delta;    // of the counter over that time
  };
  // The first line is due `period` after `now`; the counter stands at `total`.
  void Start(Instant now, uint64_t total, Duration period = Duration::Seconds(1));
  Duration period() const { return period_; }
  bool Due(Instant now) const { return now >= next_; }
  // Time has passed since the last line (a final, partial interval is left to report).
  bool Pending(Instant now) const { return now > last_; }
  // A line is printed at `now` with the counter at `total`.
  Interval Tick(Instant now, uint64_t total);

 private:
  Instant last_, next_;
  Duration period_ = Duration::Seconds(1);
  uint64_t total_ = 0;
};

}  // namespace synack::app
