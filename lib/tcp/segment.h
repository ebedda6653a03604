// TcpSegment: the validated, host-order representation of one TCP segment (header fields, options,
// payload length) that the protocol core consumes and produces. Parsing from and writing to the wire
// live in tcp_header.h; the core never sees raw bytes. Plain value, any core.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "lib/net/addr.h"
#include "lib/tcp/seq.h"

namespace synack {

namespace tcp_flags {
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
inline constexpr uint8_t kUrg = 0x20;
inline constexpr uint8_t kEce = 0x40;
inline constexpr uint8_t kCwr = 0x80;
}  // namespace tcp_flags

inline constexpr uint16_t kTcpMinHeaderLen = 20;
inline constexpr uint16_t kTcpMaxHeaderLen = 60;
inline constexpr uint16_t kDefaultMss = 536;  // RFC 9293 3.7.1: assumed when no MSS option is received

struct SackBlock {
  SeqNum left;
  SeqNum right;
  friend bool operator==(const SackBlock&, const SackBlock&) = default;
};

struct TcpTimestamps {
  uint32_t tsval = 0;
  uint32_t tsecr = 0;
  friend bool operator==(const TcpTimestamps&, const TcpTimestamps&) = default;
};

struct TcpOptions {
  std::optional<uint16_t> mss;
  std::optional<uint8_t> window_scale;  // shift count as received (clamped to 14 by the consumer)
  bool sack_permitted = false;
  std::optional<TcpTimestamps> timestamps;
  uint8_t sack_count = 0;
  std::array<SackBlock, 4> sack{};
  friend bool operator==(const TcpOptions&, const TcpOptions&) = default;
};

struct TcpSegment {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  SeqNum seq;
  SeqNum ack;
  uint8_t flags = 0;
  uint16_t window = 0;  // as on the wire (unscaled)
  uint16_t urgent = 0;
  TcpOptions options;
  uint32_t payload_len = 0;

  bool syn() const { return flags & tcp_flags::kSyn; }
  bool fin() const { return flags & tcp_flags::kFin; }
  bool rst() const { return flags & tcp_flags::kRst; }
  bool ack_flag() const { return flags & tcp_flags::kAck; }
  // SEG.LEN: payload plus one for each of SYN and FIN (RFC 9293 3.4).
  uint32_t seg_len() const { return payload_len + (syn() ? 1 : 0) + (fin() ? 1 : 0); }
  friend bool operator==(const TcpSegment&, const TcpSegment&) = default;
};

// Renders flags as e.g. "SYN|ACK" for test failure messages and logs.
std::string TcpFlagsToString(uint8_t flags);
// One line such as "SYN|ACK seq=100 ack=201 win=65535 len=0 <mss 1460,ws 7,sackOK,ts 5/9>".
std::string ToString(const TcpSegment& s);

}  // namespace synack
