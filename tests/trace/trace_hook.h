// Force-included (-include) into lib/tcp/connection.cc and trace_hook_test.cc for synack_trace_tests:
// defines the compile-time transition hook (lib/tcp/connection.h, SYNACK_TRACE_TRANSITION) as a call
// into the test, as a user would to log or count transitions. Test-only.
#pragma once

#include <cstdint>

namespace synack {
enum class TcpState : uint8_t;
void TestTraceTransition(uint16_t local_port, uint16_t remote_port, TcpState from, TcpState to);
}  // namespace synack

#define SYNACK_TRACE_TRANSITION(local_port, remote_port, from, to) \
  ::synack::TestTraceTransition(local_port, remote_port, from, to)
