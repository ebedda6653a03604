#include "lib/base/mbuf_chain.h"

#include <algorithm>
#include <cstring>

namespace synack {

MbufChain& MbufChain::operator=(MbufChain&& o) noexcept {
  if (this != &o) {
    Clear();
    head_ = std::exchange(o.head_, nullptr);
    tail_ = std::exchange(o.tail_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
    segs_ = std::exchange(o.segs_, 0);
  }
  return *this;
}

void MbufChain::Append(Mbuf&& m) {
  rte_mbuf* seg = m.release();
  while (seg != nullptr) {
    rte_mbuf* next = seg->next;
    seg->next = nullptr;
    seg->nb_segs = 1;
    seg->pkt_len = seg->data_len;
    if (seg->data_len == 0) {
      rte_pktmbuf_free_seg(seg);
    } else {
      if (tail_ == nullptr) {
        head_ = tail_ = seg;
      } else {
        tail_->next = seg;
        tail_ = seg;
      }
      bytes_ += seg->data_len;
      ++segs_;
    }
    seg = next;
  }
}

void MbufChain::DropFront(uint32_t n) {
  while (n > 0 && head_ != nullptr) {
    if (head_->data_len <= n) {
      n -= head_->data_len;
      bytes_ -= head_->data_len;
      rte_mbuf* next = head_->next;
      head_->next = nullptr;
      rte_pktmbuf_free_seg(head_);
      head_ = next;
      --segs_;
    } else {
      head_->data_off = static_cast<uint16_t>(head_->data_off + n);
      head_->data_len = static_cast<uint16_t>(head_->data_len - n);
      head_->pkt_len = head_->data_len;
      bytes_ -= n;
      n = 0;
    }
  }
  if (head_ == nullptr) tail_ = nullptr;
}

Mbuf MbufChain::TakeAll() {
  if (head_ == nullptr) return Mbuf();
  head_->pkt_len = bytes_;
  head_->nb_segs = static_cast<uint16_t>(std::min<uint32_t>(segs_, UINT16_MAX));
  Mbuf out(head_);
  head_ = tail_ = nullptr;
  bytes_ = segs_ = 0;
  return out;
}

void MbufChain::ForRange(uint32_t off, uint32_t len,
                         absl::FunctionRef<void(rte_mbuf*, uint16_t, uint16_t)> f) const {
  for (rte_mbuf* seg = head_; seg != nullptr && len > 0; seg = seg->next) {
    if (off >= seg->data_len) {
      off -= seg->data_len;
      continue;
    }
    const uint16_t piece = static_cast<uint16_t>(std::min<uint32_t>(seg->data_len - off, len));
    f(seg, static_cast<uint16_t>(off), piece);
    len -= piece;
    off = 0;
  }
}

size_t MbufChain::CopyFront(MutableBytes out) const {
  size_t copied = 0;
  ForRange(0, static_cast<uint32_t>(std::min<size_t>(out.size(), bytes_)),
           [&](rte_mbuf* seg, uint16_t off, uint16_t n) {
             std::memcpy(out.data() + copied, rte_pktmbuf_mtod_offset(seg, uint8_t*, off), n);
             copied += n;
           });
  return copied;
}

void MbufChain::Clear() {
  while (head_ != nullptr) {
    rte_mbuf* next = head_->next;
    head_->next = nullptr;
    rte_pktmbuf_free_seg(head_);
    head_ = next;
  }
  tail_ = nullptr;
  bytes_ = segs_ = 0;
}

}  // namespace synack
