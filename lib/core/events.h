/// @file
/// The vocabulary of Synack's socket API: connection ids, events and send outcomes (TcpError, why a
/// connection ended, is the protocol core's: lib/tcp/connection.h). Plain values, any core; the calls that
/// use them are TcpLayer's (lib/core/tcp_layer.h), made on the connection's own engine lcore. Applications
/// include them through lib/api/types.h (or lib/api/synack.h).
#pragma once

#include <cstdint>

#include "lib/tcp/connection.h"  // TcpError: why a connection ended

namespace synack {

/// Names a connection on its engine. Stale ids (the connection is gone) are detected and refused.
struct ConnId {
  uint32_t index = UINT32_MAX;  ///< the connection record's slot on its engine (UINT32_MAX: no connection)
  uint32_t generation = 0;  ///< the record's generation when the id was made (freeing the record moves it on: stale)
  /// False for a default-constructed id; true does not mean the connection still exists.
  bool valid() const { return index != UINT32_MAX; }
  /// Same slot and generation.
  friend bool operator==(const ConnId&, const ConnId&) = default;
};

/// What happened to a connection.
enum class EventType : uint8_t {
  kAccepted,    ///< a passive connection reached ESTABLISHED on a listening port; the application owns it now
  kConnected,   ///< an active open (Connect) completed
  kReadable,    ///< received data is waiting (Recv)
  kWritable,    ///< send space was freed after a Send returned kWouldBlock
  kPeerClosed,  ///< the peer finished sending (after any data already readable)
  kClosed,      ///< the connection is gone; `error` says why (kNone: orderly close). The id is now stale.
};
/// "accepted", "connected", ... for logs.
const char* EventName(EventType t);

/// One entry of an engine's event queue (TcpLayer::PollEvents).
struct Event {
  ConnId conn;                          ///< the connection it concerns
  EventType type = EventType::kClosed;  ///< what happened
  TcpError error = TcpError::kNone;     ///< for kClosed: refused, reset, timed out, unreachable, ...
  uint16_t local_port = 0;              ///< our port (for kAccepted: the listening port)
  uint64_t user_data = 0;               ///< what the application attached (TcpLayer::SetUserData), as epoll_data
};

/// Outcome of Send.
enum class SendStatus : uint8_t {
  kOk,            ///< queued; the stack owns the data
  kWouldBlock,    ///< the send buffer is full; the data is left with the caller; kWritable follows
  kNotConnected,  ///< the connection cannot send (closing, closed or unknown id); data left with the caller
};

}  // namespace synack
