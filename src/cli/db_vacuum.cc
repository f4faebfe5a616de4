// `vibekit db vacuum [--analyze]`: VACUUM (then ANALYZE) on the writer thread, with the file
// sizes measured before and after and the time each step took. On PostgreSQL: VACUUM (ANALYZE)
// of the store's tables, sizes from pg_total_relation_size (PgStore::Vacuum).
//
// Progress: VACUUM is one SQLite statement and SQLite reports no fraction of it done
// (sqlite3_progress_handler counts VM steps against no known total), so instead of a made-up
// percentage a TTY gets a spinner, the elapsed time and the live sizes of the database and its
// WAL (in WAL mode VACUUM writes the rebuilt database into the -wal file, so the WAL growing is
// the work being done), from ~1 s on.
#include <cstdio>

#include "cli/commands.h"
#include "cli/db_maintenance.h"
#include "cli/progress.h"

namespace vibekit::cli {

void RegisterDbVacuumCommand(CLI::App& db, const GlobalOptions& global, Runner& run) {
  auto analyze = std::make_shared<bool>(false);
  CLI::App* cmd = db.add_subcommand(
      "vacuum", "Compact the database (VACUUM: SQLite rewrites the file; PostgreSQL its tables)");
  cmd->add_flag("--analyze", *analyze, "Refresh planner statistics afterwards (ANALYZE)");
  cmd->footer("Examples:\n  vibekit db vacuum\n  vibekit db vacuum --analyze --format json");
  cmd->callback([&global, &run, analyze] {
    run = [&global, analyze]() -> int {
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      const std::string path = service->config().local_store.db_path;
      auto activity = ActivityIndicator::ForStderr(
          "vacuuming", global.quiet, [path] { return DatabaseFilesDetail(path); });
      auto r = service->Vacuum(*analyze);
      activity->Stop();
      Status st = service->Shutdown();
      if (!r.ok()) return FailStatus("vacuum", r.status(), global);
      if (!st.ok()) return Fail(st.ToString());
      boost::json::object o;
      o["dbPath"] = service->config().local_store.db_path;
      o["analyze"] = *analyze;
      for (auto& kv : MaintenanceToJsonObject(*r)) o[kv.key()] = kv.value();
      o["bytesFreed"] = (r->file_size_before_bytes + r->wal_size_before_bytes) -
                        (r->file_size_after_bytes + r->wal_size_after_bytes);
      if (!global.quiet) PrintMaintenance(o, MakeOutput(global));
      return kExitOk;
    };
  });
}

}  // namespace vibekit::cli
