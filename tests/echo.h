// Test support: the zero-copy echo every engine-pair test's server runs. Engine's core only.
#pragma once

#include "lib/base/mbuf.h"
#include "lib/core/tcp_layer.h"

namespace synack::testing {

// Sends back everything received on `id`, zero-copy. What the send queue refuses waits in `pending`
// (tried first next time); returns false while something is pending.
inline bool EchoAll(TcpLayer& tcp, ConnId id, Mbuf& pending) {
  if (pending && tcp.Send(id, std::move(pending)) != SendStatus::kOk) return false;
  pending.reset();
  while (Mbuf m = tcp.Recv(id)) {
    if (tcp.Send(id, std::move(m)) != SendStatus::kOk) {
      pending = std::move(m);
      return false;
    }
  }
  return true;
}

}  // namespace synack::testing
