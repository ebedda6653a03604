// ListenerTable: the table (port 0 and a second Listen on a port refused, Find, options kept), the queue
// accounting (SYN queue and engine half-open count, accept queue up to its backlog and drained by port),
// every SYN decision in its order (table full, memory, source rate, accept backlog, then the half-open
// bounds under each cookie mode) with each bound tested one below and at its edge, UnderPressure at half
// of each bound (even and odd), and the limiter charged only when a SYN gets that far.
#include "lib/core/listener_table.h"

#include <gtest/gtest.h>

namespace synack {
namespace {

constexpr std::array<uint8_t, 16> kKey = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
constexpr Ipv4Addr kSrc = Ipv4Addr::Of(198, 18, 0, 9);
constexpr SynConditions kClear{};  // room in the table, memory fine, source within its rate

Instant At(int64_t ms) { return Instant() + Duration::Milliseconds(ms); }

ListenerTable::Config Bounds(uint32_t syn_backlog, uint32_t max_half_open, uint32_t accept_backlog,
                             SynCookieMode mode = SynCookieMode::kWhenFull) {
  return ListenerTable::Config{syn_backlog, max_half_open, accept_backlog, mode};
}

// A table listening on port 80 (listener 0) and, when `second`, on port 81 (listener 1).
ListenerTable Table(const ListenerTable::Config& config, bool second = false,
                    const SynSourceLimiter::Config& limit = {}) {
  ListenerTable t(config, limit, kKey);
  EXPECT_TRUE(t.Listen(80, {}).ok());
  if (second) {
    EXPECT_TRUE(t.Listen(81, {}).ok());
  }
  return t;
}

void FillSynQueue(ListenerTable& t, uint32_t li, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) t.EnterSynQueue(li);
}

TEST(ListenerTable, ListenFindAndOptions) {
  ListenerTable t(Bounds(4, 8, 4), {}, kKey);
  EXPECT_EQ(t.Listen(0, {}).code(), absl::StatusCode::kInvalidArgument);
  ConnOptions o;
  o.nodelay = true;
  o.congestion = CongestionAlgorithm::kCubic;
  ASSERT_TRUE(t.Listen(80, o).ok());
  ASSERT_TRUE(t.Listen(443, {}).ok());
  EXPECT_EQ(t.Listen(80, {}).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.Find(80), 0u);
  EXPECT_EQ(t.Find(443), 1u);
  EXPECT_EQ(t.Find(81), ListenerTable::kNone);
  EXPECT_EQ(t.port(1), 443);
  EXPECT_EQ(t.options(0).nodelay, std::optional<bool>(true));
  EXPECT_EQ(t.options(0).congestion, std::optional<CongestionAlgorithm>(CongestionAlgorithm::kCubic));
  EXPECT_FALSE(t.options(1).nodelay.has_value());
}

TEST(ListenerTable, SynQueueAndHalfOpenCounts) {
  ListenerTable t = Table(Bounds(4, 8, 4), true);
  t.EnterSynQueue(0);
  t.EnterSynQueue(0);
  t.EnterSynQueue(1);
  EXPECT_EQ(t.syn_queue(0), 2u);
  EXPECT_EQ(t.syn_queue(1), 1u);
  EXPECT_EQ(t.half_open(), 3u);
  t.LeaveSynQueue(0);
  EXPECT_EQ(t.syn_queue(0), 1u);
  EXPECT_EQ(t.half_open(), 2u);
  t.LeaveSynQueue(1);
  t.LeaveSynQueue(0);
  EXPECT_EQ(t.half_open(), 0u);
}

TEST(ListenerTable, AcceptQueueHoldsItsBacklogAndDrainsByPort) {
  ListenerTable t = Table(Bounds(4, 8, 2), true);
  EXPECT_TRUE(t.EnterAcceptQueue(0));
  EXPECT_TRUE(t.EnterAcceptQueue(0));   // backlog - 1 before: taken
  EXPECT_FALSE(t.EnterAcceptQueue(0));  // at the backlog: refused, nothing counted
  EXPECT_EQ(t.accept_queue(0), 2u);
  EXPECT_TRUE(t.EnterAcceptQueue(1));  // per listener
  t.AcceptDrained(80);
  EXPECT_EQ(t.accept_queue(0), 1u);
  EXPECT_TRUE(t.EnterAcceptQueue(0));
  t.AcceptDrained(9999);  // not listening: nothing changes
  EXPECT_EQ(t.accept_queue(0), 2u);
  EXPECT_EQ(t.accept_queue(1), 1u);
}

TEST(ListenerTable, SynBelowEveryBoundKeepsState) {
  ListenerTable t = Table(Bounds(4, 8, 2));
  EXPECT_EQ(t.DecideSyn(0, kClear), (SynDecision{SynVerdict::kAccept, false}));
}

TEST(ListenerTable, DropsComeInOrderTableMemorySourceAcceptQueue) {
  ListenerTable t = Table(Bounds(1, 1, 1, SynCookieMode::kAlways));
  t.EnterSynQueue(0);                  // half-open queue full too
  ASSERT_TRUE(t.EnterAcceptQueue(0));  // accept queue full
  EXPECT_EQ(t.DecideSyn(0, {true, true, false}), (SynDecision{SynVerdict::kDropTableFull, false}));
  EXPECT_EQ(t.DecideSyn(0, {false, true, false}), (SynDecision{SynVerdict::kDropPressure, false}));
  EXPECT_EQ(t.DecideSyn(0, {false, false, false}), (SynDecision{SynVerdict::kDropSourceLimited, false}));
  EXPECT_EQ(t.DecideSyn(0, {false, false, true}), (SynDecision{SynVerdict::kDropAcceptBacklog, false}));
  t.AcceptDrained(80);
  EXPECT_EQ(t.DecideSyn(0, {false, false, true}), (SynDecision{SynVerdict::kCookie, true}));
}

TEST(ListenerTable, AcceptBacklogEdge) {
  ListenerTable t = Table(Bounds(8, 8, 2));
  ASSERT_TRUE(t.EnterAcceptQueue(0));
  EXPECT_EQ(t.DecideSyn(0, kClear).verdict, SynVerdict::kAccept);  // backlog - 1
  ASSERT_TRUE(t.EnterAcceptQueue(0));
  EXPECT_EQ(t.DecideSyn(0, kClear).verdict, SynVerdict::kDropAcceptBacklog);  // at the backlog
}

TEST(ListenerTable, ListenerSynBacklogEdgeUnderEachCookieMode) {
  for (SynCookieMode mode : {SynCookieMode::kOff, SynCookieMode::kWhenFull, SynCookieMode::kAlways}) {
    SCOPED_TRACE(SynCookieModeName(mode));
    ListenerTable t = Table(Bounds(4, 100, 100, mode));
    FillSynQueue(t, 0, 3);  // one below the listener's backlog
    const SynVerdict below = mode == SynCookieMode::kAlways ? SynVerdict::kCookie : SynVerdict::kAccept;
    EXPECT_EQ(t.DecideSyn(0, kClear), (SynDecision{below, false}));
    t.EnterSynQueue(0);  // at it: counted as overflow whatever the verdict
    const SynVerdict at = mode == SynCookieMode::kOff ? SynVerdict::kDropBacklogFull : SynVerdict::kCookie;
    EXPECT_EQ(t.DecideSyn(0, kClear), (SynDecision{at, true}));
  }
}

TEST(ListenerTable, EngineHalfOpenEdgeCountsEveryListener) {
  for (SynCookieMode mode : {SynCookieMode::kOff, SynCookieMode::kWhenFull}) {
    SCOPED_TRACE(SynCookieModeName(mode));
    ListenerTable t = Table(Bounds(100, 3, 100, mode), true);
    FillSynQueue(t, 1, 2);  // the other listener's half-open connections count against the engine
    EXPECT_EQ(t.DecideSyn(0, kClear), (SynDecision{SynVerdict::kAccept, false}));  // 2 of 3
    t.EnterSynQueue(1);
    const SynVerdict at = mode == SynCookieMode::kOff ? SynVerdict::kDropBacklogFull : SynVerdict::kCookie;
    EXPECT_EQ(t.DecideSyn(0, kClear), (SynDecision{at, true}));  // 3 of 3
    t.LeaveSynQueue(1);
    EXPECT_EQ(t.DecideSyn(0, kClear), (SynDecision{SynVerdict::kAccept, false}));
  }
}

TEST(ListenerTable, UnderPressureFromHalfTheListenerBacklog) {
  ListenerTable even = Table(Bounds(4, 100, 100));
  FillSynQueue(even, 0, 1);
  EXPECT_FALSE(even.UnderPressure(0));  // 2 * 1 < 4
  even.EnterSynQueue(0);
  EXPECT_TRUE(even.UnderPressure(0));  // 2 * 2 >= 4
  ListenerTable odd = Table(Bounds(5, 100, 100));
  FillSynQueue(odd, 0, 2);
  EXPECT_FALSE(odd.UnderPressure(0));  // 2 * 2 < 5
  odd.EnterSynQueue(0);
  EXPECT_TRUE(odd.UnderPressure(0));  // 2 * 3 >= 5
}

TEST(ListenerTable, UnderPressureFromHalfTheEngineBound) {
  ListenerTable t = Table(Bounds(100, 7, 100), true);
  FillSynQueue(t, 1, 3);
  EXPECT_FALSE(t.UnderPressure(0));  // 2 * 3 < 7
  t.EnterSynQueue(1);
  EXPECT_TRUE(t.UnderPressure(0));  // 2 * 4 >= 7, though listener 0 has none
  EXPECT_EQ(t.syn_queue(0), 0u);
}

TEST(ListenerTable, CookieAckChecksOnlySourceAndAcceptQueue) {
  ListenerTable t = Table(Bounds(1, 1, 1, SynCookieMode::kWhenFull));
  t.EnterSynQueue(0);  // half-open bounds do not apply to a cookie
  EXPECT_EQ(t.DecideCookieAck(0, {true, true, true}), SynVerdict::kAccept);
  EXPECT_EQ(t.DecideCookieAck(0, {false, false, false}), SynVerdict::kDropSourceLimited);
  ASSERT_TRUE(t.EnterAcceptQueue(0));
  EXPECT_EQ(t.DecideCookieAck(0, kClear), SynVerdict::kDropAcceptBacklog);
  EXPECT_EQ(t.DecideCookieAck(0, {false, false, false}), SynVerdict::kDropSourceLimited);
}

TEST(ListenerTable, AdmitSynChargesTheSourceOnlyWhenItGetsThatFar) {
  // One SYN per second, no burst: the first charge uses the source's only token.
  ListenerTable t = Table(Bounds(8, 8, 8), false, SynSourceLimiter::Config{1, 1, 64});
  EXPECT_EQ(t.AdmitSyn(At(0), kSrc, 0, true, false).verdict, SynVerdict::kDropTableFull);
  EXPECT_EQ(t.AdmitSyn(At(0), kSrc, 0, false, true).verdict, SynVerdict::kDropPressure);
  EXPECT_EQ(t.AdmitSyn(At(0), kSrc, 0, false, false).verdict, SynVerdict::kAccept);  // the token is still there
  EXPECT_EQ(t.AdmitSyn(At(0), kSrc, 0, false, false).verdict, SynVerdict::kDropSourceLimited);
  EXPECT_EQ(t.AdmitSyn(At(999), kSrc, 0, false, false).verdict, SynVerdict::kDropSourceLimited);
  EXPECT_EQ(t.AdmitSyn(At(1000), kSrc, 0, false, false).verdict, SynVerdict::kAccept);
}

TEST(ListenerTable, AdmitCookieAckChargesTheSource) {
  ListenerTable t = Table(Bounds(8, 8, 8), false, SynSourceLimiter::Config{1, 1, 64});
  EXPECT_EQ(t.AdmitCookieAck(At(0), kSrc, 0), SynVerdict::kAccept);
  EXPECT_EQ(t.AdmitCookieAck(At(0), kSrc, 0), SynVerdict::kDropSourceLimited);
  EXPECT_EQ(t.AdmitSyn(At(0), kSrc, 0, false, false).verdict, SynVerdict::kDropSourceLimited);  // one budget
}

TEST(ListenerTable, LimiterOffAdmitsEverySource) {
  ListenerTable t = Table(Bounds(1000, 1000, 1000));
  for (int i = 0; i < 100; ++i) ASSERT_EQ(t.AdmitSyn(At(0), kSrc, 0, false, false).verdict, SynVerdict::kAccept);
}

TEST(ListenerTable, CookieModeNamesRoundTrip) {
  for (SynCookieMode m : {SynCookieMode::kOff, SynCookieMode::kWhenFull, SynCookieMode::kAlways}) {
    EXPECT_EQ(ParseSynCookieMode(SynCookieModeName(m)), m);
  }
  EXPECT_EQ(ParseSynCookieMode("sometimes"), std::nullopt);
}

}  // namespace
}  // namespace synack
