// App command lines, their JSON and report helpers, and EAL argument defaults.
#include <gtest/gtest.h>

#include "apps/common/addr_flags.h"
#include "apps/common/cli.h"
#include "apps/common/json.h"
#include "apps/common/modes.h"
#include "apps/common/report.h"
#include "lib/dev/capture.h"
#include "lib/dev/eal.h"

namespace synack {
namespace {

TEST(Cli, SplitsAtDoubleDash) {
  const char* argv[] = {"prog", "--vdev", "net_tap0", "--", "--ip", "198.18.0.2/24"};
  cli::SplitArgs s = cli::Split(6, const_cast<char**>(argv));
  EXPECT_EQ(s.eal, (std::vector<std::string>{"--vdev", "net_tap0"}));
  EXPECT_EQ(s.app, (std::vector<std::string>{"--ip", "198.18.0.2/24"}));
}

TEST(Cli, ParsesAndNamesTheBadFlag) {
  std::vector<cli::FlagSpec> specs = {{"ip", true, "address"}, {"port", true, "tcp port"}, {"help", false, ""}};
  absl::StatusOr<cli::Flags> f = cli::Flags::Parse({"--ip", "1.2.3.4/8", "--port=80", "--help"}, specs);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->Get("ip").value(), "1.2.3.4/8");
  EXPECT_EQ(f->GetInt("port", 7, 1, 65535).value(), 80);
  EXPECT_TRUE(f->Has("help"));

  EXPECT_NE(cli::Flags::Parse({"--bogus"}, specs).status().message().find("--bogus"), std::string::npos);
  EXPECT_NE(cli::Flags::Parse({"--ip"}, specs).status().message().find("--ip needs a value"), std::string::npos);
  EXPECT_NE(cli::Flags::Parse({"stray"}, specs).status().message().find("stray"), std::string::npos);
  absl::StatusOr<cli::Flags> bad_port = cli::Flags::Parse({"--port", "70000"}, specs);
  ASSERT_TRUE(bad_port.ok());
  EXPECT_NE(bad_port->GetInt("port", 7, 1, 65535).status().message().find("--port"), std::string::npos);
}

// The message of a failed parse ("" when it succeeded).
template <typename T>
std::string ErrorOf(const absl::StatusOr<T>& r) {
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(PortRange, SingleValueAndRange) {
  struct Case {
    const char* text;
    uint16_t lo, hi;
    uint32_t size;
    const char* printed;
  };
  // One port, a range, a range of one written as a range, the whole port space.
  for (const Case& c : {Case{"5001", 5001, 5001, 1, "5001"}, Case{"5001-5016", 5001, 5016, 16, "5001-5016"},
                        Case{"7-7", 7, 7, 1, "7"}, Case{"1-65535", 1, 65535, 65535, "1-65535"}}) {
    absl::StatusOr<app::PortRange> r = app::ParsePortRange(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status();
    EXPECT_EQ(r->lo, c.lo) << c.text;
    EXPECT_EQ(r->hi, c.hi) << c.text;
    EXPECT_EQ(r->size(), c.size) << c.text;
    EXPECT_EQ(r->ToString(), c.printed) << c.text;
  }
}

TEST(PortRange, RejectsEmptyReversedOutOfRangeAndJunk) {
  EXPECT_NE(ErrorOf(app::ParsePortRange("")).find("empty"), std::string::npos);
  EXPECT_NE(ErrorOf(app::ParsePortRange("-")).find("missing"), std::string::npos);
  EXPECT_NE(ErrorOf(app::ParsePortRange("5001-")).find("missing"), std::string::npos);
  EXPECT_NE(ErrorOf(app::ParsePortRange("-5001")).find("missing"), std::string::npos);
  EXPECT_NE(ErrorOf(app::ParsePortRange("5016-5001")).find("reversed (write 5001-5016)"), std::string::npos);
  EXPECT_NE(ErrorOf(app::ParsePortRange("0")).find("not in 1..65535"), std::string::npos);
  EXPECT_NE(ErrorOf(app::ParsePortRange("65536")).find("not in 1..65535"), std::string::npos);
  EXPECT_NE(ErrorOf(app::ParsePortRange("5001-70000")).find("70000"), std::string::npos);
  EXPECT_NE(ErrorOf(app::ParsePortRange("1000-2000", 1024)).find("not in 1024..65535"), std::string::npos);
  EXPECT_NE(ErrorOf(app::ParsePortRange("http")).find("not a port"), std::string::npos);
  EXPECT_NE(ErrorOf(app::ParsePortRange("1-2-3")).find("not a port"), std::string::npos);
}

TEST(PortRange, FlagErrorsNameTheFlag) {
  std::vector<cli::FlagSpec> specs = {{"port", true, ""}, {"connect", true, ""}};
  absl::StatusOr<cli::Flags> absent = cli::Flags::Parse({}, specs);
  ASSERT_TRUE(absent.ok());
  absl::StatusOr<app::PortRange> d = app::GetPortRange(*absent, "port", {5001, 5001});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->lo, 5001);
  EXPECT_EQ(d->size(), 1u);

  absl::StatusOr<cli::Flags> reversed = cli::Flags::Parse({"--port", "9-3"}, specs);
  ASSERT_TRUE(reversed.ok());
  const std::string msg = ErrorOf(app::GetPortRange(*reversed, "port", {5001, 5001}));
  EXPECT_EQ(msg.rfind("--port: '9-3': ", 0), 0u) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);

  absl::StatusOr<cli::Flags> connect = cli::Flags::Parse({"--connect", "198.18.0.2:5001-5016"}, specs);
  ASSERT_TRUE(connect.ok());
  absl::StatusOr<app::EndpointRange> r = app::ParseConnectRange(*connect, 5001);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->addr.ToString(), "198.18.0.2");
  EXPECT_EQ(r->ports.lo, 5001);
  EXPECT_EQ(r->ports.hi, 5016);
  // A tool that connects to one port refuses the range, naming --connect.
  EXPECT_EQ(ErrorOf(app::ParseConnect(*connect, 5001)).rfind("--connect: ", 0), 0u);
  absl::StatusOr<cli::Flags> single = cli::Flags::Parse({"--connect", "198.18.0.2:5001"}, specs);
  ASSERT_TRUE(single.ok());
  ASSERT_TRUE(app::ParseConnect(*single, 5001).ok());
  EXPECT_EQ(app::ParseConnect(*single, 5001)->port, 5001);
  for (const char* bad :
       {"198.18.0.2:5016-5001", "198.18.0.2:", "198.18.0.2:0-3", "198.18.0.300:5001", "198.18.0.2", "198.18.0.2:1:2"}) {
    absl::StatusOr<cli::Flags> f = cli::Flags::Parse({"--connect", bad}, specs);
    ASSERT_TRUE(f.ok());
    const std::string m = ErrorOf(app::ParseConnectRange(*f, 5001));
    EXPECT_EQ(m.rfind("--connect", 0), 0u) << bad << ": " << m;
  }
}

TEST(Eal, DefaultsNeedNoSetUp) {
  EalConfig c;
  c.user_args = {"--vdev", "net_null0"};
  std::vector<std::string> a = BuildEalArgs(c);
  auto has = [&](const std::string& s) { return std::find(a.begin(), a.end(), s) != a.end(); };
  EXPECT_TRUE(has("--no-huge"));
  EXPECT_TRUE(has("--no-shconf"));
  EXPECT_TRUE(has("512"));
  EXPECT_TRUE(has("net_null0"));
  EXPECT_FALSE(has("--in-memory"));  // DPDK 22.11 rejects it with --no-huge
  EXPECT_TRUE(std::any_of(a.begin(), a.end(), [](const std::string& s) { return s.rfind("--file-prefix=", 0) == 0; }));

  c.hugepages = true;
  a = BuildEalArgs(c);
  EXPECT_TRUE(has("--in-memory"));
  EXPECT_FALSE(has("--no-huge"));

  c.hugepages = false;
  c.user_args = {"-m", "1024", "--file-prefix=mine"};
  a = BuildEalArgs(c);
  EXPECT_FALSE(has("--no-huge"));  // the user chose memory options
  EXPECT_EQ(std::count_if(a.begin(), a.end(), [](const std::string& s) { return s.rfind("--file-prefix", 0) == 0; }),
            1);
}

TEST(Eal, PdumpKeepsTheSharedConfigurationInHugepages) {
  EalConfig c;
  c.pdump = true;
  c.hugepages = true;  // --pdump wins over --hugepages' --in-memory
  std::vector<std::string> a = BuildEalArgs(c);
  auto has = [&](const std::string& s) { return std::find(a.begin(), a.end(), s) != a.end(); };
  EXPECT_FALSE(has("--no-huge"));    // a secondary cannot attach to a --no-huge primary
  EXPECT_FALSE(has("--no-shconf"));  // nor find one without its shared configuration
  EXPECT_FALSE(has("--in-memory"));  // which --in-memory also drops
  // Lcore id 0 stays dpdk-dumpcap's: the engines' ids start at 1.
  auto lcores = std::find(a.begin(), a.end(), "--lcores");
  ASSERT_NE(lcores, a.end());
  EXPECT_EQ(lcores[1].rfind("1@", 0), 0u) << lcores[1];
  EXPECT_EQ(FirstCpusLcoreArgs(1, 1)[0], "--lcores");
  c.user_args = {"--no-huge"};
  absl::Status s = InitEal(c);  // refused before the EAL starts
  EXPECT_EQ(s.message().substr(0, 9), "--pdump: ") << s;
}

TEST(Capture, SpecIsFileAndOptionalCount) {
  absl::StatusOr<CaptureConfig> c = ParseCaptureSpec("/tmp/x.pcapng");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->path, "/tmp/x.pcapng");
  EXPECT_EQ(c->count, 0u);
  EXPECT_EQ(c->Describe(), "/tmp/x.pcapng");
  c = ParseCaptureSpec("out.pcapng,count=1000");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->path, "out.pcapng");
  EXPECT_EQ(c->count, 1000u);
  EXPECT_EQ(c->Describe(), "out.pcapng,count=1000");
  for (const char* bad : {"", ",count=5", "x,count=0", "x,count=", "x,count=-1", "x,count=2e3", "x,snaplen=64",
                          "x,count=1099511627777"}) {
    absl::StatusOr<CaptureConfig> r = ParseCaptureSpec(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(ErrorOf(r).rfind("--pcap: ", 0), 0u) << ErrorOf(r);
  }
}

TEST(Capture, FlagsReachTheStackConfig) {
  std::vector<cli::FlagSpec> specs = app::CommonFlags();
  absl::StatusOr<cli::Flags> f =
      cli::Flags::Parse({"--ip", "198.18.0.2/24", "--pcap", "/tmp/c.pcapng,count=7", "--pdump"}, specs);
  ASSERT_TRUE(f.ok()) << f.status();
  absl::StatusOr<app::CommonOptions> o = app::ParseCommon(*f);
  ASSERT_TRUE(o.ok()) << o.status();
  StackConfig sc = app::MakeStackConfig("t", {}, *o, {});
  EXPECT_EQ(sc.capture.path, "/tmp/c.pcapng");
  EXPECT_EQ(sc.capture.count, 7u);
  EXPECT_TRUE(sc.pdump);
  f = cli::Flags::Parse({"--ip", "198.18.0.2/24", "--pcap", "/nonexistent-synack-dir/c.pcapng"}, specs);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(ErrorOf(app::ParseCommon(*f)).rfind("--pcap: ", 0), 0u);
}

TEST(Json, QuotesAndEscapes) {
  EXPECT_EQ(app::JsonQuote("plain"), "\"plain\"");
  EXPECT_EQ(app::JsonQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(app::JsonQuote("l1\nl2\tx\r"), "\"l1\\nl2\\tx\\r\"");
  EXPECT_EQ(app::JsonQuote(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
  EXPECT_EQ(app::JsonQuote("µs"), "\"µs\"");  // UTF-8 passes through
}

TEST(Json, NestsWithCommasAndNumbersAsNumbers) {
  app::JsonWriter w;
  w.BeginObject()
      .String("name", "x\"y")
      .Uint("big", 18446744073709551615ull)
      .Int("neg", -3)
      .Double("half", 0.5)
      .Double("inf", 1.0 / 0.0)
      .Bool("yes", true)
      .BeginArray("list")
      .Uint("ignored key", 1)
      .BeginObject()
      .EndObject()
      .BeginArray()
      .EndArray()
      .EndArray()
      .BeginObject("empty")
      .EndObject()
      .EndObject();
  EXPECT_EQ(w.str(),
            "{\"name\":\"x\\\"y\",\"big\":18446744073709551615,\"neg\":-3,\"half\":0.5,\"inf\":null,"
            "\"yes\":true,\"list\":[1,{},[]],\"empty\":{}}");
}

TEST(Output, IntervalIsValidatedAndNamed) {
  std::vector<cli::FlagSpec> specs = app::OutputFlags();
  auto parse = [&](std::vector<std::string> args) {
    absl::StatusOr<cli::Flags> f = cli::Flags::Parse(args, specs);
    EXPECT_TRUE(f.ok()) << f.status();
    return app::ParseOutput(*f);
  };
  absl::StatusOr<app::OutputOptions> d = parse({});
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->json);
  EXPECT_EQ(d->interval.ns(), 1000000000);
  absl::StatusOr<app::OutputOptions> o = parse({"--json", "--interval", "0.25"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->json);
  EXPECT_EQ(o->interval.ns(), 250000000);
  EXPECT_EQ(parse({"--interval=3600"})->interval.ns(), int64_t{3600} * 1000000000);
  for (const char* bad : {"0", "0.09", "-1", "3600.5", "x", "", "nan", "inf", "1s"}) {
    absl::StatusOr<app::OutputOptions> r = parse({"--interval", bad});
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(ErrorOf(r).rfind("--interval: ", 0), 0u) << ErrorOf(r);
  }
}

TEST(Report, ProgressTimeAndPeriod) {
  EXPECT_EQ(app::ProgressTime(Duration::Milliseconds(2500), Duration::Seconds(1)), "2");
  EXPECT_EQ(app::ProgressTime(Duration::Milliseconds(2500), Duration::Milliseconds(500)), "2.5");
  app::PerSecond p;
  const Instant t0 = Instant::FromNanoseconds(1000);
  p.Start(t0, 10, Duration::Milliseconds(500));
  EXPECT_FALSE(p.Due(t0 + Duration::Milliseconds(499)));
  EXPECT_TRUE(p.Due(t0 + Duration::Milliseconds(500)));
  app::PerSecond::Interval i = p.Tick(t0 + Duration::Milliseconds(500), 25);
  EXPECT_EQ(i.delta, 15u);
  EXPECT_EQ(i.elapsed.ns(), 500000000);
  EXPECT_TRUE(p.Due(t0 + Duration::Seconds(1)));
  p.Tick(t0 + Duration::Seconds(3), 30);  // late: the next is a period after this one
  EXPECT_FALSE(p.Due(t0 + Duration::Milliseconds(3499)));
  EXPECT_TRUE(p.Due(t0 + Duration::Milliseconds(3500)));
}

}  // namespace
}  // namespace synack
