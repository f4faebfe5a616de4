// `vibekit db ...`: database management. Each subcommand lives in its own db_*.cc file.
#include "cli/commands.h"

namespace vibekit::cli {

// db_copy.cc (declared here rather than in commands.h, which every command includes).
void RegisterDbCopyCommand(CLI::App& db, const GlobalOptions& global, Runner& run);

void RegisterDbCommands(CLI::App& app, const GlobalOptions& global, Runner& run) {
  CLI::App* db = app.add_subcommand("db", "Create, check and inspect the database");
  db->require_subcommand(1);
  RegisterDbInitCommand(*db, global, run);
  RegisterDbHealthCommand(*db, global, run);
  RegisterDbStatsCommand(*db, global, run);
  RegisterDbOptimizeCommand(*db, global, run);
  RegisterDbVacuumCommand(*db, global, run);
  RegisterDbClearCommand(*db, global, run);
  RegisterDbPerformanceCommand(*db, global, run);
  RegisterDbCopyCommand(*db, global, run);
  RegisterDbIntegrityCommands(*db, global, run);
  RegisterDbRulesCommands(*db, global, run);
}

}  // namespace vibekit::cli
