// The engine's clock: TSC cycles converted to an Instant. Only engines (and apps' main loops) read it;
// protocol code receives `now` as an argument. Any core (the TSC is invariant on supported CPUs).
// Engines read it once per poll, so the conversion is a multiply and a shift (a 128-bit division,
// which the compiler leaves to a library call, cost ~3% of a busy loopback engine).
#pragma once

#include <cstdint>

#include <rte_cycles.h>

#include "lib/base/time.h"

namespace synack {

class TscClock {
 public:
  TscClock() : TscClock(rte_get_tsc_hz(), rte_get_tsc_cycles()) {}
  TscClock(uint64_t hz, uint64_t start) : mult_(NsPerCycleFixed(hz)), start_(start) {}

  Instant Now() const { return Instant::FromNanoseconds(CyclesToNs(rte_get_tsc_cycles() - start_, mult_)); }

  // Nanoseconds per cycle in 32.32 fixed point (hz >= 1), rounded to nearest: a conversion is off by at
  // most cycles / 2^33 ns plus one for the truncation (0.42 µs per hour per GHz of TSC frequency). The
  // error grows with the time since `start`, the same way for every clock.
  static uint64_t NsPerCycleFixed(uint64_t hz) {
    return static_cast<uint64_t>(((static_cast<unsigned __int128>(1000000000u) << 32) + hz / 2) / hz);
  }
  static int64_t CyclesToNs(uint64_t cycles, uint64_t mult) {
    return static_cast<int64_t>((static_cast<unsigned __int128>(cycles) * mult) >> 32);
  }

 private:
  uint64_t mult_;
  uint64_t start_;
};

}  // namespace synack
