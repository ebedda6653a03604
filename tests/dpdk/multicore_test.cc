// Several engines on one port with software dispatch, on real lcores: thousands of connections
// opened, used and closed; each lands on exactly one engine (the one its symmetric Toeplitz hash
// names), frames that arrive on the wrong queue travel over the dispatch rings, ARP reaches every
// engine, active opens pick source ports that hash back to the calling engine, and every mbuf
// returns to its pool.
#include <atomic>
#include <cstring>
#include <memory>
#include <vector>

#include <gtest/gtest.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "absl/strings/str_cat.h"
#include "lib/core/clock.h"
#include "lib/core/engine.h"
#include "lib/core/rss.h"
#include "lib/dev/port.h"
#include "lib/dev/ring_pair.h"
#include "tests/eal_env.h"
#include "tests/tcp_layer_peer.h"

namespace synack {
namespace {

const Ipv4Addr kClientIp = Ipv4Addr::Of(198, 18, 3, 1);
const Ipv4Addr kServerIp = Ipv4Addr::Of(198, 18, 3, 2);
constexpr uint16_t kEngines = 2;

struct Pools {
  rte_mempool* pkt;
  rte_mempool* indirect;
};

Pools MakePools(const std::string& name) {
  absl::StatusOr<rte_mempool*> p = CreateMbufPool(name, 8191);
  absl::StatusOr<rte_mempool*> i = CreateIndirectPool(name + "_ind", 4095);
  EXPECT_TRUE(p.ok() && i.ok());
  return {*p, *i};
}

// A server app: echoes what it reads and closes when the peer does; records whether each accepted
// flow belongs to this engine. Runs on its engine's lcore only.
struct EchoServer {
  Engine* engine = nullptr;
  const RssSteering* steering = nullptr;
  uint64_t accepted = 0;
  uint64_t misplaced = 0;
  void Handle(const Event& e) {
    TcpLayer& tcp = engine->tcp();
    switch (e.type) {
      case EventType::kAccepted: {
        ++accepted;
        std::optional<FlowKey> f = tcp.Flow(e.conn);
        if (!f || steering->OwnerOf(*f) != engine->index()) ++misplaced;
        [[fallthrough]];
      }
      case EventType::kReadable: {
        uint8_t buf[256];
        while (size_t n = tcp.RecvCopy(e.conn, MutableBytes(buf, sizeof(buf))))
          tcp.SendCopy(e.conn, ConstBytes(buf, n));
        break;
      }
      case EventType::kPeerClosed:
        tcp.Close(e.conn);
        break;
      default:
        break;
    }
  }
  void Poll(Instant now) {
    engine->PollOnce(now);
    Event ev[64];
    for (size_t n; (n = engine->tcp().PollEvents(ev)) > 0;) {
      for (size_t i = 0; i < n; ++i) Handle(ev[i]);
    }
  }
};

struct Worker {
  EchoServer* server;
  const TscClock* clock;
  std::atomic<bool>* stop;
};

int RunWorker(void* arg) {
  auto* w = static_cast<Worker*>(arg);
  while (!w->stop->load(std::memory_order_acquire)) w->server->Poll(w->clock->Now());
  for (int i = 0; i < 1000; ++i) w->server->Poll(w->clock->Now());
  return 0;
}

EngineConfig BaseConfig(uint16_t port, const MacAddr& mac, Ipv4Addr ip) {
  EngineConfig c;
  c.port_id = port;
  c.net.local = Ipv4Prefix{ip, 24};
  c.net.mac = mac;
  c.tcp.max_connections = 4096;
  c.tcp.max_time_wait = 8192;
  c.tcp.isn_key = RandomKey();
  c.tcp.tcp.msl = Duration::Milliseconds(100);  // short TIME-WAIT so the test can watch it end
  return c;
}

// Creates an engine set on `port`: engine j polls `rx[j]`, transmits on queue j, and dispatches
// through SP/SC rings. Rings are named after `name`.
std::vector<std::unique_ptr<Engine>> MakeEngines(const std::string& name, uint16_t port, const MacAddr& mac,
                                                 Ipv4Addr ip, const RssSteering& steering,
                                                 const std::vector<std::vector<uint16_t>>& rx,
                                                 const std::vector<Pools>& pools) {
  const uint16_t n = steering.engines();
  std::vector<std::vector<rte_ring*>> ring(n, std::vector<rte_ring*>(n, nullptr));  // ring[from][to]
  for (uint16_t a = 0; a < n; ++a) {
    for (uint16_t b = 0; b < n; ++b) {
      if (a == b) continue;
      ring[a][b] =
          rte_ring_create(absl::StrCat(name, a, b).c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      EXPECT_NE(ring[a][b], nullptr);
    }
  }
  std::vector<std::unique_ptr<Engine>> engines;
  for (uint16_t j = 0; j < n; ++j) {
    EngineConfig c = BaseConfig(port, mac, ip);
    c.queue_id = j;
    c.rx_queues = rx[j];
    c.dispatch.steering = &steering;
    c.dispatch.index = j;
    c.tcp.steering = &steering;
    c.tcp.engine_index = j;
    for (uint16_t k = 0; k < n; ++k) {
      c.dispatch.to.push_back(ring[j][k]);
      c.dispatch.from.push_back(ring[k][j]);
    }
    engines.push_back(std::make_unique<Engine>(c, pools[j].pkt, pools[j].indirect));
  }
  return engines;
}

TEST(MultiCore, ThousandsOfConnectionsOnTwoLcoresWithSoftwareDispatch) {
  ASSERT_GE(rte_lcore_count(), 2u) << "the test EAL must have two lcores (-l 0-1)";
  const unsigned worker_lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);

  absl::StatusOr<RingPair> rp = CreateRingPair("mc", kEngines, 4096);
  ASSERT_TRUE(rp.ok()) << rp.status();
  std::vector<Pools> server_pools = {MakePools("mc_s0"), MakePools("mc_s1")};
  Pools client_pool = MakePools("mc_c");

  // The client port has two queues (what the server's engines send on queue j arrives on queue j);
  // one client engine polls both and sends on queue 0, so every frame reaches the server on queue 0
  // and server engine 0 must hand half of them to engine 1.
  PortConfig pc;
  pc.port_id = rp->a;
  pc.rx_queues = pc.tx_queues = kEngines;
  pc.pool = client_pool.pkt;
  absl::StatusOr<PortInfo> client_port = ConfigurePort(pc);
  ASSERT_TRUE(client_port.ok()) << client_port.status();
  pc.port_id = rp->b;
  pc.pool = nullptr;
  pc.rx_pools = {server_pools[0].pkt, server_pools[1].pkt};
  const RssKey key = SymmetricRssKey();
  pc.rss_key.assign(key.begin(), key.end());
  absl::StatusOr<PortInfo> server_port = ConfigurePort(pc);
  ASSERT_TRUE(server_port.ok()) << server_port.status();
  EXPECT_FALSE(server_port->rss);  // net_ring has no RSS: software dispatch, and the report says why
  EXPECT_FALSE(server_port->rss_note.empty());

  const unsigned start_in_use[] = {rte_mempool_in_use_count(server_pools[0].pkt),
                                   rte_mempool_in_use_count(server_pools[1].pkt),
                                   rte_mempool_in_use_count(client_pool.pkt)};

  RssSteering steering(SymmetricRssKey(), kEngines);
  // Engine 1 polls no RX queue (as when a device has fewer queues than engines): it only gets frames
  // over the dispatch ring.
  auto servers = MakeEngines("mcs", rp->b, server_port->mac, kServerIp, steering, {{0}, {}}, server_pools);
  EngineConfig cc = BaseConfig(rp->a, client_port->mac, kClientIp);
  cc.rx_queues = {0, 1};
  auto client = std::make_unique<Engine>(cc, client_pool.pkt, client_pool.indirect);

  TscClock clock;
  std::vector<EchoServer> apps(kEngines);
  for (uint16_t j = 0; j < kEngines; ++j) {
    apps[j].engine = servers[j].get();
    apps[j].steering = &steering;
    servers[j]->Start(clock.Now());
    ASSERT_TRUE(servers[j]->tcp().Listen(7).ok());  // a listener on every engine
  }
  client->Start(clock.Now());

  std::atomic<bool> stop{false};
  Worker w{&apps[1], &clock, &stop};
  ASSERT_EQ(rte_eal_remote_launch(RunWorker, &w, worker_lcore), 0);

  // The client keeps up to 64 connections in flight; each sends 64 bytes, reads them back, closes.
  constexpr int kTotal = 3000;
  constexpr int kInFlight = 64;
  int started = 0, echoed = 0, failed = 0;
  const uint8_t msg[64] = {1, 2, 3, 4, 5, 6, 7, 8};
  struct Conn {
    uint32_t got = 0;
    FlowKey key;
  };
  absl::flat_hash_map<uint32_t, Conn> live;
  const Instant deadline = clock.Now() + Duration::Seconds(60);
  Event ev[64];
  while ((echoed + failed < kTotal || client->tcp().connections() > 0) && clock.Now() < deadline) {
    while (started < kTotal && static_cast<int>(live.size()) < kInFlight) {
      absl::StatusOr<ConnId> c = client->tcp().Connect(kServerIp, 7, Duration::Seconds(5));
      ASSERT_TRUE(c.ok()) << c.status();
      live[c->index] = Conn{0, *client->tcp().Flow(*c)};
      ++started;
    }
    const Instant now = clock.Now();
    client->PollOnce(now);
    apps[0].Poll(now);
    for (size_t n; (n = client->tcp().PollEvents(ev)) > 0;) {
      for (size_t i = 0; i < n; ++i) {
        const Event& e = ev[i];
        TcpLayer& tcp = client->tcp();
        if (e.type == EventType::kConnected) {
          ASSERT_EQ(tcp.SendCopy(e.conn, ConstBytes(msg, sizeof(msg))), sizeof(msg));
        } else if (e.type == EventType::kReadable) {
          uint8_t buf[128];
          Conn& c = live[e.conn.index];
          while (size_t k = tcp.RecvCopy(e.conn, MutableBytes(buf, sizeof(buf)))) {
            EXPECT_EQ(std::memcmp(buf, msg + c.got, k), 0);
            c.got += static_cast<uint32_t>(k);
          }
          if (c.got == sizeof(msg)) {
            ++echoed;
            live.erase(e.conn.index);
            tcp.Close(e.conn);  // the client closes first and holds TIME-WAIT
          }
        } else if (e.type == EventType::kClosed) {
          ++failed;
          live.erase(e.conn.index);
          ADD_FAILURE() << "connection failed: " << ErrorName(e.error);
        }
      }
    }
  }
  // Let the server side finish LAST-ACK and the client's TIME-WAIT (MSL 100 ms) run out.
  const Instant settle = clock.Now() + Duration::Milliseconds(500);
  while (clock.Now() < settle) {
    client->PollOnce(clock.Now());
    apps[0].Poll(clock.Now());
  }
  stop.store(true, std::memory_order_release);
  rte_eal_wait_lcore(worker_lcore);

  EXPECT_EQ(echoed, kTotal);
  EXPECT_EQ(failed, 0);
  for (const auto& [index, c] : live) {
    FlowKey sk{c.key.remote, c.key.local, c.key.remote_port, c.key.local_port};
    auto tcb = [](const TcpConnection* t) {
      if (t == nullptr) return std::string("none");
      return absl::StrCat(StateName(t->state()), " iss=", t->iss().raw(), " irs=", t->irs().raw(),
                          " snd_una=", t->snd_una().raw(), " rcv_nxt=", t->rcv_nxt().raw());
    };
    ADD_FAILURE() << "connection " << index << " port " << c.key.local_port << " stuck with " << c.got
                  << " bytes echoed; owner " << steering.OwnerOf(c.key) << "\n client "
                  << tcb(TcpLayerTestPeer::FindConnection(client->tcp(), c.key)) << "\n server0 "
                  << tcb(TcpLayerTestPeer::FindConnection(servers[0]->tcp(), sk)) << "\n server1 "
                  << tcb(TcpLayerTestPeer::FindConnection(servers[1]->tcp(), sk));
  }
  auto dump = [](const char* who, Engine& e) {
    std::string s;
    e.counters().ForEach([&](std::string_view n, uint64_t v) {
      if (v) absl::StrAppend(&s, " ", std::string(n), "=", v);
    });
    e.tcp().counters().ForEach([&](std::string_view n, uint64_t v) {
      if (v) absl::StrAppend(&s, " tcp.", std::string(n), "=", v);
    });
    const TcpCounters& t = e.tcp().tcp_counters();
    absl::StrAppend(&s, " retransmits=", t.retransmits, " segs_in=", t.segments_in, " unacceptable=", t.unacceptable,
                    " no_ack=", t.no_ack_flag, " ack_too_new=", t.ack_too_new, " ack_too_old=", t.ack_too_old,
                    " ooo=", t.out_of_order_dropped, " challenge=", t.challenge_acks, " rst_in=", t.resets_in);
    return absl::StrCat(who, ":", s);
  };
  if (echoed != kTotal) {
    ADD_FAILURE() << dump("client", *client) << "\n"
                  << dump("server0", *servers[0]) << "\n"
                  << dump("server1", *servers[1]);
  }
  EXPECT_EQ(apps[0].accepted + apps[1].accepted, static_cast<uint64_t>(kTotal));
  EXPECT_GT(apps[0].accepted, kTotal / 4u);  // both engines carry a real share
  EXPECT_GT(apps[1].accepted, kTotal / 4u);
  EXPECT_EQ(apps[0].misplaced + apps[1].misplaced, 0u);
  EXPECT_GT(servers[0]->counters().dispatched_out, 0u);  // engine 0 forwarded engine 1's frames
  EXPECT_EQ(servers[0]->counters().dispatched_out, servers[1]->counters().dispatched_in);
  EXPECT_GT(servers[1]->counters().arp_shared_rx, 0u);  // engine 1 learned the client's MAC via engine 0
  EXPECT_EQ(servers[0]->counters().drops[static_cast<size_t>(Drop::kDispatchRingFull)], 0u);
  for (auto& s : servers) {
    EXPECT_EQ(s->tcp().connections(), 0u);
    EXPECT_EQ(s->tcp().counters().resets_unmatched, 0u) << "a frame reached an engine that does not own it";
  }
  EXPECT_EQ(client->tcp().connections(), 0u);
  EXPECT_EQ(client->tcp().time_wait_entries(), 0u);

  client.reset();
  servers.clear();
  EXPECT_EQ(rte_mempool_in_use_count(server_pools[0].pkt), start_in_use[0]);
  EXPECT_EQ(rte_mempool_in_use_count(server_pools[1].pkt), start_in_use[1]);
  EXPECT_EQ(rte_mempool_in_use_count(client_pool.pkt), start_in_use[2]);
  EXPECT_EQ(rte_mempool_in_use_count(client_pool.indirect), 0u);
  ClosePort(rp->a);
  ClosePort(rp->b);
}

TEST(MultiCore, ActiveOpensPickPortsThatHashToTheCallingEngine) {
  absl::StatusOr<RingPair> rp = CreateRingPair("pp", kEngines, 4096);
  ASSERT_TRUE(rp.ok()) << rp.status();
  std::vector<Pools> client_pools = {MakePools("pp_c0"), MakePools("pp_c1")};
  std::vector<Pools> server_pools = {MakePools("pp_s0"), MakePools("pp_s1")};
  PortConfig pc;
  pc.rx_queues = pc.tx_queues = kEngines;
  pc.port_id = rp->a;
  pc.rx_pools = {client_pools[0].pkt, client_pools[1].pkt};
  absl::StatusOr<PortInfo> a = ConfigurePort(pc);
  ASSERT_TRUE(a.ok()) << a.status();
  pc.port_id = rp->b;
  pc.rx_pools = {server_pools[0].pkt, server_pools[1].pkt};
  absl::StatusOr<PortInfo> b = ConfigurePort(pc);
  ASSERT_TRUE(b.ok()) << b.status();
  RssSteering steering(SymmetricRssKey(), kEngines);
  auto clients = MakeEngines("ppc", rp->a, a->mac, kClientIp, steering, {{0}, {1}}, client_pools);
  auto servers = MakeEngines("pps", rp->b, b->mac, kServerIp, steering, {{0}, {1}}, server_pools);
  TscClock clock;
  for (auto* set : {&clients, &servers}) {
    for (auto& e : *set) e->Start(clock.Now());
  }
  for (auto& s : servers) ASSERT_TRUE(s->tcp().Listen(9).ok());
  // Each client engine opens 300 connections; the local port of every one hashes back to it, so the
  // server sees each on the matching engine without any forwarding of TCP frames.
  std::vector<std::vector<ConnId>> ids(kEngines);
  for (uint16_t j = 0; j < kEngines; ++j) {
    for (int i = 0; i < 300; ++i) {
      absl::StatusOr<ConnId> c = clients[j]->tcp().Connect(kServerIp, 9, Duration::Seconds(5));
      ASSERT_TRUE(c.ok()) << c.status();
      std::optional<FlowKey> f = clients[j]->tcp().Flow(*c);
      ASSERT_TRUE(f.has_value());
      ASSERT_EQ(steering.OwnerOf(*f), j) << "port " << f->local_port;
      ids[j].push_back(*c);
    }
  }
  uint64_t accepted[kEngines] = {};
  const Instant deadline = clock.Now() + Duration::Seconds(20);
  Event ev[64];
  while (accepted[0] + accepted[1] < 600 && clock.Now() < deadline) {
    for (uint16_t j = 0; j < kEngines; ++j) {
      clients[j]->PollOnce(clock.Now());
      servers[j]->PollOnce(clock.Now());
      for (size_t n; (n = servers[j]->tcp().PollEvents(ev)) > 0;) {
        for (size_t i = 0; i < n; ++i) accepted[j] += ev[i].type == EventType::kAccepted;
      }
      while (clients[j]->tcp().PollEvents(ev) > 0) {
      }
    }
  }
  EXPECT_EQ(accepted[0], 300u);
  EXPECT_EQ(accepted[1], 300u);
  for (uint16_t j = 0; j < kEngines; ++j) {
    for (ConnId c : ids[j]) EXPECT_EQ(clients[j]->tcp().State(c), TcpState::kEstablished);
    for (ConnId c : ids[j]) clients[j]->tcp().Abort(c);
  }
  for (int i = 0; i < 2000; ++i) {
    for (uint16_t j = 0; j < kEngines; ++j) {
      clients[j]->PollOnce(clock.Now());
      servers[j]->PollOnce(clock.Now());
    }
  }
  for (auto& s : servers) EXPECT_EQ(s->tcp().connections(), 0u);
  clients.clear();
  servers.clear();
  ClosePort(rp->a);
  ClosePort(rp->b);
}

}  // namespace
}  // namespace synack
