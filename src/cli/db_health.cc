// `vibekit db health [--detailed]`: the HealthCheck, as a short verdict or every figure.
// Exit code 1 when the database is not usable, so scripts can rely on it.
#include <cstdio>

#include "cli/commands.h"

namespace vibekit::cli {

void RegisterDbHealthCommand(CLI::App& db, const GlobalOptions& global, Runner& run) {
  auto detailed = std::make_shared<bool>(false);
  CLI::App* cmd = db.add_subcommand("health", "Check the database and report health figures");
  cmd->add_flag("--detailed", *detailed, "Every figure (integrity, sizes, writer, retention)");
  cmd->footer("Examples:\n  vibekit db health\n  vibekit db health --detailed --format json");
  cmd->callback([&global, &run, detailed] {
    run = [&global, detailed]() -> int {
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      auto health = service->HealthCheck();
      (void)service->Shutdown();
      if (!health.ok()) return Fail("health check failed: " + health.status().message());
      boost::json::object full = HealthToJsonObject(*health);
      boost::json::object shown;
      if (*detailed) {
        shown = full;
      } else {
        // The sizes that exist for this backend: a file and its disk (SQLite), the database's
        // size (PostgreSQL).
        for (const char* key : {"database", "quickCheck", "performanceGrade", "dbPath", "backend",
                                "fileSizeBytes", "databaseSizeBytes", "diskFreeBytes",
                                "issues"}) {
          if (full.contains(key)) shown[key] = full[key];
        }
        // Live delivery only where it is set up (endpoint configured now or before).
        if (health->delivery.configured || !health->delivery.endpoint.empty()) {
          shown["delivery"] = full["delivery"];
        }
      }
      PrintObject(shown, MakeOutput(global), stdout);
      return health->database ? kExitOk : kExitFailure;
    };
  });
}

}  // namespace vibekit::cli
