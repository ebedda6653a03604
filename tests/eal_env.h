// Test support: starts the EAL once per test binary (no hugepages, no PCI, own file prefix) and gives
// tests a shared mbuf pool. Main thread only.
#pragma once

#include <rte_mempool.h>

namespace synack::testing {

// The pool created by the environment (4095 mbufs of default size).
rte_mempool* TestPool();
// Data-less mbufs for zero-copy transmit (8191).
rte_mempool* TestIndirectPool();

}  // namespace synack::testing
