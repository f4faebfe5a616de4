// `vibekit db stats`: what the database holds, from the rollup (no table scans), and its size
// (the file's on SQLite, the tables' on PostgreSQL).
#include <cstdio>

#include "cli/commands.h"

namespace vibekit::cli {

void RegisterDbStatsCommand(CLI::App& db, const GlobalOptions& global, Runner& run) {
  CLI::App* cmd = db.add_subcommand("stats", "Counts of events and sessions, database size");
  cmd->footer("Examples:\n  vibekit db stats\n  vibekit db stats --format json");
  cmd->callback([&global, &run] {
    run = [&global]() -> int {
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      auto stats = service->GetAggregateStats();
      auto health = service->HealthCheck(TelemetryService::HealthCheckOptions{.quick_check = false});
      (void)service->Shutdown();
      if (!stats.ok()) return Fail("cannot read statistics: " + stats.status().message());
      boost::json::object o = RollupToJsonObject(stats->total);
      o["errorEventRatePct"] = stats->error_event_rate_pct;
      o["sessionErrorRatePct"] = stats->session_error_rate_pct;
      if (health.ok()) {
        o[health->backend == "postgres" ? "databaseSizeBytes" : "fileSizeBytes"] =
            health->file_size_bytes;
        o["oldestEventTime"] = health->oldest_event_time;
      }
      o["dbPath"] = MakeConfig(global).local_store.db_path;
      PrintObject(o, MakeOutput(global), stdout);
      return kExitOk;
    };
  });
}

}  // namespace vibekit::cli
