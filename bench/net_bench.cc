// Micro-benchmarks of the L2/L3 fast path: checksum and header parsing. (End-to-end runs against
// the Linux kernel arrive with the benchmark issue.)
#include <vector>

#include <benchmark/benchmark.h>

#include "lib/net/checksum.h"
#include "lib/net/ipv4.h"

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

}  // namespace
}  // namespace synack

BENCHMARK_MAIN();
