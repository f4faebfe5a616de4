// `vibekit db clear [--yes]`: removes all telemetry (sessions, events, errors, buffers, the
// statistics rollup) in one transaction; schema versions and validation rules stay, and one
// audit-log row records it. Asks first on a terminal; elsewhere --yes is required (exit 2).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "cli/progress.h"

namespace vibekit::cli {

void RegisterDbClearCommand(CLI::App& db, const GlobalOptions& global, Runner& run) {
  auto yes = std::make_shared<bool>(false);
  CLI::App* cmd = db.add_subcommand("clear", "Delete all telemetry data (keeps the schema)");
  cmd->add_flag("-y,--yes", *yes, "Do not ask for confirmation (required when not on a terminal)");
  cmd->footer("Examples:\n  vibekit db clear\n  vibekit db clear --yes --format json");
  cmd->callback([&global, &run, yes] {
    run = [&global, yes]() -> int {
      const std::string path = MakeConfig(global).local_store.db_path;
      // Decide before opening anything: a refusal must leave the database untouched.
      if (!*yes) {
        if (isatty(STDIN_FILENO) == 0) {
          return UsageError("db clear deletes all telemetry in " + path +
                            "; standard input is not a terminal, so pass --yes to confirm");
        }
        std::fprintf(stderr, "Delete all telemetry in %s? [y/N] ", path.c_str());
        std::fflush(stderr);
        std::string answer;
        std::getline(std::cin, answer);
        if (answer != "y" && answer != "Y" && answer != "yes" && answer != "YES" &&
            answer != "Yes") {
          return Fail("cancelled; nothing was deleted");
        }
      }
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      // A spinner, the elapsed time and the file sizes on a TTY after ~1 s.
      auto activity = ActivityIndicator::ForStderr(
          "clearing", global.quiet, [path] { return DatabaseFilesDetail(path); });
      auto r = service->ClearAll();
      activity->Stop();
      Status st = service->Shutdown();
      if (!r.ok()) return FailStatus("clear", r.status(), global);
      if (!st.ok()) return Fail(st.ToString());
      boost::json::object o;
      o["dbPath"] = path;
      o["sessionsRemoved"] = r->sessions_removed;
      o["eventsRemoved"] = r->events_removed;
      if (!global.quiet) PrintObject(o, MakeOutput(global), stdout);
      return kExitOk;
    };
  });
}

}  // namespace vibekit::cli
