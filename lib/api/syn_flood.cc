#include "lib/api/syn_flood.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/base/bytes.h"
#include "lib/base/mbuf.h"
#include "lib/dev/port.h"
#include "lib/net/checksum.h"
#include "lib/net/ethernet.h"
#include "lib/net/ipv4.h"
#include "lib/tcp/segment.h"
#include "lib/tcp/tcp_header.h"

namespace synack {

absl::StatusOr<std::unique_ptr<SynFlood>> SynFlood::Create(const std::string& name, const SynFloodOptions& options,
                                                           rte_mempool* pool) {
  std::unique_ptr<SynFlood> f(new SynFlood());
  f->options_ = options;
  f->options_.burst = std::clamp<uint32_t>(options.burst, 1, 256);
  f->rng_ = options.seed | 1;
  if (pool != nullptr) {
    f->pool_ = pool;
    return f;
  }
  absl::StatusOr<rte_mempool*> own = CreateMbufPool(name, 2047);
  if (!own.ok()) return own.status();
  f->pool_ = *own;
  f->owns_pool_ = true;
  return f;
}

SynFlood::~SynFlood() {
  if (owns_pool_) rte_mempool_free(pool_);
}

uint64_t SynFlood::Next() {
  rng_ ^= rng_ >> 12;
  rng_ ^= rng_ << 25;
  rng_ ^= rng_ >> 27;
  return rng_ * 0x2545F4914F6CDD1DULL;
}

void SynFlood::BuildTemplate() {
  Template& t = template_;
  TcpSegment syn;
  syn.dst_port = options_.target_port;
  syn.flags = tcp_flags::kSyn;
  syn.window = 64240;
  syn.options.mss = 1460;
  syn.options.sack_permitted = true;
  syn.options.timestamps = TcpTimestamps{0, 0};
  syn.options.window_scale = 7;
  const uint16_t tcp_len = static_cast<uint16_t>(kTcpMinHeaderLen + TcpOptionsLength(syn.options));
  t.len = static_cast<uint16_t>(kEthHeaderLen + kIpv4MinHeaderLen + tcp_len);
  uint8_t* p = t.frame.data();
  WriteEthernetHeader(p, options_.dst_mac, options_.src_mac, kEtherTypeIpv4);
  Ipv4HeaderFields ip;
  ip.src = Ipv4Addr{0};
  ip.dst = options_.target;
  ip.protocol = kIpProtoTcp;
  ip.id = 0;
  ip.payload_len = tcp_len;
  WriteIpv4Header(p + kEthHeaderLen, ip, /*fill_checksum=*/false);
  uint8_t* tcp = p + kEthHeaderLen + kIpv4MinHeaderLen;
  t.tsval_off = WriteTcpHeader(tcp, syn);  // TSval 0 in the template: rewritten in every copy
  StoreBe16(tcp + 16, 0);
  t.ip_sum = ChecksumAdd(0, ConstBytes(p + kEthHeaderLen, kIpv4MinHeaderLen));
  t.tcp_sum = ChecksumAdd(TcpPseudoHeaderSum(Ipv4Addr{0}, options_.target, tcp_len), ConstBytes(tcp, tcp_len));
  t.dst_mac = options_.dst_mac;
  t.valid = t.tsval_off != 0;
}

uint32_t SynFlood::Poll(Instant now, Outbox& outbox) {
  if (start_ == Instant::Never()) start_ = now;
  uint64_t want = options_.burst;
  if (options_.rate > 0) {
    const double due = (now - start_).seconds() * options_.rate;
    const uint64_t due_n = static_cast<uint64_t>(std::floor(due)) + 1;
    want = due_n > sent_ + not_sent_ ? std::min<uint64_t>(due_n - sent_ - not_sent_, options_.burst) : 0;
  }
  if (options_.count != 0) want = std::min<uint64_t>(want, options_.count > sent_ ? options_.count - sent_ : 0);
  if (want == 0) return 0;
  if (!template_.valid || !(template_.dst_mac == options_.dst_mac)) BuildTemplate();
  const Template& t = template_;
  const uint32_t host_bits = options_.sources.len >= 32 ? 0 : 32 - options_.sources.len;
  const uint32_t host_mask = host_bits == 0 ? 0 : (host_bits == 32 ? ~0u : (1u << host_bits) - 1);
  // What the outbox can take this poll, allocated in one go (`want` <= burst <= 256).
  uint32_t n = std::min<uint32_t>(static_cast<uint32_t>(want), outbox.capacity() - outbox.size());
  rte_mbuf* bufs[256];
  if (n > 0 && rte_pktmbuf_alloc_bulk(pool_, bufs, n) != 0) {
    // The pool is nearly empty: take what it has (it may still change under us: then one by one).
    n = std::min<uint32_t>(n, rte_mempool_avail_count(pool_));
    if (n > 0 && rte_pktmbuf_alloc_bulk(pool_, bufs, n) != 0) {
      uint32_t got = 0;
      while (got < n && (bufs[got] = rte_pktmbuf_alloc(pool_)) != nullptr) ++got;
      n = got;
    }
  }
  not_sent_ += want - n;
  for (uint32_t i = 0; i < n; ++i) {
    Mbuf m(bufs[i]);
    const uint64_t r = Next();
    Ipv4Addr src{(options_.sources.addr.v & options_.sources.mask()) | (static_cast<uint32_t>(r) & host_mask)};
    if ((src.v & host_mask) == 0) src.v |= 1;  // not the network address
    const uint16_t src_port = static_cast<uint16_t>(1024 + (r >> 32) % 64511);
    const uint32_t seq = static_cast<uint32_t>(Next());
    const uint32_t tsval = static_cast<uint32_t>(r >> 16);
    uint8_t* p = m.Append(t.len);  // a fresh mbuf has room for one small frame
    std::memcpy(p, t.frame.data(), t.len);
    uint8_t* ip = p + kEthHeaderLen;
    uint8_t* tcp = ip + kIpv4MinHeaderLen;
    StoreBe16(ip + 4, ip_id_);
    StoreBe32(ip + 12, src.v);
    StoreBe16(tcp, src_port);
    StoreBe32(tcp + 4, seq);
    StoreBe32(tcp + t.tsval_off, tsval);
    StoreBe16(ip + 10,
              ChecksumFinish(ChecksumAdd(t.ip_sum, ConstBytes(ip + 4, 2)) + ChecksumAdd(0, ConstBytes(ip + 12, 4))));
    uint32_t acc = ChecksumAdd(t.tcp_sum, ConstBytes(ip + 12, 4));  // the pseudo-header's source
    acc = ChecksumAdd(acc, ConstBytes(tcp, 2));                     // source port
    acc = ChecksumAdd(acc, ConstBytes(tcp + 4, 4));                 // sequence number
    acc = ChecksumAddAt(acc, ConstBytes(tcp + t.tsval_off, 4), t.tsval_off);
    StoreBe16(tcp + 16, ChecksumFinish(acc));
    ++ip_id_;
    if (!outbox.Push(std::move(m))) {  // cannot happen (room was checked); the outbox freed it
      not_sent_ += n - i;
      for (uint32_t j = i + 1; j < n; ++j) rte_pktmbuf_free(bufs[j]);
      return i;
    }
    ++sent_;
  }
  return n;
}

void WithSynFlood::OnPoll(Engine& engine, Instant now) {
  inner_.OnPoll(engine, now);
  if (!resolved_) {
    const MacAddr* mac = engine.stack().neighbors().Find(next_hop_);
    if (mac == nullptr) return;
    flood_.set_dst_mac(*mac);
    resolved_ = true;
  }
  if (!flood_.done() && !inner_.Done()) flood_.Poll(now, engine.stack().outbox());
}

}  // namespace synack
