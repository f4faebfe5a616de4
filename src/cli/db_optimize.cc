// `vibekit db optimize [--rebuild-indexes]`: PRAGMA optimize, ANALYZE, merge of the full-text
// index segments (FTS5 'optimize'), optionally REINDEX; on the writer thread, each step timed.
// Progress on a TTY after ~1 s: spinner, elapsed time and file sizes (these statements report
// no fraction done either; see db_vacuum.cc).
#include <cstdio>

#include "cli/commands.h"
#include "cli/db_maintenance.h"
#include "cli/progress.h"

namespace vibekit::cli {

void RegisterDbOptimizeCommand(CLI::App& db, const GlobalOptions& global, Runner& run) {
  auto rebuild = std::make_shared<bool>(false);
  CLI::App* cmd = db.add_subcommand(
      "optimize", "Refresh planner statistics and merge the text index (ANALYZE, FTS optimize)");
  cmd->add_flag("--rebuild-indexes", *rebuild, "Also rebuild every index (REINDEX)");
  cmd->footer("Examples:\n  vibekit db optimize\n  vibekit db optimize --rebuild-indexes --format json");
  cmd->callback([&global, &run, rebuild] {
    run = [&global, rebuild]() -> int {
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      const std::string path = service->config().local_store.db_path;
      auto activity = ActivityIndicator::ForStderr(
          "optimizing", global.quiet, [path] { return DatabaseFilesDetail(path); });
      auto r = service->Optimize(*rebuild);
      activity->Stop();
      Status st = service->Shutdown();
      if (!r.ok()) return FailStatus("optimize", r.status(), global);
      if (!st.ok()) return Fail(st.ToString());
      boost::json::object o;
      o["dbPath"] = service->config().local_store.db_path;
      o["rebuildIndexes"] = *rebuild;
      for (auto& kv : MaintenanceToJsonObject(*r)) o[kv.key()] = kv.value();
      o["ftsSegmentsBefore"] = r->fts_segments_before;
      o["ftsSegmentsAfter"] = r->fts_segments_after;
      if (!global.quiet) PrintMaintenance(o, MakeOutput(global));
      return kExitOk;
    };
  });
}

}  // namespace vibekit::cli
