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
#include <functional>
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
namespace service {
struct ServiceInternals;
}  // namespace service

// Live OTLP delivery as recorded in the database (totals over the database's life, so
// `vibekit db health` shows them from another process).
struct DeliveryHealth {
  bool configured = false;      // delivery has been set up on this database (outbox exists)
  std::string endpoint;         // in effect in this process; empty when none
  bool worker_running = false;  // this process is sending
  std::int64_t event_cursor = 0;     // highest event id accepted (or rejected for good)
  std::int64_t queued_events = 0;    // committed events not yet accepted by the collector
  std::int64_t queued_sessions = 0;  // session root spans waiting
  std::int64_t events_sent = 0;
  std::int64_t spans_sent = 0;
  std::int64_t requests_sent = 0;
  std::int64_t events_failed = 0;    // in requests the collector rejected for good
  std::int64_t requests_failed = 0;  // recorded in telemetry_delivery_failures
  std::int64_t retries = 0;
  std::string last_error;
  std::int64_t last_error_time = 0;    // wall clock ms; 0 = never
  std::int64_t last_success_time = 0;  // wall clock ms; 0 = never
};

struct HealthStatus {
  bool database = false;        // reachable and quick_check said "ok"
  std::string quick_check;      // "ok" or the first problem reported by PRAGMA quick_check
  std::string db_path;
  std::string backend = "sqlite";  // "sqlite" (a database file) or "postgres" (a server)
  // SQLite: main file + WAL. PostgreSQL: the database's size, i.e. the total size of the
  // store's tables with their indexes and TOAST (pg_total_relation_size; no file of ours).
  std::int64_t file_size_bytes = 0;
  std::int64_t wal_size_bytes = 0;   // SQLite only (0 on PostgreSQL)
  std::int64_t disk_free_bytes = 0;  // SQLite: the file system's; -1 on PostgreSQL (the server's)
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
  DeliveryHealth delivery;
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
  // CPU time of the one writer thread since Initialize() (as of its last commit); its rate is the
  // writer's busy share: near 1.0, ingest is bound by the writer.
  double writer_cpu_seconds = 0;
  // The text index, kept by a thread of its own on SQLite (0 on PostgreSQL): committed events
  // not indexed yet (a search indexes them first), and that thread's CPU time.
  std::int64_t text_index_lag_events = 0;
  double text_index_cpu_seconds = 0;
  std::int64_t memory_rss_bytes = 0;
  // Live OTLP delivery by this process since Initialize() (all 0 without an endpoint).
  std::int64_t delivery_requests_sent = 0;  // accepted by the collector (2xx)
  std::int64_t delivery_events_sent = 0;
  std::int64_t delivery_spans_sent = 0;
  std::int64_t delivery_requests_failed = 0;  // rejected for good (other 4xx, 500, ...)
  std::int64_t delivery_events_failed = 0;
  std::int64_t delivery_retries = 0;          // failed attempts that were retried
  std::int64_t delivery_queued_events = 0;    // committed, not yet accepted (as last seen)
  std::int64_t delivery_queued_sessions = 0;  // session root spans waiting
  std::string delivery_last_error;
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

// --- Maintenance (db optimize / vacuum / performance) ---

// One maintenance step as it ran on the writer connection, with its measured duration.
struct MaintenanceStep {
  std::string name;    // "pragma_optimize", "analyze", "fts_optimize", "reindex", "vacuum",
                       // "wal_checkpoint"
  std::string detail;  // what it touched, e.g. "telemetry_events (4 indexes)"
  double duration_ms = 0;
};

struct MaintenanceReport {
  std::vector<MaintenanceStep> steps;  // in the order they ran
  double total_ms = 0;
  std::string backend = "sqlite";  // "sqlite" or "postgres" (set by the store)
  // Sizes before the first and after the last step. SQLite: the files on disk (stat).
  // PostgreSQL: the database's size as in HealthStatus::file_size_bytes (the store's tables,
  // pg_total_relation_size), no WAL of ours.
  std::int64_t file_size_before_bytes = 0;  // main database file
  std::int64_t wal_size_before_bytes = 0;
  std::int64_t file_size_after_bytes = 0;
  std::int64_t wal_size_after_bytes = 0;
  // Segments of the full-text index (decoded from its structure record); -1 when unknown.
  std::int64_t fts_segments_before = -1;
  std::int64_t fts_segments_after = -1;
};

struct QueryBenchmarkOptions {
  int runs = 20;         // timed repetitions of each query (>= 1)
  bool explain = false;  // also collect EXPLAIN QUERY PLAN of every statement a query runs
};

// One standard query timed on this database.
struct QueryTiming {
  std::string name;         // "session_events", "agent_latest_100", "sessions_by_status",
                            // "aggregate_stats", "text_search"
  std::string description;  // with the concrete argument used (session id, agent, word, ...)
  int runs = 0;
  std::int64_t rows = 0;  // rows the query returned
  double p50_ms = 0;
  double p95_ms = 0;
  double min_ms = 0;
  double max_ms = 0;
  // With explain: the plan rows of each SQL statement the query ran ("SEARCH telemetry_events
  // USING INDEX ..."), nested rows indented by two spaces per level, statements in run order.
  struct Plan {
    std::string sql;
    std::vector<std::string> rows;
  };
  std::vector<Plan> plans;
  bool full_scan = false;  // a plan row scans telemetry_events without an index
};

struct QueryBenchmarkReport {
  std::vector<QueryTiming> queries;
  std::int64_t events = 0;    // in the database (rollup)
  std::int64_t sessions = 0;
  bool planner_statistics = false;  // sqlite_stat1 exists and has rows (ANALYZE has run)
  std::int64_t fts_segments = -1;   // segments of the full-text index (structure record)
  std::int64_t fts_data_rows = 0;   // rows in telemetry_events_fts_data (segment pages + 2)
  std::vector<std::string> findings;         // problems seen (full scans, missing statistics)
  std::vector<std::string> recommendations;  // what to run about them
};

// What one commit wrote (SubscribeCommits). Views into the writer's data: valid only during the
// listener call.
struct CommitNotice {
  std::span<const Event> events;              // in commit order, ids assigned
  std::span<const std::string> session_ids;   // sessions whose rows changed, each once
};
using CommitListener = std::function<void(const CommitNotice&)>;

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
  // For receivers that ran ValidateEvent on each event already (refusing the failures one by
  // one): InsertEventBatch without checking them a second time, taking the events rather than
  // copying them. Privacy settings apply as on every path.
  Status InsertValidatedBatch(std::vector<Event>&& events) noexcept;

  // The checks every write path runs on one event, without recording it: the built-in checks
  // (fills a timestamp of 0 with now) and the database's validation rules (validation_rule.h;
  // re-read at most every local_store.rules_refresh_ms). kInvalidArgument names the field, and
  // for a rule its table, field, type and value. The HTTP and OTLP receivers use it to refuse
  // single events of a request.
  Status ValidateEvent(Event& event) noexcept;

  Result<std::vector<Event>> QueryEvents(const EventQueryFilter& filter) const noexcept;
  Result<std::vector<Session>> QuerySessions(const SessionQueryFilter& filter) const noexcept;
  // Sessions, events and errors per (agent, mode) pair, most sessions first (one GROUP BY over
  // the sessions table).
  Result<std::vector<AgentModeCounts>> GetAgentBreakdown() const noexcept;
  // How many sessions match the filter (its limit, offset and order are ignored).
  Result<std::int64_t> CountSessions(const SessionQueryFilter& filter) const noexcept;
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

  // Calls `listener` on the writer thread after every committed batch of events (not for
  // restores or maintenance). The listener must be cheap and never block: copy what it needs and
  // hand it to another thread; it must not call back into this service. Returns an id for
  // UnsubscribeCommits; 0 when the service is disabled.
  std::int64_t SubscribeCommits(CommitListener listener) noexcept;
  // After it returns, the listener is not running and will not be called again.
  void UnsubscribeCommits(std::int64_t id) noexcept;

  // Flushes everything (waiting up to `timeout_ms`), stops the writer, closes the database.
  // Returns the flush's status. Later calls to Track* return kFailedPrecondition.
  Status Shutdown(int timeout_ms = 30000) noexcept;

  bool enabled() const noexcept;
  // The configuration in effect (after environment overrides).
  const TelemetryConfig& config() const noexcept;

  // --- Maintenance. Each runs on the writer thread between batches (after flushing what was
  // accepted before the call) and waits for it; kDeadlineExceeded after 10 minutes. ---

  // PRAGMA optimize, ANALYZE, merges the full-text index into one segment (FTS5 'optimize'),
  // and with `rebuild_indexes` REINDEXes every table's indexes. Each step measured.
  Result<MaintenanceReport> Optimize(bool rebuild_indexes = false) noexcept;
  // VACUUM (then ANALYZE with `analyze`), then truncates the WAL so the file sizes reported
  // after are the real ones.
  Result<MaintenanceReport> Vacuum(bool analyze = false) noexcept;
  // Removes all telemetry (sessions, events, errors, dead-letter buffers, statistics rollup) in
  // one transaction, keeping the text index consistent; keeps schema versions and validation
  // rules and records one telemetry_audit_log row. Returns what was removed.
  Result<CleanupResult> ClearAll() noexcept;
  // Times the standard queries on this database (`options.runs` times each, read side only).
  Result<QueryBenchmarkReport> BenchmarkQueries(const QueryBenchmarkOptions& options = {}) const
      noexcept;

  // --- Statistics over a time range (`vibekit telemetry stats --since/--until/--percentiles`) ---

  // The same figures as GetAggregateStats, computed by SQL aggregation (GROUP BY) instead of the
  // rollup: event counts (total, by type, agent and mode, min/max timestamp) over the events
  // whose timestamp is in [from_ms, to_ms], session counts (by status, with errors, duration
  // sum/count/average) over the sessions whose start_time is in [from_ms, to_ms]. Both bounds
  // inclusive. Mode rows carry min/max timestamps too. kInvalidArgument when from_ms > to_ms.
  Result<AggregateStats> GetAggregateStatsBetween(std::int64_t from_ms,
                                                  std::int64_t to_ms) const noexcept;
  // Exact nearest-rank p50/p90/p95/p99 of session duration (completed and failed sessions with a
  // duration) and of events per session (all sessions), over the sessions whose start_time is in
  // [from_ms, to_ms] (an unset bound is open). Read in one snapshot. kInvalidArgument when
  // from_ms > to_ms.
  Result<SessionPercentiles> GetSessionPercentiles(std::optional<std::int64_t> from_ms,
                                                   std::optional<std::int64_t> to_ms) const
      noexcept;

  class Impl;

 private:
  friend struct service::ServiceInternals;  // the export subsystem's narrow access
  std::unique_ptr<Impl> impl_;
};

}  // namespace vibekit
