// LossState: what a connection needs only while data is missing in either direction — the sender's
// SACK scoreboard and PRR, the receiver's out-of-order ranges, a pending D-SACK and a FIN seen beyond a
// gap — kept out of the connection record so that the common case (no loss, no reordering) stays small
// and cache-friendly. LossStatePool hands them out per engine from a fixed array (no allocation after
// start-up); a connection takes one when it first needs it and gives it back as soon as it is idle.
// When the pool is exhausted a connection does without (no SACK processing, no out-of-order data kept:
// still correct, only slower to recover), and that is counted. The out-of-order payload itself (mbufs)
// lives here too, in a store the connection's owner (TcpLayer) fills and empties: a state is not given
// back while its store holds anything. Owned by one engine; its core only.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "lib/base/free_list.h"
#include "lib/base/mbuf.h"
#include "lib/tcp/congestion.h"
#include "lib/tcp/seq_ranges.h"

namespace synack {

// The out-of-order payload a connection keeps, sorted by sequence number (in each mbuf's hash.usr) and
// linked through `next`; each mbuf holds exactly the kept bytes. Filled and emptied by the connection's
// owner (TcpLayer), which owns the mbufs.
struct OooStore {
  rte_mbuf* head = nullptr;
  rte_mbuf* tail = nullptr;
  uint32_t truesize = 0;  // what the mbufs pin
  bool empty() const { return head == nullptr; }
};

struct LossState {
  OooStore store;                 // receiver: the bytes `ooo` describes
  SeqRanges sacked;               // sender: ranges above SND.UNA the peer SACKed
  SeqRanges ooo;                  // receiver: ranges above RCV.NXT kept by the caller
  SeqNum last_ooo;                // start of the most recent out-of-order segment (first SACK block)
  std::optional<SeqRange> dsack;  // a duplicate to report once (RFC 2883)
  std::optional<SeqNum> ooo_fin;  // a FIN seen beyond a gap
  Prr prr;                        // fast recovery pacing
  bool idle() const { return sacked.empty() && ooo.empty() && !dsack && !ooo_fin && store.empty(); }
};

class LossStatePool {
 public:
  static constexpr uint32_t kNone = FreeList::kNone;
  explicit LossStatePool(uint32_t capacity) : states_(capacity), free_(capacity) {}
  // A cleared state, or kNone when all are taken.
  uint32_t Alloc() {
    const uint32_t i = free_.Take();
    if (i != kNone) states_[i] = LossState{};
    return i;
  }
  void Free(uint32_t i) { free_.Put(i); }
  LossState& operator[](uint32_t i) { return states_[i]; }
  uint32_t capacity() const { return static_cast<uint32_t>(states_.size()); }
  uint32_t in_use() const { return capacity() - free_.size(); }

 private:
  std::vector<LossState> states_;
  FreeList free_;
};

}  // namespace synack
