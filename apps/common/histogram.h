// LatencyHistogram: the latency distribution the client tools print (synack-cps connect latency and
// --pingpong round trips). Log-linear buckets, fixed size, no allocation when recording.
// Ownership and threading: a plain value owned by one application, recorded on its engine's lcore and
// read for the summary on the main thread after the run.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "lib/api/synack.h"

namespace synack::app {

// Exact below 128 ns, then 128 buckets per power of two (< 0.8% error) up to 2^36 ns (~69 s); larger
// values land in the last bucket.
class LatencyHistogram {
 public:
  void Record(Duration d) {
    const uint64_t ns = d.ns() <= 0 ? 0 : static_cast<uint64_t>(d.ns());
    ++counts_[Index(std::min<uint64_t>(ns, (uint64_t{1} << kMaxBits) - 1))];
    ++count_;
    max_ns_ = std::max(max_ns_, ns);
  }
  uint64_t count() const { return count_; }
  Duration max() const { return Duration::Nanoseconds(static_cast<int64_t>(max_ns_)); }
  // The value below which a fraction `q` of the samples lie (bucket midpoint).
  Duration Percentile(double q) const;

 private:
  static constexpr int kSubBits = 7;
  static constexpr int kMaxBits = 36;
  static constexpr size_t kBuckets = size_t{kMaxBits - kSubBits + 1} << kSubBits;
  static size_t Index(uint64_t ns) {
    if (ns < (uint64_t{1} << kSubBits)) return static_cast<size_t>(ns);
    const int shift = std::bit_width(ns) - 1 - kSubBits;
    return (static_cast<size_t>(shift + 1) << kSubBits) +
           static_cast<size_t>((ns >> shift) - (uint64_t{1} << kSubBits));
  }
  static uint64_t Lower(size_t i);
  static uint64_t Width(size_t i);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ns_ = 0;
};

}  // namespace synack::app
