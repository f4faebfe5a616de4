#include "cli/output.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/utf8.h"
#include "views/json_views.h"
#include "vibekit/event.h"
#include "vibekit/status.h"
#include "vibekit/telemetry_service.h"

namespace vibekit::cli {
namespace {

namespace json = boost::json;

// Columns are never shrunk below this many display columns: narrower cells are unreadable.
constexpr int kMinColumnWidth = 8;
constexpr std::string_view kSeparator = "  ";
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";     // U+2026 "…"
constexpr std::string_view kNewlineMark = "\xE2\x8F\x8E";  // U+23CE "⏎"
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD "�"
constexpr std::string_view kBold = "\x1b[1m";
constexpr std::string_view kReset = "\x1b[0m";

// ---------------------------------------------------------------------------------------------
// UTF-8

using CodePoint = internal::Utf8CodePoint;

CodePoint DecodeAt(std::string_view s, std::size_t i) { return internal::DecodeUtf8At(s, i); }

// Terminal columns taken by a code point: 0 for combining marks and zero-width characters,
// 2 for East Asian wide / fullwidth characters and emoji, 1 otherwise. An approximation of
// wcwidth() that does not depend on the process locale.
int CodePointWidth(char32_t c) {
  if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) ||
      (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x200B && c <= 0x200F) ||
      (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE00 && c <= 0xFE0F) ||
      (c >= 0xFE20 && c <= 0xFE2F) || (c >= 0xE0100 && c <= 0xE01EF)) {
    return 0;
  }
  if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
      (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
      (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
      (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
      (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
      (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
      (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD)) {
    return 2;
  }
  return 1;
}

// Display width of text that has been through SanitizeCell (valid UTF-8, no controls).
int DisplayWidth(std::string_view s) {
  int width = 0;
  for (std::size_t i = 0; i < s.size();) {
    const CodePoint cp = DecodeAt(s, i);
    width += cp.valid ? CodePointWidth(cp.value) : 1;
    i += cp.length;
  }
  return width;
}

// Makes a cell safe and single-line for a terminal: line breaks become "⏎", tabs a space, other
// control characters (including ESC, so data can never inject escape sequences) and invalid
// UTF-8 become U+FFFD.
std::string SanitizeCell(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size();) {
    const char c = raw[i];
    if (c == '\r' || c == '\n') {
      out.append(kNewlineMark);
      i += (c == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') ? 2 : 1;
      continue;
    }
    if (c == '\t') {
      out.push_back(' ');
      ++i;
      continue;
    }
    const CodePoint cp = DecodeAt(raw, i);
    if (!cp.valid || cp.value < 0x20 || (cp.value >= 0x7F && cp.value <= 0x9F)) {
      out.append(kReplacement);
    } else {
      out.append(raw.substr(i, cp.length));
    }
    i += cp.length;
  }
  return out;
}

// Cuts sanitized `s` to at most `width` display columns, ending in "…" when anything was cut.
// Cuts fall between code points (combining marks stay with their base character).
std::string Elide(std::string_view s, int width) {
  if (DisplayWidth(s) <= width) return std::string(s);
  if (width <= 0) return std::string();
  const int budget = width - 1;  // room for the ellipsis
  int used = 0;
  std::size_t end = 0;
  while (end < s.size()) {
    const CodePoint cp = DecodeAt(s, end);
    const int w = cp.valid ? CodePointWidth(cp.value) : 1;
    if (used + w > budget) break;
    used += w;
    end += cp.length;
  }
  std::string out(s.substr(0, end));
  out.append(kEllipsis);
  return out;
}

void AppendDoubleText(std::string& out, double v) { views::AppendDoubleText(out, v); }

void AppendJson(std::string& out, const json::value& v, int indent, int depth) {
  views::AppendJsonText(out, v, indent, depth);
}

std::string CompactJson(const json::value& v) { return views::JsonText(v); }

// ---------------------------------------------------------------------------------------------
// Cells and tables

// The text of a value in a table or CSV cell, before terminal sanitizing. Null is empty so a
// missing optional does not read as the word "null".
std::string CellText(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return std::string();
    case json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case json::kind::string:
      return std::string(v.get_string());
    case json::kind::double_: {
      std::string out;
      AppendDoubleText(out, v.get_double());
      return out;
    }
    default:
      return CompactJson(v);  // numbers, and nested objects / arrays as compact JSON
  }
}

bool IsNumber(const json::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }

std::string_view StatusColor(std::string_view status) {
  if (status == "completed") return "\x1b[32m";  // green
  if (status == "failed") return "\x1b[31m";     // red
  if (status == "timeout") return "\x1b[33m";    // yellow
  if (status == "active") return "\x1b[36m";     // cyan
  return {};
}

struct Cell {
  std::string text;  // sanitized, single line
  bool number = false;
  std::string_view color;  // escape sequence, or empty
};

// Fits column widths into `width` by lowering the widest columns first, never below
// kMinColumnWidth (columns narrower than that by nature are left alone). Equivalent to taking
// one column off the currently widest column until it fits, computed with a cap instead.
void FitWidths(std::vector<int>& widths, int width) {
  if (width <= 0 || widths.empty()) return;
  const int separators = static_cast<int>(kSeparator.size() * (widths.size() - 1));
  auto total_with_cap = [&](int cap) {
    long long total = separators;
    for (int w : widths) total += std::min(w, cap);
    return total;
  };
  const int widest = *std::max_element(widths.begin(), widths.end());
  if (total_with_cap(widest) <= width || widest <= kMinColumnWidth) return;
  // Largest cap >= kMinColumnWidth whose total fits (or kMinColumnWidth when none does).
  int lo = kMinColumnWidth;
  int hi = widest;
  while (lo < hi) {
    const int mid = lo + (hi - lo + 1) / 2;
    if (total_with_cap(mid) <= width) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  const int cap = lo;
  long long total = total_with_cap(cap);
  for (int& w : widths) {
    if (w > cap) {
      // Columns cut to the cap share what is left over, left to right, one column each.
      const bool room = total < width;
      w = cap + (room ? 1 : 0);
      if (room) ++total;
    }
  }
}

std::string Spaces(int n) { return std::string(static_cast<std::size_t>(std::max(n, 0)), ' '); }

void WriteString(std::FILE* out, std::string_view s) {
  if (!s.empty()) std::fwrite(s.data(), 1, s.size(), out);
}

// Renders `header` (when not empty) and `rows`: columns two spaces apart, numeric columns right
// aligned, cells cut with "…" to fit options.width.
void RenderTable(const std::vector<std::string>& header, const std::vector<std::vector<Cell>>& rows,
                 std::size_t column_count, const OutputOptions& options, std::FILE* out) {
  std::vector<int> widths(column_count, 0);
  std::vector<bool> numeric(column_count, false);
  std::vector<bool> has_text(column_count, false);
  std::vector<bool> all_numbers(column_count, true);
  std::vector<std::string> head_cells;
  for (std::size_t c = 0; c < header.size() && c < column_count; ++c) {
    head_cells.push_back(SanitizeCell(header[c]));
    widths[c] = DisplayWidth(head_cells.back());
  }
  for (const std::vector<Cell>& row : rows) {
    for (std::size_t c = 0; c < column_count && c < row.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(row[c].text));
      if (!row[c].text.empty()) {
        has_text[c] = true;
        if (!row[c].number) all_numbers[c] = false;
      }
    }
  }
  // A column is right aligned when every non-empty cell is a number; aligning per cell would
  // leave a ragged column whenever one value is missing or textual.
  for (std::size_t c = 0; c < column_count; ++c) numeric[c] = has_text[c] && all_numbers[c];
  FitWidths(widths, options.width);
  // Too many columns for the terminal even at kMinColumnWidth each: show the leading columns
  // that fit and end every line with "  …" for the hidden rest, so no line is wider than the
  // terminal (a wrapped table is unreadable). The first column gives up width if it must.
  std::size_t visible = column_count;
  bool hidden = false;
  if (options.width > 0 && column_count > 0) {
    const int sep = static_cast<int>(kSeparator.size());
    long long total = 0;
    for (std::size_t c = 0; c < column_count; ++c) total += widths[c] + (c > 0 ? sep : 0);
    if (total > options.width) {
      hidden = true;
      const int marker = sep + 1;  // "  …"
      long long used = 0;
      visible = 0;
      while (visible < column_count &&
             used + (visible > 0 ? sep : 0) + widths[visible] + marker <= options.width) {
        used += (visible > 0 ? sep : 0) + widths[visible];
        ++visible;
      }
      if (visible == 0) {
        visible = 1;
        widths[0] = std::max(1, options.width - marker);
      }
    }
  }

  auto render_line = [&](auto&& cell_at, bool is_header) {
    std::string line;
    for (std::size_t c = 0; c < visible; ++c) {
      if (c > 0) line.append(kSeparator);
      std::string_view color;
      const std::string text = Elide(cell_at(c, color), widths[c]);
      const int pad = widths[c] - DisplayWidth(text);
      const bool use_color = options.color && !is_header && !color.empty() && !text.empty();
      if (numeric[c]) line.append(Spaces(pad));
      if (use_color) line.append(color);
      line.append(text);
      if (use_color) line.append(kReset);
      if (!numeric[c]) line.append(Spaces(pad));
    }
    if (hidden) {
      line.append(kSeparator);
      line.append(kEllipsis);
    }
    // Padding after the last visible text is noise (and wraps lines on narrow terminals).
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (is_header && options.color) line = std::string(kBold) + line + std::string(kReset);
    line.push_back('\n');
    WriteString(out, line);
  };

  if (!head_cells.empty()) {
    render_line(
        [&](std::size_t c, std::string_view&) -> std::string_view {
          return c < head_cells.size() ? std::string_view(head_cells[c]) : std::string_view();
        },
        true);
  }
  for (const std::vector<Cell>& row : rows) {
    render_line(
        [&](std::size_t c, std::string_view& color) -> std::string_view {
          if (c >= row.size()) return {};
          color = row[c].color;
          return row[c].text;
        },
        false);
  }
}

Cell MakeCell(std::string_view key, const json::value* v) {
  Cell cell;
  if (v == nullptr) return cell;  // a column the record does not have renders empty
  cell.text = SanitizeCell(CellText(*v));
  cell.number = IsNumber(*v);
  if (key == "status" && v->is_string()) cell.color = StatusColor(v->get_string());
  return cell;
}

// RFC 4180: a field is quoted when it holds a comma, quote, CR or LF; quotes are doubled.
void AppendCsvField(std::string& line, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    line.append(field);
    return;
  }
  line.push_back('"');
  for (char c : field) {
    if (c == '"') line.push_back('"');
    line.push_back(c);
  }
  line.push_back('"');
}

void WriteCsvRow(const std::vector<std::string>& fields, std::FILE* out) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line.push_back(',');
    AppendCsvField(line, fields[i]);
  }
  line.append("\r\n");
  WriteString(out, line);
}

// With no columns given, a table shows every key, in the order keys first appear.
std::vector<std::string> EffectiveColumns(const Records& records) {
  if (!records.columns.empty()) return records.columns;
  std::vector<std::string> columns;
  for (const json::object& row : records.rows) {
    for (const json::key_value_pair& kv : row) {
      const std::string_view key = kv.key();
      if (std::find(columns.begin(), columns.end(), key) == columns.end()) {
        columns.emplace_back(key);
      }
    }
  }
  return columns;
}

// Nested objects become dotted keys ("connections.active"); arrays and empty objects stay one
// value.
void Flatten(const json::object& object, const std::string& prefix,
             std::vector<std::pair<std::string, const json::value*>>& out) {
  for (const json::key_value_pair& kv : object) {
    std::string key = prefix;
    key.append(kv.key());
    if (kv.value().is_object() && !kv.value().get_object().empty()) {
      Flatten(kv.value().get_object(), key + ".", out);
    } else {
      out.emplace_back(std::move(key), &kv.value());
    }
  }
}

void ReportOutputFailure(const char* what) {
  std::fprintf(stderr, "vibekit: cannot write output: %s\n", what);
}

}  // namespace

Result<Format> ParseFormat(std::string_view name) {
  if (name == "table") return Format::kTable;
  if (name == "json") return Format::kJson;
  if (name == "ndjson") return Format::kNdjson;
  if (name == "csv") return Format::kCsv;
  std::string msg = "unknown format \"";
  msg.append(name);
  msg.append("\" (choose table, json, ndjson or csv)");
  return Status::InvalidArgument(std::move(msg));
}

void Print(const Records& records, const OutputOptions& options, std::FILE* out) {
  try {
    switch (options.format) {
      case Format::kJson: {
        std::string text = "[";
        for (std::size_t i = 0; i < records.rows.size(); ++i) {
          text.append(i == 0 ? "\n  " : ",\n  ");
          AppendJson(text, records.rows[i], 2, 1);
        }
        text.append(records.rows.empty() ? "]\n" : "\n]\n");
        WriteString(out, text);
        break;
      }
      case Format::kNdjson: {
        for (const json::object& row : records.rows) {
          std::string line;
          AppendJson(line, row, -1, 0);
          line.push_back('\n');
          WriteString(out, line);
        }
        break;
      }
      case Format::kCsv: {
        const std::vector<std::string> columns = EffectiveColumns(records);
        if (columns.empty()) break;  // a CSV record needs at least one field
        WriteCsvRow(columns, out);
        std::vector<std::string> fields(columns.size());
        for (const json::object& row : records.rows) {
          for (std::size_t c = 0; c < columns.size(); ++c) {
            const json::value* v = row.if_contains(columns[c]);
            fields[c] = v != nullptr ? CellText(*v) : std::string();
          }
          WriteCsvRow(fields, out);
        }
        break;
      }
      case Format::kTable: {
        if (records.rows.empty()) {
          WriteString(out, "(no rows)\n");
          break;
        }
        const std::vector<std::string> columns = EffectiveColumns(records);
        std::vector<std::vector<Cell>> rows;
        rows.reserve(records.rows.size());
        for (const json::object& row : records.rows) {
          std::vector<Cell>& cells = rows.emplace_back();
          cells.reserve(columns.size());
          for (const std::string& column : columns) {
            cells.push_back(MakeCell(column, row.if_contains(column)));
          }
        }
        RenderTable(columns, rows, columns.size(), options, out);
        break;
      }
    }
  } catch (const std::exception& e) {  // only allocation failures can get here
    ReportOutputFailure(e.what());
  }
}

void PrintObject(const json::object& object, const OutputOptions& options, std::FILE* out) {
  try {
    switch (options.format) {
      case Format::kJson: {
        std::string text;
        AppendJson(text, object, 2, 0);
        text.push_back('\n');
        WriteString(out, text);
        break;
      }
      case Format::kNdjson: {
        std::string line;
        AppendJson(line, object, -1, 0);
        line.push_back('\n');
        WriteString(out, line);
        break;
      }
      case Format::kCsv: {
        std::vector<std::pair<std::string, const json::value*>> flat;
        Flatten(object, "", flat);
        WriteCsvRow({"key", "value"}, out);
        for (const auto& [key, value] : flat) WriteCsvRow({key, CellText(*value)}, out);
        break;
      }
      case Format::kTable: {
        std::vector<std::pair<std::string, const json::value*>> flat;
        Flatten(object, "", flat);
        if (flat.empty()) {
          WriteString(out, "(no rows)\n");
          break;
        }
        std::vector<std::vector<Cell>> rows;
        rows.reserve(flat.size());
        for (const auto& [key, value] : flat) {
          Cell key_cell;
          key_cell.text = SanitizeCell(key);
          Cell value_cell = MakeCell(key, value);
          // Values of a key/value list are read one by one: left aligned reads best.
          value_cell.number = false;
          rows.push_back({std::move(key_cell), std::move(value_cell)});
        }
        RenderTable({}, rows, 2, options, out);
        break;
      }
    }
  } catch (const std::exception& e) {
    ReportOutputFailure(e.what());
  }
}

// The event records have no "text" key: a column a record lacks renders as an empty cell, so a
// command that wants a readable one-line summary (prompt, stream data or error message) adds
// "text" to each table row itself before printing. JSON output is unaffected.
std::vector<std::string> EventColumns() {
  return {"id", "timestamp", "sessionId", "eventType", "agentType", "text"};
}

std::vector<std::string> SessionColumns() {
  return {"id", "agentType", "mode", "status", "startTime", "duration", "eventCount", "errorCount"};
}

std::string FitLine(std::string_view text, int width) {
  const std::string clean = SanitizeCell(text);
  return width > 0 ? Elide(clean, width) : clean;
}

int TerminalWidth() {
  if (isatty(STDOUT_FILENO) == 0) return 0;
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* columns = std::getenv("COLUMNS"); columns != nullptr) {
    int value = 0;
    const std::string_view text(columns);
    const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
    if (r.ec == std::errc() && r.ptr == text.data() + text.size() && value > 0) return value;
  }
  // A terminal that cannot tell its size: the classic width beats unbounded lines.
  return 80;
}

bool ColorWanted(bool no_color_flag) {
  if (no_color_flag) return false;
  if (isatty(STDOUT_FILENO) == 0) return false;
  // https://no-color.org: any non-empty NO_COLOR disables colour.
  if (const char* no_color = std::getenv("NO_COLOR"); no_color != nullptr && *no_color != '\0') {
    return false;
  }
  // A dumb terminal shows escape sequences as garbage.
  if (const char* term = std::getenv("TERM"); term != nullptr && std::string_view(term) == "dumb") {
    return false;
  }
  return true;
}

}  // namespace vibekit::cli
