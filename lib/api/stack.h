/// @file
/// Stack: Synack started on one DPDK port — the EAL, one engine per EAL lcore (`-l 0-3` gives four, each
/// with its own RX/TX queue, mempools, connection table and timers), flow dispatch (hardware RSS with a
/// symmetric key when the device has it and reads it back, otherwise software dispatch over rte_rings)
/// and the poll loops that hand TCP events to one Application per engine.
///
/// Ownership: the Stack owns the EAL (started in Create, cleaned up when it is destroyed), the port, the
/// pools, the dispatch rings and the engines. Applications passed to Run/RunAll stay the caller's.
/// Threading: Create, Run/RunAll and the destructor on the main thread; each Application's calls on its
/// engine's lcore (Run/RunAll launch the workers). Command-line parsing is not here: the apps build a
/// StackConfig from their flags (apps/common/runtime.h).
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <rte_mempool.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/api/telemetry.h"
#include "lib/core/engine.h"
#include "lib/core/rss.h"
#include "lib/dev/capture.h"
#include "lib/dev/impairment.h"
#include "lib/dev/port.h"

namespace synack {

/// Everything Stack::Create needs.
struct StackConfig {
  /// argv[0] for the EAL (and its log lines).
  std::string program = "synack";
  /// EAL arguments, e.g. {"-l", "0-1", "--vdev=net_tap0,iface=syn0"}. Defaults added unless given:
  /// `--no-huge -m 512` (unless `hugepages`), `--no-shconf`, a per-process `--file-prefix`.
  std::vector<std::string> eal_args;
  /// Use mounted hugepages instead of --no-huge.
  bool hugepages = false;
  /// Our address and prefix length (every engine answers for it).
  Ipv4Prefix local;
  /// Addresses we own: `local.addr` and the next local_count - 1 (inside `local`, at most
  /// kMaxLocalAddresses): each answered by ARP, and Connect spreads connections over them, which
  /// multiplies a load generator's 4-tuples towards one server port.
  uint32_t local_count = 1;
  /// Next hop for off-link destinations (must be inside `local`).
  std::optional<Ipv4Addr> gateway;
  /// DPDK port id.
  uint16_t eth_port = 0;
  /// mbufs per engine pool (frames; the same number of data-less mbufs for zero-copy TX).
  uint32_t mbufs = 16383;
  /// Per engine: table sizes, SYN defences, congestion control, buffers (lib/core/tcp_layer.h). The
  /// checksum offloads, ISN keys, steering and the MSS cap from the port's MTU are filled in by Create.
  TcpLayerConfig tcp;
  /// A seeded impaired link on what every engine sends and receives (off by default).
  ImpairConfig impair;
  /// Measure where each engine's cycles go (PhaseProfile, one poll in 16); PrintCounters reports it.
  bool profile = false;
  /// Write every frame each engine receives from and sends to the port to a pcapng file (off unless
  /// `capture.path` is set; lib/dev/capture.h). Copies that find the capture's pool or ring full are
  /// dropped and counted (`capture.dropped`), never waited for.
  CaptureConfig capture;
  /// Let dpdk-dumpcap (a DPDK secondary process) capture from this process: hugepages with the shared
  /// configuration instead of `--no-huge --no-shconf`, and rte_pdump_init (lib/dev/eal.h EalConfig::pdump).
  bool pdump = false;
};

/// One application instance per engine; every call on that engine's lcore.
class Application {
 public:
  virtual ~Application() = default;
  /// Called once the engine is up (listen, connect, print the readiness line). An error stops the run.
  virtual absl::Status Start(Engine& engine) = 0;
  /// One event of the engine's queue (TcpLayer::PollEvents).
  virtual void OnEvent(Engine& engine, const Event& e) = 0;
  /// Called every loop iteration after the events (clients generate load here).
  virtual void OnPoll(Engine& engine, Instant now) {}
  /// The loop ends when this returns true (or on SIGINT/SIGTERM, see InstallStopSignals).
  virtual bool Done() const { return false; }
};

/// Synack started on one DPDK port: the EAL, the pools, the port, flow dispatch and one Engine per EAL lcore.
/// See the file comment for ownership and threading.
class Stack {
 public:
  /// Starts the EAL, pools and the port, and builds one engine per lcore. Errors name the setting.
  /// On the main thread.
  static absl::StatusOr<std::unique_ptr<Stack>> Create(const StackConfig& config);
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  /// The number of engines, one per lcore.
  size_t engines() const { return engines_.size(); }
  /// Engine `i` (< engines()); engine(0) runs on the main lcore. Owned by the Stack.
  Engine& engine(size_t i = 0) { return *engines_[i]; }
  /// The port the engines share: id, MAC, MTU, queues, offloads.
  const PortInfo& port() const { return port_; }
  /// How flows reach their engine, for start-up reports ("software dispatch: ...", "hardware RSS ...").
  const std::string& dispatch() const { return dispatch_; }
  /// The pcapng writer of StackConfig::capture (null when capture is off). Owned by the Stack.
  const CaptureWriter* capture() const { return capture_.get(); }

  /// Runs `app` on engine 0 (the main lcore); the other engines poll without an application (they still
  /// receive and forward frames). Until SIGINT/SIGTERM or app.Done(); returns the app's Start error.
  absl::Status Run(Application& app);
  /// Runs `apps[i]` on engine(i), each on its engine's lcore (a null entry polls without an app). Until
  /// SIGINT/SIGTERM or any app's Done(); returns the first Start error.
  absl::Status RunAll(const std::vector<Application*>& apps);
  /// Prints every non-zero counter (net, tcp layer, tcp state machine, pools, impairment) under `title`.
  void PrintCounters(FILE* out, const std::string& title) const;
  /// What SIGUSR1 prints (to stdout) while Run/RunAll go on: the app's status — typically the summary it
  /// prints at exit — or, without a printer, every engine's counters under "counters (SIGUSR1):". Called on
  /// the main lcore from its poll loop, never from the signal handler: the main lcore's engine and app are
  /// read on their own lcore; the other engines' counters are read while they run (plain integers, single
  /// writer: a status print that may be a few packets stale, not a consistent cut). Set before Run.
  void SetStatusPrinter(std::function<void(FILE*)> printer) { status_printer_ = std::move(printer); }

 private:
  struct Lane;  // one engine's poll loop context
  Stack() = default;
  static int LaneMain(void* lane);
  void PrintStatus(FILE* out) const;

  PortInfo port_;
  std::string dispatch_;
  std::unique_ptr<RssSteering> steering_;
  std::vector<rte_ring*> rings_;
  std::unique_ptr<CaptureWriter> capture_;  // outlives the engines (they hold its taps)
  std::vector<std::unique_ptr<Engine>> engines_;
  std::function<void(FILE*)> status_printer_;
  std::unique_ptr<TelemetryRegistration> telemetry_;  // the /synack/ telemetry commands read the engines
};

/// An engine's configuration on `port` with our address `local`: the port's MAC and checksum offloads,
/// the MSS capped by its MTU, a fresh ISN key. Queues, dispatch and impairment are the caller's.
EngineConfig EngineConfigForPort(const PortInfo& port, const Ipv4Prefix& local, const TcpLayerConfig& tcp);

/// The bytes a capture keeps of each frame on `port` (CaptureWriter::Open): the largest frame it carries.
uint32_t CaptureSnapLen(const PortInfo& port);

/// An engine's own pools: frames (RX buffers, frames it builds) and data-less mbufs for zero-copy TX.
struct EnginePools {
  rte_mempool* frames = nullptr;    ///< frames: RX buffers, the frames the engine builds, AllocTxMbuf
  rte_mempool* indirect = nullptr;  ///< data room 0: the mbufs that attach payload for zero-copy TX
};
/// Creates the pools `name` and `name`_ind with `mbufs` entries each on NUMA socket `socket_id` — the
/// socket of the lcore the engine runs on (LcoreSocket); -1: the calling lcore's. When that socket has no
/// memory for them (e.g. --no-huge puts all of it on socket 0), they go on any socket instead. Control
/// plane, after the EAL started. The pools are the caller's (rte_mempool_free them after every engine using
/// them is gone).
absl::StatusOr<EnginePools> CreateEnginePools(const std::string& name, uint32_t mbufs, int socket_id = -1);

/// One iteration of an engine's loop: PollOnce, hand every TCP event to `app`, then app->OnPoll. With a
/// null `app` the events are discarded. On the engine's lcore.
void PollEngineOnce(Engine& engine, Application* app, Instant now);

/// How often a profiling engine measures a poll (EngineConfig::profile_every) when profiling is asked for.
inline constexpr uint32_t kProfileEvery = 16;

/// Every counter summed over `engines` (zeros included), named as PrintEngineCounters prints them, in the
/// engines' own counter order. Same threading as PrintEngineCounters.
std::vector<std::pair<std::string, uint64_t>> EngineCounterTotals(const std::vector<const Engine*>& engines);

/// Prints every non-zero counter summed over `engines`, under `title` (and each engine's PhaseProfile
/// when it profiles). On the engines' lcore, or on any
/// thread once they stopped.
void PrintEngineCounters(FILE* out, const std::vector<const Engine*>& engines, const std::string& title);

/// Installs SIGINT/SIGTERM handlers that end Run/RunAll (and Loopback::Run), and SIGUSR1 to print the
/// status (Stack::SetStatusPrinter) and go on. The handlers only set flags; the poll loops act on them.
void InstallStopSignals();
/// True once SIGINT or SIGTERM arrived (after InstallStopSignals). Any thread.
bool StopRequested();
/// The --file-prefix the EAL runs with (the user's, or the default `synack-<pid>` whose runtime directory is
/// removed at a clean exit): what `dpdk-telemetry.py -f PREFIX` needs. Empty before Stack::Create or Loopback::Create.
const std::string& EalFilePrefix();
/// True once per SIGUSR1 received since the last call (the call clears it): the poll loop that sees it
/// prints the status. Call from one thread only (the main lcore's loop).
bool TakeStatusRequest();

}  // namespace synack
