// `vibekit telemetry convert`: json, ndjson, csv or otlp exports into another of these formats.
// The input (compression detected from its bytes) is restored into a temporary database (otlp:
// its events imported through the ingest path, so ids are new), which the export service then
// writes out: every format goes through the same reader and writer code.
#include <cstdio>

#include "vibekit/export.h"

#include "cli/commands.h"
#include "cli/export_support.h"

namespace vibekit::cli {

void RegisterConvertCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run) {
  struct Args {
    std::string input, output, from, to;
    std::string compress = "none";
    std::string delimiter = "comma";
    bool pretty = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = telemetry.add_subcommand(
      "convert",
      "Convert an export between json, ndjson, csv and otlp (compressed input detected)");
  cmd->add_option("--input", a->input,
                  "Export to read, - for standard input (csv: a table's file or the <stem>.csv "
                  "of a per-table set)")
      ->required();
  cmd->add_option("--output", a->output, "File to write, or - for standard output")->required();
  cmd->add_option("--from", a->from, "Input format")
      ->required()
      ->check(CLI::IsMember({"json", "ndjson", "csv", "otlp"}));
  cmd->add_option("--to", a->to, "Output format")
      ->required()
      ->check(CLI::IsMember({"json", "ndjson", "csv", "otlp"}));
  cmd->add_option("--compress", a->compress, "Output compression")
      ->check(CLI::IsMember({"none", "gzip", "brotli", "zstd"}));
  cmd->add_option("--delimiter", a->delimiter,
                  "csv output: comma, semicolon, tab or one character");
  cmd->add_flag("--pretty", a->pretty, "json output: indented document");
  cmd->footer(
      "Examples:\n  vibekit telemetry convert --input export.json --output export.csv --from json "
      "--to csv\n  vibekit telemetry convert --input t.ndjson.zst --output t.json --from ndjson "
      "--to json --pretty\n  vibekit telemetry convert --input t.ndjson --output t.otlp.json "
      "--from ndjson "
      "--to otlp");
  cmd->callback([&global, &run, a] {
    run = [&global, a]() -> int {
      auto scratch = ScratchDir::Create("vibekit-convert");
      if (!scratch.ok()) return Fail(scratch.status().message());
      std::string input = a->input;
      if (input == "-") {
        input = scratch->path() + "/input";
        Status st = SpoolStdin(input);
        if (!st.ok()) return Fail(st.message());
      }
      TelemetryConfig config = MakeConfig(global);
      config.local_store.db_path = scratch->path() + "/convert.db";
      config.local_store.max_size_mb = 0;
      config.local_store.prune_days = 0;
      TelemetryService service(config);
      Status init = service.Initialize();
      if (!init.ok()) return Fail("cannot create the temporary database: " + init.message());
      TelemetryExportService exporter(service);

      ExportConfig out;
      out.format = a->to;
      out.output_path = a->output;
      out.compression = a->compress;
      out.pretty_print = a->pretty;
      out.csv_delimiter = a->delimiter;
      ExportConfig shape = out;
      shape.output_path = "-";
      ValidationResult v = exporter.ValidateConfiguration(shape);
      if (!v.valid) return UsageError(v.errors.front());

      auto kind = exporter.DetectInput(input);
      if (!kind.ok()) return Fail("cannot convert: " + kind.status().message());
      const bool matches = (a->from == "json" && *kind == ExportInputKind::kJsonExport) ||
                           (a->from == "ndjson" && (*kind == ExportInputKind::kNdjsonExport ||
                                                    *kind == ExportInputKind::kEventNdjson)) ||
                           (a->from == "csv" && *kind == ExportInputKind::kCsvExport) ||
                           (a->from == "otlp" && *kind == ExportInputKind::kOtlpJson);
      if (!matches) {
        return Fail("cannot convert: \"" + a->input + "\" is not a " + a->from + " export");
      }
      if (*kind == ExportInputKind::kOtlpJson) {
        auto imported = exporter.ImportOtlp(input);
        if (!imported.ok()) return Fail("cannot convert: " + imported.status().message());
      } else if (*kind == ExportInputKind::kEventNdjson) {
        ImportOptions strict;
        strict.strict = true;
        auto imported = service.ImportNdjson(input, strict);
        if (!imported.ok()) return Fail("cannot convert: " + imported.status().message());
      } else {
        auto restored = exporter.Restore(input);
        if (!restored.ok()) return Fail("cannot convert: " + restored.status().message());
      }
      ExportFilter all;
      if (out.output_path == "-" && out.format == "csv") all.tables = {"events"};
      auto result = exporter.Export(all, out);
      (void)service.Shutdown();
      if (!result.ok()) return Fail("convert failed: " + result.status().message());
      if (!global.quiet) {
        OutputOptions o = MakeOutput(global);
        if (out.output_path == "-") o.color = false;
        PrintObject(ExportResultToJson(*result), o, out.output_path == "-" ? stderr : stdout);
      }
      return kExitOk;
    };
  });
}

}  // namespace vibekit::cli
