// Live telemetry through this test binary's own DPDK telemetry socket: two engines over a net_ring pair with
// connections open publish snapshots as fake time passes; a registered source answers every /synack/
// command from them (connections listed with their state, listeners with their SYNs, counters per engine
// and summed, TIME-WAIT); without a live source, or for a bad engine, the answer is an error dict; and
// sources registered and destroyed over and over while another thread queries without pause never crash
// it (the registry's lock keeps a command and a source's destruction apart).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rte_eal.h>

#include "lib/api/telemetry.h"
#include "lib/core/engine.h"
#include "tests/eal_env.h"

namespace synack {
namespace {

const Ipv4Addr kClientIp = Ipv4Addr::Of(198, 18, 4, 1);
const Ipv4Addr kServerIp = Ipv4Addr::Of(198, 18, 4, 2);

// A client of DPDK's telemetry socket (the protocol of usertools/dpdk-telemetry.py).
class TelemetryClient {
 public:
  TelemetryClient() {
    const std::string path = std::string(rte_eal_get_runtime_dir()) + "/dpdk_telemetry.v2";
    fd_ = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ADD_FAILURE() << "connect(" << path << ") failed";
      close(fd_);
      fd_ = -1;
      return;
    }
    hello_ = Receive();
  }
  ~TelemetryClient() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0 && hello_.find("max_output_len") != std::string::npos; }
  std::string Query(const std::string& cmd) {
    if (fd_ < 0 || send(fd_, cmd.data(), cmd.size(), 0) != static_cast<ssize_t>(cmd.size())) return "";
    return Receive();
  }

 private:
  std::string Receive() {
    std::string buf(16384, '\0');
    const ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }
  int fd_ = -1;
  std::string hello_;
};

bool Has(const std::string& reply, const std::string& part) { return reply.find(part) != std::string::npos; }

// How often `part` occurs in `s`.
size_t Count(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + part.size())) ++n;
  return n;
}

testing::RingPorts& SharedPorts() {
  static testing::RingPorts* p = new testing::RingPorts(testing::MakeRingPorts("tlm"));
  return *p;
}

EngineConfig Config(uint16_t port, const MacAddr& mac, Ipv4Addr ip, uint8_t key) {
  EngineConfig c;
  c.port_id = port;
  c.net.local = Ipv4Prefix{ip, 24};
  c.net.mac = mac;
  c.tcp.max_connections = 256;
  c.tcp.max_time_wait = 256;
  c.tcp.isn_key.fill(key);
  return c;
}

class TelemetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RingPorts& p = SharedPorts();
    client_ =
        std::make_unique<Engine>(Config(p.pair.a, p.a, kClientIp, 1), testing::TestPool(), testing::TestIndirectPool());
    server_ =
        std::make_unique<Engine>(Config(p.pair.b, p.b, kServerIp, 2), testing::TestPool(), testing::TestIndirectPool());
    client_->Start(now_);
    server_->Start(now_);
  }
  void TearDown() override {
    // Whatever is still open is reset; then the rings drain.
    for (ConnId id : accepted_) server_->tcp().Abort(id);
    for (ConnId id : connected_) client_->tcp().Abort(id);
    Run(Duration::Milliseconds(50));
    client_.reset();
    server_.reset();
  }
  void Run(Duration total) {
    const Instant end = now_ + total;
    Event ev[64];
    while (now_ < end) {
      now_ = now_ + Duration::Microseconds(100);
      client_->PollOnce(now_);
      server_->PollOnce(now_);
      for (size_t n; (n = server_->tcp().PollEvents(ev)) > 0;) {
        for (size_t i = 0; i < n; ++i) {
          if (ev[i].type == EventType::kAccepted) accepted_.push_back(ev[i].conn);
        }
      }
      for (size_t n; (n = client_->tcp().PollEvents(ev)) > 0;) {
        for (size_t i = 0; i < n; ++i) {
          if (ev[i].type == EventType::kConnected) connected_.push_back(ev[i].conn);
        }
      }
    }
  }
  std::unique_ptr<TelemetryRegistration> Register() {
    TelemetrySource s;
    s.kind = "test";
    s.dispatch = "2 engines polled by the test";
    s.ports = {"ring pair tlm"};
    s.engines = {{client_.get(), "client"}, {server_.get(), "server"}};
    return TelemetryRegistration::Register(std::move(s));
  }

  Instant now_ = Instant::FromNanoseconds(1000000);
  std::unique_ptr<Engine> client_;
  std::unique_ptr<Engine> server_;
  std::vector<ConnId> accepted_, connected_;
};

TEST_F(TelemetryTest, CommandsAnswerFromTheEnginesSnapshots) {
  ASSERT_TRUE(server_->tcp().Listen(7).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client_->tcp().Connect(kServerIp, 7).ok());
  Run(Duration::Milliseconds(300));  // handshakes, then at least two snapshots on each engine
  ASSERT_EQ(connected_.size(), 5u);
  ASSERT_EQ(accepted_.size(), 5u);
  EXPECT_GE(client_->telemetry().publishes(), 2u);

  std::unique_ptr<TelemetryRegistration> reg = Register();
  TelemetryClient tel;
  ASSERT_TRUE(tel.ok());

  const std::string info = tel.Query("/synack/info");
  EXPECT_TRUE(Has(info, "\"engines\":2")) << info;
  EXPECT_TRUE(Has(info, "\"engine_role\":[\"client\",\"server\"]")) << info;
  EXPECT_TRUE(Has(info, "\"engine_address\":[\"198.18.4.1/24\",\"198.18.4.2/24\"]")) << info;
  EXPECT_TRUE(Has(info, "\"kind\":\"test\"")) << info;

  const std::string conns = tel.Query("/synack/conns");
  EXPECT_TRUE(Has(conns, "\"connections\":10,\"listed\":10,\"truncated\":0")) << conns;
  EXPECT_EQ(Count(conns, "\"ESTABLISHED\""), 10u) << conns;
  EXPECT_TRUE(Has(conns, "\"198.18.4.2:7\"")) << conns;
  const std::string server_conns = tel.Query("/synack/conns,1");
  EXPECT_TRUE(Has(server_conns, "\"engine\":\"1\",\"connections\":5,\"listed\":5")) << server_conns;
  EXPECT_TRUE(Has(server_conns, "\"local\":[\"198.18.4.2:7\",")) << server_conns;

  const std::string listeners = tel.Query("/synack/listeners");
  EXPECT_TRUE(Has(listeners, "\"listeners\":1,\"listed\":1,\"half_open\":0")) << listeners;
  EXPECT_TRUE(Has(listeners, "\"port\":[7]")) << listeners;
  EXPECT_TRUE(Has(listeners, "\"syn_received\":[5]")) << listeners;

  const std::string all = tel.Query("/synack/counters");
  EXPECT_TRUE(Has(all, "\"engine\":\"all\"")) << all;
  EXPECT_TRUE(Has(all, "\"tcp/connected\":5")) << all;
  EXPECT_TRUE(Has(all, "\"tcp/accepted\":5")) << all;
  EXPECT_TRUE(Has(all, "\"tcp/transitions/SYN_SENT/ESTABLISHED\":5")) << all;
  EXPECT_TRUE(Has(all, "\"drop/")) << all;
  const std::string client = tel.Query("/synack/counters,0");
  EXPECT_TRUE(Has(client, "\"tcp/connected\":5")) << client;
  EXPECT_TRUE(Has(client, "\"tcp/accepted\":0")) << client;
  EXPECT_TRUE(Has(tel.Query("/synack/counters,2"), "\"error\":\"no engine '2'")) << "bad engine";
  EXPECT_TRUE(Has(tel.Query("/synack/conns,x"), "\"error\"")) << "bad engine";

  // Phases: the client's five opens are active, the server's passive, every one timed.
  const std::string lat = tel.Query("/synack/latency");
  EXPECT_TRUE(Has(lat, "\"engine\":\"all\"")) << lat;
  EXPECT_TRUE(Has(lat, "\"established\":10,\"cookie_opens\":0")) << lat;
  EXPECT_TRUE(Has(lat, "\"phase\":[\"open_passive\",\"open_active\",\"lifetime\",\"close\",\"time_wait\"]")) << lat;
  EXPECT_TRUE(Has(lat, "\"count\":[5,5,0,0,0]")) << lat;
  EXPECT_TRUE(Has(lat, "\"upper_bounds_us\":[1,2,4,8,16,")) << lat;
  EXPECT_TRUE(Has(tel.Query("/synack/latency,0"), "\"count\":[0,5,0,0,0]"));
  EXPECT_TRUE(Has(tel.Query("/synack/latency,1"), "\"count\":[5,0,0,0,0]"));
  EXPECT_TRUE(Has(tel.Query("/synack/latency,2"), "\"error\":\"no engine '2'")) << "bad engine";

  // The client closes first: its side ends in TIME-WAIT.
  for (ConnId id : connected_) client_->tcp().Close(id);
  for (ConnId id : accepted_) server_->tcp().Close(id);
  connected_.clear();
  accepted_.clear();
  Run(Duration::Milliseconds(1200));
  const std::string tw = tel.Query("/synack/timewait,0");
  EXPECT_TRUE(Has(tw, "\"count\":5,\"oldest_ms\":1")) << tw;  // ~1.1 s old
  EXPECT_TRUE(Has(tw, "\"age_histogram\":[0,5,0,0,0,0,0,0]")) << tw;
  EXPECT_TRUE(Has(tel.Query("/synack/conns"), "\"connections\":0,\"listed\":0,\"truncated\":0"));
  // Both sides' lifetimes and closes: the client's close ends in TIME-WAIT, the server's in CLOSED.
  EXPECT_TRUE(Has(tel.Query("/synack/latency,0"), "\"count\":[0,5,5,5,0]"));
  EXPECT_TRUE(Has(tel.Query("/synack/latency,1"), "\"count\":[5,0,5,5,0]"));
  // 2*MSL later the client's compact TIME-WAIT entries expire from the store: five residencies of 60 s,
  // in the bucket [2^25, 2^26) µs.
  for (int i = 0; i < 6000; ++i) {
    now_ = now_ + Duration::Milliseconds(10);
    client_->PollOnce(now_);
    server_->PollOnce(now_);
  }
  EXPECT_TRUE(Has(tel.Query("/synack/timewait,0"), "\"count\":0"));
  const std::string client_lat = tel.Query("/synack/latency,0");
  EXPECT_TRUE(Has(client_lat, "\"count\":[0,5,5,5,5]")) << client_lat;
  EXPECT_TRUE(Has(client_lat, "\"time_wait\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,5,0,")) << client_lat;

  reg.reset();
  EXPECT_TRUE(Has(tel.Query("/synack/info"), "\"error\":\"no live synack stack in this process\""));
}

TEST_F(TelemetryTest, SourcesComeAndGoWhileAnotherThreadQueries) {
  Run(Duration::Milliseconds(150));
  std::atomic<bool> stop{false};
  std::atomic<int> answers{0}, bad{0};
  std::thread reader([&] {
    TelemetryClient tel;
    if (!tel.ok()) {
      bad = 1;
      return;
    }
    const char* cmds[] = {"/synack/info", "/synack/counters", "/synack/conns", "/synack/listeners",
                          "/synack/timewait,1"};
    for (int i = 0; !stop.load(); ++i) {
      const std::string r = tel.Query(cmds[i % 5]);
      if (!Has(r, "\"engine") && !Has(r, "\"error\"")) ++bad;
      ++answers;
    }
  });
  // Sources registered, stacked (the newest answers) and destroyed, over and over.
  for (int i = 0; i < 300; ++i) {
    std::unique_ptr<TelemetryRegistration> a = Register();
    std::unique_ptr<TelemetryRegistration> b = Register();
    EXPECT_EQ(TelemetrySources(), 2u);
    a.reset();
    std::this_thread::yield();
    b.reset();
    if (i % 10 == 0) Run(Duration::Milliseconds(1));  // the engines publish meanwhile
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (answers.load() < 50 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GE(answers.load(), 50);
  EXPECT_EQ(TelemetrySources(), 0u);
}

}  // namespace
}  // namespace synack
