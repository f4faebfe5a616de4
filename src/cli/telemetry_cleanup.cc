// `vibekit telemetry cleanup --days N`: ClearOldData — removes whole sessions whose last event is
// older than N days (audited in telemetry_audit_log). A large purge shows a spinner, the
// elapsed time and the file sizes on a TTY after ~1 s (the number of sessions to delete is not
// known before the chunks run).
#include <cstdio>

#include "cli/commands.h"
#include "cli/progress.h"

namespace vibekit::cli {

void RegisterCleanupCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run) {
  auto days = std::make_shared<int>(-1);
  CLI::App* cmd = telemetry.add_subcommand("cleanup", "Remove sessions older than N days");
  cmd->add_option("--days", *days, "Age in days (0 removes everything)")
      ->required()
      ->check(CLI::Range(0, 36500));
  cmd->footer("Examples:\n  vibekit telemetry cleanup --days 30");
  cmd->callback([&global, &run, days] {
    run = [&global, days]() -> int {
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      const std::string path = service->config().local_store.db_path;
      auto activity = ActivityIndicator::ForStderr(
          "cleaning up", global.quiet, [path] { return DatabaseFilesDetail(path); });
      auto r = service->ClearOldDataDetailed(*days);
      activity->Stop();
      Status st = service->Shutdown();
      if (!r.ok()) return FailStatus("cleanup", r.status(), global);
      if (!st.ok()) return Fail(st.ToString());
      boost::json::object o;
      o["sessionsRemoved"] = r->sessions_removed;
      o["eventsRemoved"] = r->events_removed;
      if (!global.quiet) PrintObject(o, MakeOutput(global), stdout);
      return kExitOk;
    };
  });
}

}  // namespace vibekit::cli
