// The stream pattern synack-perf sends and checks: byte i of every stream is i % kPeriod (a prime, so it
// never lines up with segment or mbuf sizes). The client fills its mbufs from it; the server's --verify
// checks what arrives against it. A table of kPeriod + kMaxChunk bytes lets any piece be filled or
// checked with one memcpy/memcmp starting at offset % kPeriod.
// Ownership and threading: one immutable table per process (ThePattern), read on any lcore.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace synack::app::perf {

class Pattern {
 public:
  static constexpr uint32_t kPeriod = 251;
  static constexpr uint32_t kMaxChunk = 4096;

  Pattern();
  // The kMaxChunk bytes from stream offset `offset` on.
  const uint8_t* At(uint64_t offset) const { return bytes_.data() + offset % kPeriod; }
  // Bytes of `data` that differ from the pattern at stream offset `offset`.
  uint64_t Mismatches(const uint8_t* data, size_t len, uint64_t offset) const;

 private:
  std::array<uint8_t, kPeriod + kMaxChunk> bytes_{};
};

const Pattern& ThePattern();

}  // namespace synack::app::perf
