// Modes: the command-line shape shared by the client/server tools (synack-cps, synack-perf):
// `--server`, `--client` or `--loopback`, exactly one, each with its own flag set; `--help` lists them
// all. Picks the mode, parses its flags with one-line errors that name the flag, and calls the tool's
// runner; the runners start their stack (or loopback pair) and report it the same way through the helpers
// below. Control plane (main thread, before and after the engines run).
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "apps/common/cli.h"
#include "apps/common/json.h"
#include "apps/common/runtime.h"

namespace synack::app {

enum class Mode { kServer, kClient, kLoopback };

struct ModeTool {
  const char* program;                                    // "synack-cps"
  const char* summary;                                    // the --help text above the options
  std::function<std::vector<cli::FlagSpec>(Mode)> flags;  // the flags one mode accepts
  std::vector<cli::FlagSpec> help_flags;                  // every flag, for --help
  // Each mode's runner: starts it with the parsed flags, returns the exit status.
  using Runner = std::function<int(const cli::SplitArgs&, const cli::Flags&)>;
  Runner server;
  Runner client;
  Runner loopback;
};

// Runs the tool; returns its exit status (2 on bad command lines).
int RunModeTool(int argc, char** argv, const ModeTool& tool);

// The flags every --loopback mode starts from (it needs no address: both ends are ours).
std::vector<cli::FlagSpec> LoopbackFlags(const std::string& mbufs_help);
// The flags `mode` starts from: LoopbackFlags for --loopback, CommonFlags for the others.
std::vector<cli::FlagSpec> ModeBaseFlags(Mode mode, const std::string& loopback_mbufs_help);
// The start of a tool's --help list: the three modes (with the tool's words for --server and --client),
// then CommonFlags.
std::vector<cli::FlagSpec> HelpFlagsStart(const std::string& server_help, const std::string& client_help);
// Appends `f` unless `specs` already has a flag of that name.
void AddIfNew(std::vector<cli::FlagSpec>& specs, const cli::FlagSpec& f);

// --duration of the client modes: whole seconds, 1..86400 (default 5). The error names the flag.
absl::StatusOr<Duration> ParseDuration(const cli::Flags& flags);

// The machine-readable output flags of the client modes: --json (one JSON document on stdout, human lines
// on stderr) and --interval S (seconds between progress lines and JSON intervals).
std::vector<cli::FlagSpec> OutputFlags();
struct OutputOptions {
  bool json = false;
  Duration interval = Duration::Seconds(1);
};
// --interval: seconds, 0.1..3600 (default 1; decimals allowed). The error names the flag.
absl::StatusOr<OutputOptions> ParseOutput(const cli::Flags& flags);

// Adds `key`: {"counter name": total, ...} with every counter of `engines` (EngineCounterTotals).
void AddCountersJson(JsonWriter& w, std::string_view key, const std::vector<const Engine*>& engines);
// Adds the "start" object's common part: program, version, mode, EAL file prefix, interval.
void AddStartJson(JsonWriter& w, const char* program, Mode mode, const OutputOptions& output);

// Prints "<program>: <msg>" on stderr; returns 2 (the exit status for bad options or set-up errors).
int FailWith(const char* program, absl::string_view msg);

// --server/--client: CreateStack, then the "port: ..." and "tcp: ..." lines.
absl::StatusOr<std::unique_ptr<Stack>> StartStack(const char* program, const cli::SplitArgs& args,
                                                  const CommonOptions& options, const TcpLayerConfig& tcp);

// --loopback: `tuning` on both engines and on the link between them.
void ApplyTuning(const TuningOptions& tuning, LoopbackOptions& lo);
// The loopback's own flags (--tso on|off) into `lo`; an error names the flag.
absl::Status ApplyLoopbackFlags(const cli::Flags& flags, LoopbackOptions& lo);
// --loopback: Loopback::Create with the EAL arguments from before `--`, then its one-line description and
// the "tcp: ..." line.
absl::StatusOr<std::unique_ptr<Loopback>> StartLoopback(const char* program, const cli::SplitArgs& args,
                                                        LoopbackOptions lo, const TuningOptions& tuning);
// --loopback, after the run: each engine's counters ("client counters:", "server counters:").
void PrintLoopbackCounters(FILE* out, Loopback& lb);

}  // namespace synack::app
