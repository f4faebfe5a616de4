// Shared by `telemetry export`, `telemetry convert` and `telemetry import`: the result summary,
// comma lists, a temporary directory that removes itself, and spooling standard input to a file.
#pragma once

#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "vibekit/export.h"
#include "vibekit/status.h"

namespace vibekit::cli {

// "a,b,,c" -> {"a","b","c"} (blanks dropped, spaces trimmed).
std::vector<std::string> SplitList(const std::string& text);

// format, compression, counts per table and total, duration, and each file's path, table,
// size and sha256.
boost::json::object ExportResultToJson(const ExportResult& result);

// A fresh private directory under $TMPDIR (or /tmp); removed with its files when destroyed.
class ScratchDir {
 public:
  static Result<ScratchDir> Create(const std::string& prefix);
  ScratchDir(ScratchDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  ScratchDir& operator=(ScratchDir&&) = delete;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir();
  const std::string& path() const { return path_; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Copies standard input into `path`.
Status SpoolStdin(const std::string& path);

}  // namespace vibekit::cli
