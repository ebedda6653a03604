// Test-only access to TcpLayer internals (a friend of TcpLayer): the clock of a layer driven without an
// Engine, the protocol state behind a 4-tuple, and the per-peer reference total. Same lcore rules as
// TcpLayer itself. Not installed; applications use TcpLayer::Info and Flow instead.
#pragma once

#include <cstdint>

#include "lib/core/tcp_layer.h"

namespace synack {

class TcpLayerTestPeer {
 public:
  static void SetNow(TcpLayer& t, Instant now) { t.set_now(now); }
  static const TcpConnection* FindConnection(const TcpLayer& t, const FlowKey& key) { return t.FindConnection(key); }
  static uint64_t PeerRefsTotal(const TcpLayer& t) { return t.peer_refs_total(); }
};

}  // namespace synack
