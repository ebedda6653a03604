// SegmentWriter: turns one OutSegment of the protocol core into a TCP frame ready for IPv4 — the header
// with its options, the payload attached zero-copy (an indirect mbuf per piece of the send queue, so the
// queue's mbufs are referenced, never copied), and the checksum: in software, or prepared for the
// device's offload (pseudo-header sum and TX flags), except for frames whose payload has an odd-length
// piece before the last, which some PMDs' checksum emulation (net_tap in DPDK 22.11) sums wrongly and
// which are therefore summed here. A stateless reply (a cookie SYN-ACK, a RST for a segment matching
// nothing) can instead be written into the buffer of the segment it answers (BuildInto): no allocation,
// and a buffer that is already in cache.
//
// Ownership: the returned frame is the caller's; on failure (a pool is empty) everything allocated is
// freed and an empty Mbuf returned. The send queue keeps its mbufs. Owned by one engine; its core only.
#pragma once

#include <cstdint>

#include <rte_mempool.h>

#include "lib/base/mbuf.h"
#include "lib/base/mbuf_chain.h"
#include "lib/core/flow.h"
#include "lib/tcp/connection.h"

namespace synack {

class SegmentWriter {
 public:
  struct Config {
    rte_mempool* pool = nullptr;           // headers
    rte_mempool* indirect_pool = nullptr;  // data-less mbufs that attach payload
    bool tx_tcp_cksum_offload = false;     // the device completes TCP checksums
  };
  struct Frame {
    Mbuf frame;                      // TCP header + payload; empty when a pool ran dry
    bool cksum_in_software = false;  // offload was on but this frame's checksum was computed here
    bool reused = false;             // written into the buffer given to BuildInto
  };

  explicit SegmentWriter(const Config& config) : config_(config) {}

  // The frame for `seg` from `key.local` to `key.remote`; its payload (seg.payload_len bytes from
  // seg.data_offset) comes from `snd_q`, which must hold them (null: no payload).
  Frame Build(const FlowKey& key, const OutSegment& seg, const MbufChain* snd_q) const;
  // The frame for `seg`, which carries no payload, written into `buffer` — a received frame whose bytes
  // are no longer needed — when that is one direct segment nobody else references with room for the
  // headers; otherwise `buffer` is freed and a header mbuf allocated as Build does. Takes `buffer`.
  Frame BuildInto(Mbuf&& buffer, const FlowKey& key, const OutSegment& seg) const;
  // Whether BuildInto can write into `m`'s own buffer.
  static bool Reusable(const Mbuf& m);

 private:
  // Writes header (and payload from `snd_q`) into `h`, an empty mbuf (or none: the pool ran dry).
  Frame Write(Mbuf&& h, const FlowKey& key, const OutSegment& seg, const MbufChain* snd_q) const;

  Config config_;
};

}  // namespace synack
