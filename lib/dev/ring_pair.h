// A pair of net_ring ethdev ports joined back to back (what one transmits the other receives), for
// running two engines in one process with no NIC and no kernel. Control plane: create after InitEal,
// then configure both ports with ConfigurePort.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace synack {

struct RingPair {
  uint16_t a = 0;
  uint16_t b = 0;
};

// Creates rings "<name>_ab"/"<name>_ba" (`queues` of each, `ring_size` slots) and two ports on them.
absl::StatusOr<RingPair> CreateRingPair(const std::string& name, uint16_t queues = 1, unsigned ring_size = 1024);

}  // namespace synack
