// Writes the seed corpus of the fuzz targets: tests/fuzz/corpus/<target>/<name>, from frames built like the
// unit tests build them (tests/frames.h: independent, naive checksums) and engine programs encoded with the
// same field tables the target decodes (tests/fuzz/engine_program.h). Deterministic; rerun after changing
// an input format and commit the result.
// Usage: fuzz_make_corpus OUT-DIR   (e.g. build/fuzz/fuzz_make_corpus tests/fuzz/corpus)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/frames.h"
#include "tests/fuzz/engine_program.h"

namespace synack::fuzz {
namespace {

using testing::Bytes;
using testing::Concat;
using testing::Put16;
using testing::Put32;
namespace fs = std::filesystem;

const Ipv4Addr kPeer = kPeerIps[0];
const MacAddr kPeerMac = PeerMac(0);

fs::path g_out;
int g_files = 0;

void Write(const std::string& target, const std::string& name, const Bytes& b) {
  const fs::path dir = g_out / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  ++g_files;
}

// --- Frames ---------------------------------------------------------------------------------------------

Bytes Mss(uint16_t v) { return {2, 4, static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)}; }
Bytes Ws(uint8_t s) { return {1, 3, 3, s}; }
Bytes SackOk() { return {1, 1, 4, 2}; }
Bytes Ts(uint32_t val, uint32_t ecr) {
  Bytes b = {1, 1, 8, 10};
  Put32(b, val);
  Put32(b, ecr);
  return b;
}
Bytes Sack(int blocks, uint32_t base) {
  Bytes b = {1, 1, 5, static_cast<uint8_t>(2 + 8 * blocks)};
  for (int i = 0; i < blocks; ++i) {
    Put32(b, base + 1000u * i);
    Put32(b, base + 1000u * i + 500u);
  }
  return b;
}

Bytes Eth(uint16_t type, const MacAddr& dst = kOurMac) { return testing::EthHeader(dst, kPeerMac, type); }

Bytes IpFrame(const Bytes& l4, uint8_t protocol, Ipv4Addr src = kPeer, Ipv4Addr dst = kOurIp, testing::IpOpts o = {}) {
  o.protocol = protocol;
  return Concat(Eth(0x0800), testing::Ipv4(src, dst, l4, o));
}

Bytes Ping(size_t len, Ipv4Addr dst = kOurIp) { return IpFrame(testing::IcmpEcho(8, 0x1234, 1, len), 1, kPeer, dst); }

testing::TcpFields TcpF(uint8_t flags, uint32_t seq, uint32_t ack, Bytes opts = {}) {
  testing::TcpFields f;
  f.src_port = 40000;
  f.dst_port = 80;
  f.seq = seq;
  f.ack = ack;
  f.flags = flags;
  f.options = std::move(opts);
  return f;
}

// net_parsers: control byte, then each frame as a 2-byte big-endian length and its bytes.
void Net(const std::string& name, uint8_t control, const std::vector<Bytes>& frames) {
  Bytes b = {control};
  for (const Bytes& f : frames) {
    Put16(b, static_cast<uint16_t>(f.size()));
    b.insert(b.end(), f.begin(), f.end());
  }
  Write("fuzz_net_parsers", name, b);
}

void NetCorpus() {
  const MacAddr bcast = MacAddr::Broadcast();
  const Bytes arp_req = testing::ArpFrame(1, bcast, kPeerMac, kPeer, MacAddr{}, kOurIp);
  const Bytes arp_reply = testing::ArpFrame(2, kOurMac, kPeerMac, kPeer, kOurMac, kOurIp);
  Net("arp_request", 0, {arp_req});
  Net("arp_reply", 0, {arp_reply});
  Net("arp_conflict", 0, {testing::ArpFrame(1, bcast, kPeerMac, kOurIp, MacAddr{}, kPeer)});
  Net("arp_not_for_us", 0, {testing::ArpFrame(1, bcast, kPeerMac, kPeer, MacAddr{}, Ipv4Addr::Of(198, 18, 0, 9))});
  Bytes bad_htype = arp_req;
  bad_htype[15] = 6;  // hardware type 6
  Net("arp_bad_htype", 0, {bad_htype});
  Net("arp_truncated", 0, {Bytes(arp_req.begin(), arp_req.end() - 3)});
  Net("arp_reply_releases_echo", 0x04, {arp_reply});
  Net("arp_shared_learn", 0x44, {arp_req});
  Net("arp_never_answered", 0x24, {});
  Net("ping", 0, {Ping(32)});
  Net("ping_chained", 0x08, {Ping(1000)});
  Net("ping_ip_cksum_good", 0x01, {Ping(8)});
  Net("ping_ip_cksum_bad", 0x02, {Ping(8)});
  Net("ping_offload", 0x13, {Ping(56)});
  Net("ping_broadcast", 0, {Ping(8, Ipv4Addr::Of(198, 18, 0, 255))});
  Net("ping_other_host", 0, {Ping(8, Ipv4Addr::Of(198, 18, 0, 7))});
  Net("echo_reply", 0, {IpFrame(testing::IcmpEcho(0, 7, 1, 16), 1)});
  Bytes bad_icmp = Ping(8);
  bad_icmp.back() ^= 0xff;
  Net("icmp_bad_checksum", 0, {bad_icmp});
  Bytes unreachable = {3, 3, 0, 0, 0, 0, 0, 0};
  const uint16_t c = testing::RefChecksum(unreachable.data(), unreachable.size());
  unreachable[2] = static_cast<uint8_t>(c >> 8);
  unreachable[3] = static_cast<uint8_t>(c);
  Net("icmp_unreachable", 0, {IpFrame(unreachable, 1)});
  testing::IpOpts with_options;
  with_options.options_words = 2;
  Net("ipv4_options", 0, {IpFrame(testing::IcmpEcho(8, 1, 1, 8), 1, kPeer, kOurIp, with_options)});
  testing::IpOpts frag;
  frag.frag = 0x2000;  // more fragments
  Net("ipv4_fragment", 0, {IpFrame(testing::IcmpEcho(8, 1, 1, 8), 1, kPeer, kOurIp, frag)});
  frag.frag = 0x0010;
  Net("ipv4_fragment_offset", 0, {IpFrame(testing::IcmpEcho(8, 1, 1, 8), 1, kPeer, kOurIp, frag)});
  testing::IpOpts ttl0;
  ttl0.ttl = 0;
  Net("ipv4_ttl0", 0, {IpFrame(testing::IcmpEcho(8, 1, 1, 8), 1, kPeer, kOurIp, ttl0)});
  Bytes p = Ping(8);
  p[14 + 10] ^= 1;
  Net("ipv4_bad_checksum", 0, {p});
  p = Ping(8);
  p[14] = 0x65;
  Net("ipv4_bad_version", 0, {p});
  p = Ping(8);
  p[14] = 0x44;
  Net("ipv4_bad_ihl", 0, {p});
  p = Ping(8);
  p[14 + 3] += 40;  // total length past the frame
  Net("ipv4_total_too_long", 0, {p});
  p = Ping(8);
  p[14 + 2] = 0;
  p[14 + 3] = 12;  // total length below the header
  Net("ipv4_total_too_short", 0, {p});
  Net("ipv4_padding", 0, {Concat(Ping(2), Bytes(20, 0))});
  Net("ipv4_from_us", 0, {IpFrame(testing::IcmpEcho(8, 1, 1, 8), 1, kOurIp)});
  Net("ipv4_from_broadcast", 0, {IpFrame(testing::IcmpEcho(8, 1, 1, 8), 1, Ipv4Addr::Of(255, 255, 255, 255))});
  Net("tcp_without_handler", 0, {IpFrame(testing::Tcp(kPeer, kOurIp, TcpF(0x02, 1, 0, Mss(1460))), 6)});
  Net("udp", 0, {IpFrame(Bytes(16, 0x11), 17)});
  Net("eth_truncated", 0, {Bytes(10, 0xff)});
  Net("eth_ipv6", 0, {Concat(Eth(0x86dd), Bytes(40, 0))});
  const Bytes ping8 = Ping(8);
  Net("eth_not_for_us", 0,
      {Concat(testing::EthHeader(MacAddr{{2, 0, 0, 0, 0, 9}}, kPeerMac, 0x0800),
              Bytes(ping8.begin() + 14, ping8.end()))});
  Net("several", 0x20, {arp_req, Ping(16), arp_reply, Ping(64)});
}

// tcp_header: mode byte, source and destination addresses, then the segment.
void TcpSeed(const std::string& name, uint8_t mode, const Bytes& segment) {
  Bytes b = {mode};
  Put32(b, kPeer.v);
  Put32(b, kOurIp.v);
  b.insert(b.end(), segment.begin(), segment.end());
  Write("fuzz_tcp_header", name, b);
}

Bytes Seg(uint8_t flags, Bytes opts, Bytes payload = {}, int doff = -1) {
  testing::TcpFields f = TcpF(flags, 0x01020304, 0x0a0b0c0d, std::move(opts));
  f.data_offset = doff;
  return testing::Tcp(kPeer, kOurIp, f, payload);
}

void TcpCorpus() {
  const Bytes all = Concat(Concat(Concat(Mss(1460), SackOk()), Ts(100, 0)), Ws(7));
  TcpSeed("syn_all_options", 0, Seg(0x02, all));
  TcpSeed("syn_linux", 0,
          Seg(0x02, Concat(Concat({2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0}, {1}), {3, 3, 7})));
  TcpSeed("synack", 0, Seg(0x12, Concat(Concat(Mss(536), Ts(5, 100)), Ws(0))));
  TcpSeed("ack_data", 0, Seg(0x10, Ts(6, 101), Bytes(100, 0x61)));
  TcpSeed("fin_ack", 0, Seg(0x11, {}));
  TcpSeed("rst", 0, Seg(0x04, {}));
  TcpSeed("sack_4_blocks", 0, Seg(0x10, Concat({1, 1}, Sack(4, 5000))));
  TcpSeed("sack_3_blocks_ts", 0, Seg(0x10, Concat(Ts(7, 8), Sack(3, 9000))));
  TcpSeed("sack_twice", 0, Seg(0x10, Concat(Sack(3, 100), Sack(1, 7))));
  TcpSeed("mss_twice", 0, Seg(0x02, Concat(Mss(1460), Mss(0))));
  TcpSeed("ts_ws_sack", 0, Seg(0x10, Concat(Concat(Ts(1, 2), Ws(14)), Sack(3, 1))));
  TcpSeed("eol_early", 0, Seg(0x02, Concat({0, 0, 0, 0}, Mss(1460))));
  TcpSeed("unknown_option", 0, Seg(0x02, Concat({30, 6, 1, 2, 3, 4}, Mss(1400))));
  TcpSeed("option_len_1", 0, Seg(0x02, {8, 1, 0, 0}));
  TcpSeed("option_len_0", 0, Seg(0x02, {2, 0, 0, 0}));
  TcpSeed("option_past_header", 0, Seg(0x02, {1, 1, 8, 10}));
  TcpSeed("mss_bad_length", 0, Seg(0x02, {2, 3, 5, 0}));
  TcpSeed("wscale_bad_length", 0, Seg(0x02, {3, 4, 7, 0}));
  TcpSeed("sack_bad_length", 0, Seg(0x10, {5, 7, 0, 0, 0, 0, 0, 0}));
  TcpSeed("doff_4", 0, Seg(0x10, {}, {}, 4));
  TcpSeed("doff_15_truncated", 0, Seg(0x10, Mss(1460), {}, 15));
  TcpSeed("doff_15_full", 0, Seg(0x10, Concat(Concat(Concat(all, all), Mss(1)), {1, 1, 1, 1}), Bytes(3, 0)));
  Bytes bad = Seg(0x10, {}, Bytes(10, 1));
  bad[17] ^= 1;
  TcpSeed("bad_checksum", 0, bad);
  TcpSeed("bad_checksum_device_good", 2, bad);
  TcpSeed("device_bad", 4, Seg(0x10, {}));
  const Bytes syn = Seg(0x02, all);
  TcpSeed("truncated", 0, Bytes(syn.begin(), syn.begin() + 19));
  TcpSeed("odd_payload", 0, Seg(0x18, Ts(1, 1), Bytes(1459, 0x42)));
  // Write mode: a TcpSegment field by field (see fuzz_tcp_header.cc).
  Bytes w;
  Put16(w, 0x3412);  // ports, little-endian fields
  Put16(w, 0x5000);
  Put32(w, 0x78563412);
  Put32(w, 0x01000000);
  w.push_back(0x12);  // flags
  Put16(w, 0xffff);
  Put16(w, 0);
  w.push_back(0x1f);  // every option present
  Put16(w, 0xb405);   // mss
  w.push_back(7);     // wscale
  Put32(w, 1);
  Put32(w, 2);       // timestamps
  w.push_back(200);  // sack_count: the writer must cap it
  for (int i = 0; i < 8; ++i) Put32(w, 0x11111111u * i);
  Put16(w, 5);
  w.insert(w.end(), {'h', 'e', 'l', 'l', 'o'});
  TcpSeed("write_everything", 1, w);
  TcpSeed("write_bare", 1, Bytes(20, 0));
}

// --- Engine programs ---------------------------------------------------------------------------------

constexpr uint8_t kCookiesOff = 0, kCookiesWhenFull = 1, kCookiesAlways = 2;
constexpr uint8_t kTs = 0x04, kWs = 0x08, kSack = 0x10, kKeepalive = 0x20, kOffload = 0x40, kTinyPools = 0x80;
constexpr uint8_t kAllOpts = kTs | kWs | kSack;

Config Cfg(uint8_t flags, uint8_t sizes = 0, uint8_t limits = 0, uint8_t more = 0) {
  return Config{flags, sizes, limits, more};
}

TcpOpts PeerOpts(bool ts = true) {
  TcpOpts o;
  o.mask = static_cast<uint8_t>(0x01 | 0x02 | 0x04 | (ts ? 0x08 : 0));
  o.mss = 1460;
  o.wscale = 7;
  return o;
}

SynOp Syn(uint8_t peer_port = 0, uint32_t seq = 1000, TcpOpts o = PeerOpts(), uint8_t peer = 0) {
  SynOp s;
  s.peer = peer;
  s.peer_port = peer_port;
  s.local_port = 0;  // port 80
  s.seq = seq;
  s.window = 65535;
  s.opts = o;
  return s;
}
SynAckOp SynAck(uint8_t flow = 0, TcpOpts o = PeerOpts(), uint8_t flags_xor = 0) {
  SynAckOp s;
  s.flow = flow;
  s.seq = 700000;
  s.window = 65535;
  s.opts = o;
  s.flags_xor = flags_xor;
  return s;
}
AckSynAckOp AckSynAck(uint8_t flow = 0, uint8_t payload = 0, uint8_t flags_xor = 0) {
  AckSynAckOp a;
  a.flow = flow;
  a.window = 65535;
  a.payload = payload;
  a.flags_xor = flags_xor;
  return a;
}
AckAllOp AckAll(uint8_t flow = 0, uint8_t flags = 0, uint8_t payload = 0, uint16_t window = 65535) {
  return AckAllOp{flow, flags, window, payload};
}
SegmentOp Segment(uint8_t flags, uint8_t seq_mode, uint32_t seq, uint8_t payload = 0, uint8_t flow = 0) {
  SegmentOp s;
  s.flow = flow;
  s.flags = flags;
  s.seq_mode = seq_mode;
  s.seq = seq;
  s.window = 65535;
  s.payload = payload;
  return s;
}
AdvanceOp After(uint8_t step) { return AdvanceOp{step, 0}; }
AdvanceOp AfterMs(uint16_t ms) { return AdvanceOp{15, ms}; }
SendOp SendCopy(uint8_t size, uint8_t conn = 0) { return SendOp{conn, size, 0}; }
SendOp SendChain(uint8_t size, uint8_t mode, uint8_t conn = 0) { return SendOp{conn, size, mode}; }
RecvOp RecvAll(uint8_t conn = 0) { return RecvOp{conn, 1}; }
RecvOp RecvSome(uint8_t size_index, uint8_t conn = 0) { return RecvOp{conn, static_cast<uint8_t>(size_index << 1)}; }
ConnOp Conn(uint8_t conn = 0) { return ConnOp{conn}; }
ConnectOp ConnectTo(uint8_t peer = 0, uint8_t port = 0, uint8_t timeout = 0) { return ConnectOp{peer, port, timeout}; }

// Indices into the tables of engine_program.h.
constexpr uint8_t kLen100 = 4, kLen1000 = 8, kLen1460 = 12, kLen1 = 1;
constexpr uint8_t kSend100 = 3, kSend1000 = 6, kSend4096 = 10, kSend65536 = 13, kSend300k = 15;
constexpr uint8_t k40ms = 2, k200ms = 4, k1s = 6, k3s = 7, k10s = 8, k60s = 10, k61s = 11, k120s = 12, k600s = 14;
constexpr uint8_t kFin = 0x01, kPsh = 0x08;

void Engine(const std::string& name, const ProgramWriter& w) { Write("fuzz_engine", name, w.bytes()); }

// A passive connection from peer port `pp` up to ESTABLISHED with `payload` on the handshake ACK.
ProgramWriter& Accept(ProgramWriter& w, uint8_t pp = 0, uint8_t payload = 0, TcpOpts o = PeerOpts()) {
  return w.Add(Op::kSyn, Syn(pp, 1000 + pp, o)).Add(Op::kAckSynAck, AckSynAck(0, payload));
}

void EngineCorpus() {
  {
    ProgramWriter w(Cfg(kAllOpts | kCookiesWhenFull));
    Accept(w, 0, kLen100)
        .Add(Op::kRecv, RecvAll())
        .Add(Op::kSend, SendCopy(kSend100))
        .Add(Op::kAckAll, AckAll())
        .Add(Op::kAckAll, AckAll(0, kFin))
        .Add(Op::kClose, Conn())
        .Add(Op::kAckAll, AckAll())
        .Add(Op::kAdvance, After(k61s));
    Engine("passive_echo_peer_closes", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts | kCookiesWhenFull));
    Accept(w, 0, kLen1000)
        .Add(Op::kRecv, RecvSome(2))
        .Add(Op::kRecv, RecvAll())
        .Add(Op::kSend, SendCopy(kSend4096))
        .Add(Op::kClose, Conn())
        .Add(Op::kAckAll, AckAll())
        .Add(Op::kAdvance, After(k40ms))
        .Add(Op::kAdvance, AfterMs(37))
        .Add(Op::kAckAll, AckAll(0, kFin))
        .Add(Op::kAdvance, After(k61s));
    Engine("passive_server_closes_first", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts));
    w.Add(Op::kConnect, ConnectTo())
        .Add(Op::kSynAck, SynAck())
        .Add(Op::kSend, SendCopy(kSend1000))
        .Add(Op::kAckAll, AckAll(0, 0, kLen100))
        .Add(Op::kRecv, RecvAll())
        .Add(Op::kShutdown, Conn())
        .Add(Op::kAckAll, AckAll())
        .Add(Op::kAckAll, AckAll(0, kFin))
        .Add(Op::kClose, Conn())
        .Add(Op::kAdvance, After(k61s));
    Engine("active_open_close_first", w);
  }
  {
    ProgramWriter w(Cfg(0));
    w.Add(Op::kConnect, ConnectTo(1, 2))
        .Add(Op::kSynAck, SynAck(0, TcpOpts{}))
        .Add(Op::kAckAll, AckAll(0, kFin | kPsh, kLen1460))
        .Add(Op::kRecv, RecvAll())
        .Add(Op::kSend, SendCopy(kSend100))
        .Add(Op::kClose, Conn())
        .Add(Op::kAckAll, AckAll())
        .Add(Op::kAdvance, After(k1s));
    Engine("active_no_options_peer_closes", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts | kCookiesAlways));
    Accept(w, 0, kLen100).Add(Op::kRecv, RecvAll()).Add(Op::kSend, SendCopy(kSend1000)).Add(Op::kAckAll, AckAll());
    Engine("cookie_always_with_data", w);
  }
  {
    ProgramWriter w(Cfg(kCookiesAlways));
    Accept(w, 1, 0, PeerOpts(false)).Add(Op::kSend, SendCopy(kSend4096)).Add(Op::kAckAll, AckAll());
    Engine("cookie_always_no_timestamps", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts | kCookiesWhenFull, /*sizes: backlog 1*/ 0));
    for (uint8_t pp = 0; pp < 5; ++pp) w.Add(Op::kSyn, Syn(pp, 5000 + pp));
    w.Add(Op::kAckSynAck, AckSynAck(0, kLen1)).Add(Op::kAckSynAck, AckSynAck(3)).Add(Op::kAdvance, After(k3s));
    w.Add(Op::kAdvance, After(k60s));
    Engine("syn_flood_cookies_when_full", w);
  }
  {
    ProgramWriter w(Cfg(kTs | kCookiesOff, 1, /*max half-open 2*/ 0x08));
    for (uint8_t pp = 0; pp < 5; ++pp) w.Add(Op::kSyn, Syn(pp, 9000 + pp));
    w.Add(Op::kAdvance, After(k3s)).Add(Op::kAdvance, After(k10s)).Add(Op::kAdvance, After(k60s));
    Engine("syn_flood_cookies_off", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts));
    w.Add(Op::kConnect, ConnectTo())
        .Add(Op::kSynAck, SynAck(0, PeerOpts(), 0x10))  // a bare SYN: simultaneous open
        .Add(Op::kAckAll, AckAll())
        .Add(Op::kSend, SendCopy(kSend100))
        .Add(Op::kAckAll, AckAll());
    Engine("simultaneous_open", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts));
    Accept(w)
        .Add(Op::kSegment, Segment(0x04, 1, 1))   // RST at RCV.NXT+1: challenge ACK
        .Add(Op::kSegment, Segment(0x02, 0, 0))   // SYN in ESTABLISHED: challenge ACK
        .Add(Op::kSegment, Segment(0x14, 0, 0));  // RST at RCV.NXT: reset
    Engine("rst_and_syn_in_established", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts));
    Accept(w)
        .Add(Op::kSegment, Segment(0x18, 2, 200, kLen100))   // out of order
        .Add(Op::kSegment, Segment(0x18, 1, 0xce, kLen100))  // overlapping the left edge
        .Add(Op::kSegment, Segment(0x18, 0, 0, kLen1000))
        .Add(Op::kSegment, Segment(0x18, 3, 12345, kLen100))  // far outside the window
        .Add(Op::kRecv, RecvAll());
    Engine("out_of_order_and_overlap", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts));
    w.Add(Op::kSyn, Syn())
        .Add(Op::kAckSynAck, AckSynAck(0, 0))
        .Add(Op::kAckAll, AckAll(0, 0, 0, 0))  // zero window
        .Add(Op::kSend, SendCopy(kSend4096))
        .Add(Op::kAdvance, After(k1s))
        .Add(Op::kAdvance, After(k3s))
        .Add(Op::kAdvance, After(k10s))
        .Add(Op::kAckAll, AckAll(0, 0, 0, 100))
        .Add(Op::kAckAll, AckAll())
        .Add(Op::kClose, Conn())
        .Add(Op::kAckAll, AckAll(0, 0, 0, 0))
        .Add(Op::kAdvance, After(k600s));
    Engine("zero_window_persist", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts));
    w.Add(Op::kConnect, ConnectTo())
        .Add(Op::kSynAck, SynAck())
        .Add(Op::kSend, SendCopy(kSend4096))
        .Add(Op::kAdvance, After(k200ms))
        .Add(Op::kAdvance, After(k120s))
        .Add(Op::kAdvance, After(k600s))
        .Add(Op::kAdvance, After(k600s));
    Engine("retransmit_until_timeout", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts));
    w.Add(Op::kConnect, ConnectTo(3)).Add(Op::kAdvance, After(k1s)).Add(Op::kAdvance, After(k3s));
    Engine("connect_arp_unreachable", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts));
    w.Add(Op::kConnect, ConnectTo(3))
        .Add(Op::kArp, ArpOp{3, 1})
        .Add(Op::kSynAck, SynAck())
        .Add(Op::kSend, SendCopy(kSend100))
        .Add(Op::kAckAll, AckAll());
    Engine("connect_after_arp_reply", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts));
    w.Add(Op::kConnect, ConnectTo(0, 1, 1)).Add(Op::kAdvance, After(k1s)).Add(Op::kConnect, ConnectTo(5));
    Engine("connect_timeout_and_no_route", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts | kKeepalive));
    Accept(w).Add(Op::kAdvance, After(k10s)).Add(Op::kAdvance, After(k10s)).Add(Op::kAckAll, AckAll());
    w.Add(Op::kAdvance, After(k60s));
    Engine("keepalive", w);
  }
  {
    // MSS 48, 600-byte receive and send buffers.
    ProgramWriter w(Cfg(kTs, 0x0c | 0x30 | 0xc0));
    Accept(w, 0, kLen1000)
        .Add(Op::kSend, SendCopy(kSend4096))
        .Add(Op::kAckAll, AckAll())
        .Add(Op::kSegment, Segment(0x18, 0, 0, kLen1000))
        .Add(Op::kRecv, RecvSome(2))
        .Add(Op::kAckAll, AckAll())
        .Add(Op::kRecv, RecvAll());
    Engine("tiny_mss_and_buffers", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts | kOffload));
    Accept(w)
        .Add(Op::kSend, SendChain(kSend4096, 2))
        .Add(Op::kSend, SendChain(kSend65536, 1))
        .Add(Op::kAckAll, AckAll())
        .Add(Op::kAdvance, After(k1s))
        .Add(Op::kSend, SendChain(kSend1000, 3));
    Engine("zero_copy_chains_offload", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts | kTinyPools));
    Accept(w).Add(Op::kSend, SendCopy(kSend300k)).Add(Op::kAckAll, AckAll()).Add(Op::kSend, SendChain(kSend65536, 2));
    w.Add(Op::kAdvance, After(k1s));
    Engine("tiny_pools", w);
  }
  {
    // The server closes first and sits in TIME-WAIT; the client opens the same 4-tuple again.
    ProgramWriter w(Cfg(kAllOpts));
    Accept(w)
        .Add(Op::kClose, Conn())
        .Add(Op::kAckAll, AckAll(0, kFin))
        .Add(Op::kAdvance, After(k1s))
        .Add(Op::kSyn, Syn(0, 0x40000000))
        .Add(Op::kAckSynAck, AckSynAck());
    Engine("time_wait_reopened_by_syn", w);
  }
  {
    // Four ephemeral ports, all used and left in TIME-WAIT, then one more Connect.
    ProgramWriter w(Cfg(kAllOpts, 0, 0x20));
    for (int i = 0; i < 4; ++i) {
      w.Add(Op::kConnect, ConnectTo())
          .Add(Op::kSynAck, SynAck())
          .Add(Op::kClose, Conn())
          .Add(Op::kAckAll, AckAll(0, kFin));
    }
    w.Add(Op::kConnect, ConnectTo()).Add(Op::kAdvance, After(k3s)).Add(Op::kConnect, ConnectTo());
    w.Add(Op::kSynAck, SynAck());
    Engine("ephemeral_ports_reused", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts | kCookiesWhenFull, 0, /*per-source limit*/ 0x04 | /*accept backlog 1*/ 0x01));
    for (uint8_t pp = 0; pp < 4; ++pp) w.Add(Op::kSyn, Syn(pp, 100 * pp));
    w.Add(Op::kAckSynAck, AckSynAck(0)).Add(Op::kAckSynAck, AckSynAck(1)).Add(Op::kAdvance, After(k1s));
    Engine("syn_rate_limit_and_accept_backlog", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts, 0, /*challenge ACKs 2/s*/ 0x40));
    Accept(w);
    for (int i = 0; i < 4; ++i) w.Add(Op::kSegment, Segment(0x02, 1, 5));
    w.Add(Op::kSegment, Segment(0x10, 0, 0)).Add(Op::kAdvance, After(k1s)).Add(Op::kSegment, Segment(0x04, 1, 3));
    Engine("challenge_ack_limit", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts));
    Accept(w).Add(Op::kClose, Conn()).Add(Op::kAckAll, AckAll()).Add(Op::kAdvance, After(k61s));
    Engine("fin_wait2_orphan_timeout", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts));
    Accept(w)
        .Add(Op::kReflect, ReflectOp{0, 0, 0, 0, 0, 0})
        .Add(Op::kReflect, ReflectOp{1, 47, 0x10, 60, 0x02, 3})
        .Add(Op::kArp, ArpOp{0, 2})
        .Add(Op::kPing, PingOp{1, 32})
        .Add(Op::kRawFrame, RawFrameOp{Ping(8)})
        .Add(Op::kRawTcp, RawTcpOp{0, 1, testing::Tcp(kPeer, kOurIp, TcpF(0x02, 1, 0, Mss(100)))});
    Engine("reflect_and_raw", w);
  }
  {
    // Unread data at Close: RST; stale ids afterwards.
    ProgramWriter w(Cfg(kAllOpts));
    Accept(w, 0, kLen100)
        .Add(Op::kClose, Conn())
        .Add(Op::kSend, SendCopy(kSend100, 0x80))
        .Add(Op::kRecv, RecvAll(0x80))
        .Add(Op::kAbort, Conn(0x80));
    Engine("close_with_unread_then_stale_ids", w);
  }
  {
    ProgramWriter w(Cfg(kAllOpts));
    w.Add(Op::kConnect, ConnectTo()).Add(Op::kSynAck, SynAck()).Add(Op::kAbort, Conn());
    w.Add(Op::kConnect, ConnectTo()).Add(Op::kSynAck, SynAck(0, PeerOpts(), 0x04));  // SYN-ACK|RST: refused
    w.Add(Op::kConnect, ConnectTo(2, 3)).Add(Op::kSegment, Segment(0x14, 0, 0));
    Engine("abort_and_refused", w);
  }
  {
    // Application timeouts: a first-byte deadline that fires, an idle timeout kept alive by data.
    ProgramWriter w(Cfg(kAllOpts));
    Accept(w)
        .Add(Op::kTimeout, TimeoutOp{0, 0, 3})
        .Add(Op::kAdvance, After(k1s))
        .Add(Op::kConnect, ConnectTo())
        .Add(Op::kSynAck, SynAck())
        .Add(Op::kTimeout, TimeoutOp{0, 1, 4})
        .Add(Op::kAdvance, After(k3s))
        .Add(Op::kAckAll, AckAll(0, 0, kLen100))
        .Add(Op::kAdvance, After(k3s))
        .Add(Op::kTimeout, TimeoutOp{0, 1, 0})
        .Add(Op::kAdvance, After(k10s));
    Engine("app_timeouts", w);
  }
  {
    // One orphan allowed: the second Close resets; few retries everywhere.
    ProgramWriter w(Cfg(kAllOpts, 0, 0, /*max orphans 1*/ 0x02 | 0x08 | 0x10));
    Accept(w, 0).Add(Op::kSend, SendCopy(kSend4096));
    Accept(w, 1).Add(Op::kSend, SendCopy(kSend4096));
    w.Add(Op::kClose, Conn(0)).Add(Op::kClose, Conn(0)).Add(Op::kAdvance, After(k10s)).Add(Op::kAdvance, After(k60s));
    Engine("orphan_limit_and_few_retries", w);
  }
  {
    // min_snd_mss 1 with a peer MSS of 1: one-byte segments.
    ProgramWriter w(Cfg(kWs, 0, 0, 0x04));
    TcpOpts tiny;
    tiny.mask = 0x01;
    tiny.mss = 1;
    Accept(w, 0, 0, tiny).Add(Op::kSend, SendCopy(kSend100)).Add(Op::kAckAll, AckAll());
    Engine("peer_mss_1_floor_1", w);
  }
}

}  // namespace
}  // namespace synack::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT-DIR (e.g. tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  synack::fuzz::g_out = argv[1];
  synack::fuzz::NetCorpus();
  synack::fuzz::TcpCorpus();
  synack::fuzz::EngineCorpus();
  std::printf("wrote %d files under %s\n", synack::fuzz::g_files, argv[1]);
  return 0;
}
