#include "lib/net/counters.h"

#include <string>

namespace synack {

std::string_view DropName(Drop d) {
  switch (d) {
#define SYNACK_X(name, str) \
  case Drop::name:          \
    return str;
    SYNACK_DROP_REASONS(SYNACK_X)
#undef SYNACK_X
    case Drop::kCount:
      break;
  }
  return "unknown";
}

const char* DropNameC(Drop d) { return DropName(d).data(); }

uint64_t NetCounters::total_drops() const {
  uint64_t t = 0;
  for (uint64_t d : drops) t += d;
  return t;
}

void NetCounters::ForEach(absl::FunctionRef<void(std::string_view, uint64_t)> f) const {
#define SYNACK_X(name) f(#name, name);
  SYNACK_NET_COUNTERS(SYNACK_X)
#undef SYNACK_X
  for (size_t i = 0; i < drops.size(); ++i) {
    std::string n = "drop.";
    n += DropName(static_cast<Drop>(i));
    f(n, drops[i]);
  }
}

}  // namespace synack
