// `vibekit telemetry export`: writes sessions, events and errors to json, ndjson, csv or otlp
// (OTLP/JSON traces, one per session) files (optionally gzip, brotli or zstd compressed), or to
// standard output with `--output -`.
// The summary (counts, files, sizes, SHA-256) follows the global --format given before
// `telemetry` (table or json); with `--output -` it goes to stderr.
#include <cstdio>
#include <set>

#include "vibekit/export.h"

#include "cli/commands.h"
#include "cli/export_support.h"
#include "cli/progress.h"

namespace vibekit::cli {

void RegisterExportCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run) {
  struct Args {
    std::string format = "json";
    std::string compress = "none";
    std::string output;
    std::string since, until, sessions, agents, event_types, tables;
    std::string delimiter = "comma";
    std::int64_t limit = 0;
    std::int64_t offset = 0;
    bool pretty = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = telemetry.add_subcommand(
      "export", "Export sessions, events and errors to json, ndjson, csv or otlp files");
  cmd->add_option("--format", a->format, "File format (otlp: OTLP/JSON traces, one per session)")
      ->check(CLI::IsMember({"json", "ndjson", "csv", "otlp"}));
  cmd->add_option("--compress", a->compress, "Compression; the extension (.gz .br .zst) follows")
      ->check(CLI::IsMember({"none", "gzip", "brotli", "zstd"}));
  cmd->add_option("--output", a->output,
                  "File to write, or - for standard output (csv: <stem>.<table>.csv per table)")
      ->required();
  cmd->add_option("--since", a->since, "From: 30m, 24h, 7d, ISO 8601 or epoch ms");
  cmd->add_option("--until", a->until, "Until: same forms as --since");
  cmd->add_option("--sessions", a->sessions, "Only these session ids (comma separated)");
  cmd->add_option("--agents", a->agents, "Only these agents (comma separated)");
  cmd->add_option("--event-types", a->event_types, "Only these event types (events table)");
  cmd->add_option("--tables", a->tables,
                  "sessions,events,errors (default: all three; not with otlp)");
  cmd->add_option("--delimiter", a->delimiter, "csv: comma, semicolon, tab or one character");
  cmd->add_option("--limit", a->limit, "Rows per table at most (otlp: sessions; 0: no limit)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--offset", a->offset, "Rows per table to skip (otlp: sessions)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--pretty", a->pretty, "json: indented document");
  cmd->footer(
      "Examples:\n  vibekit telemetry export --format json --compress gzip --output t.json --since "
      "7d\n"
      "  vibekit telemetry export --format csv --delimiter semicolon --tables events,sessions "
      "--output data.csv\n"
      "  vibekit --format json telemetry export --format ndjson --output - | gzip > t.ndjson.gz\n"
      "  vibekit telemetry export --format otlp --compress gzip --agents claude --output "
      "traces.otlp.json");
  cmd->callback([&global, &run, a] {
    run = [&global, a]() -> int {
      ExportFilter filter;
      if (!ParseTimeFlag("--since", a->since, &filter.from_time)) return kExitUsage;
      if (!ParseTimeFlag("--until", a->until, &filter.to_time)) return kExitUsage;
      filter.session_ids = SplitList(a->sessions);
      filter.agent_types = SplitList(a->agents);
      filter.event_types = SplitList(a->event_types);
      filter.tables = SplitList(a->tables);
      if (a->limit > 0) filter.limit = a->limit;
      filter.offset = a->offset;
      for (const std::string& t : filter.tables) {
        if (t != "sessions" && t != "events" && t != "errors") {
          return UsageError("--tables: unknown table \"" + t + "\" (sessions, events, errors)");
        }
      }
      for (const std::string& t : filter.event_types) {
        if (!ParseEventType(t).ok()) {
          return UsageError("--event-types: unknown event type \"" + t +
                            "\" (start, stream, end, error)");
        }
      }
      if (filter.from_time && filter.to_time && *filter.from_time > *filter.to_time) {
        return UsageError("--since is after --until");
      }
      ExportConfig config;
      config.format = a->format;
      config.compression = a->compress;
      config.output_path = a->output;
      config.pretty_print = a->pretty;
      config.csv_delimiter = a->delimiter;
      if (a->format == "otlp" && !filter.tables.empty() &&
          std::set<std::string>(filter.tables.begin(), filter.tables.end()).size() != 3) {
        return UsageError(
            "--tables does not apply to otlp: each trace holds a session with its events and "
            "errors");
      }
      const bool to_stdout = a->output == "-";
      if (to_stdout && a->format == "csv" && filter.tables.size() != 1) {
        return UsageError(
            "csv to standard output takes exactly one table (add --tables events, "
            "sessions or errors): each table is its own file");
      }
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      TelemetryExportService exporter(*service);
      // Format, compression and delimiter problems are usage errors; the path is checked by
      // the export itself (a runtime failure).
      ExportConfig shape = config;
      shape.output_path = "-";
      ValidationResult v = exporter.ValidateConfiguration(shape);
      if (!v.valid) return UsageError(v.errors.front());
      auto progress = ProgressReporter::ForStderr("exporting", ProgressUnit::kItems, global.quiet);
      if (progress->enabled()) {
        config.progress = [&progress](std::int64_t done, std::int64_t total) {
          progress->Update(done, total);
        };
      }
      auto result = exporter.Export(filter, config);
      progress->Finish();
      (void)service->Shutdown();
      if (!result.ok()) return Fail("export failed: " + result.status().message());
      if (!global.quiet) {
        OutputOptions out = MakeOutput(global);
        if (to_stdout) out.color = false;
        PrintObject(ExportResultToJson(*result), out, to_stdout ? stderr : stdout);
      }
      return kExitOk;
    };
  });
}

}  // namespace vibekit::cli
