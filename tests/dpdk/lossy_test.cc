// TCP over a lossy link: two engines joined by a real net_ring pair, each transmitting through the seeded
// impairment component (loss, burst loss, reordering, duplication, corruption, delay and rate), with
// fake time. Hundreds of connections each send a pattern to an echo server and check every byte that
// comes back; every connection must finish cleanly, none may be stuck, and every mbuf must be back in
// its pool at the end. One profile per test, so a failure names the impairment.
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "absl/container/flat_hash_map.h"
#include "lib/core/engine.h"
#include "lib/dev/impairment.h"
#include "lib/dev/port.h"
#include "lib/dev/ring_pair.h"
#include "tests/eal_env.h"
#include "tests/echo.h"
#include "tests/tcp_layer_peer.h"

namespace synack {
namespace {

const Ipv4Addr kClientIp = Ipv4Addr::Of(198, 18, 3, 1);
const Ipv4Addr kServerIp = Ipv4Addr::Of(198, 18, 3, 2);
constexpr uint16_t kPort = 7;

uint8_t Pattern(uint32_t conn, uint64_t off) {
  return static_cast<uint8_t>((off * 131 + conn * 7 + (off >> 9)) & 0xff);
}

testing::RingPorts& Ports() {
  static testing::RingPorts* p = new testing::RingPorts(testing::MakeRingPorts("lossy"));
  return *p;
}

struct Profile {
  std::string name;
  std::string impair;  // --impair spec, applied to both directions (seed varied per direction)
  int connections = 200;
  uint32_t bytes = 20000;  // per connection, each way
  CongestionAlgorithm cc = CongestionAlgorithm::kCubic;
  bool sack = true;
  bool timestamps = true;
};

class LossyTest : public ::testing::TestWithParam<Profile> {
 protected:
  void SetUp() override {
    static int serial = 0;
    for (int i = 0; i < 2; ++i) {
      absl::StatusOr<rte_mempool*> p = CreateMbufPool("lossy_pool" + std::to_string(serial++), 16383);
      ASSERT_TRUE(p.ok()) << p.status();
      pools_[i] = *p;
    }
    indirect_in_use_ = rte_mempool_in_use_count(testing::TestIndirectPool());
    const Profile& prof = GetParam();
    absl::StatusOr<ImpairConfig> imp = ParseImpairSpec(prof.impair);
    ASSERT_TRUE(imp.ok()) << imp.status();
    testing::RingPorts& p = Ports();
    EngineConfig cc = Config(p.pair.a, p.a, kClientIp, 1, *imp);
    EngineConfig sc = Config(p.pair.b, p.b, kServerIp, 2, *imp);
    sc.tx_impair.seed = imp->seed * 7919 + 13;  // the two directions see different fates
    client_.emplace(cc, pools_[0], testing::TestIndirectPool());
    server_.emplace(sc, pools_[1], testing::TestIndirectPool());
    client_->Start(now_);
    server_->Start(now_);
    ASSERT_TRUE(server_->tcp().Listen(kPort).ok());
  }
  void TearDown() override {
    // Let TIME-WAIT and everything else run out, then drain the rings.
    for (int i = 0; i < 200; ++i) Step(Duration::Seconds(1));
    EXPECT_EQ(client_->tcp().connections(), 0u);
    EXPECT_EQ(server_->tcp().connections(), 0u);
    EXPECT_EQ(client_->tcp().loss_states_in_use() + server_->tcp().loss_states_in_use(), 0u) << "LossState leaked";
    client_.reset();
    server_.reset();
    // Anything still in the rings belongs to the pools: drain it.
    testing::RingPorts& p = Ports();
    for (uint16_t port : {p.pair.a, p.pair.b}) {
      rte_mbuf* pkts[64];
      for (uint16_t n; (n = rte_eth_rx_burst(port, 0, pkts, 64)) > 0;) rte_pktmbuf_free_bulk(pkts, n);
    }
    for (rte_mempool* pool : pools_) {
      EXPECT_EQ(rte_mempool_in_use_count(pool), 0u) << "mbufs leaked";
      rte_mempool_free(pool);
    }
    EXPECT_EQ(rte_mempool_in_use_count(testing::TestIndirectPool()), indirect_in_use_) << "indirect mbufs leaked";
  }
  EngineConfig Config(uint16_t port, const MacAddr& mac, Ipv4Addr ip, uint8_t key, const ImpairConfig& imp) {
    const Profile& prof = GetParam();
    EngineConfig c;
    c.port_id = port;
    c.net.local = Ipv4Prefix{ip, 24};
    c.net.mac = mac;
    c.net.arp.retry_interval = Duration::Milliseconds(200);
    c.net.arp.max_requests = 50;  // ARP itself crosses the lossy link
    c.tcp.max_connections = 4096;
    c.tcp.max_time_wait = 4096;
    c.tcp.isn_key.fill(key);
    c.tcp.tcp.snd_buffer = 64 * 1024;
    c.tcp.tcp.rcv_buffer = 64 * 1024;
    c.tcp.tcp.congestion = prof.cc;
    c.tcp.tcp.sack_permitted = prof.sack;
    c.tcp.tcp.timestamps = prof.timestamps;
    c.tx_impair = imp;
    return c;
  }

  // One round: both engines poll once at `now_ + step`, then the applications act.
  void Step(Duration step) {
    now_ = now_ + step;
    const uint16_t a = client_->PollOnce(now_);
    const uint16_t b = server_->PollOnce(now_);
    busy_ = a + b > 0;
    ServerEvents();
    ClientEvents();
  }

  void ServerEvents() {
    TcpLayer& tcp = server_->tcp();
    Event ev[64];
    for (size_t n; (n = tcp.PollEvents(ev)) > 0;) {
      for (size_t i = 0; i < n; ++i) {
        const Event& e = ev[i];
        switch (e.type) {
          case EventType::kAccepted:
          case EventType::kReadable:
          case EventType::kWritable: {
            if (testing::EchoAll(tcp, e.conn, backlog_[e.conn.index]) && peer_closed_.contains(e.conn.index))
              tcp.Close(e.conn);
            break;
          }
          case EventType::kPeerClosed:
            if (backlog_[e.conn.index]) {
              peer_closed_.insert({e.conn.index, true});
            } else {
              tcp.Close(e.conn);
            }
            break;
          case EventType::kClosed:
            ADD_FAILURE() << "server connection closed: " << ErrorName(e.error);
            break;
          default:
            break;
        }
      }
    }
  }

  struct Client {
    ConnId id;
    uint32_t index = 0;
    uint64_t sent = 0;
    uint64_t received = 0;
    bool done = false;
  };
  void Pump(Client& c) {
    TcpLayer& tcp = client_->tcp();
    const uint32_t total = GetParam().bytes;
    uint8_t buf[4096];
    while (c.sent < total) {
      const size_t n = std::min<size_t>(sizeof(buf), total - c.sent);
      for (size_t i = 0; i < n; ++i) buf[i] = Pattern(c.index, c.sent + i);
      const size_t took = tcp.SendCopy(c.id, ConstBytes(buf, n));
      c.sent += took;
      if (took < n) break;
    }
    for (size_t n; (n = tcp.RecvCopy(c.id, MutableBytes(buf, sizeof(buf)))) > 0;) {
      for (size_t i = 0; i < n; ++i) {
        if (buf[i] != Pattern(c.index, c.received + i)) {
          ADD_FAILURE() << "connection " << c.index << ": byte " << c.received + i << " corrupted";
          ++corrupted_;
          break;
        }
      }
      c.received += n;
    }
    if (!c.done && c.received == total) {
      c.done = true;
      ++completed_;
      tcp.Close(c.id);
    }
  }
  void ClientEvents() {
    Event ev[64];
    for (size_t n; (n = client_->tcp().PollEvents(ev)) > 0;) {
      for (size_t i = 0; i < n; ++i) {
        const Event& e = ev[i];
        auto it = clients_.find(e.conn.index);
        if (it == clients_.end() || it->second.id != e.conn) continue;
        switch (e.type) {
          case EventType::kConnected:
          case EventType::kReadable:
          case EventType::kWritable:
            Pump(it->second);
            break;
          case EventType::kClosed:
            ADD_FAILURE() << "client " << it->second.index << " failed: " << ErrorName(e.error) << " after "
                          << it->second.received << " bytes";
            it->second.done = true;
            ++failed_;
            break;
          default:
            break;
        }
      }
    }
  }

  void RunProfile() {
    const Profile& prof = GetParam();
    uint32_t opened = 0;
    const Instant deadline = now_ + Duration::Seconds(600);  // fake time
    for (int round = 0; round < 4000000 && now_ < deadline && completed_ + failed_ < prof.connections; ++round) {
      while (opened < static_cast<uint32_t>(prof.connections) && opened - completed_ - failed_ < 100) {
        absl::StatusOr<ConnId> c = client_->tcp().Connect(kServerIp, kPort);
        ASSERT_TRUE(c.ok()) << c.status();
        clients_[c->index] = Client{*c, opened++, 0, 0, false};
      }
      // Busy: small steps; idle: jump ahead (timers are at least milliseconds away).
      Step(busy_ ? Duration::Microseconds(20) : Duration::Microseconds(500));
    }
    EXPECT_EQ(completed_, prof.connections) << "stuck: " << prof.connections - completed_ - failed_;
    if (completed_ + failed_ < prof.connections) {
      // What the stuck ones look like, from both ends.
      int shown = 0;
      for (const auto& [index, c] : clients_) {
        if (c.done || shown++ >= 5) continue;
        auto describe = [](const TcpConnection* k) {
          if (k == nullptr) return std::string("gone");
          const TcpInfo i = k->Info();
          return std::string(StateName(i.state)) + " una=" + std::to_string(k->snd_una().raw()) +
                 " nxt=" + std::to_string(k->snd_nxt().raw()) + " rcv_nxt=" + std::to_string(k->rcv_nxt().raw()) +
                 " cwnd=" + std::to_string(i.cwnd) + " mss=" + std::to_string(i.snd_mss) +
                 " wnd=" + std::to_string(i.snd_wnd) + " flight=" + std::to_string(i.flight) +
                 " recovery=" + std::to_string(i.in_recovery) + " rto_ms=" + std::to_string(i.rto.ns() / 1000000) +
                 " retries=" + std::to_string(i.retransmits) + " queued=" + std::to_string(k->send_queued()) +
                 " unread=" + std::to_string(i.unread) + " ooo=" + std::to_string(i.ooo_bytes);
        };
        const std::optional<FlowKey> key = client_->tcp().Flow(c.id);
        if (!key) continue;
        const FlowKey rev{key->remote, key->local, key->remote_port, key->local_port};
        std::printf("  stuck client %u: sent %llu received %llu\n    client: %s\n    server: %s\n", c.index,
                    static_cast<unsigned long long>(c.sent), static_cast<unsigned long long>(c.received),
                    describe(TcpLayerTestPeer::FindConnection(client_->tcp(), *key)).c_str(),
                    describe(TcpLayerTestPeer::FindConnection(server_->tcp(), rev)).c_str());
      }
    }
    EXPECT_EQ(failed_, 0);
    EXPECT_EQ(corrupted_, 0);
    const TcpCounters& cc = client_->tcp().tcp_counters();
    const TcpCounters& sc = server_->tcp().tcp_counters();
    const Impairment* ci = client_->tx_impairment();
    const Impairment* si = server_->tx_impairment();
    std::string impair;
    if (ci != nullptr) {
      ImpairCounters t = ci->counters();
      const ImpairCounters& u = si->counters();
      t.lost += u.lost;
      t.burst_lost += u.burst_lost;
      t.reordered += u.reordered;
      t.duplicated += u.duplicated;
      t.corrupted += u.corrupted;
      t.queue_dropped += u.queue_dropped;
      t.ForEach([&](std::string_view n, uint64_t v) {
        if (v) impair += std::string(n) + "=" + std::to_string(v) + " ";
      });
    }
    std::printf(
        "[ %s ] %d connections x %u bytes each way in %.1f s (fake): retransmits %llu+%llu, fast recoveries %llu, "
        "RTO recoveries %llu, tail loss probes %llu, ooo kept %llu, dsack %llu; link: %s\n",
        prof.name.c_str(), completed_, prof.bytes, (now_ - start_).seconds(),
        static_cast<unsigned long long>(cc.retransmits), static_cast<unsigned long long>(sc.retransmits),
        static_cast<unsigned long long>(cc.fast_recoveries + sc.fast_recoveries),
        static_cast<unsigned long long>(cc.rto_recoveries + sc.rto_recoveries),
        static_cast<unsigned long long>(cc.tlp_probes + sc.tlp_probes),
        static_cast<unsigned long long>(cc.ooo_segments + sc.ooo_segments),
        static_cast<unsigned long long>(cc.dsacks_sent + sc.dsacks_sent), impair.c_str());
    EXPECT_EQ(client_->tcp().counters().ooo_join_mismatch + server_->tcp().counters().ooo_join_mismatch, 0u);
    // Zero-copy TX over the ring pair delivers header + payload segments: every one is received where
    // it lies, none gathered into one buffer.
    const NetCounters& cn = client_->stack().counters();
    const NetCounters& sn = server_->stack().counters();
    EXPECT_EQ(cn.rx_linearized + sn.rx_linearized, 0u);
    EXPECT_GT(cn.rx_chained, 0u);
    EXPECT_GT(sn.rx_chained, 0u);
    if (prof.impair.find("mtu=") != std::string::npos) {
      EXPECT_GT(cc.pmtu_reductions + sc.pmtu_reductions, 0u);
      std::printf("[ %s ] path MTU: %llu reductions, %llu ICMP sent by the link, %llu frames too big\n",
                  prof.name.c_str(), static_cast<unsigned long long>(cc.pmtu_reductions + sc.pmtu_reductions),
                  static_cast<unsigned long long>(ci->counters().icmp_sent + si->counters().icmp_sent),
                  static_cast<unsigned long long>(ci->counters().mtu_dropped + si->counters().mtu_dropped));
    }
  }

  Instant now_ = Instant::FromNanoseconds(int64_t{7} * 1000000000);
  Instant start_ = now_;
  rte_mempool* pools_[2] = {nullptr, nullptr};
  unsigned indirect_in_use_ = 0;
  std::optional<Engine> client_, server_;
  absl::flat_hash_map<uint32_t, Client> clients_;
  absl::flat_hash_map<uint32_t, Mbuf> backlog_;
  absl::flat_hash_map<uint32_t, bool> peer_closed_;
  bool busy_ = false;
  int completed_ = 0;
  int failed_ = 0;
  int corrupted_ = 0;
};

TEST_P(LossyTest, EveryByteArrivesAndEveryConnectionFinishes) { RunProfile(); }

INSTANTIATE_TEST_SUITE_P(
    Impairments, LossyTest,
    ::testing::Values(Profile{"clean", "seed=1"}, Profile{"loss_0_1", "loss=0.1%,seed=2"},
                      Profile{"loss_1", "loss=1%,seed=3"}, Profile{"loss_5", "loss=5%,seed=4"},
                      Profile{"loss_10", "loss=10%,seed=5", 100}, Profile{"burst", "burst=0.5%/30%,seed=6"},
                      Profile{"reorder_5", "reorder=5%,reorder_delay=300us,seed=7"}, Profile{"dup_1", "dup=1%,seed=8"},
                      Profile{"corrupt_0_1", "corrupt=0.1%,seed=9"},
                      Profile{"delay_rate", "delay=5ms,rate=200m,queue=200,seed=10", 50, 200000},
                      Profile{"loss_1_newreno", "loss=1%,seed=11", 200, 20000, CongestionAlgorithm::kNewReno},
                      Profile{"loss_2_no_sack", "loss=2%,seed=12", 200, 20000, CongestionAlgorithm::kCubic, false},
                      Profile{"loss_2_no_timestamps", "loss=2%,reorder=2%,seed=13", 200, 20000,
                              CongestionAlgorithm::kCubic, true, false},
                      Profile{"everything", "loss=1%,reorder=2%,dup=0.5%,corrupt=0.1%,delay=1ms,seed=14"},
                      // A path whose MTU (1,000) is below the ports' (1,500): every full-sized segment is
                      // dropped and answered with ICMP "fragmentation needed" until the senders adapt.
                      Profile{"path_mtu_1000", "mtu=1000,seed=15", 50, 100000},
                      Profile{"path_mtu_1000_loss_1", "mtu=1000,loss=1%,seed=16", 50, 100000}),
    [](const ::testing::TestParamInfo<Profile>& p) { return p.param.name; });

}  // namespace
}  // namespace synack
