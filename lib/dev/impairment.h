// Impairment: a seeded virtual impaired link for frames — what a real network does to them, on demand:
// random loss, burst loss (a Gilbert–Elliott two-state channel), reordering (a share of frames held
// back), duplication, payload corruption (a copy with one bit flipped after the Ethernet header, which
// the IPv4/TCP checksums must catch), a fixed one-way delay and a rate limit with a bounded queue (so
// the bandwidth-delay product is real and an overfull bottleneck drops). It sits in an engine's TX path
// (frames the device would send) and/or RX path (frames the device received); tests and apps use the
// same component (`--impair loss=1%,reorder=2%,...`).
//
// Deterministic: the same config and seed, fed the same frames at the same times, decide the same fate
// for every frame. Frames are owned from Submit until Release hands them on (or they are dropped and
// freed, counted); the destructor frees what it still holds. Copies (duplicates, corrupted frames) come
// from the original frame's own pool.
//
// Owned by one engine; only its lcore may call it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rte_mbuf.h>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "lib/base/time.h"

namespace synack {

struct ImpairConfig {
  double loss = 0;  // probability a frame is dropped (independently)
  // Gilbert–Elliott burst loss: each frame, the channel moves good -> bad with probability burst_p and
  // bad -> good with burst_r; frames are lost with probability burst_loss while bad. Off when burst_p 0.
  double burst_p = 0;
  double burst_r = 0.25;
  double burst_loss = 1.0;
  double reorder = 0;  // probability a frame is held back by reorder_delay beyond its normal time
  Duration reorder_delay = Duration::Microseconds(500);
  double dup = 0;                // probability a frame is sent twice
  double corrupt = 0;            // probability a frame is replaced by a copy with one bit flipped
  Duration delay;                // one-way delay added to every frame
  uint64_t rate_bps = 0;         // bottleneck rate in bit/s (0: unlimited)
  uint32_t queue_frames = 1000;  // frames the bottleneck queue holds; beyond, tail drop
  // A path MTU below the port's (0: none): IPv4 datagrams longer than this with DF set are dropped and,
  // like a router would, answered with ICMP "fragmentation needed" carrying this MTU (RFC 1191).
  uint16_t mtu = 0;
  uint64_t seed = 1;

  bool enabled() const {
    return loss > 0 || burst_p > 0 || reorder > 0 || dup > 0 || corrupt > 0 || delay > Duration() || rate_bps > 0 ||
           mtu > 0;
  }
  // "loss=1%,burst=0.5%/25%,reorder=2%,reorder_delay=500us,dup=0.5%,corrupt=0.1%,delay=1ms,rate=10g,
  // queue=1000,mtu=1200,seed=7"
  std::string Describe() const;
};

// Parses the comma-separated spec Describe() prints. Probabilities take a % suffix or a fraction;
// durations ns/us/ms/s; rates a k/m/g suffix (bit/s). Errors name the key.
absl::StatusOr<ImpairConfig> ParseImpairSpec(std::string_view spec);

#define SYNACK_IMPAIR_COUNTERS(X)                                            \
  X(frames_in)     /* frames submitted */                                    \
  X(frames_out)    /* frames released (including duplicates) */              \
  X(lost)          /* random loss */                                         \
  X(burst_lost)    /* lost in the Gilbert-Elliott bad state */               \
  X(queue_dropped) /* the rate-limited queue was full */                     \
  X(reordered)     /* held back */                                           \
  X(duplicated)                                                              \
  X(corrupted)                                                               \
  X(corrupt_skipped) /* checksums left to the device: corruption not safe */ \
  X(mtu_dropped)     /* longer than the path MTU with DF set */              \
  X(icmp_sent)       /* "fragmentation needed" returned for them */          \
  X(no_mbufs)        /* no mbuf for a copy: that fate was skipped */

struct ImpairCounters {
#define SYNACK_X(name) uint64_t name = 0;
  SYNACK_IMPAIR_COUNTERS(SYNACK_X)
#undef SYNACK_X
  void ForEach(absl::FunctionRef<void(std::string_view, uint64_t)> f) const;
};

class Impairment {
 public:
  explicit Impairment(const ImpairConfig& config);
  ~Impairment();
  Impairment(const Impairment&) = delete;
  Impairment& operator=(const Impairment&) = delete;

  // Takes ownership of `n` frames: each is dropped (freed, counted) or queued — possibly duplicated,
  // corrupted or held back — with the time it leaves the link.
  void Submit(Instant now, rte_mbuf* const* pkts, uint16_t n);

  // Offers the frames whose time has come, in departure order, to `send` (which returns how many of
  // the offered frames it took and now owns); stops at the first partial take. Returns frames taken.
  uint32_t Release(Instant now, absl::FunctionRef<uint16_t(rte_mbuf**, uint16_t)> send);

  // Frames the link sends back towards the submitter (ICMP errors); the caller takes ownership and
  // delivers them to its own receive path.
  size_t TakeReflected(rte_mbuf** out, size_t max);
  // When the next held frame leaves (Never when none is held).
  Instant NextRelease() const;
  size_t held() const { return normal_.size() + held_back_.size(); }
  const ImpairCounters& counters() const { return counters_; }
  const ImpairConfig& config() const { return config_; }

 private:
  struct Timed {
    Instant at;
    rte_mbuf* m;
  };
  // A FIFO of frames whose departure times never decrease (so the head is always the earliest).
  class Fifo {
   public:
    bool empty() const { return head_ == items_.size(); }
    size_t size() const { return items_.size() - head_; }
    const Timed& front() const { return items_[head_]; }
    void push(Timed t) { items_.push_back(t); }
    void pop() {
      if (++head_ == items_.size() || head_ > 4096) Compact();
    }
    std::vector<Timed>& items() { return items_; }
    size_t head() const { return head_; }

   private:
    void Compact() {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    std::vector<Timed> items_;
    size_t head_ = 0;
  };

  double Uniform();  // [0, 1)
  void Enqueue(Instant now, rte_mbuf* m);
  rte_mbuf* CorruptCopy(rte_mbuf* m);
  // True (and `m` consumed) when `m` exceeds the path MTU.
  bool OverMtu(rte_mbuf* m);

  ImpairConfig config_;
  uint64_t rng_;
  bool bad_state_ = false;
  Instant link_free_;    // when the bottleneck finishes serialising what it holds
  Instant last_normal_;  // departure of the last normal frame (keeps the FIFO ordered)
  Instant last_held_;
  Fifo normal_;
  Fifo held_back_;
  std::vector<rte_mbuf*> batch_;
  std::vector<rte_mbuf*> reflected_;
  ImpairCounters counters_;
};

}  // namespace synack
