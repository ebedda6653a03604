// FlowKey: a TCP connection's 4-tuple as seen from this host, the key of the per-core connection and
// TIME-WAIT tables (FlowTable). Plain value, any core.
#pragma once

#include <cstdint>

#include "lib/net/addr.h"

namespace synack {

struct FlowKey {
  Ipv4Addr local;
  Ipv4Addr remote;
  uint16_t local_port = 0;
  uint16_t remote_port = 0;
  friend bool operator==(const FlowKey&, const FlowKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const FlowKey& k) {
    return H::combine(std::move(h), k.local.v, k.remote.v, k.local_port, k.remote_port);
  }
};

}  // namespace synack
