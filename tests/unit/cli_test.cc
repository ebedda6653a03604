// App command lines and EAL argument defaults.
#include <gtest/gtest.h>

#include "apps/common/cli.h"
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

}  // namespace
}  // namespace synack
