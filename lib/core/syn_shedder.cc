#include "lib/core/syn_shedder.h"

#include <algorithm>

#include "lib/net/ethernet.h"
#include "lib/net/ipv4.h"

namespace synack {

std::optional<SynPeek> PeekSyn(ConstBytes frame) {
  constexpr size_t kTcpMin = 20;
  const std::optional<size_t> tcp = PeekTcpOffset(frame);
  if (!tcp || frame.size() < *tcp + kTcpMin) return std::nullopt;
  const uint8_t* t = frame.data() + *tcp;
  constexpr uint8_t kSyn = 0x02, kRst = 0x04, kAck = 0x10;
  if ((t[13] & (kSyn | kRst | kAck)) != kSyn) return std::nullopt;
  const uint8_t* ip = frame.data() + kEthHeaderLen;
  SynPeek s;
  s.src = Ipv4Addr{LoadBe32(ip + 12)};
  s.dst = Ipv4Addr{LoadBe32(ip + 16)};
  s.src_port = LoadBe16(t);
  s.dst_port = LoadBe16(t + 2);
  s.seq = LoadBe32(t + 4);
  return s;
}

SynShedder::SynShedder(const Config& config)
    : config_(config), words_((uint64_t{1} << std::clamp<uint32_t>(config.memory_bits_log2, 6, 32)) / 64) {}

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

// A blocked Bloom filter: two bits (k = 2) in one 64-bit word per SYN, and the two generations' words
// side by side, so testing both generations and setting the current one touch one cache line.
uint64_t* SynShedder::Block(uint64_t h) {
  if (memory_.empty()) memory_.assign(2 * words_, 0);  // the first overload: allocated once
  return &memory_[2 * ((h >> 12) % words_)];
}

uint64_t SynShedder::Bits(uint64_t h) { return (uint64_t{1} << (h & 63)) | (uint64_t{1} << ((h >> 6) & 63)); }

bool SynShedder::Test(uint64_t h) {
  const uint64_t* b = Block(h);
  const uint64_t bits = Bits(h);
  return (b[0] & bits) == bits || (b[1] & bits) == bits;
}

void SynShedder::Set(uint64_t h) {
  Block(h)[current_] |= Bits(h);
  dirty_[current_] = true;
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
    // Only a generation something was written into is cleared: once a flood is over, nothing is.
    current_ ^= 1;
    if (dirty_[current_]) {
      for (size_t i = current_; i < memory_.size(); i += 2) memory_[i] = 0;
      dirty_[current_] = false;
    }
    rotate_at_ = now + config_.generation;
  }
  const bool full = burst > 0 && n >= burst;
  // Multiplicative decrease while behind, additive increase while keeping up.
  budget_ = full ? (budget_ > 1 ? budget_ - std::max<uint32_t>(1, budget_ / 4) : 1) : std::min(burst_, budget_ + 1);
  overloaded_ = full;
  left_ = budget_;
  retransmits_ = std::max(budget_, kMinRetransmitBudget);
}

void SynShedder::Prefetch(uint64_t h) {
  if (overloaded_) __builtin_prefetch(Block(h), 1);
}

ShedVerdict SynShedder::Admit(uint64_t h, bool known_source) {
  if (!overloaded_) return ShedVerdict::kProcess;
  if (known_source) return ShedVerdict::kKnown;
  if (left_ > 0) {
    --left_;
    return ShedVerdict::kBudget;
  }
  if (retransmits_ > 0 && Test(h)) {
    --retransmits_;
    return ShedVerdict::kRetransmit;
  }
  Set(h);
  return ShedVerdict::kShed;
}

}  // namespace synack
