#include "apps/common/addr_flags.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace synack::app {

namespace {

// One port number in [min, 65535]; the error quotes `text`.
absl::StatusOr<uint16_t> ParsePort(absl::string_view text, uint16_t min) {
  int port = 0;
  if (text.empty()) return absl::InvalidArgumentError("a port is missing");
  if (!absl::SimpleAtoi(text, &port)) return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a port"));
  if (port < min || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port ", text, " is not in ", min, "..65535"));
  }
  return static_cast<uint16_t>(port);
}

// `--connect ADDR:PORT`, and ADDR:LO-HI when `allow_range`; the errors show the accepted form.
absl::StatusOr<EndpointRange> ParseConnectAs(const cli::Flags& flags, uint16_t example_port, bool allow_range) {
  const std::string form = allow_range ? "ADDR:PORT or ADDR:LO-HI" : "ADDR:PORT";
  const std::string example = absl::StrCat(
      "e.g. --connect 198.18.0.1:", example_port,
      allow_range ? absl::StrCat(" or 198.18.0.1:", example_port, "-", std::min(example_port + 15, 65535)) : "");
  std::optional<std::string> connect = flags.Get("connect");
  if (!connect) return absl::InvalidArgumentError(absl::StrCat("--connect is required (", example, ")"));
  std::vector<std::string> parts = absl::StrSplit(*connect, ':');
  absl::StatusOr<Ipv4Addr> addr =
      parts.size() == 2 ? ParseIpv4Addr(parts[0]) : absl::InvalidArgumentError("not ADDR:PORT");
  if (!addr.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--connect: '", *connect, "' is not ", form, " (", example, ")"));
  }
  absl::StatusOr<PortRange> ports = ParsePortRange(parts[1]);
  if (!ports.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--connect: '", *connect, "': ", ports.status().message(), " (", form, ", ", example, ")"));
  }
  if (!allow_range && ports->size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--connect: '", *connect, "' is a port range; this tool connects to one port (", example, ")"));
  }
  return EndpointRange{*addr, *ports};
}

}  // namespace

std::string PortRange::ToString() const { return lo == hi ? absl::StrCat(lo) : absl::StrCat(lo, "-", hi); }

absl::StatusOr<PortRange> ParsePortRange(absl::string_view text, uint16_t min) {
  if (text.empty()) return absl::InvalidArgumentError("empty");
  const size_t dash = text.find('-');
  absl::StatusOr<uint16_t> lo = ParsePort(text.substr(0, dash), min);
  if (!lo.ok()) return lo.status();
  if (dash == absl::string_view::npos) return PortRange{*lo, *lo};
  absl::StatusOr<uint16_t> hi = ParsePort(text.substr(dash + 1), min);
  if (!hi.ok()) return hi.status();
  if (*hi < *lo) {
    return absl::InvalidArgumentError(absl::StrCat("reversed (write ", *hi, "-", *lo, ")"));
  }
  return PortRange{*lo, *hi};
}

absl::StatusOr<PortRange> GetPortRange(const cli::Flags& flags, const std::string& name, PortRange default_range,
                                       uint16_t min) {
  const std::optional<std::string> v = flags.Get(name);
  if (!v) return default_range;
  absl::StatusOr<PortRange> r = ParsePortRange(*v, min);
  if (!r.ok()) {
    const PortRange example = default_range.size() > 1 ? default_range : PortRange{5001, 5016};
    return absl::InvalidArgumentError(absl::StrCat("--", name, ": '", *v, "': ", r.status().message(),
                                                   " (P or LO-HI, e.g. --", name, " ", example.ToString(), ")"));
  }
  return r;
}

absl::StatusOr<EndpointRange> ParseConnectRange(const cli::Flags& flags, uint16_t example_port) {
  return ParseConnectAs(flags, example_port, /*allow_range=*/true);
}

absl::StatusOr<Endpoint> ParseConnect(const cli::Flags& flags, uint16_t example_port) {
  absl::StatusOr<EndpointRange> r = ParseConnectAs(flags, example_port, /*allow_range=*/false);
  if (!r.ok()) return r.status();
  return Endpoint{r->addr, r->ports.lo};
}

absl::StatusOr<Ipv4Addr> ConnectNextHop(const Engine& engine, Ipv4Addr dst) {
  if (std::optional<Ipv4Addr> hop = engine.NextHop(dst)) return *hop;
  return absl::InvalidArgumentError(absl::StrCat("--connect: no route to ", dst.ToString(), " (not in ",
                                                 engine.local().ToString(), "; add --gateway)"));
}

}  // namespace synack::app
