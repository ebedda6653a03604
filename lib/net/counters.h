// Data-plane outcomes: why a frame was dropped (one enum, one counter per reason) and what the stack did.
// Each engine owns one NetCounters; only that engine's core writes it. Readers on other cores (stats
// printing at exit) read after the engine stopped.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "lib/base/log.h"

namespace synack {

#define SYNACK_DROP_REASONS(X)                                                                      \
  X(kNonContiguous, "non_contiguous")    /* multi-segment frame too big to linearize */             \
  X(kEthTruncated, "eth_truncated")      /* shorter than an Ethernet header */                      \
  X(kEthNotForUs, "eth_not_for_us")      /* destination MAC neither ours nor broadcast */           \
  X(kEthUnknownType, "eth_unknown_type") /* ethertype other than ARP/IPv4 */                        \
  X(kArpTruncated, "arp_truncated")                                                                 \
  X(kArpUnsupported, "arp_unsupported") /* not Ethernet/IPv4, or bad op */                          \
  X(kArpNotForUs, "arp_not_for_us")     /* target is not our address */                             \
  X(kArpConflict, "arp_conflict")       /* someone else claims our address */                       \
  X(kIpTruncated, "ip_truncated")       /* fewer bytes than the header says */                      \
  X(kIpBadVersion, "ip_bad_version")                                                                \
  X(kIpBadHeaderLength, "ip_bad_header_length") /* IHL < 5 */                                       \
  X(kIpBadTotalLength, "ip_bad_total_length")   /* total length < header length */                  \
  X(kIpBadChecksum, "ip_bad_checksum")                                                              \
  X(kIpTtlZero, "ip_ttl_zero")                                                                      \
  X(kIpBadSource, "ip_bad_source") /* broadcast/multicast/our own source */                         \
  X(kIpNotForUs, "ip_not_for_us")                                                                   \
  X(kIpFragment, "ip_fragment") /* reassembly not supported yet */                                  \
  X(kIpUnknownProtocol, "ip_unknown_protocol")                                                      \
  X(kIcmpTruncated, "icmp_truncated")                                                               \
  X(kIcmpBadChecksum, "icmp_bad_checksum")                                                          \
  X(kIcmpUnhandledType, "icmp_unhandled_type") /* valid, but not echo or destination unreachable */ \
  X(kIcmpBadError, "icmp_bad_error")           /* destination unreachable quoting too little */     \
  X(kIcmpErrorNotOurs, "icmp_error_not_ours")  /* quotes a datagram we did not send, or not TCP */  \
  X(kTcpTruncated, "tcp_truncated")            /* shorter than its data offset says */              \
  X(kTcpBadDataOffset, "tcp_bad_data_offset")  /* data offset < 5 */                                \
  X(kTcpBadChecksum, "tcp_bad_checksum")                                                            \
  X(kTcpBadOption, "tcp_bad_option") /* option length 0/1 or past the header */                     \
  X(kNoRoute, "no_route")            /* off-link destination and no gateway */                      \
  X(kArpQueueFull, "arp_queue_full") /* too many packets waiting on one neighbour */                \
  X(kArpTableFull, "arp_table_full")                                                                \
  X(kArpUnresolved, "arp_unresolved") /* neighbour never answered; queued packet dropped */         \
  X(kNoHeadroom, "no_headroom")                                                                     \
  X(kMempoolEmpty, "mempool_empty")          /* could not allocate a frame to send */               \
  X(kTxQueueFull, "tx_queue_full")           /* outbox full: device not draining */                 \
  X(kDispatchRingFull, "dispatch_ring_full") /* the owning engine's inbound ring is full */

enum class Drop : uint8_t {
#define SYNACK_X(name, str) name,
  SYNACK_DROP_REASONS(SYNACK_X)
#undef SYNACK_X
      kCount
};

std::string_view DropName(Drop d);
/// DropName as a C string (the names are literals).
const char* DropNameC(Drop d);

#define SYNACK_NET_COUNTERS(X) \
  X(rx_frames)                 \
  X(tx_frames)                 \
  X(arp_requests_rx)           \
  X(arp_replies_rx)            \
  X(arp_requests_tx)           \
  X(arp_replies_tx)            \
  X(arp_gratuitous_tx)         \
  X(arp_learned)               \
  X(ip_rx)                     \
  X(icmp_echo_requests_rx)     \
  X(icmp_echo_replies_tx)      \
  X(icmp_echo_requests_tx)     \
  X(icmp_echo_replies_rx)      \
  X(icmp_errors_rx)            \
  X(rx_ip_cksum_offloaded)     \
  X(rx_linearized)             \
  X(rx_chained)                \
  X(arp_shared_rx)             \
  X(dispatched_out)            \
  X(dispatched_in)             \
  X(rss_hash_mismatch)

struct NetCounters {
#define SYNACK_X(name) uint64_t name = 0;
  SYNACK_NET_COUNTERS(SYNACK_X)
#undef SYNACK_X
  std::array<uint64_t, static_cast<size_t>(Drop::kCount)> drops{};

  /// Counts a drop (and logs it at debug level on synack.net when that is on: lib/base/log.h).
  void Count(Drop d) {
    ++drops[static_cast<size_t>(d)];
    SYNACK_LOG_DEBUG(kNet, "drop %s", DropNameC(d));
  }
  uint64_t dropped(Drop d) const { return drops[static_cast<size_t>(d)]; }
  uint64_t total_drops() const;
  // Visits every counter (drops as "drop.<reason>") in a stable order.
  void ForEach(absl::FunctionRef<void(std::string_view, uint64_t)> f) const;
};

}  // namespace synack
