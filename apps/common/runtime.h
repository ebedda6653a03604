// The command line every synack-* app shares: common flags (--ip, --gateway, --eth-port, --mbufs,
// --max-connections, --max-time-wait, --hugepages, the SYN defences, congestion control, buffers,
// --impair) parsed with one-line errors that name the flag, and turned into the library's StackConfig
// (lib/api/stack.h starts the EAL, the port and the engines). Control plane, main thread.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "apps/common/cli.h"
#include "lib/api/synack.h"

namespace synack::app {

// The listener's SYN-flood defences as flags (every app that listens takes them).
struct SynDefenceOptions {
  SynCookieMode cookies = SynCookieMode::kWhenFull;
  uint32_t syn_backlog = 1024;
  uint32_t max_half_open = 4096;
  uint32_t rate_per_source = 0;
  uint32_t burst_per_source = 32;
  void ApplyTo(TcpLayerConfig& tcp) const;
  // One line for start-up reports: "syn cookies when-full, syn backlog 1024, ...".
  std::string Describe() const;
};
std::vector<cli::FlagSpec> SynDefenceFlags();
// `defaults` supplies what the flags leave out. Errors name the flag and the fix.
absl::StatusOr<SynDefenceOptions> ParseSynDefence(const cli::Flags& flags, SynDefenceOptions defaults = {});

// How connections send, and the link they see, as flags (every app takes them).
struct TuningOptions {
  CongestionAlgorithm congestion = CongestionAlgorithm::kCubic;
  bool nodelay = false;
  uint32_t snd_buffer = 0;  // bytes per connection (0: the stack's default, 256 KiB)
  uint32_t rcv_buffer = 0;
  ImpairConfig impair;   // applied to what every engine sends and receives (loopback: sends)
  bool profile = false;  // --profile: each engine's cycles per phase, printed with the counters
  void ApplyTo(TcpLayerConfig& tcp) const;
  std::string Describe() const;  // "cubic, nagle, link: loss=1%,seed=1"
};
std::vector<cli::FlagSpec> TuningFlags();
absl::StatusOr<TuningOptions> ParseTuning(const cli::Flags& flags);

struct CommonOptions {
  Ipv4Prefix local;
  std::optional<Ipv4Addr> gateway;
  uint16_t eth_port = 0;
  uint32_t mbufs = 16383;
  uint32_t max_connections = 4096;
  uint32_t max_time_wait = 4096;
  bool hugepages = false;
  SynDefenceOptions syn;
  TuningOptions tuning;
};

// The flags CommonOptions comes from (apps append their own).
std::vector<cli::FlagSpec> CommonFlags();
// Errors name the flag and the fix.
absl::StatusOr<CommonOptions> ParseCommon(const cli::Flags& flags);

// The apps' names for the library's application interface.
using App = ::synack::Application;

// The StackConfig the common flags describe: EAL arguments from before `--`, `tcp` with the table sizes,
// SYN defences and tuning applied.
StackConfig MakeStackConfig(const std::string& program, const cli::SplitArgs& args, const CommonOptions& options,
                            const TcpLayerConfig& tcp);
// "eal: file prefix synack-<pid> (dpdk-telemetry.py -f synack-<pid>)" on stdout: how to find this process.
void PrintEalPrefix();
// Stack::Create(MakeStackConfig(...)), then PrintEalPrefix.
absl::StatusOr<std::unique_ptr<Stack>> CreateStack(const std::string& program, const cli::SplitArgs& args,
                                                   const CommonOptions& options, const TcpLayerConfig& tcp);

}  // namespace synack::app
