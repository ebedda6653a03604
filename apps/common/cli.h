// Command-line helpers shared by the synack-* apps: split `[EAL options] -- [app options]`, parse
// `--flag value` / `--flag=value` with one-line errors that name the flag and the fix. Control plane.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace synack::cli {

struct SplitArgs {
  std::vector<std::string> eal;  // before `--`
  std::vector<std::string> app;  // after `--`
};

// Everything before the first `--` goes to EAL, the rest to the app. Without `--` all arguments are
// app arguments (so `synack-echo --help` works).
SplitArgs Split(int argc, char** argv);

// `--version` among the app arguments: prints "<program> <SYNACK_VERSION>" and returns true.
bool PrintVersionIfAsked(const SplitArgs& args, const char* program);

struct FlagSpec {
  std::string name;  // without leading dashes
  bool takes_value = true;
  std::string help;
};

class Flags {
 public:
  // Parses `args` against `specs`; unknown flags, missing values and stray words are errors.
  static absl::StatusOr<Flags> Parse(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs);

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::optional<std::string> Get(const std::string& name) const;
  // Integer in [lo, hi]; error names the flag.
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t default_value, int64_t lo, int64_t hi) const;

 private:
  std::map<std::string, std::string> values_;
};

std::string Usage(const std::string& program, const std::string& summary, const std::vector<FlagSpec>& specs);

}  // namespace synack::cli
