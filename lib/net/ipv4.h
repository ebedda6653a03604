// IPv4 (RFC 791): parse and validate a received header into a checked view; write a header for sending.
// Pure functions, any core.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "lib/base/bytes.h"
#include "lib/net/addr.h"
#include "lib/net/parsed.h"

namespace synack {

inline constexpr size_t kIpv4MinHeaderLen = 20;
inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kDefaultTtl = 64;

struct Ipv4Packet {
  Ipv4Addr src;
  Ipv4Addr dst;
  uint8_t protocol = 0;
  uint8_t ttl = 0;
  uint8_t tos = 0;
  uint16_t id = 0;
  uint16_t header_len = 0;  // bytes, including options
  uint16_t total_len = 0;   // bytes, from the header; the frame may carry padding beyond it
  bool more_fragments = false;
  uint16_t fragment_offset = 0;  // in 8-byte units
  // The payload bytes in the span given to ParseIpv4: all payload_len() of them for a contiguous
  // frame; for a frame whose payload continues in later mbuf segments, only the first segment's part.
  ConstBytes payload;
  uint16_t payload_len() const { return static_cast<uint16_t>(total_len - header_len); }
  bool is_fragment() const { return more_fragments || fragment_offset != 0; }
};

enum class ChecksumState : uint8_t {
  kUnknown,  // verify in software
  kGood,     // the device verified it
  kBad,      // the device found it wrong
};

// Validates version, header length, total length against the bytes received, checksum (in software
// unless the device already reported it) and TTL. Options are accepted and skipped.
Parsed<Ipv4Packet> ParseIpv4(ConstBytes data, ChecksumState cksum = ChecksumState::kUnknown);
// The same for a datagram split over mbuf segments: `data` holds its first bytes (at least the whole
// header, else kIpTruncated) and `available` (>= data.size()) counts all of its bytes in the frame;
// the total length is checked against `available`.
Parsed<Ipv4Packet> ParseIpv4(ConstBytes data, size_t available, ChecksumState cksum);

struct Ipv4HeaderFields {
  Ipv4Addr src;
  Ipv4Addr dst;
  uint8_t protocol = 0;
  uint8_t ttl = kDefaultTtl;
  uint16_t id = 0;
  uint16_t payload_len = 0;
  bool dont_fragment = true;
};

// Writes a 20-byte header (no options) at `out`. With `fill_checksum` false the checksum field is
// left zero for the device to fill (TX offload).
void WriteIpv4Header(uint8_t* out, const Ipv4HeaderFields& f, bool fill_checksum);

// Where the TCP header starts in an Ethernet frame carrying an unfragmented IPv4 TCP datagram. Checks
// only the EtherType, the IPv4 version, a header length of at least 20 bytes that `frame` holds, the
// protocol and the fragment fields (no checksum, no total length): a cheap peek before the full parse,
// for dispatch and for chained frames. nullopt for anything else.
std::optional<size_t> PeekTcpOffset(ConstBytes frame);

}  // namespace synack
