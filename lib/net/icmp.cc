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

Parsed<IcmpError> ParseIcmpError(const IcmpMessage& message) {
  // The 8-byte header: type, code, checksum, unused(2), next-hop MTU(2); then the quoted datagram.
  const ConstBytes quoted = message.data;
  if (quoted.size() < 20 + 8) return Drop::kIcmpBadError;
  const uint8_t* q = quoted.data();
  const size_t ihl = size_t{q[0] & 0x0fu} * 4;
  if ((q[0] >> 4) != 4 || ihl < 20 || quoted.size() < ihl + 8) return Drop::kIcmpBadError;
  IcmpError e;
  e.code = message.code;
  e.next_hop_mtu = message.seq;  // bytes 6-7 of the header (where echo messages keep their sequence)
  e.protocol = q[9];
  e.src = Ipv4Addr{LoadBe32(q + 12)};
  e.dst = Ipv4Addr{LoadBe32(q + 16)};
  const uint8_t* t = q + ihl;
  e.src_port = LoadBe16(t);
  e.dst_port = LoadBe16(t + 2);
  e.seq = LoadBe32(t + 4);
  return e;
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
