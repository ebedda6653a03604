#include "lib/base/log.h"

#include <cstdarg>
#include <cstdio>

#include <rte_log.h>

namespace synack {

static_assert(RTE_LOG_DEBUG == SYNACK_RTE_LOG_DEBUG);

std::atomic<uint32_t> g_log_debug_mask{0};

namespace {

constexpr const char* kNames[kLogTypes] = {"synack.tcp", "synack.net", "synack.dev", "synack.core", "synack.app"};
int g_types[kLogTypes] = {RTE_LOGTYPE_USER1, RTE_LOGTYPE_USER1, RTE_LOGTYPE_USER1, RTE_LOGTYPE_USER1,
                          RTE_LOGTYPE_USER1};

// At load time, before rte_eal_init parses --log-level (which also applies to types registered later).
__attribute__((constructor)) void RegisterLogTypes() {
  for (int i = 0; i < kLogTypes; ++i) {
    const int t = rte_log_register_type_and_pick_level(kNames[i], RTE_LOG_NOTICE);
    if (t >= 0) g_types[i] = t;
  }
}

}  // namespace

int RteLogType(LogType t) { return g_types[static_cast<int>(t)]; }

const char* LogTypeName(LogType t) { return kNames[static_cast<int>(t)]; }

void RefreshLogLevels() {
  uint32_t mask = 0;
  for (int i = 0; i < kLogTypes; ++i) {
    if (rte_log_can_log(static_cast<uint32_t>(g_types[i]), RTE_LOG_DEBUG)) mask |= 1u << i;
  }
  g_log_debug_mask.store(mask, std::memory_order_relaxed);
}

void Log(LogType t, uint32_t level, const char* format, ...) {
  const uint32_t type = static_cast<uint32_t>(RteLogType(t));
  if (!rte_log_can_log(type, level)) return;
  char line[512];
  va_list ap;
  va_start(ap, format);
  std::vsnprintf(line, sizeof(line), format, ap);
  va_end(ap);
  rte_log(level, type, "%s: %s\n", LogTypeName(t), line);
}

}  // namespace synack
