#include "lib/dev/eal.h"

#include <dirent.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pdump.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/base/log.h"
#include "lib/dev/capture.h"

namespace synack {
namespace {

bool HasArg(const std::vector<std::string>& args, std::initializer_list<absl::string_view> names) {
  for (const std::string& a : args) {
    for (absl::string_view n : names) {
      if (a == n || absl::StartsWith(a, absl::StrCat(n, "="))) return true;
    }
  }
  return false;
}

// The file prefix of the running EAL, and its runtime directory when the prefix is ours to remove.
std::string g_file_prefix;
std::string g_owned_runtime_dir;
bool g_pdump = false;  // rte_pdump_init was called

// The value of the last `--file-prefix X` / `--file-prefix=X` in `args`, or empty.
std::string FilePrefixOf(const std::vector<std::string>& args) {
  std::string prefix;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--file-prefix" && i + 1 < args.size()) prefix = args[i + 1];
    if (absl::StartsWith(args[i], "--file-prefix=")) prefix = args[i].substr(sizeof("--file-prefix=") - 1);
  }
  return prefix;
}

// Removes `dir` and the files DPDK left in it (sockets, lock files; never a subdirectory).
void RemoveRuntimeDir(const std::string& dir) {
  if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_type != DT_DIR) unlink(absl::StrCat(dir, "/", e->d_name).c_str());
    }
    closedir(d);
  }
  if (rmdir(dir.c_str()) != 0 && errno != ENOENT) {
    std::fprintf(stderr, "synack: could not remove the EAL runtime directory %s: %s\n", dir.c_str(),
                 std::strerror(errno));
  }
}

// Removes `<prefix>map_*` (the names DPDK gives hugepage files) from every mounted hugetlbfs.
void RemoveHugepageFiles(const std::string& prefix) {
  FILE* mounts = std::fopen("/proc/mounts", "r");
  if (mounts == nullptr) return;
  char dev[256], dir[4096], type[64];
  const std::string stem = prefix + "map_";
  while (std::fscanf(mounts, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3) {
    if (std::strcmp(type, "hugetlbfs") != 0) continue;
    DIR* d = opendir(dir);
    if (d == nullptr) continue;
    while (dirent* e = readdir(d)) {
      if (absl::StartsWith(e->d_name, stem)) unlink(absl::StrCat(dir, "/", e->d_name).c_str());
    }
    closedir(d);
  }
  std::fclose(mounts);
}

}  // namespace

std::vector<std::string> BuildEalArgs(const EalConfig& config) {
  std::vector<std::string> args = {config.program_name};
  const auto& u = config.user_args;
  const bool user_chose_memory =
      HasArg(u, {"--no-huge", "-m", "--socket-mem", "--in-memory", "--huge-dir", "--legacy-mem"});
  if (config.pdump) {
    // Mounted hugepages and the shared configuration, as DPDK starts by default: secondaries attach.
  } else if (config.hugepages) {
    if (!user_chose_memory) args.push_back("--in-memory");
  } else if (!user_chose_memory) {
    args.insert(args.end(), {"--no-huge", "-m", std::to_string(config.memory_mb)});
    if (!HasArg(u, {"--no-shconf"})) args.push_back("--no-shconf");
  }
  if (config.pdump && !HasArg(u, {"-l", "-c", "--lcores"})) {
    std::vector<std::string> l = FirstCpusLcoreArgs(RTE_MAX_LCORE - 1, 1);
    args.insert(args.end(), l.begin(), l.end());
  }
  if (!HasArg(u, {"--file-prefix"})) args.push_back(absl::StrCat("--file-prefix=synack-", getpid()));
  if (config.quiet && !HasArg(u, {"--log-level"})) args.push_back("--log-level=4");  // errors only
  args.insert(args.end(), u.begin(), u.end());
  return args;
}

absl::Status InitEal(const EalConfig& config) {
  if (config.pdump && HasArg(config.user_args, {"--no-huge", "--no-shconf", "--in-memory"})) {
    return absl::InvalidArgumentError(
        "--pdump: dpdk-dumpcap cannot attach to a process started with --no-huge, --no-shconf or --in-memory "
        "(drop them: --pdump runs on mounted hugepages with the shared configuration)");
  }
  std::vector<std::string> args = BuildEalArgs(config);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int rc = rte_eal_init(static_cast<int>(args.size()), argv.data());
  if (rc < 0) {
    return absl::InternalError(
        absl::StrCat("rte_eal_init(", absl::StrJoin(args.begin() + 1, args.end(), " "), "): ", rte_strerror(rte_errno),
                     config.pdump ? " (--pdump needs free hugepages on a mounted hugetlbfs, e.g. echo 256 > "
                                    "/proc/sys/vm/nr_hugepages; mount -t hugetlbfs nodev /dev/hugepages)"
                                  : ""));
  }
  if (config.pdump && rte_lcore_is_enabled(0)) {
    rte_eal_cleanup();
    return absl::InvalidArgumentError(
        "--pdump: lcore id 0 is dpdk-dumpcap's (it shares its pool's lcore-0 cache with ours): give the engines "
        "other lcore ids, e.g. --lcores 1@0,2@1 instead of -l 0-1");
  }
  if (config.pdump && rte_pdump_init() != 0) {
    const std::string reason = rte_strerror(rte_errno);
    rte_eal_cleanup();
    return absl::InternalError(absl::StrCat("--pdump: rte_pdump_init: ", reason));
  }
  g_pdump = config.pdump;
  if (config.pdump) {
    // pdump copies with rte_pcapng_copy on the engines' lcores: its clock must be set before them.
    if (absl::Status s = InitPcapngClock(); !s.ok()) return s;
  }
  RefreshLogLevels();
  SYNACK_LOG_DEBUG(kDev, "EAL started: %s", absl::StrJoin(args.begin() + 1, args.end(), " ").c_str());
  g_file_prefix = FilePrefixOf(args);
  // Only the default prefix (unique to this process) is ours to clean up; a user's may be shared.
  g_owned_runtime_dir = FilePrefixOf(config.user_args).empty() ? rte_eal_get_runtime_dir() : "";
  return absl::OkStatus();
}

void CleanupEal() {
  if (g_pdump) rte_pdump_uninit();
  rte_eal_cleanup();
  RemoveOwnedRuntimeDir();
  // A shared-configuration primary leaves the files of the hugepages it still held at exit; nothing else
  // uses them now (a secondary that still maps one keeps its mapping).
  if (g_pdump && !g_file_prefix.empty()) RemoveHugepageFiles(g_file_prefix);
  g_pdump = false;
}

void RemoveOwnedRuntimeDir() {
  if (!g_owned_runtime_dir.empty()) RemoveRuntimeDir(g_owned_runtime_dir);
  g_owned_runtime_dir.clear();
}

const std::string& EalFilePrefix() { return g_file_prefix; }

std::vector<std::string> FirstCpusLcoreArgs(int n, int first_lcore_id) {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE && static_cast<int>(cpus.size()) < n; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
  if (cpus.empty()) cpus.push_back(0);
  std::string list;
  for (size_t i = 0; i < cpus.size(); ++i) {
    if (i > 0) list += ",";
    if (first_lcore_id > 0) list += absl::StrCat(first_lcore_id + static_cast<int>(i), "@");
    list += std::to_string(cpus[i]);
  }
  if (first_lcore_id > 0) return {"--lcores", list};
  return {"-l", list};
}

std::vector<unsigned> EngineLcores() {
  std::vector<unsigned> lcores = {rte_get_main_lcore()};
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) lcores.push_back(lcore);
  return lcores;
}

int LcoreSocket(unsigned lcore) { return static_cast<int>(rte_lcore_to_socket_id(lcore)); }

absl::Status RunOnLcore(unsigned lcore, absl::FunctionRef<void()> fn) {
  if (lcore == rte_lcore_id()) {
    fn();
    return absl::OkStatus();
  }
  auto run = [](void* arg) {
    (*static_cast<absl::FunctionRef<void()>*>(arg))();
    return 0;
  };
  if (int rc = rte_eal_remote_launch(run, &fn, lcore); rc != 0) {
    return absl::InternalError(absl::StrCat("rte_eal_remote_launch(lcore ", lcore, "): ", rte_strerror(-rc)));
  }
  rte_eal_wait_lcore(lcore);
  return absl::OkStatus();
}

}  // namespace synack
