// ICMP (RFC 792) echo messages: parse with checksum validation, write echo request/reply; Destination
// Unreachable errors (with RFC 1191's next-hop MTU) parsed down to the transport header they quote.
// Pure functions, any core.
#pragma once

#include <cstdint>

#include "lib/base/bytes.h"
#include "lib/net/addr.h"
#include "lib/net/parsed.h"

namespace synack {

inline constexpr size_t kIcmpHeaderLen = 8;
inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpEchoRequest = 8;

struct IcmpMessage {
  uint8_t type = 0;
  uint8_t code = 0;
  uint16_t id = 0;   // echo identifier (meaningful for echo messages only)
  uint16_t seq = 0;  // echo sequence number
  ConstBytes data;   // bytes after the 8-byte header
};

inline constexpr uint8_t kIcmpDestUnreachable = 3;
namespace icmp_unreach {
inline constexpr uint8_t kNet = 0;
inline constexpr uint8_t kHost = 1;
inline constexpr uint8_t kProtocol = 2;
inline constexpr uint8_t kPort = 3;
inline constexpr uint8_t kFragNeeded = 4;  // "fragmentation needed and DF set" (RFC 1191: next-hop MTU)
}  // namespace icmp_unreach

// A Destination Unreachable error and the datagram it quotes: the quoted IPv4 header and the first 8
// bytes of its transport header (for TCP: ports and sequence number).
struct IcmpError {
  uint8_t code = 0;
  uint16_t next_hop_mtu = 0;  // fragmentation needed only; 0 when the router did not say (RFC 792)
  Ipv4Addr src;               // of the quoted datagram: us, when we sent it
  Ipv4Addr dst;
  uint8_t protocol = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint32_t seq = 0;
};

// Validates length and checksum over the whole message.
Parsed<IcmpMessage> ParseIcmp(ConstBytes message);

// From a parsed Destination Unreachable message: checks the quoted IPv4 header (version, header
// length within what was quoted) and that 8 transport bytes follow it.
Parsed<IcmpError> ParseIcmpError(const IcmpMessage& message);

// Writes an echo header at `out` and fills the checksum over header plus the `data_len` bytes that
// already follow it in memory.
void WriteIcmpEcho(uint8_t* out, uint8_t type, uint16_t id, uint16_t seq, size_t data_len);

}  // namespace synack
