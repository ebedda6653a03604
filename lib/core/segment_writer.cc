#include "lib/core/segment_writer.h"

#include <rte_mbuf.h>

#include "lib/base/bytes.h"
#include "lib/net/checksum.h"
#include "lib/tcp/tcp_header.h"

namespace synack {

namespace {

// Ethernet + IPv4 with options + TCP with options: the most a reply's headers take after the headroom.
constexpr uint16_t kMaxReplyHeaders = 14 + 60 + 60;

}  // namespace

SegmentWriter::Frame SegmentWriter::Build(const FlowKey& key, const OutSegment& seg, const MbufChain* snd_q) const {
  return Write(Mbuf::Alloc(config_.pool), key, seg, snd_q);
}

bool SegmentWriter::Reusable(const Mbuf& m) {
  const rte_mbuf* b = m.get();
  return b != nullptr && b->nb_segs == 1 && RTE_MBUF_DIRECT(b) && rte_mbuf_refcnt_read(b) == 1 &&
         b->buf_len >= RTE_PKTMBUF_HEADROOM + kMaxReplyHeaders;
}

SegmentWriter::Frame SegmentWriter::BuildInto(Mbuf&& buffer, const FlowKey& key, const OutSegment& seg) const {
  Mbuf h(std::move(buffer));
  const bool reuse = Reusable(h);
  if (reuse) {
    rte_pktmbuf_reset(h.get());  // empty, headroom restored, no offload flags from the receive side
  } else {
    h = Mbuf::Alloc(config_.pool);
  }
  Frame out = Write(std::move(h), key, seg, nullptr);
  out.reused = reuse && out.frame;
  return out;
}

SegmentWriter::Frame SegmentWriter::Write(Mbuf&& header, const FlowKey& key, const OutSegment& seg,
                                          const MbufChain* snd_q) const {
  Frame out;
  Mbuf h(std::move(header));
  if (!h) return out;
  const uint16_t hl = static_cast<uint16_t>(kTcpMinHeaderLen + TcpOptionsLength(seg.seg.options));
  uint8_t* tcp = h.Append(hl);
  WriteTcpHeader(tcp, seg.seg);
  const uint32_t len = seg.seg.payload_len;
  // The checksum covers header and payload; payload pieces may start at odd offsets. With offload the
  // device sums them, and nothing is summed here unless a piece forces it (below).
  const bool software = !config_.tx_tcp_cksum_offload;
  const auto header_sum = [&] {
    return ChecksumAddAt(TcpPseudoHeaderSum(key.local, key.remote, static_cast<uint16_t>(hl + len)),
                         ConstBytes(tcp, hl), 0);
  };
  uint32_t acc = software ? header_sum() : 0;
  bool odd_inner_piece = false;
  if (len > 0 && snd_q != nullptr) {
    rte_mbuf* head = h.get();
    rte_mbuf* tail = head;
    size_t offset = hl;
    bool failed = false;
    snd_q->ForRange(seg.data_offset, len, [&](rte_mbuf* src, uint16_t off, uint16_t n) {
      if (failed) return;
      rte_mbuf* mi = rte_pktmbuf_alloc(config_.indirect_pool);
      if (mi == nullptr) {
        failed = true;
        return;
      }
      rte_pktmbuf_attach(mi, src);
      mi->data_off = static_cast<uint16_t>(src->data_off + off);
      mi->data_len = n;
      mi->pkt_len = n;
      tail->next = mi;
      tail = mi;
      ++head->nb_segs;
      head->pkt_len += n;
      if (software) acc = ChecksumAddAt(acc, ConstBytes(rte_pktmbuf_mtod(mi, const uint8_t*), n), offset);
      offset += n;
      if ((n & 1) != 0 && offset < size_t{hl} + len) odd_inner_piece = true;
    });
    if (failed || head->pkt_len != hl + len) return out;  // `h` frees the header and what was attached
  }
  if (!software && odd_inner_piece) {
    acc = header_sum();
    size_t off = hl;
    for (rte_mbuf* p = h.get()->next; p != nullptr; p = p->next) {
      acc = ChecksumAddAt(acc, ConstBytes(rte_pktmbuf_mtod(p, const uint8_t*), p->data_len), off);
      off += p->data_len;
    }
    StoreBe16(tcp + 16, ChecksumFinish(acc));
    out.cksum_in_software = true;
  } else if (!software) {
    FillTcpPseudoChecksumForOffload(tcp, static_cast<uint16_t>(hl + len), key.local, key.remote);
    h.get()->l4_len = hl;
    h.get()->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
  } else {
    StoreBe16(tcp + 16, ChecksumFinish(acc));
  }
  out.frame = std::move(h);
  return out;
}

}  // namespace synack
