// The engine's clock: TSC cycles converted to an Instant. Only engines (and apps' main loops) read it;
// protocol code receives `now` as an argument. Any core (the TSC is invariant on supported CPUs).
#pragma once

#include <rte_cycles.h>

#include "lib/base/time.h"

namespace synack {

class TscClock {
 public:
  TscClock() : hz_(rte_get_tsc_hz()), start_(rte_get_tsc_cycles()) {}
  Instant Now() const {
    const unsigned __int128 cycles = rte_get_tsc_cycles() - start_;
    return Instant::FromNanoseconds(static_cast<int64_t>(cycles * 1000000000u / hz_));
  }

 private:
  uint64_t hz_;
  uint64_t start_;
};

}  // namespace synack
