// Store: the persistence interface the service writes through and reads from. SQLite
// (store/sqlite) is the embedded default; a PostgreSQL implementation sits beside it behind the
// same interface, so nothing above this layer knows which database it talks to.
//
// Thread-safety: write methods (ApplyBatch, MarkTimedOutSessions, Delete*, RecordDeadLetter,
// ReclaimSpace) are called by one thread at a time (the ingest writer). Read methods may be
// called from any number of threads concurrently with the writer.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/minute_rollup.h"
#include "vibekit/event.h"
#include "vibekit/export.h"
#include "vibekit/status.h"
#include "vibekit/validation_rule.h"
#include "vibekit/telemetry_service.h"

namespace vibekit::store {

struct StoreHealth {
  std::string quick_check;  // "ok", the first problem, or "skipped"
  std::int64_t file_size_bytes = 0;
  std::int64_t wal_size_bytes = 0;
  std::int64_t used_bytes = 0;  // pages in use (file size minus free pages)
  std::int64_t oldest_event_time = 0;
  std::int64_t dead_letter_batches = 0;
  int connections_active = 0;
  int connections_total = 0;
};

// Which sessions a retention step removes (whole sessions with their events and errors).
struct DeleteSelector {
  enum class Kind { kInactiveBefore, kOldest };
  Kind kind = Kind::kInactiveBefore;
  std::int64_t cutoff_ms = 0;  // kInactiveBefore: last event strictly before this time
  std::int64_t limit = 500;    // sessions per call at most
  std::string reason;          // recorded in the audit log
};

// Live delivery outbox (schema 1.2.0; see docs/ARCHITECTURE.md "Live delivery").
struct DeliveryState {
  bool configured = false;        // the state row exists: delivery was set up on this database
  std::int64_t event_cursor = 0;  // highest event id the collector accepted (or rejected for good)
  std::int64_t events_sent = 0;   // totals over the database's life
  std::int64_t spans_sent = 0;
  std::int64_t requests_sent = 0;
  std::int64_t events_failed = 0;
  std::int64_t requests_failed = 0;
  std::int64_t retries = 0;
  std::string last_error;
  std::int64_t last_error_time = 0;
  std::int64_t last_success_time = 0;
  std::int64_t queued_events = 0;    // events with id > event_cursor
  std::int64_t queued_sessions = 0;  // root spans waiting
  std::int64_t failed_requests_recorded = 0;  // rows of telemetry_delivery_failures
};

// A session whose root span waits; `seq` changes when the session is queued again.
struct PendingRootSpan {
  std::int64_t seq = 0;
  std::string session_id;
};

// The outcome of one delivery request, recorded in one transaction.
struct DeliveryRecord {
  enum class Kind {
    kAccepted,  // 2xx: cursor moves, roots leave the outbox, "sent" counters grow
    kRejected,  // non-retryable: same, but counted as failed and a failure row is written
    kRetry,     // a retryable failure: only the retry counter and the last error change
  };
  Kind kind = Kind::kAccepted;
  std::int64_t new_cursor = 0;  // the last event id of the request (0: no events in it)
  std::int64_t first_event_id = 0;
  std::int64_t events = 0;
  std::int64_t spans = 0;
  std::vector<PendingRootSpan> roots;  // removed when their seq still matches
  int http_status = 0;
  std::string error;  // kRejected / kRetry: what went wrong
};

// --- export scans and verbatim restore ---

// What Store::Scan reads: the export filter (tables already checked) and which tables.
// One threshold alert as persisted in telemetry_alerts (schema 1.4.0).
struct AlertRecord {
  std::int64_t id = 0;  // assigned by the store
  std::string metric;
  double value = 0;
  double threshold = 0;
  std::string direction;  // "above" | "below"
  std::string severity;   // "low" | "medium" | "high" | "critical"
  std::string message;
  std::int64_t fired_at = 0;
  std::optional<std::int64_t> resolved_at;
  std::optional<double> resolved_value;
};

struct ScanRequest {
  ExportFilter filter;  // `tables` is ignored; the booleans below decide
  bool sessions = true;
  bool events = true;
  bool errors = true;
  bool counts_only = false;  // OnCounts only, no rows
  // Rows grouped by session (the otlp export: one trace per session). The sessions matching the
  // filter (time range on start_time, session_ids, agent_types; offset and limit count
  // sessions) in table order, each followed by its events (time range and event_types; by
  // timestamp, then id) and then its errors (time range; by id). The three booleans above are
  // ignored; OnCounts gives the sessions and the events and errors of those sessions.
  bool by_session = false;
  // The visitor decodes stored texts itself: a store may then deliver events through
  // ScanVisitor::OnStoredEvent with prompt/stream_data still in their stored (compressed) form,
  // so that the decoding runs on the visitor's thread (the export's second stage), not the scan's.
  bool stored_texts = false;
  // With stored_texts: the fingerprint of the privacy settings the visitor applies
  // (internal::Privacy::fingerprint). Events the store recorded as written under settings of
  // this fingerprint (Store::SetIncomingPrivacy) arrive with StoredTexts::privacy_applied.
  std::string privacy_fingerprint;
};

// Which texts of a scanned event hold the store's encoded form (decode with DecodeStoredText),
// and whether the event was stored through the privacy settings ScanRequest::privacy_fingerprint
// names (so applying them again would change nothing).
struct StoredTexts {
  bool prompt = false;
  bool stream_data = false;
  bool privacy_applied = false;
};

// The text of a value delivered in the store's encoded form, into *out (its capacity reused).
// kCorruption when it is not one of the store's encodings.
Status DecodeStoredText(std::string_view stored, std::string* out);

struct ScanCounts {
  std::int64_t sessions = 0;
  std::int64_t events = 0;
  std::int64_t errors = 0;
};

// Receives a scan's rows one at a time, in table order sessions, events, errors. A non-OK
// Status from any method stops the scan and is returned by Scan. References are valid only
// during the call.
// A ValidationRule from a telemetry_validation_rules row (both backends).
ValidationRule ValidationRuleFromRow(std::int64_t id, std::string table, std::string field,
                                     std::string_view type, std::string config,
                                     std::string message, bool active, std::int64_t priority,
                                     std::int64_t created, std::int64_t updated);

class ScanVisitor {
 public:
  ScanVisitor() = default;
  virtual ~ScanVisitor() = default;
  ScanVisitor(const ScanVisitor&) = delete;
  ScanVisitor& operator=(const ScanVisitor&) = delete;

  // Before any row: how many rows each chosen table will deliver (same snapshot).
  virtual Status OnCounts(const ScanCounts& counts) = 0;
  virtual Status OnSession(const Session& session) = 0;
  virtual Status OnEvent(const Event& event) = 0;
  virtual Status OnError(const ErrorRecord& error) = 0;
  // With ScanRequest::stored_texts: an event whose `encoded` texts are in stored form. The
  // default decodes them into a copy and calls OnEvent.
  virtual Status OnStoredEvent(const Event& event, StoredTexts encoded);
  // The same, from a store that reads its next row into whatever `event` holds afterwards: the
  // visitor may take the contents (swap them with its own storage, so that neither side
  // allocates) instead of copying. The default calls OnStoredEvent.
  virtual Status TakeStoredEvent(Event& event, StoredTexts encoded) {
    return OnStoredEvent(event, encoded);
  }
};

// Writes rows exactly as given (ids, timestamps, counters) in one write transaction, opened by
// Store::BeginRestore and committed by Commit(); destroying it uncommitted rolls everything
// back. Holds the store's writer while it lives: use it on the writer thread only.
class RestoreWriter {
 public:
  RestoreWriter() = default;
  virtual ~RestoreWriter() = default;
  RestoreWriter(const RestoreWriter&) = delete;
  RestoreWriter& operator=(const RestoreWriter&) = delete;

  // kInvalidArgument when the id already exists, or (events, errors) the session or event it
  // references is in neither the database nor the rows restored before it.
  virtual Status AddSession(const Session& session) = 0;
  virtual Status AddEvent(const Event& event) = 0;
  virtual Status AddError(const ErrorRecord& error) = 0;
  // Tells the text index about the restored rows, adds them to the statistics rollup and
  // commits.
  virtual Status Commit() = 0;
};

class Store {
 public:
  Store() = default;
  virtual ~Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Connects and brings the schema to the current version.
  virtual Status Open() = 0;
  virtual void Close() noexcept = 0;

  // --- writes (one thread) ---
  // Writes the events (already validated, in order) and updates their sessions and the rollup in
  // one transaction. Unknown sessions are created.
  virtual Status ApplyBatch(std::span<const Event> events, std::int64_t now_ms) = 0;
  // Ids of the events the last successful ApplyBatch inserted: [first, last] (consecutive, in
  // the batch's order); {0, 0} when unknown. Writer thread only.
  virtual std::pair<std::int64_t, std::int64_t> LastBatchIds() const noexcept { return {0, 0}; }
  // The fingerprint (internal::Privacy::fingerprint) of the privacy settings every event given
  // to ApplyBatch from now on went through; "" (the default) = not known. Each committed batch
  // records it for its event ids (telemetry_privacy_ranges), for ScanRequest::privacy_fingerprint.
  // Call before the first batch, from the thread that opened the store.
  virtual void SetIncomingPrivacy(std::string fingerprint) = 0;
  // Active sessions whose last event is before `silent_before_ms` become "timeout".
  virtual Result<std::int64_t> MarkTimedOutSessions(std::int64_t silent_before_ms,
                                                    std::int64_t now_ms) = 0;
  virtual Result<CleanupResult> DeleteSessions(const DeleteSelector& selector,
                                               std::int64_t now_ms) = 0;
  // Parks a batch that cannot be written (a constraint the validation did not foresee) in
  // telemetry_buffers with status "failed", so it is kept and visible instead of lost.
  virtual Status RecordDeadLetter(std::span<const Event> events, const Status& error,
                                  std::int64_t now_ms) = 0;
  // Returns free pages to the file system and truncates the write-ahead log.
  virtual Status ReclaimSpace() = 0;

  // --- reads (any thread) ---
  virtual Result<std::vector<Event>> QueryEvents(const EventQueryFilter& filter) = 0;
  virtual Result<std::vector<Session>> QuerySessions(const SessionQueryFilter& filter) = 0;
  // Sessions matching the filter's conditions (limit, offset and order ignored).
  virtual Result<std::int64_t> CountSessions(const SessionQueryFilter& filter) = 0;
  virtual Result<std::vector<AgentModeCounts>> AgentBreakdown() = 0;
  virtual Result<std::optional<Session>> GetSession(std::string_view id) = 0;
  virtual Result<SessionStats> GetSessionStats(std::string_view id) = 0;
  virtual Result<std::vector<ErrorRecord>> GetSessionErrors(std::string_view id) = 0;
  virtual Result<AggregateStats> GetAggregateStats() = 0;
  virtual Result<StoreHealth> CheckHealth(bool quick_check) = 0;
  virtual Result<std::int64_t> UsedBytes() = 0;
  virtual Result<std::vector<SchemaVersion>> SchemaVersions() = 0;

  // --- maintenance (writes: the writer thread; reads: any thread) ---
  // Planner statistics refresh, text-index merge, optionally index rebuild; each step timed.
  virtual Result<MaintenanceReport> Optimize(bool rebuild_indexes) = 0;
  // Rewrites the file compactly (optionally refreshing planner statistics afterwards).
  virtual Result<MaintenanceReport> Vacuum(bool analyze) = 0;
  // Deletes every session, event, error, dead-letter buffer and rollup row in one transaction
  // (text index kept consistent) and writes one audit row with `reason`.
  virtual Result<CleanupResult> DeleteAll(std::string_view reason, std::int64_t now_ms) = 0;
  struct PlannerState {
    bool statistics = false;       // planner statistics gathered (ANALYZE ran)
    std::int64_t fts_segments = -1;  // segments of the text index, -1 when unknown
    std::int64_t fts_data_rows = 0;  // storage rows of the text index
  };
  virtual Result<PlannerState> GetPlannerState() = 0;

  // --- live delivery outbox (writes: the writer thread; reads: any thread) ---
  // Creates the delivery state row if it is missing, with the cursor at the newest event: what
  // was committed before delivery was first configured is not sent (export covers history).
  virtual Status EnsureDeliveryState(std::int64_t now_ms) = 0;
  // Cursor, totals and queue sizes; `configured` false when delivery was never set up.
  virtual Result<DeliveryState> GetDeliveryState() = 0;
  // Up to `limit` events with id > after_id, in id order.
  virtual Result<std::vector<Event>> EventsAfter(std::int64_t after_id, int limit) = 0;
  // The telemetry_errors rows of the events with ids in [first_id, last_id].
  virtual Result<std::vector<ErrorRecord>> ErrorsForEvents(std::int64_t first_id,
                                                           std::int64_t last_id) = 0;
  virtual Result<std::vector<PendingRootSpan>> PendingRootSpans(int limit) = 0;
  virtual Status RecordDelivery(const DeliveryRecord& record, std::int64_t now_ms) = 0;

  // --- range statistics (any thread) ---
  // GetAggregateStats' figures by aggregation: events with timestamp in [from_ms, to_ms],
  // sessions with start_time in [from_ms, to_ms] (inclusive).
  virtual Result<AggregateStats> AggregateStatsBetween(std::int64_t from_ms,
                                                       std::int64_t to_ms) = 0;
  // Nearest-rank percentiles over the sessions with start_time in [from_ms, to_ms].
  virtual Result<SessionPercentiles> SessionPercentilesBetween(std::int64_t from_ms,
                                                               std::int64_t to_ms) = 0;

  // --- analytics (any thread) ---
  // Hour (kHourMs) or day (kDayMs) rollup rows with from_ms <= start <= to_ms, by start; each
  // row's key.minute is the start of its period. kInvalidArgument for another period.
  virtual Result<std::vector<MinuteRow>> ReadPeriodRollups(std::int64_t period_ms,
                                                           std::int64_t from_ms,
                                                           std::int64_t to_ms) = 0;
  // Events per hour of day (UTC, 0-23) over the hour rollups with from_ms <= start < to_ms
  // (counts only, no sketches read).
  virtual Result<std::array<std::int64_t, 24>> EventsByHourOfDay(std::int64_t from_ms,
                                                                 std::int64_t to_ms) = 0;
  // Increases after every commit of this store object that changed events, sessions or rollups
  // (batches, timeout sweeps, retention, clear, restore). Answers derived from the data can be
  // cached under it. Commits of other processes on the same file are not counted.
  virtual std::uint64_t DataVersion() const noexcept = 0;
  // The text index when it is kept apart from the commits (SQLite: its own file and thread):
  // events committed by this store that a search would have to index first, and the CPU time
  // of the thread that indexes them. Zero where the index is part of each commit (PostgreSQL).
  struct TextIndexState {
    std::int64_t lag_events = 0;
    double cpu_seconds = 0;
  };
  virtual TextIndexState TextIndex() noexcept { return {}; }
  // Per-minute rollup rows with from_ms <= minute <= to_ms (store/minute_rollup.h), by minute.
  virtual Result<std::vector<MinuteRow>> ReadMinuteRollups(std::int64_t from_ms,
                                                           std::int64_t to_ms) = 0;
  // --- validation rules (any thread, read pool) ---
  // Every row of telemetry_validation_rules, active or not, by id. A row whose rule_type is not
  // one of ours is returned with rule_type kRequired and `field_name` prefixed by "?" (the rule
  // set then ignores it as an unknown field and says why).
  virtual Result<std::vector<ValidationRule>> ReadValidationRules() = 0;
  // --- alert history (any thread; writes take the writer connection's lock) ---
  // Stores a fired alert and returns its id. kInvalidArgument for an unknown direction/severity.
  virtual Result<std::int64_t> InsertAlert(const AlertRecord& alert) = 0;
  // Marks alert `id` resolved; kNotFound when there is no such alert.
  virtual Status ResolveAlert(std::int64_t id, std::int64_t resolved_at, double resolved_value) = 0;
  // The newest `limit` alerts, oldest first.
  virtual Result<std::vector<AlertRecord>> ReadAlerts(int limit) = 0;

  // --- export (any thread) and restore (the writer thread) ---
  // Streams the rows matching `request` to `visitor` from one read snapshot, one prepared
  // statement per table stepped row by row (no query deadline: exports may take long).
  virtual Status Scan(const ScanRequest& request, ScanVisitor& visitor) = 0;
  virtual Result<std::unique_ptr<RestoreWriter>> BeginRestore(std::int64_t now_ms) = 0;
};

}  // namespace vibekit::store
