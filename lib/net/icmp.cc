#include "lib/net/icmp.h"

#include "lib/net/checksum.h"

namespace synack {

Parsed<IcmpMessage> ParseIcmp(ConstBytes message) {
  if (message.size() < kIcmpHeaderLen) return Drop::kIcmpTruncated;
  if (InternetChecksum(message) != 0) return Drop::kIcmpBadChecksum;
  const uint8_t* p = message.data();
  IcmpMessage m;
  m.type = p[0];
  m.code = p[1];
  m.id = LoadBe16(p + 4);
  m.seq = LoadBe16(p + 6);
  m.data = message.subspan(kIcmpHeaderLen);
  return m;
}

void WriteIcmpEcho(uint8_t* out, uint8_t type, uint16_t id, uint16_t seq, size_t data_len) {
  out[0] = type;
  out[1] = 0;
  StoreBe16(out + 2, 0);
  StoreBe16(out + 4, id);
  StoreBe16(out + 6, seq);
  StoreBe16(out + 2, InternetChecksum(ConstBytes(out, kIcmpHeaderLen + data_len)));
}

}  // namespace synack
