#include <cstdio>
#include <functional>
#include <string>

#include "cli/commands.h"

namespace vibekit::cli {

TelemetryConfig MakeConfig(const GlobalOptions& global) {
  TelemetryConfig config;
  // Environment first (TELEMETRY_DB_PATH and friends), then the explicit flag wins.
  config.apply_environment = false;
  Status env = ApplyEnvironment(config);
  if (!env.ok()) std::fprintf(stderr, "vibekit: warning: %s\n", env.message().c_str());
  if (!global.db_path.empty()) config.local_store.db_path = global.db_path;
  return config;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "vibekit: %s\n", message.c_str());
  return kExitFailure;
}

}  // namespace vibekit::cli

int main(int argc, char** argv) {
  using namespace vibekit::cli;
  CLI::App app{"VibeKit Telemetry: local-first telemetry for AI coding agents", "vibekit"};
  app.set_version_flag("--version", std::string("vibekit 0.1.0"));
  app.require_subcommand(1);
  GlobalOptions global;
  app.add_option("--db", global.db_path,
                 "Database file (default: $TELEMETRY_DB_PATH or .vibekit/telemetry.db)");
  app.add_flag("-q,--quiet", global.quiet, "Print only errors");

  std::function<int()> run;
  CLI::App* telemetry = app.add_subcommand("telemetry", "Record, import and inspect telemetry");
  telemetry->require_subcommand(1);
  RegisterImportCommand(*telemetry, global, run);
  RegisterDemoCommand(app, global, run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (!run) return kExitUsage;
  try {
    return run();
  } catch (const std::exception& e) {
    return Fail(std::string("unexpected error: ") + e.what());
  }
}
