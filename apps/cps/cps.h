// synack-cps, the connection-rate tool: what its roles share — the program name in messages, the exit on
// bad options, and one runner per mode (main.cc picks one; server.cc,
// client.cc and loopback.cc hold them). The runners are called on the main thread; they start the
// engines, which call the roles' applications on their own lcores.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"
#include "apps/common/modes.h"

namespace synack::app::cps {

inline constexpr char kProgram[] = "synack-cps";
// Prints "synack-cps: <msg>" on stderr; returns 2.
inline int Fail(absl::string_view msg) { return FailWith(kProgram, msg); }

// The modes; each returns the tool's exit status.
int RunServer(const cli::SplitArgs& split, const cli::Flags& flags);
int RunClient(const cli::SplitArgs& split, const cli::Flags& flags);
int RunLoopback(const cli::SplitArgs& split, const cli::Flags& flags);

}  // namespace synack::app::cps
