// Runtime: what every synack-* server or client app shares — common flags (--ip, --gateway, --eth-port,
// --mbufs, --max-connections, --max-time-wait, --hugepages), EAL and pool start-up, port set-up, one engine per EAL lcore
// (`-l 0-3` gives four; each with its own RX/TX queue, mempools, connection table and timers), flow
// dispatch (hardware RSS with a symmetric key when the device has it and reads it back, otherwise
// software dispatch over rte_rings), the poll loops that hand TCP events to the apps, SIGINT/SIGTERM
// handling and the counters printed at exit. Control plane, except the poll loops, one per lcore.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "apps/common/cli.h"
#include "lib/core/engine.h"
#include "lib/dev/impairment.h"
#include "lib/core/rss.h"
#include "lib/dev/port.h"

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
  ImpairConfig impair;  // applied to what every engine sends and receives (loopback: sends)
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

// One app instance per engine; all calls on the engine's lcore.
class App {
 public:
  virtual ~App() = default;
  // Called once the engine is up (listen, connect, print the readiness line).
  virtual absl::Status Start(Engine& engine) = 0;
  virtual void OnEvent(Engine& engine, const Event& e) = 0;
  // Called every loop iteration after events (clients generate load here).
  virtual void OnPoll(Engine& engine, Instant now) {}
  // The loop ends when this returns true (or on SIGINT/SIGTERM).
  virtual bool Done() const { return false; }
};

class Runtime {
 public:
  // Starts EAL (defaults: --no-huge -m 512 --no-shconf), pools and the port, and builds the engine.
  static absl::StatusOr<std::unique_ptr<Runtime>> Create(const std::string& program, const cli::SplitArgs& args,
                                                         const CommonOptions& options, const TcpLayerConfig& tcp);
  ~Runtime();

  Engine& engine() { return *engines_[0]; }
  const PortInfo& port() const { return port_; }

  // Engines, one per lcore; engine(0) runs on the main lcore.
  size_t engines() const { return engines_.size(); }
  Engine& engine(size_t i) { return *engines_[i]; }
  // How flows reach their engine, for the start-up report ("software dispatch: ...", "hardware RSS ...").
  const std::string& dispatch() const { return dispatch_; }

  // Runs `app` on engine 0 (the main lcore); the other engines poll without an app (they still receive
  // and forward frames). Until SIGINT/SIGTERM or app.Done(); returns the app's Start error, if any.
  absl::Status Run(App& app);
  // Runs one app per engine, each on its engine's lcore: `apps[i]` on engine(i) (a null entry polls
  // without an app). Until SIGINT/SIGTERM or any app's Done(); returns the first Start error.
  absl::Status RunAll(const std::vector<App*>& apps);
  // Prints every non-zero counter (net, tcp layer, tcp state machine) under `title`.
  void PrintCounters(FILE* out, const std::string& title) const;

 private:
  struct Lane;  // one engine's poll loop context
  Runtime() = default;
  static int LaneMain(void* lane);

  PortInfo port_;
  std::string dispatch_;
  std::unique_ptr<RssSteering> steering_;
  std::vector<rte_ring*> rings_;
  std::vector<std::unique_ptr<Engine>> engines_;
};

// An engine's own pools: frames (RX buffers, frames it builds) and data-less mbufs for zero-copy TX.
struct EnginePools {
  rte_mempool* frames = nullptr;
  rte_mempool* indirect = nullptr;
};
// Creates "<name>" and "<name>_ind" with `mbufs` entries each.
absl::StatusOr<EnginePools> CreateEnginePools(const std::string& name, uint32_t mbufs);

// One iteration of an engine's loop: PollOnce, hand every TCP event to `app`, then app->OnPoll. With a
// null `app` the events are discarded. On the engine's lcore.
void PollEngineOnce(Engine& engine, App* app, Instant now);

// Prints every non-zero counter (net, tcp layer, tcp state machine) summed over `engines`, under
// `title`. On the engines' lcore, or on any thread once they stopped.
void PrintEngineCounters(FILE* out, const std::vector<const Engine*>& engines, const std::string& title);

// Installs SIGINT/SIGTERM handlers that make Run() return.
void InstallStopSignals();
bool StopRequested();

}  // namespace synack::app
