// LogHistogram: durations counted in power-of-two microsecond buckets — what an engine keeps for the
// phases of its connections (lib/tcp/connection.h TcpPhases, the /synack/latency telemetry command).
//
// Bucket 0 holds durations under 1 µs; bucket b (1 <= b < kBuckets - 1) holds [2^(b-1), 2^b) µs; the
// last bucket holds everything from 2^(kBuckets-2) µs (about 76 hours) on. Negative durations count as
// 0. Add is a division by a constant, a bit_width, a min and two increments: no branch on the value
// beyond the clamp, no allocation. Percentiles are read as the upper bound of the bucket that holds
// them (a value at most twice the true one).
//
// A plain value (trivially copyable: it travels in the engines' telemetry snapshots through a Seqlock).
// Threading: one writer (the engine's lcore); copies may be read anywhere.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "lib/base/time.h"

namespace synack {

struct LogHistogram {
  /// Buckets in all: [0, 1) µs, then one per power of two up to 2^38 µs, then the open last one.
  static constexpr uint32_t kBuckets = 40;

  uint64_t buckets[kBuckets]{};  ///< counts by BucketOf
  uint64_t sum_us = 0;           ///< the durations added, in µs (for the mean)

  /// The bucket a duration falls in.
  static constexpr uint32_t BucketOf(Duration d) {
    const uint64_t us = d.ns() <= 0 ? 0 : static_cast<uint64_t>(d.ns()) / 1000;
    return std::min<uint32_t>(static_cast<uint32_t>(std::bit_width(us)), kBuckets - 1);
  }
  /// The exclusive upper bound of bucket `b` in µs (1 for bucket 0, 2^b for the others); the last bucket
  /// is open: UINT64_MAX.
  static constexpr uint64_t UpperBoundUs(uint32_t b) { return b >= kBuckets - 1 ? UINT64_MAX : uint64_t{1} << b; }
  /// The inclusive lower bound of bucket `b` in µs.
  static constexpr uint64_t LowerBoundUs(uint32_t b) {
    return b == 0 ? 0 : uint64_t{1} << (std::min(b, kBuckets - 1) - 1);
  }

  /// Counts one duration.
  void Add(Duration d) {
    ++buckets[BucketOf(d)];
    sum_us += d.ns() <= 0 ? 0 : static_cast<uint64_t>(d.ns()) / 1000;
  }
  /// Adds another histogram's counts (engines summed).
  void Merge(const LogHistogram& o) {
    for (uint32_t b = 0; b < kBuckets; ++b) buckets[b] += o.buckets[b];
    sum_us += o.sum_us;
  }
  /// Durations counted.
  uint64_t count() const {
    uint64_t n = 0;
    for (uint64_t c : buckets) n += c;
    return n;
  }
  /// The `q`-quantile (0 < q <= 1) as the upper bound of the bucket holding it, in µs: for the last,
  /// open bucket its lower bound; 0 when empty.
  uint64_t QuantileUpperUs(double q) const {
    const uint64_t n = count();
    if (n == 0) return 0;
    const uint64_t rank = std::clamp<uint64_t>(static_cast<uint64_t>(std::ceil(q * static_cast<double>(n))), 1, n);
    uint64_t seen = 0;
    for (uint32_t b = 0; b < kBuckets; ++b) {
      seen += buckets[b];
      if (seen >= rank) return b == kBuckets - 1 ? LowerBoundUs(b) : UpperBoundUs(b);
    }
    return LowerBoundUs(kBuckets - 1);
  }
};

}  // namespace synack
