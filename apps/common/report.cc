#include "apps/common/report.h"

#include "absl/strings/str_format.h"

namespace synack::app {

std::string FormatDuration(Duration d) {
  const double ns = static_cast<double>(d.ns());
  if (ns < 1e3) return absl::StrFormat("%.0f ns", ns);
  if (ns < 1e6) return absl::StrFormat("%.1f us", ns / 1e3);
  if (ns < 1e9) return absl::StrFormat("%.2f ms", ns / 1e6);
  return absl::StrFormat("%.2f s", ns / 1e9);
}

double Gbps(uint64_t bytes, Duration d) {
  const double secs = d.seconds();
  return secs <= 0 ? 0.0 : static_cast<double>(bytes) * 8.0 / secs / 1e9;
}

long long WholeSeconds(Duration d) { return static_cast<long long>(d.ns() / 1000000000); }

std::string ProgressTime(Duration since_start, Duration period) {
  if (period.ns() % 1000000000 == 0) return absl::StrFormat("%lld", WholeSeconds(since_start));
  return absl::StrFormat("%.1f", since_start.seconds());
}

void PerSecond::Start(Instant now, uint64_t total, Duration period) {
  period_ = period;
  last_ = now;
  next_ = now + period;
  total_ = total;
}

PerSecond::Interval PerSecond::Tick(Instant now, uint64_t total) {
  const Interval i{now - last_, total - total_};
  last_ = now;
  total_ = total;
  next_ = next_ + period_;
  if (next_ <= now) next_ = now + period_;
  return i;
}

}  // namespace synack::app
