#include "apps/common/modes.h"

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "apps/common/runtime.h"

namespace synack::app {

int FailWith(const char* program, absl::string_view msg) {
  std::fprintf(stderr, "%s: %.*s\n", program, static_cast<int>(msg.size()), msg.data());
  return 2;
}

std::vector<cli::FlagSpec> LoopbackFlags(const std::string& mbufs_help) {
  std::vector<cli::FlagSpec> flags = {{"loopback", false, "mode: client and server in this process over a ring pair"},
                                      {"mbufs", true, mbufs_help},
                                      {"hugepages", false, "use mounted hugepages instead of --no-huge"}};
  for (cli::FlagSpec& f : TuningFlags()) flags.push_back(std::move(f));
  flags.push_back({"version", false, "print the version"});
  flags.push_back({"help", false, "print this help"});
  return flags;
}

int RunModeTool(int argc, char** argv, const ModeTool& tool) {
  cli::SplitArgs split = cli::Split(argc, argv);
  if (cli::PrintVersionIfAsked(split, tool.program)) return 0;
  std::vector<Mode> modes;
  bool help = false;
  for (const std::string& a : split.app) {
    if (a == "--server") modes.push_back(Mode::kServer);
    if (a == "--client") modes.push_back(Mode::kClient);
    if (a == "--loopback") modes.push_back(Mode::kLoopback);
    if (a == "--help") help = true;
  }
  if (help) {
    std::fputs(cli::Usage(tool.program, tool.summary, tool.help_flags).c_str(), stdout);
    return 0;
  }
  if (modes.empty()) return FailWith(tool.program, "choose a mode: --server, --client or --loopback (see --help)");
  if (modes.size() > 1) {
    return FailWith(tool.program, "choose one mode: --server, --client and --loopback exclude each other");
  }
  const Mode mode = modes[0];
  absl::StatusOr<cli::Flags> flags = cli::Flags::Parse(split.app, tool.flags(mode));
  if (!flags.ok()) {
    const char* name = mode == Mode::kServer ? "--server" : mode == Mode::kClient ? "--client" : "--loopback";
    const absl::string_view msg = flags.status().message();
    return FailWith(tool.program,
                    absl::StrCat(msg, absl::StrContains(msg, "unknown option") ? absl::StrCat(" [with ", name, "]") : ""));
  }
  return tool.run(mode, split, *flags);
}

}  // namespace synack::app
