// SynShedder: what an engine does with new SYNs when it receives more than it can process (issue 15).
// A device burst that comes back full means frames are still waiting in the receive ring: the engine
// is behind, and every segment of an established flow waits behind the SYNs ahead of it. In such a
// burst, new SYNs are peeked (a few length-checked header bytes, no checksum, no lookup) and only some
// are processed: those from sources this engine already has connections with, retransmissions of SYNs
// it shed before, and up to a budget of the rest; the others are dropped before parsing (`tcp.syn_shed`)
// so the ring drains at the rate the device delivers. Segments that are not new SYNs are never shed.
//
// The budget adapts to load: it shrinks by a quarter (at least one) for every full burst that follows a full burst and
// grows by one for every burst that is not full, so it settles where the ring just keeps up. A shed SYN
// is remembered in a two-generation bit set keyed by its 4-tuple and sequence number (a client
// retransmits the same SYN), so a legitimate client's retransmission is recognised and processed within
// its own budget (a blocked Bloom filter, two bits per SYN, 2 x 4 MiB allocated at the first overload;
// one cache line per SYN); a spoofed flood, which never repeats, only hits set bits by chance. Unknown
// sources are all treated alike: a legitimate client new to this engine is shed no more often than a
// flood source.
//
// Owned by one engine (inside its TcpLayer); only that engine's lcore calls it. One allocation, when an
// overloaded burst first touches the memory (Prefetch, or Admit beyond the budget); none per packet.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "lib/base/bytes.h"
#include "lib/base/time.h"
#include "lib/net/addr.h"

namespace synack {

// The fields of a new SYN (SYN set; ACK and RST clear) read from a received Ethernet frame carrying an
// unfragmented IPv4 TCP segment, every length checked; nullopt for any other frame.
struct SynPeek {
  Ipv4Addr src;
  Ipv4Addr dst;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint32_t seq = 0;
};
std::optional<SynPeek> PeekSyn(ConstBytes frame);

enum class ShedVerdict : uint8_t {
  kProcess,     // not overloaded: process as usual
  kKnown,       // overloaded, but the source has connections here
  kRetransmit,  // overloaded, a SYN shed before and sent again (within the retransmission budget)
  kBudget,      // overloaded, within this burst's budget
  kShed,        // drop before parsing
};

class SynShedder {
 public:
  struct Config {
    uint32_t memory_bits_log2 = 25;              // bits per generation of the shed-SYN memory (4 MiB)
    Duration generation = Duration::Seconds(2);  // a shed SYN is remembered for 2 to 4 s
    uint64_t seed = 0;                           // keys the memory's hash (a per-engine secret)
  };
  explicit SynShedder(const Config& config);

  // The start of a device burst of `n` frames when at most `burst` were asked for.
  void BeginBurst(Instant now, uint32_t n, uint32_t burst);
  // Whether the current burst is an overloaded one (the only bursts in which anything is shed).
  bool overloaded() const { return overloaded_; }
  // For a new SYN in the current burst; `known_source`: the engine has connections or TIME-WAIT entries
  // that may be with `syn.src`. A kShed verdict is remembered.
  ShedVerdict Admit(const SynPeek& syn, bool known_source) { return Admit(Fingerprint(syn), known_source); }
  // The same in two steps, for a whole burst: the fingerprint of each SYN (and a prefetch of the memory
  // it may touch), then the verdicts in arrival order once those lines are on their way.
  uint64_t Fingerprint(const SynPeek& syn) const;
  void Prefetch(uint64_t fingerprint);
  ShedVerdict Admit(uint64_t fingerprint, bool known_source);

  // Retransmissions of shed SYNs processed per overloaded burst, at least (the memory answers "seen"
  // for a few flood SYNs by chance; they must not crowd out the real ones).
  static constexpr uint32_t kMinRetransmitBudget = 4;

  // Unknown SYNs processed per overloaded burst; retransmissions get max(budget, 4) of their own.
  uint32_t budget() const { return budget_; }
  // Bytes of the shed-SYN memory (allocated at the first overloaded burst; 0 until then).
  size_t memory_bytes() const { return memory_.size() * sizeof(uint64_t); }

 private:
  uint64_t* Block(uint64_t h);
  static uint64_t Bits(uint64_t h);
  bool Test(uint64_t h);
  void Set(uint64_t h);

  Config config_;
  uint64_t words_;                // per generation
  std::vector<uint64_t> memory_;  // word i of generation g at 2 * i + g; [current_] is written
  int current_ = 0;
  bool dirty_[2] = {false, false};  // a generation written since it was last cleared
  Instant rotate_at_;
  bool started_ = false;
  bool overloaded_ = false;
  uint32_t burst_ = 32;
  uint32_t budget_ = 0;
  uint32_t left_ = 0;         // new unknown SYNs still allowed in this burst
  uint32_t retransmits_ = 0;  // retransmissions still allowed in this burst
};

}  // namespace synack
