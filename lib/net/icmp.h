// ICMP (RFC 792) echo messages: parse with checksum validation, write echo request/reply.
// Pure functions, any core.
#pragma once

#include <cstdint>

#include "lib/base/bytes.h"
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

// Validates length and checksum over the whole message.
Parsed<IcmpMessage> ParseIcmp(ConstBytes message);

// Writes an echo header at `out` and fills the checksum over header plus the `data_len` bytes that
// already follow it in memory.
void WriteIcmpEcho(uint8_t* out, uint8_t type, uint16_t id, uint16_t seq, size_t data_len);

}  // namespace synack
