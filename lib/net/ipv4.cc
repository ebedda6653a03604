#include "lib/net/ipv4.h"

#include <algorithm>

#include "lib/net/checksum.h"
#include "lib/net/ethernet.h"

namespace synack {

Parsed<Ipv4Packet> ParseIpv4(ConstBytes data, ChecksumState cksum) { return ParseIpv4(data, data.size(), cksum); }

Parsed<Ipv4Packet> ParseIpv4(ConstBytes data, size_t available, ChecksumState cksum) {
  if (available < data.size()) available = data.size();
  if (data.size() < kIpv4MinHeaderLen) return Drop::kIpTruncated;
  const uint8_t* p = data.data();
  if ((p[0] >> 4) != 4) return Drop::kIpBadVersion;
  uint16_t header_len = static_cast<uint16_t>((p[0] & 0x0f) * 4);
  if (header_len < kIpv4MinHeaderLen) return Drop::kIpBadHeaderLength;
  if (header_len > data.size()) return Drop::kIpTruncated;
  uint16_t total_len = LoadBe16(p + 2);
  if (total_len < header_len) return Drop::kIpBadTotalLength;
  if (total_len > available) return Drop::kIpTruncated;
  switch (cksum) {
    case ChecksumState::kGood:
      break;
    case ChecksumState::kBad:
      return Drop::kIpBadChecksum;
    case ChecksumState::kUnknown:
      if (InternetChecksum(data.first(header_len)) != 0) return Drop::kIpBadChecksum;
      break;
  }
  // RFC 1122 3.2.1.7: a host never sends TTL 0, so such a datagram is malformed.
  if (p[8] == 0) return Drop::kIpTtlZero;
  Ipv4Packet ip;
  ip.tos = p[1];
  ip.header_len = header_len;
  ip.total_len = total_len;
  ip.id = LoadBe16(p + 4);
  uint16_t frag = LoadBe16(p + 6);
  ip.more_fragments = (frag & 0x2000) != 0;
  ip.fragment_offset = frag & 0x1fff;
  ip.ttl = p[8];
  ip.protocol = p[9];
  ip.src = Ipv4Addr{LoadBe32(p + 12)};
  ip.dst = Ipv4Addr{LoadBe32(p + 16)};
  ip.payload = data.subspan(header_len, std::min<size_t>(total_len, data.size()) - header_len);
  return ip;
}

void WriteIpv4Header(uint8_t* out, const Ipv4HeaderFields& f, bool fill_checksum) {
  out[0] = 0x45;
  out[1] = 0;
  StoreBe16(out + 2, static_cast<uint16_t>(kIpv4MinHeaderLen + f.payload_len));
  StoreBe16(out + 4, f.id);
  StoreBe16(out + 6, f.dont_fragment ? 0x4000 : 0);
  out[8] = f.ttl;
  out[9] = f.protocol;
  StoreBe16(out + 10, 0);
  StoreBe32(out + 12, f.src.v);
  StoreBe32(out + 16, f.dst.v);
  if (fill_checksum) StoreBe16(out + 10, InternetChecksum(ConstBytes(out, kIpv4MinHeaderLen)));
}

std::optional<size_t> PeekTcpOffset(ConstBytes frame) {
  if (frame.size() < kEthHeaderLen + kIpv4MinHeaderLen || LoadBe16(frame.data() + 12) != kEtherTypeIpv4) {
    return std::nullopt;
  }
  const uint8_t* ip = frame.data() + kEthHeaderLen;
  const size_t ihl = static_cast<size_t>(ip[0] & 0x0f) * 4;
  if ((ip[0] >> 4) != 4 || ihl < kIpv4MinHeaderLen || ip[9] != kIpProtoTcp) return std::nullopt;
  if ((LoadBe16(ip + 6) & 0x3fff) != 0) return std::nullopt;  // MF or an offset: a fragment
  if (frame.size() < kEthHeaderLen + ihl) return std::nullopt;
  return kEthHeaderLen + ihl;
}

}  // namespace synack
