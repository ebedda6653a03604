#include "lib/base/mbuf_chain.h"

#include <algorithm>
#include <cstring>

namespace synack {

template <size_t kCursors>
BasicMbufChain<kCursors>& BasicMbufChain<kCursors>::operator=(BasicMbufChain&& o) noexcept {
  if (this != &o) {
    Clear();
    head_ = std::exchange(o.head_, nullptr);
    tail_ = std::exchange(o.tail_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
    segs_ = std::exchange(o.segs_, 0);
    truesize_ = std::exchange(o.truesize_, 0);
    cursors_ = std::exchange(o.cursors_, {});
  }
  return *this;
}

template <size_t kCursors>
void BasicMbufChain<kCursors>::Append(Mbuf&& m) {
  SplitSegments(std::move(m), [this](rte_mbuf* seg) {
    if (tail_ == nullptr) {
      head_ = tail_ = seg;
    } else {
      tail_->next = seg;
      tail_ = seg;
    }
    bytes_ += seg->data_len;
    truesize_ += Truesize(seg);
    ++segs_;
  });
}

template <size_t kCursors>
void BasicMbufChain<kCursors>::DropFront(uint32_t n) {
  while (n > 0 && head_ != nullptr) {
    if (head_->data_len <= n) {
      n -= head_->data_len;
      bytes_ -= head_->data_len;
      if constexpr (kCursors > 0) {
        for (size_t i = 0; i < kCursors; ++i) {
          if (head_ == cursors_.seg[i]) {
            cursors_.seg[i] = nullptr;
          } else if (cursors_.seg[i] != nullptr) {
            cursors_.off[i] -= head_->data_len;
          }
        }
      }
      rte_mbuf* next = head_->next;
      head_->next = nullptr;
      truesize_ -= Truesize(head_);
      rte_pktmbuf_free_seg(head_);
      head_ = next;
      --segs_;
    } else {
      truesize_ -= Truesize(head_);  // an indirect head is charged by its bytes: recharge it below
      head_->data_off = static_cast<uint16_t>(head_->data_off + n);
      head_->data_len = static_cast<uint16_t>(head_->data_len - n);
      truesize_ += Truesize(head_);
      head_->pkt_len = head_->data_len;
      bytes_ -= n;
      if constexpr (kCursors > 0) {
        for (size_t i = 0; i < kCursors; ++i) {  // the head's offset stays 0
          if (cursors_.seg[i] != nullptr && cursors_.seg[i] != head_) cursors_.off[i] -= n;
        }
      }
      n = 0;
    }
  }
  if (head_ == nullptr) tail_ = nullptr;
}

template <size_t kCursors>
Mbuf BasicMbufChain<kCursors>::TakeAll() {
  if (head_ == nullptr) return Mbuf();
  head_->pkt_len = bytes_;
  head_->nb_segs = static_cast<uint16_t>(std::min<uint32_t>(segs_, UINT16_MAX));
  Mbuf out(head_);
  head_ = tail_ = nullptr;
  cursors_ = {};
  bytes_ = segs_ = truesize_ = 0;
  return out;
}

template <size_t kCursors>
void BasicMbufChain<kCursors>::ForRange(uint32_t off, uint32_t len,
                                        absl::FunctionRef<void(rte_mbuf*, uint16_t, uint16_t)> f) const {
  if (len == 0) return;
  // Find the segment holding byte `off`, from the closest cursor at or before it.
  rte_mbuf* seg = head_;
  uint32_t seg_off = 0;
  int use = -1;
  if constexpr (kCursors > 0) {
    for (size_t i = 0; i < kCursors; ++i) {
      if (cursors_.seg[i] != nullptr && off >= cursors_.off[i] && (use < 0 || cursors_.off[i] > seg_off)) {
        seg = cursors_.seg[i];
        seg_off = cursors_.off[i];
        use = static_cast<int>(i);
      }
    }
  }
  while (seg != nullptr && off >= seg_off + seg->data_len) {
    seg_off += seg->data_len;
    seg = seg->next;
  }
  if constexpr (kCursors == 2) {
    // The cursor that was used moves along. When both lie beyond `off` (a retransmission behind the
    // new data), the nearer one is replaced, keeping the far one where new data continues.
    if (use < 0)
      use = cursors_.seg[0] == nullptr   ? 0
            : cursors_.seg[1] == nullptr ? 1
                                         : (cursors_.off[0] < cursors_.off[1] ? 0 : 1);
    cursors_.seg[use] = seg;
    cursors_.off[use] = seg_off;
  }
  uint32_t in = off - seg_off;
  for (; seg != nullptr && len > 0; seg = seg->next) {
    const uint16_t piece = static_cast<uint16_t>(std::min<uint32_t>(seg->data_len - in, len));
    f(seg, static_cast<uint16_t>(in), piece);
    len -= piece;
    in = 0;
  }
}

template <size_t kCursors>
size_t BasicMbufChain<kCursors>::CopyFront(MutableBytes out) const {
  size_t copied = 0;
  ForRange(0, static_cast<uint32_t>(std::min<size_t>(out.size(), bytes_)),
           [&](rte_mbuf* seg, uint16_t off, uint16_t n) {
             std::memcpy(out.data() + copied, rte_pktmbuf_mtod_offset(seg, uint8_t*, off), n);
             copied += n;
           });
  return copied;
}

template <size_t kCursors>
void BasicMbufChain<kCursors>::Clear() {
  while (head_ != nullptr) {
    rte_mbuf* next = head_->next;
    head_->next = nullptr;
    rte_pktmbuf_free_seg(head_);
    head_ = next;
  }
  tail_ = nullptr;
  cursors_ = {};
  bytes_ = segs_ = truesize_ = 0;
}

template <size_t kCursors>
uint16_t BasicMbufChain<kCursors>::TailRoom() const {
  if (tail_ == nullptr || !RTE_MBUF_DIRECT(tail_) || rte_mbuf_refcnt_read(tail_) != 1) return 0;
  return rte_pktmbuf_tailroom(tail_);
}

template <size_t kCursors>
void BasicMbufChain<kCursors>::CopyToTail(ConstBytes data) {
  if (data.empty()) return;
  const uint16_t n = static_cast<uint16_t>(data.size());
  std::memcpy(rte_pktmbuf_mtod_offset(tail_, uint8_t*, tail_->data_len), data.data(), n);
  tail_->data_len = static_cast<uint16_t>(tail_->data_len + n);
  tail_->pkt_len = tail_->data_len;
  bytes_ += n;
}

template <size_t kCursors>
uint32_t BasicMbufChain<kCursors>::RangeTruesize(const rte_mbuf* m, uint32_t off, uint32_t len) {
  uint32_t n = 0;
  for (; m != nullptr && len > 0; m = m->next) {
    if (off >= m->data_len) {
      off -= m->data_len;
      continue;
    }
    const uint32_t piece = std::min<uint32_t>(m->data_len - off, len);
    n += static_cast<uint32_t>(sizeof(rte_mbuf)) + (RTE_MBUF_DIRECT(m) ? m->buf_len : piece);
    len -= piece;
    off = 0;
  }
  return n;
}

template class BasicMbufChain<0>;
template class BasicMbufChain<2>;

}  // namespace synack
