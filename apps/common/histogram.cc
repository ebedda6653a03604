#include "apps/common/histogram.h"

#include <cmath>

namespace synack::app {

Duration LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return Duration();
  const uint64_t target = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= target) {
      const uint64_t mid = Lower(i) + Width(i) / 2;
      return Duration::Nanoseconds(static_cast<int64_t>(std::min(mid, max_ns_)));
    }
  }
  return max();
}

uint64_t LatencyHistogram::Lower(size_t i) {
  const size_t block = i >> kSubBits;
  if (block == 0) return i;
  return ((i & ((size_t{1} << kSubBits) - 1)) + (uint64_t{1} << kSubBits)) << (block - 1);
}

uint64_t LatencyHistogram::Width(size_t i) {
  const size_t block = i >> kSubBits;
  return block == 0 ? 1 : uint64_t{1} << (block - 1);
}

}  // namespace synack::app
