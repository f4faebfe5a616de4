// The statistics rollup (telemetry_stats) recomputed by SQL from the events and sessions, as the
// store keeps it incrementally (store/session_merge.cc). The SQL runs on both backends: it fills
// the temporary table vk_expected_stats, which `db validate` compares with telemetry_stats and
// `db repair` (and a reference import on SQLite) copies into it.
#pragma once

#include <string>
#include <string_view>

namespace vibekit::store {

// The counted columns of telemetry_stats, in table order.
inline constexpr std::string_view kStatsCountColumns[] = {
    "total_events",    "start_events",     "stream_events",      "end_events",
    "error_events",    "unique_sessions",  "active_sessions",    "completed_sessions",
    "failed_sessions", "timeout_sessions", "sessions_with_errors", "duration_sum",
    "duration_count"};

// Statements that (re)create the temporary table vk_expected_stats (stat_type, stat_key, the
// counted columns, min_timestamp, max_timestamp).
std::string ExpectedStatsSql();

// A query of the rows of vk_expected_stats and telemetry_stats that disagree: type, key, the
// stored row as JSON (NULL when missing), the expected row as JSON (NULL when it should not
// exist). `json_object` is the backend's function building a JSON object from key, value pairs.
std::string StatsDiffSql(std::string_view json_object);

// The INSERT ... SELECT copying vk_expected_stats into telemetry_stats (after a DELETE), with
// the average duration; `now` is the backend's placeholder for the time (?1, $1).
std::string InsertExpectedStatsSql(std::string_view now);

}  // namespace vibekit::store
