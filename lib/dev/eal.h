// EAL start-up for Synack processes: builds the EAL argument list from the user's EAL options plus
// defaults that need no system set-up, and starts DPDK once per process. Control plane: call from the
// main thread before any engine runs.
#pragma once

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

namespace synack {

struct EalConfig {
  std::string program_name = "synack";
  // Arguments the user gave before `--` (e.g. -l 0-1 --vdev net_tap0).
  std::vector<std::string> user_args;
  // false: add `--no-huge -m <memory_mb> --no-shconf` unless the user chose memory options.
  // true: use mounted hugepages (`--in-memory`).
  bool hugepages = false;
  // Serve packet capture to secondary processes (dpdk-dumpcap, dpdk-pdump): keep the shared
  // configuration (no --no-shconf, no --in-memory) in mounted hugepages — a secondary cannot attach to a
  // --no-huge primary (there is no hugepage map to open) — and call rte_pdump_init after start-up
  // (rte_pdump_uninit in CleanupEal). Implies hugepages; InitEal refuses it with --no-huge, --no-shconf
  // or --in-memory among the user's arguments. DPDK 22.11's dpdk-dumpcap always runs as lcore id 0 and
  // its capture pool's lcore-0 cache would be shared unsynchronised with an engine of ours on lcore id 0
  // (which then crashes freeing into it): without lcore options the engines get ids from 1
  // (`--lcores 1@cpu0,2@cpu1,...`), and InitEal refuses lcore id 0.
  bool pdump = false;
  int memory_mb = 512;
  // Quiet EAL's start-up chatter unless the user set --log-level.
  bool quiet = true;
};

// The full argv passed to rte_eal_init (exposed for tests and for printing).
std::vector<std::string> BuildEalArgs(const EalConfig& config);

// Starts the EAL; the error names the failing step and DPDK's reason.
absl::Status InitEal(const EalConfig& config);

// Releases EAL resources (rte_pdump_uninit when pdump, rte_eal_cleanup). Safe to call once after InitEal
// succeeded. When the file prefix was ours (the default `synack-<pid>`), also removes its runtime
// directory (/var/run/dpdk/synack-<pid> as root), which DPDK leaves behind, so clean exits leave nothing
// there; with pdump, also the hugepage files of its prefix that DPDK left in the hugetlbfs mounts.
void CleanupEal();
// Only the directory part of CleanupEal, for a process that leaves the EAL up until it exits (the test
// binaries): removes the default prefix's runtime directory; a no-op for a user's prefix or when done.
void RemoveOwnedRuntimeDir();

// The --file-prefix the EAL runs with (the user's or the default `synack-<pid>`), empty before InitEal:
// what `dpdk-telemetry.py -f <prefix>` needs to find this process.
const std::string& EalFilePrefix();

// "-l a,b,..." naming the first `n` CPUs this process may run on (fewer when it may use fewer; "-l 0"
// when the affinity mask cannot be read): the default lcores of two-engine tools such as --loopback.
// With `first_lcore_id` > 0, "--lcores F@a,F+1@b,...": the same CPUs under lcore ids from F (--pdump
// leaves lcore id 0 to dpdk-dumpcap, see EalConfig::pdump).
std::vector<std::string> FirstCpusLcoreArgs(int n, int first_lcore_id = 0);

// The lcores a Stack's engines run on, in engine order: the main lcore (engine 0), then the workers in
// EAL order (Stack::RunAll launches engine i on the i-th). After InitEal.
std::vector<unsigned> EngineLcores();

// The NUMA socket of `lcore` (rte_lcore_to_socket_id): where its engine's pools and tables belong.
int LcoreSocket(unsigned lcore);

// Runs `fn` on `lcore` and waits for it to return: directly when that is the calling lcore, otherwise
// through rte_eal_remote_launch (the worker must be idle, as it is between InitEal and the poll loops).
// Memory `fn` allocates and first touches lands on that lcore's NUMA node. Control plane, main lcore.
absl::Status RunOnLcore(unsigned lcore, absl::FunctionRef<void()> fn);

}  // namespace synack
