#include "lib/dev/impairment.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace synack {
namespace {

constexpr uint32_t kEthHeaderBytes = 14;
constexpr uint32_t kFullFrameBits = 1514 * 8;  // what one queue slot stands for

absl::StatusOr<double> ParseProbability(absl::string_view key, absl::string_view v) {
  bool percent = false;
  if (!v.empty() && v.back() == '%') {
    percent = true;
    v.remove_suffix(1);
  }
  double d = 0;
  if (!absl::SimpleAtod(v, &d) || !std::isfinite(d)) {
    return absl::InvalidArgumentError(absl::StrCat("--impair ", key, ": '", v, "' is not a number (e.g. 1% or 0.01)"));
  }
  if (percent) d /= 100;
  if (d < 0 || d > 1) return absl::InvalidArgumentError(absl::StrCat("--impair ", key, ": must be within 0..100%"));
  return d;
}

absl::StatusOr<Duration> ParseDuration(absl::string_view key, absl::string_view v) {
  struct Unit {
    absl::string_view suffix;
    int64_t ns;
  };
  for (const Unit& u : {Unit{"ns", 1}, Unit{"us", 1000}, Unit{"ms", 1000000}, Unit{"s", 1000000000}}) {
    if (v.size() > u.suffix.size() && v.substr(v.size() - u.suffix.size()) == u.suffix) {
      double d = 0;
      if (absl::SimpleAtod(v.substr(0, v.size() - u.suffix.size()), &d) && d >= 0 && d <= 3600e9 / u.ns) {
        return Duration::Nanoseconds(static_cast<int64_t>(d * u.ns));
      }
      break;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("--impair ", key, ": '", v, "' is not a duration (e.g. 500us, 2ms)"));
}

absl::StatusOr<uint64_t> ParseRate(absl::string_view key, absl::string_view v) {
  uint64_t mult = 1;
  if (!v.empty()) {
    switch (v.back()) {
      case 'k':
      case 'K':
        mult = 1000;
        break;
      case 'm':
      case 'M':
        mult = 1000000;
        break;
      case 'g':
      case 'G':
        mult = 1000000000;
        break;
      default:
        break;
    }
    if (mult != 1) v.remove_suffix(1);
  }
  double d = 0;
  if (!absl::SimpleAtod(v, &d) || d < 0 || d * static_cast<double>(mult) > 1e13) {
    return absl::InvalidArgumentError(absl::StrCat("--impair ", key, ": '", v, "' is not a rate (e.g. 100m, 10g)"));
  }
  return static_cast<uint64_t>(d * static_cast<double>(mult));
}

std::string Percent(double p) { return absl::StrFormat("%g%%", p * 100); }

}  // namespace

std::string ImpairConfig::Describe() const {
  std::vector<std::string> parts;
  if (loss > 0) parts.push_back("loss=" + Percent(loss));
  if (burst_p > 0) {
    parts.push_back(absl::StrCat("burst=", Percent(burst_p), "/", Percent(burst_r)));
    if (burst_loss < 1) parts.push_back("burst_loss=" + Percent(burst_loss));
  }
  if (reorder > 0) {
    parts.push_back("reorder=" + Percent(reorder));
    parts.push_back(absl::StrCat("reorder_delay=", reorder_delay.ns() / 1000, "us"));
  }
  if (dup > 0) parts.push_back("dup=" + Percent(dup));
  if (corrupt > 0) parts.push_back("corrupt=" + Percent(corrupt));
  if (delay > Duration()) parts.push_back(absl::StrCat("delay=", delay.ns() / 1000, "us"));
  if (rate_bps > 0) {
    parts.push_back(absl::StrCat("rate=", rate_bps / 1000000, "m"));
    parts.push_back(absl::StrCat("queue=", queue_frames));
  }
  if (mtu > 0) parts.push_back(absl::StrCat("mtu=", mtu));
  parts.push_back(absl::StrCat("seed=", seed));
  return absl::StrJoin(parts, ",");
}

absl::StatusOr<ImpairConfig> ParseImpairSpec(std::string_view spec_in) {
  const absl::string_view spec(spec_in.data(), spec_in.size());
  ImpairConfig c;
  for (absl::string_view item : absl::StrSplit(spec, ',', absl::SkipEmpty())) {
    const size_t eq = item.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("--impair: '", item, "' is not key=value"));
    }
    const absl::string_view key = item.substr(0, eq);
    const absl::string_view v = item.substr(eq + 1);
    if (key == "loss" || key == "reorder" || key == "dup" || key == "corrupt" || key == "burst_loss") {
      absl::StatusOr<double> p = ParseProbability(key, v);
      if (!p.ok()) return p.status();
      (key == "loss"      ? c.loss
       : key == "reorder" ? c.reorder
       : key == "dup"     ? c.dup
       : key == "corrupt" ? c.corrupt
                          : c.burst_loss) = *p;
    } else if (key == "burst") {  // p/r
      const size_t slash = v.find('/');
      absl::StatusOr<double> p = ParseProbability(key, v.substr(0, slash));
      if (!p.ok()) return p.status();
      c.burst_p = *p;
      if (slash != absl::string_view::npos) {
        absl::StatusOr<double> r = ParseProbability(key, v.substr(slash + 1));
        if (!r.ok()) return r.status();
        if (*r <= 0) return absl::InvalidArgumentError("--impair burst: the recovery probability must be above 0");
        c.burst_r = *r;
      }
    } else if (key == "delay" || key == "reorder_delay") {
      absl::StatusOr<Duration> d = ParseDuration(key, v);
      if (!d.ok()) return d.status();
      (key == "delay" ? c.delay : c.reorder_delay) = *d;
    } else if (key == "rate") {
      absl::StatusOr<uint64_t> r = ParseRate(key, v);
      if (!r.ok()) return r.status();
      c.rate_bps = *r;
    } else if (key == "mtu") {
      uint32_t n = 0;
      if (!absl::SimpleAtoi(v, &n) || n < 68 || n > 9000) {
        return absl::InvalidArgumentError(absl::StrCat("--impair mtu: '", v, "' is not an MTU in 68..9000"));
      }
      c.mtu = static_cast<uint16_t>(n);
    } else if (key == "queue" || key == "seed") {
      uint64_t n = 0;
      if (!absl::SimpleAtoi(v, &n) || (key == "queue" && (n == 0 || n > 1000000))) {
        return absl::InvalidArgumentError(absl::StrCat("--impair ", key, ": '", v, "' is not a valid count"));
      }
      if (key == "queue") {
        c.queue_frames = static_cast<uint32_t>(n);
      } else {
        c.seed = n;
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "--impair: unknown key '", key,
          "' (loss, burst, burst_loss, reorder, reorder_delay, dup, corrupt, delay, rate, queue, mtu, seed)"));
    }
  }
  return c;
}

void ImpairCounters::ForEach(absl::FunctionRef<void(std::string_view, uint64_t)> f) const {
#define SYNACK_X(name) f(#name, name);
  SYNACK_IMPAIR_COUNTERS(SYNACK_X)
#undef SYNACK_X
}

Impairment::Impairment(const ImpairConfig& config) : config_(config), rng_(config.seed * 0x9e3779b97f4a7c15ull + 1) {
  batch_.reserve(64);
}

Impairment::~Impairment() {
  for (Fifo* q : {&normal_, &held_back_}) {
    for (size_t i = q->head(); i < q->items().size(); ++i) rte_pktmbuf_free(q->items()[i].m);
  }
  for (rte_mbuf* m : reflected_) rte_pktmbuf_free(m);
}

size_t Impairment::TakeReflected(rte_mbuf** out, size_t max) {
  const size_t n = std::min(max, reflected_.size());
  std::copy(reflected_.begin(), reflected_.begin() + static_cast<std::ptrdiff_t>(n), out);
  reflected_.erase(reflected_.begin(), reflected_.begin() + static_cast<std::ptrdiff_t>(n));
  return n;
}

namespace {

uint16_t Checksum16(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
  if (n % 2) sum += uint32_t{p[n - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

}  // namespace

bool Impairment::OverMtu(rte_mbuf* m) {
  // Only the first segment's headers are looked at: Ethernet, then an IPv4 header.
  if (m->data_len < kEthHeaderBytes + 20) return false;
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  if (p[12] != 0x08 || p[13] != 0x00 || (p[14] >> 4) != 4) return false;
  const uint8_t* ip = p + kEthHeaderBytes;
  const uint32_t ihl = uint32_t{ip[0] & 0x0fu} * 4;
  const uint32_t total = (uint32_t{ip[2]} << 8) | ip[3];
  const bool df = (ip[6] & 0x40) != 0;
  if (total <= config_.mtu || !df || ihl < 20 || m->data_len < kEthHeaderBytes + ihl + 8) return false;
  ++counters_.mtu_dropped;
  // What a router on the path does (RFC 1191): "fragmentation needed", with the next-hop MTU, quoting
  // the datagram's header and first 8 payload bytes, back to its source.
  const uint16_t quoted = static_cast<uint16_t>(ihl + 8);
  const uint16_t len = static_cast<uint16_t>(kEthHeaderBytes + 20 + 8 + quoted);
  rte_mbuf* r = rte_pktmbuf_alloc(m->pool);
  uint8_t* out = r != nullptr ? reinterpret_cast<uint8_t*>(rte_pktmbuf_append(r, len)) : nullptr;
  if (out == nullptr) {
    if (r != nullptr) rte_pktmbuf_free(r);
    ++counters_.no_mbufs;
  } else {
    std::memcpy(out, p + 6, 6);  // to the sender's MAC, from the destination's
    std::memcpy(out + 6, p, 6);
    out[12] = 0x08;
    out[13] = 0x00;
    uint8_t* rip = out + kEthHeaderBytes;
    std::memset(rip, 0, 20);
    rip[0] = 0x45;
    Put16(rip + 2, static_cast<uint16_t>(20 + 8 + quoted));
    rip[8] = 64;
    rip[9] = 1;                         // ICMP
    std::memcpy(rip + 12, ip + 16, 4);  // from the datagram's destination (standing in for the router)
    std::memcpy(rip + 16, ip + 12, 4);  // to its source
    Put16(rip + 10, Checksum16(rip, 20));
    uint8_t* icmp = rip + 20;
    std::memset(icmp, 0, 8);
    icmp[0] = 3;
    icmp[1] = 4;
    Put16(icmp + 6, config_.mtu);
    std::memcpy(icmp + 8, ip, quoted);
    Put16(icmp + 2, Checksum16(icmp, 8 + quoted));
    reflected_.push_back(r);
    ++counters_.icmp_sent;
  }
  rte_pktmbuf_free(m);
  return true;
}

double Impairment::Uniform() {
  // splitmix64: a fast, well-mixed sequence from any seed.
  uint64_t z = (rng_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

rte_mbuf* Impairment::CorruptCopy(rte_mbuf* m) {
  constexpr uint64_t kDeviceChecksums = RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM;
  if ((m->ol_flags & kDeviceChecksums) != 0 || m->pkt_len <= kEthHeaderBytes) {
    // The device would compute checksums over the corrupted bytes: the damage would go unnoticed.
    ++counters_.corrupt_skipped;
    return m;
  }
  rte_mbuf* copy = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
  if (copy == nullptr) {
    ++counters_.no_mbufs;
    return m;
  }
  rte_pktmbuf_free(m);  // the copy replaces it (shared payload stays untouched for retransmission)
  const uint32_t span = copy->pkt_len - kEthHeaderBytes;
  uint32_t off = kEthHeaderBytes + static_cast<uint32_t>(Uniform() * span);
  const uint8_t bit = static_cast<uint8_t>(1u << static_cast<unsigned>(Uniform() * 8));
  for (rte_mbuf* s = copy; s != nullptr; s = s->next) {
    if (off < s->data_len) {
      *rte_pktmbuf_mtod_offset(s, uint8_t*, off) ^= bit;
      break;
    }
    off -= s->data_len;
  }
  ++counters_.corrupted;
  return copy;
}

void Impairment::Enqueue(Instant now, rte_mbuf* m) {
  // The bottleneck: serialisation at rate_bps after whatever it still holds, then the fixed delay.
  Instant leaves = now;
  if (config_.rate_bps > 0) {
    const Duration backlog = link_free_ > now ? link_free_ - now : Duration();
    const Duration slot =
        Duration::Nanoseconds(static_cast<int64_t>(uint64_t{kFullFrameBits} * 1000000000 / config_.rate_bps));
    if (backlog > slot * config_.queue_frames) {
      ++counters_.queue_dropped;
      rte_pktmbuf_free(m);
      return;
    }
    const Duration tx =
        Duration::Nanoseconds(static_cast<int64_t>(uint64_t{m->pkt_len} * 8 * 1000000000 / config_.rate_bps));
    link_free_ = std::max(link_free_, now) + tx;
    leaves = link_free_;
  }
  leaves = leaves + config_.delay;
  if (config_.reorder > 0 && Uniform() < config_.reorder) {
    ++counters_.reordered;
    last_held_ = std::max(last_held_, leaves + config_.reorder_delay);
    held_back_.push(Timed{last_held_, m});
    return;
  }
  last_normal_ = std::max(last_normal_, leaves);
  normal_.push(Timed{last_normal_, m});
}

void Impairment::Submit(Instant now, rte_mbuf* const* pkts, uint16_t n) {
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    ++counters_.frames_in;
    if (config_.mtu > 0 && OverMtu(m)) continue;
    if (config_.burst_p > 0) {
      bad_state_ = bad_state_ ? !(Uniform() < config_.burst_r) : Uniform() < config_.burst_p;
      if (bad_state_ && Uniform() < config_.burst_loss) {
        ++counters_.burst_lost;
        rte_pktmbuf_free(m);
        continue;
      }
    }
    if (config_.loss > 0 && Uniform() < config_.loss) {
      ++counters_.lost;
      rte_pktmbuf_free(m);
      continue;
    }
    if (config_.corrupt > 0 && Uniform() < config_.corrupt) m = CorruptCopy(m);
    if (config_.dup > 0 && Uniform() < config_.dup) {
      if (rte_mbuf* twin = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX)) {
        ++counters_.duplicated;
        Enqueue(now, twin);
      } else {
        ++counters_.no_mbufs;
      }
    }
    Enqueue(now, m);
  }
}

Instant Impairment::NextRelease() const {
  Instant t = Instant::Never();
  if (!normal_.empty()) t = normal_.front().at;
  if (!held_back_.empty()) t = std::min(t, held_back_.front().at);
  return t;
}

uint32_t Impairment::Release(Instant now, absl::FunctionRef<uint16_t(rte_mbuf**, uint16_t)> send) {
  uint32_t taken = 0;
  while (true) {
    // Merge the two time-ordered queues into one batch of due frames.
    batch_.clear();
    size_t from_normal = 0, from_held = 0;
    const auto& nv = normal_.items();
    const auto& hv = held_back_.items();
    size_t ni = normal_.head(), hi = held_back_.head();
    while (batch_.size() < 64) {
      const bool n_due = ni < nv.size() && nv[ni].at <= now;
      const bool h_due = hi < hv.size() && hv[hi].at <= now;
      if (!n_due && !h_due) break;
      if (n_due && (!h_due || nv[ni].at <= hv[hi].at)) {
        batch_.push_back(nv[ni++].m);
        ++from_normal;
      } else {
        batch_.push_back(hv[hi++].m);
        ++from_held;
      }
    }
    if (batch_.empty()) return taken;
    const uint16_t n = send(batch_.data(), static_cast<uint16_t>(batch_.size()));
    // Pop what was taken, in the order it was merged.
    size_t popped_n = 0, popped_h = 0;
    for (uint16_t i = 0; i < n; ++i) {
      if (popped_n < from_normal && normal_.front().m == batch_[i]) {
        normal_.pop();
        ++popped_n;
      } else {
        held_back_.pop();
        ++popped_h;
      }
    }
    taken += n;
    counters_.frames_out += n;
    if (n < batch_.size()) return taken;
  }
}

}  // namespace synack
