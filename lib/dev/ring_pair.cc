#include "lib/dev/ring_pair.h"

#include <vector>

#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace synack {

absl::StatusOr<RingPair> CreateRingPair(const std::string& name, uint16_t queues, unsigned ring_size) {
  std::vector<rte_ring*> ab(queues), ba(queues);
  for (uint16_t q = 0; q < queues; ++q) {
    std::string n1 = absl::StrFormat("%s_ab%u", name, q);
    std::string n2 = absl::StrFormat("%s_ba%u", name, q);
    ab[q] = rte_ring_create(n1.c_str(), ring_size, static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    ba[q] = rte_ring_create(n2.c_str(), ring_size, static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (ab[q] == nullptr || ba[q] == nullptr) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("rte_ring_create(%s, %u): %s", n1, ring_size, rte_strerror(rte_errno)));
    }
  }
  // Port A receives what B sends (ring ba) and sends into ring ab, which B receives.
  int a = rte_eth_from_rings(absl::StrCat(name, "_a").c_str(), ba.data(), queues, ab.data(), queues, rte_socket_id());
  int b = rte_eth_from_rings(absl::StrCat(name, "_b").c_str(), ab.data(), queues, ba.data(), queues, rte_socket_id());
  if (a < 0 || b < 0) {
    return absl::InternalError(absl::StrFormat("rte_eth_from_rings(%s): %s", name, rte_strerror(rte_errno)));
  }
  return RingPair{static_cast<uint16_t>(a), static_cast<uint16_t>(b)};
}

}  // namespace synack
