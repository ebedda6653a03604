// NUMA placement and the real-NIC start-up checks: each engine's pools are created on the socket of the
// lcore it runs on (trivially socket 0 on this machine, but through the same calls as on a two-socket
// server), RunOnLcore runs on the lcore it names, ports report their bus, and the no-hugepages warning
// is given for hardware buses only.
#include <atomic>
#include <string>

#include <gtest/gtest.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "lib/api/loopback.h"
#include "lib/api/stack.h"
#include "lib/core/timer_wheel.h"
#include "lib/dev/eal.h"
#include "lib/dev/port.h"
#include "lib/dev/ring_pair.h"

namespace synack {
namespace {

// The connection table size is checked before anything starts (just past either end of the range): one
// line naming the setting.
TEST(StackConfig, MaxConnectionsOutsideItsRangeIsRefusedBeforeStartUp) {
  for (uint32_t bad : {0u, TimerWheel::kMaxCapacity + 1}) {
    StackConfig c;
    c.tcp.max_connections = bad;
    absl::StatusOr<std::unique_ptr<Stack>> s = Stack::Create(c);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find("max_connections"), std::string::npos) << s.status();
    LoopbackOptions lo;
    (bad == 0 ? lo.client_tcp : lo.server_tcp).max_connections = bad;
    absl::StatusOr<std::unique_ptr<Loopback>> l = Loopback::Create(lo);
    ASSERT_FALSE(l.ok());
    EXPECT_EQ(l.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(l.status().message().find("max_connections"), std::string::npos) << l.status();
  }
}

TEST(Placement, EngineLcoresAreTheMainOneThenTheWorkers) {
  const std::vector<unsigned> lcores = EngineLcores();
  ASSERT_EQ(lcores.size(), rte_lcore_count());
  EXPECT_EQ(lcores[0], rte_get_main_lcore());
  for (size_t i = 1; i < lcores.size(); ++i) EXPECT_NE(lcores[i], rte_get_main_lcore());
  for (unsigned l : lcores) EXPECT_EQ(LcoreSocket(l), static_cast<int>(rte_lcore_to_socket_id(l)));
}

TEST(Placement, EachEnginesPoolsAreOnItsLcoresSocket) {
  const std::vector<unsigned> lcores = EngineLcores();
  for (size_t i = 0; i < lcores.size(); ++i) {
    const int socket = LcoreSocket(lcores[i]);
    absl::StatusOr<EnginePools> p = CreateEnginePools("placement" + std::to_string(i), 1023, socket);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->frames->socket_id, socket) << "engine " << i << " on lcore " << lcores[i];
    EXPECT_EQ(p->indirect->socket_id, socket) << "engine " << i << " on lcore " << lcores[i];
    rte_mempool_free(p->frames);
    rte_mempool_free(p->indirect);
  }
}

TEST(Placement, PoolsOnASocketWithoutMemoryGoAnywhere) {
  // --no-huge keeps all memory on one socket: a socket with none must not fail the engine.
  absl::StatusOr<EnginePools> p = CreateEnginePools("placement_far", 1023, RTE_MAX_NUMA_NODES - 1);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->frames->socket_id, SOCKET_ID_ANY);
  rte_mempool_free(p->frames);
  rte_mempool_free(p->indirect);
}

TEST(Placement, RunOnLcoreRunsThereAndWaits) {
  for (unsigned lcore : EngineLcores()) {
    std::atomic<unsigned> ran_on{RTE_MAX_LCORE};
    ASSERT_TRUE(RunOnLcore(lcore, [&] { ran_on = rte_lcore_id(); }).ok());
    EXPECT_EQ(ran_on.load(), lcore);
  }
}

TEST(Placement, NoHugepagesWarningOnlyForHardwareBuses) {
  const std::string w = NoHugepagesWarning(3, "pci", "net_ixgbe", /*hugepages=*/false);
  EXPECT_NE(w.find("port 3"), std::string::npos) << w;
  EXPECT_NE(w.find("net_ixgbe"), std::string::npos) << w;
  EXPECT_NE(w.find("--hugepages"), std::string::npos) << w;
  EXPECT_EQ(w.find('\n'), std::string::npos) << "one line";
  EXPECT_EQ(NoHugepagesWarning(3, "pci", "net_ixgbe", /*hugepages=*/true), "");
  EXPECT_NE(NoHugepagesWarning(0, "auxiliary", "mlx5_eth", false), "");  // a NIC on another hardware bus
  EXPECT_EQ(NoHugepagesWarning(0, "vdev", "net_tap", false), "");
  EXPECT_EQ(NoHugepagesWarning(0, "vdev", "net_ring", false), "");
  EXPECT_EQ(NoHugepagesWarning(0, "", "?", false), "") << "unknown bus";
}

TEST(Placement, VirtualPortsReportTheVdevBusAndNoWarning) {
  absl::StatusOr<RingPair> rp = CreateRingPair("placement_ring", 1, 1024);
  ASSERT_TRUE(rp.ok()) << rp.status();
  absl::StatusOr<EnginePools> p = CreateEnginePools("placement_port", 2047, LcoreSocket(rte_get_main_lcore()));
  ASSERT_TRUE(p.ok()) << p.status();
  PortConfig pc;
  pc.port_id = rp->a;
  pc.pool = p->frames;
  absl::StatusOr<PortInfo> info = ConfigurePort(pc);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->bus, "vdev");
  EXPECT_EQ(NoHugepagesWarning(info->port_id, info->bus, info->driver, false), "");
  ClosePort(rp->a);
  ClosePort(rp->b);
  rte_mempool_free(p->frames);
  rte_mempool_free(p->indirect);
}

}  // namespace
}  // namespace synack
