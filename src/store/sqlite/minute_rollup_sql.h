// SQLite side of the per-minute analytics rollups (store/minute_rollup.h): merging a batch's
// delta into telemetry_minute_rollups, reading a time range back, rebuilding from the events.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "store/minute_rollup.h"
#include "store/sqlite/database.h"

namespace vibekit::store::sqlite {

// The writer connection's statements for the rollups, prepared once when the store opens (they
// run with every batch).
class MinuteRollupWriter {
 public:
  static Result<MinuteRollupWriter> Prepare(Database& db);

  // Adds `delta` to the minute rows and to the hour and day rows that hold them (read, merge,
  // write back: the sketches merge in C++). Runs inside the caller's transaction.
  Status Apply(const MinuteRollupDelta& delta);
  // Timestamp of the newest stream event stored for `session_id`, if any (an index probe).
  Result<std::optional<std::int64_t>> LastStreamTime(std::string_view session_id);

 private:
  MinuteRollupWriter(Statement select, Statement put, Statement select_period,
                     Statement put_period, Statement last_stream)
      : select_(std::move(select)),
        put_(std::move(put)),
        select_period_(std::move(select_period)),
        put_period_(std::move(put_period)),
        last_stream_(std::move(last_stream)) {}
  friend Status RebuildPeriodRollups(Database& db);
  // Adds minute-keyed rows to the hour and day rows that hold them.
  Status ApplyPeriods(const std::map<MinuteKey, MinuteCounts>& rows);
  Statement select_;
  Statement put_;
  Statement select_period_;  // (period_ms, start, agent, mode)
  Statement put_period_;
  Statement last_stream_;
};

// Rows with from_ms ≤ minute ≤ to_ms, ordered by minute.
Result<std::vector<MinuteRow>> ReadMinuteRollups(Database& db, std::int64_t from_ms,
                                                 std::int64_t to_ms);

// Hour (kHourMs) or day (kDayMs) rows with from_ms ≤ start ≤ to_ms, ordered by start.
Result<std::vector<MinuteRow>> ReadPeriodRollups(Database& db, std::int64_t period_ms,
                                                 std::int64_t from_ms, std::int64_t to_ms);

// Recomputes every hour and day row from the minute rows.
Status RebuildPeriodRollups(Database& db);

// Drops rollup minutes (and hours and days wholly) before the oldest stored event (all of them when there is none), after
// retention removed events.
Status TrimMinuteRollups(Database& db);

// Recomputes every row from the stored events (sessions in turn, their events in time order),
// replacing what is there. For databases that had events before the rollups existed.
Status RebuildMinuteRollups(Database& db);

}  // namespace vibekit::store::sqlite
