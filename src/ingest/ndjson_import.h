// NDJSON import: reads lines (plain or gzip, file or stdin), parses and validates each as an
// event, and hands batches to a sink (the service's pipeline).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ingest/validation.h"
#include "vibekit/config.h"
#include "vibekit/event.h"
#include "vibekit/import.h"
#include "vibekit/status.h"

namespace vibekit::ingest {

// Reads lines from a file or stdin ("-"), inflating gzip transparently (zlib).
class LineReader {
 public:
  static Result<std::unique_ptr<LineReader>> Open(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Next line without its newline; false at the end. An error Status on a read failure
  // (including a truncated gzip stream).
  Result<bool> Next(std::string* line);
  std::int64_t bytes_read() const noexcept;  // compressed offset
  std::int64_t total_bytes() const noexcept { return total_bytes_; }

 private:
  LineReader() = default;
  Status Fill();

  void* gz_ = nullptr;  // gzFile, owned
  std::string buffer_;
  std::size_t pos_ = 0;
  bool eof_ = false;
  std::int64_t total_bytes_ = 0;
};

// Sink for a batch of validated events. Must return OK once the batch is accepted.
using BatchSink = std::function<Status(std::vector<Event>)>;

// Runs the import. Strict mode reads the input twice (the first pass only validates); standard
// input is spooled to a temporary file for that.
Result<ImportResult> RunImport(const std::string& path, const ImportOptions& options,
                               const LocalStoreConfig& config, const std::function<std::int64_t()>& now_ms,
                               const BatchSink& sink, const EventCheck& extra = {});

}  // namespace vibekit::ingest
