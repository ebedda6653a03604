// LogHistogram: every bucket edge from both sides (the largest duration of one bucket and the smallest
// of the next), negative and huge durations, sums, merging and the bucket-bound percentiles.
#include "lib/base/log_histogram.h"

#include <gtest/gtest.h>

namespace synack {
namespace {

Duration Us(int64_t us) { return Duration::Microseconds(us); }

TEST(LogHistogram, BucketZeroHoldsWhatIsUnderOneMicrosecond) {
  EXPECT_EQ(LogHistogram::BucketOf(Duration::Nanoseconds(0)), 0u);
  EXPECT_EQ(LogHistogram::BucketOf(Duration::Nanoseconds(999)), 0u);
  EXPECT_EQ(LogHistogram::BucketOf(Duration::Nanoseconds(1000)), 1u);
  EXPECT_EQ(LogHistogram::BucketOf(Duration::Nanoseconds(-5)), 0u) << "negative counts as 0";
  EXPECT_EQ(LogHistogram::BucketOf(Duration::Nanoseconds(INT64_MIN)), 0u);
  EXPECT_EQ(LogHistogram::LowerBoundUs(0), 0u);
  EXPECT_EQ(LogHistogram::UpperBoundUs(0), 1u);
}

TEST(LogHistogram, EveryEdgeOnBothSides) {
  // Bucket b >= 1 holds [2^(b-1), 2^b) µs: 2^b - 1 µs (and 2^b µs less a nanosecond) in b, 2^b µs in b + 1.
  for (uint32_t b = 1; b + 1 < LogHistogram::kBuckets; ++b) {
    const int64_t lo = int64_t{1} << (b - 1), hi = int64_t{1} << b;
    EXPECT_EQ(LogHistogram::BucketOf(Us(lo)), b) << b;
    EXPECT_EQ(LogHistogram::BucketOf(Us(hi - 1)), b) << b;
    EXPECT_EQ(LogHistogram::BucketOf(Us(hi) - Duration::Nanoseconds(1)), b) << b;
    EXPECT_EQ(LogHistogram::BucketOf(Us(hi)), b + 1) << b;
    EXPECT_EQ(LogHistogram::LowerBoundUs(b), static_cast<uint64_t>(lo)) << b;
    EXPECT_EQ(LogHistogram::UpperBoundUs(b), static_cast<uint64_t>(hi)) << b;
  }
}

TEST(LogHistogram, TheLastBucketIsOpen) {
  constexpr uint32_t kLast = LogHistogram::kBuckets - 1;
  const int64_t from = int64_t{1} << (kLast - 1);  // 2^38 µs, about 76 hours
  EXPECT_EQ(LogHistogram::BucketOf(Us(from - 1)), kLast - 1);
  EXPECT_EQ(LogHistogram::BucketOf(Us(from)), kLast);
  EXPECT_EQ(LogHistogram::BucketOf(Duration::Nanoseconds(INT64_MAX)), kLast);
  EXPECT_EQ(LogHistogram::UpperBoundUs(kLast), UINT64_MAX);
  EXPECT_EQ(LogHistogram::LowerBoundUs(kLast), static_cast<uint64_t>(from));
}

TEST(LogHistogram, AddCountsSumsAndMerges) {
  LogHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.QuantileUpperUs(0.5), 0u) << "empty";
  h.Add(Us(3));                  // bucket 2: [2, 4)
  h.Add(Us(3));                  // bucket 2
  h.Add(Us(100));                // bucket 7: [64, 128)
  h.Add(Duration::Seconds(60));  // bucket 26: [2^25, 2^26) µs
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.buckets[2], 2u);
  EXPECT_EQ(h.buckets[7], 1u);
  EXPECT_EQ(h.buckets[26], 1u);
  EXPECT_EQ(h.sum_us, 3u + 3u + 100u + 60'000'000u);
  EXPECT_EQ(h.QuantileUpperUs(0.5), 4u);
  EXPECT_EQ(h.QuantileUpperUs(0.51), 128u);
  EXPECT_EQ(h.QuantileUpperUs(0.75), 128u);
  EXPECT_EQ(h.QuantileUpperUs(0.99), uint64_t{1} << 26);
  EXPECT_EQ(h.QuantileUpperUs(1.0), uint64_t{1} << 26);

  LogHistogram g;
  g.Add(Duration::Nanoseconds(10));
  g.Add(Duration::Nanoseconds(INT64_MAX));  // the open bucket: its percentile is its lower bound
  g.Merge(h);
  EXPECT_EQ(g.count(), 6u);
  EXPECT_EQ(g.buckets[0], 1u);
  EXPECT_EQ(g.buckets[2], 2u);
  EXPECT_EQ(g.QuantileUpperUs(1.0), LogHistogram::LowerBoundUs(LogHistogram::kBuckets - 1));
  EXPECT_EQ(g.QuantileUpperUs(0.1), 1u);
}

}  // namespace
}  // namespace synack
