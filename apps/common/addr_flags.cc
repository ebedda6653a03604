#include "apps/common/addr_flags.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace synack::app {

absl::StatusOr<Endpoint> ParseConnect(const cli::Flags& flags, uint16_t example_port) {
  const std::string example = absl::StrCat("(e.g. --connect 198.18.0.1:", example_port, ")");
  std::optional<std::string> connect = flags.Get("connect");
  if (!connect) return absl::InvalidArgumentError(absl::StrCat("--connect is required ", example));
  std::vector<std::string> parts = absl::StrSplit(*connect, ':');
  int port = 0;
  absl::StatusOr<Ipv4Addr> addr =
      parts.size() == 2 ? ParseIpv4Addr(parts[0]) : absl::InvalidArgumentError("not ADDR:PORT");
  if (!addr.ok() || !absl::SimpleAtoi(parts[1], &port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--connect: '", *connect, "' is not ADDR:PORT ", example));
  }
  return Endpoint{*addr, static_cast<uint16_t>(port)};
}

absl::StatusOr<Ipv4Addr> ConnectNextHop(const Engine& engine, Ipv4Addr dst) {
  if (std::optional<Ipv4Addr> hop = engine.NextHop(dst)) return *hop;
  return absl::InvalidArgumentError(absl::StrCat("--connect: no route to ", dst.ToString(), " (not in ",
                                                 engine.local().ToString(), "; add --gateway)"));
}

}  // namespace synack::app
