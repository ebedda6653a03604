/// @file
/// Loopback: two engines in one process joined by a net_ring port pair — a client and a server with no NIC,
/// no kernel module and no set-up — for the `--loopback` modes of the synack-* tools.
///
/// Ownership: Loopback owns the EAL (started in Create, cleaned up in the destructor), one mbuf pool and one
/// indirect pool per engine, both ring ports and both engines. The apps passed to Run() stay the caller's.
/// Threading: Create, Run and the destructor are called on the main thread. With two or more lcores, Run
/// polls the server engine (and calls the server app) on the first worker lcore and the client engine (and
/// app) on the main lcore; with one lcore it polls both alternately on the main lcore. Engines resolve each
/// other with ARP over the ring pair like hosts on a wire.
#pragma once

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/api/stack.h"
#include "lib/core/engine.h"
#include "lib/net/addr.h"

namespace synack {

/// The most payload one loopback segment carries with segmentation offload (all an IPv4 datagram holds).
inline constexpr uint32_t kLoopbackTsoMax = kTsoMaxPayload;

/// Everything Loopback::Create needs.
struct LoopbackOptions {
  /// argv[0] for the EAL (and its log lines).
  std::string program = "synack";
  /// EAL arguments (as StackConfig::eal_args); `-l` and `--no-pci` are added unless given.
  std::vector<std::string> eal_args;
  /// The client engine's address and prefix.
  Ipv4Prefix client = {Ipv4Addr::Of(198, 18, 0, 1), 24};
  /// The server engine's address and prefix.
  Ipv4Prefix server = {Ipv4Addr::Of(198, 18, 0, 2), 24};
  /// The server's next hop for off-link addresses (e.g. the client, so that replies to spoofed flood
  /// sources go back to the client's port and are dropped there).
  std::optional<Ipv4Addr> server_gateway;
  uint32_t mbufs = 16383;  ///< per engine (frames; the same number of indirect mbufs)
  bool hugepages = false;  ///< use mounted hugepages instead of --no-huge
  /// The client engine's TCP configuration; max_connections, max_time_wait and ephemeral ports are taken
  /// from here (and from `server_tcp`) as given, the checksum offloads and the ISN keys are filled in by
  /// Create.
  TcpLayerConfig client_tcp;
  /// The server engine's TCP configuration (as `client_tcp`).
  TcpLayerConfig server_tcp;
  /// What both engines send goes through this impaired link (each with its own seed).
  ImpairConfig impair;
  /// Segmentation offload across the ring pair: new data goes out in segments of up to kLoopbackTsoMax
  /// payload bytes (whole MSS pieces; TcpConfig::tso_max, set for both engines whatever `client_tcp` and
  /// `server_tcp` say) that the ring carries whole, as Linux's veth carries GSO packets. Unset: on,
  /// unless `impair` is enabled (its faults then hit MSS-sized frames). Refused with an `impair` MTU.
  std::optional<bool> tso;
  /// Measure where each engine's cycles go (see StackConfig::profile).
  bool profile = false;
  /// Write every frame both engines send and receive to a pcapng file (see StackConfig::capture). Each
  /// frame appears twice: sent on one ring port, received on the other (the file's interfaces).
  CaptureConfig capture;
  /// Let dpdk-dumpcap attach (see StackConfig::pdump): its `-i` takes the ring ports' names.
  bool pdump = false;
};

/// A client and a server engine in one process over a net_ring port pair (ownership and threading: see
/// the file comment).
class Loopback {
 public:
  /// Starts the EAL with `options.eal_args` plus defaults for this mode (`--no-pci`; `-l` with the first
  /// two CPUs this process may run on, unless the user chose lcores), then pools, the ring pair and both
  /// engines.
  static absl::StatusOr<std::unique_ptr<Loopback>> Create(const LoopbackOptions& options);
  ~Loopback();
  Loopback(const Loopback&) = delete;
  Loopback& operator=(const Loopback&) = delete;

  /// Starts both engines, then server.Start() and, once that succeeded, client.Start(); polls until
  /// client.Done() or SIGINT/SIGTERM (InstallStopSignals), then lets final segments drain for a few
  /// milliseconds. Returns the first Start error. Both applications stay the caller's.
  absl::Status Run(Application& server, Application& client);

  /// What SIGUSR1 prints (to stdout) during Run: as Stack::SetStatusPrinter; by default both engines'
  /// counters. Called on the main lcore (the client's): the server engine and app are read while they run
  /// on theirs (plain single-writer integers: a status print that may be a few packets stale).
  void SetStatusPrinter(std::function<void(FILE*)> printer) { status_printer_ = std::move(printer); }

  /// The server engine (owned by the Loopback).
  Engine& server() { return *server_; }
  /// The client engine (owned by the Loopback).
  Engine& client() { return *client_; }
  /// The options given to Create.
  const LoopbackOptions& options() const { return options_; }
  /// True when the engines run on two lcores.
  bool parallel() const { return server_lcore_ != kNoLcore; }
  /// One line: the ring ports, addresses and which lcores poll which engine.
  std::string Describe() const;
  /// The pcapng writer of LoopbackOptions::capture (null when capture is off). Owned by the Loopback.
  const CaptureWriter* capture() const { return capture_.get(); }

 private:
  static constexpr unsigned kNoLcore = ~0u;
  Loopback() = default;
  static int ServerMain(void* self);
  absl::Status RunAlternating(Application& server, Application& client);
  // On the main lcore's loop: the status, once per SIGUSR1.
  void MaybePrintStatus();

  LoopbackOptions options_;
  uint16_t client_port_ = 0;
  uint16_t server_port_ = 0;
  unsigned server_lcore_ = kNoLcore;
  bool eal_started_ = false;
  std::unique_ptr<CaptureWriter> capture_;  // outlives the engines (they hold its taps)
  std::unique_ptr<Engine> client_;
  std::unique_ptr<Engine> server_;

  // Hand-over between the main lcore and the server's lcore during Run.
  Application* server_app_ = nullptr;
  std::atomic<int> server_state_{0};  // 0 starting, 1 running, 2 Start failed
  absl::Status server_status_;
  std::atomic<bool> stop_{false};
  std::function<void(FILE*)> status_printer_;
  std::unique_ptr<TelemetryRegistration> telemetry_;  // the /synack/ telemetry commands read the engines
};

}  // namespace synack
