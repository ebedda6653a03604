#include "lib/net/addr.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace synack {

std::string MacAddr::ToString() const {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

std::string Ipv4Addr::ToString() const {
  return absl::StrFormat("%u.%u.%u.%u", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
}

std::string Ipv4Prefix::ToString() const { return absl::StrCat(addr.ToString(), "/", len); }

absl::StatusOr<Ipv4Addr> ParseIpv4Addr(absl::string_view s) {
  std::vector<absl::string_view> parts = absl::StrSplit(s, '.');
  if (parts.size() != 4) {
    return absl::InvalidArgumentError(absl::StrCat("'", s, "' is not an IPv4 address (expected A.B.C.D)"));
  }
  uint32_t v = 0;
  for (absl::string_view p : parts) {
    uint32_t octet = 0;
    if (p.empty() || p.size() > 3 || !absl::SimpleAtoi(p, &octet) || octet > 255 ||
        p.find_first_not_of("0123456789") != absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("'", s, "' is not an IPv4 address (expected A.B.C.D)"));
    }
    v = (v << 8) | octet;
  }
  return Ipv4Addr{v};
}

absl::StatusOr<Ipv4Prefix> ParseIpv4Prefix(absl::string_view s) {
  size_t slash = s.find('/');
  if (slash == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", s, "' has no prefix length (expected A.B.C.D/N, e.g. 198.18.0.2/24)"));
  }
  absl::StatusOr<Ipv4Addr> a = ParseIpv4Addr(s.substr(0, slash));
  if (!a.ok()) return a.status();
  int len = 0;
  absl::string_view ls = s.substr(slash + 1);
  if (ls.empty() || ls.find_first_not_of("0123456789") != absl::string_view::npos || !absl::SimpleAtoi(ls, &len) ||
      len < 1 || len > 32) {
    return absl::InvalidArgumentError(absl::StrCat("'", s, "' has a bad prefix length (expected 1..32)"));
  }
  return Ipv4Prefix{*a, len};
}

}  // namespace synack
