// Synack's log types on DPDK's rte_log: synack.tcp (state transitions), synack.net (drops), synack.dev
// (EAL and ports), synack.core (engines, listeners, SYN drops), synack.app (applications). They are
// registered when the library loads (rte_log_register_type_and_pick_level, default level NOTICE), so EAL
// options such as `--log-level='synack.*:debug'` or `--log-level=synack.tcp:debug` turn them on.
//
// Cost when off: SYNACK_LOG_DEBUG tests one bit of a cached mask (a relaxed atomic load and a branch) and
// formats nothing. The mask caches rte_log_can_log(type, RTE_LOG_DEBUG) for every type; RefreshLogLevels
// re-reads it (after rte_eal_init, when an engine starts and in each engine's 100 ms housekeeping), so a
// level changed at run time (rte_log_set_level) takes effect within 100 ms.
//
// Threading: any thread may log and read the mask; RefreshLogLevels from any thread (the mask is atomic).
#pragma once

#include <atomic>
#include <cstdint>

namespace synack {

enum class LogType : uint8_t { kTcp, kNet, kDev, kCore, kApp };
inline constexpr int kLogTypes = 5;

/// The rte_log type id of `t` ("synack.tcp", ...).
int RteLogType(LogType t);
/// "synack.tcp", ...
const char* LogTypeName(LogType t);

/// Bit (1 << t): debug lines of type t are on (the cache RefreshLogLevels fills).
extern std::atomic<uint32_t> g_log_debug_mask;
inline bool LogDebugEnabled(LogType t) {
  return (g_log_debug_mask.load(std::memory_order_relaxed) >> static_cast<uint32_t>(t)) & 1u;
}
/// Re-reads which types log at debug level into the mask.
void RefreshLogLevels();

/// Logs one line at `level` (RTE_LOG_ERR ... RTE_LOG_DEBUG) as "<type name>: <message>\n". Formats only
/// when rte_log would print it.
void Log(LogType t, uint32_t level, const char* format, ...) __attribute__((format(printf, 3, 4)));

}  // namespace synack

/// A debug line of type `type` (a LogType enumerator's name: kTcp, kNet, ...), formatted only when enabled.
#define SYNACK_LOG_DEBUG(type, ...)                                                \
  do {                                                                             \
    if (__builtin_expect(::synack::LogDebugEnabled(::synack::LogType::type), 0)) { \
      ::synack::Log(::synack::LogType::type, SYNACK_RTE_LOG_DEBUG, __VA_ARGS__);   \
    }                                                                              \
  } while (0)
/// RTE_LOG_DEBUG without including rte_log.h in every user of this header.
#define SYNACK_RTE_LOG_DEBUG 8U
