// Micro-benchmarks of the per-packet fast path: the Internet checksum, IPv4 header parsing, and TCP
// header parse (with checksum verification) and emit for a SYN carrying Linux's usual options (MSS,
// SACK-permitted, timestamps, window scale) and for a data segment's header with timestamps.
// End-to-end comparisons with the Linux kernel are in scripts/bench.sh.
#include <vector>

#include <benchmark/benchmark.h>

#include "lib/net/checksum.h"
#include "lib/net/ipv4.h"
#include "lib/tcp/tcp_header.h"

namespace synack {
namespace {

void BM_Checksum(benchmark::State& state) {
  std::vector<uint8_t> buf(static_cast<size_t>(state.range(0)), 0xa5);
  for (auto _ : state) benchmark::DoNotOptimize(InternetChecksum(ConstBytes(buf.data(), buf.size())));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Checksum)->Arg(20)->Arg(64)->Arg(1500);

void BM_ParseIpv4(benchmark::State& state) {
  uint8_t pkt[64] = {};
  Ipv4HeaderFields f;
  f.src = Ipv4Addr::Of(198, 18, 0, 1);
  f.dst = Ipv4Addr::Of(198, 18, 0, 2);
  f.protocol = kIpProtoTcp;
  f.payload_len = 44;
  WriteIpv4Header(pkt, f, true);
  for (auto _ : state) {
    Parsed<Ipv4Packet> p = ParseIpv4(ConstBytes(pkt, sizeof(pkt)));
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_ParseIpv4);

const Ipv4Addr kSrc = Ipv4Addr::Of(198, 18, 0, 1);
const Ipv4Addr kDst = Ipv4Addr::Of(198, 18, 0, 2);

TcpSegment ExampleSegment(bool syn) {
  TcpSegment s;
  s.src_port = 40000;
  s.dst_port = 80;
  s.seq = SeqNum(123456789);
  s.ack = SeqNum(987654321);
  s.window = 502;
  if (syn) {
    s.flags = tcp_flags::kSyn;
    s.options.mss = 1460;
    s.options.sack_permitted = true;
    s.options.window_scale = 7;
  } else {
    s.flags = tcp_flags::kAck | tcp_flags::kPsh;
  }
  s.options.timestamps = TcpTimestamps{1000, 2000};
  return s;
}

// Arg 1: a SYN with options; 0: a data segment's header (timestamps only) with 64 bytes of payload.
void BM_ParseTcp(benchmark::State& state) {
  const bool syn = state.range(0) == 1;
  const TcpSegment seg = ExampleSegment(syn);
  const uint16_t hl = static_cast<uint16_t>(kTcpMinHeaderLen + TcpOptionsLength(seg.options));
  const uint16_t len = static_cast<uint16_t>(hl + (syn ? 0 : 64));
  std::vector<uint8_t> buf(len, 0x5a);
  WriteTcpHeader(buf.data(), seg);
  FillTcpChecksum(buf.data(), len, kSrc, kDst);
  for (auto _ : state) {
    Parsed<TcpPacket> p = ParseTcp(ConstBytes(buf.data(), buf.size()), kSrc, kDst, ChecksumState::kUnknown);
    if (!p.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_ParseTcp)->ArgName("syn")->Arg(1)->Arg(0);

void BM_WriteTcpHeader(benchmark::State& state) {
  const TcpSegment seg = ExampleSegment(state.range(0) == 1);
  uint8_t buf[kTcpMaxHeaderLen];
  const uint16_t hl = static_cast<uint16_t>(kTcpMinHeaderLen + TcpOptionsLength(seg.options));
  for (auto _ : state) {
    WriteTcpHeader(buf, seg);
    FillTcpChecksum(buf, hl, kSrc, kDst);
    benchmark::DoNotOptimize(buf);
  }
}
BENCHMARK(BM_WriteTcpHeader)->ArgName("syn")->Arg(1)->Arg(0);

}  // namespace
}  // namespace synack

BENCHMARK_MAIN();
