/// @file
/// The command line every synack-* app shares: common flags (--ip, --gateway, --eth-port, --mbufs,
/// --max-connections, --max-time-wait, --hugepages, the SYN defences, congestion control, buffers,
/// --impair) parsed with one-line errors that name the flag, and turned into the library's StackConfig
/// (lib/api/stack.h starts the EAL, the port and the engines). Control plane, main thread.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "apps/common/cli.h"
#include "lib/api/synack.h"

/// The command-line runtime the synack-* apps share (library synack_app).
namespace synack::app {

/// The listener's SYN-flood defences as flags (every app that listens takes them).
struct SynDefenceOptions {
  SynCookieMode cookies = SynCookieMode::kWhenFull;  ///< --syn-cookies: off, when-full, always
  uint32_t syn_backlog = 1024;                       ///< --syn-backlog: half-open connections per listener
  uint32_t max_half_open = 4096;                     ///< --max-half-open: half-open connections per engine
  uint32_t rate_per_source = 0;    ///< --syn-rate-per-source: SYNs per second per source address (0: no limit)
  uint32_t burst_per_source = 32;  ///< --syn-burst-per-source: SYNs a quiet source may send at once
  bool shed = true;                ///< --syn-shed: drop new SYNs unparsed beyond a budget under overload
  /// Sets the matching TcpLayerConfig fields (syn_cookies, syn_backlog, max_half_open, syn_limit,
  /// shed_syns_under_overload).
  void ApplyTo(TcpLayerConfig& tcp) const;
  /// One line for start-up reports: "syn cookies when-full, syn backlog 1024, ...".
  std::string Describe() const;
};
/// The flags SynDefenceOptions comes from, with their help texts.
std::vector<cli::FlagSpec> SynDefenceFlags();
/// Parses the SYN-defence flags; `defaults` supplies what the flags leave out. Errors name the flag and the
/// fix.
absl::StatusOr<SynDefenceOptions> ParseSynDefence(const cli::Flags& flags, SynDefenceOptions defaults = {});

/// How connections send, and the link they see, as flags (every app takes them).
struct TuningOptions {
  CongestionAlgorithm congestion = CongestionAlgorithm::kCubic;  ///< --congestion: cubic or newreno
  bool nodelay = false;                                          ///< --nodelay: no Nagle
  uint32_t snd_buffer = 0;  ///< --snd-buffer: bytes per connection (0: the stack's default, 256 KiB)
  uint32_t rcv_buffer = 0;  ///< --rcv-buffer: bytes per connection (0: the stack's default, 256 KiB)
  ImpairConfig impair;      ///< --impair: applied to what every engine sends and receives (loopback: sends)
  bool profile = false;     ///< --profile: each engine's cycles per phase, printed with the counters
  CaptureConfig capture;    ///< --pcap FILE[,count=N]: every engine's frames to a pcapng file
  bool pdump = false;       ///< --pdump: let dpdk-dumpcap attach (hugepages, shared configuration)
  /// Sets TcpLayerConfig::tcp's congestion, nodelay and (when non-zero) buffer sizes; `impair`,
  /// `profile`, `capture` and `pdump` go to the StackConfig (MakeStackConfig).
  void ApplyTo(TcpLayerConfig& tcp) const;
  /// One line for start-up reports: "cubic, nagle, impaired link: loss=1%,seed=1".
  std::string Describe() const;
};
/// The flags TuningOptions comes from, with their help texts.
std::vector<cli::FlagSpec> TuningFlags();
/// Parses the tuning flags. Errors name the flag and the fix.
absl::StatusOr<TuningOptions> ParseTuning(const cli::Flags& flags);

/// The flags every app takes, parsed.
struct CommonOptions {
  Ipv4Prefix local;                 ///< --ip: our address and prefix length (required)
  uint32_t local_count = 1;         ///< --ip-count: addresses from `local.addr` on
  std::optional<Ipv4Addr> gateway;  ///< --gateway: next hop for off-link destinations
  uint16_t eth_port = 0;            ///< --eth-port: DPDK port id
  uint32_t mbufs = 16383;           ///< --mbufs: mbufs per engine pool
  uint32_t max_connections = 4096;  ///< --max-connections: connection table size per engine
  uint32_t max_time_wait = 4096;    ///< --max-time-wait: compact TIME-WAIT entries per engine
  bool hugepages = false;           ///< --hugepages: mounted hugepages instead of --no-huge
  SynDefenceOptions syn;            ///< the SYN-defence flags
  TuningOptions tuning;             ///< the tuning flags
};

/// The flags CommonOptions comes from (apps append their own).
std::vector<cli::FlagSpec> CommonFlags();
/// Parses the common flags. Errors name the flag and the fix.
absl::StatusOr<CommonOptions> ParseCommon(const cli::Flags& flags);

/// The apps' names for the library's application interface.
using App = ::synack::Application;

/// The StackConfig the common flags describe: EAL arguments from before `--`, `tcp` with the table sizes,
/// SYN defences and tuning applied.
StackConfig MakeStackConfig(const std::string& program, const cli::SplitArgs& args, const CommonOptions& options,
                            const TcpLayerConfig& tcp);
/// "eal: file prefix synack-<pid> (dpdk-telemetry.py -f synack-<pid>)" on stdout: how to find this process.
void PrintEalPrefix();
/// The start-up lines of the capture options on stdout: "capture: writing FILE ..." when `capture` is not
/// null, "pdump: ..." (how to run dpdk-dumpcap against this process) when `pdump`.
void PrintCapture(const CaptureWriter* capture, bool pdump);
/// Stack::Create(MakeStackConfig(...)), then PrintEalPrefix (only when Create succeeded).
absl::StatusOr<std::unique_ptr<Stack>> CreateStack(const std::string& program, const cli::SplitArgs& args,
                                                   const CommonOptions& options, const TcpLayerConfig& tcp);

}  // namespace synack::app
