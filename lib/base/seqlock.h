// Seqlock<T>: one writer publishes a trivially copyable value; any number of readers on other threads take
// consistent copies of it without ever blocking the writer. The writer makes the sequence number odd,
// copies the value in, and makes it even again; a reader copies the value between two reads of the
// sequence number and retries when they differ or were odd (a write overlapped its copy). This is the
// classic seqlock (as DPDK's rte_seqlock and Linux's seqcount): the copy itself races with the writer by
// design and is discarded whenever it may be torn, with fences ordering the copy against the sequence
// number reads.
//
// Threading: Write from one thread at a time (the owner: an engine's lcore); Read from any thread. The
// writer never waits; a reader spins only while a write is in progress (a copy of sizeof(T) bytes).
// No allocation.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace synack {

template <typename T>
class Seqlock {
  static_assert(std::is_trivially_copyable_v<T>, "Seqlock copies T byte by byte");

 public:
  /// Publishes `value` (replacing the last one). One writer at a time.
  void Write(const T& value) {
    const uint32_t s = seq_.load(std::memory_order_relaxed);
    seq_.store(s + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    std::memcpy(static_cast<void*>(&value_), &value, sizeof(T));
    seq_.store(s + 2, std::memory_order_release);
  }

  /// Copies the last published value into `*out` (the value-initialised T before the first Write).
  /// Retries while a write overlaps; gives up after `max_tries` overlapping attempts and returns false
  /// (`*out` then holds a possibly torn copy and must not be used).
  bool Read(T* out, uint32_t max_tries = UINT32_MAX) const {
    for (uint32_t i = 0; i < max_tries; ++i) {
      const uint32_t before = seq_.load(std::memory_order_acquire);
      if (before & 1) continue;  // a write is in progress
      std::memcpy(static_cast<void*>(out), &value_, sizeof(T));
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq_.load(std::memory_order_relaxed) == before) return true;
    }
    return false;
  }

  /// How many writes completed (each Write adds one). Any thread.
  uint32_t writes() const { return seq_.load(std::memory_order_acquire) / 2; }

 private:
  std::atomic<uint32_t> seq_{0};
  T value_{};
};

}  // namespace synack
