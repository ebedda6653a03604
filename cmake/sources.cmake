# Source lists shared in spirit with meson.build (keep both in step).
set(SYNACK_LIB_SOURCES
  lib/net/addr.cc
  lib/net/checksum.cc
  lib/net/counters.cc
  lib/net/ethernet.cc
  lib/net/arp.cc
  lib/net/ipv4.cc
  lib/net/icmp.cc
  lib/net/neighbor_cache.cc
  lib/net/net_stack.cc
  lib/dev/eal.cc
  lib/dev/port.cc
  lib/dev/ring_pair.cc
  lib/dev/impairment.cc
  lib/api/types.cc
  lib/api/stack.cc
  lib/api/loopback.cc
  lib/api/syn_flood.cc
  lib/core/engine.cc
  lib/core/rss.cc
  lib/core/flow_table.cc
  lib/core/syn_limiter.cc
  lib/core/tcp_layer.cc
  lib/base/mbuf_chain.cc
  lib/core/timer_wheel.cc
  lib/tcp/connection.cc
  lib/tcp/congestion.cc
  lib/tcp/seq_ranges.cc
  lib/tcp/isn.cc
  lib/tcp/rto.cc
  lib/tcp/segment.cc
  lib/tcp/syn_cookie.cc
  lib/tcp/tcp_header.cc
)
set(SYNACK_CLI_SOURCES apps/common/cli.cc apps/common/runtime.cc apps/common/modes.cc apps/common/histogram.cc
  apps/common/report.cc apps/common/addr_flags.cc)
set(SYNACK_CPS_SOURCES apps/cps/main.cc apps/cps/server.cc apps/cps/client.cc apps/cps/loopback.cc apps/cps/hold.cc
  apps/cps/pingpong.cc apps/cps/flood.cc)
set(SYNACK_PERF_SOURCES apps/perf/main.cc apps/perf/server.cc apps/perf/client.cc apps/perf/loopback.cc
  apps/perf/pattern.cc)
