#include "apps/cps/flood.h"

#include <algorithm>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace synack::app::cps {

absl::StatusOr<std::optional<SynFloodOptions>> ParseFlood(const cli::Flags& flags, Duration duration) {
  std::optional<std::string> rate = flags.Get("flood");
  if (!rate) {
    for (const char* f : {"flood-count", "flood-sources", "flood-only"}) {
      if (flags.Has(f)) return absl::InvalidArgumentError(absl::StrCat("--", f, ": only with --flood RATE|max"));
    }
    return std::optional<SynFloodOptions>();
  }
  SynFloodOptions o;
  uint64_t default_count = 100'000'000;
  if (*rate != "max") {
    double r = 0;
    if (!absl::SimpleAtod(*rate, &r) || !(r >= 1) || r > 1e9) {
      return absl::InvalidArgumentError(
          absl::StrCat("--flood: '", *rate, "' is not a rate (SYNs per second, 1..1e9, or max)"));
    }
    o.rate = r;
    default_count = static_cast<uint64_t>(r * duration.seconds());
  }
  absl::StatusOr<int64_t> count = flags.GetInt("flood-count", static_cast<int64_t>(default_count), 1, int64_t{1} << 40);
  if (!count.ok()) return count.status();
  o.count = static_cast<uint64_t>(*count);
  if (std::optional<std::string> src = flags.Get("flood-sources")) {
    absl::StatusOr<Ipv4Prefix> p = ParseIpv4Prefix(*src);
    if (!p.ok()) return absl::InvalidArgumentError(absl::StrCat("--flood-sources: ", p.status().message()));
    o.sources = *p;
  }
  return std::optional<SynFloodOptions>(o);
}

absl::StatusOr<std::unique_ptr<SynFlood>> MakeFlood(SynFloodOptions options, Ipv4Addr target, uint16_t port,
                                                    const MacAddr& src_mac) {
  options.target = target;
  options.target_port = port;
  options.src_mac = src_mac;
  // A pool of its own that lives as long as the EAL (frames may still be in flight when the run ends).
  absl::StatusOr<rte_mempool*> pool = CreateMbufPool("cps_flood", 4095);
  if (!pool.ok()) return pool.status();
  return SynFlood::Create("cps_flood", options, *pool);
}

absl::Status FloodOnly::Start(Engine& engine) {
  start_ = engine.tcp().now();
  std::printf("flooding for %.0f s (no legitimate connections)\n", duration_.seconds());
  std::fflush(stdout);
  return absl::OkStatus();
}

void FloodOnly::OnPoll(Engine& engine, Instant now) {
  if (start_ == Instant()) start_ = now;
  now_ = now;
  if (!engine.Resolved(next_hop_) && now >= next_ping_) {
    engine.Probe(now, next_hop_);  // makes ARP resolve the next hop
    next_ping_ = now + Duration::Milliseconds(200);
  }
  if (now - start_ >= duration_ || StopRequested()) done_ = true;
}

void PrintFloodSummary(FILE* out, const SynFlood& flood, Duration elapsed) {
  const double secs = std::max(elapsed.seconds(), 1e-9);
  std::fprintf(out, "flood: %llu spoofed SYNs sent (%.0f/s) from %s, %llu not sent (device busy)\n",
               static_cast<unsigned long long>(flood.sent()), static_cast<double>(flood.sent()) / secs,
               flood.options().sources.ToString().c_str(), static_cast<unsigned long long>(flood.not_sent()));
}

}  // namespace synack::app::cps
