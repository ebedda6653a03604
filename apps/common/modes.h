// Modes: the command-line shape shared by the client/server tools (synack-cps, synack-perf):
// `--server`, `--client` or `--loopback`, exactly one, each with its own flag set; `--help` lists them
// all. Picks the mode, parses its flags with one-line errors that name the flag, and calls the tool's
// runner. Control plane (main thread, before any engine runs).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "apps/common/cli.h"

namespace synack::app {

enum class Mode { kServer, kClient, kLoopback };

struct ModeTool {
  const char* program;  // "synack-cps"
  const char* summary;  // the --help text above the options
  std::function<std::vector<cli::FlagSpec>(Mode)> flags;  // the flags one mode accepts
  std::vector<cli::FlagSpec> help_flags;                   // every flag, for --help
  std::function<int(Mode, const cli::SplitArgs&, const cli::Flags&)> run;
};

// Runs the tool; returns its exit status (2 on bad command lines).
int RunModeTool(int argc, char** argv, const ModeTool& tool);

// The flags every --loopback mode starts from (it needs no address: both ends are ours).
std::vector<cli::FlagSpec> LoopbackFlags(const std::string& mbufs_help);

// Prints "<program>: <msg>" on stderr; returns 2 (the exit status for bad options or set-up errors).
int FailWith(const char* program, absl::string_view msg);

}  // namespace synack::app
