#include "lib/core/phase_profile.h"

namespace synack {

const char* PhaseName(Phase p) {
  switch (p) {
    case Phase::kApp:
      return "app";
    case Phase::kRxBurst:
      return "rx_burst";
    case Phase::kParse:
      return "parse";
    case Phase::kLookup:
      return "lookup";
    case Phase::kTcp:
      return "tcp";
    case Phase::kDeliver:
      return "deliver_tx_build";
    case Phase::kTimers:
      return "timers";
    case Phase::kTxBurst:
      return "tx_burst";
    case Phase::kIdle:
      return "idle";
    case Phase::kCount:
      break;
  }
  return "?";
}

}  // namespace synack
