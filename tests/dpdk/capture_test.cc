// Packet capture (lib/dev/capture.h) on real mbufs: a tap copies received frames and exactly the frames a
// transmit burst took, the writer writes them to a pcapng file read back block by block (interfaces, one
// Enhanced Packet Block per copy with the frame's bytes, direction and a wall-clock timestamp), count=N
// stops after N, a full ring drops and counts instead of waiting, and every copy goes back to the pool.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "lib/dev/capture.h"
#include "tests/eal_env.h"

namespace synack {
namespace {

using testing::TestPool;

// The capture pool of the writer now open: every copy back in it once the writer stopped.
unsigned CapturePoolFree() {
  rte_mempool* mp = rte_mempool_lookup(("capture_" + std::to_string(getpid())).c_str());
  return mp == nullptr ? 0 : rte_mempool_avail_count(mp);
}

struct Block {
  uint32_t type;
  std::vector<uint8_t> body;  // after type and length, before the trailing length
};

std::vector<Block> ReadBlocks(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<Block> out;
  for (size_t at = 0; at + 12 <= b.size();) {
    uint32_t type, len;
    std::memcpy(&type, &b[at], 4);
    std::memcpy(&len, &b[at + 4], 4);
    if (len < 12 || at + len > b.size()) break;
    out.push_back({type, std::vector<uint8_t>(b.begin() + at + 8, b.begin() + at + len - 4)});
    at += len;
  }
  return out;
}

uint32_t Word(const Block& blk, size_t offset) {
  uint32_t v;
  std::memcpy(&v, &blk.body[offset], 4);
  return v;
}

rte_mbuf* Frame(uint8_t fill, uint16_t len) {
  rte_mbuf* m = rte_pktmbuf_alloc(TestPool());
  std::memset(rte_pktmbuf_append(m, len), fill, len);
  return m;
}

std::string TempPath() {
  char name[] = "/tmp/synack_capture_XXXXXX";
  const int fd = mkstemp(name);
  close(fd);
  return name;
}

constexpr uint32_t kEpb = 6, kIdb = 1;

TEST(Capture, WritesReceivedAndTransmittedFramesAsEnhancedPacketBlocks) {
  const std::string path = TempPath();
  CaptureConfig config;
  config.path = path;
  absl::StatusOr<std::unique_ptr<CaptureWriter>> w = CaptureWriter::Open(config, 1, 1518);
  ASSERT_TRUE(w.ok()) << w.status();
  (*w)->Start();
  CaptureTap& tap = *(*w)->tap(0);
  const unsigned pool_start = rte_mempool_avail_count(TestPool());

  rte_mbuf* rx[2] = {Frame(0xaa, 60), Frame(0xbb, 1514)};
  tap.Received(0, 0, rx, 2);
  rte_pktmbuf_free_bulk(rx, 2);  // the frames stayed ours
  // A device that takes two of three: only those two are captured.
  rte_mbuf* tx[3] = {Frame(0x11, 64), Frame(0x22, 64), Frame(0x33, 64)};
  const uint16_t took = tap.Transmit(0, 0, tx, 3, [](rte_mbuf** p, uint16_t n) {
    rte_pktmbuf_free_bulk(p, 2);
    return uint16_t{2};
  });
  EXPECT_EQ(took, 2);
  rte_pktmbuf_free(tx[2]);
  EXPECT_EQ(rte_mempool_avail_count(TestPool()), pool_start);
  EXPECT_EQ(tap.counters().copied, 4u);
  EXPECT_EQ(tap.counters().dropped, 0u);
  (*w)->Stop();
  EXPECT_EQ((*w)->written(), 4u);
  EXPECT_TRUE((*w)->error().empty());
  EXPECT_EQ(CapturePoolFree(), config.mbufs);

  std::vector<Block> blocks = ReadBlocks(path);
  std::vector<const Block*> epbs;
  size_t idbs = 0;
  for (const Block& b : blocks) {
    if (b.type == kIdb) ++idbs;
    if (b.type == kEpb) epbs.push_back(&b);
  }
  EXPECT_GE(idbs, 1u);  // one per port of the test EAL
  ASSERT_EQ(epbs.size(), 4u);
  const uint8_t fills[] = {0xaa, 0xbb, 0x11, 0x22};
  const uint32_t lens[] = {60, 1514, 64, 64};
  const uint64_t now_ns = static_cast<uint64_t>(time(nullptr)) * 1000000000;
  for (size_t i = 0; i < 4; ++i) {
    const Block& e = *epbs[i];
    EXPECT_EQ(Word(e, 12), lens[i]) << i;  // captured length
    EXPECT_EQ(Word(e, 16), lens[i]) << i;  // original length
    EXPECT_EQ(e.body[20], fills[i]) << i;
    EXPECT_EQ(e.body[20 + lens[i] - 1], fills[i]) << i;
    const uint64_t ts = (uint64_t{Word(e, 4)} << 32) | Word(e, 8);
    EXPECT_LT(ts > now_ns ? ts - now_ns : now_ns - ts, uint64_t{60} * 1000000000) << i;  // wall-clock time
    // The flags option (code 2) right after the padded data: inbound 1, outbound 2.
    const size_t opt = 20 + ((lens[i] + 3) & ~3u);
    EXPECT_EQ(Word(e, opt) & 0xffff, 2u) << i;
    EXPECT_EQ(Word(e, opt + 4), i < 2 ? 1u : 2u) << i;
  }
  unlink(path.c_str());
}

TEST(Capture, CountStopsTheTapsAndAFullRingDropsWithoutWaiting) {
  const std::string path = TempPath();
  CaptureConfig config;
  config.path = path;
  config.count = 3;
  config.ring = 4;  // holds 3
  absl::StatusOr<std::unique_ptr<CaptureWriter>> w = CaptureWriter::Open(config, 1, 1518);
  ASSERT_TRUE(w.ok()) << w.status();
  CaptureTap& tap = *(*w)->tap(0);
  // The writer thread not started: the ring fills, the rest is dropped and counted.
  rte_mbuf* rx[5];
  for (auto& m : rx) m = Frame(0x5a, 100);
  tap.Received(0, 0, rx, 5);
  EXPECT_EQ(tap.counters().copied, 3u);
  EXPECT_EQ(tap.counters().dropped, 2u);
  (*w)->Start();
  for (int i = 0; i < 2000 && (*w)->written() < 3; ++i) usleep(1000);
  EXPECT_EQ((*w)->written(), 3u);
  EXPECT_FALSE(tap.active());  // count reached: the taps copy nothing more
  tap.Received(0, 0, rx, 5);
  EXPECT_EQ(tap.counters().copied, 3u);
  rte_pktmbuf_free_bulk(rx, 5);
  (*w)->Stop();
  size_t epbs = 0;
  for (const Block& b : ReadBlocks(path)) epbs += b.type == kEpb;
  EXPECT_EQ(epbs, 3u);
  EXPECT_EQ(CapturePoolFree(), config.mbufs);  // written, dropped or never made: all back
  unlink(path.c_str());
}

TEST(Capture, OpenNamesTheFileItCannotCreate) {
  CaptureConfig config;
  config.path = "/nonexistent-synack-dir/x.pcapng";
  absl::StatusOr<std::unique_ptr<CaptureWriter>> w = CaptureWriter::Open(config, 1, 1518);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("/nonexistent-synack-dir/x.pcapng"), std::string::npos);
}

}  // namespace
}  // namespace synack
