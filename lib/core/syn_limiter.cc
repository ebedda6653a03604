#include "lib/core/syn_limiter.h"

#include <algorithm>
#include <bit>

#include "lib/base/bytes.h"
#include "lib/tcp/isn.h"

namespace synack {

SynSourceLimiter::SynSourceLimiter(const Config& config, const std::array<uint8_t, 16>& key)
    : config_(config), key_(key) {
  if (config_.rate == 0) return;  // disabled: no table
  config_.burst = std::max<uint32_t>(config_.burst, 1);
  interval_ns_ = std::max<int64_t>(1000000000LL / config_.rate, 1);
  tolerance_ns_ = interval_ns_ * (config_.burst - 1);
  const uint32_t n = std::bit_ceil(std::clamp<uint32_t>(config_.entries, kWays, 1u << 24));
  table_.resize(n);
  set_mask_ = n / kWays - 1;
}

bool SynSourceLimiter::Allow(Instant now, Ipv4Addr src) {
  if (config_.rate == 0) return true;
  std::array<uint8_t, 4> in;
  StoreBe32(in.data(), src.v);
  const uint32_t set = static_cast<uint32_t>(SipHash24(key_, in)) & set_mask_;
  Entry* ways = &table_[size_t{set} * kWays];
  const int64_t t = now.ns();
  Entry* e = nullptr;
  for (uint32_t i = 0; i < kWays; ++i) {
    if (ways[i].used && ways[i].addr == src.v) {
      e = &ways[i];
      break;
    }
  }
  if (e == nullptr) {
    // A new address: a free way, else the one idle the longest (its bucket is the fullest).
    e = &ways[0];
    for (uint32_t i = 0; i < kWays; ++i) {
      if (!ways[i].used) {
        e = &ways[i];
        break;
      }
      if (ways[i].tat_ns < e->tat_ns) e = &ways[i];
    }
    *e = Entry{src.v, true, t};
  }
  // GCRA: conforming when the bucket's theoretical arrival time is no further ahead than the burst.
  const int64_t tat = std::max(e->tat_ns, t);
  if (tat - t > tolerance_ns_) return false;
  e->tat_ns = tat + interval_ns_;
  return true;
}

size_t SynSourceLimiter::tracked() const {
  return static_cast<size_t>(std::count_if(table_.begin(), table_.end(), [](const Entry& e) { return e.used; }));
}

}  // namespace synack
