// Output shared by `vibekit db optimize` and `vibekit db vacuum`: a MaintenanceReport as JSON,
// and as a table of steps plus a summary for the table format.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

#include "cli/commands.h"

namespace vibekit::cli {

inline double RoundMs(double ms) { return std::round(ms * 1000.0) / 1000.0; }

inline boost::json::object MaintenanceToJsonObject(const MaintenanceReport& r) {
  boost::json::object o;
  boost::json::array steps;
  for (const MaintenanceStep& s : r.steps) {
    boost::json::object step;
    step["name"] = s.name;
    step["durationMs"] = RoundMs(s.duration_ms);
    step["detail"] = s.detail;
    steps.push_back(std::move(step));
  }
  o["steps"] = std::move(steps);
  o["totalMs"] = RoundMs(r.total_ms);
  o["backend"] = r.backend;
  if (r.backend == "postgres") {  // the database's size (its tables): no file, no WAL
    o["databaseSizeBeforeBytes"] = r.file_size_before_bytes;
    o["databaseSizeAfterBytes"] = r.file_size_after_bytes;
    return o;
  }
  o["fileSizeBeforeBytes"] = r.file_size_before_bytes;
  o["walSizeBeforeBytes"] = r.wal_size_before_bytes;
  o["fileSizeAfterBytes"] = r.file_size_after_bytes;
  o["walSizeAfterBytes"] = r.wal_size_after_bytes;
  return o;
}

// JSON/NDJSON/CSV: the object as is. Table: the steps as a table, then the other keys.
inline void PrintMaintenance(const boost::json::object& report, const OutputOptions& out) {
  if (out.format != Format::kTable) {
    PrintObject(report, out, stdout);
    return;
  }
  Records steps;
  steps.columns = {"name", "durationMs", "detail"};
  for (const auto& s : report.at("steps").as_array()) steps.rows.push_back(s.as_object());
  Print(steps, out, stdout);
  std::fputc('\n', stdout);
  boost::json::object summary = report;
  summary.erase("steps");
  PrintObject(summary, out, stdout);
}

}  // namespace vibekit::cli
