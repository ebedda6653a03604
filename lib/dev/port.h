// Ports: mempools and ethdev configuration for any DPDK port — physical NICs and the virtual devices
// net_ring, net_memif, net_tap, net_af_packet and net_null. Detects checksum offloads (using them where
// the device has them, so the stack falls back to software checksums elsewhere) and reports link and
// capabilities. Control plane: main thread, before engines start polling.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <rte_mempool.h>

#include "absl/status/statusor.h"
#include "lib/net/addr.h"

namespace synack {

// Creates a packet mbuf pool with room for `n` frames of standard size, on NUMA socket `socket_id`
// (-1, SOCKET_ID_ANY: the calling lcore's socket if it has the memory, else any).
absl::StatusOr<rte_mempool*> CreateMbufPool(const std::string& name, uint32_t n, int socket_id = -1);
// Creates a pool of data-less mbufs used to attach (not copy) payload for zero-copy transmit (`socket_id`
// as for CreateMbufPool).
absl::StatusOr<rte_mempool*> CreateIndirectPool(const std::string& name, uint32_t n, int socket_id = -1);

struct PortConfig {
  uint16_t port_id = 0;
  uint16_t rx_queues = 1;
  uint16_t tx_queues = 1;
  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
  rte_mempool* pool = nullptr;         // RX buffers for every queue without its own entry in rx_pools
  std::vector<rte_mempool*> rx_pools;  // optional: RX buffers per queue (each engine's own pool)
  bool promiscuous = false;
  // With more than one RX queue: spread IPv4/TCP flows by Toeplitz RSS with this key (empty: no RSS)
  // and a redirection table of i % rx_queues. Used only when the device has RSS for IPv4/TCP with a
  // key of this size and reads the configuration back as written; PortInfo says which.
  std::vector<uint8_t> rss_key;
};

struct PortInfo {
  uint16_t port_id = 0;
  std::string driver;
  std::string name;
  std::string bus;  // the device's bus (rte_dev_bus): "pci" for a NIC, "vdev" for a virtual device
  int socket = -1;  // the device's NUMA node (rte_eth_dev_socket_id; -1: unknown, as for virtual devices)
  MacAddr mac;
  uint16_t mtu = 1500;
  bool rx_ip_cksum = false;  // offloads enabled on the port
  bool tx_ip_cksum = false;
  bool rx_tcp_cksum = false;
  bool tx_tcp_cksum = false;
  bool rss = false;        // hardware RSS active with our key (else the stack dispatches in software)
  uint16_t reta_size = 0;  // the device's redirection table size when rss
  std::string rss_note;    // why RSS is not used, when it was asked for
  bool link_up = false;
  uint32_t link_speed_mbps = 0;
  // What the device can do (rte_eth_dev_info), whatever this configuration asked of it: the quirks that
  // decide how the stack runs over it (software checksums, software dispatch, chained frames, MSS).
  uint16_t max_rx_queues = 0;
  uint16_t max_tx_queues = 0;
  bool rss_ipv4_tcp = false;   // the device can hash IPv4/TCP flows into RX queues
  uint8_t rss_key_size = 0;    // its RSS key size in bytes (0: none)
  uint16_t max_reta_size = 0;  // its redirection table size (0: none)
  uint16_t min_mtu = 0;
  uint16_t max_mtu = 0;
  uint32_t max_rx_pktlen = 0;          // the longest frame it receives
  bool tx_multi_segs = false;          // advertises chained mbufs on TX (zero-copy TX sends chains either way)
  bool rx_scatter = false;             // can receive a frame into several mbufs
  bool tso = false;                    // TCP segmentation offload (not used by the stack)
  std::string Describe() const;        // one line for start-up reports
  std::string DescribeDevice() const;  // one line: the device's capabilities (the fields above)
};

// Number of ports DPDK probed (devices and --vdev).
uint16_t AvailablePorts();

// Configures queues and offloads, starts the port and reads its link. The error names the call that
// failed, the port and DPDK's reason.
absl::StatusOr<PortInfo> ConfigurePort(const PortConfig& config);

// Stops and closes the port (control plane, after engines stopped).
void ClosePort(uint16_t port_id);

// The one-line start-up warning for a port that runs without hugepages, or "" when none is due. A device
// on a hardware bus (pci, or any bus but vdev) DMAs into the mbuf pools and wants hugepages: with
// --no-huge every 4 KiB page is its own IOVA mapping, slow or refused by its driver. Virtual devices
// (the vdev bus) and an unknown bus ("") need none. `hugepages`: whether the EAL runs on hugepages
// (rte_eal_has_hugepages). Pure: Stack::Create prints it.
std::string NoHugepagesWarning(uint16_t port, const std::string& bus, const std::string& driver, bool hugepages);

}  // namespace synack
