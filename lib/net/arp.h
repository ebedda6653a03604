// ARP for IPv4 over Ethernet (RFC 826): parse into a checked view, write requests and replies.
// Pure functions, any core.
#pragma once

#include <cstdint>

#include "lib/base/bytes.h"
#include "lib/net/addr.h"
#include "lib/net/parsed.h"

namespace synack {

inline constexpr size_t kArpLen = 28;
inline constexpr uint16_t kArpOpRequest = 1;
inline constexpr uint16_t kArpOpReply = 2;

struct ArpPacket {
  uint16_t op = 0;
  MacAddr sha;   // sender hardware address
  Ipv4Addr spa;  // sender protocol address
  MacAddr tha;
  Ipv4Addr tpa;
};

// Accepts only hardware type Ethernet (1), protocol IPv4, lengths 6/4 and op request or reply.
Parsed<ArpPacket> ParseArp(ConstBytes payload);

// Writes the 28-byte ARP body at `out`.
void WriteArp(uint8_t* out, const ArpPacket& p);

}  // namespace synack
