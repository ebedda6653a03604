#include "lib/net/ethernet.h"

#include <cstring>

namespace synack {

Parsed<EthernetFrame> ParseEthernet(ConstBytes frame) {
  if (frame.size() < kEthHeaderLen) return Drop::kEthTruncated;
  EthernetFrame f;
  std::memcpy(f.dst.b.data(), frame.data(), 6);
  std::memcpy(f.src.b.data(), frame.data() + 6, 6);
  f.ethertype = LoadBe16(frame.data() + 12);
  f.payload = frame.subspan(kEthHeaderLen);
  return f;
}

void WriteEthernetHeader(uint8_t* out, const MacAddr& dst, const MacAddr& src, uint16_t ethertype) {
  std::memcpy(out, dst.b.data(), 6);
  std::memcpy(out + 6, src.b.data(), 6);
  StoreBe16(out + 12, ethertype);
}

}  // namespace synack
