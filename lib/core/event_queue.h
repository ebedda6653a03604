// EventQueue: an engine's queue of application events (accepted, connected, readable, writable, peer
// closed, closed), oldest first, in a ring of fixed capacity allocated at construction — the socket
// API's PollEvents drains it. A push into a full queue is refused (the caller counts it). An entry is 8
// bytes: the connection record's index and what happened; the owner (TcpLayer) keeps a record whose
// events are queued from being reused, and completes each entry into an Event from the record when it
// is taken. Owned by one engine; only its core may call it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lib/core/events.h"

namespace synack {

// One queued event: the record it concerns (its index in the engine's connection table) and what
// happened. The generation and the attached value are the record's (see the file comment).
struct QueuedEvent {
  uint32_t index = UINT32_MAX;
  EventType type = EventType::kClosed;
  TcpError error = TcpError::kNone;
  uint16_t local_port = 0;  // for kAccepted: the listening port
};
static_assert(sizeof(QueuedEvent) == 8);

class EventQueue {
 public:
  explicit EventQueue(size_t capacity) : ring_(capacity > 0 ? capacity : 1) {}

  // Appends `e`; false (nothing queued) when the queue is full.
  bool Push(const QueuedEvent& e) {
    if (count_ == ring_.size()) return false;
    ring_[(head_ + count_) % ring_.size()] = e;
    ++count_;
    return true;
  }
  // Removes the oldest event into `*e`; false when empty.
  bool Pop(QueuedEvent* e) {
    if (count_ == 0) return false;
    *e = ring_[head_];
    head_ = (head_ + 1) % ring_.size();
    --count_;
    return true;
  }

  size_t size() const { return count_; }
  size_t capacity() const { return ring_.size(); }
  size_t MemoryBytes() const { return ring_.size() * sizeof(QueuedEvent); }

 private:
  std::vector<QueuedEvent> ring_;
  size_t head_ = 0;
  size_t count_ = 0;
};

}  // namespace synack
