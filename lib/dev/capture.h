// Capture: in-process packet capture to a pcapng file (DPDK's rte_pcapng), for `--pcap FILE[,count=N]`.
//
// Each engine gets a CaptureTap. On its lcore the tap copies the frames of every device RX burst and the
// frames each TX burst hands to the device (rte_pcapng_copy into the capture's own mempool, with the
// port, queue, direction and TSC timestamp) and enqueues the copies on the engine's own single-producer/
// single-consumer ring, never waiting: when the pool or the ring is full the copy is dropped and counted
// (`capture.dropped`) and the burst goes on. The engine's own frames are never held or changed. A
// CaptureWriter thread (a plain control thread, not an lcore) drains every tap's ring into the file with
// rte_pcapng_write_packets and, after `count` packets, tells the taps to stop copying.
//
// Ownership: the CaptureWriter owns the file, the pool, the rings, the taps and its thread; engines hold
// a pointer to their tap and must be gone (or stopped) before the writer is destroyed. Threading: Open,
// Start, Stop and the destructor on the control thread; each tap's Received/Transmit on its engine's
// lcore only; the writer thread touches only the consumer side of the rings and the file.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct rte_pcapng;  // rte_pcapng.h (an experimental API: included by capture.cc only)

namespace synack {

/// What `--pcap FILE[,count=N]` asks for.
struct CaptureConfig {
  std::string path;       ///< the pcapng file to write (created or truncated); empty: capture off
  uint64_t count = 0;     ///< stop after writing this many packets (0: until the run ends)
  uint32_t ring = 4096;   ///< copies each engine may have queued for the writer (a power of two)
  uint32_t mbufs = 8191;  ///< copies in flight over all engines (the capture pool)
  bool enabled() const { return !path.empty(); }
  /// "FILE" or "FILE,count=N": the form ParseCaptureSpec reads.
  std::string Describe() const;
};

/// Sets up the wall clock of DPDK 22.11's pcapng library once per process (its lazy set-up and
/// once-a-second adjustment are not safe to leave to the first packets or to several lcores; see
/// capture.cc). CaptureWriter::Open calls it; so does InitEal for --pdump, before any secondary can ask
/// for copies. Control plane, after the EAL started.
absl::Status InitPcapngClock();

/// Parses `FILE[,count=N]` (N in 1..2^40). Errors start with "--pcap: " and say what is wrong.
absl::StatusOr<CaptureConfig> ParseCaptureSpec(std::string_view spec);

#define SYNACK_CAPTURE_COUNTERS(X)                         \
  X(copied)  /* frames copied and queued for the writer */ \
  X(dropped) /* frames not captured: capture pool empty or writer behind */

/// One tap's counters (written by its engine only; read by others for printing).
struct CaptureCounters {
#define SYNACK_X(name) uint64_t name = 0;
  SYNACK_CAPTURE_COUNTERS(SYNACK_X)
#undef SYNACK_X
  void ForEach(absl::FunctionRef<void(std::string_view, uint64_t)> f) const;
};

/// One engine's end of the capture: copies frames and queues them for the writer (see the file comment).
class CaptureTap {
 public:
  /// Copies `pkts[0..n)`, just received on `port`/`queue`, for the file. The frames stay the caller's,
  /// unchanged. On the engine's lcore.
  void Received(uint16_t port, uint16_t queue, rte_mbuf* const* pkts, uint16_t n);
  /// Sends `pkts[0..n)` with `send` (which returns how many the device took; those are no longer the
  /// caller's) and captures exactly the frames it took. Copies are made before `send`, because once the
  /// device has a frame it may already be freed. Returns what `send` returned. On the engine's lcore.
  uint16_t Transmit(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n,
                    absl::FunctionRef<uint16_t(rte_mbuf**, uint16_t)> send);
  /// False once the writer has what it was asked for (or stopped): the tap then copies nothing.
  bool active() const { return active_->load(std::memory_order_relaxed); }
  const CaptureCounters& counters() const { return counters_; }

 private:
  friend class CaptureWriter;
  static constexpr uint16_t kChunk = 64;
  // Queues `copies[0..n)` (null entries skipped), counting what does not fit as dropped.
  void Enqueue(rte_mbuf** copies, uint16_t n);

  rte_ring* ring_ = nullptr;  // single producer (this engine), single consumer (the writer)
  rte_mempool* pool_ = nullptr;
  uint32_t snaplen_ = 0;
  const std::atomic<bool>* active_ = nullptr;
  CaptureCounters counters_;
};

/// The pcapng file, the capture pool, one tap per engine and the thread that writes (see the file
/// comment).
class CaptureWriter {
 public:
  /// Creates `config.path` and writes the pcapng header with one interface per DPDK port that exists now
  /// (so call it after every port was created), the pool (copies of up to `snaplen` bytes per frame) and
  /// `taps` rings. Errors name the file or the DPDK call. Control plane, after the EAL started.
  static absl::StatusOr<std::unique_ptr<CaptureWriter>> Open(const CaptureConfig& config, size_t taps,
                                                             uint32_t snaplen);
  /// Stop(), then frees the pool and the rings (every engine using a tap must be gone).
  ~CaptureWriter();
  CaptureWriter(const CaptureWriter&) = delete;
  CaptureWriter& operator=(const CaptureWriter&) = delete;

  /// Tap `i` (< the `taps` given to Open), owned by the writer: EngineConfig::capture of engine i.
  CaptureTap* tap(size_t i) { return taps_[i].get(); }
  /// Starts the writer thread. Control thread.
  void Start();
  /// Stops copying, writes what the rings still hold (up to `count`) and closes the file. Idempotent. Control thread,
  /// after the engines stopped polling.
  void Stop();
  /// Packets written so far (any thread).
  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  /// The first write error, empty if none (after Stop).
  const std::string& error() const { return error_; }
  const CaptureConfig& config() const { return config_; }
  /// One line for start-up reports: "capture: writing FILE (pcapng, every frame each engine receives
  /// from and sends to its port; first N packets)".
  std::string Describe() const;

 private:
  CaptureWriter() = default;
  void Loop();
  // Writes what the rings hold now; returns the number of copies taken off them.
  size_t DrainOnce();

  CaptureConfig config_;
  int fd_ = -1;
  rte_pcapng* pcapng_ = nullptr;
  rte_mempool* pool_ = nullptr;
  std::vector<rte_ring*> rings_;
  std::vector<std::unique_ptr<CaptureTap>> taps_;
  alignas(64) std::atomic<bool> active_{true};  // read by every tap once per burst
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> written_{0};
  std::string error_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace synack
