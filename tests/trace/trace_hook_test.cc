// The compile-time trace hook on state transitions: built with tests/trace/trace_hook.h force-included
// (a private copy of lib/tcp/connection.cc is compiled into this test), a passive open and an orderly
// close are traced transition by transition, with the connection's ports, and the trace agrees with the
// transition counters. Main thread only.
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/tcp_fixture.h"

namespace synack {
namespace {

struct Traced {
  uint16_t local_port;
  uint16_t remote_port;
  TcpState from;
  TcpState to;
  friend bool operator==(const Traced&, const Traced&) = default;
};
std::vector<Traced> g_trace;

}  // namespace

void TestTraceTransition(uint16_t local_port, uint16_t remote_port, TcpState from, TcpState to) {
  g_trace.push_back({local_port, remote_port, from, to});
}

namespace tcp_test {
namespace {

class TraceHookTest : public TcpTest {};

TEST_F(TraceHookTest, EveryTransitionOfAPassiveOpenAndCloseIsTraced) {
  g_trace.clear();
  New();
  App([this](TcpConnection& c, Instant now, TcpOutput& out) {
    c.AcceptSyn(now, WithPeerOptions(Seg(kSyn, kPeerIss)), SeqNum(kIss), out);
  });
  Send(Seg(kAck, kPeerIss + 1, kIss + 1));
  ASSERT_EQ(state(), TcpState::kEstablished);
  Send(Seg(kFin | kAck, kPeerIss + 1, kIss + 1));
  ASSERT_EQ(state(), TcpState::kCloseWait);

  const std::vector<Traced> want = {
      {kOurPort, kPeerPort, TcpState::kClosed, TcpState::kSynReceived},  // a passive TCB starts CLOSED
      {kOurPort, kPeerPort, TcpState::kSynReceived, TcpState::kEstablished},
      {kOurPort, kPeerPort, TcpState::kEstablished, TcpState::kCloseWait},
  };
  EXPECT_EQ(g_trace, want);
  uint64_t counted = 0;
  for (const auto& row : counters_.transitions) {
    for (uint64_t n : row) counted += n;
  }
  EXPECT_EQ(counted, g_trace.size());  // one trace call per counted transition
}

}  // namespace
}  // namespace tcp_test
}  // namespace synack
