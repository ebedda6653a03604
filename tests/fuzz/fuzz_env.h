// Fuzz support: the EAL and the mbuf pools, started once per process (LLVMFuzzerInitialize), a check that
// aborts (so libFuzzer reports the input), and copies of frames out of mbuf chains. Main thread only.
//
// Pools: `Pool()` is the large frame pool (device RX and the stack's own frames), `SmallPool()` and
// `SmallIndirectPool()` are tiny pools a target may hand the stack instead so that running out of mbufs
// is exercised too. Every pool must be back at its start count when an input ends.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "absl/strings/str_cat.h"

namespace synack::fuzz {

// Starts the EAL (`--no-huge -m 512 --no-shconf --no-pci --file-prefix=synack-fuzz-<pid> -l 0`) and
// creates the pools; idempotent. Exits the process with a message when DPDK cannot start.
void StartEal();

rte_mempool* Pool();               // 8191 frames of the default size
rte_mempool* IndirectPool();       // 8191 data-less mbufs (zero-copy transmit)
rte_mempool* SmallPool();          // 48 frames
rte_mempool* SmallIndirectPool();  // 16 data-less mbufs

// Prints `what` with its location and aborts.
[[noreturn]] void Fail(const char* file, int line, const std::string& what);

// The bytes of a whole packet (every segment), copied out.
std::vector<uint8_t> PacketBytes(const rte_mbuf* m);

}  // namespace synack::fuzz

// Aborts the input when `cond` is false; the rest of the arguments (absl::StrCat-able) say what was seen.
#define FUZZ_CHECK(cond, ...)                                                                       \
  do {                                                                                              \
    if (!(cond)) ::synack::fuzz::Fail(__FILE__, __LINE__, absl::StrCat(#cond " -- ", __VA_ARGS__)); \
  } while (0)
