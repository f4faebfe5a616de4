// PostgreSQL side of the per-minute analytics rollups (store/minute_rollup.h), as
// store/sqlite/minute_rollup_sql.h does it for SQLite: a batch's delta merged into the minute,
// hour and day rows (read, merge in C++ — the sketches merge there — and write back), ranges
// read back, and a rebuild from the stored events.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "store/minute_rollup.h"
#include "store/postgres/pg_conn.h"

namespace vibekit::store::postgres {

// Adds `delta` to the minute rows and to the hour and day rows that hold them. Runs inside the
// caller's write transaction.
Status ApplyMinuteRollups(PgConn& db, const MinuteRollupDelta& delta);
// Timestamp of the newest stream event stored for `session_id`, if any.
Result<std::optional<std::int64_t>> LastStreamTime(PgConn& db, std::string_view session_id);
// Minute rows with from_ms <= minute <= to_ms, by minute.
Result<std::vector<MinuteRow>> ReadMinuteRows(PgConn& db, std::int64_t from_ms,
                                              std::int64_t to_ms);
// Hour or day rows with from_ms <= start <= to_ms, by start.
Result<std::vector<MinuteRow>> ReadPeriodRows(PgConn& db, std::int64_t period_ms,
                                              std::int64_t from_ms, std::int64_t to_ms);
// Drops rows before the oldest stored event (after retention).
Status TrimMinuteRollups(PgConn& db);
// Recomputes every row from the stored events, replacing what is there.
Status RebuildMinuteRollups(PgConn& db);

}  // namespace vibekit::store::postgres
