// SynSourceLimiter: per-source-address SYN rate limiting for one engine's listeners — a bounded table
// of token buckets, so that repeated SYNs from one address beyond `rate` per second (with bursts of
// `burst`) are dropped, while the table itself cannot be flooded.
//
// Each bucket is kept as a GCRA "theoretical arrival time" (equivalent to a token bucket, 16 bytes per
// address). The table is set-associative (4 ways) and indexed by a keyed hash, so an attacker cannot
// aim addresses at one set; when a set is full, the entry whose bucket is fullest (it has been idle the
// longest) is replaced. Spoofed floods from many addresses therefore only recycle entries — those are
// what SYN cookies are for — while a real address sending more than its rate keeps its entry hot and
// is limited.
//
// Pure and allocation-free after construction; owned by one engine, only its core may call it.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "lib/base/time.h"
#include "lib/net/addr.h"

namespace synack {

class SynSourceLimiter {
 public:
  struct Config {
    uint32_t rate = 0;        ///< SYNs per second per source address; 0 disables the limiter
    uint32_t burst = 32;      ///< SYNs a quiet source may send at once
    uint32_t entries = 4096;  ///< addresses tracked (rounded up to a power of two, at least 4)
  };

  SynSourceLimiter(const Config& config, const std::array<uint8_t, 16>& key);

  bool enabled() const { return config_.rate > 0; }
  /// Whether a SYN from `src` at `now` may proceed (and charges it if so).
  bool Allow(Instant now, Ipv4Addr src);
  /// Entries in use (tests and diagnostics).
  size_t tracked() const;
  size_t capacity() const { return table_.size(); }

 private:
  static constexpr uint32_t kWays = 4;
  struct Entry {
    uint32_t addr = 0;
    bool used = false;
    int64_t tat_ns = 0;  // theoretical arrival time of the next conforming SYN
  };

  Config config_;
  std::array<uint8_t, 16> key_;
  int64_t interval_ns_ = 0;   // 1 / rate
  int64_t tolerance_ns_ = 0;  // (burst - 1) / rate
  uint32_t set_mask_ = 0;
  std::vector<Entry> table_;
};

}  // namespace synack
