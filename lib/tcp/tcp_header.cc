#include "lib/tcp/tcp_header.h"

#include <algorithm>

#include "lib/net/checksum.h"

namespace synack {
namespace {

inline constexpr size_t kChecksumOffset = 16;
inline constexpr uint8_t kMssLen = 4;
inline constexpr uint8_t kWindowScaleLen = 3;
inline constexpr uint8_t kSackPermittedLen = 2;
inline constexpr uint8_t kTimestampsLen = 10;
inline constexpr uint8_t kSackBlockLen = 8;
inline constexpr uint8_t kMaxSackBlocks = 4;

// Reads the options in `opts` (the bytes between the fixed header and the data offset) into `o`.
// Returns false when the list is malformed.
bool ParseOptions(ConstBytes opts, TcpOptions& o) {
  const uint8_t* p = opts.data();
  const size_t n = opts.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t kind = p[i];
    if (kind == tcp_option::kEol) break;
    if (kind == tcp_option::kNop) {
      ++i;
      continue;
    }
    if (i + 1 >= n) return false;  // no room for the length byte
    const uint8_t len = p[i + 1];
    if (len < 2 || len > n - i) return false;
    const uint8_t* v = p + i + 2;  // option value, len - 2 bytes
    switch (kind) {
      case tcp_option::kMss:
        if (len != kMssLen) return false;
        o.mss = LoadBe16(v);
        break;
      case tcp_option::kWindowScale:
        if (len != kWindowScaleLen) return false;
        o.window_scale = v[0];
        break;
      case tcp_option::kSackPermitted:
        if (len != kSackPermittedLen) return false;
        o.sack_permitted = true;
        break;
      case tcp_option::kTimestamps:
        if (len != kTimestampsLen) return false;
        o.timestamps = TcpTimestamps{LoadBe32(v), LoadBe32(v + 4)};
        break;
      case tcp_option::kSack: {
        const size_t blocks = (len - 2u) / kSackBlockLen;
        if ((len - 2u) % kSackBlockLen != 0 || blocks < 1 || blocks > kMaxSackBlocks) return false;
        o.sack_count = static_cast<uint8_t>(blocks);
        for (size_t b = 0; b < blocks; ++b) {
          o.sack[b] = SackBlock{SeqNum(LoadBe32(v + b * kSackBlockLen)), SeqNum(LoadBe32(v + b * kSackBlockLen + 4))};
        }
        break;
      }
      default:
        break;  // unknown kind with a sane length: skip it (RFC 9293 3.2, MUST-6)
    }
    i += len;
  }
  return true;
}

// Bytes taken by everything but the SACK blocks, in the layout WriteOptions uses.
uint16_t FixedOptionsLength(const TcpOptions& o) {
  uint16_t n = 0;
  if (o.mss) n += 4;
  if (o.timestamps) {
    n += 12;  // SACKOK,TS or NOP,NOP,TS
  } else if (o.sack_permitted) {
    n += 4;  // NOP,NOP,SACKOK
  }
  if (o.window_scale) n += 4;  // NOP,WS
  return n;
}

// How many of the SACK blocks in `o` fit after the fixed options (each list costs NOP,NOP,kind,len).
uint8_t SackBlocksThatFit(const TcpOptions& o) {
  const uint16_t fixed = FixedOptionsLength(o);
  const uint8_t wanted = std::min<uint8_t>(o.sack_count, kMaxSackBlocks);
  if (wanted == 0 || fixed + 4 + kSackBlockLen > kTcpMaxOptionsLen) return 0;
  const uint8_t room = static_cast<uint8_t>((kTcpMaxOptionsLen - fixed - 4) / kSackBlockLen);
  return std::min(wanted, room);
}

}  // namespace

Parsed<TcpPacket> ParseTcp(ConstBytes l4, Ipv4Addr src, Ipv4Addr dst, ChecksumState cksum) {
  // l4 is bounded by the IPv4 total length, so its size fits 16 bits.
  return ParseTcp(l4, static_cast<uint16_t>(std::min<size_t>(l4.size(), UINT16_MAX)), src, dst, cksum);
}

Parsed<TcpPacket> ParseTcp(ConstBytes l4, uint16_t l4_len, Ipv4Addr src, Ipv4Addr dst, ChecksumState cksum) {
  if (l4.size() > l4_len) l4 = l4.first(l4_len);
  if (l4.size() < kTcpMinHeaderLen) return Drop::kTcpTruncated;
  const uint8_t* p = l4.data();
  const uint16_t header_len = static_cast<uint16_t>((p[12] >> 4) * 4);
  if (header_len < kTcpMinHeaderLen) return Drop::kTcpBadDataOffset;
  if (header_len > l4.size()) return Drop::kTcpTruncated;
  switch (cksum) {
    case ChecksumState::kGood:
      break;
    case ChecksumState::kBad:
      return Drop::kTcpBadChecksum;
    case ChecksumState::kUnknown: {
      if (l4.size() < l4_len) return Drop::kTcpTruncated;  // cannot verify bytes we do not see
      uint32_t acc = TcpPseudoHeaderSum(src, dst, static_cast<uint16_t>(l4.size()));
      if (ChecksumFinish(ChecksumAdd(acc, l4)) != 0) return Drop::kTcpBadChecksum;
      break;
    }
  }
  TcpPacket t;
  if (!ParseOptions(l4.subspan(kTcpMinHeaderLen, header_len - kTcpMinHeaderLen), t.seg.options)) {
    return Drop::kTcpBadOption;
  }
  t.seg.src_port = LoadBe16(p);
  t.seg.dst_port = LoadBe16(p + 2);
  t.seg.seq = SeqNum(LoadBe32(p + 4));
  t.seg.ack = SeqNum(LoadBe32(p + 8));
  t.seg.flags = p[13];
  t.seg.window = LoadBe16(p + 14);
  t.seg.urgent = LoadBe16(p + 18);
  t.header_len = header_len;
  t.payload = l4.subspan(header_len);
  t.seg.payload_len = static_cast<uint32_t>(l4_len - header_len);
  return t;
}

uint16_t TcpOptionsLength(const TcpOptions& o) {
  const uint8_t sacks = SackBlocksThatFit(o);
  return static_cast<uint16_t>(FixedOptionsLength(o) + (sacks ? 4 + sacks * kSackBlockLen : 0));
}

uint16_t WriteTcpHeader(uint8_t* out, const TcpSegment& s) {
  const TcpOptions& o = s.options;
  const uint16_t header_len = static_cast<uint16_t>(kTcpMinHeaderLen + TcpOptionsLength(o));
  StoreBe16(out, s.src_port);
  StoreBe16(out + 2, s.dst_port);
  StoreBe32(out + 4, s.seq.raw());
  StoreBe32(out + 8, s.ack.raw());
  out[12] = static_cast<uint8_t>((header_len / 4) << 4);
  out[13] = s.flags;
  StoreBe16(out + 14, s.window);
  StoreBe16(out + kChecksumOffset, 0);
  StoreBe16(out + 18, s.urgent);

  uint8_t* p = out + kTcpMinHeaderLen;
  uint16_t tsval_offset = 0;
  if (o.mss) {
    *p++ = tcp_option::kMss;
    *p++ = kMssLen;
    StoreBe16(p, *o.mss);
    p += 2;
  }
  if (o.timestamps) {
    if (o.sack_permitted) {
      *p++ = tcp_option::kSackPermitted;
      *p++ = kSackPermittedLen;
    } else {
      *p++ = tcp_option::kNop;
      *p++ = tcp_option::kNop;
    }
    *p++ = tcp_option::kTimestamps;
    *p++ = kTimestampsLen;
    tsval_offset = static_cast<uint16_t>(p - out);
    StoreBe32(p, o.timestamps->tsval);
    StoreBe32(p + 4, o.timestamps->tsecr);
    p += 8;
  } else if (o.sack_permitted) {
    *p++ = tcp_option::kNop;
    *p++ = tcp_option::kNop;
    *p++ = tcp_option::kSackPermitted;
    *p++ = kSackPermittedLen;
  }
  if (o.window_scale) {
    *p++ = tcp_option::kNop;
    *p++ = tcp_option::kWindowScale;
    *p++ = kWindowScaleLen;
    *p++ = *o.window_scale;
  }
  if (const uint8_t sacks = SackBlocksThatFit(o); sacks > 0) {
    *p++ = tcp_option::kNop;
    *p++ = tcp_option::kNop;
    *p++ = tcp_option::kSack;
    *p++ = static_cast<uint8_t>(2 + sacks * kSackBlockLen);
    for (uint8_t b = 0; b < sacks; ++b) {
      StoreBe32(p, o.sack[b].left.raw());
      StoreBe32(p + 4, o.sack[b].right.raw());
      p += kSackBlockLen;
    }
  }
  return tsval_offset;
}

uint32_t TcpPseudoHeaderSum(Ipv4Addr src, Ipv4Addr dst, uint16_t tcp_len) {
  return (src.v >> 16) + (src.v & 0xffff) + (dst.v >> 16) + (dst.v & 0xffff) + kIpProtoTcp + tcp_len;
}

void FillTcpChecksum(uint8_t* tcp, uint16_t tcp_len, Ipv4Addr src, Ipv4Addr dst) {
  StoreBe16(tcp + kChecksumOffset, 0);
  uint32_t acc = ChecksumAdd(TcpPseudoHeaderSum(src, dst, tcp_len), ConstBytes(tcp, tcp_len));
  StoreBe16(tcp + kChecksumOffset, ChecksumFinish(acc));
}

void FillTcpPseudoChecksumForOffload(uint8_t* tcp, uint16_t tcp_len, Ipv4Addr src, Ipv4Addr dst) {
  uint32_t acc = TcpPseudoHeaderSum(src, dst, tcp_len);
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  StoreBe16(tcp + kChecksumOffset, static_cast<uint16_t>(acc));
}

}  // namespace synack
