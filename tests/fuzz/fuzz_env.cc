#include "tests/fuzz/fuzz_env.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "absl/status/statusor.h"
#include "lib/dev/eal.h"
#include "lib/dev/port.h"

namespace synack::fuzz {
namespace {

bool g_started = false;
rte_mempool* g_pool = nullptr;
rte_mempool* g_indirect = nullptr;
rte_mempool* g_small = nullptr;
rte_mempool* g_small_indirect = nullptr;

rte_mempool* MustPool(absl::StatusOr<rte_mempool*> p) {
  if (!p.ok()) {
    std::fprintf(stderr, "fuzz: %s\n", std::string(p.status().message()).c_str());
    std::exit(1);
  }
  return *p;
}

}  // namespace

void StartEal() {
  if (g_started) return;
  g_started = true;
  EalConfig c;
  c.program_name = "synack-fuzz";
  c.user_args = {"--no-huge",   "-m",       "512",
                 "--no-shconf", "--no-pci", absl::StrCat("--file-prefix=synack-fuzz-", getpid()),
                 "-l",          "0"};
  if (absl::Status s = InitEal(c); !s.ok()) {
    std::fprintf(stderr, "fuzz: EAL start failed: %s\n", std::string(s.message()).c_str());
    std::exit(1);
  }
  g_pool = MustPool(CreateMbufPool("fuzz_pool", 8191));
  g_indirect = MustPool(CreateIndirectPool("fuzz_indirect", 8191));
  // The project's helpers give every pool a 256-mbuf per-lcore cache, more than these tiny pools may have.
  g_small =
      rte_pktmbuf_pool_create("fuzz_small", 48, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
  g_small_indirect = rte_pktmbuf_pool_create("fuzz_small_ind", 16, 0, 0, 0, static_cast<int>(rte_socket_id()));
  if (g_small == nullptr || g_small_indirect == nullptr) {
    std::fprintf(stderr, "fuzz: could not create the small pools\n");
    std::exit(1);
  }
}

rte_mempool* Pool() { return g_pool; }
rte_mempool* IndirectPool() { return g_indirect; }
rte_mempool* SmallPool() { return g_small; }
rte_mempool* SmallIndirectPool() { return g_small_indirect; }

void Fail(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "\n==FUZZ CHECK FAILED== %s:%d: %s\n", file, line, what.c_str());
  std::fflush(stderr);
  std::abort();
}

std::vector<uint8_t> PacketBytes(const rte_mbuf* m) {
  std::vector<uint8_t> out;
  out.reserve(rte_pktmbuf_pkt_len(m));
  for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
    const uint8_t* p = rte_pktmbuf_mtod(s, const uint8_t*);
    out.insert(out.end(), p, p + s->data_len);
  }
  return out;
}

}  // namespace synack::fuzz
