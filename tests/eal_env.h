// Test support: starts the EAL once per test binary (no hugepages, no PCI, own file prefix) and gives
// tests a shared mbuf pool. Main thread only.
#pragma once

#include <string>

#include <rte_mempool.h>

#include "lib/dev/ring_pair.h"
#include "lib/net/addr.h"

namespace synack::testing {

// The pool created by the environment (4095 mbufs of default size).
rte_mempool* TestPool();
// Data-less mbufs for zero-copy transmit (8191).
rte_mempool* TestIndirectPool();

// An in-memory net_ring port pair (4096-slot rings), both ports configured on TestPool() and started.
struct RingPorts {
  RingPair pair;
  MacAddr a;
  MacAddr b;
};
RingPorts MakeRingPorts(const std::string& name);

}  // namespace synack::testing
