// SYN cookies (RFC 4987) and the per-source SYN limiter: round trips for every MSS table entry, expiry
// after the time slots pass, forged and replayed cookies, window scale and SACK recovered from
// timestamps, and a connection opened straight into ESTABLISHED from a cookie with exact segments.
#include <random>

#include <gtest/gtest.h>

#include "lib/core/syn_limiter.h"
#include "lib/tcp/connection.h"
#include "lib/tcp/syn_cookie.h"

namespace synack {
namespace {

using namespace tcp_flags;

constexpr std::array<uint8_t, 16> kKey = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
const CookieTuple kTuple{Ipv4Addr::Of(198, 18, 0, 1), Ipv4Addr::Of(198, 18, 0, 2), 80, 40000};
constexpr uint32_t kClientIsn = 0xfffffff0;  // the ACK's SEG.SEQ - 1 wraps past zero

Instant At(int64_t ms) { return Instant() + Duration::Milliseconds(ms); }

// The peer's ACK of our cookie SYN-ACK.
TcpSegment AckFor(SeqNum cookie, uint32_t client_isn = kClientIsn, std::optional<uint32_t> tsecr = std::nullopt) {
  TcpSegment s;
  s.src_port = kTuple.remote_port;
  s.dst_port = kTuple.local_port;
  s.seq = SeqNum(client_isn) + 1;
  s.ack = cookie + 1;
  s.flags = kAck;
  s.window = 1000;
  if (tsecr) s.options.timestamps = TcpTimestamps{777, *tsecr};
  return s;
}

TEST(SynCookie, RoundTripForEveryMssTableEntry) {
  SynCookieJar jar(kKey);
  for (size_t i = 0; i < kCookieMssTable.size(); ++i) {
    for (uint16_t peer_mss : {kCookieMssTable[i], static_cast<uint16_t>(kCookieMssTable[i] + 1)}) {
      const SeqNum cookie = jar.Encode(At(5000), kTuple, SeqNum(kClientIsn), peer_mss);
      CookieSyn got;
      ASSERT_EQ(jar.Check(At(5001), kTuple, AckFor(cookie), got), CookieCheck::kValid) << "mss " << peer_mss;
      EXPECT_EQ(got.mss, kCookieMssTable[i]) << "peer mss " << peer_mss << " rounds down to the table";
      EXPECT_EQ(got.iss, cookie);
      EXPECT_EQ(got.irs, SeqNum(kClientIsn));
      EXPECT_FALSE(got.timestamps);
      EXPECT_FALSE(got.peer_wscale.has_value());
      EXPECT_FALSE(got.sack_permitted);
    }
  }
  // Below the smallest entry: the RFC 9293 default of 536.
  const SeqNum cookie = jar.Encode(At(0), kTuple, SeqNum(kClientIsn), 200);
  CookieSyn got;
  ASSERT_EQ(jar.Check(At(0), kTuple, AckFor(cookie), got), CookieCheck::kValid);
  EXPECT_EQ(got.mss, 536);
}

TEST(SynCookie, ValidForItsSlotAndTheNextThenExpired) {
  SynCookieJar jar(kKey, SynCookieJar::Config{Duration::Seconds(64), 2});
  const SeqNum cookie = jar.Encode(At(10'000), kTuple, SeqNum(kClientIsn), 1460);  // slot 0
  CookieSyn got;
  EXPECT_EQ(jar.Check(At(63'999), kTuple, AckFor(cookie), got), CookieCheck::kValid);
  EXPECT_EQ(jar.Check(At(127'999), kTuple, AckFor(cookie), got), CookieCheck::kValid);    // slot 1
  EXPECT_EQ(jar.Check(At(128'000), kTuple, AckFor(cookie), got), CookieCheck::kExpired);  // slot 2
  EXPECT_EQ(jar.Check(At(20 * 64'000), kTuple, AckFor(cookie), got), CookieCheck::kExpired);

  // One-slot lifetime: the next slot already rejects it.
  SynCookieJar strict(kKey, SynCookieJar::Config{Duration::Seconds(1), 1});
  const SeqNum c1 = strict.Encode(At(500), kTuple, SeqNum(kClientIsn), 1460);
  EXPECT_EQ(strict.Check(At(999), kTuple, AckFor(c1), got), CookieCheck::kValid);
  EXPECT_EQ(strict.Check(At(1000), kTuple, AckFor(c1), got), CookieCheck::kExpired);
}

TEST(SynCookie, SlotNumberWrapDoesNotReviveOldCookies) {
  // The cookie stores the slot modulo 32; 32 slots later the number matches again, but the slot key
  // (and the MAC) differ.
  SynCookieJar jar(kKey, SynCookieJar::Config{Duration::Seconds(1), 2});
  const SeqNum cookie = jar.Encode(At(100), kTuple, SeqNum(kClientIsn), 1460);
  CookieSyn got;
  EXPECT_EQ(jar.Check(At(32'100), kTuple, AckFor(cookie), got), CookieCheck::kBadMac);
  // Across the wrap of the 5-bit number itself (slot 31 -> 32) cookies stay valid.
  const SeqNum late = jar.Encode(At(31'500), kTuple, SeqNum(kClientIsn), 1460);
  EXPECT_EQ(jar.Check(At(32'200), kTuple, AckFor(late), got), CookieCheck::kValid);
}

TEST(SynCookie, ForgedCookiesRejected) {
  SynCookieJar jar(kKey);
  const SeqNum cookie = jar.Encode(At(1000), kTuple, SeqNum(kClientIsn), 1460);
  CookieSyn got;
  // Bound to the 4-tuple, the client's ISN and the secret.
  CookieTuple other = kTuple;
  other.remote_port = 40001;
  EXPECT_NE(jar.Check(At(1000), other, AckFor(cookie), got), CookieCheck::kValid);
  other = kTuple;
  other.remote = Ipv4Addr::Of(198, 18, 0, 3);
  EXPECT_NE(jar.Check(At(1000), other, AckFor(cookie), got), CookieCheck::kValid);
  EXPECT_NE(jar.Check(At(1000), kTuple, AckFor(cookie, kClientIsn + 1), got), CookieCheck::kValid);
  EXPECT_NE(jar.Check(At(1000), kTuple, AckFor(cookie + 1), got), CookieCheck::kValid);
  EXPECT_NE(jar.Check(At(1000), kTuple, AckFor(cookie - (1u << 24)), got), CookieCheck::kValid)
      << "a different MSS index is not a valid cookie";
  // Guessing: 200k random ACKs, none accepted (a 24-bit MAC: expected 0.02 successes even with a
  // valid slot number, and only 2 of 32 slot numbers are).
  std::mt19937 rng(42);
  int accepted = 0;
  for (int i = 0; i < 200'000; ++i) {
    if (jar.Check(At(1000), kTuple, AckFor(SeqNum(rng()), rng()), got) == CookieCheck::kValid) ++accepted;
  }
  EXPECT_EQ(accepted, 0);
  // A new master secret invalidates what the old one issued (slot keys cached before are dropped).
  ASSERT_EQ(jar.Check(At(1000), kTuple, AckFor(cookie), got), CookieCheck::kValid);
  jar.Rekey({9, 9, 9});
  EXPECT_NE(jar.Check(At(1000), kTuple, AckFor(cookie), got), CookieCheck::kValid);
}

// Stray ACKs at a listener (e.g. for connections already gone) are checked as cookies too: they must
// count as not-ours, not as expired cookies, whatever slot number their bits happen to decode to.
TEST(SynCookie, RandomAcksAreBadMacNotExpired) {
  SynCookieJar jar(kKey);
  std::mt19937 rng(7);
  CookieSyn got;
  int expired = 0;
  for (int i = 0; i < 100'000; ++i) {
    if (jar.Check(At(40 * 64'000), kTuple, AckFor(SeqNum(rng()), rng()), got) == CookieCheck::kExpired) ++expired;
  }
  EXPECT_EQ(expired, 0);
}

TEST(SynCookie, ReplayedAfterItsLifetimeRejected) {
  SynCookieJar jar(kKey);
  const SeqNum cookie = jar.Encode(At(0), kTuple, SeqNum(kClientIsn), 1460);
  CookieSyn got;
  const TcpSegment ack = AckFor(cookie);
  ASSERT_EQ(jar.Check(At(1), kTuple, ack, got), CookieCheck::kValid);
  EXPECT_EQ(jar.Check(At(3 * 64'000), kTuple, ack, got), CookieCheck::kExpired);
}

TEST(SynCookie, TheCookieItselfRevealsNothingFixed) {
  // The slot and MSS bits are hidden under a keyed hash of the 4-tuple: two tuples in the same slot
  // with the same MSS get unrelated top bits.
  SynCookieJar jar(kKey);
  int same_top = 0;
  for (uint16_t port = 1; port <= 256; ++port) {
    CookieTuple a = kTuple, b = kTuple;
    a.remote_port = port;
    b.remote_port = static_cast<uint16_t>(port + 1000);
    const uint32_t ca = jar.Encode(At(0), a, SeqNum(1), 1460).raw();
    const uint32_t cb = jar.Encode(At(0), b, SeqNum(1), 1460).raw();
    if ((ca >> 24) == (cb >> 24)) ++same_top;
  }
  EXPECT_LT(same_top, 16);  // ~1 in 256 by chance
}

TEST(SynCookie, WindowScaleAndSackTravelInTimestamps) {
  for (int ws = -1; ws <= 15; ++ws) {
    for (bool sack : {false, true}) {
      const std::optional<uint8_t> want_ws = ws < 0 ? std::nullopt : std::optional<uint8_t>(static_cast<uint8_t>(ws));
      for (int64_t ms : {0LL, 5LL, 63LL, 64LL, 1'000'003LL}) {
        const uint32_t tsval = SynCookieJar::EncodeTsval(At(ms), want_ws, sack);
        const uint32_t clock = static_cast<uint32_t>(ms);
        EXPECT_LE(static_cast<int32_t>(tsval - clock), 0) << "never ahead of the clock";
        EXPECT_LT(clock - tsval, 64u);
        std::optional<uint8_t> got_ws;
        bool got_sack = false;
        SynCookieJar::DecodeTsecr(tsval, got_ws, got_sack);
        EXPECT_EQ(got_sack, sack);
        if (ws < 0) {
          EXPECT_FALSE(got_ws.has_value());
        } else {
          ASSERT_TRUE(got_ws.has_value());
          EXPECT_EQ(*got_ws, std::min(ws, 14)) << "RFC 7323: shifts above 14 are taken as 14";
        }
      }
    }
  }
}

TEST(SynCookie, TsecrIgnoredWhenOurSynAcksCarryNoTimestamps) {
  // With timestamps off, our cookie SYN-ACK had no TSval, so whatever TSecr comes back encodes nothing.
  SynCookieJar::Config config;
  config.timestamps = false;
  SynCookieJar jar(kKey, config);
  const SeqNum cookie = jar.Encode(At(0), kTuple, SeqNum(kClientIsn), 1460);
  const uint32_t tsecr = SynCookieJar::EncodeTsval(At(0), 7, true);
  CookieSyn got;
  ASSERT_EQ(jar.Check(At(1), kTuple, AckFor(cookie, kClientIsn, tsecr), got), CookieCheck::kValid);
  EXPECT_FALSE(got.timestamps);
  EXPECT_FALSE(got.peer_wscale.has_value());
  EXPECT_FALSE(got.sack_permitted);
  // The same ACK at a jar whose SYN-ACKs carried timestamps recovers both.
  SynCookieJar with_ts(kKey);
  const SeqNum c2 = with_ts.Encode(At(0), kTuple, SeqNum(kClientIsn), 1460);
  ASSERT_EQ(with_ts.Check(At(1), kTuple, AckFor(c2, kClientIsn, tsecr), got), CookieCheck::kValid);
  EXPECT_EQ(got.peer_wscale, std::optional<uint8_t>(7));
  EXPECT_TRUE(got.sack_permitted);
}

TEST(SynCookie, CookieSynAckOffersOptionsOnlyWithTimestamps) {
  TcpConfig config;
  TcpSegment syn;
  syn.src_port = 40000;
  syn.dst_port = 80;
  syn.seq = SeqNum(kClientIsn);
  syn.flags = kSyn;
  syn.options.mss = 1400;
  syn.options.window_scale = 9;
  syn.options.sack_permitted = true;
  // No timestamps: MSS only, so neither side scales windows or uses SACK.
  TcpSegment sa = CookieSynAck(At(70'000), syn, SeqNum(1234), config);
  EXPECT_EQ(sa.flags, kSyn | kAck);
  EXPECT_EQ(sa.seq, SeqNum(1234));
  EXPECT_EQ(sa.ack, SeqNum(kClientIsn + 1));
  EXPECT_EQ(sa.src_port, 80);
  EXPECT_EQ(sa.dst_port, 40000);
  EXPECT_EQ(sa.options.mss, config.mss);
  EXPECT_FALSE(sa.options.window_scale.has_value());
  EXPECT_FALSE(sa.options.sack_permitted);
  EXPECT_FALSE(sa.options.timestamps.has_value());
  // With timestamps: everything the peer offered, and TSval carries the peer's shift and SACK.
  syn.options.timestamps = TcpTimestamps{4242, 0};
  sa = CookieSynAck(At(70'000), syn, SeqNum(1234), config);
  EXPECT_EQ(sa.options.window_scale, config.window_scale);
  EXPECT_TRUE(sa.options.sack_permitted);
  ASSERT_TRUE(sa.options.timestamps.has_value());
  EXPECT_EQ(sa.options.timestamps->tsecr, 4242u);
  std::optional<uint8_t> ws;
  bool sack = false;
  SynCookieJar::DecodeTsecr(sa.options.timestamps->tsval, ws, sack);
  EXPECT_EQ(ws, std::optional<uint8_t>(9));
  EXPECT_TRUE(sack);
}

// The whole passive open through a cookie, with exact segments: the listener's SYN-ACK, the peer's
// ACK carrying data, the connection ESTABLISHED with the options the SYN asked for.
TEST(SynCookie, ConnectionFromCookieIsEstablishedWithTheSynsOptions) {
  TcpConfig config;      // defaults: timestamps, SACK, window scale 7, rcv_buffer 256 KiB
  config.quickacks = 0;  // the data ACK is delayed (quick ACKs are tested with the connection)
  TcpCounters counters;
  ChallengeAckLimiter limiter;
  SynCookieJar jar(kKey);
  TcpSegment syn;
  syn.src_port = kTuple.remote_port;
  syn.dst_port = kTuple.local_port;
  syn.seq = SeqNum(kClientIsn);
  syn.flags = kSyn;
  syn.window = 64240;
  syn.options.mss = 1460;
  syn.options.window_scale = 7;
  syn.options.sack_permitted = true;
  syn.options.timestamps = TcpTimestamps{100, 0};
  const Instant t0 = At(90'000);
  const SeqNum cookie = jar.Encode(t0, kTuple, syn.seq, *syn.options.mss);
  const TcpSegment sa = CookieSynAck(t0, syn, cookie, config);

  TcpSegment ack = AckFor(cookie, kClientIsn, sa.options.timestamps->tsval);
  ack.flags = kAck | kPsh;
  ack.window = 502;  // scaled by 2^7 from now on
  ack.payload_len = 64;
  ack.options.timestamps = TcpTimestamps{101, sa.options.timestamps->tsval};
  CookieSyn c;
  ASSERT_EQ(jar.Check(t0 + Duration::Milliseconds(1), kTuple, ack, c), CookieCheck::kValid);

  const TcpContext ctx{&config, &counters, &limiter};
  TcpConnection conn(&ctx);
  TcpOutput out;
  const Instant t1 = t0 + Duration::Milliseconds(1);
  conn.AcceptCookie(t1, c, ack, out);
  EXPECT_EQ(conn.CheckInvariants(), "");
  EXPECT_EQ(conn.state(), TcpState::kEstablished);
  EXPECT_TRUE(out.events & tcp_events::kConnected);
  EXPECT_EQ(out.deliver_offset, 0u);
  EXPECT_EQ(out.deliver_len, 64u);
  EXPECT_TRUE(out.segments.empty()) << "the data's ACK is delayed like any other: " << ToString(out.segments[0].seg);
  EXPECT_EQ(conn.iss(), cookie);
  EXPECT_EQ(conn.irs(), SeqNum(kClientIsn));
  EXPECT_EQ(conn.snd_una(), cookie + 1);
  EXPECT_EQ(conn.rcv_nxt(), SeqNum(kClientIsn) + 1 + 64);
  EXPECT_EQ(conn.snd_wnd(), 502u << 7);
  EXPECT_EQ(conn.snd_wscale(), 7);
  EXPECT_EQ(conn.rcv_wscale(), config.window_scale);
  EXPECT_TRUE(conn.ts_enabled());
  EXPECT_TRUE(conn.sack_enabled());
  EXPECT_EQ(conn.snd_mss(), 1460 - 12);
  EXPECT_EQ(counters.rtt_samples, 0u) << "the rounded cookie TSval gives no RTT sample";
  EXPECT_EQ(
      counters.transitions[static_cast<size_t>(TcpState::kSynReceived)][static_cast<size_t>(TcpState::kEstablished)],
      1u);
  // When the SYN came is unknown (no state was kept): no handshake sample; the lifetime starts now.
  EXPECT_EQ(counters.phases.open_passive.count(), 0u);
  EXPECT_EQ(counters.phases.open_active.count(), 0u);

  // Our reply carries the peer's TSval and the right sequence numbers.
  out.Clear();
  conn.OnTimer(t1 + config.delayed_ack, out);
  ASSERT_EQ(out.segments.size(), 1u);
  const TcpSegment& a = out.segments[0].seg;
  EXPECT_EQ(a.flags, kAck);
  EXPECT_EQ(a.seq, cookie + 1);
  EXPECT_EQ(a.ack, SeqNum(kClientIsn) + 1 + 64);
  ASSERT_TRUE(a.options.timestamps.has_value());
  EXPECT_EQ(a.options.timestamps->tsecr, 101u);
  EXPECT_EQ(conn.CheckInvariants(), "");
}

TEST(SynCookie, ConnectionFromCookieWithoutTimestampsUsesNoScaling) {
  TcpConfig config;
  TcpCounters counters;
  ChallengeAckLimiter limiter;
  SynCookieJar jar(kKey);
  const SeqNum cookie = jar.Encode(At(0), kTuple, SeqNum(kClientIsn), 1300);
  TcpSegment ack = AckFor(cookie);
  ack.window = 29200;
  CookieSyn c;
  ASSERT_EQ(jar.Check(At(2), kTuple, ack, c), CookieCheck::kValid);
  const TcpContext ctx{&config, &counters, &limiter};
  TcpConnection conn(&ctx);
  TcpOutput out;
  conn.AcceptCookie(At(2), c, ack, out);
  EXPECT_EQ(conn.CheckInvariants(), "");
  EXPECT_EQ(conn.state(), TcpState::kEstablished);
  EXPECT_FALSE(conn.ts_enabled());
  EXPECT_FALSE(conn.sack_enabled());
  EXPECT_EQ(conn.snd_wscale(), 0);
  EXPECT_EQ(conn.rcv_wscale(), 0);
  EXPECT_EQ(conn.snd_wnd(), 29200u);
  EXPECT_EQ(conn.snd_mss(), 1300);
  EXPECT_TRUE(out.segments.empty());
}

TEST(SynSourceLimiter, BurstThenRate) {
  SynSourceLimiter lim(SynSourceLimiter::Config{10, 5, 64}, kKey);  // 10/s, bursts of 5
  const Ipv4Addr a = Ipv4Addr::Of(198, 18, 0, 9);
  int allowed = 0;
  for (int i = 0; i < 50; ++i) allowed += lim.Allow(At(0), a);
  EXPECT_EQ(allowed, 5);
  EXPECT_FALSE(lim.Allow(At(99), a));
  EXPECT_TRUE(lim.Allow(At(100), a)) << "one token per 100 ms";
  EXPECT_FALSE(lim.Allow(At(150), a));
  // Another source is independent.
  EXPECT_TRUE(lim.Allow(At(150), Ipv4Addr::Of(198, 18, 0, 10)));
  // Over one second at 1 SYN/ms, a source gets its burst plus ~10.
  SynSourceLimiter lim2(SynSourceLimiter::Config{10, 5, 64}, kKey);
  allowed = 0;
  for (int ms = 0; ms < 1000; ++ms) allowed += lim2.Allow(At(ms), a);
  EXPECT_GE(allowed, 14);
  EXPECT_LE(allowed, 15);
}

TEST(SynSourceLimiter, TableIsBoundedAndHeavyHittersStayLimited) {
  SynSourceLimiter lim(SynSourceLimiter::Config{100, 4, 256}, kKey);
  const Ipv4Addr heavy = Ipv4Addr::Of(198, 18, 0, 66);
  int heavy_allowed = 0;
  // 100k spoofed one-off sources interleaved with one source sending 10 SYNs per ms.
  for (uint32_t i = 0; i < 100'000; ++i) {
    const Instant now = Instant() + Duration::Microseconds(i * 10);
    EXPECT_TRUE(lim.Allow(now, Ipv4Addr{0xc6130000u + i})) << "a new source always has its burst";
    if (i % 10 == 0) heavy_allowed += lim.Allow(now, heavy);
  }
  EXPECT_LE(lim.tracked(), lim.capacity());
  EXPECT_EQ(lim.capacity(), 256u);
  // 1 s of traffic at 100/s plus a burst of 4, whatever the churn did.
  EXPECT_GE(heavy_allowed, 100);
  EXPECT_LE(heavy_allowed, 106);
}

TEST(SynSourceLimiter, DisabledAllowsEverything) {
  SynSourceLimiter lim(SynSourceLimiter::Config{0, 1, 16}, kKey);
  EXPECT_FALSE(lim.enabled());
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(lim.Allow(At(0), Ipv4Addr::Of(1, 2, 3, 4)));
  EXPECT_EQ(lim.capacity(), 0u);
}

}  // namespace
}  // namespace synack
