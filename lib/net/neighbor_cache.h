// NeighborCache: the IPv4-to-MAC table of one engine (RFC 826 with RFC 1122 2.3.2 behaviour).
// Sized at construction; no allocation afterwards. Entries are INCOMPLETE (request sent, packets
// waiting in a bounded per-entry queue), REACHABLE (confirmed within `reachable_time`) or STALE (still
// used, being re-confirmed; removed when re-confirmation fails). I/O-free: the owner passes `now` and
// receives the requests to send and the packets to release through callbacks.
// Owned by exactly one engine; only that engine's core may call it.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "lib/base/mbuf.h"
#include "lib/base/time.h"
#include "lib/net/addr.h"

namespace synack {

class NeighborCache {
 public:
  struct Config {
    uint32_t capacity = 1024;  // entries
    uint32_t max_pending = 8;  // packets waiting per INCOMPLETE entry
    Duration reachable_time = Duration::Seconds(60);
    Duration retry_interval = Duration::Seconds(1);
    uint32_t max_requests = 3;  // unanswered requests before giving up
  };

  enum class EnqueueResult : uint8_t {
    kQueued,             // waiting; a request is already outstanding
    kQueuedSendRequest,  // waiting on a new entry: the caller sends a request now
    kDroppedQueueFull,   // freed: too many packets already wait on this neighbour
    kDroppedTableFull,   // freed: no room for a new entry
  };

  explicit NeighborCache(const Config& config);
  ~NeighborCache();
  NeighborCache(const NeighborCache&) = delete;
  NeighborCache& operator=(const NeighborCache&) = delete;

  // The neighbour's MAC if known (REACHABLE or STALE), else null.
  const MacAddr* Find(Ipv4Addr ip) const;

  // Takes ownership of `pkt` to send once `ip` resolves. Frees it on the kDropped* results.
  EnqueueResult Enqueue(Ipv4Addr ip, Instant now, Mbuf&& pkt);

  // Records that `ip` is at `mac`. With `create` false only an existing entry is updated (the RFC 826
  // merge rule for ARP traffic not addressed to us). Packets that were waiting are handed to
  // `release` in arrival order. Returns whether an entry now holds the mapping.
  bool Update(Ipv4Addr ip, const MacAddr& mac, Instant now, bool create,
              absl::FunctionRef<void(Mbuf&&, const MacAddr&)> release);

  // Drives retries and expiry: re-sends requests for INCOMPLETE and STALE entries every
  // `retry_interval` via `send_request`; after `max_requests` unanswered requests removes the entry,
  // handing its waiting packets to `unresolved` (which drops and counts them).
  void Poll(Instant now, absl::FunctionRef<void(Ipv4Addr)> send_request, absl::FunctionRef<void(Mbuf&&)> unresolved);

  size_t size() const { return index_.size(); }
  size_t pending_packets() const { return pending_total_; }

 private:
  enum class State : uint8_t { kFree, kIncomplete, kReachable, kStale };
  struct Entry {
    Ipv4Addr ip;
    MacAddr mac;
    State state = State::kFree;
    uint32_t requests = 0;  // requests sent since the last confirmation
    Instant confirmed_at;   // REACHABLE/STALE
    Instant next_request;   // INCOMPLETE/STALE
    uint32_t pending_head = 0;
    uint32_t pending_count = 0;
  };

  rte_mbuf*& PendingSlot(uint32_t entry, uint32_t i) {
    return pending_[entry * config_.max_pending + (i % config_.max_pending)];
  }
  void Remove(uint32_t idx, absl::FunctionRef<void(Mbuf&&)> unresolved);

  Config config_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> free_;
  std::vector<rte_mbuf*> pending_;
  absl::flat_hash_map<uint32_t, uint32_t> index_;  // ip -> entry; reserved to capacity
  size_t pending_total_ = 0;
};

}  // namespace synack
