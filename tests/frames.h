// Test support: builds Ethernet/ARP/IPv4/ICMP frames as byte vectors (independently of the code under
// test where it matters: checksums use a naive reference) and copies them into real mbufs.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include <rte_mbuf.h>

#include "lib/base/mbuf.h"
#include "lib/net/addr.h"

namespace synack::testing {

using Bytes = std::vector<uint8_t>;

inline uint16_t RefChecksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
  if (n % 2) sum += uint32_t{p[n - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

inline void Put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
inline void Put32(Bytes& b, uint32_t v) {
  Put16(b, static_cast<uint16_t>(v >> 16));
  Put16(b, static_cast<uint16_t>(v));
}
inline void PutMac(Bytes& b, const MacAddr& m) { b.insert(b.end(), m.b.begin(), m.b.end()); }

inline Bytes EthHeader(const MacAddr& dst, const MacAddr& src, uint16_t type) {
  Bytes b;
  PutMac(b, dst);
  PutMac(b, src);
  Put16(b, type);
  return b;
}

inline Bytes ArpFrame(uint16_t op, const MacAddr& eth_dst, const MacAddr& sha, Ipv4Addr spa, const MacAddr& tha,
                      Ipv4Addr tpa) {
  Bytes b = EthHeader(eth_dst, sha, 0x0806);
  Put16(b, 1);
  Put16(b, 0x0800);
  b.push_back(6);
  b.push_back(4);
  Put16(b, op);
  PutMac(b, sha);
  Put32(b, spa.v);
  PutMac(b, tha);
  Put32(b, tpa.v);
  return b;
}

struct IpOpts {
  uint8_t ttl = 64;
  uint8_t protocol = 1;
  uint16_t frag = 0x4000;  // DF
  int options_words = 0;   // extra 32-bit option words (NOPs)
};

// IPv4 header (with correct checksum) followed by `payload`.
inline Bytes Ipv4(Ipv4Addr src, Ipv4Addr dst, const Bytes& payload, const IpOpts& o = {}) {
  Bytes b;
  const uint16_t hl = static_cast<uint16_t>(20 + 4 * o.options_words);
  b.push_back(static_cast<uint8_t>(0x40 | (hl / 4)));
  b.push_back(0);
  Put16(b, static_cast<uint16_t>(hl + payload.size()));
  Put16(b, 0x1234);
  Put16(b, o.frag);
  b.push_back(o.ttl);
  b.push_back(o.protocol);
  Put16(b, 0);
  Put32(b, src.v);
  Put32(b, dst.v);
  for (int i = 0; i < o.options_words * 4; ++i) b.push_back(1);  // NOP
  uint16_t c = RefChecksum(b.data(), b.size());
  b[10] = static_cast<uint8_t>(c >> 8);
  b[11] = static_cast<uint8_t>(c);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

inline Bytes IcmpEcho(uint8_t type, uint16_t id, uint16_t seq, size_t data_len) {
  Bytes b = {type, 0, 0, 0};
  Put16(b, id);
  Put16(b, seq);
  for (size_t i = 0; i < data_len; ++i) b.push_back(static_cast<uint8_t>(0xa0 + i));
  uint16_t c = RefChecksum(b.data(), b.size());
  b[2] = static_cast<uint8_t>(c >> 8);
  b[3] = static_cast<uint8_t>(c);
  return b;
}

// An ICMP Destination Unreachable (type 3) with `code`, next-hop MTU `mtu`, quoting `quoted` (an IPv4
// header and the start of its payload).
inline Bytes IcmpUnreachable(uint8_t code, uint16_t mtu, const Bytes& quoted) {
  Bytes b = {3, code, 0, 0, 0, 0};
  Put16(b, mtu);
  b.insert(b.end(), quoted.begin(), quoted.end());
  uint16_t c = RefChecksum(b.data(), b.size());
  b[2] = static_cast<uint8_t>(c >> 8);
  b[3] = static_cast<uint8_t>(c);
  return b;
}

inline Bytes Concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Copies `bytes` into a fresh mbuf from `pool`.
inline Mbuf ToMbuf(rte_mempool* pool, const Bytes& bytes) {
  Mbuf m = Mbuf::Alloc(pool);
  if (!m) return m;
  uint8_t* p = m.Append(static_cast<uint16_t>(bytes.size()));
  if (p == nullptr) return Mbuf();
  if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
  return m;
}

inline Bytes FromMbuf(const Mbuf& m) { return Bytes(m.data(), m.data() + m.data_len()); }

// The TCP checksum of `tcp` (header with a zero checksum field, plus payload) over a hand-built IPv4
// pseudo-header, with the naive reference sum.
inline uint16_t RefTcpChecksum(Ipv4Addr src, Ipv4Addr dst, const Bytes& tcp) {
  Bytes b;
  Put32(b, src.v);
  Put32(b, dst.v);
  b.push_back(0);
  b.push_back(6);
  Put16(b, static_cast<uint16_t>(tcp.size()));
  b.insert(b.end(), tcp.begin(), tcp.end());
  return RefChecksum(b.data(), b.size());
}

struct TcpFields {
  uint16_t src_port = 40000;
  uint16_t dst_port = 80;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0x02;  // SYN
  uint16_t window = 65535;
  uint16_t urgent = 0;
  Bytes options;         // raw option bytes, zero-padded (EOL) to a multiple of 4
  int data_offset = -1;  // 32-bit words; -1 computes it from the options
};

// A TCP segment (header, options, `payload`) with a correct checksum for `src` -> `dst`.
inline Bytes Tcp(Ipv4Addr src, Ipv4Addr dst, const TcpFields& f, const Bytes& payload = {}) {
  Bytes opts = f.options;
  while (opts.size() % 4 != 0) opts.push_back(0);
  const int words = f.data_offset >= 0 ? f.data_offset : static_cast<int>(5 + opts.size() / 4);
  Bytes b;
  Put16(b, f.src_port);
  Put16(b, f.dst_port);
  Put32(b, f.seq);
  Put32(b, f.ack);
  b.push_back(static_cast<uint8_t>(words << 4));
  b.push_back(f.flags);
  Put16(b, f.window);
  Put16(b, 0);
  Put16(b, f.urgent);
  b.insert(b.end(), opts.begin(), opts.end());
  b.insert(b.end(), payload.begin(), payload.end());
  uint16_t c = RefTcpChecksum(src, dst, b);
  b[16] = static_cast<uint8_t>(c >> 8);
  b[17] = static_cast<uint8_t>(c);
  return b;
}

}  // namespace synack::testing
