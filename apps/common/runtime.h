// Runtime: what every synack-* server or client app shares — common flags (--ip, --gateway, --eth-port,
// --mbufs, --max-connections, --hugepages), EAL and pool start-up, port set-up, one engine on the main
// lcore, the poll loop that hands TCP events to the app, SIGINT/SIGTERM handling and the counters
// printed at exit. Control plane, except Run(), which is the engine's lcore loop.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "apps/common/cli.h"
#include "lib/core/engine.h"
#include "lib/dev/port.h"

namespace synack::app {

struct CommonOptions {
  Ipv4Prefix local;
  std::optional<Ipv4Addr> gateway;
  uint16_t eth_port = 0;
  uint32_t mbufs = 16383;
  uint32_t max_connections = 4096;
  bool hugepages = false;
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

  Engine& engine() { return *engine_; }
  const PortInfo& port() const { return port_; }

  // Polls until SIGINT/SIGTERM or app.Done(); returns the app's Start error, if any.
  absl::Status Run(App& app);
  // Prints every non-zero counter (net, tcp layer, tcp state machine) under `title`.
  void PrintCounters(FILE* out, const std::string& title) const;

 private:
  Runtime() = default;
  PortInfo port_;
  std::unique_ptr<Engine> engine_;
};

// Installs SIGINT/SIGTERM handlers that make Run() return.
void InstallStopSignals();
bool StopRequested();

}  // namespace synack::app
