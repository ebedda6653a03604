#include "apps/common/modes.h"

#include <algorithm>
#include <cstdio>

#include "synack/version.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
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
                                      {"hugepages", false, "use mounted hugepages instead of --no-huge"},
                                      {"tso", true,
                                       "on|off: new data crosses the ring pair in segments of up to 64 KiB (whole "
                                       "MSS pieces), as Linux's veth carries GSO packets (default on; off with "
                                       "--impair)"}};
  for (cli::FlagSpec& f : TuningFlags()) flags.push_back(std::move(f));
  flags.push_back({"version", false, "print the version"});
  flags.push_back({"help", false, "print this help"});
  return flags;
}

std::vector<cli::FlagSpec> ModeBaseFlags(Mode mode, const std::string& loopback_mbufs_help) {
  return mode == Mode::kLoopback ? LoopbackFlags(loopback_mbufs_help) : CommonFlags();
}

std::vector<cli::FlagSpec> HelpFlagsStart(const std::string& server_help, const std::string& client_help) {
  std::vector<cli::FlagSpec> specs = CommonFlags();
  specs.insert(specs.begin(), {{"server", false, server_help},
                               {"client", false, client_help},
                               {"loopback", false, "mode: client and server in this process (needs no other flag)"}});
  return specs;
}

void AddIfNew(std::vector<cli::FlagSpec>& specs, const cli::FlagSpec& f) {
  if (std::none_of(specs.begin(), specs.end(), [&](const cli::FlagSpec& s) { return s.name == f.name; })) {
    specs.push_back(f);
  }
}

absl::StatusOr<Duration> ParseDuration(const cli::Flags& flags) {
  absl::StatusOr<int64_t> seconds = flags.GetInt("duration", 5, 1, 86400);
  if (!seconds.ok()) return seconds.status();
  return Duration::Seconds(*seconds);
}

std::vector<cli::FlagSpec> OutputFlags() {
  return {{"json", false,
           "print one JSON document on stdout (start parameters, one object per interval, the summary, every "
           "counter); the human lines go to stderr"},
          {"interval", true, "seconds between progress lines (and JSON intervals), 0.1..3600 (default 1)"}};
}

absl::StatusOr<OutputOptions> ParseOutput(const cli::Flags& flags) {
  OutputOptions o;
  o.json = flags.Has("json");
  if (std::optional<std::string> v = flags.Get("interval")) {
    double secs = 0;
    if (!absl::SimpleAtod(*v, &secs) || !(secs >= 0.1 && secs <= 3600)) {
      return absl::InvalidArgumentError(absl::StrCat("--interval: '", *v, "' is not a number of seconds in 0.1..3600"));
    }
    o.interval = Duration::Nanoseconds(static_cast<int64_t>(secs * 1e9 + 0.5));
  }
  return o;
}

void AddCountersJson(JsonWriter& w, std::string_view key, const std::vector<const Engine*>& engines) {
  w.BeginObject(key);
  for (const auto& [name, v] : EngineCounterTotals(engines)) w.Uint(name, v);
  w.EndObject();
}

void AddStartJson(JsonWriter& w, const char* program, Mode mode, const OutputOptions& output) {
  w.String("program", program)
      .String("version", SYNACK_VERSION)
      .String("mode", mode == Mode::kServer   ? "server"
                      : mode == Mode::kClient ? "client"
                                              : "loopback")
      .String("eal_file_prefix", EalFilePrefix())
      .Double("interval_s", output.interval.seconds());
}

absl::StatusOr<std::unique_ptr<Stack>> StartStack(const char* program, const cli::SplitArgs& args,
                                                  const CommonOptions& options, const TcpLayerConfig& tcp) {
  absl::StatusOr<std::unique_ptr<Stack>> stack = CreateStack(program, args, options, tcp);
  if (!stack.ok()) return stack;
  std::printf("port: %s\n", (*stack)->port().Describe().c_str());
  std::printf("device: %s\n", (*stack)->port().DescribeDevice().c_str());
  std::printf("tcp: %s\n", options.tuning.Describe().c_str());
  return stack;
}

void ApplyTuning(const TuningOptions& tuning, LoopbackOptions& lo) {
  tuning.ApplyTo(lo.client_tcp);
  tuning.ApplyTo(lo.server_tcp);
  lo.impair = tuning.impair;
  lo.profile = tuning.profile;
  lo.capture = tuning.capture;
  lo.pdump = tuning.pdump;
}

absl::Status ApplyLoopbackFlags(const cli::Flags& flags, LoopbackOptions& lo) {
  if (std::optional<std::string> v = flags.Get("tso")) {
    if (*v != "on" && *v != "off")
      return absl::InvalidArgumentError(absl::StrCat("--tso: '", *v, "' is not on or off"));
    lo.tso = *v == "on";
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Loopback>> StartLoopback(const char* program, const cli::SplitArgs& args,
                                                        LoopbackOptions lo, const TuningOptions& tuning) {
  lo.program = program;
  lo.eal_args = args.eal;
  absl::StatusOr<std::unique_ptr<Loopback>> lb = Loopback::Create(lo);
  if (!lb.ok()) return lb;
  PrintEalPrefix();
  PrintCapture((*lb)->capture(), lo.pdump);
  std::printf("%s\n", (*lb)->Describe().c_str());
  std::printf("tcp: %s\n", tuning.Describe().c_str());
  return lb;
}

void PrintLoopbackCounters(FILE* out, Loopback& lb) {
  PrintEngineCounters(out, {&lb.client()}, "client counters:");
  PrintEngineCounters(out, {&lb.server()}, "server counters:");
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
    return FailWith(
        tool.program,
        absl::StrCat(msg, absl::StrContains(msg, "unknown option") ? absl::StrCat(" [with ", name, "]") : ""));
  }
  const ModeTool::Runner& run = mode == Mode::kServer   ? tool.server
                                : mode == Mode::kClient ? tool.client
                                                        : tool.loopback;
  return run(split, *flags);
}

}  // namespace synack::app
