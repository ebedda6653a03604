#include "lib/dev/port.h"

#include <algorithm>
#include <cstring>

#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/log.h"

namespace synack {
namespace {

absl::Status DpdkError(std::string_view call, uint16_t port, int rc) {
  return absl::InternalError(absl::StrFormat("%s(port %u): %s", call, port, rte_strerror(rc < 0 ? -rc : rc)));
}

}  // namespace

absl::StatusOr<rte_mempool*> CreateMbufPool(const std::string& name, uint32_t n, int socket_id) {
  rte_mempool* mp = rte_pktmbuf_pool_create(name.c_str(), n, /*cache_size=*/256, /*priv_size=*/0,
                                            RTE_MBUF_DEFAULT_BUF_SIZE, socket_id < 0 ? SOCKET_ID_ANY : socket_id);
  if (mp == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("rte_pktmbuf_pool_create(%s, %u mbufs): %s (give EAL more memory with -m, or fewer mbufs)",
                        name, n, rte_strerror(rte_errno)));
  }
  return mp;
}

absl::StatusOr<rte_mempool*> CreateIndirectPool(const std::string& name, uint32_t n, int socket_id) {
  rte_mempool* mp = rte_pktmbuf_pool_create(name.c_str(), n, /*cache_size=*/256, /*priv_size=*/0, /*data_room=*/0,
                                            socket_id < 0 ? SOCKET_ID_ANY : socket_id);
  if (mp == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("rte_pktmbuf_pool_create(%s, %u indirect mbufs): %s", name, n, rte_strerror(rte_errno)));
  }
  return mp;
}

uint16_t AvailablePorts() { return rte_eth_dev_count_avail(); }

std::string NoHugepagesWarning(uint16_t port, const std::string& bus, const std::string& driver, bool hugepages) {
  if (hugepages || bus.empty() || bus == "vdev") return "";
  return absl::StrFormat(
      "synack: warning: port %u (%s on the %s bus) runs without hugepages; a NIC wants them (reserve hugepages and "
      "pass --hugepages: README, \"Running on a real NIC\")",
      port, driver, bus);
}

std::string PortInfo::Describe() const {
  return absl::StrFormat(
             "port %u (%s, %s) mac %s mtu %u link %s%s; checksum offload rx-ip %s tx-ip %s rx-tcp %s tx-tcp %s",
             port_id, name, driver, mac.ToString(), mtu, link_up ? "up" : "down",
             link_up && link_speed_mbps > 0 ? absl::StrCat(" ", link_speed_mbps, " Mbps") : "",
             rx_ip_cksum ? "yes" : "no", tx_ip_cksum ? "yes" : "no", rx_tcp_cksum ? "yes" : "no",
             tx_tcp_cksum ? "yes" : "no") +
         (rss ? absl::StrFormat("; rss on (reta %u)", reta_size) : "") +
         (!rss_note.empty() ? absl::StrCat("; rss off: ", rss_note) : "");
}

std::string PortInfo::DescribeDevice() const {
  const std::string rss =
      rss_ipv4_tcp ? absl::StrFormat("ipv4-tcp (key %u B, reta %u)", rss_key_size, max_reta_size) : std::string("none");
  const std::string max_frame =
      max_rx_pktlen == UINT32_MAX ? std::string("no limit") : absl::StrCat(max_rx_pktlen, " B");
  return absl::StrFormat(
      "device %s: queues rx %u tx %u; rss %s; mtu %u (range %u-%u, max frame %s); tx multi-seg %s, rx scatter %s, "
      "tso %s",
      driver, max_rx_queues, max_tx_queues, rss, mtu, min_mtu, max_mtu, max_frame, tx_multi_segs ? "yes" : "no",
      rx_scatter ? "yes" : "no", tso ? "yes" : "no");
}

// Programs the redirection table as i % queues and reads key, hash types and table back; returns why
// the device's RSS cannot be trusted to match the software hash, or "" when it matches.
static std::string VerifyRss(uint16_t port, uint16_t reta_size, uint16_t queues, const std::vector<uint8_t>& key) {
  std::vector<rte_eth_rss_reta_entry64> reta((reta_size + RTE_ETH_RETA_GROUP_SIZE - 1) / RTE_ETH_RETA_GROUP_SIZE);
  for (size_t g = 0; g < reta.size(); ++g) {
    reta[g].mask = ~uint64_t{0};
    for (uint16_t i = 0; i < RTE_ETH_RETA_GROUP_SIZE; ++i) {
      reta[g].reta[i] = static_cast<uint16_t>((g * RTE_ETH_RETA_GROUP_SIZE + i) % queues);
    }
  }
  if (int rc = rte_eth_dev_rss_reta_update(port, reta.data(), reta_size); rc != 0) {
    return absl::StrFormat("programming the RSS redirection table failed (%s)", rte_strerror(-rc));
  }
  std::vector<rte_eth_rss_reta_entry64> back(reta.size());
  for (auto& e : back) e.mask = ~uint64_t{0};
  if (int rc = rte_eth_dev_rss_reta_query(port, back.data(), reta_size); rc != 0) {
    return absl::StrFormat("the RSS redirection table cannot be read back (%s)", rte_strerror(-rc));
  }
  for (uint32_t i = 0; i < reta_size; ++i) {
    const auto& e = back[i / RTE_ETH_RETA_GROUP_SIZE];
    if (e.reta[i % RTE_ETH_RETA_GROUP_SIZE] != i % queues) return "the RSS redirection table reads back differently";
  }
  std::vector<uint8_t> got(key.size() + 8);
  rte_eth_rss_conf rc;
  std::memset(&rc, 0, sizeof(rc));
  rc.rss_key = got.data();
  rc.rss_key_len = static_cast<uint8_t>(got.size());
  if (int r = rte_eth_dev_rss_hash_conf_get(port, &rc); r != 0) {
    return absl::StrFormat("the RSS key cannot be read back (%s)", rte_strerror(-r));
  }
  if ((rc.rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_TCP) == 0) return "the device does not hash IPv4/TCP";
  if (!std::equal(key.begin(), key.end(), got.begin())) return "the device's RSS key reads back differently";
  return "";
}

absl::StatusOr<PortInfo> ConfigurePort(const PortConfig& config) {
  const uint16_t port = config.port_id;
  if (!rte_eth_dev_is_valid_port(port)) {
    return absl::NotFoundError(absl::StrFormat(
        "port %u does not exist (%u ports probed; add a device, e.g. --vdev net_tap0, or pick another port)", port,
        rte_eth_dev_count_avail()));
  }
  if (config.pool == nullptr && config.rx_pools.size() < config.rx_queues) {
    return absl::InvalidArgumentError("ConfigurePort: no mempool for some RX queue");
  }
  rte_eth_dev_info dev_info;
  if (int rc = rte_eth_dev_info_get(port, &dev_info); rc != 0) return DpdkError("rte_eth_dev_info_get", port, rc);

  PortInfo info;
  info.port_id = port;
  info.driver = dev_info.driver_name != nullptr ? dev_info.driver_name : "?";
  if (const rte_bus* bus = dev_info.device != nullptr ? rte_dev_bus(dev_info.device) : nullptr) {
    info.bus = rte_bus_name(bus);
  }
  info.socket = rte_eth_dev_socket_id(port);
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  if (rte_eth_dev_get_name_by_port(port, name) == 0) info.name = name;

  info.max_rx_queues = dev_info.max_rx_queues;
  info.max_tx_queues = dev_info.max_tx_queues;
  info.rss_ipv4_tcp = (dev_info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_TCP) != 0;
  info.rss_key_size = dev_info.hash_key_size;
  info.max_reta_size = dev_info.reta_size;
  info.min_mtu = dev_info.min_mtu;
  info.max_mtu = dev_info.max_mtu;
  info.max_rx_pktlen = dev_info.max_rx_pktlen;
  info.tx_multi_segs = (dev_info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
  info.rx_scatter = (dev_info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) != 0;
  info.tso = (dev_info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO) != 0;

  if (config.rx_queues > dev_info.max_rx_queues || config.tx_queues > dev_info.max_tx_queues) {
    return absl::InvalidArgumentError(
        absl::StrFormat("port %u (%s) supports at most %u rx / %u tx queues, asked for %u / %u", port, info.driver,
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
  const bool want_rss = config.rx_queues > 1 && !config.rss_key.empty();
  rte_eth_rss_conf rss_conf;
  std::memset(&rss_conf, 0, sizeof(rss_conf));
  std::vector<uint8_t> rss_key = config.rss_key;
  if (want_rss) {
    if ((dev_info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_TCP) == 0) {
      info.rss_note = "the device has no RSS for IPv4/TCP";
    } else if (dev_info.hash_key_size != rss_key.size()) {
      info.rss_note =
          absl::StrFormat("the device's RSS key is %u bytes, ours %u", dev_info.hash_key_size, rss_key.size());
    } else if (dev_info.reta_size == 0) {
      info.rss_note = "the device has no RSS redirection table";
    } else {
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
      rss_conf.rss_key = rss_key.data();
      rss_conf.rss_key_len = static_cast<uint8_t>(rss_key.size());
      rss_conf.rss_hf = RTE_ETH_RSS_NONFRAG_IPV4_TCP;
      conf.rx_adv_conf.rss_conf = rss_conf;
    }
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
    rte_mempool* pool = q < config.rx_pools.size() && config.rx_pools[q] != nullptr ? config.rx_pools[q] : config.pool;
    if (int rc = rte_eth_rx_queue_setup(port, q, rx_desc, socket, &rxconf, pool); rc != 0) {
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
  if (conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS) {
    info.rss_note = VerifyRss(port, dev_info.reta_size, config.rx_queues, config.rss_key);
    info.rss = info.rss_note.empty();
    if (info.rss) info.reta_size = dev_info.reta_size;
  }

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
  SYNACK_LOG_DEBUG(kDev, "%s", info.Describe().c_str());
  SYNACK_LOG_DEBUG(kDev, "%s", info.DescribeDevice().c_str());
  return info;
}

void ClosePort(uint16_t port_id) {
  rte_eth_dev_info dev_info;
  const bool memif = rte_eth_dev_info_get(port_id, &dev_info) == 0 && dev_info.driver_name != nullptr &&
                     std::strcmp(dev_info.driver_name, "net_memif") == 0;
  rte_eth_dev_stop(port_id);
  rte_eth_dev_close(port_id);
  // DPDK 22.11's net_memif: closing tells a connected peer, whose hang-up reaches the EAL interrupt thread
  // a moment later; rte_eal_cleanup (next, in every caller) unmaps the control socket's interrupt handle
  // without stopping that thread, which then faults in rte_intr_fd_get (seen once in ~30 server exits).
  // Give the thread time to handle the hang-up first.
  if (memif) rte_delay_us_sleep(100 * 1000);
}

}  // namespace synack
