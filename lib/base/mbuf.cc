#include "lib/base/mbuf.h"

namespace synack {

void Mbuf::Slice(uint32_t off, uint32_t len) {
  rte_mbuf* head = m_;
  const uint64_t ol_flags = head->ol_flags;
  const auto hash = head->hash;
  const uint32_t packet_type = head->packet_type;
  const uint16_t port = head->port;
  // Free the leading segments that end at or before `off` (keeping at least one segment).
  rte_mbuf* seg = head;
  while (off >= seg->data_len && seg->next != nullptr) {
    off -= seg->data_len;
    rte_mbuf* next = seg->next;
    seg->next = nullptr;
    seg->nb_segs = 1;
    rte_pktmbuf_free_seg(seg);
    seg = next;
  }
  seg->data_off = static_cast<uint16_t>(seg->data_off + off);
  seg->data_len = static_cast<uint16_t>(seg->data_len - off);
  // Walk the kept bytes, then cut the chain after the segment holding the last one.
  uint32_t remain = len;
  uint16_t segs = 1;
  rte_mbuf* s = seg;
  while (remain > s->data_len && s->next != nullptr) {
    remain -= s->data_len;
    s = s->next;
    ++segs;
  }
  if (remain < s->data_len) s->data_len = static_cast<uint16_t>(remain);
  if (s->next != nullptr) {
    rte_pktmbuf_free(s->next);
    s->next = nullptr;
  }
  seg->pkt_len = len;
  seg->nb_segs = segs;
  seg->ol_flags = (ol_flags & ~kKindFlags) | (seg->ol_flags & kKindFlags);
  seg->hash = hash;
  seg->packet_type = packet_type;
  seg->port = port;
  m_ = seg;
}

}  // namespace synack
