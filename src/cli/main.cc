#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "cli/commands.h"
#include "store/postgres/pg_store.h"
#include "views/time_arg.h"
#include "common/log.h"

namespace vibekit::cli {

TelemetryConfig MakeConfig(const GlobalOptions& global) {
  TelemetryConfig config;
  // Environment first (TELEMETRY_DB_PATH and friends), then the explicit flag wins.
  config.apply_environment = false;
  Status env = ApplyEnvironment(config);
  if (!env.ok()) std::fprintf(stderr, "vibekit: warning: %s\n", env.message().c_str());
  if (!global.db_path.empty()) config.local_store.db_path = global.db_path;
  config.local_store.busy_timeout_ms = global.busy_timeout_ms;
  // A command is a short-lived process: no background timeout sweeps mid-command.
  config.local_store.timeout_check_interval_ms = 24 * 3600 * 1000;
  // Nor live delivery: the outbox is kept (and `db health` reports it); the application's own
  // process sends it.
  config.delivery.run_worker = false;
  return config;
}

OutputOptions MakeOutput(const GlobalOptions& global) {
  OutputOptions o;
  auto format = ParseFormat(global.format);
  o.format = format.ok() ? *format : Format::kTable;
  o.color = ColorWanted(global.no_color);
  o.width = TerminalWidth();
  return o;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "vibekit: %s\n", message.c_str());
  return kExitFailure;
}

int UsageError(const std::string& message) {
  std::fprintf(stderr, "vibekit: %s\n", message.c_str());
  return kExitUsage;
}

namespace {

std::string LockedMessage(const GlobalOptions& global) {
  return "the database " + MakeConfig(global).local_store.db_path +
         " is locked by another process writing to it (busy timeout " +
         std::to_string(global.busy_timeout_ms) +
         " ms); retry when that process is done, stop it, or wait longer with --busy-timeout MS";
}

}  // namespace

int FailStatus(const std::string& what, const Status& status, const GlobalOptions& global) {
  if (status.code() == StatusCode::kBusy) return Fail(what + " failed: " + LockedMessage(global));
  return Fail(what + " failed: " + status.message());
}

std::unique_ptr<TelemetryService> OpenService(const GlobalOptions& global, bool must_exist) {
  TelemetryConfig config = MakeConfig(global);
  const std::string& path = config.local_store.db_path;
  struct stat st {};
  // A PostgreSQL URL has no file to check: the connection says whether the database is there.
  if (must_exist && !store::postgres::IsPostgresUrl(path) && stat(path.c_str(), &st) != 0) {
    Fail("no database at " + path + "; create one with `vibekit db init` (or pass --db PATH)");
    return nullptr;
  }
  auto service = std::make_unique<TelemetryService>(config);
  Status s = service->Initialize();
  if (!s.ok()) {
    std::string hint;
    if (s.code() == StatusCode::kCorruption) hint = "; the file is damaged or not a VibeKit database";
    if (s.code() == StatusCode::kBusy) {
      Fail("cannot open " + path + ": " + LockedMessage(global));
      return nullptr;
    }
    Fail("cannot open " + path + ": " + s.message() + hint);
    return nullptr;
  }
  return service;
}

bool ParseTimeFlag(const std::string& flag, const std::string& text,
                   std::optional<std::int64_t>* out) {
  if (text.empty()) return true;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  auto t = ParseTimeArg(text, now);
  if (!t.ok()) {
    UsageError(flag + ": " + t.status().message());
    return false;
  }
  *out = *t;
  return true;
}

}  // namespace vibekit::cli

int main(int argc, char** argv) {
  using namespace vibekit::cli;
  CLI::App app{"VibeKit Telemetry: local-first telemetry for AI coding agents", "vibekit"};
  app.set_version_flag("--version", std::string("vibekit 0.1.0"));
  app.require_subcommand(1);
  // Global options may follow the subcommand too (`vibekit telemetry query --format json`);
  // subcommands created below inherit this.
  app.fallthrough();
  app.footer("Examples:\n  vibekit db init\n  vibekit telemetry query --agent-type claude --since 1h\n"
             "  vibekit telemetry stats --format json");
  // Defaults show in --help and docs/CLI.md (options added from here on, subcommands too).
  app.option_defaults()->always_capture_default();
  GlobalOptions global;
  app.add_option("--db", global.db_path,
                 "Database file (default: $TELEMETRY_DB_PATH or .vibekit/telemetry.db)");
  app.add_option("--format", global.format, "Output format")
      ->check(CLI::IsMember({"table", "json", "ndjson", "csv"}));
  app.add_flag("-q,--quiet", global.quiet, "Print only errors");
  app.add_flag("-v,--verbose", global.verbose, "Say more about what happens");
  app.add_flag("--no-color", global.no_color, "No colour (also when NO_COLOR is set)");
  app.add_option("--busy-timeout", global.busy_timeout_ms,
                 "Milliseconds a write waits for a database locked by another process")
      ->envname("VIBEKIT_BUSY_TIMEOUT_MS")
      ->check(CLI::Range(0, 3600000));

  Runner run;
  RegisterDbCommands(app, global, run);
  CLI::App* telemetry = app.add_subcommand("telemetry", "Query, import and maintain telemetry");
  telemetry->require_subcommand(1);
  RegisterQueryCommand(*telemetry, global, run);
  RegisterSessionsCommand(*telemetry, global, run);
  RegisterStatsCommand(*telemetry, global, run);
  RegisterCleanupCommand(*telemetry, global, run);
  RegisterImportCommand(*telemetry, global, run);
  RegisterExportCommand(*telemetry, global, run);
  RegisterConvertCommand(*telemetry, global, run);
  RegisterAnalyticsCommand(*telemetry, global, run);
  RegisterDemoCommand(app, global, run);
  RegisterServeCommand(app, global, run);
  RegisterDashboardCommand(app, global, run);
  RegisterCompletionCommand(app, global, run);
  RegisterHelpAllCommand(app, global, run);
  RegisterTailCommand(*telemetry, global, run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (!run) return kExitUsage;
  // The commands report failures themselves (one line each); the library's own warnings (a
  // commit retried while another process holds the lock, ...) only with --verbose, unless
  // VIBEKIT_LOG_LEVEL asks for them.
  if (std::getenv("VIBEKIT_LOG_LEVEL") == nullptr) {
    vibekit::internal::SetLogLevel(global.verbose ? vibekit::internal::LogLevel::kInfo
                                                  : vibekit::internal::LogLevel::kError);
  }
  try {
    return run();
  } catch (const std::exception& e) {
    return Fail(std::string("unexpected error: ") + e.what());
  }
}
