// Outbox: a fixed ring of frames the stack has built and the engine has not yet handed to the device.
// Protocol code pushes; the engine drains into rte_eth_tx_burst. What the device does not take stays
// queued (back-pressure); a push into a full outbox frees the frame and reports false so the caller
// counts Drop::kTxQueueFull. Owned by one engine; only its core may call it.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "lib/base/mbuf.h"

namespace synack {

class Outbox {
 public:
  explicit Outbox(uint32_t capacity) : ring_(RoundUpPow2(capacity), nullptr), mask_(ring_.size() - 1) {}
  ~Outbox() {
    while (count_ > 0) rte_pktmbuf_free(Pop());
  }
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Takes ownership; false (frame freed) when full.
  [[nodiscard]] bool Push(Mbuf&& m) {
    Mbuf owned(std::move(m));
    if (count_ == ring_.size()) return false;
    ring_[(head_ + count_) & mask_] = owned.release();
    ++count_;
    return true;
  }

  // Offers queued frames, oldest first, to `send` in contiguous chunks; `send` returns how many it
  // took (and now owns). Stops at the first partial take. Returns the number taken.
  uint32_t Drain(absl::FunctionRef<uint16_t(rte_mbuf**, uint16_t)> send) {
    uint32_t taken = 0;
    while (count_ > 0) {
      uint32_t chunk = std::min<uint32_t>(count_, static_cast<uint32_t>(ring_.size() - head_));
      chunk = std::min<uint32_t>(chunk, UINT16_MAX);
      uint16_t n = send(&ring_[head_], static_cast<uint16_t>(chunk));
      for (uint16_t i = 0; i < n; ++i) ring_[head_ + i] = nullptr;
      head_ = (head_ + n) & mask_;
      count_ -= n;
      taken += n;
      if (n < chunk) break;
    }
    return taken;
  }

  uint32_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  uint32_t capacity() const { return static_cast<uint32_t>(ring_.size()); }

  // Removes and returns the oldest frame (tests and teardown).
  Mbuf PopFront() { return count_ == 0 ? Mbuf() : Mbuf(Pop()); }

 private:
  static size_t RoundUpPow2(uint32_t n) {
    size_t p = 1;
    while (p < n) p <<= 1;
    return p;
  }
  rte_mbuf* Pop() {
    rte_mbuf* m = ring_[head_];
    ring_[head_] = nullptr;
    head_ = (head_ + 1) & mask_;
    --count_;
    return m;
  }

  std::vector<rte_mbuf*> ring_;
  size_t mask_;
  uint32_t head_ = 0;
  uint32_t count_ = 0;
};

}  // namespace synack
