// TCP header (RFC 9293 3.1) and options (MSS, window scale RFC 7323, SACK RFC 2018, timestamps RFC 7323):
// parse and validate a received segment into a TcpSegment, write a header for sending, and the IPv4
// pseudo-header checksum in software or prepared for TX offload. The parsed payload borrows the caller's
// bytes (the mbuf); nothing here allocates. Pure functions, any core.
#pragma once

#include <cstdint>

#include "lib/base/bytes.h"
#include "lib/net/addr.h"
#include "lib/net/ipv4.h"
#include "lib/net/parsed.h"
#include "lib/tcp/segment.h"

namespace synack {

inline constexpr uint16_t kTcpMaxOptionsLen = kTcpMaxHeaderLen - kTcpMinHeaderLen;  // 40

namespace tcp_option {
inline constexpr uint8_t kEol = 0;
inline constexpr uint8_t kNop = 1;
inline constexpr uint8_t kMss = 2;
inline constexpr uint8_t kWindowScale = 3;
inline constexpr uint8_t kSackPermitted = 4;
inline constexpr uint8_t kSack = 5;
inline constexpr uint8_t kTimestamps = 8;
}  // namespace tcp_option

struct TcpPacket {
  TcpSegment seg;  // seg.payload_len: all payload bytes (== payload.size() for a contiguous segment)
  // The payload bytes in the span given to ParseTcp (borrowed): all of them for a contiguous segment,
  // the first segment's part for one whose payload continues in later mbuf segments.
  ConstBytes payload;
  uint16_t header_len = 0;  // bytes, including options
};

// Validates one TCP segment: `l4` is the IPv4 payload, already trimmed to the IP total length.
// Checks the length against 20 bytes and the data offset, the checksum (in software over the IPv4
// pseudo-header of `src`/`dst` when `cksum` is kUnknown; kGood/kBad are the device's verdict) and every
// option's length. Known options with the wrong length, lengths of 0 or 1, and options running past the
// header are refused (kTcpBadOption); unknown kinds are skipped; EOL ends the list. Options are reported
// whatever the flags (e.g. MSS on a non-SYN); whether to honour them is the connection's decision.
// Never reads outside `l4`.
Parsed<TcpPacket> ParseTcp(ConstBytes l4, Ipv4Addr src, Ipv4Addr dst, ChecksumState cksum);
// The same for a segment split over mbuf segments: `l4` holds its first bytes (at least the whole
// header with options, else kTcpTruncated) and `l4_len` (>= l4.size()) counts all of them. A software
// checksum needs every byte, so with l4.size() < l4_len `cksum` must be the verdict of the caller
// (which can walk the segments) or the device: kUnknown is refused (kTcpTruncated).
Parsed<TcpPacket> ParseTcp(ConstBytes l4, uint16_t l4_len, Ipv4Addr src, Ipv4Addr dst, ChecksumState cksum);

// Number of option bytes WriteTcpHeader emits for `o`: a multiple of 4, at most 40. The layout follows
// Linux: MSS; SACK-permitted and timestamps packed together (SACKOK,TS or NOP,NOP,TS or NOP,NOP,SACKOK);
// NOP,window scale; NOP,NOP,SACK blocks. SACK blocks that do not fit in 40 bytes are left out (the first
// blocks, the most recent by RFC 2018 convention, are kept).
uint16_t TcpOptionsLength(const TcpOptions& o);

// Writes the header and options of `s` at `out` (kTcpMinHeaderLen + TcpOptionsLength(s.options) bytes,
// data offset set to match). The checksum field is left zero: follow with FillTcpChecksum or
// FillTcpPseudoChecksumForOffload once the payload is in place. Returns where it put TSval: the offset
// from `out` of the timestamps option's value (TSval, then TSecr), or 0 when `s` has no timestamps (for a
// header written once and patched per segment).
uint16_t WriteTcpHeader(uint8_t* out, const TcpSegment& s);

// The IPv4 pseudo-header (src, dst, zero, protocol 6, `tcp_len`) as an unfolded partial sum, to seed
// ChecksumAdd.
uint32_t TcpPseudoHeaderSum(Ipv4Addr src, Ipv4Addr dst, uint16_t tcp_len);

// Computes the full checksum in software over the pseudo-header and the `tcp_len` bytes (header plus
// payload) contiguous at `tcp`, and stores it. The checksum field's previous value is ignored.
void FillTcpChecksum(uint8_t* tcp, uint16_t tcp_len, Ipv4Addr src, Ipv4Addr dst);

// For TX checksum offload (RTE_MBUF_F_TX_TCP_CKSUM): stores the folded, non-complemented pseudo-header sum
// in the checksum field, as rte_ipv4_phdr_cksum() computes it; the device adds the header and payload.
// With TSO (RTE_MBUF_F_TX_TCP_SEG) DPDK wants the length left out of the sum: pass `tcp_len` 0.
void FillTcpPseudoChecksumForOffload(uint8_t* tcp, uint16_t tcp_len, Ipv4Addr src, Ipv4Addr dst);

}  // namespace synack
