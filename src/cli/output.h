// Rendering of command results. Every command builds records (JSON objects with camelCase keys,
// typed values) and a column list once; the chosen --format decides how they are printed:
//   table   aligned columns with a header, cut to the terminal width (long cells elided with
//           "…"), colour for the header and status cells only when `color` is on
//   json    one JSON array of the records (pretty, 2-space indent), or the single object
//   ndjson  one record per line
//   csv     RFC 4180: header row, comma separated, fields with comma, quote, CR or LF quoted,
//           quotes doubled, CRLF line ends
// Nested values (objects, arrays) appear as compact JSON text in table and csv cells.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "views/json_views.h"
#include "views/time_arg.h"
#include "vibekit/event.h"
#include "vibekit/status.h"
#include "vibekit/telemetry_service.h"

namespace vibekit::cli {

enum class Format { kTable, kJson, kNdjson, kCsv };

// "table", "json", "ndjson", "csv" (kInvalidArgument otherwise, naming the choices).
Result<Format> ParseFormat(std::string_view name);

struct OutputOptions {
  Format format = Format::kTable;
  bool color = false;   // ANSI colour (only ever set when stdout is a TTY and NO_COLOR unset)
  int width = 0;        // terminal width for tables; 0 = do not cut
};

// A list of records and the columns a table or CSV shows, in order. JSON keeps every key.
struct Records {
  std::vector<std::string> columns;
  std::vector<boost::json::object> rows;
};

// Writes `records` to `out` in the chosen format. An empty table prints "(no rows)"; empty JSON
// is "[]"; empty NDJSON and CSV (header only) print nothing more.
void Print(const Records& records, const OutputOptions& options, std::FILE* out);

// Writes one object (a summary, a health report): table format prints aligned "key  value"
// lines (nested objects flattened with dotted keys), json pretty, ndjson one line, csv a
// two-column key,value table.
void PrintObject(const boost::json::object& object, const OutputOptions& options, std::FILE* out);

// The stable JSON shapes (documented in docs/CLI.md) are rendered by src/views/json_views.h,
// shared with the HTTP server.
using views::EventToJsonObject;
using views::HealthToJsonObject;
using views::RollupToJsonObject;
using views::SessionToJsonObject;
// Time arguments (--since/--until) are parsed by src/views/time_arg.h, shared with the server.
using views::FormatTimestamp;
using views::ParseTimeArg;

// Default columns for the table/csv views of events and sessions.
std::vector<std::string> EventColumns();
std::vector<std::string> SessionColumns();

// One line of free text for a terminal: control characters replaced, invalid UTF-8 repaired
// (as table cells are), then cut to `width` display columns ending in "…" (0 = no cut).
std::string FitLine(std::string_view text, int width);

// Terminal width of stdout when it is a TTY (TIOCGWINSZ, else $COLUMNS), 0 when not a TTY.
int TerminalWidth();
// True when stdout is a TTY, NO_COLOR is unset and --no-color was not given.
bool ColorWanted(bool no_color_flag);

}  // namespace vibekit::cli
