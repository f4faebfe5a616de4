// NDJSON import options and results (TelemetryService::ImportNdjson).
//
// One event per line in the camelCase shape of the API: sessionId, eventType, agentType, mode,
// prompt, streamData, sandboxId, repoUrl, metadata (object), timestamp (ms), and for error events
// error: {type, message, stack, severity}. Gzip input is detected by its magic bytes. Blank lines
// are skipped.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace vibekit {

struct ImportOptions {
  // false: a bad line is reported (line number + reason) and skipped, the rest is imported.
  // true: any bad line rejects the whole import before anything is written.
  bool strict = false;
  int batch_size = 2000;
  std::size_t max_errors_reported = 1000;  // further errors are counted, not kept
  // Called now and then with the compressed bytes read so far and the input's size (0 if
  // unknown, e.g. stdin).
  std::function<void(std::int64_t bytes_read, std::int64_t total_bytes)> progress;
  // How long the import may be held up by a database locked by another process (another writer
  // holding its write transaction): when the writer has failed to get the write lock for this
  // many ms without a commit in between, the import stops with kBusy. Batches already handed
  // to the writer stay queued (Shutdown tries them once more, then reports them as lost).
  // -1: wait as long as the final flush allows (10 minutes), retrying like any Track* call.
  int lock_wait_ms = -1;
};

struct ImportLineError {
  std::int64_t line = 0;  // 1-based
  std::string message;
};

struct ImportResult {
  std::int64_t lines = 0;     // non-blank lines read
  std::int64_t imported = 0;  // events accepted and committed
  std::int64_t skipped = 0;   // bad lines
  std::vector<ImportLineError> errors;
  double seconds = 0;
};

}  // namespace vibekit
