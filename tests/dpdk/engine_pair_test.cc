// Two engines joined by a real net_ring port pair: ARP resolution both ways and ping, through the
// real ethdev RX/TX paths; plus port configuration on virtual devices.
#include <cstdio>

#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "lib/core/engine.h"
#include "lib/dev/port.h"
#include "lib/dev/ring_pair.h"
#include "tests/eal_env.h"

namespace synack {
namespace {

Instant At(int64_t ms) { return Instant::FromNanoseconds(ms * 1000000); }

struct Pair {
  RingPair ports;
  PortInfo a, b;
};

// Created once per binary: ethdev ports cannot be re-created under the same name.
Pair& SharedPair() {
  static Pair* pair = [] {
    auto* p = new Pair;
    absl::StatusOr<RingPair> rp = CreateRingPair("eng");
    EXPECT_TRUE(rp.ok()) << rp.status();
    p->ports = *rp;
    PortConfig pc;
    pc.pool = testing::TestPool();
    pc.port_id = rp->a;
    absl::StatusOr<PortInfo> a = ConfigurePort(pc);
    EXPECT_TRUE(a.ok()) << a.status();
    pc.port_id = rp->b;
    absl::StatusOr<PortInfo> b = ConfigurePort(pc);
    EXPECT_TRUE(b.ok()) << b.status();
    p->a = *a;
    p->b = *b;
    return p;
  }();
  return *pair;
}

EngineConfig MakeConfig(uint16_t port, const MacAddr& mac, Ipv4Addr ip) {
  EngineConfig c;
  c.port_id = port;
  c.net.local = Ipv4Prefix{ip, 24};
  c.net.mac = mac;
  c.tcp.max_connections = 1024;
  c.tcp.max_time_wait = 1024;
  return c;
}

TEST(EnginePair, RingPortsReportThemselves) {
  Pair& p = SharedPair();
  EXPECT_EQ(p.a.driver, "net_ring");
  EXPECT_NE(p.a.mac, p.b.mac);
  EXPECT_TRUE(p.a.link_up);
  EXPECT_NE(p.a.Describe().find("net_ring"), std::string::npos);
  // The device's quirks, as every app prints them at start-up (the README's table of virtual devices).
  std::printf("%s\n%s\n", p.a.Describe().c_str(), p.a.DescribeDevice().c_str());
  EXPECT_NE(p.a.DescribeDevice().find("device net_ring: queues rx "), std::string::npos);
  EXPECT_FALSE(p.a.tx_tcp_cksum);  // no offloads: the stack checksums in software
  EXPECT_FALSE(p.a.rss_ipv4_tcp);  // no RSS: several engines dispatch in software
}

TEST(EnginePair, ResolveEachOtherAndPing) {
  Pair& p = SharedPair();
  const unsigned in_use_at_start = rte_mempool_in_use_count(testing::TestPool());
  const Ipv4Addr ip_a = Ipv4Addr::Of(198, 18, 1, 1);
  const Ipv4Addr ip_b = Ipv4Addr::Of(198, 18, 1, 2);
  {
    Engine a(MakeConfig(p.ports.a, p.a.mac, ip_a), testing::TestPool(), testing::TestIndirectPool());
    Engine b(MakeConfig(p.ports.b, p.b.mac, ip_b), testing::TestPool(), testing::TestIndirectPool());
    a.Start(At(0));
    b.Start(At(0));
    int64_t ms = 0;
    auto run = [&](int rounds) {
      for (int i = 0; i < rounds; ++i, ++ms) {
        a.PollOnce(At(ms));
        b.PollOnce(At(ms));
      }
    };
    run(5);  // gratuitous ARPs cross; neither learns (not addressed to them)
    EXPECT_EQ(a.stack().neighbors().size(), 0u);

    constexpr uint16_t kPings = 20;
    for (uint16_t seq = 1; seq <= kPings; ++seq) {
      ASSERT_TRUE(a.stack().SendEchoRequest(At(ms), ip_b, 0x51, seq, 56));
      run(4);
      ASSERT_TRUE(a.stack().last_echo_reply().has_value()) << "no reply to ping " << seq;
      EXPECT_EQ(a.stack().last_echo_reply()->seq, seq);
      EXPECT_EQ(a.stack().last_echo_reply()->from, ip_b);
    }
    // A learned B from B's ARP reply; B learned A from A's request (addressed to B).
    ASSERT_NE(a.stack().neighbors().Find(ip_b), nullptr);
    EXPECT_EQ(*a.stack().neighbors().Find(ip_b), p.b.mac);
    ASSERT_NE(b.stack().neighbors().Find(ip_a), nullptr);
    EXPECT_EQ(*b.stack().neighbors().Find(ip_a), p.a.mac);
    EXPECT_EQ(a.counters().arp_requests_tx, 2u);  // gratuitous + one resolution
    EXPECT_EQ(b.counters().arp_replies_tx, 1u);
    EXPECT_EQ(b.counters().icmp_echo_replies_tx, kPings);
    EXPECT_EQ(a.counters().icmp_echo_replies_rx, kPings);
    EXPECT_EQ(a.counters().total_drops(), a.counters().dropped(Drop::kArpNotForUs));
    EXPECT_EQ(b.counters().total_drops(), b.counters().dropped(Drop::kArpNotForUs));
    // B pings A: already resolved both ways, so no further ARP.
    ASSERT_TRUE(b.stack().SendEchoRequest(At(ms), ip_a, 0x52, 1, 0));
    run(4);
    ASSERT_TRUE(b.stack().last_echo_reply().has_value());
    EXPECT_EQ(b.counters().arp_requests_tx, 1u);  // only its gratuitous ARP
    run(3);
  }
  EXPECT_EQ(rte_mempool_in_use_count(testing::TestPool()), in_use_at_start) << "mbufs leaked";
}

TEST(VirtualDevices, NullDeviceConfiguresWithoutOffloads) {
  // --vdev net_null0 is passed on the test's command line (see tests/CMakeLists.txt).
  uint16_t port = RTE_MAX_ETHPORTS;
  uint16_t pid;
  RTE_ETH_FOREACH_DEV(pid) {
    rte_eth_dev_info info;
    if (rte_eth_dev_info_get(pid, &info) == 0 && std::string(info.driver_name) == "net_null") port = pid;
  }
  ASSERT_NE(port, RTE_MAX_ETHPORTS) << "net_null0 not probed";
  PortConfig pc;
  pc.port_id = port;
  pc.pool = testing::TestPool();
  absl::StatusOr<PortInfo> info = ConfigurePort(pc);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->driver, "net_null");
  EXPECT_FALSE(info->tx_ip_cksum);  // so the stack computes checksums itself
  std::printf("%s\n%s\n", info->Describe().c_str(), info->DescribeDevice().c_str());
  EXPECT_NE(info->DescribeDevice().find("device net_null: queues rx "), std::string::npos);
}

TEST(VirtualDevices, MissingPortIsAClearError) {
  PortConfig pc;
  pc.port_id = 77;
  pc.pool = testing::TestPool();
  absl::StatusOr<PortInfo> info = ConfigurePort(pc);
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find("port 77 does not exist"), std::string::npos) << info.status();
}

}  // namespace
}  // namespace synack
