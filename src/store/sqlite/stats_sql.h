// The statistics rollup (telemetry_stats) computed from the events and sessions by SQL, as the
// store keeps it incrementally (store/session_merge.cc): used to check it (db validate), to
// rebuild it (db repair) and to fill it for a database migrated in from the reference.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "store/sqlite/database.h"

namespace vibekit::store::sqlite {

// The counted columns of telemetry_stats, in table order.
inline constexpr std::string_view kStatsCountColumns[] = {
    "total_events",    "start_events",     "stream_events",      "end_events",
    "error_events",    "unique_sessions",  "active_sessions",    "completed_sessions",
    "failed_sessions", "timeout_sessions", "sessions_with_errors", "duration_sum",
    "duration_count"};

// Fills temp.vk_expected_stats (stat_type, stat_key, the counted columns, min_timestamp,
// max_timestamp) from the events and sessions.
Status ComputeExpectedStats(Database& db);

// Replaces telemetry_stats by temp.vk_expected_stats (call ComputeExpectedStats first), with
// averages and the agent/mode breakdowns of the global row. Inside the caller's transaction.
Status ReplaceStatsWithExpected(Database& db, std::int64_t now_ms);

}  // namespace vibekit::store::sqlite
