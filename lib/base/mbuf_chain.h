// MbufChain: a byte queue made of linked rte_mbuf segments, used for a connection's send queue
// (application mbufs waiting for acknowledgement) and receive queue (received payload waiting for the
// application). Appending links segments at the tail in O(segments appended); dropping bytes from the
// front frees whole segments and trims the first; nothing is copied, except that CopyToTail lets small
// payloads share the tail segment. The chain owns every segment in it and counts the memory they pin
// (truesize). Owned by one connection; only its engine's core may call it.
//
// Two flavours: MbufChain (the send queue) remembers where its last two ForRange calls started, so that
// reading ranges forward costs no rescans; MbufQueue (the receive queue, read only from the front) keeps
// no such cursors and is half the size — every established connection holds one of each.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "absl/functional/function_ref.h"
#include "lib/base/mbuf.h"

namespace synack {

template <size_t kCursors>
class BasicMbufChain {
  static_assert(kCursors == 0 || kCursors == 2, "no cursors (a queue read from the front) or two");

 public:
  BasicMbufChain() = default;
  BasicMbufChain(const BasicMbufChain&) = delete;
  BasicMbufChain& operator=(const BasicMbufChain&) = delete;
  BasicMbufChain(BasicMbufChain&& o) noexcept { *this = std::move(o); }
  BasicMbufChain& operator=(BasicMbufChain&& o) noexcept;
  ~BasicMbufChain() { Clear(); }

  // Takes ownership of packet `m` (any number of segments) and links its non-empty segments at the tail.
  void Append(Mbuf&& m);
  // Frees the first `n` bytes (n <= size()).
  void DropFront(uint32_t n);
  // Hands the whole queue over as one packet (pkt_len/nb_segs set); the chain is left empty.
  // Callers keep size() below 64 KiB segments' worth: nb_segs saturates at 65535.
  Mbuf TakeAll();
  // Calls f(segment, offset in segment, length) for the pieces covering bytes [off, off + len).
  // With cursors, remembers where recent ranges started, so walking forward through the queue (one
  // transmitted segment after another, and retransmissions further back) does not rescan it from the
  // head; without, walks from the head.
  void ForRange(uint32_t off, uint32_t len, absl::FunctionRef<void(rte_mbuf*, uint16_t, uint16_t)> f) const;
  // Copies up to out.size() bytes from the front; returns how many.
  size_t CopyFront(MutableBytes out) const;
  void Clear();

  uint32_t size() const { return bytes_; }
  uint32_t segments() const { return segs_; }
  bool empty() const { return bytes_ == 0; }
  // The memory the queued segments pin, whatever bytes they carry (Truesize of each).
  uint32_t truesize() const { return truesize_; }

  // Bytes that CopyToTail can take: the tail's tailroom when the tail is a direct mbuf that this chain
  // alone holds (refcount 1) — writing there cannot touch bytes anybody else sees. 0 otherwise. An
  // in-flight tail (attached by transmitted frames) has a higher refcount and is never written.
  uint16_t TailRoom() const;
  // Appends `data` (at most TailRoom() bytes) to the tail segment by copying: how a trickle of tiny
  // segments shares one mbuf instead of pinning one each.
  void CopyToTail(ConstBytes data);

  // What one segment pins: a direct mbuf its whole buffer plus the mbuf header; an indirect one the
  // header plus the bytes it references. The buffer behind an indirect mbuf belongs to whoever attached
  // it (a sender on this host, whose send queue charges it in full), and consecutive pieces of one
  // transmitted stream commonly share it: charging each piece the whole buffer would count it twice.
  // Indirect mbufs never come from the wire — only from in-process peers (net_ring) — so this cannot
  // be used to pin unaccounted memory from outside.
  static uint32_t Truesize(const rte_mbuf* seg) {
    return static_cast<uint32_t>(sizeof(rte_mbuf)) + (RTE_MBUF_DIRECT(seg) ? seg->buf_len : seg->data_len);
  }
  static uint32_t PacketTruesize(const rte_mbuf* m) {
    uint32_t n = 0;
    for (; m != nullptr; m = m->next) n += Truesize(m);
    return n;
  }
  // What keeping only bytes [off, off + len) of packet `m` would pin (the Truesize of each segment the
  // range touches, as cut to it): what Mbuf::Slice(off, len) leaves.
  static uint32_t RangeTruesize(const rte_mbuf* m, uint32_t off, uint32_t len);

 private:
  rte_mbuf* head_ = nullptr;
  rte_mbuf* tail_ = nullptr;
  // Where recent ForRange calls started: a segment in the chain (null: unused) and the byte offset of its
  // first byte. Two of them in the send queue, so that retransmissions (from low offsets) and new data
  // (from the far end) do not keep pushing one cursor back and forth across the queue. Segments and
  // offsets are kept apart so that no padding sits between them; MbufQueue's take no room at all.
  struct Cursors {
    std::array<rte_mbuf*, kCursors> seg{};
    std::array<uint32_t, kCursors> off{};
  };
  struct NoCursors {};
  [[no_unique_address]] mutable std::conditional_t<kCursors == 0, NoCursors, Cursors> cursors_{};
  uint32_t bytes_ = 0;
  uint32_t segs_ = 0;
  uint32_t truesize_ = 0;
};

using MbufChain = BasicMbufChain<2>;  // the send queue: ranges read forward, retransmissions behind
using MbufQueue = BasicMbufChain<0>;  // the receive queue: read and dropped from the front
// Every connection holds one of each: keep them this size.
static_assert(sizeof(MbufQueue) <= 32 && sizeof(MbufChain) <= 56);

extern template class BasicMbufChain<0>;
extern template class BasicMbufChain<2>;

}  // namespace synack
