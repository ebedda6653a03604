// dev_ceiling: measures a DPDK virtual device's own packet-moving ceiling — how many frames per second
// one can allocate (rte_pktmbuf_alloc_bulk), build (a --size byte Ethernet frame copied from a template
// plus a sequence number), transmit, receive on the peer port and free (rte_pktmbuf_free_bulk), with no
// TCP/IP stack in the way — so connection-rate figures can be given as a fraction of what the device
// itself can move.
//
//   dev_ceiling [EAL options] -- [--device ring|null|memif] [--duration S] [--burst B] [--size BYTES]
//
// Devices and cores:
//   ring  (default) an in-memory net_ring pair (CreateRingPair, 4096 slots, as the loopback benchmark).
//         Two lcores: the main lcore allocates, builds and tx_bursts on port A; one worker lcore
//         rx_bursts on port B and frees (the loopback benchmark's client/server shape). One lcore: the
//         main lcore alternates a tx burst on A and an rx burst on B.
//   null  a net_null vdev (added as `--vdev net_null0,size=<size>` unless given), main lcore only:
//         first a tx phase (net_null frees what it transmits), then an rx phase (net_null's rx hands out
//         freshly allocated frames, which we free), each for --duration; both rates are printed and the
//         final pps is the slower of the two.
//   memif a net_memif server/client pair in this process over a socket under /tmp, in the ring's shape
//         (tx on the client port, rx on the server port); if the link does not come up it prints
//         "not supported here" and exits 2.
//
// Ownership: every mbuf is a raw pointer owned by exactly one holder at a time — the main lcore's staging
// array from allocation until tx_burst accepts it (refused frames stay there and are retried; each counts
// once as "lost", however often it is retried, and as moved only once received), then the device (a
// net_ring rte_ring, memif's shared ring, or net_null, which frees it), then the receiving lcore's burst
// array until rte_pktmbuf_free_bulk. Frames still in a device after the run are drained and freed on the
// main lcore once the worker has stopped, and the pool's in-use count must then be 0 (a warning says
// otherwise).
//
// Output: a start-up line, one progress line per second, a summary, then exactly one final line for
// scripts:  dev_ceiling: device=ring pps=N mpps=X.XX lcores=K burst=B size=S
// Only that line starts with "dev_ceiling: device=" (runtime warnings start "dev_ceiling warning:"). Bad
// flags print one line `dev_ceiling: --flag: what is wrong (fix)` on stderr and exit 2; so does memif
// where it cannot connect; other errors print `dev_ceiling: <reason>` and exit 1.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/dev/eal.h"
#include "lib/dev/port.h"
#include "lib/dev/ring_pair.h"

namespace synack::bench {
namespace {

constexpr char kProgram[] = "dev_ceiling";
constexpr unsigned kRingSize = 4096;    // net_ring slots per direction, as apps/common/loopback.cc
constexpr uint32_t kPoolMbufs = 16383;  // > ring + staging + two lcores' mempool caches
constexpr uint16_t kMaxBurst = 512;
constexpr uint16_t kMinSize = 60;                    // smallest Ethernet frame without FCS
constexpr uint16_t kMaxSize = 1514;                  // largest without jumbo frames (fits one default mbuf)
constexpr uint16_t kEtherTypeExperimental = 0x88B5;  // IEEE 802 local experimental
constexpr size_t kSeqOffset = 14;                    // sequence number right after the Ethernet header

enum class Device { kRing, kNull, kMemif };

const char* DeviceName(Device d) {
  switch (d) {
    case Device::kRing:
      return "ring";
    case Device::kNull:
      return "null";
    case Device::kMemif:
      return "memif";
  }
  return "?";
}

struct Options {
  Device device = Device::kRing;
  double duration_s = 2.0;
  uint16_t burst = 32;
  uint16_t size = 64;
  bool help = false;
};

// A bad flag: `dev_ceiling: --flag: what is wrong (fix)`.
struct FlagError {
  std::string message;
};

std::string Usage() {
  return absl::StrCat(
      "usage: ", kProgram,
      " [EAL options] -- [--device ring|null|memif] [--duration S] [--burst B] [--size BYTES]\n"
      "  --device    ring (default): net_ring pair, tx on the main lcore, rx+free on a worker (-l 0-1;\n"
      "              one lcore: alternate); null: net_null tx and rx rates separately; memif: a\n"
      "              net_memif server/client pair in this process\n"
      "  --duration  seconds to measure, > 0 (default 2; null measures tx and rx for this long each)\n"
      "  --burst     frames per rx/tx burst, 1..",
      kMaxBurst,
      " (default 32)\n"
      "  --size      frame bytes without FCS, ",
      kMinSize, "..", kMaxSize,
      " (default 64)\n"
      "EAL defaults: --no-huge -m 512 --no-shconf, a per-process --file-prefix, --no-pci, and -l with the\n"
      "first two CPUs this process may use. Last line: dev_ceiling: device=D pps=N mpps=X.XX lcores=K "
      "burst=B size=S\n");
}

std::optional<FlagError> ParseOptions(const std::vector<std::string>& args, Options* out) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      out->help = true;
      continue;
    }
    if (absl::StartsWith(a, "--help=")) return FlagError{"--help: takes no value (use --help alone)"};
    if (!absl::StartsWith(a, "--")) {
      return FlagError{absl::StrCat(a, ": unexpected argument (options start with --; EAL options go before --)")};
    }
    std::string name = a;
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (name != "--device" && name != "--duration" && name != "--burst" && name != "--size") {
      return FlagError{absl::StrCat(name, ": unknown option (use --device, --duration, --burst, --size or --help)")};
    }
    if (!value) {
      if (i + 1 >= args.size()) return FlagError{absl::StrCat(name, ": needs a value (see --help)")};
      value = args[++i];
    }
    const std::string& v = *value;
    if (name == "--device") {
      if (v == "ring") {
        out->device = Device::kRing;
      } else if (v == "null") {
        out->device = Device::kNull;
      } else if (v == "memif") {
        out->device = Device::kMemif;
      } else {
        return FlagError{absl::StrCat("--device: '", v, "' is not a device (use ring, null or memif)")};
      }
    } else if (name == "--duration") {
      double d = 0;
      if (!absl::SimpleAtod(v, &d) || !(d > 0) || d > 86400) {
        return FlagError{
            absl::StrCat("--duration: '", v, "' is not a number of seconds (use one > 0 and <= 86400, e.g. 2 or 0.5)")};
      }
      out->duration_s = d;
    } else {
      const bool burst = name == "--burst";
      const int lo = burst ? 1 : kMinSize;
      const int hi = burst ? kMaxBurst : kMaxSize;
      int n = 0;
      if (!absl::SimpleAtoi(v, &n) || n < lo || n > hi) {
        return FlagError{absl::StrCat(name, ": '", v, "' is not an integer in ", lo, "..", hi, " (use one in range)")};
      }
      (burst ? out->burst : out->size) = static_cast<uint16_t>(n);
    }
  }
  return std::nullopt;
}

bool HasArg(const std::vector<std::string>& args, std::initializer_list<absl::string_view> names) {
  for (const std::string& a : args) {
    for (absl::string_view n : names) {
      if (a == n || absl::StartsWith(a, absl::StrCat(n, "="))) return true;
      // Short options glued to their value: -l0-1, -c0x3.
      if (n.size() == 2 && n[0] == '-' && n[1] != '-' && a.size() > 2 && absl::StartsWith(a, n)) return true;
    }
  }
  return false;
}

bool AnyArgContains(const std::vector<std::string>& args, absl::string_view s) {
  for (const std::string& a : args) {
    if (absl::StrContains(a, s)) return true;
  }
  return false;
}

std::atomic<bool> g_interrupted{false};
void OnSignal(int) { g_interrupted.store(true, std::memory_order_relaxed); }

// TSC-based clock for the whole run.
struct Tsc {
  uint64_t hz = rte_get_tsc_hz();
  uint64_t Now() const { return rte_get_tsc_cycles(); }
  double Seconds(uint64_t cycles) const { return static_cast<double>(cycles) / static_cast<double>(hz); }
  uint64_t Cycles(double seconds) const { return static_cast<uint64_t>(seconds * static_cast<double>(hz)); }
};

double Rate(uint64_t frames, double seconds) { return seconds > 0 ? static_cast<double>(frames) / seconds : 0; }

// Main lcore's transmit side: allocates and builds frames into a staging array and hands them to the
// device; what the device refuses stays staged and is retried.
class Sender {
 public:
  Sender(rte_mempool* pool, uint16_t port, uint16_t burst, uint16_t size, const rte_ether_addr& src,
         const rte_ether_addr& dst)
      : pool_(pool), port_(port), burst_(burst), size_(size), staged_(burst), frame_(size, 0) {
    std::memcpy(frame_.data(), dst.addr_bytes, 6);
    std::memcpy(frame_.data() + 6, src.addr_bytes, 6);
    frame_[12] = kEtherTypeExperimental >> 8;
    frame_[13] = kEtherTypeExperimental & 0xff;
  }
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;
  ~Sender() { FreeStaged(); }

  // Tops the staging array up to a full burst and transmits it once.
  void Step() {
    if (pending_ < burst_) {
      const uint16_t want = burst_ - pending_;
      if (rte_pktmbuf_alloc_bulk(pool_, staged_.data() + pending_, want) == 0) {
        for (uint16_t i = pending_; i < burst_; ++i) Build(staged_[i]);
        pending_ = burst_;
      } else {
        ++alloc_failures_;  // pool empty for now: send what is staged
        if (pending_ == 0) return;
      }
    }
    const uint16_t sent = rte_eth_tx_burst(port_, 0, staged_.data(), pending_);
    tx_ += sent;
    if (sent < pending_) {
      // The refused frames are the oldest staged ones; each counts as lost once however often it is retried.
      const uint16_t left = pending_ - sent;
      const uint16_t counted_before = refused_ > sent ? refused_ - sent : 0;
      lost_ += left - counted_before;
      ++refused_bursts_;
      refused_ = left;
      std::memmove(staged_.data(), staged_.data() + sent, left * sizeof(rte_mbuf*));
    } else {
      refused_ = 0;
    }
    pending_ -= sent;
  }

  void FreeStaged() {
    if (pending_ > 0) rte_pktmbuf_free_bulk(staged_.data(), pending_);
    pending_ = 0;
    refused_ = 0;
  }

  uint64_t tx() const { return tx_; }
  // Frames the device refused at least once (then retried); they count as moved only once accepted.
  uint64_t lost() const { return lost_; }
  // tx_burst calls that did not take everything offered.
  uint64_t refused_bursts() const { return refused_bursts_; }
  uint64_t alloc_failures() const { return alloc_failures_; }

 private:
  void Build(rte_mbuf* m) {
    uint8_t* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, size_));  // fresh mbuf: always room
    std::memcpy(p, frame_.data(), size_);
    std::memcpy(p + kSeqOffset, &seq_, sizeof(seq_));
    ++seq_;
  }

  rte_mempool* const pool_;
  const uint16_t port_;
  const uint16_t burst_;
  const uint16_t size_;
  std::vector<rte_mbuf*> staged_;  // [0, pending_) built and owned here until tx_burst accepts them
  uint16_t pending_ = 0;
  uint16_t refused_ = 0;        // staged_[0, refused_) were already refused (and counted in lost_)
  std::vector<uint8_t> frame_;  // the frame template
  uint64_t seq_ = 0;
  uint64_t tx_ = 0;
  uint64_t lost_ = 0;
  uint64_t refused_bursts_ = 0;
  uint64_t alloc_failures_ = 0;
};

// Receives one burst on `port` and frees it; returns the number received and counts frames whose
// length is not `size` (which would mean we are not receiving what we sent).
inline uint16_t ReceiveAndFree(uint16_t port, rte_mbuf** pkts, uint16_t burst, uint16_t size, uint64_t* bad_len) {
  const uint16_t n = rte_eth_rx_burst(port, 0, pkts, burst);
  if (n == 0) return 0;
  for (uint16_t i = 0; i < n; ++i) *bad_len += rte_pktmbuf_pkt_len(pkts[i]) != size;
  rte_pktmbuf_free_bulk(pkts, n);
  return n;
}

// The worker lcore's state; the counter is written only by the worker and read by the main lcore.
struct Receiver {
  uint16_t port = 0;
  uint16_t burst = 0;
  uint16_t size = 0;
  alignas(64) std::atomic<uint64_t> rx{0};
  alignas(64) std::atomic<bool> ready{false};
  std::atomic<bool> stop{false};
  uint64_t bad_len = 0;  // read after rte_eal_wait_lcore
};

int ReceiverMain(void* arg) {
  Receiver& r = *static_cast<Receiver*>(arg);
  std::vector<rte_mbuf*> pkts(r.burst);
  uint64_t rx = 0;
  uint64_t bad = 0;
  r.ready.store(true, std::memory_order_release);
  while (!r.stop.load(std::memory_order_relaxed)) {
    const uint16_t n = ReceiveAndFree(r.port, pkts.data(), r.burst, r.size, &bad);
    if (n == 0) continue;
    rx += n;
    r.rx.store(rx, std::memory_order_relaxed);
  }
  r.bad_len = bad;
  return 0;
}

struct Result {
  double pps = 0;
  unsigned lcores = 1;
};

void PrintProgress(const char* what, double t, uint64_t frames, uint64_t prev_frames, double dt, uint64_t lost,
                   uint64_t prev_lost) {
  const double pps = Rate(frames - prev_frames, dt);
  std::printf("  %s%st=%5.2fs %12.0f pps (%.2f Mpps), lost %llu\n", what, *what != '\0' ? " " : "", t, pps, pps / 1e6,
              static_cast<unsigned long long>(lost - prev_lost));
  std::fflush(stdout);
}

// Frames sent on `tx_port` and received on `rx_port`, on two lcores when `worker` is an lcore id, else
// alternating on the main lcore. Drains and frees everything before returning.
Result RunPair(const Options& o, rte_mempool* pool, uint16_t tx_port, uint16_t rx_port, unsigned worker) {
  const Tsc tsc;
  rte_ether_addr src, dst;
  rte_eth_macaddr_get(tx_port, &src);
  rte_eth_macaddr_get(rx_port, &dst);
  Sender sender(pool, tx_port, o.burst, o.size, src, dst);
  bool parallel = worker != RTE_MAX_LCORE;
  Receiver recv;
  recv.port = rx_port;
  recv.burst = o.burst;
  recv.size = o.size;
  std::vector<rte_mbuf*> rx_pkts(o.burst);
  uint64_t rx_local = 0;  // alternating mode's receive count
  uint64_t bad_len = 0;
  if (parallel) {
    if (int rc = rte_eal_remote_launch(&ReceiverMain, &recv, worker); rc != 0) {
      std::fprintf(stderr, "%s warning: rte_eal_remote_launch(lcore %u): %s; using one lcore\n", kProgram, worker,
                   rte_strerror(-rc));
      parallel = false;
    } else {
      while (!recv.ready.load(std::memory_order_acquire)) rte_pause();
    }
  }
  auto received = [&] { return parallel ? recv.rx.load(std::memory_order_relaxed) : rx_local; };

  const uint64_t start = tsc.Now();
  const uint64_t end = start + tsc.Cycles(o.duration_s);
  uint64_t next_report = start + tsc.hz;
  uint64_t last_report = start, last_rx = 0, last_lost = 0;
  uint64_t now = start;
  while (true) {
    sender.Step();
    if (!parallel) rx_local += ReceiveAndFree(rx_port, rx_pkts.data(), o.burst, o.size, &bad_len);
    now = tsc.Now();
    if (now >= end || g_interrupted.load(std::memory_order_relaxed)) break;
    if (now >= next_report) {
      const uint64_t rx = received();
      PrintProgress("", tsc.Seconds(now - start), rx, last_rx, tsc.Seconds(now - last_report), sender.lost(),
                    last_lost);
      last_report = now;
      last_rx = rx;
      last_lost = sender.lost();
      next_report += tsc.hz;
    }
  }
  const uint64_t moved = received();  // frames received (and freed) within the window
  const double elapsed = tsc.Seconds(now - start);
  if (parallel) {
    recv.stop.store(true, std::memory_order_relaxed);
    rte_eal_wait_lcore(worker);
    bad_len += recv.bad_len;
  }
  const uint64_t received_total = received();

  // Drain: the worker has stopped, so the main lcore owns the receive queue now.
  sender.FreeStaged();
  uint64_t drained = 0;
  for (int idle = 0; idle < 1000;) {
    const uint16_t n = ReceiveAndFree(rx_port, rx_pkts.data(), o.burst, o.size, &bad_len);
    drained += n;
    idle = n == 0 ? idle + 1 : 0;
  }

  Result r;
  r.pps = Rate(moved, elapsed);
  r.lcores = parallel ? 2 : 1;
  std::printf(
      "moved %llu frames in %.3f s (%.0f pps); lost %llu (refused by tx and retried; %llu refused bursts); "
      "in flight at the end %llu",
      static_cast<unsigned long long>(moved), elapsed, r.pps, static_cast<unsigned long long>(sender.lost()),
      static_cast<unsigned long long>(sender.refused_bursts()),
      static_cast<unsigned long long>(received_total - moved + drained));
  if (sender.alloc_failures() > 0) {
    std::printf("; pool empty %llu times", static_cast<unsigned long long>(sender.alloc_failures()));
  }
  std::printf("\n");
  if (received_total + drained != sender.tx()) {
    std::fprintf(stderr, "%s warning: sent %llu frames but received %llu\n", kProgram,
                 static_cast<unsigned long long>(sender.tx()),
                 static_cast<unsigned long long>(received_total + drained));
  }
  if (bad_len > 0) {
    std::fprintf(stderr, "%s warning: %llu received frames were not %u bytes long\n", kProgram,
                 static_cast<unsigned long long>(bad_len), o.size);
  }
  return r;
}

// net_null: transmit only, then receive only, each for --duration on the main lcore.
Result RunNull(const Options& o, rte_mempool* pool, uint16_t port) {
  const Tsc tsc;
  rte_ether_addr mac;
  rte_eth_macaddr_get(port, &mac);
  rte_ether_addr bcast;
  std::memset(bcast.addr_bytes, 0xff, 6);
  double tx_pps = 0;
  double rx_pps = 0;
  uint64_t tx_lost = 0;
  {
    Sender sender(pool, port, o.burst, o.size, mac, bcast);
    const uint64_t start = tsc.Now();
    const uint64_t end = start + tsc.Cycles(o.duration_s);
    uint64_t next_report = start + tsc.hz, last_report = start, last_tx = 0, last_lost = 0, now = start;
    while (true) {
      sender.Step();
      now = tsc.Now();
      if (now >= end || g_interrupted.load(std::memory_order_relaxed)) break;
      if (now >= next_report) {
        PrintProgress("tx", tsc.Seconds(now - start), sender.tx(), last_tx, tsc.Seconds(now - last_report),
                      sender.lost(), last_lost);
        last_report = now;
        last_tx = sender.tx();
        last_lost = sender.lost();
        next_report += tsc.hz;
      }
    }
    tx_pps = Rate(sender.tx(), tsc.Seconds(now - start));
    tx_lost = sender.lost();
  }  // ~Sender frees what is still staged
  uint64_t rx = 0;
  if (!g_interrupted.load()) {
    std::vector<rte_mbuf*> pkts(o.burst);
    const uint64_t start = tsc.Now();
    const uint64_t end = start + tsc.Cycles(o.duration_s);
    uint64_t next_report = start + tsc.hz, last_report = start, last_rx = 0, now = start;
    while (true) {
      // net_null's frames are as long as its `size` devarg, not necessarily ours: length is not checked.
      uint64_t ignored = 0;
      rx += ReceiveAndFree(port, pkts.data(), o.burst, o.size, &ignored);
      now = tsc.Now();
      if (now >= end || g_interrupted.load(std::memory_order_relaxed)) break;
      if (now >= next_report) {
        PrintProgress("rx", tsc.Seconds(now - start), rx, last_rx, tsc.Seconds(now - last_report), 0, 0);
        last_report = now;
        last_rx = rx;
        next_report += tsc.hz;
      }
    }
    rx_pps = Rate(rx, tsc.Seconds(now - start));
  }
  std::printf("null tx: %.0f pps (%.2f Mpps; alloc + build + tx, the driver frees), lost (tx refused) %llu\n", tx_pps,
              tx_pps / 1e6, static_cast<unsigned long long>(tx_lost));
  std::printf("null rx: %.0f pps (%.2f Mpps; rx of driver-allocated frames + free)\n", rx_pps, rx_pps / 1e6);
  Result r;
  r.pps = rx_pps > 0 ? std::min(tx_pps, rx_pps) : tx_pps;
  r.lcores = 1;
  return r;
}

// Waits up to `seconds` for both ports' links (memif connects through EAL's interrupt thread).
bool WaitLinks(uint16_t a, uint16_t b, double seconds) {
  const Tsc tsc;
  const uint64_t end = tsc.Now() + tsc.Cycles(seconds);
  while (tsc.Now() < end) {
    rte_eth_link la, lb;
    std::memset(&la, 0, sizeof(la));
    std::memset(&lb, 0, sizeof(lb));
    if (rte_eth_link_get_nowait(a, &la) == 0 && rte_eth_link_get_nowait(b, &lb) == 0 &&
        la.link_status == RTE_ETH_LINK_UP && lb.link_status == RTE_ETH_LINK_UP) {
      return true;
    }
    usleep(10000);
  }
  return false;
}

// The first port whose driver is `driver` and whose name starts with `prefix`.
std::optional<uint16_t> FindPort(absl::string_view driver, absl::string_view prefix) {
  uint16_t port;
  RTE_ETH_FOREACH_DEV(port) {
    rte_eth_dev_info info;
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    if (rte_eth_dev_info_get(port, &info) != 0 || rte_eth_dev_get_name_by_port(port, name) != 0) continue;
    if (info.driver_name != nullptr && driver == info.driver_name && absl::StartsWith(name, prefix)) return port;
  }
  return std::nullopt;
}

absl::StatusOr<PortInfo> Configure(uint16_t port, rte_mempool* pool) {
  PortConfig pc;
  pc.port_id = port;
  pc.pool = pool;
  return ConfigurePort(pc);
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "%s: %s\n", kProgram, std::string(s.message()).c_str());
  return 1;
}

int Main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress and warnings stay in order through a pipe
  // Everything before the first `--` goes to EAL; without `--` all arguments are ours (so --help works).
  std::vector<std::string> eal_args, app_args;
  int dash = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {
      dash = i;
      break;
    }
  }
  for (int i = 1; i < argc; ++i) {
    if (i == dash) continue;
    (dash >= 0 && i < dash ? eal_args : app_args).emplace_back(argv[i]);
  }
  Options o;
  if (std::optional<FlagError> e = ParseOptions(app_args, &o)) {
    std::fprintf(stderr, "%s: %s\n", kProgram, e->message.c_str());
    return 2;
  }
  if (o.help) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }

  EalConfig eal;
  eal.program_name = kProgram;
  eal.user_args = eal_args;
  if (!HasArg(eal_args, {"-l", "-c", "--lcores"})) {
    std::vector<std::string> l = FirstCpusLcoreArgs(2);
    eal.user_args.insert(eal.user_args.end(), l.begin(), l.end());
  }
  if (!HasArg(eal_args, {"--no-pci", "-a", "--allow", "-b", "--block"})) eal.user_args.push_back("--no-pci");
  std::string memif_socket;
  if (o.device == Device::kNull && !AnyArgContains(eal_args, "net_null")) {
    eal.user_args.insert(eal.user_args.end(), {"--vdev", absl::StrCat("net_null0,size=", o.size)});
  } else if (o.device == Device::kMemif) {
    memif_socket = absl::StrCat("/tmp/dev_ceiling-", getpid(), ".sock");
    // A path socket (not the abstract namespace), so it is plainly "a socket path under /tmp".
    const std::string common = absl::StrCat(",id=0,socket=", memif_socket, ",socket-abstract=no");
    eal.user_args.insert(eal.user_args.end(), {"--vdev", absl::StrCat("net_memif_dcs0,role=server", common), "--vdev",
                                               absl::StrCat("net_memif_dcc0,role=client", common)});
  }
  if (absl::Status s = InitEal(eal); !s.ok()) return Fail(s);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  int rc = 0;
  std::vector<uint16_t> ports;
  rte_mempool* pool = nullptr;
  {
    absl::StatusOr<rte_mempool*> p = CreateMbufPool("devc_pool", kPoolMbufs);
    if (!p.ok()) {
      rc = Fail(p.status());
      CleanupEal();
      return rc;
    }
    pool = *p;
  }
  const unsigned worker = rte_lcore_count() >= 2 ? rte_get_next_lcore(-1, /*skip_main=*/1, /*wrap=*/0)
                                                 : static_cast<unsigned>(RTE_MAX_LCORE);
  std::optional<Result> result;
  auto configure_pair = [&](uint16_t a, uint16_t b) -> absl::Status {
    for (uint16_t port : {a, b}) {
      absl::StatusOr<PortInfo> info = Configure(port, pool);
      if (!info.ok()) return info.status();
      ports.push_back(port);
      std::printf("%s\n", info->Describe().c_str());
    }
    return absl::OkStatus();
  };
  auto describe_run = [&](uint16_t a, uint16_t b) {
    if (worker != RTE_MAX_LCORE) {
      std::printf(
          "%s: alloc+build+tx on port %u (lcore %u), rx+free on port %u (lcore %u); burst %u, %u-byte "
          "frames, %.2f s\n",
          DeviceName(o.device), a, rte_get_main_lcore(), b, worker, o.burst, o.size, o.duration_s);
    } else {
      std::printf(
          "%s: one lcore (%u): alloc+build+tx on port %u and rx+free on port %u alternately (give two "
          "with -l 0-1); burst %u, %u-byte frames, %.2f s\n",
          DeviceName(o.device), rte_get_main_lcore(), a, b, o.burst, o.size, o.duration_s);
    }
    std::fflush(stdout);
  };

  switch (o.device) {
    case Device::kRing: {
      absl::StatusOr<RingPair> pair = CreateRingPair("devc", 1, kRingSize);
      if (!pair.ok()) {
        rc = Fail(pair.status());
        break;
      }
      if (absl::Status s = configure_pair(pair->a, pair->b); !s.ok()) {
        rc = Fail(s);
        break;
      }
      describe_run(pair->a, pair->b);
      result = RunPair(o, pool, pair->a, pair->b, worker);
      break;
    }
    case Device::kNull: {
      std::optional<uint16_t> port = FindPort("net_null", "");
      if (!port) {
        rc = Fail(absl::NotFoundError("no net_null port (give --vdev net_null0 or leave --vdev out)"));
        break;
      }
      absl::StatusOr<PortInfo> info = Configure(*port, pool);
      if (!info.ok()) {
        rc = Fail(info.status());
        break;
      }
      ports.push_back(*port);
      std::printf(
          "%s\nnull: alloc+build+tx on port %u, then rx+free, on lcore %u; burst %u, %u-byte frames, "
          "%.2f s each\n",
          info->Describe().c_str(), *port, rte_get_main_lcore(), o.burst, o.size, o.duration_s);
      std::fflush(stdout);
      result = RunNull(o, pool, *port);
      break;
    }
    case Device::kMemif: {
      std::optional<uint16_t> server = FindPort("net_memif", "net_memif_dcs");
      std::optional<uint16_t> client = FindPort("net_memif", "net_memif_dcc");
      // The server first: it turns away a client that connects before it has started.
      absl::Status s = server && client ? configure_pair(*server, *client)
                                        : absl::UnavailableError("the net_memif vdevs were not created");
      if (s.ok() && !WaitLinks(*client, *server, 3.0)) {
        s = absl::UnavailableError("the memif server and client did not connect within 3 s");
      }
      if (!s.ok()) {
        std::fprintf(stderr, "%s: --device memif: not supported here (%s)\n", kProgram,
                     std::string(s.message()).c_str());
        rc = 2;
        break;
      }
      describe_run(*client, *server);
      result = RunPair(o, pool, *client, *server, worker);
      break;
    }
  }

  if (result) {
    if (const unsigned in_use = rte_mempool_in_use_count(pool); in_use != 0) {
      std::fprintf(stderr, "%s warning: %u mbufs still in use at the end (leak)\n", kProgram, in_use);
    }
    if (g_interrupted.load()) {
      std::fprintf(stderr, "%s warning: interrupted; rates are over the time measured\n", kProgram);
    }
    std::printf("%s: device=%s pps=%.0f mpps=%.2f lcores=%u burst=%u size=%u\n", kProgram, DeviceName(o.device),
                result->pps, result->pps / 1e6, result->lcores, o.burst, o.size);
    std::fflush(stdout);
  }
  if (o.device == Device::kMemif && ports.size() == 2) {
    // Disconnect from the client side and let EAL's interrupt thread finish the server's half before closing:
    // closing both at once races with it (22.11 then reports "EAL: Error: Invalid memory").
    rte_eth_dev_stop(ports[1]);
    usleep(100000);
  }
  for (uint16_t port : ports) ClosePort(port);
  rte_mempool_free(pool);
  CleanupEal();
  if (!memif_socket.empty()) unlink(memif_socket.c_str());
  return rc;
}

}  // namespace
}  // namespace synack::bench

int main(int argc, char** argv) { return synack::bench::Main(argc, argv); }
