#include "lib/net/arp.h"

#include <cstring>

#include "lib/net/ethernet.h"

namespace synack {

Parsed<ArpPacket> ParseArp(ConstBytes payload) {
  if (payload.size() < kArpLen) return Drop::kArpTruncated;
  const uint8_t* p = payload.data();
  uint16_t htype = LoadBe16(p);
  uint16_t ptype = LoadBe16(p + 2);
  if (htype != 1 || ptype != kEtherTypeIpv4 || p[4] != 6 || p[5] != 4) return Drop::kArpUnsupported;
  ArpPacket a;
  a.op = LoadBe16(p + 6);
  if (a.op != kArpOpRequest && a.op != kArpOpReply) return Drop::kArpUnsupported;
  std::memcpy(a.sha.b.data(), p + 8, 6);
  a.spa = Ipv4Addr{LoadBe32(p + 14)};
  std::memcpy(a.tha.b.data(), p + 18, 6);
  a.tpa = Ipv4Addr{LoadBe32(p + 24)};
  return a;
}

void WriteArp(uint8_t* out, const ArpPacket& a) {
  StoreBe16(out, 1);
  StoreBe16(out + 2, kEtherTypeIpv4);
  out[4] = 6;
  out[5] = 4;
  StoreBe16(out + 6, a.op);
  std::memcpy(out + 8, a.sha.b.data(), 6);
  StoreBe32(out + 14, a.spa.v);
  std::memcpy(out + 18, a.tha.b.data(), 6);
  StoreBe32(out + 24, a.tpa.v);
}

}  // namespace synack
