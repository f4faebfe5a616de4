// TelemetryService: records agent sessions (start, streamed output, errors, end) into the local
// store and answers questions about them. The description's DrizzleTelemetryService.
//
// Write path: Track* validate the event on the caller's thread and hand it to an in-memory
// pipeline (stream events are buffered per session up to stream_batch_size events or
// stream_flush_interval_ms); one writer thread commits batches, each in one transaction that also
// updates the session row and the statistics rollup. A Track* call returning OK means "accepted",
// not "durable": events are durable (they survive kill -9) once FlushBuffers() returns OK.
// Memory is bounded: when max_pending_events / max_pending_bytes are reached, Track* waits up to
// enqueue_timeout_ms for room and then returns kBusy; nothing is dropped silently.
//
// Errors: nothing throws; kInvalidArgument is a validation error (the event was rejected),
// kBusy/kUnavailable/kIoError/kCorruption/kDeadlineExceeded are database errors.
//
// Thread-safety: every method may be called from any number of threads at once.
// With `is_enabled = false` (or VIBEKIT_TELEMETRY=off) every method is a cheap no-op returning OK
// and queries return empty results.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vibekit/config.h"
#include "vibekit/event.h"
#include "vibekit/import.h"
#include "vibekit/status.h"

namespace vibekit {

class Clock;

struct HealthStatus {
  bool database = false;        // reachable and quick_check said "ok"
  std::string quick_check;      // "ok" or the first problem reported by PRAGMA quick_check
  std::string db_path;
  std::int64_t file_size_bytes = 0;  // main file + WAL
  std::int64_t wal_size_bytes = 0;
  std::int64_t disk_free_bytes = 0;
  std::int64_t memory_rss_bytes = 0;  // this process
  std::int64_t buffered_events = 0;   // in per-session stream buffers
  std::int64_t queued_events = 0;     // handed to the writer, not yet committed
  std::int64_t writer_lag_ms = 0;     // age of the oldest accepted but uncommitted event
  std::string last_write_error;       // empty when the last commit succeeded
  // Retention.
  int prune_days = 0;
  std::int64_t max_size_bytes = 0;
  std::int64_t oldest_event_time = 0;  // 0 when the database is empty
  std::int64_t last_cleanup_time = 0;  // 0 when no cleanup ran in this process
  std::int64_t last_cleanup_sessions_removed = 0;
  std::int64_t dead_letter_batches = 0;  // batches parked in telemetry_buffers as failed
  struct Connections {
    int active = 0;
    int total = 0;
  } connections;
  // "excellent", "good", "fair", "poor" or "critical", from the figures above (see GradeHealth).
  std::string performance_grade;
  std::vector<std::string> issues;  // human-readable reasons for anything below "excellent"
};

struct PerformanceMetrics {
  std::int64_t total_flushes = 0;   // committed write transactions
  std::int64_t events_written = 0;
  double avg_flush_ms = 0;
  double p99_flush_ms = 0;          // over the last 4096 flushes
  std::int64_t last_flush_time = 0;  // wall clock ms of the last commit
  std::int64_t active_buffers = 0;   // sessions with buffered stream events
  std::int64_t buffered_events = 0;
  std::int64_t queued_events = 0;
  std::int64_t rejected_busy = 0;       // Track* calls answered kBusy (queue full)
  std::int64_t rejected_invalid = 0;    // Track* calls answered kInvalidArgument
  std::int64_t failed_flushes = 0;      // transactions that failed and were retried
  std::int64_t memory_rss_bytes = 0;
};

// One applied migration (telemetry_schema_versions).
struct SchemaVersion {
  std::string version;
  std::string description;
  std::int64_t applied_at = 0;
  bool is_active = true;
};

struct CleanupResult {
  std::int64_t sessions_removed = 0;
  std::int64_t events_removed = 0;
};

class TelemetryService {
 public:
  // Applies the environment overrides (unless config.apply_environment is false). Nothing is
  // opened until Initialize(). `clock` may be null (the system clock); it must outlive the service.
  explicit TelemetryService(TelemetryConfig config, const Clock* clock = nullptr);
  ~TelemetryService();  // Shutdown() with the default timeout
  TelemetryService(const TelemetryService&) = delete;
  TelemetryService& operator=(const TelemetryService&) = delete;

  // Opens (creating mode 0600 in a 0700 directory if needed) and migrates the database, starts
  // the writer. Returns kInvalidArgument for a bad configuration, kUnavailable / kCorruption when
  // the database cannot be used. Calling it again after success is a no-op.
  Status Initialize() noexcept;

  Status TrackStart(const TrackStartParams& params) noexcept;
  Status TrackStream(const TrackStreamParams& params) noexcept;
  Status TrackEnd(const TrackEndParams& params) noexcept;
  Status TrackError(const TrackErrorParams& params) noexcept;

  // Records one event of any type, exactly as the matching Track* call would (the event's id and
  // created_at are ignored; error details come from event.error).
  Status Track(const Event& event) noexcept;

  // Validates every event first: if any is invalid, none is accepted and the error names its
  // index. Accepted events go through the pipeline in order (stream events are not buffered
  // separately: the batch is one unit). Durable after FlushBuffers().
  Status InsertEventBatch(std::span<const Event> events) noexcept;

  Result<std::vector<Event>> QueryEvents(const EventQueryFilter& filter) const noexcept;
  Result<std::vector<Session>> QuerySessions(const SessionQueryFilter& filter) const noexcept;
  // kNotFound when the session does not exist (in the store).
  Result<Session> GetSession(std::string_view session_id) const noexcept;
  Result<SessionStats> GetSessionStats(std::string_view session_id) const noexcept;
  Result<std::vector<ErrorRecord>> GetSessionErrors(std::string_view session_id) const noexcept;
  // Counts by type, agent and mode, average duration and error rates from the rollup.
  Result<AggregateStats> GetAggregateStats() const noexcept;

  // Commits everything accepted before the call. OK means all of it is on disk. Returns the write
  // error (kBusy, kUnavailable, kIoError, ...) when a commit fails meanwhile — the events stay
  // queued and are retried — or kDeadlineExceeded after `timeout_ms`.
  Status FlushBuffers(int timeout_ms = 30000) noexcept;

  // Removes whole sessions whose last event is older than `days` days, returns how many sessions.
  Result<std::int64_t> ClearOldData(int days) noexcept;
  // Same, with the number of events removed too.
  Result<CleanupResult> ClearOldDataDetailed(int days) noexcept;
  // Removes the oldest whole sessions until the database is under max_size_mb.
  Result<CleanupResult> EnforceSizeLimit() noexcept;

  struct HealthCheckOptions {
    bool quick_check = true;  // run PRAGMA quick_check (reads the whole file)
  };
  Result<HealthStatus> HealthCheck() const noexcept;
  Result<HealthStatus> HealthCheck(HealthCheckOptions options) const noexcept;
  PerformanceMetrics GetPerformanceMetrics() const noexcept;
  // The migrations applied to this database, oldest first.
  Result<std::vector<SchemaVersion>> GetSchemaVersions() const noexcept;

  // Runs retention (prune_days, then max_size_mb) every `interval_ms` on the writer thread, the
  // first time right away. Calling it again changes the interval.
  Status ScheduleBackgroundCleanup(std::int64_t interval_ms = 60LL * 60 * 1000) noexcept;

  // Imports NDJSON events from `path` ("-" for standard input; gzip detected). Returns the
  // counts and per-line errors (see ImportOptions::strict); kInvalidArgument when a strict import
  // found bad lines (nothing written; the result's errors are in the message), kNotFound /
  // kUnavailable when the input cannot be read. Everything imported is committed on return.
  Result<ImportResult> ImportNdjson(const std::string& path,
                                    const ImportOptions& options = {}) noexcept;

  // Flushes everything (waiting up to `timeout_ms`), stops the writer, closes the database.
  // Returns the flush's status. Later calls to Track* return kFailedPrecondition.
  Status Shutdown(int timeout_ms = 30000) noexcept;

  bool enabled() const noexcept;
  // The configuration in effect (after environment overrides).
  const TelemetryConfig& config() const noexcept;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vibekit
