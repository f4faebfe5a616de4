// The data model of VibeKit Telemetry: events, sessions, the Track* parameters, query filters and
// the statistics the service reports. All times are milliseconds since the Unix epoch (int64) and
// all durations are milliseconds. Metadata is carried as JSON text of an object, so no JSON
// library leaks into this header.
//
// Thread-safety: plain values; distinct objects may be used from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vibekit/status.h"

namespace vibekit {

enum class EventType { kStart, kStream, kEnd, kError };
enum class SessionStatus { kActive, kCompleted, kFailed, kTimeout };
enum class ErrorSeverity { kLow, kMedium, kHigh, kCritical };
enum class SortOrder { kAsc, kDesc };

// Stable wire names: "start", "stream", "end", "error".
std::string_view EventTypeName(EventType type) noexcept;
Result<EventType> ParseEventType(std::string_view name);
// "active", "completed", "failed", "timeout".
std::string_view SessionStatusName(SessionStatus status) noexcept;
Result<SessionStatus> ParseSessionStatus(std::string_view name);
// "low", "medium", "high", "critical".
std::string_view ErrorSeverityName(ErrorSeverity severity) noexcept;
Result<ErrorSeverity> ParseErrorSeverity(std::string_view name);

// Extra detail recorded in telemetry_errors for an error event.
struct ErrorDetails {
  std::string error_type;    // e.g. "RateLimitError"; empty means "error"
  std::string message;       // required for TrackError
  std::optional<std::string> stack;
  std::optional<std::string> context;  // free text or JSON
  ErrorSeverity severity = ErrorSeverity::kMedium;
};

// One row of telemetry_events. `id` and `created_at` are assigned by the store.
struct Event {
  std::int64_t id = 0;
  std::string session_id;
  EventType event_type = EventType::kStream;
  std::string agent_type;
  std::optional<std::string> mode;
  std::optional<std::string> prompt;
  std::optional<std::string> stream_data;
  std::optional<std::string> sandbox_id;
  std::optional<std::string> repo_url;
  std::optional<std::string> metadata;  // JSON object text
  std::int64_t timestamp = 0;           // 0 on input means "now"
  std::int64_t created_at = 0;
  // Only for kError events: what goes into telemetry_errors. When absent, the message is taken
  // from stream_data (or "error").
  std::optional<ErrorDetails> error;
};

struct TrackStartParams {
  std::string session_id;
  std::string agent_type;
  std::optional<std::string> mode;
  std::optional<std::string> prompt;
  std::optional<std::string> sandbox_id;
  std::optional<std::string> repo_url;
  std::optional<std::string> metadata;
  std::int64_t timestamp = 0;  // 0 means "now"
};

struct TrackStreamParams {
  std::string session_id;
  std::string agent_type;
  std::optional<std::string> mode;
  std::string stream_data;
  std::optional<std::string> metadata;
  std::int64_t timestamp = 0;
};

// The session ends "completed", or "failed" when metadata.status is one of
// "failed", "failure", "error", "cancelled" or "canceled".
struct TrackEndParams {
  std::string session_id;
  std::string agent_type;
  std::optional<std::string> mode;
  std::optional<std::string> metadata;
  std::int64_t timestamp = 0;
};

struct TrackErrorParams {
  std::string session_id;
  std::string agent_type;
  std::optional<std::string> mode;
  std::string error;        // the message; required
  std::string error_type;   // optional classification
  std::optional<std::string> stack;
  ErrorSeverity severity = ErrorSeverity::kMedium;
  std::optional<std::string> metadata;
  std::int64_t timestamp = 0;
};

// One row of telemetry_sessions.
struct Session {
  std::string id;
  std::string agent_type;
  std::optional<std::string> mode;
  SessionStatus status = SessionStatus::kActive;
  std::int64_t start_time = 0;
  std::optional<std::int64_t> end_time;
  std::optional<std::int64_t> duration;  // end_time - start_time, or last activity for timeouts
  std::int64_t event_count = 0;
  std::int64_t stream_event_count = 0;
  std::int64_t error_count = 0;
  std::optional<std::string> sandbox_id;
  std::optional<std::string> repo_url;
  std::optional<std::string> metadata;  // the start event's metadata, merged with the end's
  std::int64_t last_event_time = 0;     // timestamp of the newest event seen
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

// One row of telemetry_errors.
struct ErrorRecord {
  std::int64_t id = 0;
  std::string session_id;
  std::optional<std::int64_t> event_id;
  std::string error_type;
  std::string error_message;
  std::optional<std::string> error_stack;
  std::optional<std::string> context;
  ErrorSeverity severity = ErrorSeverity::kMedium;
  bool resolved = false;
  std::optional<std::string> metadata;
  std::int64_t timestamp = 0;
  std::int64_t created_at = 0;  // when the row was written
};

struct EventQueryFilter {
  std::optional<std::string> session_id;
  std::optional<EventType> event_type;
  std::optional<std::string> agent_type;
  std::optional<std::string> mode;
  std::optional<std::int64_t> from_time;  // inclusive
  std::optional<std::int64_t> to_time;    // inclusive
  // Case-insensitive text search over prompt and stream data, anchored at word starts:
  // "conn ref" matches "Connection refused" but "nnection" does not. Backed by FTS5.
  std::optional<std::string> contains;
  std::int64_t limit = 100;  // 1..100000
  std::int64_t offset = 0;
  SortOrder order = SortOrder::kAsc;  // by timestamp, then id
  // Only events with id > after_id. Ids are assigned in commit order (AUTOINCREMENT, never
  // reused), so a reader that remembers the highest id it has seen gets exactly the events
  // committed since (how `vibekit telemetry tail --follow` polls). Combines with every filter.
  std::optional<std::int64_t> after_id;
};

struct SessionQueryFilter {
  std::optional<SessionStatus> status;
  std::optional<std::string> agent_type;
  std::optional<std::string> mode;
  std::optional<std::int64_t> from_time;  // on start_time, inclusive
  std::optional<std::int64_t> to_time;
  // Case-insensitive (ASCII) substring of the session id, repo URL or sandbox id.
  std::optional<std::string> search;
  std::int64_t limit = 100;
  std::int64_t offset = 0;
  SortOrder order = SortOrder::kDesc;  // by start_time, then id
};

// GetSessionStats(id): one session's figures, computed from its row and its events.
struct SessionStats {
  std::string session_id;
  std::string agent_type;
  std::optional<std::string> mode;
  SessionStatus status = SessionStatus::kActive;
  std::int64_t start_time = 0;
  std::optional<std::int64_t> end_time;
  std::optional<std::int64_t> duration;
  std::int64_t event_count = 0;
  std::int64_t stream_event_count = 0;
  std::int64_t error_count = 0;
  std::int64_t last_event_time = 0;
  // Time from the session's start to its first stream event (the "response time"), if any.
  std::optional<std::int64_t> time_to_first_stream_ms;
  std::int64_t stream_bytes = 0;  // total bytes of stream_data
};

// Counts kept in the telemetry_stats rollup, for all events or one agent / mode.
struct RollupCounts {
  std::int64_t total_events = 0;
  std::int64_t start_events = 0;
  std::int64_t stream_events = 0;
  std::int64_t end_events = 0;
  std::int64_t error_events = 0;
  std::int64_t sessions = 0;
  std::int64_t active_sessions = 0;
  std::int64_t completed_sessions = 0;
  std::int64_t failed_sessions = 0;
  std::int64_t timeout_sessions = 0;
  std::int64_t sessions_with_errors = 0;
  std::int64_t duration_sum_ms = 0;   // over sessions that have a duration
  std::int64_t duration_count = 0;
  std::optional<double> avg_session_duration_ms;
  std::optional<std::int64_t> min_timestamp;
  std::optional<std::int64_t> max_timestamp;
};

// GetAggregateStats(): the whole database at a glance, read from the rollup (O(agents + modes)).
struct AggregateStats {
  RollupCounts total;
  std::map<std::string, RollupCounts> by_agent;  // keyed by agent_type
  std::map<std::string, RollupCounts> by_mode;   // keyed by mode ("" when none)
  double error_event_rate_pct = 0;    // error events / all events * 100
  double session_error_rate_pct = 0;  // sessions with an error / all sessions * 100
  std::int64_t computed_at = 0;
};

// One (agent, mode) pair over all sessions: GetAgentBreakdown().
struct AgentModeCounts {
  std::string agent_type;
  std::optional<std::string> mode;
  std::int64_t sessions = 0;
  std::int64_t events = 0;  // sum of the sessions' event counts
  std::int64_t errors = 0;  // sum of their error counts
};

// Nearest-rank percentiles of one quantity over a set of sessions: with the n values sorted
// ascending, pP is the value at 1-based rank ceil(P/100 * n) (always an observed value; no
// interpolation). Unset when n is 0.
struct PercentileSet {
  std::int64_t count = 0;  // n
  std::optional<std::int64_t> p50;
  std::optional<std::int64_t> p90;
  std::optional<std::int64_t> p95;
  std::optional<std::int64_t> p99;
};

// GetSessionPercentiles(from, to): over the sessions whose start_time is in [from, to]
// (inclusive; an unset bound is open).
struct SessionPercentiles {
  PercentileSet duration_ms;         // completed and failed sessions that have a duration
  PercentileSet events_per_session;  // every session (event_count)
};

}  // namespace vibekit
