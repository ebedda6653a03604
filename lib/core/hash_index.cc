#include "lib/core/hash_index.h"

#include <random>

namespace synack {

uint64_t HashIndex::RandomSeed() {
  std::random_device rd;
  return (uint64_t{rd()} << 32) | rd();
}

void HashIndex::EraseAt(size_t hole) {
  // Backward shift: an entry later in the run moves into the hole unless its home lies cyclically in
  // (hole, j] — moving it would put it before its home, where no probe for it starts.
  for (size_t j = Next(hole); slots_[j].value != kEmpty; j = Next(j)) {
    const size_t home = Home(slots_[j].hash);
    const bool home_between = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (home_between) continue;
    slots_[hole] = slots_[j];
    hole = j;
  }
  slots_[hole].value = kEmpty;
}

}  // namespace synack
