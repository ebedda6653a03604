#include "lib/core/syn_shedder.h"

#include <algorithm>

#include "lib/net/ipv4.h"

namespace synack {

std::optional<SynPeek> PeekSyn(ConstBytes frame) {
  constexpr size_t kTcpMin = 20;
  const std::optional<size_t> tcp = PeekTcpOffset(frame);
  if (!tcp || frame.size() < *tcp + kTcpMin) return std::nullopt;
  const uint8_t* t = frame.data() + *tcp;
  constexpr uint8_t kSyn = 0x02, kRst = 0x04, kAck = 0x10;
  if ((t[13] & (kSyn | kRst | kAck)) != kSyn) return std::nullopt;
  const uint8_t* ip = frame.data() + 14;
  SynPeek s;
  s.src = Ipv4Addr{LoadBe32(ip + 12)};
  s.dst = Ipv4Addr{LoadBe32(ip + 16)};
  s.src_port = LoadBe16(t);
  s.dst_port = LoadBe16(t + 2);
  s.seq = LoadBe32(t + 4);
  return s;
}

SynShedder::SynShedder(const Config& config)
    : config_(config), mask_((uint64_t{1} << std::clamp<uint32_t>(config.memory_bits_log2, 6, 32)) - 1) {
  for (auto& b : bits_) b.assign((mask_ + 1) / 64, 0);
}

uint64_t SynShedder::Fingerprint(const SynPeek& syn) const {
  uint64_t a = ((uint64_t{syn.src.v} << 32) | syn.dst.v) ^ config_.seed;
  const uint64_t b = (uint64_t{syn.src_port} << 48) | (uint64_t{syn.dst_port} << 32) | syn.seq;
  a *= 0x9e3779b97f4a7c15ull;
  a ^= (b + config_.seed) * 0xc2b2ae3d27d4eb4full;
  a ^= a >> 29;
  a *= 0xbf58476d1ce4e5b9ull;
  a ^= a >> 32;
  return a;
}

// Two bits per SYN (a Bloom filter with k = 2), from the two halves of its fingerprint.
bool SynShedder::Test(uint64_t h) const {
  const uint64_t b1 = h & mask_, b2 = (h >> 32) & mask_;
  for (const std::vector<uint64_t>& g : bits_) {
    if ((g[b1 >> 6] >> (b1 & 63) & 1) && (g[b2 >> 6] >> (b2 & 63) & 1)) return true;
  }
  return false;
}

void SynShedder::Set(uint64_t h) {
  const uint64_t b1 = h & mask_, b2 = (h >> 32) & mask_;
  bits_[current_][b1 >> 6] |= uint64_t{1} << (b1 & 63);
  bits_[current_][b2 >> 6] |= uint64_t{1} << (b2 & 63);
}

void SynShedder::BeginBurst(Instant now, uint32_t n, uint32_t burst) {
  if (!started_) {
    started_ = true;
    rotate_at_ = now + config_.generation;
    burst_ = std::max<uint32_t>(burst, 1);
    budget_ = burst_;
  }
  if (now >= rotate_at_) {
    // The older generation is forgotten; what was shed in the last `generation` is still known.
    current_ ^= 1;
    std::fill(bits_[current_].begin(), bits_[current_].end(), 0);
    rotate_at_ = now + config_.generation;
  }
  const bool full = burst > 0 && n >= burst;
  if (full && last_full_) {
    budget_ = budget_ > 1 ? budget_ - std::max<uint32_t>(1, budget_ / 4) : 1;
  } else if (!full) {
    budget_ = std::min(burst_, budget_ + 1);
  }
  last_full_ = full;
  overloaded_ = full;
  left_ = budget_;
  retransmits_ = std::max(budget_, kMinRetransmitBudget);
}

ShedVerdict SynShedder::Admit(const SynPeek& syn, bool known_source) {
  if (!overloaded_) return ShedVerdict::kProcess;
  if (known_source) return ShedVerdict::kKnown;
  const uint64_t h = Fingerprint(syn);
  if (retransmits_ > 0 && Test(h)) {
    --retransmits_;
    return ShedVerdict::kRetransmit;
  }
  if (left_ > 0) {
    --left_;
    return ShedVerdict::kBudget;
  }
  Set(h);
  return ShedVerdict::kShed;
}

}  // namespace synack
