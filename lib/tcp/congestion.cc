#include "lib/tcp/congestion.h"

#include <algorithm>
#include <cmath>

namespace synack {
namespace {

// RFC 3465: during slow start, at most L = 2 SMSS of growth per ACK.
void SlowStart(CcWindow& w, uint32_t acked, uint32_t mss) {
  const uint64_t grown = uint64_t{w.cwnd} + std::min<uint32_t>(acked, 2 * mss);
  w.cwnd = static_cast<uint32_t>(std::min<uint64_t>(grown, UINT32_MAX / 2));
}

}  // namespace

const char* CongestionAlgorithmName(CongestionAlgorithm a) {
  switch (a) {
    case CongestionAlgorithm::kNewReno:
      return "newreno";
    case CongestionAlgorithm::kCubic:
      return "cubic";
  }
  return "?";
}

uint32_t InitialWindow(uint32_t mss, uint32_t segments) {
  if (segments != 10) return std::max<uint32_t>(segments, 1) * mss;
  return std::min(10 * mss, std::max(2 * mss, 14600u));
}

void NewReno::OnAck(CcWindow& w, uint32_t acked, uint32_t mss, Instant, Duration) {
  if (w.in_slow_start()) {
    SlowStart(w, acked, mss);
    return;
  }
  // RFC 5681 3.1 by byte counting: one SMSS per window of bytes acknowledged.
  w.bytes_acked += acked;
  if (w.bytes_acked >= w.cwnd) {
    w.bytes_acked -= w.cwnd;
    w.cwnd += mss;
  }
}

void NewReno::OnCongestion(CcWindow& w, uint32_t flight, uint32_t mss, Instant) {
  w.ssthresh = std::max(flight / 2, 2 * mss);  // RFC 5681 (4)
  w.bytes_acked = 0;
}

void Cubic::OnCongestion(CcWindow& w, uint32_t flight, uint32_t mss, Instant) {
  const double cwnd = static_cast<double>(w.cwnd) / mss;
  // Fast convergence (RFC 9438 4.7): a flow whose window keeps shrinking yields bandwidth sooner.
  if (cwnd < w_last_max_) {
    w_last_max_ = static_cast<float>(cwnd);
    w_max_ = static_cast<float>(cwnd * (1 + kBeta) / 2);
  } else {
    w_last_max_ = static_cast<float>(cwnd);
    w_max_ = static_cast<float>(cwnd);
  }
  w.ssthresh = std::max(static_cast<uint32_t>(static_cast<double>(w.cwnd) * kBeta), 2 * mss);
  w.bytes_acked = 0;
  epoch_start_ = Instant::Never();
}

void Cubic::OnAck(CcWindow& w, uint32_t acked, uint32_t mss, Instant now, Duration srtt) {
  if (w.in_slow_start()) {
    SlowStart(w, acked, mss);
    return;
  }
  const double cwnd = static_cast<double>(w.cwnd) / mss;
  if (epoch_start_ == Instant::Never()) {
    epoch_start_ = now;
    cwnd_epoch_ = static_cast<float>(cwnd);
    w_est_ = cwnd;
    // No loss yet (or the window grew past it): start at the plateau.
    if (w_max_ < cwnd) w_max_ = static_cast<float>(cwnd);
    k_ = static_cast<float>(std::cbrt((double{w_max_} - cwnd_epoch_) / kC));
  }
  const double t = (now - epoch_start_).seconds();
  const double rtt = srtt > Duration() ? srtt.seconds() : 0.1;
  // The window one RTT ahead on the cubic curve, held within [cwnd, 1.5 cwnd] (RFC 9438 4.2).
  const double ahead = t + rtt - double{k_};
  const double target = std::clamp(kC * ahead * ahead * ahead + double{w_max_}, cwnd, 1.5 * cwnd);
  // The Reno-friendly estimate (4.3): alpha = 3(1 - beta)/(1 + beta) until it reaches W_max, then 1.
  const double segments_acked = static_cast<double>(acked) / mss;
  const double alpha = w_est_ < w_max_ ? 3 * (1 - kBeta) / (1 + kBeta) : 1.0;
  w_est_ += alpha * segments_acked / cwnd;
  const double now_k = t - double{k_};
  const double w_cubic_now = kC * now_k * now_k * now_k + double{w_max_};
  double next = cwnd;
  if (w_cubic_now < w_est_) {
    next = w_est_;  // Reno-friendly region
  } else {
    next = cwnd + (target - cwnd) * segments_acked / cwnd;  // concave or convex region
  }
  const double bytes = std::min(next * mss, static_cast<double>(UINT32_MAX / 2));
  w.cwnd = std::max(w.cwnd, static_cast<uint32_t>(bytes));
}

uint32_t Prr::OnAck(uint32_t delivered, uint32_t pipe, uint32_t ssthresh, uint32_t mss) {
  delivered_ += delivered;
  int64_t sndcnt = 0;
  if (pipe > ssthresh) {
    // Proportional part: send ssthresh/RecoverFS of what was delivered.
    const uint64_t target = (delivered_ * ssthresh + recover_fs_ - 1) / recover_fs_;
    sndcnt = static_cast<int64_t>(target) - static_cast<int64_t>(out_);
  } else {
    // Slow-start reduction bound: rebuild towards ssthresh, at most one SMSS ahead of what was delivered.
    const int64_t limit =
        std::max<int64_t>(static_cast<int64_t>(delivered_) - static_cast<int64_t>(out_), delivered) + mss;
    sndcnt = std::min<int64_t>(static_cast<int64_t>(ssthresh) - pipe, limit);
  }
  return static_cast<uint32_t>(std::max<int64_t>(sndcnt, 0));
}

}  // namespace synack
