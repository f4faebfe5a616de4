#include "store/postgres/pg_minute_rollup.h"

#include <string>

#include "store/session_merge.h"

namespace vibekit::store::postgres {
namespace {

// Column 0 is the minute (or the period's start); the rest as in the SQLite table.
constexpr std::string_view kRest =
    "agent_type, mode, events, start_events, stream_events, end_events, error_events, "
    "sessions_completed, sessions_failed, sessions_timeout, response_count, response_sum, "
    "response_sketch, gap_count, gap_sum, gap_sketch, duration_count, duration_sum, "
    "duration_sketch, input_tokens, output_tokens, cost_usd, stream_bytes, sessions_active";

Result<LatencyAggregate> ReadLatency(const PgResult& r, int i, int col) {
  LatencyAggregate a;
  a.count = r.Int(i, col);
  a.sum_ms = r.Int(i, col + 1);
  if (!r.IsNull(i, col + 2)) {
    auto sketch = analytics::QuantileSketch::Decode(r.Bytes(i, col + 2));
    if (!sketch.ok()) return sketch.status().WithContext("telemetry rollups");
    a.sketch = std::move(*sketch);
  }
  return a;
}

Result<MinuteRow> ReadRow(const PgResult& r, int i) {
  MinuteRow row;
  row.key.minute = r.Int(i, 0);
  row.key.agent_type = r.Text(i, 1);
  row.key.mode = r.Text(i, 2);
  MinuteCounts& c = row.counts;
  c.events = r.Int(i, 3);
  c.start_events = r.Int(i, 4);
  c.stream_events = r.Int(i, 5);
  c.end_events = r.Int(i, 6);
  c.error_events = r.Int(i, 7);
  c.sessions_completed = r.Int(i, 8);
  c.sessions_failed = r.Int(i, 9);
  c.sessions_timeout = r.Int(i, 10);
  VK_ASSIGN_OR_RETURN(c.response, ReadLatency(r, i, 11));
  VK_ASSIGN_OR_RETURN(c.gap, ReadLatency(r, i, 14));
  VK_ASSIGN_OR_RETURN(c.duration, ReadLatency(r, i, 17));
  c.input_tokens = r.Int(i, 20);
  c.output_tokens = r.Int(i, 21);
  c.cost_usd = r.Double(i, 22);
  c.stream_bytes = r.Int(i, 23);
  c.sessions_active = r.Int(i, 24);
  return row;
}

std::string Placeholders(int from, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? ", $" : "$") + std::to_string(from + i);
  return s;
}

// Reads the row of `key` (in the period table when `period` is set), adds `add`, writes it.
Status Upsert(PgConn& db, const MinuteKey& key, const MinuteCounts& add,
              std::optional<std::int64_t> period) {
  const std::string table = period ? "telemetry_period_rollups" : "telemetry_minute_rollups";
  const std::string first = period ? "start" : "minute";
  const std::string where = period ? " WHERE period_ms = $4 AND start = $1 AND agent_type = $2 "
                                     "AND mode = $3"
                                   : " WHERE minute = $1 AND agent_type = $2 AND mode = $3";
  PgParams key_params;
  key_params.Add(key.minute).Add(key.agent_type).Add(key.mode);
  if (period) key_params.Add(*period);
  VK_ASSIGN_OR_RETURN(PgResult cur, db.Query("SELECT " + first + ", " + std::string(kRest) +
                                                 " FROM " + table + where + " FOR UPDATE",
                                             key_params));
  MinuteCounts c;
  if (cur.rows() > 0) {
    VK_ASSIGN_OR_RETURN(MinuteRow existing, ReadRow(cur, 0));
    c = std::move(existing.counts);
  }
  c.Merge(add);
  PgParams p;
  p.Add(key.minute).Add(key.agent_type).Add(key.mode).Add(c.events).Add(c.start_events)
      .Add(c.stream_events).Add(c.end_events).Add(c.error_events).Add(c.sessions_completed)
      .Add(c.sessions_failed).Add(c.sessions_timeout).Add(c.response.count)
      .Add(c.response.sum_ms).AddBytes(c.response.sketch.Encode()).Add(c.gap.count)
      .Add(c.gap.sum_ms).AddBytes(c.gap.sketch.Encode()).Add(c.duration.count)
      .Add(c.duration.sum_ms).AddBytes(c.duration.sketch.Encode()).Add(c.input_tokens)
      .Add(c.output_tokens).Add(c.cost_usd).Add(c.stream_bytes).Add(c.sessions_active);
  std::string cols = first + ", " + std::string(kRest);
  std::string values = Placeholders(1, 25);
  std::string conflict = period ? "(period_ms, start, agent_type, mode)"
                                : "(minute, agent_type, mode)";
  if (period) {
    p.Add(*period);
    cols = "period_ms, " + cols;
    values = "$26, " + values;
  }
  std::string set;
  std::string_view rest = kRest.substr(kRest.find(',') + 2);  // after agent_type
  rest = rest.substr(rest.find(',') + 2);                     // after mode
  std::size_t pos = 0;
  while (pos < rest.size()) {
    std::size_t end = rest.find(',', pos);
    if (end == std::string_view::npos) end = rest.size();
    const std::string col(rest.substr(pos, end - pos));
    set += (set.empty() ? "" : ", ") + col + " = excluded." + col;
    pos = end + 2;
  }
  return db.Query("INSERT INTO " + table + " (" + cols + ") VALUES (" + values +
                      ") ON CONFLICT " + conflict + " DO UPDATE SET " + set,
                  p)
      .status()
      .WithContext(period ? "update period rollup" : "update minute rollup");
}

Status ApplyPeriods(PgConn& db, const std::map<MinuteKey, MinuteCounts>& rows) {
  for (const std::int64_t period : {kHourMs, kDayMs}) {
    std::map<MinuteKey, MinuteCounts> merged;
    for (const auto& [key, add] : rows) {
      MinuteKey k = key;
      k.minute = PeriodOf(key.minute, period);
      merged[k].Merge(add);
    }
    for (const auto& [key, add] : merged) VK_RETURN_IF_ERROR(Upsert(db, key, add, period));
  }
  return Status::Ok();
}

}  // namespace

Status ApplyMinuteRollups(PgConn& db, const MinuteRollupDelta& delta) {
  for (const auto& [key, add] : delta.rows()) {
    VK_RETURN_IF_ERROR(Upsert(db, key, add, std::nullopt));
  }
  return ApplyPeriods(db, delta.rows());
}

Result<std::optional<std::int64_t>> LastStreamTime(PgConn& db, std::string_view session_id) {
  VK_ASSIGN_OR_RETURN(PgResult r, db.Query(
      "SELECT timestamp FROM telemetry_events WHERE session_id = $1 AND event_type = 'stream' "
      "ORDER BY timestamp DESC LIMIT 1",
      PgParams().Add(session_id)));
  std::optional<std::int64_t> out;
  if (r.rows() > 0) out = r.Int(0, 0);
  return out;
}

Result<std::vector<MinuteRow>> ReadMinuteRows(PgConn& db, std::int64_t from_ms,
                                              std::int64_t to_ms) {
  VK_ASSIGN_OR_RETURN(PgResult r, db.Query(
      "SELECT minute, " + std::string(kRest) +
          " FROM telemetry_minute_rollups WHERE minute BETWEEN $1 AND $2 "
          "ORDER BY minute, agent_type COLLATE \"C\", mode COLLATE \"C\"",
      PgParams().Add(from_ms).Add(to_ms)));
  std::vector<MinuteRow> rows;
  for (int i = 0; i < r.rows(); ++i) {
    VK_ASSIGN_OR_RETURN(MinuteRow row, ReadRow(r, i));
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::vector<MinuteRow>> ReadPeriodRows(PgConn& db, std::int64_t period_ms,
                                              std::int64_t from_ms, std::int64_t to_ms) {
  VK_ASSIGN_OR_RETURN(PgResult r, db.Query(
      "SELECT start, " + std::string(kRest) +
          " FROM telemetry_period_rollups WHERE period_ms = $3 AND start BETWEEN $1 AND $2 "
          "ORDER BY start, agent_type COLLATE \"C\", mode COLLATE \"C\"",
      PgParams().Add(from_ms).Add(to_ms).Add(period_ms)));
  std::vector<MinuteRow> rows;
  for (int i = 0; i < r.rows(); ++i) {
    VK_ASSIGN_OR_RETURN(MinuteRow row, ReadRow(r, i));
    rows.push_back(std::move(row));
  }
  return rows;
}

Status TrimMinuteRollups(PgConn& db) {
  return db.Exec(
      "DELETE FROM telemetry_minute_rollups WHERE minute < coalesce("
      "(SELECT (min(timestamp) / 60000) * 60000 FROM telemetry_events), 9223372036854775807);"
      "DELETE FROM telemetry_period_rollups WHERE start + period_ms <= coalesce("
      "(SELECT (min(timestamp) / 60000) * 60000 FROM telemetry_events), 9223372036854775807);");
}

Status RebuildMinuteRollups(PgConn& db) {
  VK_RETURN_IF_ERROR(
      db.Exec("DELETE FROM telemetry_minute_rollups; DELETE FROM telemetry_period_rollups;"));
  // Sessions a page at a time (bounded memory), each with its events in time order.
  std::string after;
  bool first_page = true;
  while (true) {
    VK_ASSIGN_OR_RETURN(PgResult page, db.Query(
        "SELECT id FROM telemetry_sessions WHERE $2::bool OR id COLLATE \"C\" > $1 "
        "ORDER BY id COLLATE \"C\" LIMIT 500",
        PgParams().Add(after).Add(first_page)));
    first_page = false;
    if (page.rows() == 0) break;
    after = page.Text(page.rows() - 1, 0);
    std::string ids = "{";
    for (int i = 0; i < page.rows(); ++i) {
      ids += i ? ",\"" : "\"";
      for (const char ch : page.TextView(i, 0)) {
        if (ch == '"' || ch == '\\') ids += '\\';
        ids += ch;
      }
      ids += '"';
    }
    ids += '}';
    VK_ASSIGN_OR_RETURN(PgResult r, db.Query(
        "SELECT e.session_id, e.event_type, e.agent_type, e.mode, e.metadata, e.timestamp, "
        "octet_length(e.stream_data), s.status, s.start_time, s.end_time, s.duration, "
        "s.agent_type, s.mode, s.updated_at FROM telemetry_events e JOIN telemetry_sessions s "
        "ON s.id = e.session_id WHERE e.session_id = ANY($1::text[]) "
        "ORDER BY e.session_id COLLATE \"C\", e.timestamp, e.id",
        PgParams().Add(ids)));
    MinuteRollupDelta delta;
    std::vector<Event> events;
    Session session;
    auto flush = [&] {
      if (events.empty()) return;
      std::vector<const Event*> ptrs;
      for (const Event& e : events) ptrs.push_back(&e);
      delta.AddSessionEvents(SessionBefore{}, ptrs, session);
      events.clear();
    };
    for (int i = 0; i < r.rows(); ++i) {
      if (events.empty() || events.front().session_id != r.TextView(i, 0)) {
        flush();
        session = Session{};
        session.id = r.Text(i, 0);
        auto status = ParseSessionStatus(r.TextView(i, 7));
        session.status = status.ok() ? *status : SessionStatus::kActive;
        session.start_time = r.Int(i, 8);
        session.end_time = r.OptInt(i, 9);
        session.duration = r.OptInt(i, 10);
        session.agent_type = r.Text(i, 11);
        session.mode = r.OptText(i, 12);
        session.updated_at = r.Int(i, 13);
      }
      Event e;
      e.session_id = r.Text(i, 0);
      auto type = ParseEventType(r.TextView(i, 1));
      e.event_type = type.ok() ? *type : EventType::kStream;
      e.agent_type = r.Text(i, 2);
      e.mode = r.OptText(i, 3);
      e.metadata = r.OptText(i, 4);
      e.timestamp = r.Int(i, 5);
      if (!r.IsNull(i, 6)) e.stream_data = std::string(static_cast<std::size_t>(r.Int(i, 6)), ' ');
      events.push_back(std::move(e));
    }
    flush();
    VK_RETURN_IF_ERROR(ApplyMinuteRollups(db, delta));
  }
  return Status::Ok();
}

}  // namespace vibekit::store::postgres
