#include "lib/dev/port.h"

#include <cstring>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace synack {
namespace {

absl::Status DpdkError(std::string_view call, uint16_t port, int rc) {
  return absl::InternalError(absl::StrFormat("%s(port %u): %s", call, port, rte_strerror(rc < 0 ? -rc : rc)));
}

}  // namespace

absl::StatusOr<rte_mempool*> CreateMbufPool(const std::string& name, uint32_t n, int socket_id) {
  rte_mempool* mp = rte_pktmbuf_pool_create(name.c_str(), n, /*cache_size=*/256, /*priv_size=*/0,
                                            RTE_MBUF_DEFAULT_BUF_SIZE,
                                            socket_id < 0 ? static_cast<int>(rte_socket_id()) : socket_id);
  if (mp == nullptr) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "rte_pktmbuf_pool_create(%s, %u mbufs): %s (give EAL more memory with -m, or fewer mbufs)", name, n,
        rte_strerror(rte_errno)));
  }
  return mp;
}

absl::StatusOr<rte_mempool*> CreateIndirectPool(const std::string& name, uint32_t n, int socket_id) {
  rte_mempool* mp = rte_pktmbuf_pool_create(name.c_str(), n, /*cache_size=*/256, /*priv_size=*/0, /*data_room=*/0,
                                            socket_id < 0 ? static_cast<int>(rte_socket_id()) : socket_id);
  if (mp == nullptr) {
    return absl::ResourceExhaustedError(absl::StrFormat("rte_pktmbuf_pool_create(%s, %u indirect mbufs): %s", name, n,
                                                        rte_strerror(rte_errno)));
  }
  return mp;
}

uint16_t AvailablePorts() { return rte_eth_dev_count_avail(); }

std::string PortInfo::Describe() const {
  return absl::StrFormat(
      "port %u (%s, %s) mac %s mtu %u link %s%s; checksum offload rx-ip %s tx-ip %s rx-tcp %s tx-tcp %s", port_id,
      name, driver, mac.ToString(), mtu, link_up ? "up" : "down",
      link_up && link_speed_mbps > 0 ? absl::StrCat(" ", link_speed_mbps, " Mbps") : "", rx_ip_cksum ? "yes" : "no",
      tx_ip_cksum ? "yes" : "no", rx_tcp_cksum ? "yes" : "no", tx_tcp_cksum ? "yes" : "no");
}

absl::StatusOr<PortInfo> ConfigurePort(const PortConfig& config) {
  const uint16_t port = config.port_id;
  if (!rte_eth_dev_is_valid_port(port)) {
    return absl::NotFoundError(absl::StrFormat(
        "port %u does not exist (%u ports probed; add a device, e.g. --vdev net_tap0, or pick another port)", port,
        rte_eth_dev_count_avail()));
  }
  if (config.pool == nullptr) return absl::InvalidArgumentError("ConfigurePort: no mempool");
  rte_eth_dev_info dev_info;
  if (int rc = rte_eth_dev_info_get(port, &dev_info); rc != 0) return DpdkError("rte_eth_dev_info_get", port, rc);

  PortInfo info;
  info.port_id = port;
  info.driver = dev_info.driver_name != nullptr ? dev_info.driver_name : "?";
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  if (rte_eth_dev_get_name_by_port(port, name) == 0) info.name = name;

  if (config.rx_queues > dev_info.max_rx_queues || config.tx_queues > dev_info.max_tx_queues) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "port %u (%s) supports at most %u rx / %u tx queues, asked for %u / %u", port, info.driver,
        dev_info.max_rx_queues, dev_info.max_tx_queues, config.rx_queues, config.tx_queues));
  }

  rte_eth_conf conf;
  std::memset(&conf, 0, sizeof(conf));
  // Use checksum offloads only where the device has them; the stack computes the rest in software.
  if (dev_info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
    conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
    info.rx_ip_cksum = true;
  }
  if (dev_info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) {
    conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
    info.rx_tcp_cksum = true;
  }
  if (dev_info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
    info.tx_ip_cksum = true;
  }
  if (dev_info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
    info.tx_tcp_cksum = true;
  }
  if (int rc = rte_eth_dev_configure(port, config.rx_queues, config.tx_queues, &conf); rc != 0) {
    return DpdkError("rte_eth_dev_configure", port, rc);
  }
  uint16_t rx_desc = config.rx_desc;
  uint16_t tx_desc = config.tx_desc;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_desc, &tx_desc); rc != 0) {
    return DpdkError("rte_eth_dev_adjust_nb_rx_tx_desc", port, rc);
  }
  const int socket = rte_eth_dev_socket_id(port) < 0 ? static_cast<int>(rte_socket_id()) : rte_eth_dev_socket_id(port);
  for (uint16_t q = 0; q < config.rx_queues; ++q) {
    rte_eth_rxconf rxconf = dev_info.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    if (int rc = rte_eth_rx_queue_setup(port, q, rx_desc, socket, &rxconf, config.pool); rc != 0) {
      return DpdkError("rte_eth_rx_queue_setup", port, rc);
    }
  }
  for (uint16_t q = 0; q < config.tx_queues; ++q) {
    rte_eth_txconf txconf = dev_info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    if (int rc = rte_eth_tx_queue_setup(port, q, tx_desc, socket, &txconf); rc != 0) {
      return DpdkError("rte_eth_tx_queue_setup", port, rc);
    }
  }
  if (int rc = rte_eth_dev_start(port); rc != 0) return DpdkError("rte_eth_dev_start", port, rc);
  if (config.promiscuous) rte_eth_promiscuous_enable(port);

  rte_ether_addr mac;
  if (int rc = rte_eth_macaddr_get(port, &mac); rc != 0) return DpdkError("rte_eth_macaddr_get", port, rc);
  if (rte_is_zero_ether_addr(&mac)) {
    // Some virtual devices (net_ring pairs) have no address: give the port a random locally
    // administered one so two of them on one link can tell each other apart.
    rte_eth_random_addr(mac.addr_bytes);
    // Devices that cannot store it (net_ring) do not filter on it either: the stack just uses it.
    int rc = rte_eth_dev_default_mac_addr_set(port, &mac);
    if (rc != 0 && rc != -ENOTSUP) return DpdkError("rte_eth_dev_default_mac_addr_set", port, rc);
  }
  std::memcpy(info.mac.b.data(), mac.addr_bytes, 6);
  rte_eth_dev_get_mtu(port, &info.mtu);
  rte_eth_link link;
  std::memset(&link, 0, sizeof(link));
  if (rte_eth_link_get_nowait(port, &link) == 0) {
    info.link_up = link.link_status == RTE_ETH_LINK_UP;
    info.link_speed_mbps = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
  }
  return info;
}

void ClosePort(uint16_t port_id) {
  rte_eth_dev_stop(port_id);
  rte_eth_dev_close(port_id);
}

}  // namespace synack
