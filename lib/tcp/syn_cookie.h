// SYN cookies (RFC 4987 section 3.6): a listener whose half-open queue is full answers a SYN with a
// SYN-ACK whose initial sequence number encodes everything it needs to create the connection later,
// and keeps no state. The returning ACK (SEG.ACK - 1 is our cookie, SEG.SEQ - 1 the client's ISN) is
// checked and, when valid, becomes an ESTABLISHED connection directly.
//
// Cookie layout (32 bits), before it is offset by a keyed hash of the 4-tuple so that nothing about
// it is readable on the wire:
//   bits 31..27  time slot number modulo 32 (a slot lasts `slot` — 64 s by default)
//   bits 26..24  index into kCookieMssTable (the largest entry not above the peer's MSS)
//   bits 23..0   MAC: SipHash-2-4 under the slot's key of (4-tuple, client ISN, slot, MSS index)
// A cookie is valid during its own slot and the next `max_age_slots - 1` ones. Each slot's key is
// derived from the jar's master secret and the slot number, so the MAC key rotates every slot and a
// key learnt from one slot's cookies is useless after it; Rekey() replaces the master secret.
//
// Window scale and SACK-permitted do not fit in the ISN. When the peer sent timestamps they travel in
// the low 6 bits of our SYN-ACK's TSval (which the peer echoes in TSecr): 4 bits of the peer's window
// shift (15 = none) and 1 bit of SACK-permitted. Without timestamps the cookie SYN-ACK offers neither
// option, so both sides agree to do without them.
//
// Pure and I/O-free. A jar belongs to one engine (it caches the two current slot keys); only that
// engine's core may call it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "lib/base/time.h"
#include "lib/net/addr.h"
#include "lib/tcp/segment.h"

namespace synack {

// The MSS values a cookie can carry (3 bits). The peer's MSS is rounded down to one of these.
inline constexpr std::array<uint16_t, 8> kCookieMssTable = {536, 1220, 1300, 1360, 1400, 1440, 1460, 8960};

// The connection parameters a valid cookie gives back.
struct CookieSyn {
  SeqNum iss;                          // our ISN (the cookie)
  SeqNum irs;                          // the client's ISN
  uint16_t mss = kDefaultMss;          // the peer's MSS (from the table)
  std::optional<uint8_t> peer_wscale;  // the peer's window shift, when it offered scaling
  bool sack_permitted = false;
  bool timestamps = false;  // the handshake used timestamps
};

// What the ACK of a cookie SYN-ACK was found to be: valid; not a cookie of ours (any ACK that is not
// the answer to a cookie SYN-ACK, e.g. for a connection already gone); or a genuine cookie past its
// lifetime.
enum class CookieCheck : uint8_t { kValid, kBadMac, kExpired };

// The 4-tuple as seen from the listener.
struct CookieTuple {
  Ipv4Addr local;
  Ipv4Addr remote;
  uint16_t local_port = 0;
  uint16_t remote_port = 0;
};

class SynCookieJar {
 public:
  struct Config {
    Duration slot = Duration::Seconds(64);
    uint32_t max_age_slots = 2;  // valid for 1 to 2 slots (64..128 s) by default; at most 31
    // Whether our cookie SYN-ACKs carry timestamps (TcpConfig::timestamps): only then does a TSecr
    // echo window scale and SACK-permitted back to Check.
    bool timestamps = true;
  };

  SynCookieJar(const std::array<uint8_t, 16>& master, Config config);
  explicit SynCookieJar(const std::array<uint8_t, 16>& master) : SynCookieJar(master, Config{}) {}

  // Replaces the master secret (control plane, e.g. from RandomKey()). Cookies issued before no longer
  // validate.
  void Rekey(const std::array<uint8_t, 16>& master);

  // The cookie to use as our ISN for a SYN from `t` with sequence number `client_isn` and MSS option
  // `peer_mss` (536 when absent).
  SeqNum Encode(Instant now, const CookieTuple& t, SeqNum client_isn, uint16_t peer_mss);

  // Checks the cookie carried by `ack` (an ACK without SYN or RST). On kValid fills `out` (options from
  // the TSecr only when the jar's config says our SYN-ACKs carried timestamps).
  CookieCheck Check(Instant now, const CookieTuple& t, const TcpSegment& ack, CookieSyn& out);

  // The TSval of a cookie SYN-ACK sent at `now`: our millisecond clock with its low 6 bits replaced by
  // the options to remember, never above the clock (so later TSvals stay newer).
  static uint32_t EncodeTsval(Instant now, std::optional<uint8_t> peer_wscale, bool sack_permitted);
  // Decodes what EncodeTsval stored, from the TSecr the peer echoed.
  static void DecodeTsecr(uint32_t tsecr, std::optional<uint8_t>& peer_wscale, bool& sack_permitted);

  static uint8_t MssIndex(uint16_t peer_mss);
  /// The configuration in effect (slot and lifetime clamped to what the layout can carry).
  const Config& config() const { return config_; }

 private:
  struct SlotKey {
    uint64_t slot = UINT64_MAX;
    std::array<uint8_t, 16> key{};
  };
  uint64_t SlotOf(Instant now) const;
  const std::array<uint8_t, 16>& KeyFor(uint64_t slot);  // cached
  std::array<uint8_t, 16> DeriveSlotKey(uint64_t slot) const;
  uint32_t TupleOffset(const CookieTuple& t) const;
  uint32_t Mac(const std::array<uint8_t, 16>& key, const CookieTuple& t, SeqNum client_isn, uint64_t slot,
               uint8_t mss_index) const;

  std::array<uint8_t, 16> master_;
  Config config_;
  std::array<SlotKey, 2> cache_;  // the most recently used slot keys
};

// The SYN-ACK a listener sends for `syn` when it answers with cookie `iss`: the options of a normal
// SYN-ACK from `config` (MSS always; window scale and SACK-permitted only when the peer sent
// timestamps too, see above), window min(rcv_buffer, 65535), TSval from EncodeTsval.
struct TcpConfig;
TcpSegment CookieSynAck(Instant now, const TcpSegment& syn, SeqNum iss, const TcpConfig& config);

}  // namespace synack
