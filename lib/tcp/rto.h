// RtoEstimator: the RFC 6298 retransmission timeout of one connection (SRTT, RTTVAR, RTO and exponential
// backoff). Pure integer arithmetic; time never read, nothing allocated. One per connection, kept small
// (16 bytes: the three values as 32-bit counts of 1/8 microsecond, which holds up to kLongest, ~536 s;
// the bounds come from the engine's RtoConfig, passed to each call that needs them); owned by the
// connection, so only its engine's core may call it.
//
// Karn's rule (RFC 6298 section 3) is the caller's job: never call OnRttSample for an acknowledgement that
// covers a retransmitted segment, unless the timestamps option (RFC 7323) says which transmission it answers.
// Likewise the caller re-arms its timer with rto() after Backoff() (RFC 6298 5.5-5.6) and applies the 3-second
// fallback of RFC 6298 5.7 if the SYN or SYN-ACK was lost.
#pragma once

#include <cstdint>

#include "lib/base/time.h"

namespace synack {

struct RtoConfig {
  Duration initial = Duration::Seconds(1);                 // RFC 6298 2.1, before any sample
  Duration min = Duration::Milliseconds(200);              // lower clamp (the RFC's 1 s, relaxed as Linux does)
  Duration max = Duration::Seconds(120);                   // upper clamp (RFC 6298 2.5 allows >= 60 s);
                                                           // a min above it yields max
  Duration clock_granularity = Duration::Milliseconds(1);  // G in RFC 6298 2.2-2.3
};

class RtoEstimator {
 public:
  // Starts with RTO = config.initial (not clamped) and no sample.
  explicit RtoEstimator(const RtoConfig& config);

  // Folds in one round-trip measurement `r` (negative values count as zero) and recomputes the RTO; this also
  // clears any backoff. First sample (RFC 6298 2.2): SRTT = R, RTTVAR = R/2. Later ones (2.3), RTTVAR first:
  // RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|, then SRTT = 7/8 SRTT + 1/8 R. Then
  // RTO = SRTT + max(G, 4 RTTVAR), clamped to [min, max] — G, min and max from `config`.
  void OnRttSample(Duration r, const RtoConfig& config);

  // The retransmission timer expired (RFC 6298 5.5): doubles the current RTO, capped at config.max.
  void Backoff(const RtoConfig& config);
  // RFC 6298 5.7: after a lost SYN or SYN-ACK and with no sample yet, data starts with this RTO (3 s).
  void Restart(Duration rto) {
    rto_ = ToUnits(rto.ns());
    backoffs_ = 0;
  }

  // The current timeout, including any backoff.
  Duration rto() const { return FromUnits(rto_); }
  // Zero until has_sample().
  Duration srtt() const { return FromUnits(srtt_); }
  Duration rttvar() const { return FromUnits(rttvar_); }
  bool has_sample() const { return has_sample_; }
  // Backoff() calls since the last sample (or construction), including those already capped at max
  // (saturates at 65535).
  int backoffs() const { return backoffs_; }

  // The resolution and the range of every value: samples, RTT estimates, configured bounds and the RTO
  // are held to [0, kLongest] (RFC 6298 2.5 only asks that a maximum be at least 60 s).
  static constexpr int64_t kUnitNs = 125;
  static constexpr Duration kLongest = Duration::Nanoseconds(int64_t{UINT32_MAX} * kUnitNs);

 private:
  static uint32_t ToUnits(int64_t ns) {
    return ns <= 0 ? 0 : ns >= kLongest.ns() ? UINT32_MAX : static_cast<uint32_t>(ns / kUnitNs);
  }
  static Duration FromUnits(uint32_t u) { return Duration::Nanoseconds(int64_t{u} * kUnitNs); }

  uint32_t srtt_ = 0;  // in kUnitNs
  uint32_t rttvar_ = 0;
  uint32_t rto_ = 0;
  uint16_t backoffs_ = 0;
  bool has_sample_ = false;
};
static_assert(sizeof(RtoEstimator) == 16);

}  // namespace synack
