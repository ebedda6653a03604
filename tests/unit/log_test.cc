// synack.* log types: registered with rte_log under their names, off (NOTICE) by default; the cached
// debug mask follows rte_log's levels (the type's and the global one) after RefreshLogLevels, per type; and
// SYNACK_LOG_DEBUG evaluates nothing while its type is off.
#include "lib/base/log.h"

#include <gtest/gtest.h>
#include <rte_log.h>

namespace synack {
namespace {

int g_evaluated = 0;

// rte_log prints nothing above its global level (the test EAL runs quiet: --log-level=4): lift it while
// a test turns a type on.
class GlobalDebug {
 public:
  GlobalDebug() : before_(rte_log_get_global_level()) { rte_log_set_global_level(RTE_LOG_DEBUG); }
  ~GlobalDebug() {
    rte_log_set_global_level(before_);
    RefreshLogLevels();
  }

 private:
  uint32_t before_;
};

int Evaluated() { return ++g_evaluated; }

TEST(Log, TypesAreRegisteredUnderTheirNames) {
  for (LogType t : {LogType::kTcp, LogType::kNet, LogType::kDev, LogType::kCore, LogType::kApp}) {
    const int id = RteLogType(t);
    EXPECT_GE(id, RTE_LOGTYPE_FIRST_EXT_ID) << LogTypeName(t);
    // Registering the name again finds the same type.
    EXPECT_EQ(rte_log_register_type_and_pick_level(LogTypeName(t), RTE_LOG_NOTICE), id) << LogTypeName(t);
  }
  EXPECT_STREQ(LogTypeName(LogType::kTcp), "synack.tcp");
  EXPECT_STREQ(LogTypeName(LogType::kApp), "synack.app");
}

TEST(Log, TheDebugMaskFollowsTheLevelsPerType) {
  GlobalDebug global;
  RefreshLogLevels();
  EXPECT_FALSE(LogDebugEnabled(LogType::kTcp));
  EXPECT_FALSE(LogDebugEnabled(LogType::kNet));
  const int tcp = RteLogType(LogType::kTcp);
  const int before = rte_log_get_level(tcp);
  ASSERT_EQ(rte_log_set_level(tcp, RTE_LOG_DEBUG), 0);
  EXPECT_FALSE(LogDebugEnabled(LogType::kTcp)) << "cached until the next refresh";
  RefreshLogLevels();
  EXPECT_TRUE(LogDebugEnabled(LogType::kTcp));
  EXPECT_FALSE(LogDebugEnabled(LogType::kNet));
  ASSERT_EQ(rte_log_set_level(tcp, static_cast<uint32_t>(before)), 0);
  RefreshLogLevels();
  EXPECT_FALSE(LogDebugEnabled(LogType::kTcp));
}

TEST(Log, DisabledDebugLinesEvaluateNothing) {
  RefreshLogLevels();
  ASSERT_FALSE(LogDebugEnabled(LogType::kCore));
  g_evaluated = 0;
  SYNACK_LOG_DEBUG(kCore, "%d", Evaluated());
  EXPECT_EQ(g_evaluated, 0);
  GlobalDebug global;
  const int core = RteLogType(LogType::kCore);
  const int before = rte_log_get_level(core);
  ASSERT_EQ(rte_log_set_level(core, RTE_LOG_DEBUG), 0);
  RefreshLogLevels();
  SYNACK_LOG_DEBUG(kCore, "log_test: evaluated %d", Evaluated());
  EXPECT_EQ(g_evaluated, 1);
  ASSERT_EQ(rte_log_set_level(core, static_cast<uint32_t>(before)), 0);
  RefreshLogLevels();
}

}  // namespace
}  // namespace synack
