// `vibekit telemetry analytics sessions|performance|dashboard` (analytics_live.cc): session
// outcomes by agent, a performance snapshot or alert monitor, and the live terminal dashboard.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace vibekit::cli {

void RegisterAnalyticsLiveCommands(CLI::App& analytics, const GlobalOptions& global, Runner& run);

}  // namespace vibekit::cli
