// `vibekit telemetry import FILE|-`: NDJSON events (optionally gzip) into the database, or one of
// our own exports (json, ndjson, csv; any compression), restored verbatim (ids and timestamps
// kept) in one transaction, refused as a whole when an id already exists; or an OTLP/JSON trace
// request, whose events go through the normal ingest path (new ids, sessions re-derived).
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/export_support.h"
#include "cli/progress.h"
#include "common/log.h"
#include "vibekit/export.h"
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
      "import",
      "Import NDJSON events (.gz accepted) or OTLP/JSON traces, or restore a json/ndjson/csv "
      "export, from FILE or -");
  cmd->add_option("file", args->file,
                  "NDJSON, export or OTLP/JSON file (detected by content), or - for standard input")
      ->required();
  cmd->add_flag("--strict", args->strict,
                "Reject the whole import if any line is bad (default: skip bad lines)");
  cmd->add_option("--batch-size", args->batch, "Events per batch")->check(CLI::Range(1, 100000));
  cmd->footer(
      "Examples:\n  vibekit telemetry import events.ndjson\n"
      "  zcat events.ndjson.gz | vibekit telemetry import - --strict\n"
      "  vibekit telemetry import traces.otlp.json   # OTLP: new ids, sessions re-derived");
  cmd->callback([&global, &run, args] {
    run = [&global, args]() -> int {
      auto opened = OpenService(global, /*must_exist=*/false);
      if (!opened) return kExitFailure;
      TelemetryService& service = *opened;
      // Our exports are recognised by their content (standard input is saved to a file first).
      std::optional<ScratchDir> scratch;
      std::string path = args->file;
      if (path == "-") {
        auto dir = ScratchDir::Create("vibekit-import");
        if (!dir.ok()) return Fail(dir.status().message());
        scratch.emplace(std::move(*dir));
        path = scratch->path() + "/stdin";
        Status spooled = SpoolStdin(path);
        if (!spooled.ok()) return Fail(spooled.message());
      }
      TelemetryExportService exporter(service);
      auto kind = exporter.DetectInput(path);
      if (kind.ok() && *kind == ExportInputKind::kOtlpJson) {
        // Decoded and validated as a whole first: a bad file writes nothing.
        auto imported = exporter.ImportOtlp(path);
        Status shut = service.Shutdown();
        if (!imported.ok()) return Fail("import failed: " + imported.status().message());
        if (!shut.ok()) return Fail("import not fully written: " + shut.ToString());
        if (!global.quiet) {
          std::printf("imported %lld events (%lld sessions, %lld errors) from OTLP in %.2f s\n",
                      static_cast<long long>(imported->events),
                      static_cast<long long>(imported->sessions),
                      static_cast<long long>(imported->errors), imported->duration_ms / 1000.0);
        }
        return kExitOk;
      }
      if (kind.ok() && *kind != ExportInputKind::kEventNdjson) {
        auto restored = exporter.Restore(path);
        Status shut = service.Shutdown();
        if (!restored.ok()) return Fail("import failed: " + restored.status().message());
        if (!shut.ok()) return Fail("import not fully written: " + shut.ToString());
        if (!global.quiet) {
          std::printf("restored %lld sessions, %lld events, %lld errors in %.2f s\n",
                      static_cast<long long>(restored->sessions),
                      static_cast<long long>(restored->events),
                      static_cast<long long>(restored->errors), restored->duration_ms / 1000.0);
        }
        return kExitOk;
      }
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
      auto result = service.ImportNdjson(path, options);
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
