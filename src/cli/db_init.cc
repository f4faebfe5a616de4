// `vibekit db init [--verbose] [--migration]`: create (or open) the database and bring its schema
// up to date; --migration lists the applied migrations. --verbose adds, after the "database
// ready" line, whether the file was created or already there, its mode and size, and every
// applied migration with its time.
#include <sys/stat.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/progress.h"
#include "store/postgres/pg_store.h"
#include "views/time_arg.h"

namespace vibekit::cli {

void RegisterDbInitCommand(CLI::App& db, const GlobalOptions& global, Runner& run) {
  auto show_migrations = std::make_shared<bool>(false);
  CLI::App* cmd = db.add_subcommand("init", "Create the database (mode 0600) and migrate it");
  cmd->add_flag("--migration", *show_migrations, "List the applied schema migrations");
  cmd->footer("Examples:\n  vibekit db init\n  vibekit --db /var/lib/vibekit/telemetry.db db init --migration");
  cmd->callback([&global, &run, show_migrations] {
    run = [&global, show_migrations]() -> int {
      const std::string path = MakeConfig(global).local_store.db_path;
      struct stat before {};
      const bool existed = stat(path.c_str(), &before) == 0;
      auto service = OpenService(global, /*must_exist=*/false);
      if (!service) return kExitFailure;
      auto versions = service->GetSchemaVersions();
      if (!versions.ok()) return Fail("cannot read the schema version: " + versions.status().message());
      const OutputOptions out = MakeOutput(global);
      if (*show_migrations || out.format != Format::kTable) {
        Records r;
        r.columns = {"version", "description", "appliedAt"};
        for (const SchemaVersion& v : *versions) {
          boost::json::object o;
          o["version"] = v.version;
          o["description"] = v.description;
          o["appliedAt"] = FormatTimestamp(v.applied_at);
          r.rows.push_back(std::move(o));
        }
        if (!global.quiet) Print(r, out, stdout);
      } else if (!global.quiet) {
        std::printf("database ready: %s (schema %s)\n",
                    service->config().local_store.db_path.c_str(),
                    versions->empty() ? "?" : versions->back().version.c_str());
        if (global.verbose && store::postgres::IsPostgresUrl(path)) {
          std::printf("  backend: postgres (the database lives on the server; no file of ours)\n");
        } else if (global.verbose) {
          struct stat st {};
          const bool ok = stat(path.c_str(), &st) == 0;
          std::printf("  file: %s\n", existed ? "existed, opened" : "created");
          if (ok) {
            std::printf("  mode: %04o\n", static_cast<unsigned>(st.st_mode & 07777));
            std::printf("  size: %s\n",
                        FormatAmount(static_cast<double>(st.st_size), ProgressUnit::kBytes).c_str());
          }
        }
        for (std::size_t i = 0; global.verbose && i < versions->size(); ++i) {
          const SchemaVersion& v = (*versions)[i];
          std::printf("  migration %s applied %s: %s\n", v.version.c_str(),
                      FormatTimestamp(v.applied_at).c_str(), v.description.c_str());
        }
      }
      Status st = service->Shutdown();
      return st.ok() ? kExitOk : Fail(st.ToString());
    };
  });
}

}  // namespace vibekit::cli
