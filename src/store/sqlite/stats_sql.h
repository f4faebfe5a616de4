// The statistics rollup (telemetry_stats) computed from the events and sessions by SQL
// (store/stats_expected.h), on a SQLite connection: used to check it (db validate), to rebuild
// it (db repair) and to fill it for a database migrated in from the reference.
#pragma once

#include <cstdint>

#include "store/sqlite/database.h"
#include "store/stats_expected.h"

namespace vibekit::store::sqlite {

// Fills temp.vk_expected_stats (stat_type, stat_key, the counted columns, min_timestamp,
// max_timestamp) from the events and sessions.
Status ComputeExpectedStats(Database& db);

// Replaces telemetry_stats by temp.vk_expected_stats (call ComputeExpectedStats first), with
// averages and the agent/mode breakdowns of the global row. Inside the caller's transaction.
Status ReplaceStatsWithExpected(Database& db, std::int64_t now_ms);

}  // namespace vibekit::store::sqlite
