// The `vibekit` command line: each subcommand registers itself on the CLI11 app from its own
// file; main() parses and runs the chosen one. Exit codes: 0 success, 1 runtime failure, 2 usage
// error; every error is one line on stderr saying what went wrong and how to fix it.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>

#include "cli/output.h"
#include "vibekit/config.h"
#include "vibekit/telemetry_service.h"

namespace vibekit {
class DataIntegrityService;
}

namespace vibekit::cli {

// Options every command shares.
struct GlobalOptions {
  std::string db_path;  // --db; empty = TELEMETRY_DB_PATH or the default
  std::string format = "table";
  bool quiet = false;
  bool verbose = false;
  bool no_color = false;
  // --busy-timeout / VIBEKIT_BUSY_TIMEOUT_MS: how long a write waits for a database locked by
  // another process before the command fails (SQLite busy_timeout).
  int busy_timeout_ms = 5000;
};

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// The callback main() runs once parsing chose a subcommand.
using Runner = std::function<int()>;

// The configuration for `global`: defaults, then environment, then --db.
TelemetryConfig MakeConfig(const GlobalOptions& global);
// Output settings from --format / --no-color / the terminal.
OutputOptions MakeOutput(const GlobalOptions& global);

// Prints "vibekit: <message>" on stderr and returns kExitFailure.
int Fail(const std::string& message);
// Prints "vibekit: <message>" on stderr and returns kExitUsage.
int UsageError(const std::string& message);

// Reports a failed operation ("<what> failed: ..."), one line on stderr, and returns
// kExitFailure. kBusy (another process holds the write lock) says so and how to fix it:
// retry when the other writer is done, stop it, or wait longer with --busy-timeout.
int FailStatus(const std::string& what, const Status& status, const GlobalOptions& global);

// Opens the database of `global`. With `must_exist`, a missing file is an error that suggests
// `vibekit db init` (nothing is created). Errors are printed; the caller returns kExitFailure.
std::unique_ptr<TelemetryService> OpenService(const GlobalOptions& global, bool must_exist);

// Time flag helper: parses --since/--until text into `out`; prints a usage error and returns
// false when it is not a time.
bool ParseTimeFlag(const std::string& flag, const std::string& text, std::optional<std::int64_t>* out);

void RegisterDbCommands(CLI::App& app, const GlobalOptions& global, Runner& run);
void RegisterDbInitCommand(CLI::App& db, const GlobalOptions& global, Runner& run);
void RegisterDbHealthCommand(CLI::App& db, const GlobalOptions& global, Runner& run);
void RegisterDbStatsCommand(CLI::App& db, const GlobalOptions& global, Runner& run);
void RegisterDbOptimizeCommand(CLI::App& db, const GlobalOptions& global, Runner& run);
void RegisterDbVacuumCommand(CLI::App& db, const GlobalOptions& global, Runner& run);
void RegisterDbClearCommand(CLI::App& db, const GlobalOptions& global, Runner& run);
void RegisterDbPerformanceCommand(CLI::App& db, const GlobalOptions& global, Runner& run);
// `db audit|migrate|rollback|validate|repair` (db_integrity.cc, DataIntegrityService).
void RegisterDbIntegrityCommands(CLI::App& db, const GlobalOptions& global, Runner& run);
// The database of --db through DataIntegrityService; null (the error printed) when it cannot
// be opened (db_integrity.cc).
std::unique_ptr<DataIntegrityService> OpenIntegrity(const GlobalOptions& global);
// `db rules list|add|enable|disable|remove` (db_rules.cc).
void RegisterDbRulesCommands(CLI::App& db, const GlobalOptions& global, Runner& run);
void RegisterQueryCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run);
void RegisterSessionsCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run);
void RegisterStatsCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run);
void RegisterCleanupCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run);
void RegisterImportCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run);
void RegisterDemoCommand(CLI::App& app, const GlobalOptions& global, Runner& run);
// These two walk the whole command tree at run time, so `app` must be the root app.
void RegisterCompletionCommand(CLI::App& app, const GlobalOptions& global, Runner& run);
void RegisterHelpAllCommand(CLI::App& app, const GlobalOptions& global, Runner& run);
// `telemetry tail [--follow]` (telemetry_tail.cc).
void RegisterTailCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run);
// `telemetry export` and `telemetry convert` (telemetry_export.cc, telemetry_convert.cc).
void RegisterExportCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run);
void RegisterConvertCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run);
void RegisterAnalyticsCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run);
// `serve` (serve_command.cc): the HTTP server of src/server.
void RegisterServeCommand(CLI::App& app, const GlobalOptions& global, Runner& run);
void RegisterDashboardCommand(CLI::App& app, const GlobalOptions& global, Runner& run);

}  // namespace vibekit::cli
