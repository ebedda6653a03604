#include "lib/tcp/syn_cookie.h"

#include <algorithm>

#include "lib/base/bytes.h"
#include "lib/tcp/connection.h"
#include "lib/tcp/isn.h"

namespace synack {
namespace {

constexpr uint32_t kMacMask = 0x00ffffff;
constexpr uint32_t kSlotBits = 5;
constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;

// Domain-separation bytes: each use of the master secret hashes a different first byte.
constexpr uint8_t kDomainKeyLow = 1;
constexpr uint8_t kDomainKeyHigh = 2;
constexpr uint8_t kDomainOffset = 3;

constexpr uint8_t kTsNoWscale = 15;
constexpr uint8_t kTsSackBit = 16;
constexpr uint32_t kTsOptionBits = 63;

void PutTuple(uint8_t* p, const CookieTuple& t) {
  StoreBe32(p, t.local.v);
  StoreBe16(p + 4, t.local_port);
  StoreBe32(p + 6, t.remote.v);
  StoreBe16(p + 10, t.remote_port);
}

void PutU64(uint8_t* p, uint64_t v) {
  StoreBe32(p, static_cast<uint32_t>(v >> 32));
  StoreBe32(p + 4, static_cast<uint32_t>(v));
}

}  // namespace

SynCookieJar::SynCookieJar(const std::array<uint8_t, 16>& master, Config config) : master_(master), config_(config) {
  config_.max_age_slots = std::clamp<uint32_t>(config_.max_age_slots, 1, kSlotMask);
  if (config_.slot <= Duration()) config_.slot = Duration::Seconds(64);
}

void SynCookieJar::Rekey(const std::array<uint8_t, 16>& master) {
  master_ = master;
  cache_ = {};
}

uint64_t SynCookieJar::SlotOf(Instant now) const {
  return static_cast<uint64_t>(std::max<int64_t>(now.ns(), 0) / config_.slot.ns());
}

const std::array<uint8_t, 16>& SynCookieJar::KeyFor(uint64_t slot) {
  for (const SlotKey& k : cache_) {
    if (k.slot == slot) return k.key;
  }
  // Rotation: the slot key is a PRF of the master secret and the slot number, replacing the older of
  // the two cached keys.
  SlotKey& victim = (cache_[0].slot == UINT64_MAX || (cache_[1].slot != UINT64_MAX && cache_[0].slot < cache_[1].slot))
                        ? cache_[0]
                        : cache_[1];
  victim.key = DeriveSlotKey(slot);
  victim.slot = slot;
  return victim.key;
}

std::array<uint8_t, 16> SynCookieJar::DeriveSlotKey(uint64_t slot) const {
  std::array<uint8_t, 9> in;
  PutU64(in.data() + 1, slot);
  in[0] = kDomainKeyLow;
  const uint64_t lo = SipHash24(master_, in);
  in[0] = kDomainKeyHigh;
  const uint64_t hi = SipHash24(master_, in);
  std::array<uint8_t, 16> key;
  for (int i = 0; i < 8; ++i) {
    key[i] = static_cast<uint8_t>(lo >> (8 * i));
    key[8 + i] = static_cast<uint8_t>(hi >> (8 * i));
  }
  return key;
}

uint32_t SynCookieJar::TupleOffset(const CookieTuple& t) const {
  std::array<uint8_t, 13> in;
  in[0] = kDomainOffset;
  PutTuple(in.data() + 1, t);
  return static_cast<uint32_t>(SipHash24(master_, in));
}

uint32_t SynCookieJar::Mac(const std::array<uint8_t, 16>& key, const CookieTuple& t, SeqNum client_isn, uint64_t slot,
                           uint8_t mss_index) const {
  std::array<uint8_t, 25> in;
  PutTuple(in.data(), t);
  StoreBe32(in.data() + 12, client_isn.raw());
  PutU64(in.data() + 16, slot);
  in[24] = mss_index;
  return static_cast<uint32_t>(SipHash24(key, in)) & kMacMask;
}

uint8_t SynCookieJar::MssIndex(uint16_t peer_mss) {
  uint8_t idx = 0;
  for (uint8_t i = 0; i < kCookieMssTable.size(); ++i) {
    if (kCookieMssTable[i] <= peer_mss) idx = i;
  }
  return idx;  // below the smallest entry: 536, which every host must accept (RFC 9293 3.7.1)
}

SeqNum SynCookieJar::Encode(Instant now, const CookieTuple& t, SeqNum client_isn, uint16_t peer_mss) {
  const uint64_t slot = SlotOf(now);
  const uint8_t idx = MssIndex(peer_mss);
  const uint32_t mac = Mac(KeyFor(slot), t, client_isn, slot, idx);
  const uint32_t raw = (static_cast<uint32_t>(slot & kSlotMask) << 27) | (uint32_t{idx} << 24) | mac;
  return SeqNum(raw + TupleOffset(t));
}

CookieCheck SynCookieJar::Check(Instant now, const CookieTuple& t, const TcpSegment& ack, CookieSyn& out) {
  const SeqNum cookie = ack.ack - 1u;
  const SeqNum irs = ack.seq - 1u;
  const uint32_t raw = cookie.raw() - TupleOffset(t);
  const uint64_t current = SlotOf(now);
  const uint64_t age = (current - (raw >> 27)) & kSlotMask;
  if (age > current) return CookieCheck::kBadMac;  // a slot before time began: not one of ours
  const uint64_t slot = current - age;
  const uint8_t idx = static_cast<uint8_t>((raw >> 24) & 7);
  // The MAC decides whether this was ever our cookie; only then does its age matter. (Any stray ACK at
  // a listener is checked here; most carry a slot number outside the lifetime, and must count as
  // forged, not as expired.) Old slots' keys are derived without displacing the cached ones.
  const bool alive = age < config_.max_age_slots;
  const std::array<uint8_t, 16> old_key = alive ? std::array<uint8_t, 16>{} : DeriveSlotKey(slot);
  if (Mac(alive ? KeyFor(slot) : old_key, t, irs, slot, idx) != (raw & kMacMask)) return CookieCheck::kBadMac;
  if (!alive) return CookieCheck::kExpired;
  out = CookieSyn{};
  out.iss = cookie;
  out.irs = irs;
  out.mss = kCookieMssTable[idx];
  if (config_.timestamps && ack.options.timestamps) {
    out.timestamps = true;
    DecodeTsecr(ack.options.timestamps->tsecr, out.peer_wscale, out.sack_permitted);
  }
  return CookieCheck::kValid;
}

uint32_t SynCookieJar::EncodeTsval(Instant now, std::optional<uint8_t> peer_wscale, bool sack_permitted) {
  const uint32_t clock = static_cast<uint32_t>(now.ns() / 1000000);
  const uint32_t opts =
      (peer_wscale ? std::min<uint8_t>(*peer_wscale, 14) : kTsNoWscale) | (sack_permitted ? kTsSackBit : 0);
  uint32_t v = (clock & ~kTsOptionBits) | opts;
  if (opts > (clock & kTsOptionBits)) v -= kTsOptionBits + 1;  // stay at or below the clock
  return v;
}

void SynCookieJar::DecodeTsecr(uint32_t tsecr, std::optional<uint8_t>& peer_wscale, bool& sack_permitted) {
  const uint8_t ws = static_cast<uint8_t>(tsecr & 15);
  peer_wscale = ws == kTsNoWscale ? std::nullopt : std::optional<uint8_t>(ws);
  sack_permitted = (tsecr & kTsSackBit) != 0;
}

TcpSegment CookieSynAck(Instant now, const TcpSegment& syn, SeqNum iss, const TcpConfig& config) {
  TcpSegment s;
  s.src_port = syn.dst_port;
  s.dst_port = syn.src_port;
  s.seq = iss;
  s.ack = syn.seq + 1u;
  s.flags = tcp_flags::kSyn | tcp_flags::kAck;
  s.window = static_cast<uint16_t>(std::min<uint32_t>(config.rcv_buffer, 65535));
  s.options.mss = config.mss;
  if (config.timestamps && syn.options.timestamps) {
    std::optional<uint8_t> ws;
    if (syn.options.window_scale) {
      ws = syn.options.window_scale;
      s.options.window_scale = config.window_scale;
    }
    const bool sack = config.sack_permitted && syn.options.sack_permitted;
    s.options.sack_permitted = sack;
    s.options.timestamps = TcpTimestamps{SynCookieJar::EncodeTsval(now, ws, sack), syn.options.timestamps->tsval};
  }
  return s;
}

}  // namespace synack
