// TCP between two engines joined by a real net_ring port pair: handshakes, zero-copy echo of bulk data,
// both close orders, TIME-WAIT, thousands of connections, and every mbuf back in its pool afterwards.
#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <rte_mempool.h>

#include "absl/container/flat_hash_map.h"
#include "lib/core/engine.h"
#include "lib/dev/port.h"
#include "lib/dev/ring_pair.h"
#include "tests/eal_env.h"
#include "tests/echo.h"
#include "tests/tcp_layer_peer.h"

namespace synack {
namespace {

const Ipv4Addr kClientIp = Ipv4Addr::Of(198, 18, 2, 1);
const Ipv4Addr kServerIp = Ipv4Addr::Of(198, 18, 2, 2);

testing::RingPorts& SharedPorts() {
  static testing::RingPorts* p = new testing::RingPorts(testing::MakeRingPorts("tcp"));
  return *p;
}

class TcpPairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RingPorts& p = SharedPorts();
    pool_in_use_ = rte_mempool_in_use_count(testing::TestPool());
    indirect_in_use_ = rte_mempool_in_use_count(testing::TestIndirectPool());
    client_.emplace(Config(p.pair.a, p.a, kClientIp, 1), testing::TestPool(), testing::TestIndirectPool());
    server_.emplace(Config(p.pair.b, p.b, kServerIp, 2), testing::TestPool(), testing::TestIndirectPool());
    client_->Start(now_);
    server_->Start(now_);
    ASSERT_TRUE(server_->tcp().Listen(7).ok());
  }
  void TearDown() override {
    // Let TIME-WAIT and everything else run out, then drain the rings.
    Run(Duration::Seconds(70), Duration::Seconds(1));
    EXPECT_EQ(client_->tcp().connections(), 0u);
    EXPECT_EQ(server_->tcp().connections(), 0u);
    for (Engine* e : {&*client_, &*server_}) {
      EXPECT_EQ(TcpLayerTestPeer::PeerRefsTotal(e->tcp()), e->tcp().connections() + e->tcp().time_wait_entries());
    }
    client_.reset();
    server_.reset();
    EXPECT_EQ(rte_mempool_in_use_count(testing::TestPool()), pool_in_use_) << "mbufs leaked";
    EXPECT_EQ(rte_mempool_in_use_count(testing::TestIndirectPool()), indirect_in_use_) << "indirect mbufs leaked";
  }
  static EngineConfig Config(uint16_t port, const MacAddr& mac, Ipv4Addr ip, uint8_t key) {
    EngineConfig c;
    c.port_id = port;
    c.net.local = Ipv4Prefix{ip, 24};
    c.net.mac = mac;
    c.tcp.max_connections = 4096;
    c.tcp.max_time_wait = 4096;
    c.tcp.isn_key.fill(key);
    c.tcp.tcp.snd_buffer = 64 * 1024;
    c.tcp.tcp.rcv_buffer = 64 * 1024;
    return c;
  }

  // Polls both engines, advancing fake time by `step` per round, handling events with the handlers.
  void Run(Duration total, Duration step = Duration::Microseconds(10)) {
    const Instant end = now_ + total;
    while (now_ < end) {
      now_ = now_ + step;
      client_->PollOnce(now_);
      server_->PollOnce(now_);
      Drain();
    }
  }
  void RunUntil(const std::function<bool()>& done, int max_rounds = 200000) {
    for (int i = 0; i < max_rounds && !done(); ++i) {
      now_ = now_ + Duration::Microseconds(10);
      client_->PollOnce(now_);
      server_->PollOnce(now_);
      Drain();
    }
    ASSERT_TRUE(done()) << "condition not reached";
  }
  void Drain() {
    Event ev[64];
    for (size_t n; (n = server_->tcp().PollEvents(ev)) > 0;) {
      for (size_t i = 0; i < n; ++i) OnServerEvent(ev[i]);
    }
    for (size_t n; (n = client_->tcp().PollEvents(ev)) > 0;) {
      for (size_t i = 0; i < n; ++i) client_events_.push_back(ev[i]);
    }
  }
  // The server echoes zero-copy and closes when the peer does.
  void OnServerEvent(const Event& e) {
    TcpLayer& tcp = server_->tcp();
    ++server_event_counts_[e.type];
    if (e.type == EventType::kAccepted) server_accepted_.push_back(e.conn);
    switch (e.type) {
      case EventType::kAccepted:
      case EventType::kReadable:
      case EventType::kWritable: {
        testing::EchoAll(tcp, e.conn, server_backlog_[e.conn.index]);
        break;
      }
      case EventType::kPeerClosed:
        if (server_closes_on_peer_fin_) tcp.Close(e.conn);
        break;
      case EventType::kClosed:
        server_backlog_.erase(e.conn.index);
        break;
      default:
        break;
    }
  }
  size_t CountClient(EventType t) const {
    size_t n = 0;
    for (const Event& e : client_events_) n += e.type == t;
    return n;
  }
  // Replaces the client with one whose ephemeral ports are lo..hi, and connects on every one of them.
  std::vector<ConnId> ClientConnectedOnEveryEphemeralPort(uint16_t lo, uint16_t hi) {
    EngineConfig c = Config(SharedPorts().pair.a, SharedPorts().a, kClientIp, 1);
    c.tcp.ephemeral_lo = lo;
    c.tcp.ephemeral_hi = hi;
    client_.emplace(c, testing::TestPool(), testing::TestIndirectPool());
    client_->Start(now_);
    std::vector<ConnId> ids;
    for (int i = lo; i <= hi; ++i) {
      absl::StatusOr<ConnId> id = client_->tcp().Connect(kServerIp, 7);
      EXPECT_TRUE(id.ok()) << id.status();
      if (id.ok()) ids.push_back(*id);
    }
    RunUntil([&] { return CountClient(EventType::kConnected) == ids.size(); });
    return ids;
  }

  Instant now_ = Instant::FromNanoseconds(int64_t{5} * 1000000000);
  std::optional<Engine> client_, server_;
  std::vector<Event> client_events_;
  std::vector<ConnId> server_accepted_;
  absl::flat_hash_map<EventType, int> server_event_counts_;
  absl::flat_hash_map<uint32_t, Mbuf> server_backlog_;
  bool server_closes_on_peer_fin_ = true;
  unsigned pool_in_use_ = 0, indirect_in_use_ = 0;
};

TEST_F(TcpPairTest, ConnectEchoAndClose) {
  absl::StatusOr<ConnId> c = client_->tcp().Connect(kServerIp, 7);
  ASSERT_TRUE(c.ok()) << c.status();
  RunUntil([&] { return CountClient(EventType::kConnected) == 1; });
  EXPECT_EQ(client_->tcp().State(*c), TcpState::kEstablished);
  EXPECT_EQ(server_event_counts_[EventType::kAccepted], 1);

  // 300 KB through a 64 KB window, echoed back zero-copy by the server.
  std::vector<uint8_t> data(300 * 1000);
  std::mt19937 rng(7);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  std::vector<uint8_t> got;
  size_t sent = 0;
  RunUntil([&] {
    sent += client_->tcp().SendCopy(*c, ConstBytes(data.data() + sent, data.size() - sent));
    uint8_t buf[8192];
    while (size_t n = client_->tcp().RecvCopy(*c, MutableBytes(buf, sizeof(buf)))) got.insert(got.end(), buf, buf + n);
    return got.size() == data.size();
  });
  EXPECT_TRUE(got == data) << "echoed bytes differ";

  // Client closes first: it ends in TIME-WAIT (compact), the server's side goes through LAST-ACK.
  client_->tcp().Close(*c);
  RunUntil([&] { return server_->tcp().connections() == 0 && client_->tcp().connections() == 0; });
  EXPECT_EQ(client_->tcp().time_wait_entries(), 1u);
  EXPECT_EQ(server_event_counts_[EventType::kPeerClosed], 1);
  EXPECT_EQ(client_->tcp().tcp_counters().transitions_to(TcpState::kTimeWait), 1u);
  EXPECT_EQ(server_->tcp().tcp_counters().transitions_to(TcpState::kLastAck), 1u);
  Run(Duration::Seconds(61), Duration::Milliseconds(100));
  EXPECT_EQ(client_->tcp().time_wait_entries(), 0u);  // 2*MSL later
}

TEST_F(TcpPairTest, ServerClosesFirst) {
  server_closes_on_peer_fin_ = false;
  absl::StatusOr<ConnId> c = client_->tcp().Connect(kServerIp, 7);
  ASSERT_TRUE(c.ok());
  RunUntil([&] { return CountClient(EventType::kConnected) == 1; });
  ASSERT_EQ(server_accepted_.size(), 1u);
  client_->tcp().SendCopy(*c, ConstBytes(reinterpret_cast<const uint8_t*>("x"), 1));
  RunUntil([&] { return client_->tcp().Readable(*c) == 1; });  // echoed
  const ConnId server_conn = server_accepted_[0];
  EXPECT_EQ(server_->tcp().State(server_conn), TcpState::kEstablished);
  server_->tcp().Close(server_conn);  // the server closes first
  RunUntil([&] { return CountClient(EventType::kPeerClosed) == 1; });
  uint8_t buf[4];
  client_->tcp().RecvCopy(*c, MutableBytes(buf, 4));
  client_->tcp().Close(*c);
  RunUntil([&] { return server_->tcp().connections() == 0 && client_->tcp().connections() == 0; });
  EXPECT_EQ(server_->tcp().time_wait_entries(), 1u);
  EXPECT_EQ(client_->tcp().time_wait_entries(), 0u);
}

TEST_F(TcpPairTest, RefusedAndTimedOut) {
  absl::StatusOr<ConnId> c = client_->tcp().Connect(kServerIp, 9);  // nobody listens
  ASSERT_TRUE(c.ok());
  RunUntil([&] { return CountClient(EventType::kClosed) == 1; });
  EXPECT_EQ(client_events_.back().error, TcpError::kRefused);

  // Nothing answers at .77 (no ARP reply): the connect timeout ends it.
  absl::StatusOr<ConnId> t = client_->tcp().Connect(Ipv4Addr::Of(198, 18, 2, 77), 7, Duration::Milliseconds(500));
  ASSERT_TRUE(t.ok());
  Run(Duration::Seconds(1), Duration::Milliseconds(1));
  ASSERT_EQ(CountClient(EventType::kClosed), 2u);
  EXPECT_EQ(client_events_.back().error, TcpError::kTimedOut);

  // Without a connect timeout, ARP giving up (3 requests, 1 s apart) fails the connect as unreachable,
  // well before the SYN retry limit would.
  absl::StatusOr<ConnId> u = client_->tcp().Connect(Ipv4Addr::Of(198, 18, 2, 78), 7);
  ASSERT_TRUE(u.ok());
  Run(Duration::Seconds(5), Duration::Milliseconds(1));
  ASSERT_EQ(CountClient(EventType::kClosed), 3u);
  EXPECT_EQ(client_events_.back().conn, *u);
  EXPECT_EQ(client_events_.back().error, TcpError::kUnreachable);
  EXPECT_EQ(client_->tcp().State(*u), TcpState::kClosed);

  EXPECT_FALSE(client_->tcp().Connect(Ipv4Addr::Of(198, 19, 0, 1), 7).ok());  // no route
  EXPECT_FALSE(server_->tcp().Listen(7).ok());                                // already listening
}

TEST_F(TcpPairTest, ConnectReusesOldTimeWaitPortsOnlyWhenNoneIsFree) {
  // Three ephemeral ports only: three connections closed by the client leave them all in TIME-WAIT.
  EngineConfig c = Config(SharedPorts().pair.a, SharedPorts().a, kClientIp, 1);
  c.tcp.ephemeral_lo = 40000;
  c.tcp.ephemeral_hi = 40002;
  client_.emplace(c, testing::TestPool(), testing::TestIndirectPool());
  client_->Start(now_);
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<ConnId> id = client_->tcp().Connect(kServerIp, 7);
    ASSERT_TRUE(id.ok()) << id.status();
    RunUntil([&] { return CountClient(EventType::kConnected) == static_cast<size_t>(i + 1); });
    client_->tcp().Close(*id);
    RunUntil([&] { return client_->tcp().connections() == 0 && server_->tcp().connections() == 0; });
  }
  ASSERT_EQ(client_->tcp().time_wait_entries(), 3u);
  // Every port is in a TIME-WAIT younger than a second: refused, with the reason.
  absl::StatusOr<ConnId> early = client_->tcp().Connect(kServerIp, 7);
  ASSERT_FALSE(early.ok());
  EXPECT_NE(early.status().message().find("out of ephemeral ports"), std::string::npos);

  // A second later (timestamps are on) the oldest 4-tuple is taken over, and the connection works.
  Run(Duration::Milliseconds(1100), Duration::Milliseconds(1));
  absl::StatusOr<ConnId> reused = client_->tcp().Connect(kServerIp, 7);
  ASSERT_TRUE(reused.ok()) << reused.status();
  EXPECT_EQ(client_->tcp().counters().time_wait_reused_by_connect, 1u);
  EXPECT_EQ(client_->tcp().time_wait_entries(), 2u);
  // Its TIME-WAIT ended there: one residency, of at least the second the reuse rule asks for.
  const LogHistogram& residency = client_->tcp().tcp_counters().phases.time_wait;
  EXPECT_EQ(residency.count(), 1u);
  EXPECT_GE(residency.sum_us, 1'000'000u);
  EXPECT_LT(residency.sum_us, 2'000'000u);
  RunUntil([&] { return CountClient(EventType::kConnected) == 4; });
  ASSERT_TRUE(client_->tcp().SendCopy(*reused, ConstBytes(reinterpret_cast<const uint8_t*>("x"), 1)) == 1);
  RunUntil([&] { return client_->tcp().Readable(*reused) == 1; });  // echoed
  uint8_t b;
  client_->tcp().RecvCopy(*reused, MutableBytes(&b, 1));
  client_->tcp().Close(*reused);
  RunUntil([&] { return client_->tcp().connections() == 0 && server_->tcp().connections() == 0; });
}

TEST_F(TcpPairTest, ConnectTakesOverTheOldestTimeWaitWhenEveryPortIsBusy) {
  // Twelve ephemeral ports, all connected at once, then closed from the highest port down: the TIME-WAIT
  // store holds them oldest first from 40011 to 40000. A second later every port is busy, and the
  // connect takes the oldest 4-tuple (40011) from the head of the store, not the first busy port its
  // scan passes (40000).
  std::vector<ConnId> ids = ClientConnectedOnEveryEphemeralPort(40000, 40011);
  ASSERT_EQ(ids.size(), 12u);
  ASSERT_EQ(CountClient(EventType::kConnected), 12u);
  std::sort(ids.begin(), ids.end(), [&](ConnId a, ConnId b) {
    return client_->tcp().Flow(a)->local_port > client_->tcp().Flow(b)->local_port;
  });
  ASSERT_EQ(client_->tcp().Flow(ids.front())->local_port, 40011);
  for (ConnId id : ids) {
    client_->tcp().Close(id);
    Run(Duration::Milliseconds(5), Duration::Milliseconds(1));  // each reaches TIME-WAIT before the next
  }
  RunUntil([&] { return client_->tcp().connections() == 0 && server_->tcp().connections() == 0; });
  ASSERT_EQ(client_->tcp().time_wait_entries(), 12u);

  Run(Duration::Milliseconds(1100), Duration::Milliseconds(1));
  absl::StatusOr<ConnId> reused = client_->tcp().Connect(kServerIp, 7);
  ASSERT_TRUE(reused.ok()) << reused.status();
  EXPECT_EQ(client_->tcp().Flow(*reused)->local_port, 40011);
  EXPECT_EQ(client_->tcp().counters().time_wait_reused_by_connect, 1u);
  EXPECT_EQ(client_->tcp().time_wait_entries(), 11u);
  RunUntil([&] { return CountClient(EventType::kConnected) == 13; });
  client_->tcp().Close(*reused);
  RunUntil([&] { return client_->tcp().connections() == 0 && server_->tcp().connections() == 0; });
}

TEST_F(TcpPairTest, SaturatedConnectsTakeTheOldestTimeWaitFirstAndEverySixteenthScansForFreedPorts) {
  // Twenty ephemeral ports: nineteen in TIME-WAIT, one (40008) live. A second later the first connect
  // scans 40000-40007 (busy), takes the head of the store, and leaves its cursor at 40008. Then 40008 is
  // aborted (no TIME-WAIT): it is free. Connects 2-16 of the saturated run ask the head of the store
  // first and take TIME-WAIT entries; the 17th scans first again and finds 40008.
  std::vector<ConnId> ids = ClientConnectedOnEveryEphemeralPort(40000, 40019);
  ASSERT_EQ(ids.size(), 20u);
  ASSERT_EQ(CountClient(EventType::kConnected), 20u);
  std::optional<ConnId> kept;
  for (ConnId id : ids) {
    if (client_->tcp().Flow(id)->local_port == 40008) {
      kept = id;
    } else {
      client_->tcp().Close(id);
    }
  }
  ASSERT_TRUE(kept.has_value());
  RunUntil([&] { return client_->tcp().connections() == 1 && server_->tcp().connections() == 1; });
  ASSERT_EQ(client_->tcp().time_wait_entries(), 19u);
  Run(Duration::Milliseconds(1100), Duration::Milliseconds(1));

  std::vector<uint16_t> ports;
  std::vector<ConnId> opened;
  absl::StatusOr<ConnId> first = client_->tcp().Connect(kServerIp, 7);
  ASSERT_TRUE(first.ok()) << first.status();
  ports.push_back(client_->tcp().Flow(*first)->local_port);
  opened.push_back(*first);
  client_->tcp().Abort(*kept);
  EXPECT_EQ(client_->tcp().time_wait_entries(), 18u);  // the abort left no TIME-WAIT entry
  for (int i = 2; i <= 17; ++i) {
    absl::StatusOr<ConnId> id = client_->tcp().Connect(kServerIp, 7);
    ASSERT_TRUE(id.ok()) << i << ": " << id.status();
    ports.push_back(client_->tcp().Flow(*id)->local_port);
    opened.push_back(*id);
  }
  for (size_t i = 0; i < 16; ++i) EXPECT_NE(ports[i], 40008) << "connect " << i + 1 << " took the free port";
  EXPECT_EQ(ports[16], 40008) << "the 17th connect scans first and finds the port freed by the abort";
  EXPECT_EQ(client_->tcp().counters().time_wait_reused_by_connect, 16u);
  EXPECT_EQ(client_->tcp().time_wait_entries(), 3u);
  RunUntil([&] { return CountClient(EventType::kConnected) == 37; });
  for (ConnId id : opened) client_->tcp().Close(id);
  RunUntil([&] { return client_->tcp().connections() == 0 && server_->tcp().connections() == 0; });
}

TEST_F(TcpPairTest, ThousandsOfConnections) {
  constexpr int kTotal = 3000;
  constexpr int kConcurrent = 200;
  int opened = 0, completed = 0;
  absl::flat_hash_map<uint32_t, ConnId> live;
  for (int round = 0; round < 400000 && completed < kTotal; ++round) {
    while (opened < kTotal && static_cast<int>(live.size()) < kConcurrent) {
      absl::StatusOr<ConnId> c = client_->tcp().Connect(kServerIp, 7);
      ASSERT_TRUE(c.ok()) << c.status();
      live[c->index] = *c;
      ++opened;
    }
    now_ = now_ + Duration::Microseconds(10);
    client_->PollOnce(now_);
    server_->PollOnce(now_);
    Event ev[64];
    for (size_t n; (n = server_->tcp().PollEvents(ev)) > 0;) {
      for (size_t i = 0; i < n; ++i) OnServerEvent(ev[i]);
    }
    for (size_t n; (n = client_->tcp().PollEvents(ev)) > 0;) {
      for (size_t i = 0; i < n; ++i) {
        const Event& e = ev[i];
        if (e.type == EventType::kConnected) {
          ASSERT_EQ(client_->tcp().SendCopy(e.conn, ConstBytes(reinterpret_cast<const uint8_t*>("ping"), 4)), 4u);
        } else if (e.type == EventType::kReadable) {
          uint8_t buf[8];
          if (client_->tcp().RecvCopy(e.conn, MutableBytes(buf, 8)) == 4) {
            EXPECT_EQ(std::memcmp(buf, "ping", 4), 0);
            client_->tcp().Close(e.conn);
            live.erase(e.conn.index);
            ++completed;
          }
        } else if (e.type == EventType::kClosed) {
          ADD_FAILURE() << "connection failed: " << ErrorName(e.error);
          live.erase(e.conn.index);
        }
      }
    }
  }
  EXPECT_EQ(completed, kTotal);
  RunUntil([&] { return server_->tcp().connections() == 0 && client_->tcp().connections() == 0; });
  EXPECT_EQ(client_->tcp().time_wait_entries(), static_cast<size_t>(kTotal));
  EXPECT_EQ(server_->tcp().counters().accepted, static_cast<uint64_t>(kTotal));
  EXPECT_EQ(client_->tcp().counters().resets_unmatched + server_->tcp().counters().resets_unmatched, 0u);
}

}  // namespace
}  // namespace synack
