#include "apps/common/cli.h"

#include <cstdio>

#include "synack/version.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace synack::cli {

bool PrintVersionIfAsked(const SplitArgs& args, const char* program) {
  for (const std::string& a : args.app) {
    if (a == "--version") {
      std::printf("%s %s\n", program, SYNACK_VERSION);
      return true;
    }
  }
  return false;
}

SplitArgs Split(int argc, char** argv) {
  SplitArgs out;
  int dash = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      dash = i;
      break;
    }
  }
  if (dash < 0) {
    for (int i = 1; i < argc; ++i) out.app.emplace_back(argv[i]);
  } else {
    for (int i = 1; i < dash; ++i) out.eal.emplace_back(argv[i]);
    for (int i = dash + 1; i < argc; ++i) out.app.emplace_back(argv[i]);
  }
  return out;
}

absl::StatusOr<Flags> Flags::Parse(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs) {
  Flags f;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!absl::StartsWith(a, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", a, "' (app options start with --; EAL options go before --)"));
    }
    std::string name = a.substr(2);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option --", name, " (see --help)"));
    }
    if (spec->takes_value) {
      if (!value) {
        if (i + 1 >= args.size()) {
          return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value (", spec->help, ")"));
        }
        value = args[++i];
      }
    } else if (value) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
    }
    f.values_[name] = value.value_or("");
  }
  return f;
}

std::optional<std::string> Flags::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<int64_t> Flags::GetInt(const std::string& name, int64_t default_value, int64_t lo, int64_t hi) const {
  std::optional<std::string> v = Get(name);
  if (!v) return default_value;
  int64_t out = 0;
  if (!absl::SimpleAtoi(*v, &out) || out < lo || out > hi) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, ": '", *v, "' is not an integer in ", lo, "..", hi));
  }
  return out;
}

std::string Usage(const std::string& program, const std::string& summary, const std::vector<FlagSpec>& specs) {
  std::string s = absl::StrCat("usage: ", program, " [EAL options] -- [options]\n", summary, "\n\noptions:\n");
  for (const FlagSpec& f : specs) {
    absl::StrAppend(&s, "  --", f.name, f.takes_value ? " VALUE" : "", "\n      ", f.help, "\n");
  }
  absl::StrAppend(&s,
                  "\nEAL options (before --) default to --no-huge -m 512 --no-shconf and a per-process "
                  "--file-prefix;\ne.g. --vdev net_tap0 for a kernel tap interface, -l 0 for the core.\n");
  return s;
}

}  // namespace synack::cli
