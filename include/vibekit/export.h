// TelemetryExportService: writes the telemetry of a TelemetryService to files (json, ndjson, csv;
// optionally gzip, brotli or zstd compressed), restores such files into a database, and describes
// what there is to export. The description's TelemetryExportService (docs/EXPORT.md has the
// formats, field names and rules).
//
// Export streams: rows are read one at a time from one read snapshot of the database and written
// through a buffered (and optionally compressing) writer, so memory stays flat however many rows
// there are. Output goes to a temporary file in the target directory that is renamed into place
// only when everything was written; on any failure no partial file is left behind.
//
// Errors: nothing throws. kInvalidArgument for a bad filter or configuration (the message says
// which field and why), kUnavailable / kIoError when the output cannot be written, the database
// errors of TelemetryService otherwise.
//
// Thread-safety: every method may be called from any thread; exports run concurrently with
// ingest (they read a snapshot; events committed later are not in it).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vibekit/status.h"
#include "vibekit/telemetry_service.h"

namespace vibekit {

// Which rows to export. Every condition combines with AND; empty lists mean "no condition".
struct ExportFilter {
  // Inclusive bounds on events.timestamp, errors.timestamp and sessions.start_time.
  std::optional<std::int64_t> from_time;
  std::optional<std::int64_t> to_time;
  std::vector<std::string> session_ids;  // sessions.id / events.session_id / errors.session_id
  std::vector<std::string> agent_types;  // errors: by their session's agent
  std::vector<std::string> event_types;  // "start", "stream", "end", "error"; events only
  // "sessions", "events", "errors"; empty = all three. Always written in that order.
  std::vector<std::string> tables;
  // Rows per table (each table is ordered: sessions by start time then id, events and errors by
  // id): skip `offset`, then at most `limit` (unset = no limit).
  std::optional<std::int64_t> limit;
  std::int64_t offset = 0;
};

struct ExportConfig {
  // "json", "ndjson", "csv", "otlp" (one OTLP/JSON ExportTraceServiceRequest, one trace per
  // session; `tables` must be empty, limit/offset count sessions, pretty_print is ignored).
  std::string format = "json";
  // File to write ("-" = standard output). The compression's extension (.gz, .br, .zst) is
  // appended when missing. csv with several tables writes one file per table, named
  // "<stem>.<table>.csv" from "<stem>.csv" (see docs/EXPORT.md).
  std::string output_path;
  std::string compression = "none";  // "none", "gzip", "brotli", "zstd"
  bool pretty_print = false;         // json: 2-space indented document
  // csv: "comma", "semicolon", "tab" or any single character except '"', CR and LF.
  std::string csv_delimiter = ",";
  // Called now and then with rows written so far and the total to write (from a thread of the
  // export, never two calls at once).
  std::function<void(std::int64_t rows_done, std::int64_t rows_total)> progress;
};

struct ExportedFile {
  std::string path;             // as written (after renaming), "-" for standard output
  std::string table;            // the table it holds, "" when it holds all chosen tables
  std::int64_t size_bytes = 0;  // bytes written (compressed)
  std::string sha256;           // hex SHA-256 of those bytes
};

struct ExportResult {
  std::string format;
  std::string compression;
  std::int64_t record_count = 0;  // sessions + events + errors
  std::int64_t session_count = 0;
  std::int64_t event_count = 0;
  std::int64_t error_count = 0;
  std::vector<ExportedFile> files;
  double duration_ms = 0;
};

// ListAvailableData(): what there is to export.
struct DataSummary {
  std::int64_t sessions = 0;
  std::int64_t events = 0;
  std::int64_t errors = 0;
  std::optional<std::int64_t> oldest_event_time;
  std::optional<std::int64_t> newest_event_time;
  std::vector<std::string> agent_types;  // sorted
  std::vector<std::string> event_types;  // present in the data, sorted
  std::vector<std::string> tables;       // "sessions", "events", "errors"
  std::vector<std::string> formats;      // formats this build can write
  std::vector<std::string> compressions;
};

struct ValidationResult {
  bool valid = true;
  std::vector<std::string> errors;  // one sentence per problem
};

// What a file given to Restore() turned out to be.
enum class ExportInputKind {
  kJsonExport,    // our json document
  kNdjsonExport,  // our ndjson (first line {"recordType":"export",...})
  kCsvExport,     // our csv (one table per file, recognised by its header row)
  kEventNdjson,   // plain event NDJSON, for TelemetryService::ImportNdjson
  kOtlpJson,      // an OTLP/JSON ExportTraceServiceRequest (an object with "resourceSpans";
                  // also one request per line), for ImportOtlp
};

struct RestoreResult {
  ExportInputKind kind = ExportInputKind::kJsonExport;
  std::int64_t sessions = 0;
  std::int64_t events = 0;
  std::int64_t errors = 0;
  double duration_ms = 0;
};

class TelemetryExportService {
 public:
  // `service` must be initialized and outlive this object.
  explicit TelemetryExportService(TelemetryService& service);
  ~TelemetryExportService();
  TelemetryExportService(const TelemetryExportService&) = delete;
  TelemetryExportService& operator=(const TelemetryExportService&) = delete;

  // Flushes the service's buffers (so every event acknowledged before the call is included),
  // then writes the rows matching `filter` as `config` says.
  Result<ExportResult> Export(const ExportFilter& filter, const ExportConfig& config) noexcept;
  Result<DataSummary> ListAvailableData() noexcept;
  // Checks the configuration without touching the database or the file system beyond checking
  // that the output directory exists and is writable.
  ValidationResult ValidateConfiguration(const ExportConfig& config) noexcept;

  // What `path` holds (decompressing gzip, brotli or zstd, detected by content). "-" is not
  // accepted here (standard input cannot be read twice). kInvalidArgument when it is none of the
  // kinds, kNotFound when it cannot be read.
  Result<ExportInputKind> DetectInput(const std::string& path) noexcept;
  // Restores one of our exports (json, ndjson or csv; compressed or not) into the service's
  // database verbatim: sessions, events and errors keep their ids and timestamps. Everything is
  // written in one transaction: on any error (malformed or truncated input, an id that already
  // exists, an event of a session that is in neither the input nor the database) nothing is
  // written. CSV: `path` is one table's file, or the "<stem>.csv" of a per-table set.
  Result<RestoreResult> Restore(const std::string& path) noexcept;
  // Imports the events of an OTLP/JSON trace request file (our otlp export, or spans of other
  // producers carrying gen_ai.conversation.id; compressed or not) through the normal ingest path
  // (TelemetryService::InsertEventBatch): sessions are re-derived by the ingest rules and the
  // rows get new ids, so this is not a verbatim restore. The whole file is decoded and every
  // event validated before anything is written: a truncated or corrupt file writes nothing
  // (kInvalidArgument / kCorruption). Events are submitted in their original order (by the
  // vibekit.event.id they carry) and flushed before returning.
  Result<RestoreResult> ImportOtlp(const std::string& path) noexcept;

 private:
  TelemetryService& service_;
};

}  // namespace vibekit
