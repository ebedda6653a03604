#include "lib/core/listener_table.h"

#include "absl/strings/str_cat.h"

namespace synack {

const char* SynVerdictName(SynVerdict v) {
  switch (v) {
    case SynVerdict::kAccept:
      return "accept";
    case SynVerdict::kCookie:
      return "cookie";
    case SynVerdict::kDropTableFull:
      return "table_full";
    case SynVerdict::kDropPressure:
      return "pressure";
    case SynVerdict::kDropSourceLimited:
      return "source_limited";
    case SynVerdict::kDropAcceptBacklog:
      return "accept_backlog";
    case SynVerdict::kDropBacklogFull:
      return "backlog_full";
  }
  return "unknown";
}

std::optional<SynCookieMode> ParseSynCookieMode(std::string_view s) {
  if (s == "off") return SynCookieMode::kOff;
  if (s == "when-full") return SynCookieMode::kWhenFull;
  if (s == "always") return SynCookieMode::kAlways;
  return std::nullopt;
}

const char* SynCookieModeName(SynCookieMode m) {
  switch (m) {
    case SynCookieMode::kOff:
      return "off";
    case SynCookieMode::kWhenFull:
      return "when-full";
    case SynCookieMode::kAlways:
      return "always";
  }
  return "?";
}

ListenerTable::ListenerTable(const Config& config, const SynSourceLimiter::Config& limit,
                             const std::array<uint8_t, 16>& limiter_key)
    : config_(config), limiter_(limit, limiter_key) {}

absl::Status ListenerTable::Listen(uint16_t port, const ConnOptions& options) {
  if (port == 0) return absl::InvalidArgumentError("listen: port 0 is not a port (choose 1..65535)");
  if (by_port_.contains(port)) {
    return absl::AlreadyExistsError(absl::StrCat("listen: port ", port, " is already in use"));
  }
  by_port_.emplace(port, static_cast<uint32_t>(listeners_.size()));
  listeners_.push_back(Listener{port, options, 0, 0, ListenerStats{}});
  return absl::OkStatus();
}

uint32_t ListenerTable::Find(uint16_t port) const {
  auto it = by_port_.find(port);
  return it == by_port_.end() ? kNone : it->second;
}

void ListenerTable::EnterSynQueue(uint32_t li) {
  ++listeners_[li].syn_queue;
  ++half_open_;
}

void ListenerTable::LeaveSynQueue(uint32_t li) {
  --listeners_[li].syn_queue;
  --half_open_;
}

bool ListenerTable::EnterAcceptQueue(uint32_t li) {
  Listener& l = listeners_[li];
  if (l.accept_queue >= config_.accept_backlog) return false;
  ++l.accept_queue;
  return true;
}

void ListenerTable::AcceptDrained(uint16_t port) {
  if (const uint32_t li = Find(port); li != kNone) --listeners_[li].accept_queue;
}

bool ListenerTable::UnderPressure(uint32_t li) const {
  return uint64_t{listeners_[li].syn_queue} * 2 >= config_.syn_backlog ||
         uint64_t{half_open_} * 2 >= config_.max_half_open;
}

bool ListenerTable::SynQueueFull(uint32_t li) const {
  return listeners_[li].syn_queue >= config_.syn_backlog || half_open_ >= config_.max_half_open;
}

SynVerdict ListenerTable::DecideCookieAck(uint32_t li, const SynConditions& c) const {
  if (!c.source_allowed) return SynVerdict::kDropSourceLimited;
  if (listeners_[li].accept_queue >= config_.accept_backlog) return SynVerdict::kDropAcceptBacklog;
  return SynVerdict::kAccept;
}

SynDecision ListenerTable::DecideSyn(uint32_t li, const SynConditions& c) const {
  if (c.table_full) return {SynVerdict::kDropTableFull, false};
  if (c.memory_critical) return {SynVerdict::kDropPressure, false};
  if (const SynVerdict v = DecideCookieAck(li, c); v != SynVerdict::kAccept) return {v, false};
  const bool full = SynQueueFull(li);
  const SynCookieMode mode = config_.syn_cookies;
  if (mode == SynCookieMode::kAlways || (full && mode == SynCookieMode::kWhenFull)) {
    return {SynVerdict::kCookie, full};
  }
  return {full ? SynVerdict::kDropBacklogFull : SynVerdict::kAccept, full};
}

SynDecision ListenerTable::AdmitSyn(Instant now, Ipv4Addr src, uint32_t li, bool table_full, bool memory_critical) {
  SynConditions c{table_full, memory_critical, true};
  // The limiter is charged only for a SYN that passes the checks before it (as DecideSyn orders them).
  if (!table_full && !memory_critical) c.source_allowed = limiter_.Allow(now, src);
  return DecideSyn(li, c);
}

SynVerdict ListenerTable::AdmitCookieAck(Instant now, Ipv4Addr src, uint32_t li) {
  return DecideCookieAck(li, SynConditions{false, false, limiter_.Allow(now, src)});
}

}  // namespace synack
