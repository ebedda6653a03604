// SeqNum: a TCP sequence number with modular (RFC 9293 section 3.4 / RFC 1982) comparison, so ordering is
// right across the 2^32 wrap. Bare uint32_t comparisons of sequence numbers are a bug; use this type.
// Plain value, any core.
#pragma once

#include <cstdint>

namespace synack {

class SeqNum {
 public:
  constexpr SeqNum() = default;
  constexpr explicit SeqNum(uint32_t v) : v_(v) {}
  constexpr uint32_t raw() const { return v_; }

  constexpr SeqNum operator+(uint32_t n) const { return SeqNum(v_ + n); }
  constexpr SeqNum operator-(uint32_t n) const { return SeqNum(v_ - n); }
  constexpr SeqNum& operator+=(uint32_t n) {
    v_ += n;
    return *this;
  }
  // Signed distance a - b (meaningful when |a - b| < 2^31).
  friend constexpr int32_t operator-(SeqNum a, SeqNum b) { return static_cast<int32_t>(a.v_ - b.v_); }

  friend constexpr bool operator==(SeqNum a, SeqNum b) { return a.v_ == b.v_; }
  friend constexpr bool operator!=(SeqNum a, SeqNum b) { return a.v_ != b.v_; }
  friend constexpr bool operator<(SeqNum a, SeqNum b) { return (a - b) < 0; }
  friend constexpr bool operator<=(SeqNum a, SeqNum b) { return (a - b) <= 0; }
  friend constexpr bool operator>(SeqNum a, SeqNum b) { return (a - b) > 0; }
  friend constexpr bool operator>=(SeqNum a, SeqNum b) { return (a - b) >= 0; }

 private:
  uint32_t v_ = 0;
};

// lo <= x < hi, modulo 2^32.
constexpr bool InHalfOpen(SeqNum lo, SeqNum x, SeqNum hi) { return lo <= x && x < hi; }
// lo < x <= hi, modulo 2^32.
constexpr bool InLeftOpen(SeqNum lo, SeqNum x, SeqNum hi) { return lo < x && x <= hi; }

constexpr SeqNum SeqMax(SeqNum a, SeqNum b) { return a < b ? b : a; }
constexpr SeqNum SeqMin(SeqNum a, SeqNum b) { return a < b ? a : b; }

}  // namespace synack
