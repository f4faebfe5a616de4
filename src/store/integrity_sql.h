// SQL of the integrity checks that is the same on both backends (store/integrity_backend.h);
// the limit is appended as " LIMIT n".
#pragma once

namespace vibekit::store {

// Events of sessions that do not exist: session id, count, first and last event id.
inline constexpr const char* kOrphanedEventsSql =
    "SELECT e.session_id, count(*), min(e.id), max(e.id) FROM telemetry_events e "
    "WHERE NOT EXISTS (SELECT 1 FROM telemetry_sessions s WHERE s.id = e.session_id) "
    "GROUP BY e.session_id ORDER BY e.session_id";

// Error rows naming an event / a session that does not exist: error id, the id it names.
inline constexpr const char* kErrorsWithMissingEventSql =
    "SELECT r.id, r.event_id FROM telemetry_errors r WHERE r.event_id IS NOT NULL AND NOT "
    "EXISTS (SELECT 1 FROM telemetry_events e WHERE e.id = r.event_id) ORDER BY r.id";
inline constexpr const char* kErrorsWithMissingSessionSql =
    "SELECT r.id, r.session_id FROM telemetry_errors r WHERE r.session_id IS NOT NULL AND NOT "
    "EXISTS (SELECT 1 FROM telemetry_sessions s WHERE s.id = r.session_id) ORDER BY r.id";

// Events of existing sessions, and the events counted by the minute, hour and day rollups.
inline constexpr const char* kRollupTotalsSql =
    "SELECT (SELECT count(*) FROM telemetry_events e JOIN telemetry_sessions s "
    "ON s.id = e.session_id), "
    "(SELECT coalesce(sum(events), 0) FROM telemetry_minute_rollups), "
    "(SELECT coalesce(sum(events), 0) FROM telemetry_period_rollups WHERE period_ms = 3600000), "
    "(SELECT coalesce(sum(events), 0) FROM telemetry_period_rollups WHERE period_ms = 86400000)";

}  // namespace vibekit::store
