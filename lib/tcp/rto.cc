#include "lib/tcp/rto.h"

#include <algorithm>

namespace synack {

RtoEstimator::RtoEstimator(const RtoConfig& config) : rto_(ToUnits(config.initial.ns())) {}

void RtoEstimator::OnRttSample(Duration r, const RtoConfig& config) {
  // In 64 bits: the sums below cannot overflow, and each result is at most the larger of its inputs.
  const int64_t r_u = ToUnits(r.ns());
  if (!has_sample_) {
    // RFC 6298 2.2.
    srtt_ = static_cast<uint32_t>(r_u);
    rttvar_ = static_cast<uint32_t>(r_u / 2);
    has_sample_ = true;
  } else {
    // RFC 6298 2.3, with alpha = 1/8 and beta = 1/4; RTTVAR uses the SRTT from before this sample.
    const int64_t srtt = srtt_;
    const int64_t err = srtt > r_u ? srtt - r_u : r_u - srtt;
    rttvar_ = static_cast<uint32_t>((3 * int64_t{rttvar_} + err) / 4);
    srtt_ = static_cast<uint32_t>((7 * srtt + r_u) / 8);
  }
  // RFC 6298 2.3-2.5; the freshly computed RTO also ends any backoff.
  const int64_t max_u = ToUnits(config.max.ns());
  const int64_t min_u = std::min<int64_t>(ToUnits(config.min.ns()), max_u);
  const int64_t g_u = ToUnits(config.clock_granularity.ns());
  rto_ = static_cast<uint32_t>(std::clamp(int64_t{srtt_} + std::max(g_u, 4 * int64_t{rttvar_}), min_u, max_u));
  backoffs_ = 0;
}

void RtoEstimator::Backoff(const RtoConfig& config) {
  const int64_t max_u = ToUnits(config.max.ns());
  rto_ = static_cast<uint32_t>(std::min(2 * int64_t{rto_}, max_u));
  if (backoffs_ < UINT16_MAX) ++backoffs_;
}

}  // namespace synack
