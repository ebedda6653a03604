#include "apps/cps/hold.h"

#include <cstdio>
#include <string>

#include <unistd.h>

namespace synack::app::cps {
namespace {

// Resident memory of this process (bytes), from /proc/self/statm.
uint64_t ResidentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

void PrintMemory(FILE* out, const char* who, const TcpLayer& tcp) {
  const TcpLayerMemory m = tcp.Memory();
  std::fprintf(out,
               "memory %s: %.0f B per connection (record %zu B + index, timer, event share), %.0f B per TIME-WAIT "
               "entry (entry %zu B + index); tables %.1f MiB in all, allocated at start-up\n",
               who, m.per_connection, m.socket_bytes, m.per_time_wait, m.time_wait_slot_bytes,
               static_cast<double>(m.total_bytes) / (1 << 20));
}

}  // namespace

absl::Status HoldFirst::Start(Engine& engine) {
  rss_before_ = ResidentBytes();
  std::printf("opening %llu connections to hold\n", static_cast<unsigned long long>(n_));
  std::fflush(stdout);
  return absl::OkStatus();
}

void HoldFirst::OnEvent(Engine& engine, const Event& e) {
  if (holding_) {
    if (e.type == EventType::kConnected) ++established_;
    if (e.type == EventType::kClosed) ++failed_;
    return;
  }
  if (e.type == EventType::kClosed && e.user_data == kHeldConnection) ++dropped_;
  inner_.OnEvent(engine, e);
}

void HoldFirst::OnPoll(Engine& engine, Instant now) {
  if (!holding_) return inner_.OnPoll(engine, now);
  if (start_ == Instant()) start_ = now;
  const bool resolved = engine.Resolved(config_.dst);
  if (resolved && resolved_at_ == Instant()) resolved_at_ = now;
  const uint64_t window = resolved ? 2048 : 1;
  // At most 256 SYNs per poll: the engine's outbox (1024 frames) drains between polls.
  for (int burst = 0; burst < 256 && opened_ < n_ && opened_ - established_ - failed_ < window && !StopRequested();
       ++burst) {
    const uint16_t port = static_cast<uint16_t>(config_.port + opened_ % config_.ports);
    absl::StatusOr<ConnId> id = engine.tcp().Connect(config_.dst, port, Duration::Seconds(10));
    if (!id.ok()) {
      ++failed_;
      ++opened_;
      if (failed_ == 1) std::printf("hold: %s\n", std::string(id.status().message()).c_str());
      continue;
    }
    engine.tcp().SetUserData(*id, kHeldConnection);
    ++opened_;
  }
  if (established_ + failed_ < n_ && !StopRequested()) return;
  holding_ = false;
  const uint64_t rss = ResidentBytes();
  std::printf(
      "holding %llu established connections (%llu failed), opened in %.2f s once ARP resolved (%.2f s "
      "after start); process RSS %.1f MiB (%.1f MiB before they were opened)\n",
      static_cast<unsigned long long>(established_), static_cast<unsigned long long>(failed_),
      (now - resolved_at_).seconds(), (now - start_).seconds(), static_cast<double>(rss) / (1 << 20),
      static_cast<double>(rss_before_) / (1 << 20));
  PrintMemory(stdout, "client", engine.tcp());
  if (server_ != nullptr) {
    std::printf("server holds %zu connections\n", server_->tcp().connections());
    PrintMemory(stdout, "server", server_->tcp());
  }
  std::fflush(stdout);
  if (absl::Status s = inner_.Start(engine); !s.ok()) {
    std::fprintf(stderr, "synack-cps: %s\n", std::string(s.message()).c_str());
    start_failed_ = true;
  }
}

}  // namespace synack::app::cps
