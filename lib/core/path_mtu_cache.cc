#include "lib/core/path_mtu_cache.h"

#include <algorithm>

#include "lib/tcp/connection.h"

namespace synack {

void PathMtuCache::Learn(Instant now, Ipv4Addr dst, uint16_t next_hop_mtu) {
  Entry& slot = slots_[SlotOf(dst)];
  const uint16_t mtu = std::max(next_hop_mtu != 0 ? next_hop_mtu : kUnspecifiedMtu, TcpConnection::kMinPathMtu);
  if (slot.mtu == 0) ++filled_;
  slot = Entry{dst, mtu, now + kLifetime};
}

uint16_t PathMtuCache::Get(Instant now, Ipv4Addr dst) const {
  if (filled_ == 0) return 0;
  const Entry& slot = slots_[SlotOf(dst)];
  return slot.mtu != 0 && slot.dst == dst && now < slot.expires ? slot.mtu : 0;
}

}  // namespace synack
