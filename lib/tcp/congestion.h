// Congestion control for one connection, I/O-free: the window arithmetic of RFC 5681 (slow start with
// byte counting, RFC 3465 L = 2), NewReno (RFC 6582) and CUBIC (RFC 9438) behind a std::variant (no
// virtual call, no heap), plus Proportional Rate Reduction (RFC 6937) for how much may be sent during
// fast recovery. The connection decides *when* a congestion event happens (third duplicate ACK, SACK
// loss, RTO) and calls in; these units only say what the windows become. All sizes in bytes; `now` and
// `srtt` come from the caller. Owned by one connection.
#pragma once

#include <cstdint>
#include <variant>

#include "lib/base/time.h"

namespace synack {

enum class CongestionAlgorithm : uint8_t { kNewReno, kCubic };
const char* CongestionAlgorithmName(CongestionAlgorithm a);

// The windows every algorithm works on.
struct CcWindow {
  uint32_t cwnd = 0;
  uint32_t ssthresh = UINT32_MAX;  // "arbitrarily high" until the first loss (RFC 5681 3.1)
  uint32_t bytes_acked = 0;        // congestion avoidance: bytes acknowledged towards the next increase
  bool in_slow_start() const { return cwnd < ssthresh; }
};

// RFC 6928: min(10 * SMSS, max(2 * SMSS, 14600)), or `segments` * SMSS when configured otherwise.
uint32_t InitialWindow(uint32_t mss, uint32_t segments = 10);

// RFC 5681 / 6582.
class NewReno {
 public:
  // `acked` new bytes acknowledged outside recovery, while the window was being used.
  void OnAck(CcWindow& w, uint32_t acked, uint32_t mss, Instant now, Duration srtt);
  // A congestion event with `flight` bytes outstanding: sets ssthresh = max(flight / 2, 2 * SMSS).
  void OnCongestion(CcWindow& w, uint32_t flight, uint32_t mss, Instant now);
  // The window restarts (after idle or an RTO).
  void OnRestart() {}
};

// RFC 9438 (C = 0.4, beta = 0.7, fast convergence, the Reno-friendly region).
class Cubic {
 public:
  static constexpr double kC = 0.4;
  static constexpr double kBeta = 0.7;

  void OnAck(CcWindow& w, uint32_t acked, uint32_t mss, Instant now, Duration srtt);
  void OnCongestion(CcWindow& w, uint32_t flight, uint32_t mss, Instant now);
  void OnRestart() { epoch_start_ = Instant::Never(); }

  double w_max() const { return w_max_; }  // segments
  double k() const { return k_; }          // seconds

 private:
  // 32 bytes, one per connection. The curve's parameters are floats (24 significant bits, far finer than
  // a segment at any window a 32-bit cwnd allows) and are computed in double; the Reno-friendly estimate
  // stays a double because it grows by tiny steps (alpha / cwnd per segment) that a float would lose.
  double w_est_ = 0;                        // Reno-friendly estimate, segments
  Instant epoch_start_ = Instant::Never();  // Never: no epoch (after a reduction or a restart)
  float w_max_ = 0;                         // segments: the window before the last reduction
  float w_last_max_ = 0;                    // fast convergence memory
  float k_ = 0;                             // seconds from the epoch's start to W_max
  float cwnd_epoch_ = 0;                    // segments at the start of the epoch
};
static_assert(sizeof(Cubic) == 32);

class CongestionControl {
 public:
  CongestionControl() = default;
  explicit CongestionControl(CongestionAlgorithm a) {
    if (a == CongestionAlgorithm::kCubic) algo_ = Cubic{};
  }
  CongestionAlgorithm algorithm() const {
    return std::holds_alternative<Cubic>(algo_) ? CongestionAlgorithm::kCubic : CongestionAlgorithm::kNewReno;
  }
  void OnAck(CcWindow& w, uint32_t acked, uint32_t mss, Instant now, Duration srtt) {
    std::visit([&](auto& a) { a.OnAck(w, acked, mss, now, srtt); }, algo_);
  }
  void OnCongestion(CcWindow& w, uint32_t flight, uint32_t mss, Instant now) {
    std::visit([&](auto& a) { a.OnCongestion(w, flight, mss, now); }, algo_);
  }
  void OnRestart() {
    std::visit([](auto& a) { a.OnRestart(); }, algo_);
  }
  const Cubic* cubic() const { return std::get_if<Cubic>(&algo_); }

 private:
  std::variant<NewReno, Cubic> algo_;
};
static_assert(sizeof(CongestionControl) <= 40);

// RFC 6937 Proportional Rate Reduction: during fast recovery, spreads the window reduction over the
// ACKs of one round trip (and, with the slow-start reduction bound, rebuilds towards ssthresh when the
// pipe fell below it) instead of halting and then bursting.
class Prr {
 public:
  // Recovery starts: `recover_fs` is the flight when the loss was detected.
  void Start(uint32_t recover_fs) {
    recover_fs_ = recover_fs > 0 ? recover_fs : 1;
    delivered_ = out_ = 0;
  }
  // An ACK during recovery reported `delivered` bytes newly acknowledged or SACKed; returns how many
  // bytes may be sent now.
  uint32_t OnAck(uint32_t delivered, uint32_t pipe, uint32_t ssthresh, uint32_t mss);
  void OnSent(uint32_t bytes) { out_ += bytes; }

 private:
  uint64_t recover_fs_ = 1;
  uint64_t delivered_ = 0;
  uint64_t out_ = 0;
};

}  // namespace synack
