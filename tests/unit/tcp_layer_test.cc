// TcpLayer with the test as its peer on the wire (tests/wire_peer.h): real frames in, the frames the
// layer sends parsed back out, real mbufs throughout and every one back in its pool at the end.
#include <gtest/gtest.h>
#include <rte_mempool.h>

#include "lib/core/tcp_layer.h"
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

constexpr uint16_t kPort = 80;
constexpr uint16_t kPeerPort = 40000;

TcpLayerConfig SmallConfig() {
  TcpLayerConfig c;
  c.max_connections = 64;
  c.max_time_wait = 64;
  c.isn_key.fill(7);
  c.tcp.timestamps = false;
  c.tcp.sack_permitted = false;
  c.tcp.window_scale = 0;
  return c;
}

TcpFields Fields(uint8_t flags, uint32_t seq, uint32_t ack = 0, uint16_t window = 65535, uint16_t src_port = kPeerPort) {
  TcpFields f;
  f.src_port = src_port;
  f.dst_port = kPort;
  f.seq = seq;
  f.ack = ack;
  f.flags = flags;
  f.window = window;
  return f;
}

class TcpLayerTest : public ::testing::Test {
 protected:
  void SetUp() override { pool_in_use_ = rte_mempool_in_use_count(testing::TestPool()); }
  void TearDown() override {
    if (peer_) {
      peer_->DropSent();
      peer_.reset();
    }
    EXPECT_EQ(rte_mempool_in_use_count(testing::TestPool()), pool_in_use_) << "mbufs leaked";
  }
  void Start(const TcpLayerConfig& c = SmallConfig()) {
    peer_.emplace(c);
    ASSERT_TRUE(peer_->tcp().Listen(kPort).ok());
  }
  // Handshake from the peer (ISN `peer_isn`): returns our ISS and the accepted connection.
  std::pair<uint32_t, ConnId> Open(uint32_t peer_isn, const Bytes& syn_options = {}) {
    TcpFields syn = Fields(kSyn, peer_isn);
    syn.options = syn_options;
    peer_->Inject(syn);
    std::optional<SentSegment> synack = peer_->SentOne();
    EXPECT_TRUE(synack && synack->seg.flags == (kSyn | kAck));
    if (!synack) return {0, ConnId{}};
    const uint32_t iss = synack->seg.seq.raw();
    peer_->Inject(Fields(kAck, peer_isn + 1, iss + 1));
    ConnId id{};
    for (const Event& e : peer_->Events()) {
      if (e.type == EventType::kAccepted) id = e.conn;
    }
    EXPECT_EQ(peer_->tcp().State(id), TcpState::kEstablished);
    return {iss, id};
  }

  std::optional<WirePeer> peer_;
  unsigned pool_in_use_ = 0;
};

// RFC 1122 4.2.2.13: a SYN that reopens a connection from TIME-WAIT gets an ISS above the old
// incarnation's sequence space — here the server (passive side) closed first and holds TIME-WAIT.
TEST_F(TcpLayerTest, SynReopeningCompactTimeWaitGetsIssAboveOldSndNxt) {
  Start();
  auto [iss, id] = Open(5000);
  peer_->tcp().Close(id);  // server closes first: FIN
  std::optional<SentSegment> fin = peer_->SentOne();
  ASSERT_TRUE(fin && fin->seg.fin());
  peer_->Inject(Fields(kAck | kFin, 5001, iss + 2));  // ACK of our FIN plus the peer's FIN
  ASSERT_EQ(peer_->SentOne()->seg.flags, kAck);
  ASSERT_EQ(peer_->tcp().time_wait_entries(), 1u);  // compact entry: the app had closed
  peer_->Advance(Duration::Seconds(2));
  peer_->Inject(Fields(kSyn, 900000));  // above the old RCV.NXT: TIME-WAIT ends
  std::optional<SentSegment> synack = peer_->SentOne();
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->seg.flags, kSyn | kAck);
  EXPECT_EQ(synack->seg.seq, SeqNum(iss + 2 + kTimeWaitReopenIssGap));
  EXPECT_EQ(peer_->tcp().counters().time_wait_reused, 1u);
}

TEST_F(TcpLayerTest, SynReopeningFullRecordTimeWaitGetsIssAboveOldSndNxt) {
  Start();
  auto [iss, id] = Open(5000);
  peer_->tcp().Shutdown(id);  // FIN, but the app keeps the connection: TIME-WAIT stays a full record
  ASSERT_TRUE(peer_->SentOne()->seg.fin());
  peer_->Inject(Fields(kAck | kFin, 5001, iss + 2));
  peer_->Sent();
  ASSERT_EQ(peer_->tcp().State(id), TcpState::kTimeWait);
  ASSERT_EQ(peer_->tcp().time_wait_entries(), 0u);
  peer_->Inject(Fields(kSyn, 900000));
  std::optional<SentSegment> synack = peer_->SentOne();
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->seg.flags, kSyn | kAck);
  EXPECT_EQ(synack->seg.seq, SeqNum(iss + 2 + kTimeWaitReopenIssGap));
}

}  // namespace
}  // namespace synack
