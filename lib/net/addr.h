// MAC and IPv4 address value types with parsing/formatting for the control plane. Any core.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace synack {

struct MacAddr {
  std::array<uint8_t, 6> b{};
  static constexpr MacAddr Broadcast() { return MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  bool is_broadcast() const { return *this == Broadcast(); }
  bool is_multicast() const { return (b[0] & 1) != 0; }
  bool is_zero() const { return *this == MacAddr{}; }
  auto operator<=>(const MacAddr&) const = default;
  std::string ToString() const;
};

// An IPv4 address in host byte order.
struct Ipv4Addr {
  uint32_t v = 0;
  static constexpr Ipv4Addr Of(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return Ipv4Addr{(uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d};
  }
  bool is_zero() const { return v == 0; }
  bool is_limited_broadcast() const { return v == 0xffffffffu; }
  bool is_multicast() const { return (v >> 28) == 0xe; }
  auto operator<=>(const Ipv4Addr&) const = default;
  std::string ToString() const;
  template <typename H>
  friend H AbslHashValue(H h, Ipv4Addr a) {
    return H::combine(std::move(h), a.v);
  }
};

// An interface address: address plus prefix length (e.g. 198.18.0.2/24).
struct Ipv4Prefix {
  Ipv4Addr addr;
  int len = 32;
  uint32_t mask() const { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }
  bool Contains(Ipv4Addr a) const { return (a.v & mask()) == (addr.v & mask()); }
  Ipv4Addr broadcast() const { return Ipv4Addr{(addr.v & mask()) | ~mask()}; }
  std::string ToString() const;
};

absl::StatusOr<Ipv4Addr> ParseIpv4Addr(absl::string_view s);
absl::StatusOr<Ipv4Prefix> ParseIpv4Prefix(absl::string_view s);

}  // namespace synack
