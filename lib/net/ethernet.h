// Ethernet II framing: parse a received frame into a checked view, write a header for sending.
// Pure functions, any core.
#pragma once

#include <cstdint>

#include "lib/base/bytes.h"
#include "lib/net/addr.h"
#include "lib/net/parsed.h"

namespace synack {

inline constexpr size_t kEthHeaderLen = 14;
inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;

struct EthernetFrame {
  MacAddr dst;
  MacAddr src;
  uint16_t ethertype = 0;
  ConstBytes payload;  // everything after the header, including any padding
};

Parsed<EthernetFrame> ParseEthernet(ConstBytes frame);

// Writes a 14-byte header at `out`.
void WriteEthernetHeader(uint8_t* out, const MacAddr& dst, const MacAddr& src, uint16_t ethertype);

}  // namespace synack
