#include "lib/dev/eal.h"

#include <sched.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

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

}  // namespace

std::vector<std::string> BuildEalArgs(const EalConfig& config) {
  std::vector<std::string> args = {config.program_name};
  const auto& u = config.user_args;
  const bool user_chose_memory =
      HasArg(u, {"--no-huge", "-m", "--socket-mem", "--in-memory", "--huge-dir", "--legacy-mem"});
  if (config.hugepages) {
    if (!user_chose_memory) args.push_back("--in-memory");
  } else if (!user_chose_memory) {
    args.insert(args.end(), {"--no-huge", "-m", std::to_string(config.memory_mb)});
    if (!HasArg(u, {"--no-shconf"})) args.push_back("--no-shconf");
  }
  if (!HasArg(u, {"--file-prefix"})) args.push_back(absl::StrCat("--file-prefix=synack-", getpid()));
  if (config.quiet && !HasArg(u, {"--log-level"})) args.push_back("--log-level=4");  // errors only
  args.insert(args.end(), u.begin(), u.end());
  return args;
}

absl::Status InitEal(const EalConfig& config) {
  std::vector<std::string> args = BuildEalArgs(config);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int rc = rte_eal_init(static_cast<int>(args.size()), argv.data());
  if (rc < 0) {
    return absl::InternalError(absl::StrCat("rte_eal_init(", absl::StrJoin(args.begin() + 1, args.end(), " "),
                                            "): ", rte_strerror(rte_errno)));
  }
  return absl::OkStatus();
}

void CleanupEal() { rte_eal_cleanup(); }

std::vector<std::string> FirstCpusLcoreArgs(int n) {
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
  for (size_t i = 0; i < cpus.size(); ++i) list += (i == 0 ? "" : ",") + std::to_string(cpus[i]);
  return {"-l", list};
}

}  // namespace synack
