// Record writers of the export formats and the registry that maps a format name to its writer.
// Each format is one FormatSpec in Formats(): the export service, the CLI and
// ValidateConfiguration find it there.
//
// Writers receive rows table by table (sessions, events, errors; only the chosen tables) and
// append their bytes to output streams they open through a StreamOpener: one stream for the
// whole export (json, ndjson) or one per table (csv).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vibekit/event.h"
#include "vibekit/export.h"
#include "vibekit/status.h"

#include "export/sink.h"

namespace vibekit::exporting {

enum class Table { kSessions = 0, kEvents = 1, kErrors = 2 };
std::string_view TableName(Table t) noexcept;  // "sessions", "events", "errors"
Result<Table> ParseTable(std::string_view name);

// What the writers know about the export being written.
struct ExportHeader {
  std::string format;
  std::vector<Table> tables;  // chosen, in order
  ExportFilter filter;
  std::int64_t sessions = 0;  // rows that will follow, per table
  std::int64_t events = 0;
  std::int64_t errors = 0;
  std::int64_t exported_at_ms = 0;
  bool pretty = false;
  char csv_delimiter = ',';
};

// Opens the buffered stream for `table` (one table's file), or for the whole export when
// `table` is null. The stream lives until the export ends.
using StreamOpener = std::function<Result<BufferedWriter*>(const Table* table)>;

class RecordWriter {
 public:
  RecordWriter() = default;
  virtual ~RecordWriter() = default;
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  virtual Status Begin(const ExportHeader& header) = 0;
  virtual Status BeginTable(Table table) = 0;
  virtual Status EndTable(Table table) = 0;
  virtual Status WriteSession(const Session& s) = 0;
  virtual Status WriteEvent(const Event& e) = 0;
  virtual Status WriteError(const ErrorRecord& r) = 0;
  virtual Status End() = 0;
};

struct FormatSpec {
  std::string name;     // "json", "ndjson", "csv", "otlp"
  bool file_per_table;  // csv: one file per table
  std::function<std::unique_ptr<RecordWriter>(StreamOpener opener)> make;
  // otlp: rows arrive grouped by session (store::ScanRequest::by_session: a session, its events,
  // its errors; no BeginTable/EndTable), `tables` does not apply and limit/offset count sessions.
  bool by_session = false;
};

// The formats this build writes.
const std::vector<FormatSpec>& Formats();
const FormatSpec* FindFormat(std::string_view name);

// "comma", "semicolon", "tab" or one character other than '"', CR and LF.
Result<char> ParseCsvDelimiter(std::string_view text);

// Field names, in output order (also the CSV header rows).
const std::vector<std::string_view>& SessionFields();
const std::vector<std::string_view>& EventFields();
const std::vector<std::string_view>& ErrorFields();

// One NDJSON line (no newline) of each record kind, exactly as the ndjson export writes it.
void AppendSessionJson(std::string& out, const Session& s);
void AppendEventJson(std::string& out, const Event& e);
void AppendErrorJson(std::string& out, const ErrorRecord& r);

}  // namespace vibekit::exporting
