// `vibekit telemetry import FILE|-`: NDJSON (optionally gzip) into the database.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/progress.h"
#include "common/log.h"
#include "vibekit/telemetry_service.h"

namespace vibekit::cli {

void RegisterImportCommand(CLI::App& telemetry, const GlobalOptions& global,
                           std::function<int()>& run) {
  struct Args {
    std::string file;
    bool strict = false;
    int batch = 2000;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = telemetry.add_subcommand(
      "import", "Import NDJSON events (one per line, .gz accepted) from FILE or - for stdin");
  cmd->add_option("file", args->file, "NDJSON file, or - for standard input")->required();
  cmd->add_flag("--strict", args->strict,
                "Reject the whole import if any line is bad (default: skip bad lines)");
  cmd->add_option("--batch-size", args->batch, "Events per batch")->check(CLI::Range(1, 100000));
  cmd->footer(
      "Examples:\n  vibekit telemetry import events.ndjson\n"
      "  zcat events.ndjson.gz | vibekit telemetry import - --strict");
  cmd->callback([&global, &run, args] {
    run = [&global, args]() -> int {
      auto opened = OpenService(global, /*must_exist=*/false);
      if (!opened) return kExitFailure;
      TelemetryService& service = *opened;
      ImportOptions options;
      options.strict = args->strict;
      options.batch_size = args->batch;
      // A database locked by another writer ends the import after --busy-timeout, as it ends
      // every other write command, instead of retrying for minutes.
      options.lock_wait_ms = global.busy_timeout_ms;
      // A refreshing progress line on stderr when it is a terminal (bytes read of the file;
      // for stdin the total is unknown: amount and rate only).
      auto progress = ProgressReporter::ForStderr("importing", ProgressUnit::kBytes, global.quiet);
      if (progress->enabled()) {
        options.progress = [&progress](std::int64_t done, std::int64_t total) {
          progress->Update(done, total);
        };
      }
      auto result = service.ImportNdjson(args->file, options);
      progress->Finish();
      if (!result.ok() && result.status().code() == StatusCode::kBusy) {
        // Batches still queued get one more try at shutdown; with the lock still held they are
        // dropped, which the line below already reports, so the library stays silent.
        internal::SetLogLevel(internal::LogLevel::kOff);
        (void)service.Shutdown(0);
        return FailStatus("import", result.status(), global);
      }
      Status shut = service.Shutdown();
      if (!result.ok()) return FailStatus("import", result.status(), global);
      if (!shut.ok()) return Fail("import not fully written: " + shut.ToString());
      for (const ImportLineError& e : result->errors) {
        std::fprintf(stderr, "vibekit: line %lld: %s\n", static_cast<long long>(e.line),
                     e.message.c_str());
      }
      if (!global.quiet) {
        std::printf("imported %lld events from %lld lines (%lld skipped) in %.2f s\n",
                    static_cast<long long>(result->imported), static_cast<long long>(result->lines),
                    static_cast<long long>(result->skipped), result->seconds);
      }
      return result->skipped > 0 ? kExitFailure : kExitOk;
    };
  });
}

}  // namespace vibekit::cli
