#include "lib/tcp/rto.h"

#include <algorithm>

namespace synack {

RtoEstimator::RtoEstimator(const RtoConfig& config) : rto_ns_(config.initial.ns()) {}

void RtoEstimator::OnRttSample(Duration r, const RtoConfig& config) {
  const int64_t r_ns = std::max<int64_t>(r.ns(), 0);
  if (!has_sample_) {
    // RFC 6298 2.2.
    srtt_ns_ = r_ns;
    rttvar_ns_ = r_ns / 2;
    has_sample_ = true;
  } else {
    // RFC 6298 2.3, with alpha = 1/8 and beta = 1/4; RTTVAR uses the SRTT from before this sample.
    const int64_t err = srtt_ns_ > r_ns ? srtt_ns_ - r_ns : r_ns - srtt_ns_;
    rttvar_ns_ = (3 * rttvar_ns_ + err) / 4;
    srtt_ns_ = (7 * srtt_ns_ + r_ns) / 8;
  }
  // RFC 6298 2.3-2.5; the freshly computed RTO also ends any backoff.
  const int64_t max_ns = config.max.ns();
  const int64_t min_ns = std::min(config.min.ns(), max_ns);
  rto_ns_ = std::clamp(srtt_ns_ + std::max(config.clock_granularity.ns(), 4 * rttvar_ns_), min_ns, max_ns);
  backoffs_ = 0;
}

void RtoEstimator::Backoff(const RtoConfig& config) {
  // Written so the doubling cannot overflow whatever max is.
  const int64_t max_ns = config.max.ns();
  rto_ns_ = rto_ns_ > max_ns / 2 ? max_ns : rto_ns_ * 2;
  ++backoffs_;
}

}  // namespace synack
