/// @file
/// Mbuf: the one owning handle for an rte_mbuf. Move-only; the destructor frees the chain it owns.
/// A function that takes ownership takes `Mbuf&&` (or `Mbuf` by value); `release()` hands the raw pointer to
/// DPDK (e.g. rte_eth_tx_burst), after which this handle owns nothing. Used only on the core that owns the
/// mbuf (an mbuf crosses cores only through an rte_ring, as a raw pointer released from one handle and
/// adopted by another).
#pragma once

#include <cstdint>
#include <utility>

#include <rte_mbuf.h>

#include "lib/base/bytes.h"

namespace synack {

/// The move-only owner of one rte_mbuf packet (a chain of segments); see the file comment.
class Mbuf {
 public:
  /// An empty handle.
  Mbuf() = default;
  /// Adopts `m` (may be null): this handle owns it from now on and frees it unless it is released.
  explicit Mbuf(rte_mbuf* m) : m_(m) {}
  Mbuf(const Mbuf&) = delete;
  Mbuf& operator=(const Mbuf&) = delete;
  /// Takes `o`'s packet; `o` is left empty.
  Mbuf(Mbuf&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
  /// Frees the packet this handle owned, then takes `o`'s; `o` is left empty.
  Mbuf& operator=(Mbuf&& o) noexcept {
    if (this != &o) {
      reset();
      m_ = std::exchange(o.m_, nullptr);
    }
    return *this;
  }
  /// Frees the whole chain it owns, if any.
  ~Mbuf() { reset(); }

  /// Allocates from `pool`; empty handle when the pool is exhausted. The caller owns the result.
  static Mbuf Alloc(rte_mempool* pool) { return Mbuf(rte_pktmbuf_alloc(pool)); }

  /// True when the handle owns a packet.
  explicit operator bool() const { return m_ != nullptr; }
  /// The packet, still owned by this handle (may be null).
  rte_mbuf* get() const { return m_; }
  /// Hands the packet to the caller (e.g. for rte_eth_tx_burst); this handle owns nothing afterwards.
  [[nodiscard]] rte_mbuf* release() { return std::exchange(m_, nullptr); }
  /// Frees the whole chain (rte_pktmbuf_free) and leaves the handle empty.
  void reset() {
    if (m_ != nullptr) rte_pktmbuf_free(std::exchange(m_, nullptr));
  }

  /// The first segment's data. Parsers only look at the first segment: a multi-segment frame is parsed
  /// when its headers are all in the first segment (the payload may continue in later ones). The
  /// accessors below need a non-empty handle.
  uint8_t* data() const { return rte_pktmbuf_mtod(m_, uint8_t*); }
  /// Bytes in the first segment.
  uint16_t data_len() const { return rte_pktmbuf_data_len(m_); }
  /// Bytes in the whole packet (all segments).
  uint32_t pkt_len() const { return rte_pktmbuf_pkt_len(m_); }
  /// True when the packet is one segment.
  bool contiguous() const { return rte_pktmbuf_is_contiguous(m_); }
  /// The first segment's bytes.
  ConstBytes bytes() const { return ConstBytes(data(), data_len()); }
  /// The first segment's bytes, writable.
  MutableBytes mutable_bytes() { return MutableBytes(data(), data_len()); }

  /// Grows the packet at the front by `n` bytes; null when the headroom is too small.
  uint8_t* Prepend(uint16_t n) { return reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m_, n)); }
  /// Removes `n` bytes from the front; null when the packet is shorter.
  uint8_t* Adj(uint16_t n) { return reinterpret_cast<uint8_t*>(rte_pktmbuf_adj(m_, n)); }
  /// Grows the packet at the end by `n` bytes; null when the tailroom is too small.
  uint8_t* Append(uint16_t n) { return reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m_, n)); }
  /// Shortens the packet to its first `len` bytes (e.g. to strip Ethernet padding), whatever its
  /// segments: later segments left empty are freed.
  void TrimTo(uint32_t len) {
    if (len >= pkt_len()) return;
    if (contiguous()) {
      rte_pktmbuf_trim(m_, static_cast<uint16_t>(data_len() - len));
    } else {
      Slice(0, len);
    }
  }
  /// Keeps exactly bytes [off, off + len) of the packet (off + len <= pkt_len()), whatever its segments:
  /// segments wholly outside the range are freed (each once), the first kept one becomes the head and
  /// carries the packet's fields (pkt_len, nb_segs, ol_flags, hash). Nothing is copied.
  void Slice(uint32_t off, uint32_t len);
  /// Clears the receive/transmit offload flags of the head, keeping the ones that say what the mbuf is
  /// (indirect, external buffer): clearing those would free it as the wrong kind.
  void ClearOffloadFlags() { m_->ol_flags &= kKindFlags; }

  /// The ol_flags ClearOffloadFlags keeps: what kind of mbuf it is (indirect, external buffer).
  static constexpr uint64_t kKindFlags = RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;

 private:
  rte_mbuf* m_ = nullptr;
};

/// Takes ownership of packet `m` and takes it apart: calls f(seg) for each non-empty segment, in order, detached as a
/// packet of its own (next null, nb_segs 1, pkt_len = data_len) whose ownership passes to f; empty segments are freed.
template <typename F>
void SplitSegments(Mbuf&& m, F&& f) {
  rte_mbuf* seg = m.release();
  while (seg != nullptr) {
    rte_mbuf* next = seg->next;
    seg->next = nullptr;
    seg->nb_segs = 1;
    seg->pkt_len = seg->data_len;
    if (seg->data_len == 0) {
      rte_pktmbuf_free_seg(seg);
    } else {
      f(seg);
    }
    seg = next;
  }
}

}  // namespace synack
