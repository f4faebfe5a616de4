// The `vibekit` command line: each subcommand registers itself on the CLI11 app from its own
// file; main() parses and runs the chosen one.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "vibekit/config.h"

namespace vibekit::cli {

// Options every command shares.
struct GlobalOptions {
  std::string db_path;  // --db; empty = TELEMETRY_DB_PATH or the default
  bool quiet = false;
};

// Exit codes: 0 success, 1 runtime failure, 2 usage error.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// The configuration for `global`: defaults, then environment, then --db.
TelemetryConfig MakeConfig(const GlobalOptions& global);

// Prints "vibekit: <message>" on stderr and returns kExitFailure.
int Fail(const std::string& message);

// Each returns the callback to run when its subcommand was chosen.
void RegisterImportCommand(CLI::App& telemetry, const GlobalOptions& global,
                           std::function<int()>& run);
void RegisterDemoCommand(CLI::App& app, const GlobalOptions& global, std::function<int()>& run);

}  // namespace vibekit::cli
