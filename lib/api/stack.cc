#include "lib/api/stack.h"

#include <atomic>
#include <csignal>
#include <cstdio>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/log.h"
#include "lib/core/clock.h"
#include "lib/dev/eal.h"
#include "lib/tcp/isn.h"

namespace synack {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_dump{false};
void OnSignal(int) { g_stop.store(true); }
void OnDumpSignal(int) { g_dump.store(true); }

}  // namespace

void InstallStopSignals() {
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGUSR1, OnDumpSignal);  // counters now, and keep running
}

bool StopRequested() { return g_stop.load(std::memory_order_relaxed); }

bool TakeStatusRequest() { return g_dump.load(std::memory_order_relaxed) && g_dump.exchange(false); }

absl::StatusOr<std::unique_ptr<Stack>> Stack::Create(const StackConfig& options) {
  if (absl::Status s = TcpLayer::CheckConfig(options.tcp); !s.ok()) return s;
  EalConfig eal;
  eal.program_name = options.program;
  eal.user_args = options.eal_args;
  eal.hugepages = options.hugepages;
  eal.pdump = options.pdump;
  if (absl::Status s = InitEal(eal); !s.ok()) return s;
  std::unique_ptr<Stack> rt(new Stack());
  const uint16_t n = static_cast<uint16_t>(rte_lcore_count());

  // Each engine owns its pools: RX buffers of its queue, frames it builds, indirect mbufs for zero-copy —
  // on the NUMA socket of the lcore it runs on.
  const std::vector<unsigned> lcores = EngineLcores();
  std::vector<rte_mempool*> pools, indirect_pools;
  for (uint16_t i = 0; i < n; ++i) {
    absl::StatusOr<EnginePools> p =
        CreateEnginePools(absl::StrCat("app_pool", i), options.mbufs, LcoreSocket(lcores[i]));
    if (!p.ok()) return p.status();
    pools.push_back(p->frames);
    indirect_pools.push_back(p->indirect);
  }

  PortConfig pc;
  pc.port_id = options.eth_port;
  pc.pool = pools[0];
  if (n > 1) {
    if (!rte_eth_dev_is_valid_port(pc.port_id)) {
      return absl::NotFoundError(absl::StrFormat(
          "--eth-port %u does not exist (add a device, e.g. --vdev net_tap0, or pick another port)", pc.port_id));
    }
    rte_eth_dev_info info;
    if (int rc = rte_eth_dev_info_get(pc.port_id, &info); rc != 0) {
      return absl::InternalError(absl::StrFormat("rte_eth_dev_info_get(port %u): %s", pc.port_id, rte_strerror(-rc)));
    }
    if (info.max_tx_queues < n) {
      return absl::InvalidArgumentError(
          absl::StrFormat("-l: %u lcores need %u TX queues but port %u (%s) has %u; give EAL at most %u lcores", n, n,
                          pc.port_id, info.driver_name, info.max_tx_queues, info.max_tx_queues));
    }
    pc.tx_queues = n;
    pc.rx_queues = std::min<uint16_t>(n, info.max_rx_queues);
    pc.rx_pools.assign(pools.begin(), pools.begin() + pc.rx_queues);
    const RssKey key = SymmetricRssKey();
    pc.rss_key.assign(key.begin(), key.end());
  }
  absl::StatusOr<PortInfo> port = ConfigurePort(pc);
  if (!port.ok()) return port.status();
  rt->port_ = *port;
  if (const std::string w = NoHugepagesWarning(port->port_id, port->bus, port->driver, rte_eal_has_hugepages() != 0);
      !w.empty()) {
    std::fprintf(stderr, "%s\n", w.c_str());
  }
  for (uint16_t i = 0; i < n; ++i) {
    if (port->socket >= 0 && LcoreSocket(lcores[i]) != port->socket) {
      std::fprintf(stderr,
                   "synack: warning: engine %u runs on lcore %u (NUMA socket %d), port %u is on socket %d: pick lcores "
                   "on the NIC's node (README, \"Running on a real NIC\")\n",
                   i, lcores[i], LcoreSocket(lcores[i]), port->port_id, port->socket);
    }
  }

  if (n > 1) {
    const bool hw = port->rss && pc.rx_queues == n;
    rt->steering_ = std::make_unique<RssSteering>(SymmetricRssKey(), n, port->rss ? port->reta_size : 128);
    if (hw) {
      rt->dispatch_ = absl::StrFormat("%u engines, hardware RSS (symmetric Toeplitz, reta %u), checked in software", n,
                                      port->reta_size);
    } else {
      rt->dispatch_ = absl::StrFormat("%u engines, software dispatch over rte_rings (%u RX queue%s; %s)", n,
                                      pc.rx_queues, pc.rx_queues == 1 ? "" : "s",
                                      !port->rss_note.empty() ? port->rss_note : "fewer RX queues than engines");
    }
  } else {
    rt->dispatch_ = "1 engine";
  }

  // ring[a * n + b]: frames engine a hands to engine b (one producer, one consumer).
  rt->rings_.assign(size_t{n} * n, nullptr);
  for (uint16_t a = 0; a < n; ++a) {
    for (uint16_t b = 0; b < n; ++b) {
      if (a == b) continue;
      // On the consumer's socket (engine b polls it), else anywhere.
      const std::string name = absl::StrCat("dispatch", a, "_", b);
      rte_ring* r = rte_ring_create(name.c_str(), 4096, LcoreSocket(lcores[b]), RING_F_SP_ENQ | RING_F_SC_DEQ);
      if (r == nullptr) r = rte_ring_create(name.c_str(), 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      if (r == nullptr) {
        return absl::ResourceExhaustedError(absl::StrCat("rte_ring_create(dispatch): ", rte_strerror(rte_errno)));
      }
      rt->rings_[size_t{a} * n + b] = r;
    }
  }

  if (options.capture.enabled()) {
    absl::StatusOr<std::unique_ptr<CaptureWriter>> w = CaptureWriter::Open(options.capture, n, CaptureSnapLen(*port));
    if (!w.ok()) return w.status();
    rt->capture_ = std::move(*w);
  }

  for (uint16_t i = 0; i < n; ++i) {
    EngineConfig ec = EngineConfigForPort(*port, options.local, options.tcp);
    if (rt->capture_ != nullptr) ec.capture = rt->capture_->tap(i);
    ec.queue_id = i;
    // Engines beyond the device's RX queues poll none: their frames come over the dispatch rings.
    ec.rx_queues = i < pc.rx_queues ? std::vector<uint16_t>{i} : std::vector<uint16_t>{};
    ec.net.gateway = options.gateway;
    ec.net.local_count = options.local_count;
    // A real port: both directions go through the impaired link (each engine with its own fates).
    ec.tx_impair = ec.rx_impair = options.impair;
    ec.profile_every = options.profile ? kProfileEvery : 0;
    ec.tx_impair.seed = options.impair.seed * 2 + 1 + i * 1000;
    ec.rx_impair.seed = options.impair.seed * 2 + 2 + i * 1000;
    if (n > 1) {
      ec.tcp.steering = rt->steering_.get();
      ec.tcp.engine_index = i;
      ec.dispatch.steering = rt->steering_.get();
      ec.dispatch.index = i;
      for (uint16_t j = 0; j < n; ++j) {
        ec.dispatch.to.push_back(rt->rings_[size_t{i} * n + j]);
        ec.dispatch.from.push_back(rt->rings_[size_t{j} * n + i]);
      }
    }
    // Built on its own lcore: its tables (connection slab, flow and TIME-WAIT tables, timer wheel) are
    // first touched there, so they land on that lcore's NUMA node like its pools.
    std::unique_ptr<Engine> engine;
    if (absl::Status s =
            RunOnLcore(lcores[i], [&] { engine = std::make_unique<Engine>(ec, pools[i], indirect_pools[i]); });
        !s.ok()) {
      return s;
    }
    rt->engines_.push_back(std::move(engine));
  }
  TelemetrySource ts;
  ts.kind = "stack";
  ts.dispatch = rt->dispatch_;
  ts.ports.push_back(TelemetryPortLine(rt->port_));
  for (uint16_t i = 0; i < n; ++i) ts.engines.push_back({rt->engines_[i].get(), absl::StrCat("engine ", i)});
  rt->telemetry_ = TelemetryRegistration::Register(std::move(ts));
  if (rt->capture_ != nullptr) rt->capture_->Start();
  return rt;
}

Stack::~Stack() {
  telemetry_.reset();  // no telemetry command reads the engines from now on
  const uint16_t port = port_.port_id;
  engines_.clear();  // frees every frame the engines still hold before the port and the EAL go
  capture_.reset();  // writes what the engines queued last and closes the file
  ClosePort(port);
  for (rte_ring* r : rings_) {
    if (r == nullptr) continue;
    void* m;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(r);
  }
  CleanupEal();
}

struct Stack::Lane {
  Engine* engine = nullptr;
  Application* app = nullptr;
  std::atomic<bool>* stop = nullptr;
  const Stack* runtime = nullptr;  // set on the main lcore's lane only (SIGUSR1 printing)
  absl::Status status;
};

int Stack::LaneMain(void* arg) {
  Lane& lane = *static_cast<Lane*>(arg);
  Engine& engine = *lane.engine;
  Application* app = lane.app;
  TscClock clock;
  engine.Start(clock.Now());
  if (app != nullptr) {
    lane.status = app->Start(engine);
    SYNACK_LOG_DEBUG(kApp, "application on engine %u (lcore %u): start %s", static_cast<unsigned>(engine.index()),
                     rte_lcore_id(), lane.status.ok() ? "ok" : lane.status.ToString().c_str());
    if (!lane.status.ok()) {
      lane.stop->store(true);
      return 1;
    }
  }
  while (!StopRequested() && !lane.stop->load(std::memory_order_relaxed)) {
    PollEngineOnce(engine, app, clock.Now());
    if (app != nullptr && app->Done()) lane.stop->store(true);
    // SIGUSR1: the main lcore prints the status (see SetStatusPrinter for what is read while it runs).
    if (lane.runtime != nullptr && TakeStatusRequest()) lane.runtime->PrintStatus(stdout);
  }
  // Give queued frames (final ACKs, FINs) a chance to leave.
  for (int i = 0; i < 100; ++i) engine.PollOnce(clock.Now());
  return 0;
}

absl::Status Stack::Run(Application& app) {
  std::vector<Application*> apps(engines_.size(), nullptr);
  apps[0] = &app;
  return RunAll(apps);
}

absl::Status Stack::RunAll(const std::vector<Application*>& apps) {
  std::atomic<bool> stop{false};
  std::vector<Lane> lanes(engines_.size());
  for (size_t i = 0; i < engines_.size(); ++i) {
    lanes[i].engine = engines_[i].get();
    lanes[i].app = i < apps.size() ? apps[i] : nullptr;
    lanes[i].stop = &stop;
  }
  // Engine i > 0 runs on the i-th worker lcore; engine 0 on the main lcore.
  size_t i = 1;
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    if (i >= lanes.size()) break;
    if (int rc = rte_eal_remote_launch(LaneMain, &lanes[i], lcore); rc != 0) {
      stop.store(true);
      rte_eal_mp_wait_lcore();
      return absl::InternalError(absl::StrFormat("rte_eal_remote_launch(lcore %u): %s", lcore, rte_strerror(-rc)));
    }
    ++i;
  }
  lanes[0].runtime = this;
  LaneMain(&lanes[0]);
  stop.store(true);
  rte_eal_mp_wait_lcore();
  for (const Lane& l : lanes) {
    if (!l.status.ok()) return l.status;
  }
  return absl::OkStatus();
}

uint32_t CaptureSnapLen(const PortInfo& port) {
  // The largest frame the port carries: Ethernet header, a VLAN tag, the MTU.
  return std::max<uint32_t>(port.mtu, 1500) + 18;
}

EngineConfig EngineConfigForPort(const PortInfo& port, const Ipv4Prefix& local, const TcpLayerConfig& tcp) {
  EngineConfig ec;
  ec.port_id = port.port_id;
  ec.net.local = local;
  ec.net.mac = port.mac;
  ec.net.tx_ip_cksum_offload = port.tx_ip_cksum;
  ec.tcp = tcp;
  ec.tcp.tcp.tso_max = 0;  // a port's frames go out as built: no NIC segmentation offload wired yet
  ec.tcp.tx_tcp_cksum_offload = port.tx_tcp_cksum;
  // The MSS we advertise (and the most we send) follows the port's MTU: 40 bytes of IPv4 and TCP.
  ec.tcp.tcp.mss = static_cast<uint16_t>(std::min<uint32_t>(ec.tcp.tcp.mss, std::max<uint32_t>(port.mtu, 576) - 40));
  ec.tcp.isn_key = RandomKey();
  return ec;
}

absl::StatusOr<EnginePools> CreateEnginePools(const std::string& name, uint32_t mbufs, int socket_id) {
  EnginePools p;
  absl::StatusOr<rte_mempool*> frames = CreateMbufPool(name, mbufs, socket_id);
  if (!frames.ok() && socket_id >= 0) frames = CreateMbufPool(name, mbufs, SOCKET_ID_ANY);
  if (!frames.ok()) return frames.status();
  absl::StatusOr<rte_mempool*> indirect = CreateIndirectPool(name + "_ind", mbufs, socket_id);
  if (!indirect.ok() && socket_id >= 0) indirect = CreateIndirectPool(name + "_ind", mbufs, SOCKET_ID_ANY);
  if (!indirect.ok()) return indirect.status();
  p.frames = *frames;
  p.indirect = *indirect;
  return p;
}

void PollEngineOnce(Engine& engine, Application* app, Instant now) {
  // Left uninitialised: PollEvents writes what it returns, and zeroing 64 events on every poll cost a
  // loopback engine ~8% of its cycles (an engine polls a few million times a second).
  union Buffer {
    Buffer() {}
    Event e[64];
  } buf;
  absl::Span<Event> events(buf.e);
  engine.PollOnce(now);
  for (size_t n; (n = engine.tcp().PollEvents(events)) > 0;) {
    if (app == nullptr) continue;
    for (size_t i = 0; i < n; ++i) app->OnEvent(engine, events[i]);
  }
  if (app != nullptr) app->OnPoll(engine, now);
}

namespace {

// One engine's PhaseProfile: each phase's share of the measured cycles, and of the busy ones (not idle,
// not the application) per received frame in nanoseconds.
void PrintEngineProfile(FILE* out, const Engine& e, size_t index) {
  const PhaseProfile& p = e.profile();
  if (!p.enabled() || p.polls() == 0) return;
  const double total = static_cast<double>(p.total_cycles());
  const double ns_per_cycle = 1e9 / static_cast<double>(rte_get_tsc_hz());
  const double frames = static_cast<double>(p.frames());
  std::fprintf(out, "  profile engine %zu: %llu polls measured (1 in %u), %llu frames, %.0f ns per poll\n", index,
               static_cast<unsigned long long>(p.polls()), p.every(), static_cast<unsigned long long>(p.frames()),
               total * ns_per_cycle / static_cast<double>(p.polls()));
  for (size_t i = 0; i < PhaseProfile::kPhases; ++i) {
    const Phase ph = static_cast<Phase>(i);
    const double c = static_cast<double>(p.cycles(ph));
    const bool per_frame = ph != Phase::kIdle && ph != Phase::kApp && frames > 0;
    std::fprintf(out, "    %-17s %5.1f%%", PhaseName(ph), total > 0 ? 100.0 * c / total : 0.0);
    if (per_frame) std::fprintf(out, "  %8.1f ns/frame", c * ns_per_cycle / frames);
    std::fprintf(out, "\n");
  }
}

}  // namespace

std::vector<std::pair<std::string, uint64_t>> EngineCounterTotals(const std::vector<const Engine*>& engines) {
  // Totals over all engines, in the engines' own counter order.
  std::vector<std::pair<std::string, uint64_t>> totals;
  absl::flat_hash_map<std::string, size_t> at;
  auto add = [&](const std::string& name, uint64_t v) {
    auto [it, inserted] = at.try_emplace(name, totals.size());
    if (inserted) totals.emplace_back(name, 0);
    totals[it->second].second += v;
  };
  for (const Engine* e : engines) {
    e->counters().ForEach([&](std::string_view n, uint64_t v) { add(std::string(n), v); });
    e->tcp().counters().ForEach([&](std::string_view n, uint64_t v) { add(absl::StrCat("tcp.", std::string(n)), v); });
    e->tcp().tcp_counters().ForEach(
        [&](std::string_view n, uint64_t v) { add(absl::StrCat("tcp.", std::string(n)), v); });
    add("pool.frames_in_use", rte_mempool_in_use_count(e->pool()));
    for (const Impairment* imp : {e->tx_impairment(), e->rx_impairment()}) {
      if (imp == nullptr) continue;
      const char* dir = imp == e->tx_impairment() ? "impair.tx." : "impair.rx.";
      imp->counters().ForEach([&](std::string_view n, uint64_t v) { add(absl::StrCat(dir, std::string(n)), v); });
    }
    if (const CaptureTap* tap = e->capture()) {
      tap->counters().ForEach(
          [&](std::string_view n, uint64_t v) { add(absl::StrCat("capture.", std::string(n)), v); });
    }
    add("tcp.connections", e->tcp().connections());
    add("tcp.time_wait", e->tcp().time_wait_entries());
    add("tcp.orphans", e->tcp().orphans());
  }
  return totals;
}

void PrintEngineCounters(FILE* out, const std::vector<const Engine*>& engines, const std::string& title) {
  std::fprintf(out, "%s\n", title.c_str());
  for (const auto& [name, v] : EngineCounterTotals(engines)) {
    if (v != 0) std::fprintf(out, "  %s %llu\n", name.c_str(), static_cast<unsigned long long>(v));
  }
  for (size_t i = 0; i < engines.size(); ++i) PrintEngineProfile(out, *engines[i], i);
  if (engines.size() > 1) {
    for (size_t i = 0; i < engines.size(); ++i) {
      const Engine& e = *engines[i];
      std::fprintf(out,
                   "  engine %zu: rx_frames %llu dispatched_in %llu dispatched_out %llu accepted %llu connected %llu\n",
                   i, static_cast<unsigned long long>(e.counters().rx_frames),
                   static_cast<unsigned long long>(e.counters().dispatched_in),
                   static_cast<unsigned long long>(e.counters().dispatched_out),
                   static_cast<unsigned long long>(e.tcp().counters().accepted),
                   static_cast<unsigned long long>(e.tcp().counters().connected));
    }
  }
  std::fflush(out);
}

void Stack::PrintStatus(FILE* out) const {
  if (status_printer_) {
    status_printer_(out);
  } else {
    PrintCounters(out, "counters (SIGUSR1):");
  }
  std::fflush(out);
}

void Stack::PrintCounters(FILE* out, const std::string& title) const {
  std::vector<const Engine*> engines;
  for (const auto& e : engines_) engines.push_back(e.get());
  PrintEngineCounters(out, engines, title);
}

}  // namespace synack
