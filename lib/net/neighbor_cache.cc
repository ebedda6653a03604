#include "lib/net/neighbor_cache.h"

namespace synack {

NeighborCache::NeighborCache(const Config& config)
    : config_(config),
      entries_(config.capacity),
      pending_(static_cast<size_t>(config.capacity) * config.max_pending, nullptr) {
  free_.reserve(config.capacity);
  for (uint32_t i = config.capacity; i > 0; --i) free_.push_back(i - 1);
  index_.reserve(config.capacity);
}

NeighborCache::~NeighborCache() {
  for (rte_mbuf*& m : pending_) {
    if (m != nullptr) rte_pktmbuf_free(m);
  }
}

const MacAddr* NeighborCache::Find(Ipv4Addr ip) const {
  auto it = index_.find(ip.v);
  if (it == index_.end()) return nullptr;
  const Entry& e = entries_[it->second];
  return e.state == State::kIncomplete ? nullptr : &e.mac;
}

NeighborCache::EnqueueResult NeighborCache::Enqueue(Ipv4Addr ip, Instant now, Mbuf&& pkt) {
  Mbuf owned(std::move(pkt));
  uint32_t idx;
  bool created = false;
  auto it = index_.find(ip.v);
  if (it != index_.end()) {
    idx = it->second;
  } else {
    if (free_.empty()) return EnqueueResult::kDroppedTableFull;
    idx = free_.back();
    free_.pop_back();
    index_.emplace(ip.v, idx);
    Entry& e = entries_[idx];
    e = Entry{};
    e.ip = ip;
    e.state = State::kIncomplete;
    e.requests = 1;
    e.next_request = now + config_.retry_interval;
    created = true;
  }
  Entry& e = entries_[idx];
  if (e.pending_count >= config_.max_pending || e.state != State::kIncomplete) {
    // A resolved entry never queues: the caller should have used Find(). Treat as overflow.
    return EnqueueResult::kDroppedQueueFull;
  }
  PendingSlot(idx, e.pending_head + e.pending_count) = owned.release();
  ++e.pending_count;
  ++pending_total_;
  return created ? EnqueueResult::kQueuedSendRequest : EnqueueResult::kQueued;
}

bool NeighborCache::Update(Ipv4Addr ip, const MacAddr& mac, Instant now, bool create,
                           absl::FunctionRef<void(Mbuf&&, const MacAddr&)> release) {
  uint32_t idx;
  auto it = index_.find(ip.v);
  if (it != index_.end()) {
    idx = it->second;
  } else {
    if (!create || free_.empty()) return false;
    idx = free_.back();
    free_.pop_back();
    index_.emplace(ip.v, idx);
    entries_[idx] = Entry{};
    entries_[idx].ip = ip;
  }
  Entry& e = entries_[idx];
  e.mac = mac;
  e.state = State::kReachable;
  e.requests = 0;
  e.confirmed_at = now;
  while (e.pending_count > 0) {
    rte_mbuf*& slot = PendingSlot(idx, e.pending_head);
    Mbuf m(slot);
    slot = nullptr;
    ++e.pending_head;
    --e.pending_count;
    --pending_total_;
    release(std::move(m), e.mac);
  }
  e.pending_head = 0;
  return true;
}

void NeighborCache::Remove(uint32_t idx, absl::FunctionRef<void(Mbuf&&)> unresolved) {
  Entry& e = entries_[idx];
  while (e.pending_count > 0) {
    rte_mbuf*& slot = PendingSlot(idx, e.pending_head);
    Mbuf m(slot);
    slot = nullptr;
    ++e.pending_head;
    --e.pending_count;
    --pending_total_;
    unresolved(std::move(m));
  }
  index_.erase(e.ip.v);
  e.state = State::kFree;
  free_.push_back(idx);
}

void NeighborCache::Poll(Instant now, absl::FunctionRef<void(Ipv4Addr)> send_request,
                         absl::FunctionRef<void(Mbuf&&)> unresolved) {
  for (uint32_t idx = 0; idx < entries_.size(); ++idx) {
    Entry& e = entries_[idx];
    if (e.state == State::kFree) continue;
    if (e.state == State::kReachable) {
      if (now - e.confirmed_at < config_.reachable_time) continue;
      // Aged out: keep using the address while re-confirming it.
      e.state = State::kStale;
      e.requests = 0;
      e.next_request = now;
    }
    if (now < e.next_request) continue;
    if (e.requests >= config_.max_requests) {
      Remove(idx, unresolved);
      continue;
    }
    ++e.requests;
    e.next_request = now + config_.retry_interval;
    send_request(e.ip);
  }
}

}  // namespace synack
