// SQLite side of the per-minute analytics rollups (store/minute_rollup.h): merging a batch's
// delta into telemetry_minute_rollups, reading a time range back, rebuilding from the events.
#pragma once

#include <cstdint>
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

  // Adds `delta` to the rows (read, merge, write back: the sketches merge in C++). Runs inside
  // the caller's transaction.
  Status Apply(const MinuteRollupDelta& delta);
  // Timestamp of the newest stream event stored for `session_id`, if any (an index probe).
  Result<std::optional<std::int64_t>> LastStreamTime(std::string_view session_id);

 private:
  MinuteRollupWriter(Statement select, Statement put, Statement last_stream)
      : select_(std::move(select)), put_(std::move(put)), last_stream_(std::move(last_stream)) {}
  Statement select_;
  Statement put_;
  Statement last_stream_;
};

// Rows with from_ms ≤ minute ≤ to_ms, ordered by minute.
Result<std::vector<MinuteRow>> ReadMinuteRollups(Database& db, std::int64_t from_ms,
                                                 std::int64_t to_ms);

// Drops rollup minutes before the oldest stored event (all of them when there is none), after
// retention removed events.
Status TrimMinuteRollups(Database& db);

// Recomputes every row from the stored events (sessions in turn, their events in time order),
// replacing what is there. For databases that had events before the rollups existed.
Status RebuildMinuteRollups(Database& db);

}  // namespace vibekit::store::sqlite
