// Memory accounting by mbuf, not by payload byte: a peer cannot pin the engine's pool with tiny or
// wasteful segments, and when the pool runs low the engine degrades in levels while still processing
// control segments (ACK, RST, ARP, ping). Each test runs the layer on a pool of its own, with the test
// as the peer on the wire (tests/wire_peer.h), and checks every mbuf is back at the end.
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <rte_mempool.h>

#include "lib/core/tcp_layer.h"
#include "lib/dev/port.h"
#include "tests/eal_env.h"
#include "tests/frames.h"
#include "tests/wire_peer.h"

namespace synack {
namespace {

using namespace tcp_flags;
using testing::Bytes;
using testing::SentSegment;
using testing::TcpFields;
using testing::WirePeer;

constexpr uint16_t kPort = 7;
constexpr uint16_t kPeerPort = 41000;

TcpFields Fields(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window, uint16_t src_port = kPeerPort) {
  return testing::PeerFields(kPort, flags, seq, ack, window, src_port);
}

class TcpMemoryTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (peer_) {
      peer_->DropSent();
      peer_.reset();
    }
    if (pool_ != nullptr) {
      EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u) << "mbufs leaked";
      rte_mempool_free(pool_);
    }
  }
  void Start(uint32_t pool_size, TcpLayerConfig c = {}) {
    static int serial = 0;
    absl::StatusOr<rte_mempool*> p = CreateMbufPool("memtest" + std::to_string(serial++), pool_size);
    ASSERT_TRUE(p.ok()) << p.status();
    pool_ = *p;
    c.max_connections = 64;
    c.max_time_wait = 64;
    c.isn_key.fill(3);
    c.tcp.timestamps = false;
    c.tcp.sack_permitted = false;
    c.tcp.window_scale = 0;
    peer_.emplace(c, pool_);
    ASSERT_TRUE(peer_->tcp().Listen(kPort).ok());
  }
  struct Conn {
    uint16_t port;
    uint32_t iss;
    uint32_t peer_nxt;
    ConnId id;
  };
  Conn Open(uint16_t src_port, uint32_t peer_isn, uint16_t window = 65535) {
    peer_->Inject(Fields(kSyn, peer_isn, 0, window, src_port));
    std::optional<SentSegment> synack = peer_->SentOne();
    EXPECT_TRUE(synack && synack->seg.flags == (kSyn | kAck));
    Conn c{src_port, synack ? synack->seg.seq.raw() : 0, peer_isn + 1, ConnId{}};
    peer_->Inject(Fields(kAck, c.peer_nxt, c.iss + 1, window, src_port));
    for (const Event& e : peer_->Events()) {
      if (e.type == EventType::kAccepted) c.id = e.conn;
    }
    EXPECT_EQ(peer_->tcp().State(c.id), TcpState::kEstablished);
    return c;
  }
  unsigned InUse() const { return rte_mempool_in_use_count(pool_); }

  rte_mempool* pool_ = nullptr;
  std::optional<WirePeer> peer_;
};

// The attack from the issue: window 0 from the peer, 20,000 one-byte segments, and an echo server that
// reads each byte and sends it back (into the closed window). Before: one mbuf pinned per byte on each
// side until the pool was gone and the engine deaf. Now: the bytes share buffers on both queues.
TEST_F(TcpMemoryTest, ZeroWindowTrickleToAnEchoServerCannotDrainThePool) {
  Start(4095);
  Conn c = Open(kPeerPort, 1000, 0);
  unsigned peak = 0;
  for (int i = 0; i < 20000; ++i) {
    peer_->Inject(Fields(kAck | kPsh, c.peer_nxt, c.iss + 1, 0), Bytes{static_cast<uint8_t>(i)});
    c.peer_nxt += 1;
    for (const Event& e : peer_->Events()) {  // echo, zero-copy
      if (e.type != EventType::kReadable) continue;
      while (Mbuf m = peer_->tcp().Recv(e.conn)) ASSERT_EQ(peer_->tcp().Send(e.conn, std::move(m)), SendStatus::kOk);
    }
    if (i % 1000 == 0) peer_->Advance(Duration::Milliseconds(1));
    peer_->DropSent();
    peak = std::max(peak, InUse());
  }
  EXPECT_EQ(peer_->tcp().State(c.id), TcpState::kEstablished);
  const auto [rcv_mem, snd_mem] = peer_->tcp().QueueMemory(c.id);
  EXPECT_LE(snd_mem, 20u * 2304u);  // 20,000 bytes in ~11 buffers, not 20,000
  EXPECT_LE(peak, 64u) << "mbufs pinned by a one-byte trickle";
  EXPECT_GT(peer_->tcp().counters().tx_coalesced, 19000u);
  // The engine still works: ping, and a new client is served.
  EXPECT_TRUE(peer_->Ping(1));
  Conn fresh = Open(kPeerPort + 1, 90000);
  peer_->Inject(Fields(kAck | kPsh, fresh.peer_nxt, fresh.iss + 1, 65535, fresh.port), Bytes(100, 'x'));
  EXPECT_EQ(peer_->tcp().Readable(fresh.id), 100u);
  // The attacker's RST frees everything it pinned.
  peer_->Inject(Fields(kRst, c.peer_nxt, 0, 0));
  EXPECT_EQ(peer_->tcp().State(c.id), TcpState::kClosed);
}

TEST_F(TcpMemoryTest, UnreadTrickleSharesBuffersInTheReceiveQueue) {
  Start(4095);
  Conn c = Open(kPeerPort, 1000);
  const unsigned before = InUse();
  for (int i = 0; i < 20000; ++i) {
    peer_->Inject(Fields(kAck | kPsh, c.peer_nxt, c.iss + 1, 65535), Bytes{static_cast<uint8_t>(i)});
    c.peer_nxt += 1;
    peer_->DropSent();
  }
  EXPECT_EQ(peer_->tcp().Readable(c.id), 20000u);
  EXPECT_LE(InUse() - before, 16u);  // ~1,900 one-byte payloads per buffer
  EXPECT_GT(peer_->tcp().counters().rx_coalesced, 19900u);
  // Every byte arrives, in order.
  Mbuf m = peer_->tcp().Recv(c.id);
  ASSERT_TRUE(m);
  ASSERT_EQ(m.pkt_len(), 20000u);
  Bytes got(20000);
  const uint8_t* p = static_cast<const uint8_t*>(rte_pktmbuf_read(m.get(), 0, 20000, got.data()));
  for (int i = 0; i < 20000; ++i) ASSERT_EQ(p[i], static_cast<uint8_t>(i)) << i;
}

// Segments that cost much more memory than they carry (here ~1,100 bytes in a 2 KB buffer, too big to
// share one) shrink the window with the memory left, and beyond the budget are dropped.
TEST_F(TcpMemoryTest, WastefulSegmentsAreBoundedByTheMemoryBudget) {
  TcpLayerConfig cfg;
  cfg.tcp.rcv_buffer = 64 * 1024;  // memory budget: 128 KiB
  Start(4095, cfg);
  Conn c = Open(kPeerPort, 1000);
  uint16_t last_window = 65535;
  for (int i = 0; i < 200; ++i) {  // the peer ignores our window
    peer_->Inject(Fields(kAck | kPsh, c.peer_nxt + i * 1100u, c.iss + 1, 65535), Bytes(1100, 'm'));
    for (const SentSegment& s : peer_->Sent()) last_window = s.seg.window;
  }
  const auto [rcv_mem, snd_mem] = peer_->tcp().QueueMemory(c.id);
  EXPECT_LE(rcv_mem, 128u * 1024);
  EXPECT_GT(rcv_mem, 100u * 1024);
  EXPECT_GT(peer_->tcp().tcp_counters().rcv_mem_dropped, 0u);
  EXPECT_LT(last_window, 8u * 1024) << "the window should have closed with the memory";
  // Reading frees the memory and reopens the window.
  Mbuf m = peer_->tcp().Recv(c.id);
  EXPECT_TRUE(m);
  m.reset();
  EXPECT_EQ(peer_->tcp().QueueMemory(c.id).first, 0u);
}

// Many connections together can still exhaust a small pool: the engine degrades in levels and never
// loses the ability to process control segments.
TEST_F(TcpMemoryTest, PressureLevelsClampWindowsDropPayloadAndRefuseConnections) {
  Start(1023);  // 1/4 free = 255, 1/8 = 127, 1/16 = 63
  std::vector<Conn> conns;
  for (uint16_t i = 0; i < 8; ++i) conns.push_back(Open(kPeerPort + i, 1000 + i * 1000000u));
  // Right edge (ACK + window) each connection advertised: under pressure it may grow by at most the
  // clamp beyond where it stood when the pressure began (windows are never shrunk, only not extended).
  std::map<uint16_t, uint32_t> edge, edge_at_low;
  uint32_t acks_under_pressure = 0;
  for (int round = 0; round < 400 && peer_->tcp().pressure() < MemoryPressure::kCritical; ++round) {
    const bool low = peer_->tcp().pressure() >= MemoryPressure::kLow;
    if (low && edge_at_low.empty()) edge_at_low = edge;
    for (Conn& c : conns) {
      peer_->Inject(Fields(kAck | kPsh, c.peer_nxt, c.iss + 1, 65535, c.port), Bytes(1400, 'p'));
      c.peer_nxt += 1400;
    }
    for (const SentSegment& s : peer_->Sent()) {
      const uint32_t right = s.seg.ack.raw() + s.seg.window;
      if (low) {
        ++acks_under_pressure;
        EXPECT_LE(right - edge_at_low[s.seg.dst_port], 4u * 1460) << "window extended under pressure";
      }
      edge[s.seg.dst_port] = std::max(edge[s.seg.dst_port], right);
    }
    peer_->Advance(Duration::Milliseconds(50));  // delayed ACKs go out
    for (const SentSegment& s : peer_->Sent()) {
      const uint32_t right = s.seg.ack.raw() + s.seg.window;
      if (low) {
        ++acks_under_pressure;
        EXPECT_LE(right - edge_at_low[s.seg.dst_port], 4u * 1460) << "window extended under pressure";
      }
      edge[s.seg.dst_port] = std::max(edge[s.seg.dst_port], right);
    }
  }
  ASSERT_EQ(peer_->tcp().pressure(), MemoryPressure::kCritical);
  EXPECT_EQ(peer_->tcp().counters().pressure_low, 1u);
  EXPECT_EQ(peer_->tcp().counters().pressure_critical, 1u);
  EXPECT_GT(acks_under_pressure, 0u);
  // Critical: more payload is dropped, not queued; no SYN is answered; control still works.
  const uint64_t dropped = peer_->tcp().tcp_counters().rcv_mem_dropped;
  peer_->DropSent();
  const unsigned in_use = InUse();
  for (Conn& c : conns) {
    peer_->Inject(Fields(kAck | kPsh, c.peer_nxt, c.iss + 1, 65535, c.port), Bytes(1400, 'q'));
  }
  EXPECT_EQ(peer_->tcp().tcp_counters().rcv_mem_dropped, dropped + conns.size());
  EXPECT_EQ(peer_->Sent().size(), conns.size());  // each answered at once with a duplicate ACK
  EXPECT_EQ(InUse(), in_use);
  peer_->Inject(Fields(kSyn, 777, 0, 65535, 50000));
  EXPECT_TRUE(peer_->Sent().empty());
  EXPECT_EQ(peer_->tcp().counters().syn_pressure_dropped, 1u);
  EXPECT_TRUE(peer_->Ping(2));
  // A RST from one peer is processed and frees its memory; reading frees the rest: back to normal.
  peer_->Inject(Fields(kRst, conns[0].peer_nxt, 0, 0, conns[0].port));
  EXPECT_EQ(peer_->tcp().State(conns[0].id), TcpState::kClosed);
  for (size_t i = 1; i < conns.size(); ++i) peer_->tcp().Recv(conns[i].id).reset();
  peer_->Advance(Duration::Milliseconds(1));
  EXPECT_EQ(peer_->tcp().pressure(), MemoryPressure::kNone);
  Conn fresh = Open(50001, 123456);
  EXPECT_EQ(peer_->tcp().State(fresh.id), TcpState::kEstablished);
}

TEST_F(TcpMemoryTest, ExhaustedPoolResetsTheConnectionPinningTheMost) {
  Start(1023);
  Conn small = Open(kPeerPort, 1000);
  Conn big = Open(kPeerPort + 1, 5000000);
  peer_->Inject(Fields(kAck | kPsh, small.peer_nxt, small.iss + 1, 65535, small.port), Bytes(100, 's'));
  for (int i = 0; i < 20; ++i) {
    peer_->Inject(Fields(kAck | kPsh, big.peer_nxt + i * 1400u, big.iss + 1, 65535, big.port), Bytes(1400, 'b'));
  }
  peer_->DropSent();
  // Something else (an application, say) holds the rest of the pool.
  std::vector<Mbuf> hog;
  while (rte_mempool_avail_count(pool_) * 16 >= pool_->size) hog.push_back(Mbuf::Alloc(pool_));
  peer_->Advance(Duration::Milliseconds(1));
  EXPECT_EQ(peer_->tcp().pressure(), MemoryPressure::kExhausted);
  EXPECT_EQ(peer_->tcp().counters().pressure_resets, 1u);
  EXPECT_EQ(peer_->tcp().State(big.id), TcpState::kClosed);
  EXPECT_EQ(peer_->tcp().State(small.id), TcpState::kEstablished);
  bool rst_to_big = false;
  for (const SentSegment& s : peer_->Sent()) rst_to_big |= s.seg.rst() && s.seg.dst_port == big.port;
  EXPECT_TRUE(rst_to_big);
  hog.clear();
  peer_->tcp().Recv(small.id).reset();
}

// The hostile-suite case: a hole, then thousands of one-byte segments beyond it. They share buffers out
// of order too, and the segment that fills the hole goes through.
TEST_F(TcpMemoryTest, TinyOutOfOrderSegmentsShareBuffersAndTheHoleStillFills) {
  Start(4095);
  Conn c = Open(kPeerPort, 1000);
  const unsigned before = InUse();
  for (uint32_t i = 1; i <= 3000; ++i) {
    peer_->Inject(Fields(kAck | kPsh, c.peer_nxt + i, c.iss + 1, 65535), Bytes{static_cast<uint8_t>(i)});
  }
  peer_->DropSent();
  EXPECT_LE(InUse() - before, 8u);
  EXPECT_EQ(peer_->tcp().Readable(c.id), 0u);
  peer_->Inject(Fields(kAck | kPsh, c.peer_nxt, c.iss + 1, 65535), Bytes{0});  // the hole
  EXPECT_EQ(peer_->tcp().Readable(c.id), 3001u);
  Mbuf m = peer_->tcp().Recv(c.id);
  ASSERT_TRUE(m);
  Bytes got(3001);
  const uint8_t* p = static_cast<const uint8_t*>(rte_pktmbuf_read(m.get(), 0, 3001, got.data()));
  for (uint32_t i = 0; i <= 3000; ++i) ASSERT_EQ(p[i], static_cast<uint8_t>(i)) << i;
  EXPECT_EQ(peer_->tcp().counters().ooo_join_mismatch, 0u);
}

}  // namespace
}  // namespace synack
