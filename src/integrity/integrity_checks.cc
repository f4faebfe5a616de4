// The checks of `vibekit db validate` and the fixes of `vibekit db repair`. Every check is one
// SQL pass over a table (events are scanned at most three times: orphans, per-session counts,
// per-agent/mode counts); the rollup checks compare sums over the rollup rows with counts.
#include <algorithm>
#include <array>
#include <functional>
#include <string>
#include <vector>

#include "common/json.h"
#include "integrity/integrity_impl.h"
#include "store/sqlite/minute_rollup_sql.h"
#include "store/sqlite/stats_sql.h"

namespace vibekit::integrity {

using store::sqlite::Database;
using store::sqlite::Statement;

namespace {

constexpr int kMaxFindingsPerCheck = 1000;

using store::sqlite::kStatsCountColumns;

// json_object('c', <prefix>.c, ...) over the stats columns.
std::string StatsJson(const std::string& prefix) {
  std::string out = "json_object(";
  bool first = true;
  for (std::string_view c : kStatsCountColumns) {
    if (!first) out += ", ";
    first = false;
    out += "'" + std::string(c) + "', coalesce(" + prefix + "." + std::string(c) + ", 0)";
  }
  out += ", 'min_timestamp', " + prefix + ".min_timestamp, 'max_timestamp', " + prefix +
         ".max_timestamp)";
  return out;
}

// Rows of vk_expected_stats (x) and telemetry_stats (s) that disagree: type, key, stored JSON,
// expected JSON.
std::string StatsDiffSql() {
  std::string cond;
  for (std::string_view c : kStatsCountColumns) {
    if (!cond.empty()) cond += " OR ";
    cond += "coalesce(s." + std::string(c) + ", 0) <> coalesce(x." + std::string(c) + ", 0)";
  }
  cond += " OR s.min_timestamp IS NOT x.min_timestamp OR s.max_timestamp IS NOT x.max_timestamp";
  return "SELECT coalesce(x.stat_type, s.stat_type), coalesce(x.stat_key, s.stat_key), "
         "CASE WHEN s.stat_type IS NULL THEN NULL ELSE " + StatsJson("s") + " END, " +
         "CASE WHEN x.stat_type IS NULL THEN NULL ELSE " + StatsJson("x") + " END " +
         "FROM temp.vk_expected_stats x FULL OUTER JOIN telemetry_stats s "
         "ON s.stat_type = x.stat_type AND s.stat_key = x.stat_key WHERE " + cond +
         " ORDER BY 1, 2";
}

Status Collect(Database& db, const std::string& sql, int columns,
               const std::function<void(const Statement&)>& each) {
  VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db, sql));
  (void)columns;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    each(st);
  }
  return Status::Ok();
}

std::string Text(const Statement& st, int col) {
  return st.IsNull(col) ? std::string("null") : st.ColumnText(col);
}

}  // namespace

Result<std::vector<IntegrityFinding>> RunChecks(Database& db, bool foreign_keys) {
  std::vector<IntegrityFinding> out;
  // 1. The file itself.
  VK_RETURN_IF_ERROR(Collect(db, "PRAGMA integrity_check(100)", 1, [&](const Statement& st) {
    const std::string msg = st.ColumnText(0);
    if (msg != "ok") out.push_back({FindingKind::kIntegrity, "", "", msg, false});
  }));
  // 2. Foreign keys, every table (rows whose parent is missing).
  if (foreign_keys) {
    int n = 0;
    VK_RETURN_IF_ERROR(Collect(db, "PRAGMA foreign_key_check", 4, [&](const Statement& st) {
      if (++n > kMaxFindingsPerCheck) return;
      out.push_back({FindingKind::kForeignKey, st.ColumnText(0), Text(st, 1),
                     "row " + Text(st, 1) + " of " + st.ColumnText(0) + " references a missing " +
                         st.ColumnText(2) + " row",
                     true});
    }));
  }
  // 3. Orphaned rows.
  VK_RETURN_IF_ERROR(Collect(db,
      "SELECT e.session_id, count(*), min(e.id), max(e.id) FROM telemetry_events e "
      "WHERE NOT EXISTS (SELECT 1 FROM telemetry_sessions s WHERE s.id = e.session_id) "
      "GROUP BY e.session_id ORDER BY 1 LIMIT 1000", 4, [&](const Statement& st) {
        out.push_back({FindingKind::kOrphanedEvents, "telemetry_events", st.ColumnText(0),
                       st.ColumnText(1) + " events (ids " + st.ColumnText(2) + ".." +
                           st.ColumnText(3) + ") belong to session " + st.ColumnText(0) +
                           ", which does not exist",
                       true});
      }));
  VK_RETURN_IF_ERROR(Collect(db,
      "SELECT r.id, r.event_id FROM telemetry_errors r WHERE r.event_id IS NOT NULL AND NOT "
      "EXISTS (SELECT 1 FROM telemetry_events e WHERE e.id = r.event_id) ORDER BY 1 LIMIT 1000",
      2, [&](const Statement& st) {
        out.push_back({FindingKind::kOrphanedErrorEvent, "telemetry_errors", st.ColumnText(0),
                       "error " + st.ColumnText(0) + " names event " + st.ColumnText(1) +
                           ", which does not exist",
                       true});
      }));
  VK_RETURN_IF_ERROR(Collect(db,
      "SELECT r.id, r.session_id FROM telemetry_errors r WHERE r.session_id IS NOT NULL AND NOT "
      "EXISTS (SELECT 1 FROM telemetry_sessions s WHERE s.id = r.session_id) ORDER BY 1 "
      "LIMIT 1000", 2, [&](const Statement& st) {
        out.push_back({FindingKind::kOrphanedErrorSession, "telemetry_errors", st.ColumnText(0),
                       "error " + st.ColumnText(0) + " names session " + st.ColumnText(1) +
                           ", which does not exist",
                       true});
      }));
  // 4. Session counters against the events.
  VK_RETURN_IF_ERROR(Collect(db,
      "SELECT s.id, s.event_count, s.stream_event_count, s.error_count, coalesce(c.n, 0), "
      "coalesce(c.streams, 0), coalesce(c.errors, 0) FROM telemetry_sessions s LEFT JOIN "
      "(SELECT session_id, count(*) AS n, sum(event_type = 'stream') AS streams, "
      "sum(event_type = 'error') AS errors FROM telemetry_events GROUP BY session_id) c "
      "ON c.session_id = s.id WHERE s.event_count IS NOT coalesce(c.n, 0) OR "
      "s.stream_event_count IS NOT coalesce(c.streams, 0) OR "
      "s.error_count IS NOT coalesce(c.errors, 0) ORDER BY 1 LIMIT 1000",
      7, [&](const Statement& st) {
        out.push_back({FindingKind::kSessionCounters, "telemetry_sessions", st.ColumnText(0),
                       "session " + st.ColumnText(0) + " says events/stream/errors " +
                           Text(st, 1) + "/" + Text(st, 2) + "/" + Text(st, 3) +
                           ", its events are " + st.ColumnText(4) + "/" + st.ColumnText(5) + "/" +
                           st.ColumnText(6),
                       false});
      }));
  // 5. The statistics rollup.
  VK_RETURN_IF_ERROR(store::sqlite::ComputeExpectedStats(db).WithContext("expected statistics"));
  VK_RETURN_IF_ERROR(Collect(db, StatsDiffSql(), 4, [&](const Statement& st) {
    out.push_back({FindingKind::kStatsRollup, "telemetry_stats",
                   st.ColumnText(0) + "/" + st.ColumnText(1),
                   "statistics " + st.ColumnText(0) + "/" + st.ColumnText(1) + " hold " +
                       Text(st, 2) + ", the events and sessions give " + Text(st, 3),
                   false});
  }));
  // 6. The analytics rollups (minute, hour and day levels) against the events.
  VK_RETURN_IF_ERROR(Collect(db,
      "SELECT (SELECT count(*) FROM telemetry_events e JOIN telemetry_sessions s "
      "ON s.id = e.session_id), "
      "(SELECT coalesce(sum(events), 0) FROM telemetry_minute_rollups), "
      "(SELECT coalesce(sum(events), 0) FROM telemetry_period_rollups WHERE period_ms = 3600000), "
      "(SELECT coalesce(sum(events), 0) FROM telemetry_period_rollups WHERE period_ms = 86400000)",
      4, [&](const Statement& st) {
        const std::int64_t events = st.ColumnInt(0);
        const char* names[] = {"minute", "hour", "day"};
        for (int i = 0; i < 3; ++i) {
          if (st.ColumnInt(1 + i) != events) {
            out.push_back({FindingKind::kMinuteRollups,
                           i == 0 ? "telemetry_minute_rollups" : "telemetry_period_rollups",
                           names[i],
                           std::string(names[i]) + " rollups count " +
                               std::to_string(st.ColumnInt(1 + i)) + " events, the table has " +
                               std::to_string(events),
                           false});
          }
        }
      }));
  return out;
}

std::string PlannedAction(const IntegrityFinding& f, bool fix_constraints) {
  if (f.needs_fix_constraints && !fix_constraints) {
    return "not changed: pass --fix-constraints to fix orphaned rows and foreign keys";
  }
  switch (f.kind) {
    case FindingKind::kIntegrity:
      return "REINDEX (rebuilds every index); a damaged table needs a restore from an export";
    case FindingKind::kForeignKey:
      if (f.table == "telemetry_events" || f.table == "telemetry_errors") {
        return "fixed with the orphaned rows";
      }
      return "delete row " + f.record_id + " of " + f.table;
    case FindingKind::kSessionCounters: return "set the session's counters from its events";
    case FindingKind::kOrphanedEvents:
      return "re-create session " + f.record_id + " from its events";
    case FindingKind::kOrphanedErrorEvent: return "clear the error's event_id";
    case FindingKind::kOrphanedErrorSession:
      return "clear the error's session_id (unless the session is re-created from its events)";
    case FindingKind::kStatsRollup: return "rebuild the statistics rollup from events and sessions";
    case FindingKind::kMinuteRollups: return "rebuild the minute, hour and day rollups";
  }
  return "";
}

namespace {

Result<std::string> QueryJson(Database& db, const std::string& sql, std::string_view bind) {
  VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db, sql));
  st.Bind(1, bind);
  VK_ASSIGN_OR_RETURN(bool row, st.Step());
  return row && !st.IsNull(0) ? st.ColumnText(0) : std::string();
}

constexpr const char* kSessionCountersJson =
    "SELECT json_object('event_count', event_count, 'stream_event_count', stream_event_count, "
    "'error_count', error_count) FROM telemetry_sessions WHERE id = ?1";

}  // namespace

Result<std::vector<RepairAction>> ApplyRepairs(Database& db,
                                               const std::vector<IntegrityFinding>& findings,
                                               const RepairOptions& options, std::int64_t now_ms,
                                               std::int64_t* audit_rows) {
  std::vector<RepairAction> actions;
  bool stats = false;
  bool rollups = false;
  auto audit = [&](std::string_view table, std::string_view id, std::string_view op,
                   std::string_view old_v, std::string_view new_v, std::string_view fields,
                   std::string_view meta) -> Status {
    ++*audit_rows;
    return WriteAudit(db, table, id, op, old_v, new_v, fields, options.reason, meta, now_ms);
  };
  // Integrity first, orphans next (re-created sessions carry correct counters), then counters,
  // then what is derived (statistics, analytics rollups).
  auto order = [](FindingKind k) {
    switch (k) {
      case FindingKind::kIntegrity: return 0;
      case FindingKind::kOrphanedEvents: return 1;
      case FindingKind::kOrphanedErrorEvent: return 2;
      case FindingKind::kOrphanedErrorSession: return 3;
      case FindingKind::kForeignKey: return 4;
      case FindingKind::kSessionCounters: return 5;
      case FindingKind::kStatsRollup: return 6;
      case FindingKind::kMinuteRollups: return 7;
    }
    return 8;
  };
  std::vector<IntegrityFinding> sorted = findings;
  std::stable_sort(sorted.begin(), sorted.end(), [&](const auto& a, const auto& b) {
    return order(a.kind) < order(b.kind);
  });
  bool reindexed = false;
  for (const IntegrityFinding& f : sorted) {
    RepairAction a{f, PlannedAction(f, options.fix_constraints), false};
    if (f.needs_fix_constraints && !options.fix_constraints) {
      actions.push_back(std::move(a));
      continue;
    }
    switch (f.kind) {
      case FindingKind::kIntegrity: {
        if (!reindexed) {
          VK_RETURN_IF_ERROR(db.Exec("REINDEX").WithContext("repair: reindex"));
          VK_RETURN_IF_ERROR(audit("database", "", "UPDATE", "", "", "",
                                   "{\"action\":\"REINDEX\"}"));
          reindexed = true;
        }
        a.applied = true;
        break;
      }
      case FindingKind::kOrphanedEvents: {
        VK_ASSIGN_OR_RETURN(Statement ins, Statement::Prepare(db,
            "INSERT INTO telemetry_sessions (id, agent_type, mode, status, start_time, end_time, "
            "duration, event_count, stream_event_count, error_count, last_event_time, "
            "created_at, updated_at) "
            "SELECT ?1, (SELECT agent_type FROM telemetry_events WHERE session_id = ?1 "
            "ORDER BY timestamp, id LIMIT 1), "
            "(SELECT mode FROM telemetry_events WHERE session_id = ?1 AND mode IS NOT NULL "
            "ORDER BY timestamp, id LIMIT 1), "
            "CASE WHEN sum(event_type = 'error') > 0 THEN 'failed' "
            "WHEN sum(event_type = 'end') > 0 THEN 'completed' ELSE 'active' END, "
            "min(timestamp), max(CASE WHEN event_type = 'end' THEN timestamp END), "
            "max(CASE WHEN event_type = 'end' THEN timestamp END) - min(timestamp), "
            "count(*), sum(event_type = 'stream'), sum(event_type = 'error'), max(timestamp), "
            "?2, ?2 FROM telemetry_events WHERE session_id = ?1"));
        ins.Bind(1, std::string_view(f.record_id));
        ins.Bind(2, now_ms);
        VK_RETURN_IF_ERROR(ins.Run().WithContext("repair: re-create session " + f.record_id));
        VK_ASSIGN_OR_RETURN(std::string row, QueryJson(db,
            "SELECT json_object('id', id, 'agent_type', agent_type, 'mode', mode, 'status', "
            "status, 'start_time', start_time, 'end_time', end_time, 'event_count', event_count) "
            "FROM telemetry_sessions WHERE id = ?1", f.record_id));
        VK_RETURN_IF_ERROR(audit("telemetry_sessions", f.record_id, "INSERT", "", row, "",
                                 "{\"finding\":\"orphaned_events\"}"));
        stats = rollups = true;
        a.applied = true;
        break;
      }
      case FindingKind::kOrphanedErrorEvent: {
        VK_ASSIGN_OR_RETURN(std::string old_v, QueryJson(db,
            "SELECT json_object('event_id', event_id) FROM telemetry_errors WHERE id = ?1",
            f.record_id));
        VK_ASSIGN_OR_RETURN(Statement up, Statement::Prepare(db,
            "UPDATE telemetry_errors SET event_id = NULL WHERE id = ?1"));
        up.Bind(1, std::string_view(f.record_id));
        VK_RETURN_IF_ERROR(up.Run());
        VK_RETURN_IF_ERROR(audit("telemetry_errors", f.record_id, "UPDATE", old_v,
                                 "{\"event_id\":null}", "[\"event_id\"]",
                                 "{\"finding\":\"orphaned_error_event\"}"));
        a.applied = true;
        break;
      }
      case FindingKind::kOrphanedErrorSession: {
        VK_ASSIGN_OR_RETURN(std::string old_v, QueryJson(db,
            "SELECT json_object('session_id', session_id) FROM telemetry_errors WHERE id = ?1 "
            "AND NOT EXISTS (SELECT 1 FROM telemetry_sessions s WHERE s.id = "
            "telemetry_errors.session_id)", f.record_id));
        if (old_v.empty()) {
          a.action = "nothing left to do: the session was re-created from its events";
        } else {
          VK_ASSIGN_OR_RETURN(Statement up, Statement::Prepare(db,
              "UPDATE telemetry_errors SET session_id = NULL WHERE id = ?1"));
          up.Bind(1, std::string_view(f.record_id));
          VK_RETURN_IF_ERROR(up.Run());
          VK_RETURN_IF_ERROR(audit("telemetry_errors", f.record_id, "UPDATE", old_v,
                                   "{\"session_id\":null}", "[\"session_id\"]",
                                   "{\"finding\":\"orphaned_error_session\"}"));
        }
        a.applied = true;
        break;
      }
      case FindingKind::kForeignKey: {
        if (f.table == "telemetry_events" || f.table == "telemetry_errors") {
          a.applied = true;  // the orphan fixes above cover these rows
          break;
        }
        if (f.table.find_first_not_of("abcdefghijklmnopqrstuvwxyz_0123456789") !=
            std::string::npos) {
          break;  // not a name we write into SQL
        }
        VK_ASSIGN_OR_RETURN(Statement del, Statement::Prepare(db,
            "DELETE FROM \"" + f.table + "\" WHERE rowid = ?1"));
        del.Bind(1, static_cast<std::int64_t>(std::stoll(f.record_id)));
        VK_RETURN_IF_ERROR(del.Run().WithContext("repair: delete row of " + f.table));
        VK_RETURN_IF_ERROR(audit(f.table, f.record_id, "DELETE", "", "", "",
                                 "{\"finding\":\"foreign_key\"}"));
        a.applied = true;
        break;
      }
      case FindingKind::kSessionCounters: {
        VK_ASSIGN_OR_RETURN(std::string old_v, QueryJson(db, kSessionCountersJson, f.record_id));
        VK_ASSIGN_OR_RETURN(Statement up, Statement::Prepare(db,
            "UPDATE telemetry_sessions SET "
            "event_count = (SELECT count(*) FROM telemetry_events WHERE session_id = ?1), "
            "stream_event_count = (SELECT count(*) FROM telemetry_events WHERE session_id = ?1 "
            "AND event_type = 'stream'), "
            "error_count = (SELECT count(*) FROM telemetry_events WHERE session_id = ?1 "
            "AND event_type = 'error'), updated_at = ?2 WHERE id = ?1"));
        up.Bind(1, std::string_view(f.record_id));
        up.Bind(2, now_ms);
        VK_RETURN_IF_ERROR(up.Run().WithContext("repair: counters of " + f.record_id));
        VK_ASSIGN_OR_RETURN(std::string new_v, QueryJson(db, kSessionCountersJson, f.record_id));
        VK_RETURN_IF_ERROR(audit("telemetry_sessions", f.record_id, "UPDATE", old_v, new_v,
                                 "[\"event_count\",\"stream_event_count\",\"error_count\"]",
                                 "{\"finding\":\"session_counters\"}"));
        stats = true;  // sessions_with_errors may change
        a.applied = true;
        break;
      }
      case FindingKind::kStatsRollup: {
        stats = true;
        a.applied = true;
        break;
      }
      case FindingKind::kMinuteRollups: {
        rollups = true;
        a.applied = true;
        break;
      }
    }
    actions.push_back(std::move(a));
  }
  if (stats) {
    VK_RETURN_IF_ERROR(
        store::sqlite::ComputeExpectedStats(db).WithContext("repair: expected statistics"));
    // One audit row per statistics row that changes, with both values.
    std::vector<std::array<std::string, 4>> diffs;
    VK_RETURN_IF_ERROR(Collect(db, StatsDiffSql(), 4, [&](const Statement& st) {
      diffs.push_back({st.ColumnText(0), st.ColumnText(1), st.IsNull(2) ? "" : st.ColumnText(2),
                       st.IsNull(3) ? "" : st.ColumnText(3)});
    }));
    VK_RETURN_IF_ERROR(store::sqlite::ReplaceStatsWithExpected(db, now_ms)
                           .WithContext("repair: rebuild statistics"));
    for (const auto& d : diffs) {
      VK_RETURN_IF_ERROR(audit("telemetry_stats", d[0] + "/" + d[1],
                               d[2].empty() ? "INSERT" : (d[3].empty() ? "DELETE" : "UPDATE"),
                               d[2], d[3], "", "{\"finding\":\"stats_rollup\"}"));
    }
  }
  if (rollups) {
    VK_ASSIGN_OR_RETURN(std::int64_t before,
                        db.QueryInt("SELECT coalesce(sum(events), 0) FROM "
                                    "telemetry_minute_rollups"));
    VK_RETURN_IF_ERROR(store::sqlite::RebuildMinuteRollups(db).WithContext("repair: rollups"));
    VK_ASSIGN_OR_RETURN(std::int64_t after,
                        db.QueryInt("SELECT coalesce(sum(events), 0) FROM "
                                    "telemetry_minute_rollups"));
    VK_RETURN_IF_ERROR(audit("telemetry_minute_rollups", "", "UPDATE",
                             "{\"events\":" + std::to_string(before) + "}",
                             "{\"events\":" + std::to_string(after) + "}", "[\"events\"]",
                             "{\"finding\":\"minute_rollups\",\"levels\":[\"minute\",\"hour\","
                             "\"day\"]}"));
  }
  return actions;
}

}  // namespace vibekit::integrity
