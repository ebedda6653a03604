/// @file
/// Synack's application API, in one include. Everything an application calls lives on an engine
/// (lib/core/engine.h): one engine per lcore, each with its own connection table, listeners, timers and
/// mempools. A connection lives on exactly one engine — the one its 4-tuple hashes to — and every call
/// and event for it happens on that engine's lcore: no locks, no callbacks from other threads.
///
/// The model: a poll-able event queue per engine.
///   1. Listen(port) on every engine (each accepts the flows that hash to it); Connect(addr, port,
///      timeout) picks a source port whose flow hashes back to the calling engine.
///   2. Loop: Engine::PollOnce(now), then drain TcpLayer::PollEvents(): kAccepted / kConnected,
///      kReadable, kWritable (after a kWouldBlock), kPeerClosed, kClosed (with a TcpError:
///      refused, reset, timed out, unreachable, aborted; kNone for an orderly close).
///   3. Data, zero-copy both ways: Recv(id) hands over the received mbufs themselves (you free them,
///      or pass them straight to Send); AllocTxMbuf() gives an mbuf with headroom for the headers, you
///      fill it and Send(id, std::move(m)) — on kOk the stack owns it and transmits it without copying,
///      keeping a reference until it is acknowledged (a small write may instead be copied onto the tail
///      of the send queue); on kWouldBlock it stays yours and kWritable follows; on kNotConnected it
///      stays yours.
///      SendCopy/RecvCopy copy for simple applications.
///   4. Shutdown(id) sends FIN and keeps reading; Close(id) releases the connection (orderly; RST if
///      unread data remains); Abort(id) resets it.
/// Errors the application sees: Listen -> port already listening; Connect -> no route, out of
/// ephemeral ports, connection table full (absl::Status with the reason); kClosed events -> refused,
/// reset, timed out, unreachable (ARP gave up).
///
/// Stack (lib/api/stack.h) starts the EAL, pools, the port and one engine per lcore and runs one
/// Application per engine; Loopback (lib/api/loopback.h) runs a client and a server engine in one process
/// over a ring pair; SynFlood (lib/api/syn_flood.h) generates spoofed SYNs for testing defences.
/// examples/hello/main.cc is a complete small server (the README walks through it).
#pragma once

#include "lib/api/loopback.h"    // Loopback: client and server engines over a ring pair
#include "lib/api/stack.h"       // Stack, StackConfig, Application
#include "lib/api/syn_flood.h"   // SynFlood, WithSynFlood
#include "lib/api/types.h"       // ConnId, Event, EventType, SendStatus, TcpError
#include "lib/base/mbuf.h"       // Mbuf: the move-only owner of an rte_mbuf chain
#include "lib/core/engine.h"     // Engine: PollOnce, stack(), tcp()
#include "lib/core/tcp_layer.h"  // TcpLayer: Listen, Connect, PollEvents, Send, Recv, Close, ...

/// @namespace synack
/// Synack's library: the application API (lib/api), the engines and the layers under them.
