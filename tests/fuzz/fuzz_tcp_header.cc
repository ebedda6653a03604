// libFuzzer target: TCP header and option parsing and writing (lib/tcp/tcp_header.h). No EAL needed.
//
// Input: byte 0 selects the mode, bytes 1..8 are the IPv4 source and destination for the pseudo-header,
// the rest is the TCP segment.
//   mode bit 0 clear -- parse: ParseTcp over the segment (an exact-size heap copy, so ASan sees any read
//     past it) with the checksum state chosen by mode bits 1-2 (unknown: verified in software; good; bad).
//     When it parses: the header length is 20..60 and a multiple of 4, the payload is the rest of the
//     input, the options fit in 40 bytes; then WriteTcpHeader + FillTcpChecksum of the parsed segment
//     followed by the payload must parse again (checksum verified) into the same segment, allowing for
//     what the writer normalises (below).
//   mode bit 0 set -- write: a TcpSegment built field by field from the bytes (sack_count up to 255,
//     any option values), written into a buffer of exactly 20 + TcpOptionsLength bytes (ASan catches
//     a write past it), parsed back and compared the same way.
//
// What the writer legitimately normalises, so the comparison allows for it:
//   - NOP/EOL padding, unknown options, trailing bytes after EOL and the reserved header bits are not
//     reproduced; options come out in Linux's order (TcpSegment has no field for any of these);
//   - an option that appeared more than once: the parser keeps the last one, the writer emits it once;
//   - SACK: only the first sack_count blocks are meaningful (a second SACK option with fewer blocks
//     leaves the first one's extra blocks behind in the array); at most 4 are written, and only as many
//     as fit in 40 bytes beside the other options in the writer's layout (TcpOptionsLength);
//   - the checksum and data offset are recomputed.
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "lib/base/bytes.h"
#include "lib/net/checksum.h"
#include "lib/tcp/tcp_header.h"
#include "tests/fuzz/fuzz_env.h"

namespace synack {
namespace {

// The option bytes WriteTcpHeader uses for everything but the SACK blocks (see TcpOptionsLength).
uint16_t FixedOptionBytes(const TcpOptions& o) {
  uint16_t n = 0;
  if (o.mss) n += 4;
  if (o.timestamps) {
    n += 12;
  } else if (o.sack_permitted) {
    n += 4;
  }
  if (o.window_scale) n += 4;
  return n;
}

// `s` as the writer will reproduce it.
TcpSegment Normalised(TcpSegment s) {
  TcpOptions& o = s.options;
  uint8_t blocks = std::min<uint8_t>(o.sack_count, 4);
  const uint16_t fixed = FixedOptionBytes(o);
  const uint8_t room = fixed + 12 <= kTcpMaxOptionsLen ? static_cast<uint8_t>((kTcpMaxOptionsLen - fixed - 4) / 8) : 0;
  blocks = std::min(blocks, room);
  o.sack_count = blocks;
  for (size_t i = blocks; i < o.sack.size(); ++i) o.sack[i] = SackBlock{};
  return s;
}

std::string Describe(const TcpSegment& s) {
  std::string out = ToString(s);
  absl::StrAppend(&out, " urg=", s.urgent, " sack_count=", s.options.sack_count);
  for (const SackBlock& b : s.options.sack) absl::StrAppend(&out, " [", b.left.raw(), ",", b.right.raw(), ")");
  return out;
}

// Writes `seg` and `payload`, checksums, parses back and compares with `want`.
void RoundTrip(const TcpSegment& seg, ConstBytes payload, Ipv4Addr src, Ipv4Addr dst) {
  const uint16_t opt_len = TcpOptionsLength(seg.options);
  FUZZ_CHECK(opt_len <= kTcpMaxOptionsLen && opt_len % 4 == 0, "options length ", opt_len);
  const size_t hl = kTcpMinHeaderLen + opt_len;
  const size_t total = hl + payload.size();
  if (total > 0xffff) return;  // cannot be one IPv4 datagram
  auto buf = std::make_unique<uint8_t[]>(total);
  const uint16_t tsval_at = WriteTcpHeader(buf.get(), seg);
  if (seg.options.timestamps) {
    FUZZ_CHECK(tsval_at >= kTcpMinHeaderLen + 2 && tsval_at + 8u <= hl &&
                   buf[tsval_at - 2] == tcp_option::kTimestamps &&
                   LoadBe32(buf.get() + tsval_at) == seg.options.timestamps->tsval &&
                   LoadBe32(buf.get() + tsval_at + 4) == seg.options.timestamps->tsecr,
               "TSval reported at ", tsval_at, " for ", Describe(seg));
  } else {
    FUZZ_CHECK(tsval_at == 0, "TSval reported at ", tsval_at, " without timestamps");
  }
  if (!payload.empty()) std::memcpy(buf.get() + hl, payload.data(), payload.size());
  FillTcpChecksum(buf.get(), static_cast<uint16_t>(total), src, dst);
  Parsed<TcpPacket> again = ParseTcp(ConstBytes(buf.get(), total), src, dst, ChecksumState::kUnknown);
  FUZZ_CHECK(again.ok(), "the writer's own segment does not parse: ", std::string(DropName(again.error())), " for ",
             Describe(seg));
  FUZZ_CHECK(again->header_len == hl, "header length ", again->header_len, " != ", hl);
  FUZZ_CHECK(again->payload.size() == payload.size(), "payload ", again->payload.size(), " != ", payload.size());
  TcpSegment want = Normalised(seg);
  want.payload_len = static_cast<uint32_t>(payload.size());
  const TcpSegment got = Normalised(again->seg);
  FUZZ_CHECK(got == want, "round trip changed the segment:\n  in:  ", Describe(want), "\n  out: ", Describe(got));
}

void ParseMode(uint8_t mode, Ipv4Addr src, Ipv4Addr dst, const uint8_t* data, size_t size) {
  if (size > 0xffff) return;
  const ChecksumState states[] = {ChecksumState::kUnknown, ChecksumState::kGood, ChecksumState::kBad,
                                  ChecksumState::kUnknown};
  const ChecksumState cksum = states[(mode >> 1) & 3];
  auto l4 = std::make_unique<uint8_t[]>(size);
  if (size > 0) std::memcpy(l4.get(), data, size);
  const ConstBytes in(l4.get(), size);
  Parsed<TcpPacket> p = ParseTcp(in, src, dst, cksum);
  if (!p.ok()) {
    const Drop d = p.error();
    FUZZ_CHECK(d == Drop::kTcpTruncated || d == Drop::kTcpBadDataOffset || d == Drop::kTcpBadChecksum ||
                   d == Drop::kTcpBadOption,
               "unexpected drop reason ", std::string(DropName(d)));
    return;
  }
  FUZZ_CHECK(cksum != ChecksumState::kBad, "a segment the device marked bad was accepted");
  const TcpPacket& t = *p;
  FUZZ_CHECK(t.header_len >= kTcpMinHeaderLen && t.header_len <= kTcpMaxHeaderLen && t.header_len % 4 == 0,
             "header length ", t.header_len);
  FUZZ_CHECK(t.header_len <= size, "header length ", t.header_len, " beyond ", size, " bytes");
  FUZZ_CHECK(t.payload.data() == in.data() + t.header_len && t.payload.size() == size - t.header_len,
             "payload is not the rest of the input");
  FUZZ_CHECK(t.seg.payload_len == t.payload.size(), "payload_len ", t.seg.payload_len);
  FUZZ_CHECK(t.seg.options.sack_count <= 4, "sack_count ", t.seg.options.sack_count);
  FUZZ_CHECK(TcpOptionsLength(t.seg.options) <= kTcpMaxOptionsLen, "options length");
  // The same bytes as a chained frame would present them: only a first part in the span (an exact-size
  // copy, so ASan sees any read past it), the length of the whole given apart. The verdict must not
  // change when the header is in the part; the payload is what the part holds beyond it.
  if (cksum != ChecksumState::kUnknown && size > 0) {
    const size_t part = data[size - 1] % (size + 1);
    auto head = std::make_unique<uint8_t[]>(part);
    if (part > 0) std::memcpy(head.get(), data, part);
    Parsed<TcpPacket> q = ParseTcp(ConstBytes(head.get(), part), static_cast<uint16_t>(size), src, dst, cksum);
    if (part < t.header_len) {
      FUZZ_CHECK(!q.ok() && q.error() == Drop::kTcpTruncated, "a header cut at ", part, " bytes was accepted");
    } else {
      FUZZ_CHECK(q.ok(), "a segment whose header is whole in the first part was refused");
      FUZZ_CHECK(q->seg.payload_len == t.seg.payload_len && q->payload.size() == part - t.header_len,
                 "split payload lengths");
    }
  }
  RoundTrip(t.seg, t.payload, src, dst);
}

// Reads fields from the input; zero past its end.
struct Fields {
  const uint8_t* p;
  size_t n;
  size_t i = 0;
  uint8_t U8() { return i < n ? p[i++] : 0; }
  uint16_t U16() {
    const uint8_t lo = U8();  // one statement each: the order of reads is fixed
    return static_cast<uint16_t>(lo | (U8() << 8));
  }
  uint32_t U32() {
    const uint16_t lo = U16();
    return lo | (uint32_t{U16()} << 16);
  }
};

void WriteMode(Ipv4Addr src, Ipv4Addr dst, const uint8_t* data, size_t size) {
  Fields f{data, size};
  TcpSegment s;
  s.src_port = f.U16();
  s.dst_port = f.U16();
  s.seq = SeqNum(f.U32());
  s.ack = SeqNum(f.U32());
  s.flags = f.U8();
  s.window = f.U16();
  s.urgent = f.U16();
  const uint8_t present = f.U8();
  if (present & 1) s.options.mss = f.U16();
  if (present & 2) s.options.window_scale = f.U8();
  s.options.sack_permitted = (present & 4) != 0;
  if (present & 8) s.options.timestamps = TcpTimestamps{f.U32(), f.U32()};
  s.options.sack_count = (present & 16) ? f.U8() : 0;  // any value: the writer must cap it
  for (SackBlock& b : s.options.sack) b = SackBlock{SeqNum(f.U32()), SeqNum(f.U32())};
  const size_t wanted = f.U16() % 1500;  // read before the rest is measured
  const size_t payload_len = std::min<size_t>(wanted, f.n - std::min(f.i, f.n));
  auto payload = std::make_unique<uint8_t[]>(payload_len + 1);
  if (payload_len > 0) std::memcpy(payload.get(), f.p + f.i, payload_len);
  s.payload_len = static_cast<uint32_t>(payload_len);
  RoundTrip(s, ConstBytes(payload.get(), payload_len), src, dst);
}

}  // namespace
}  // namespace synack

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace synack;
  if (size < 9) return 0;
  const uint8_t mode = data[0];
  const Ipv4Addr src{LoadBe32(data + 1)};
  const Ipv4Addr dst{LoadBe32(data + 5)};
  if (mode & 1) {
    WriteMode(src, dst, data + 9, size - 9);
  } else {
    ParseMode(mode, src, dst, data + 9, size - 9);
  }
  return 0;
}
