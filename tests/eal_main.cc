// gtest main for test binaries that need DPDK: starts the EAL before any test runs.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>
#include <rte_eal.h>

#include "lib/dev/eal.h"
#include "lib/dev/port.h"
#include "tests/eal_env.h"

namespace synack::testing {
namespace {
rte_mempool* g_pool = nullptr;
rte_mempool* g_indirect = nullptr;
}  // namespace

rte_mempool* TestPool() { return g_pool; }
rte_mempool* TestIndirectPool() { return g_indirect; }

RingPorts MakeRingPorts(const std::string& name) {
  RingPorts ports;
  absl::StatusOr<RingPair> rp = CreateRingPair(name, 1, 4096);
  EXPECT_TRUE(rp.ok()) << rp.status();
  if (!rp.ok()) return ports;
  ports.pair = *rp;
  PortConfig pc;
  pc.pool = TestPool();
  pc.port_id = rp->a;
  ports.a = ConfigurePort(pc)->mac;
  pc.port_id = rp->b;
  ports.b = ConfigurePort(pc)->mac;
  return ports;
}

class EalEnvironment : public ::testing::Environment {
 public:
  explicit EalEnvironment(std::vector<std::string> extra) : extra_(std::move(extra)) {}
  void SetUp() override {
    EalConfig c;
    c.program_name = "synack-test";
    c.user_args = {"--no-pci", "-l", "0-1"};  // two lcores: multi-engine tests launch a worker
    c.user_args.insert(c.user_args.end(), extra_.begin(), extra_.end());
    absl::Status s = InitEal(c);
    if (!s.ok()) {
      std::fprintf(stderr, "EAL start failed: %s\n", std::string(s.message()).c_str());
      std::exit(1);
    }
    absl::StatusOr<rte_mempool*> pool = CreateMbufPool("test_pool", 4095);
    if (!pool.ok()) {
      std::fprintf(stderr, "%s\n", std::string(pool.status().message()).c_str());
      std::exit(1);
    }
    g_pool = *pool;
    absl::StatusOr<rte_mempool*> indirect = CreateIndirectPool("test_indirect", 8191);
    if (!indirect.ok()) {
      std::fprintf(stderr, "%s\n", std::string(indirect.status().message()).c_str());
      std::exit(1);
    }
    g_indirect = *indirect;
  }
  void TearDown() override {
    // Leave the EAL up (DPDK's cleanup is not needed at process exit and ports may still be open), but
    // not its empty runtime directory under /var/run/dpdk.
    RemoveOwnedRuntimeDir();
  }

 private:
  std::vector<std::string> extra_;
};

}  // namespace synack::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Remaining arguments (e.g. --vdev=...) go to the EAL.
  std::vector<std::string> extra(argv + 1, argv + argc);
  ::testing::AddGlobalTestEnvironment(new synack::testing::EalEnvironment(extra));
  return RUN_ALL_TESTS();
}
