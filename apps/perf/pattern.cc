#include "apps/perf/pattern.h"

#include <algorithm>
#include <cstring>

namespace synack::app::perf {

Pattern::Pattern() {
  for (size_t i = 0; i < bytes_.size(); ++i) bytes_[i] = static_cast<uint8_t>(i % kPeriod);
}

uint64_t Pattern::Mismatches(const uint8_t* data, size_t len, uint64_t offset) const {
  uint64_t bad = 0;
  while (len > 0) {
    const size_t n = std::min<size_t>(len, kMaxChunk);
    const uint8_t* want = At(offset);
    if (std::memcmp(data, want, n) != 0) {
      for (size_t i = 0; i < n; ++i) bad += data[i] != want[i];
    }
    data += n;
    len -= n;
    offset += n;
  }
  return bad;
}

const Pattern& ThePattern() {
  static const Pattern p;
  return p;
}

}  // namespace synack::app::perf
