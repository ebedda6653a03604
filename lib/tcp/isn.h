// Initial sequence numbers per RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), where
// M is a 4-microsecond timer taken from the `now` argument and F is SipHash-2-4 keyed by a 128-bit secret.
// SipHash24 is exposed on its own because SYN cookies use the same keyed hash.
// IsnGenerator is immutable after construction: its const methods may be called from any core at once (each
// engine may also hold its own copy). RandomKey reads std::random_device and belongs to the control plane.
#pragma once

#include <array>
#include <cstdint>

#include "absl/types/span.h"
#include "lib/base/time.h"
#include "lib/net/addr.h"
#include "lib/tcp/seq.h"

namespace synack {

// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012) of `data` under the 128-bit
// `key` (the key's bytes are read as two little-endian 64-bit words, as in the paper). Pure; any core.
uint64_t SipHash24(const std::array<uint8_t, 16>& key, absl::Span<const uint8_t> data);

// A fresh secret from std::random_device. Control plane only: it may block or throw if no entropy source exists.
std::array<uint8_t, 16> RandomKey();

class IsnGenerator {
 public:
  // RFC 6528 section 3: M ticks once every 4 microseconds, so the ISN of one 4-tuple advances 250 per millisecond.
  static constexpr int64_t kTickNs = 4000;

  explicit IsnGenerator(std::array<uint8_t, 16> key) : key_(key) {}

  // The ISN for a connection from local:local_port to remote:remote_port opened at `now`. The same inputs always
  // give the same result; F is the low 32 bits of SipHash24 over the 4-tuple (addresses and ports big-endian).
  SeqNum Generate(Ipv4Addr local, uint16_t local_port, Ipv4Addr remote, uint16_t remote_port, Instant now) const;

  const std::array<uint8_t, 16>& key() const { return key_; }

 private:
  std::array<uint8_t, 16> key_;
};

}  // namespace synack
