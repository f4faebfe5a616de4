#include "store/sqlite/minute_rollup_sql.h"

#include <optional>
#include <string>

#include "store/session_merge.h"

namespace vibekit::store::sqlite {
namespace {

constexpr std::string_view kColumns =
    "minute, agent_type, mode, events, start_events, stream_events, end_events, error_events, "
    "sessions_completed, sessions_failed, sessions_timeout, response_count, response_sum, "
    "response_sketch, gap_count, gap_sum, gap_sketch, duration_count, duration_sum, "
    "duration_sketch, input_tokens, output_tokens, cost_usd, stream_bytes, sessions_active";

Result<LatencyAggregate> ReadLatency(const Statement& st, int col) {
  LatencyAggregate a;
  a.count = st.ColumnInt(col);
  a.sum_ms = st.ColumnInt(col + 1);
  if (!st.IsNull(col + 2)) {
    auto sketch = analytics::QuantileSketch::Decode(st.ColumnTextView(col + 2));
    if (!sketch.ok()) return sketch.status().WithContext("telemetry_minute_rollups");
    a.sketch = std::move(*sketch);
  }
  return a;
}

Result<MinuteRow> ReadRow(const Statement& st) {
  MinuteRow r;
  r.key.minute = st.ColumnInt(0);
  r.key.agent_type = st.ColumnText(1);
  r.key.mode = st.ColumnText(2);
  MinuteCounts& c = r.counts;
  c.events = st.ColumnInt(3);
  c.start_events = st.ColumnInt(4);
  c.stream_events = st.ColumnInt(5);
  c.end_events = st.ColumnInt(6);
  c.error_events = st.ColumnInt(7);
  c.sessions_completed = st.ColumnInt(8);
  c.sessions_failed = st.ColumnInt(9);
  c.sessions_timeout = st.ColumnInt(10);
  VK_ASSIGN_OR_RETURN(c.response, ReadLatency(st, 11));
  VK_ASSIGN_OR_RETURN(c.gap, ReadLatency(st, 14));
  VK_ASSIGN_OR_RETURN(c.duration, ReadLatency(st, 17));
  c.input_tokens = st.ColumnInt(20);
  c.output_tokens = st.ColumnInt(21);
  c.cost_usd = st.ColumnDouble(22);
  c.stream_bytes = st.ColumnInt(23);
  c.sessions_active = st.ColumnInt(24);
  return r;
}

std::string PeriodColumns() {
  return "start" + std::string(kColumns.substr(kColumns.find(',')));
}

// Reads the row of `key` (and `period`, bound as ?26), adds `add` and writes it back.
Status Upsert(Statement& sel, Statement& put, const MinuteKey& key, const MinuteCounts& add,
              std::optional<std::int64_t> period) {
  MinuteCounts c;
  sel.Reset();
  sel.Bind(1, key.minute);
  sel.Bind(2, std::string_view(key.agent_type));
  sel.Bind(3, std::string_view(key.mode));
  if (period) sel.Bind(26, *period);
  VK_ASSIGN_OR_RETURN(bool found, sel.Step());
  if (found) {
    VK_ASSIGN_OR_RETURN(MinuteRow existing, ReadRow(sel));
    c = std::move(existing.counts);
  }
  sel.Reset();
  c.Merge(add);
  const std::string response = c.response.sketch.Encode();
  const std::string gap = c.gap.sketch.Encode();
  const std::string duration = c.duration.sketch.Encode();
  put.Reset();
  put.Bind(1, key.minute);
  put.Bind(2, std::string_view(key.agent_type));
  put.Bind(3, std::string_view(key.mode));
  put.Bind(4, c.events);
  put.Bind(5, c.start_events);
  put.Bind(6, c.stream_events);
  put.Bind(7, c.end_events);
  put.Bind(8, c.error_events);
  put.Bind(9, c.sessions_completed);
  put.Bind(10, c.sessions_failed);
  put.Bind(11, c.sessions_timeout);
  put.Bind(12, c.response.count);
  put.Bind(13, c.response.sum_ms);
  put.BindBlob(14, response);
  put.Bind(15, c.gap.count);
  put.Bind(16, c.gap.sum_ms);
  put.BindBlob(17, gap);
  put.Bind(18, c.duration.count);
  put.Bind(19, c.duration.sum_ms);
  put.BindBlob(20, duration);
  put.Bind(21, c.input_tokens);
  put.Bind(22, c.output_tokens);
  put.Bind(23, c.cost_usd);
  put.Bind(24, c.stream_bytes);
  put.Bind(25, c.sessions_active);
  if (period) put.Bind(26, *period);
  return put.Run().WithContext(period ? "update period rollup" : "update minute rollup");
}

}  // namespace

Result<MinuteRollupWriter> MinuteRollupWriter::Prepare(Database& db) {
  VK_ASSIGN_OR_RETURN(Statement sel, Statement::Prepare(db,
      "SELECT " + std::string(kColumns) +
      " FROM telemetry_minute_rollups WHERE minute = ?1 AND agent_type = ?2 AND mode = ?3"));
  VK_ASSIGN_OR_RETURN(Statement put, Statement::Prepare(db,
      "INSERT OR REPLACE INTO telemetry_minute_rollups (" + std::string(kColumns) +
      ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,"
      "?22,?23,?24,?25)"));
  // The same columns with the period's start in place of the minute and period_ms as ?26.
  VK_ASSIGN_OR_RETURN(Statement sel_period, Statement::Prepare(db,
      "SELECT " + PeriodColumns() +
      " FROM telemetry_period_rollups WHERE period_ms = ?26 AND start = ?1 AND agent_type = ?2 "
      "AND mode = ?3"));
  VK_ASSIGN_OR_RETURN(Statement put_period, Statement::Prepare(db,
      "INSERT OR REPLACE INTO telemetry_period_rollups (period_ms, " + PeriodColumns() +
      ") VALUES (?26,?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,"
      "?22,?23,?24,?25)"));
  VK_ASSIGN_OR_RETURN(Statement last, Statement::Prepare(db,
      "SELECT timestamp FROM telemetry_events WHERE session_id = ?1 AND event_type = 'stream' "
      "ORDER BY timestamp DESC LIMIT 1"));
  return MinuteRollupWriter(std::move(sel), std::move(put), std::move(sel_period),
                            std::move(put_period), std::move(last));
}

Status MinuteRollupWriter::Apply(const MinuteRollupDelta& delta) {
  for (const auto& [key, add] : delta.rows()) {
    VK_RETURN_IF_ERROR(Upsert(select_, put_, key, add, std::nullopt));
  }
  return ApplyPeriods(delta.rows());
}

Status MinuteRollupWriter::ApplyPeriods(const std::map<MinuteKey, MinuteCounts>& rows) {
  for (const std::int64_t period : {kHourMs, kDayMs}) {
    std::map<MinuteKey, MinuteCounts> merged;
    for (const auto& [key, add] : rows) {
      MinuteKey k = key;
      k.minute = PeriodOf(key.minute, period);
      merged[k].Merge(add);
    }
    for (const auto& [key, add] : merged) {
      VK_RETURN_IF_ERROR(Upsert(select_period_, put_period_, key, add, period));
    }
  }
  return Status::Ok();
}

Result<std::optional<std::int64_t>> MinuteRollupWriter::LastStreamTime(
    std::string_view session_id) {
  last_stream_.Reset();
  last_stream_.Bind(1, session_id);
  VK_ASSIGN_OR_RETURN(bool row, last_stream_.Step());
  std::optional<std::int64_t> out;
  if (row) out = last_stream_.ColumnInt(0);
  last_stream_.Reset();
  return out;
}

Result<std::vector<MinuteRow>> ReadMinuteRollups(Database& db, std::int64_t from_ms,
                                                 std::int64_t to_ms) {
  VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db,
      "SELECT " + std::string(kColumns) +
      " FROM telemetry_minute_rollups WHERE minute BETWEEN ?1 AND ?2 ORDER BY minute"));
  st.Bind(1, from_ms);
  st.Bind(2, to_ms);
  std::vector<MinuteRow> rows;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    VK_ASSIGN_OR_RETURN(MinuteRow r, ReadRow(st));
    rows.push_back(std::move(r));
  }
  return rows;
}

Result<std::vector<MinuteRow>> ReadPeriodRollups(Database& db, std::int64_t period_ms,
                                                 std::int64_t from_ms, std::int64_t to_ms) {
  VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db,
      "SELECT " + PeriodColumns() +
      " FROM telemetry_period_rollups WHERE period_ms = ?3 AND start BETWEEN ?1 AND ?2 "
      "ORDER BY start"));
  st.Bind(1, from_ms);
  st.Bind(2, to_ms);
  st.Bind(3, period_ms);
  std::vector<MinuteRow> rows;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    VK_ASSIGN_OR_RETURN(MinuteRow r, ReadRow(st));
    rows.push_back(std::move(r));
  }
  return rows;
}

Status RebuildPeriodRollups(Database& db) {
  VK_RETURN_IF_ERROR(db.Exec("DELETE FROM telemetry_period_rollups"));
  VK_ASSIGN_OR_RETURN(MinuteRollupWriter writer, MinuteRollupWriter::Prepare(db));
  VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db,
      "SELECT " + std::string(kColumns) + " FROM telemetry_minute_rollups ORDER BY minute"));
  std::map<MinuteKey, MinuteCounts> chunk;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    VK_ASSIGN_OR_RETURN(MinuteRow r, ReadRow(st));
    chunk.emplace(std::move(r.key), std::move(r.counts));
    // Bounded memory: the period rows merge on write, so chunks may split a period.
    if (chunk.size() >= 20000) {
      VK_RETURN_IF_ERROR(writer.ApplyPeriods(chunk));
      chunk.clear();
    }
  }
  return writer.ApplyPeriods(chunk);
}

Status TrimMinuteRollups(Database& db) {
  // Retention took the removed sessions out of every level already; what is left before the
  // oldest event is empty. Periods partly after it stay (they hold the rest of their minutes).
  return db.Exec(
      "DELETE FROM telemetry_minute_rollups WHERE minute < coalesce("
      "(SELECT (min(timestamp) / 60000) * 60000 FROM telemetry_events), 9223372036854775807);"
      "DELETE FROM telemetry_period_rollups WHERE start + period_ms <= coalesce("
      "(SELECT (min(timestamp) / 60000) * 60000 FROM telemetry_events), 9223372036854775807);");
}

Status RebuildMinuteRollups(Database& db) {
  VK_RETURN_IF_ERROR(
      db.Exec("DELETE FROM telemetry_minute_rollups; DELETE FROM telemetry_period_rollups;"));
  VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db,
      "SELECT e.session_id, e.event_type, e.agent_type, e.mode, e.metadata, e.timestamp, "
      "length(CAST(vk_text(e.stream_data) AS BLOB)), s.status, s.start_time, s.end_time, s.duration, s.agent_type, "
      "s.mode, s.updated_at FROM telemetry_events e JOIN telemetry_sessions s "
      "ON s.id = e.session_id ORDER BY e.session_id, e.timestamp, e.id"));
  VK_ASSIGN_OR_RETURN(MinuteRollupWriter writer, MinuteRollupWriter::Prepare(db));
  MinuteRollupDelta delta;
  std::vector<Event> events;
  Session session;
  auto flush = [&] {
    if (events.empty()) return;
    std::vector<const Event*> ptrs;
    for (const Event& e : events) ptrs.push_back(&e);
    // One batch of all its events, ending in the row as stored: the session's contribution is
    // its current state, as at ingest.
    delta.AddSessionEvents(SessionBefore{}, ptrs, session);
    events.clear();
  };
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    if (events.empty() || events.front().session_id != st.ColumnTextView(0)) {
      flush();
      session = Session{};
      session.id = st.ColumnText(0);
      auto status = ParseSessionStatus(st.ColumnTextView(7));
      session.status = status.ok() ? *status : SessionStatus::kActive;
      session.start_time = st.ColumnInt(8);
      session.end_time = st.ColumnOptInt(9);
      session.duration = st.ColumnOptInt(10);
      session.agent_type = st.ColumnText(11);
      session.mode = st.ColumnOptText(12);
      session.updated_at = st.ColumnInt(13);
    }
    Event e;
    e.session_id = st.ColumnText(0);
    auto type = ParseEventType(st.ColumnTextView(1));
    e.event_type = type.ok() ? *type : EventType::kStream;
    e.agent_type = st.ColumnText(2);
    e.mode = st.ColumnOptText(3);
    e.metadata = st.ColumnOptText(4);
    e.timestamp = st.ColumnInt(5);
    // Only the length of stream data matters here; the text itself is not read.
    if (!st.IsNull(6)) e.stream_data = std::string(static_cast<std::size_t>(st.ColumnInt(6)), ' ');
    events.push_back(std::move(e));
    // Keep memory bounded: commit the delta every so often (rows merge on write).
    if (delta.rows().size() > 50000) {
      VK_RETURN_IF_ERROR(writer.Apply(delta));
      delta = MinuteRollupDelta();
    }
  }
  flush();
  return writer.Apply(delta);
}

}  // namespace vibekit::store::sqlite
