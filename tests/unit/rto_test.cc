// RtoEstimator: RFC 6298 SRTT/RTTVAR/RTO arithmetic with exact numbers, the min/max clamps and exponential
// backoff.
#include <gtest/gtest.h>

#include "lib/tcp/rto.h"

namespace synack {
namespace {

Duration Ms(int64_t ms) { return Duration::Milliseconds(ms); }
Duration Us(int64_t us) { return Duration::Microseconds(us); }

TEST(RtoTest, InitialRtoIsOneSecondWithNoSample) {
  const RtoConfig config{};
  const RtoEstimator e{config};
  EXPECT_EQ(e.rto(), Duration::Seconds(1));
  EXPECT_FALSE(e.has_sample());
  EXPECT_EQ(e.srtt(), Duration());
  EXPECT_EQ(e.rttvar(), Duration());
  EXPECT_EQ(e.backoffs(), 0);
}

TEST(RtoTest, FirstSampleSetsSrttAndHalfRttvar) {
  const RtoConfig config{};
  RtoEstimator e{config};
  e.OnRttSample(Ms(100), config);
  EXPECT_TRUE(e.has_sample());
  EXPECT_EQ(e.srtt(), Ms(100));
  EXPECT_EQ(e.rttvar(), Ms(50));
  EXPECT_EQ(e.rto(), Ms(300));  // max(200 ms, 100 + max(1, 4 * 50))
}

TEST(RtoTest, LaterSamplesUpdateRttvarBeforeSrtt) {
  const RtoConfig config{};
  RtoEstimator e{config};
  e.OnRttSample(Ms(100), config);
  // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5;
  // RTO = 112.5 + 4 * 62.5 = 362.5 ms. (Updating SRTT first would give RTTVAR = 59.375.)
  e.OnRttSample(Ms(200), config);
  EXPECT_EQ(e.rttvar(), Us(62500));
  EXPECT_EQ(e.srtt(), Us(112500));
  EXPECT_EQ(e.rto(), Us(362500));
  // RTTVAR = 3/4 * 62.5 + 1/4 * |112.5 - 50| = 62.5; SRTT = 7/8 * 112.5 + 1/8 * 50 = 104.6875;
  // RTO = 104.6875 + 250 = 354.6875 ms.
  e.OnRttSample(Ms(50), config);
  EXPECT_EQ(e.rttvar(), Us(62500));
  EXPECT_EQ(e.srtt(), Duration::Nanoseconds(104687500));
  EXPECT_EQ(e.rto(), Duration::Nanoseconds(354687500));
}

TEST(RtoTest, ClockGranularityFloorsTheVarianceTerm) {
  const RtoConfig config{.min = Duration()};
  RtoEstimator e{config};
  e.OnRttSample(Ms(10), config);
  e.OnRttSample(Ms(10), config);
  e.OnRttSample(Ms(10), config);
  // RTTVAR: 5 -> 3.75 -> 2.8125 ms, so 4 * RTTVAR = 11.25 ms still beats G = 1 ms.
  EXPECT_EQ(e.rto(), Duration::Nanoseconds(21250000));
  const RtoConfig g_config{.min = Duration(), .clock_granularity = Ms(50)};
  RtoEstimator g{g_config};
  g.OnRttSample(Ms(10), g_config);
  EXPECT_EQ(g.rto(), Ms(60));  // 10 + max(50, 20)
}

TEST(RtoTest, ClampsToMin) {
  const RtoConfig config{};
  RtoEstimator e{config};
  e.OnRttSample(Ms(1), config);  // 1 + max(1, 2) = 3 ms
  EXPECT_EQ(e.rto(), Ms(200));
  const RtoConfig zero_config{};
  RtoEstimator zero{zero_config};
  zero.OnRttSample(Duration(), zero_config);  // 0 + max(G, 0) = 1 ms
  EXPECT_TRUE(zero.has_sample());
  EXPECT_EQ(zero.rto(), Ms(200));
  const RtoConfig negative_config{};
  RtoEstimator negative{negative_config};
  negative.OnRttSample(Ms(-5), negative_config);  // counts as zero
  EXPECT_EQ(negative.srtt(), Duration());
  EXPECT_EQ(negative.rto(), Ms(200));
}

TEST(RtoTest, ClampsToMax) {
  const RtoConfig config{};
  RtoEstimator e{config};
  e.OnRttSample(Duration::Seconds(100), config);  // 100 + 200 = 300 s
  EXPECT_EQ(e.srtt(), Duration::Seconds(100));
  EXPECT_EQ(e.rto(), Duration::Seconds(120));
}

TEST(RtoTest, BackoffDoublesUpToMax) {
  const RtoConfig config{};
  RtoEstimator e{config};
  const int64_t expected_s[] = {2, 4, 8, 16, 32, 64, 120, 120, 120};
  int n = 0;
  for (int64_t s : expected_s) {
    e.Backoff(config);
    EXPECT_EQ(e.rto(), Duration::Seconds(s)) << "after backoff " << n + 1;
    EXPECT_EQ(e.backoffs(), ++n);
  }
}

TEST(RtoTest, BackoffWithAMaxBeyondTheRangeStopsAtTheLongest) {
  const RtoConfig config{.max = Duration::Nanoseconds(INT64_MAX)};
  RtoEstimator e{config};
  for (int i = 0; i < 80; ++i) e.Backoff(config);
  EXPECT_EQ(e.rto(), RtoEstimator::kLongest);
  EXPECT_EQ(e.backoffs(), 80);
  EXPECT_GE(RtoEstimator::kLongest, Duration::Seconds(536));  // well above RFC 6298's 60 s
}

// Values are kept in 1/8 microsecond: a sample is rounded down to that, and anything past kLongest is
// kLongest (on each side of both edges).
TEST(RtoTest, SamplesAreHeldToTheResolutionAndTheRange) {
  const RtoConfig config{.min = Duration(), .max = Duration::Nanoseconds(INT64_MAX)};
  const Duration unit = Duration::Nanoseconds(RtoEstimator::kUnitNs);
  RtoEstimator below{config};
  below.OnRttSample(unit - Duration::Nanoseconds(1), config);
  EXPECT_EQ(below.srtt(), Duration());
  RtoEstimator at{config};
  at.OnRttSample(unit, config);
  EXPECT_EQ(at.srtt(), unit);
  RtoEstimator longest{config};
  longest.OnRttSample(RtoEstimator::kLongest - Duration::Nanoseconds(1), config);
  EXPECT_EQ(longest.srtt(), RtoEstimator::kLongest - unit);
  EXPECT_EQ(longest.rto(), RtoEstimator::kLongest);  // SRTT + 4 RTTVAR, held to the range
  RtoEstimator beyond{config};
  beyond.OnRttSample(Duration::Seconds(100000), config);
  EXPECT_EQ(beyond.srtt(), RtoEstimator::kLongest);
  beyond.OnRttSample(Duration::Seconds(100000), config);  // the second sample's sums do not wrap
  EXPECT_EQ(beyond.srtt(), RtoEstimator::kLongest);
  // RTTVAR: (2^32 - 1) / 2 units, then 3/4 of that (|SRTT - R| = 0).
  EXPECT_EQ(beyond.rttvar(), unit * (int64_t{UINT32_MAX / 2} * 3 / 4));
}

TEST(RtoTest, SampleAfterBackoffResetsIt) {
  const RtoConfig config{};
  RtoEstimator e{config};
  e.OnRttSample(Ms(100), config);
  e.Backoff(config);
  e.Backoff(config);
  EXPECT_EQ(e.rto(), Ms(1200));
  EXPECT_EQ(e.backoffs(), 2);
  // RTTVAR = 3/4 * 50 + 0 = 37.5; SRTT = 100; RTO = 100 + 150 = 250 ms.
  e.OnRttSample(Ms(100), config);
  EXPECT_EQ(e.backoffs(), 0);
  EXPECT_EQ(e.rttvar(), Us(37500));
  EXPECT_EQ(e.rto(), Ms(250));
}

// The bounds live in the engine's RtoConfig, not in every connection.
TEST(RtoTest, StaysSmall) { EXPECT_EQ(sizeof(RtoEstimator), 16u); }

}  // namespace
}  // namespace synack
