#include "lib/api/loopback.h"

#include <algorithm>

#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/base/log.h"
#include "lib/core/clock.h"
#include "lib/dev/eal.h"
#include "lib/dev/port.h"
#include "lib/dev/ring_pair.h"

namespace synack {
namespace {

// How long both engines keep polling after the client app is done, so final ACKs and FINs get through.
constexpr Duration kDrainTime = Duration::Milliseconds(20);

bool HasAnyArg(const std::vector<std::string>& args, std::initializer_list<absl::string_view> names) {
  for (const std::string& a : args) {
    for (absl::string_view n : names) {
      if (a == n || absl::StartsWith(a, absl::StrCat(n, "="))) return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Loopback>> Loopback::Create(const LoopbackOptions& options) {
  for (const TcpLayerConfig* c : {&options.client_tcp, &options.server_tcp}) {
    if (absl::Status s = TcpLayer::CheckConfig(*c); !s.ok()) return s;
  }
  EalConfig eal;
  eal.program_name = options.program;
  eal.user_args = options.eal_args;
  eal.hugepages = options.hugepages;
  eal.pdump = options.pdump;
  if (!HasAnyArg(options.eal_args, {"-l", "-c", "--lcores"})) {
    std::vector<std::string> l = FirstCpusLcoreArgs(2, options.pdump ? 1 : 0);
    eal.user_args.insert(eal.user_args.end(), l.begin(), l.end());
  }
  if (!HasAnyArg(options.eal_args, {"--no-pci", "-a", "--allow", "-b", "--block"})) eal.user_args.push_back("--no-pci");
  if (absl::Status s = InitEal(eal); !s.ok()) return s;

  std::unique_ptr<Loopback> lb(new Loopback());
  lb->eal_started_ = true;
  lb->options_ = options;
  if (rte_lcore_count() >= 2) lb->server_lcore_ = rte_get_next_lcore(-1, /*skip_main=*/1, /*wrap=*/0);
  // Each engine's pools on the NUMA socket of the lcore it runs on (the server's: the main one's when alone).
  absl::StatusOr<EnginePools> client_pools =
      CreateEnginePools("lo_client", options.mbufs, LcoreSocket(rte_get_main_lcore()));
  if (!client_pools.ok()) return client_pools.status();
  absl::StatusOr<EnginePools> server_pools = CreateEnginePools(
      "lo_server", options.mbufs, LcoreSocket(lb->parallel() ? lb->server_lcore_ : rte_get_main_lcore()));
  if (!server_pools.ok()) return server_pools.status();

  absl::StatusOr<RingPair> pair = CreateRingPair("synack_lo", 1, 4096);
  if (!pair.ok()) return pair.status();
  PortConfig pc;
  pc.port_id = pair->a;
  pc.pool = client_pools->frames;
  absl::StatusOr<PortInfo> client_port = ConfigurePort(pc);
  if (!client_port.ok()) return client_port.status();
  lb->client_port_ = pair->a;
  pc.port_id = pair->b;
  pc.pool = server_pools->frames;
  absl::StatusOr<PortInfo> server_port = ConfigurePort(pc);
  if (!server_port.ok()) return server_port.status();
  lb->server_port_ = pair->b;

  const bool tso = options.tso.value_or(!options.impair.enabled());
  if (tso && options.impair.mtu > 0) {
    return absl::InvalidArgumentError(
        "--tso on with --impair mtu=...: the impaired link would drop every segment larger than its MTU");
  }
  if (options.capture.enabled()) {
    // Frames are cut at the ports' MTU (a 64 KiB segmentation-offload frame keeps its first 1,518
    // bytes, as a capture on Linux's lo shows GSO packets cut at its snap length).
    absl::StatusOr<std::unique_ptr<CaptureWriter>> w =
        CaptureWriter::Open(options.capture, 2, std::max(CaptureSnapLen(*client_port), CaptureSnapLen(*server_port)));
    if (!w.ok()) return w.status();
    lb->capture_ = std::move(*w);
  }

  EngineConfig client_config = EngineConfigForPort(*client_port, options.client, options.client_tcp);
  if (lb->capture_ != nullptr) client_config.capture = lb->capture_->tap(0);
  client_config.tx_impair = options.impair;
  client_config.profile_every = options.profile ? kProfileEvery : 0;
  EngineConfig server_config = EngineConfigForPort(*server_port, options.server, options.server_tcp);
  server_config.net.gateway = options.server_gateway;
  server_config.tx_impair = options.impair;
  server_config.tx_impair.seed = options.impair.seed * 7919 + 13;
  server_config.profile_every = options.profile ? kProfileEvery : 0;
  if (lb->capture_ != nullptr) server_config.capture = lb->capture_->tap(1);
  if (options.impair.corrupt == 0) {
    // The ring pair never leaves this process's memory: as Linux does on lo and veth, neither engine
    // sums checksums (the sender leaves them to "the device", the receiver takes them as good). A link
    // that corrupts frames keeps them: checksums are what catches it.
    for (EngineConfig* ec : {&client_config, &server_config}) {
      ec->net.tx_ip_cksum_offload = ec->tcp.tx_tcp_cksum_offload = true;
      ec->net.rx_cksum_trusted = ec->tcp.rx_cksum_trusted = true;
    }
  }
  for (EngineConfig* ec : {&client_config, &server_config}) ec->tcp.tcp.tso_max = tso ? kLoopbackTsoMax : 0;
  lb->client_ = std::make_unique<Engine>(client_config, client_pools->frames, client_pools->indirect);
  lb->server_ = std::make_unique<Engine>(server_config, server_pools->frames, server_pools->indirect);
  TelemetrySource ts;
  ts.kind = "loopback";
  ts.dispatch = lb->parallel() ? "2 engines on 2 lcores (client, server)" : "2 engines polled alternately on 1 lcore";
  ts.ports = {TelemetryPortLine(*client_port, "client"), TelemetryPortLine(*server_port, "server")};
  ts.engines = {{lb->client_.get(), "client"}, {lb->server_.get(), "server"}};
  lb->telemetry_ = TelemetryRegistration::Register(std::move(ts));
  if (lb->capture_ != nullptr) lb->capture_->Start();
  return lb;
}

Loopback::~Loopback() {
  telemetry_.reset();  // no telemetry command reads the engines from now on
  if (server_lcore_ != kNoLcore) {
    stop_.store(true);
    rte_eal_wait_lcore(server_lcore_);
  }
  // Engines free the frames they hold before their ports and the EAL go.
  client_.reset();
  server_.reset();
  capture_.reset();  // writes what the engines queued last and closes the file
  if (!eal_started_) return;
  ClosePort(client_port_);
  ClosePort(server_port_);
  CleanupEal();
}

std::string Loopback::Describe() const {
  std::string s = absl::StrCat("loopback: client ", options_.client.ToString(), " on ring port ", client_port_,
                               ", server ", options_.server.ToString(), " on ring port ", server_port_);
  if (parallel()) {
    absl::StrAppend(&s, "; server on lcore ", server_lcore_, ", client on lcore ", rte_get_main_lcore());
  } else {
    absl::StrAppend(&s, "; only one lcore: both engines polled alternately on lcore ", rte_get_main_lcore(),
                    " (give two with -l 0-1)");
  }
  if (client_->tcp().config().tcp.tso_max > 0)
    absl::StrAppend(&s, "; segments of up to 64 KiB cross the ring whole (TSO)");
  return s;
}

int Loopback::ServerMain(void* arg) {
  Loopback& lb = *static_cast<Loopback*>(arg);
  Engine& engine = *lb.server_;
  Application& app = *lb.server_app_;
  TscClock clock;
  engine.Start(clock.Now());
  lb.server_status_ = app.Start(engine);
  SYNACK_LOG_DEBUG(kApp, "loopback server application: start %s",
                   lb.server_status_.ok() ? "ok" : lb.server_status_.ToString().c_str());
  if (!lb.server_status_.ok()) {
    lb.server_state_.store(2, std::memory_order_release);
    return 1;
  }
  lb.server_state_.store(1, std::memory_order_release);
  while (!lb.stop_.load(std::memory_order_relaxed)) PollEngineOnce(engine, &app, clock.Now());
  const Instant end = clock.Now() + kDrainTime;
  while (clock.Now() < end) PollEngineOnce(engine, &app, clock.Now());
  return 0;
}

absl::Status Loopback::Run(Application& server, Application& client) {
  if (!parallel()) return RunAlternating(server, client);
  server_app_ = &server;
  server_state_.store(0);
  stop_.store(false);
  if (int rc = rte_eal_remote_launch(&Loopback::ServerMain, this, server_lcore_); rc != 0) {
    return absl::InternalError(absl::StrCat("rte_eal_remote_launch(lcore ", server_lcore_, "): ", rc));
  }
  int state;
  while ((state = server_state_.load(std::memory_order_acquire)) == 0) rte_pause();
  if (state == 2) {
    rte_eal_wait_lcore(server_lcore_);
    return server_status_;
  }
  TscClock clock;
  client_->Start(clock.Now());
  absl::Status status = client.Start(*client_);
  SYNACK_LOG_DEBUG(kApp, "loopback client application: start %s", status.ok() ? "ok" : status.ToString().c_str());
  if (status.ok()) {
    while (!StopRequested() && !client.Done()) {
      PollEngineOnce(*client_, &client, clock.Now());
      MaybePrintStatus();
    }
  }
  // The server keeps polling while the client's last segments drain, then both stop.
  const Instant end = clock.Now() + kDrainTime;
  while (clock.Now() < end) PollEngineOnce(*client_, &client, clock.Now());
  stop_.store(true);
  rte_eal_wait_lcore(server_lcore_);
  return status;
}

void Loopback::MaybePrintStatus() {
  if (!TakeStatusRequest()) return;
  if (status_printer_) {
    status_printer_(stdout);
  } else {
    PrintEngineCounters(stdout, {client_.get()}, "client counters (SIGUSR1):");
    PrintEngineCounters(stdout, {server_.get()}, "server counters (SIGUSR1):");
  }
  std::fflush(stdout);
}

absl::Status Loopback::RunAlternating(Application& server, Application& client) {
  TscClock clock;
  server_->Start(clock.Now());
  client_->Start(clock.Now());
  if (absl::Status s = server.Start(*server_); !s.ok()) return s;
  absl::Status status = client.Start(*client_);
  SYNACK_LOG_DEBUG(kApp, "loopback client application: start %s", status.ok() ? "ok" : status.ToString().c_str());
  if (status.ok()) {
    while (!StopRequested() && !client.Done()) {
      PollEngineOnce(*server_, &server, clock.Now());
      PollEngineOnce(*client_, &client, clock.Now());
      MaybePrintStatus();
    }
  }
  const Instant end = clock.Now() + kDrainTime;
  while (clock.Now() < end) {
    PollEngineOnce(*server_, &server, clock.Now());
    PollEngineOnce(*client_, &client, clock.Now());
  }
  return status;
}

}  // namespace synack
