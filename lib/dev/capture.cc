// rte_pcapng is an experimental DPDK API (stable from 23.11); this file is its only user.
#define ALLOW_EXPERIMENTAL_API 1

#include "lib/dev/capture.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_pcapng.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "synack/version.h"

namespace synack {

std::string CaptureConfig::Describe() const { return count == 0 ? path : absl::StrCat(path, ",count=", count); }

absl::StatusOr<CaptureConfig> ParseCaptureSpec(std::string_view spec_in) {
  const absl::string_view spec(spec_in.data(), spec_in.size());
  CaptureConfig c;
  std::vector<absl::string_view> parts = absl::StrSplit(spec, ',');
  if (parts[0].empty()) {
    return absl::InvalidArgumentError("--pcap: no file name (e.g. --pcap /tmp/synack.pcapng,count=1000)");
  }
  c.path = std::string(parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) {
    absl::string_view v = parts[i];
    if (!absl::ConsumePrefix(&v, "count=")) {
      return absl::InvalidArgumentError(absl::StrCat("--pcap: '", parts[i], "' is not count=N"));
    }
    uint64_t n = 0;
    if (!absl::SimpleAtoi(v, &n) || n < 1 || n > (uint64_t{1} << 40)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--pcap: count '", v, "' is not a number of packets in 1..1099511627776"));
    }
    c.count = n;
  }
  return c;
}

void CaptureCounters::ForEach(absl::FunctionRef<void(std::string_view, uint64_t)> f) const {
#define SYNACK_X(name) f(#name, name);
  SYNACK_CAPTURE_COUNTERS(SYNACK_X)
#undef SYNACK_X
}

namespace {

// DPDK 22.11's rte_pcapng_copy converts the TSC to wall-clock time with process-wide state that it
// initialises on first use and moves forward one second at a time, unsynchronised: a first call with a TSC
// read before that initialisation, or two lcores moving it at once, put every later timestamp ~290 years
// ahead. So the state is initialised once here, every tap passes the same TSC value
// (`g_clock.dpdk_cycles`, inside the first second: nothing moves), and the tap writes each block's
// timestamp itself with this read-only clock.
struct PcapngClock {
  uint64_t dpdk_cycles = 0;  // the TSC value every rte_pcapng_copy is given
  uint64_t cycles = 0;       // TSC at `ns`
  uint64_t ns = 0;           // CLOCK_REALTIME in ns
  uint64_t hz = 0;           // TSC frequency
  bool ready = false;
};
PcapngClock g_clock;

// Wall-clock ns at TSC `cycles` (not before InitPcapngClock read the clock).
uint64_t WallNs(uint64_t cycles) {
  const uint64_t delta = cycles - g_clock.cycles;
  return g_clock.ns + delta / g_clock.hz * 1000000000 + delta % g_clock.hz * 1000000000 / g_clock.hz;
}

// The Enhanced Packet Block rte_pcapng_copy put at the start of `copy`: its timestamp (ns since the epoch,
// high and low words in host order at offsets 12 and 16, as the pcapng format says).
void SetTimestamp(rte_mbuf* copy, uint64_t ns) {
  auto* epb = rte_pktmbuf_mtod(copy, uint32_t*);
  epb[3] = static_cast<uint32_t>(ns >> 32);
  epb[4] = static_cast<uint32_t>(ns);
}

}  // namespace

absl::Status InitPcapngClock() {
  if (g_clock.ready) return absl::OkStatus();
  rte_mempool* mp = rte_pktmbuf_pool_create(absl::StrCat("pcapng_clock_", getpid()).c_str(), 7, 0, 0,
                                            static_cast<uint16_t>(rte_pcapng_mbuf_size(64)), SOCKET_ID_ANY);
  if (mp == nullptr)
    return absl::ResourceExhaustedError(
        absl::StrCat("rte_pktmbuf_pool_create(pcapng clock): ", rte_strerror(rte_errno)));
  rte_mbuf* m = rte_pktmbuf_alloc(mp);
  if (m != nullptr && rte_pktmbuf_append(m, 64) != nullptr) {
    // Half a second ahead of DPDK's own reading: inside its first second, so it moves nothing.
    const uint64_t ahead = rte_get_tsc_cycles() + rte_get_tsc_hz() / 2;
    if (rte_mbuf* c = rte_pcapng_copy(0, 0, m, mp, 64, ahead, RTE_PCAPNG_DIRECTION_UNKNOWN)) {
      rte_pktmbuf_free(c);
      g_clock.dpdk_cycles = ahead;
    }
  }
  rte_pktmbuf_free(m);
  rte_mempool_free(mp);
  timespec ts;
  const uint64_t before = rte_get_tsc_cycles();
  clock_gettime(CLOCK_REALTIME, &ts);
  const uint64_t after = rte_get_tsc_cycles();
  g_clock.cycles = before + (after - before) / 2;
  g_clock.ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000 + static_cast<uint64_t>(ts.tv_nsec);
  g_clock.hz = rte_get_tsc_hz();
  g_clock.ready = g_clock.dpdk_cycles != 0;
  return g_clock.ready ? absl::OkStatus() : absl::InternalError("rte_pcapng_copy: no mbuf to set its clock with");
}

void CaptureTap::Enqueue(rte_mbuf** copies, uint16_t n) {
  uint16_t k = 0;
  for (uint16_t i = 0; i < n; ++i) {
    if (copies[i] != nullptr) copies[k++] = copies[i];
  }
  counters_.dropped += n - k;  // no capture mbuf for those
  const unsigned queued = rte_ring_sp_enqueue_burst(ring_, reinterpret_cast<void**>(copies), k, nullptr);
  counters_.copied += queued;
  if (queued < k) {
    rte_pktmbuf_free_bulk(copies + queued, k - queued);  // the writer is behind: drop, never wait
    counters_.dropped += k - queued;
  }
}

void CaptureTap::Received(uint16_t port, uint16_t queue, rte_mbuf* const* pkts, uint16_t n) {
  if (n == 0 || !active()) return;
  const uint64_t ns = WallNs(rte_get_tsc_cycles());
  rte_mbuf* copies[kChunk];
  for (uint16_t done = 0; done < n;) {
    const uint16_t chunk = std::min<uint16_t>(kChunk, n - done);
    for (uint16_t i = 0; i < chunk; ++i) {
      copies[i] =
          rte_pcapng_copy(port, queue, pkts[done + i], pool_, snaplen_, g_clock.dpdk_cycles, RTE_PCAPNG_DIRECTION_IN);
      if (copies[i] != nullptr) SetTimestamp(copies[i], ns);
    }
    Enqueue(copies, chunk);
    done = static_cast<uint16_t>(done + chunk);
  }
}

uint16_t CaptureTap::Transmit(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n,
                              absl::FunctionRef<uint16_t(rte_mbuf**, uint16_t)> send) {
  if (!active()) return send(pkts, n);
  const uint64_t ns = WallNs(rte_get_tsc_cycles());
  rte_mbuf* copies[kChunk];
  uint16_t sent = 0;
  while (sent < n) {
    const uint16_t chunk = std::min<uint16_t>(kChunk, n - sent);
    for (uint16_t i = 0; i < chunk; ++i) {
      copies[i] =
          rte_pcapng_copy(port, queue, pkts[sent + i], pool_, snaplen_, g_clock.dpdk_cycles, RTE_PCAPNG_DIRECTION_OUT);
      if (copies[i] != nullptr) SetTimestamp(copies[i], ns);
    }
    const uint16_t took = send(pkts + sent, chunk);
    // What the device refused stays the caller's and will be offered (and copied) again.
    for (uint16_t i = took; i < chunk; ++i) {
      if (copies[i] != nullptr) rte_pktmbuf_free(copies[i]);
    }
    Enqueue(copies, took);
    sent = static_cast<uint16_t>(sent + took);
    if (took < chunk) break;
  }
  return sent;
}

absl::StatusOr<std::unique_ptr<CaptureWriter>> CaptureWriter::Open(const CaptureConfig& config, size_t taps,
                                                                   uint32_t snaplen) {
  if (absl::Status s = InitPcapngClock(); !s.ok()) return s;
  std::unique_ptr<CaptureWriter> w(new CaptureWriter());
  w->config_ = config;
  w->fd_ = open(config.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w->fd_ < 0) return absl::InvalidArgumentError(absl::StrCat("--pcap: ", config.path, ": ", std::strerror(errno)));
  // The section header, then one interface block per port that exists now (rte_pcapng_fdopen).
  w->pcapng_ = rte_pcapng_fdopen(w->fd_, nullptr, nullptr, "synack " SYNACK_VERSION, nullptr);
  if (w->pcapng_ == nullptr) {
    return absl::InternalError(absl::StrCat("rte_pcapng_fdopen(", config.path, "): ", rte_strerror(rte_errno)));
  }
  const std::string pool_name = absl::StrCat("capture_", getpid());
  w->pool_ = rte_pktmbuf_pool_create(pool_name.c_str(), config.mbufs, /*cache_size=*/64, /*priv_size=*/0,
                                     static_cast<uint16_t>(rte_pcapng_mbuf_size(snaplen)), SOCKET_ID_ANY);
  if (w->pool_ == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat("rte_pktmbuf_pool_create(", pool_name, ", ", config.mbufs,
                                                     " capture mbufs): ", rte_strerror(rte_errno)));
  }
  for (size_t i = 0; i < taps; ++i) {
    rte_ring* r =
        rte_ring_create(absl::StrCat("capture", i).c_str(), config.ring, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (r == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat("rte_ring_create(capture", i, "): ", rte_strerror(rte_errno)));
    }
    w->rings_.push_back(r);
    auto tap = std::make_unique<CaptureTap>();
    tap->ring_ = r;
    tap->pool_ = w->pool_;
    tap->snaplen_ = snaplen;
    tap->active_ = &w->active_;
    w->taps_.push_back(std::move(tap));
  }
  return w;
}

CaptureWriter::~CaptureWriter() {
  Stop();
  for (rte_ring* r : rings_) {
    void* m;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(r);
  }
  rte_mempool_free(pool_);
}

std::string CaptureWriter::Describe() const {
  return absl::StrCat("capture: writing ", config_.path,
                      " (pcapng: every frame each engine receives from and sends to its port",
                      config_.count > 0 ? absl::StrCat("; the first ", config_.count, " packets") : "", ")");
}

void CaptureWriter::Start() {
  if (thread_.joinable() || stopped_) return;
  thread_ = std::thread([this] { Loop(); });
}

void CaptureWriter::Loop() {
  while (!stop_.load(std::memory_order_acquire)) {
    if (DrainOnce() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

size_t CaptureWriter::DrainOnce() {
  size_t taken = 0;
  rte_mbuf* batch[64];
  for (rte_ring* r : rings_) {
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(batch), 64, nullptr)) > 0) {
      taken += n;
      const uint64_t done = written_.load(std::memory_order_relaxed);
      uint64_t keep = n;
      if (config_.count > 0) keep = std::min<uint64_t>(n, config_.count - std::min(done, config_.count));
      if (!error_.empty()) keep = 0;
      if (keep < n) rte_pktmbuf_free_bulk(batch + keep, static_cast<unsigned>(n - keep));
      if (keep == 0) continue;
      // DPDK 22.11 writes the copies but does not free them (whatever its header says).
      const ssize_t rc = rte_pcapng_write_packets(pcapng_, batch, static_cast<uint16_t>(keep));
      rte_pktmbuf_free_bulk(batch, static_cast<unsigned>(keep));
      if (rc < 0) {
        error_ = absl::StrCat("--pcap: writing ", config_.path, ": ", rte_strerror(rte_errno));
        active_.store(false, std::memory_order_relaxed);
        continue;
      }
      written_.store(done + keep, std::memory_order_relaxed);
      if (config_.count > 0 && done + keep >= config_.count) active_.store(false, std::memory_order_relaxed);
    }
  }
  return taken;
}

void CaptureWriter::Stop() {
  if (stopped_) return;
  stopped_ = true;
  active_.store(false, std::memory_order_relaxed);
  stop_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
  if (pcapng_ != nullptr) {
    DrainOnce();                // what the engines queued before they stopped
    rte_pcapng_close(pcapng_);  // closes the file descriptor too
    pcapng_ = nullptr;
    fd_ = -1;
  }
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

}  // namespace synack
