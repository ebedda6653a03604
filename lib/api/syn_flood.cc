#include "lib/api/syn_flood.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "lib/base/mbuf.h"
#include "lib/dev/port.h"
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

uint32_t SynFlood::Poll(Instant now, Outbox& outbox) {
  if (start_ == Instant::Never()) start_ = now;
  uint64_t want = options_.burst;
  if (options_.rate > 0) {
    const double due = (now - start_).seconds() * options_.rate;
    const uint64_t due_n = static_cast<uint64_t>(std::floor(due)) + 1;
    want = due_n > sent_ + not_sent_ ? std::min<uint64_t>(due_n - sent_ - not_sent_, options_.burst) : 0;
  }
  if (options_.count != 0) want = std::min<uint64_t>(want, options_.count > sent_ ? options_.count - sent_ : 0);
  const uint32_t host_bits = options_.sources.len >= 32 ? 0 : 32 - options_.sources.len;
  const uint32_t host_mask = host_bits == 0 ? 0 : (host_bits == 32 ? ~0u : (1u << host_bits) - 1);
  uint32_t queued = 0;
  for (uint64_t i = 0; i < want; ++i) {
    Mbuf m = Mbuf::Alloc(pool_);
    if (!m) {
      ++not_sent_;
      continue;
    }
    const uint64_t r = Next();
    Ipv4Addr src{(options_.sources.addr.v & options_.sources.mask()) | (static_cast<uint32_t>(r) & host_mask)};
    if ((src.v & host_mask) == 0) src.v |= 1;  // not the network address
    TcpSegment syn;
    syn.src_port = static_cast<uint16_t>(1024 + (r >> 32) % 64511);
    syn.dst_port = options_.target_port;
    syn.seq = SeqNum(static_cast<uint32_t>(Next()));
    syn.flags = tcp_flags::kSyn;
    syn.window = 64240;
    syn.options.mss = 1460;
    syn.options.sack_permitted = true;
    syn.options.timestamps = TcpTimestamps{static_cast<uint32_t>(r >> 16), 0};
    syn.options.window_scale = 7;
    const uint16_t tcp_len = static_cast<uint16_t>(kTcpMinHeaderLen + TcpOptionsLength(syn.options));
    uint8_t* p = m.Append(static_cast<uint16_t>(kEthHeaderLen + kIpv4MinHeaderLen + tcp_len));
    if (p == nullptr) {
      ++not_sent_;
      continue;
    }
    WriteEthernetHeader(p, options_.dst_mac, options_.src_mac, kEtherTypeIpv4);
    Ipv4HeaderFields ip;
    ip.src = src;
    ip.dst = options_.target;
    ip.protocol = kIpProtoTcp;
    ip.id = ip_id_++;
    ip.payload_len = tcp_len;
    WriteIpv4Header(p + kEthHeaderLen, ip, /*fill_checksum=*/true);
    uint8_t* tcp = p + kEthHeaderLen + kIpv4MinHeaderLen;
    WriteTcpHeader(tcp, syn);
    FillTcpChecksum(tcp, tcp_len, src, options_.target);
    if (!outbox.Push(std::move(m))) {
      ++not_sent_;
      break;  // the device is not keeping up; try again next poll
    }
    ++sent_;
    ++queued;
  }
  return queued;
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
