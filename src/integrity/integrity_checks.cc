// The checks of `vibekit db validate` and the fixes of `vibekit db repair`, on either backend:
// the SQL is the backend's (store/integrity_backend.h: every check one SQL pass over a table,
// events scanned at most three times); the findings, their texts, the order of the fixes and
// their audit rows are decided here, the same for SQLite and PostgreSQL.
#include <algorithm>
#include <string>
#include <vector>

#include "integrity/integrity_impl.h"

namespace vibekit::integrity {

using store::IntegrityBackend;

namespace {

constexpr int kMaxFindingsPerCheck = 1000;

std::string OptNumber(const std::optional<std::int64_t>& v) {
  return v ? std::to_string(*v) : std::string("null");
}

}  // namespace

Result<std::vector<IntegrityFinding>> RunChecks(IntegrityBackend& db, bool foreign_keys) {
  std::vector<IntegrityFinding> out;
  // 1. The database itself.
  VK_ASSIGN_OR_RETURN(auto problems, db.IntegrityProblems());
  for (std::string& msg : problems) {
    out.push_back({FindingKind::kIntegrity, "", "", std::move(msg), false});
  }
  // 2. Foreign keys, every table (rows whose parent is missing).
  if (foreign_keys) {
    VK_ASSIGN_OR_RETURN(auto rows, db.ForeignKeyViolations(kMaxFindingsPerCheck));
    for (const store::ForeignKeyRow& r : rows) {
      out.push_back({FindingKind::kForeignKey, r.table, r.record_id,
                     "row " + r.record_id + " of " + r.table + " references a missing " +
                         r.parent + " row",
                     true});
    }
  }
  // 3. Orphaned rows.
  VK_ASSIGN_OR_RETURN(auto orphans, db.OrphanedEvents(kMaxFindingsPerCheck));
  for (const store::OrphanedEventsRow& r : orphans) {
    out.push_back({FindingKind::kOrphanedEvents, "telemetry_events", r.session_id,
                   std::to_string(r.count) + " events (ids " + std::to_string(r.min_id) + ".." +
                       std::to_string(r.max_id) + ") belong to session " + r.session_id +
                       ", which does not exist",
                   true});
  }
  VK_ASSIGN_OR_RETURN(auto no_event, db.ErrorsWithMissingEvent(kMaxFindingsPerCheck));
  for (const store::OrphanedErrorRow& r : no_event) {
    out.push_back({FindingKind::kOrphanedErrorEvent, "telemetry_errors", r.error_id,
                   "error " + r.error_id + " names event " + r.missing + ", which does not exist",
                   true});
  }
  VK_ASSIGN_OR_RETURN(auto no_session, db.ErrorsWithMissingSession(kMaxFindingsPerCheck));
  for (const store::OrphanedErrorRow& r : no_session) {
    out.push_back({FindingKind::kOrphanedErrorSession, "telemetry_errors", r.error_id,
                   "error " + r.error_id + " names session " + r.missing +
                       ", which does not exist",
                   true});
  }
  // 4. Session counters against the events.
  VK_ASSIGN_OR_RETURN(auto counters, db.SessionCounterMismatches(kMaxFindingsPerCheck));
  for (const store::CounterRow& r : counters) {
    out.push_back({FindingKind::kSessionCounters, "telemetry_sessions", r.session_id,
                   "session " + r.session_id + " says events/stream/errors " +
                       OptNumber(r.stored[0]) + "/" + OptNumber(r.stored[1]) + "/" +
                       OptNumber(r.stored[2]) + ", its events are " + std::to_string(r.actual[0]) +
                       "/" + std::to_string(r.actual[1]) + "/" + std::to_string(r.actual[2]),
                   false});
  }
  // 5. The statistics rollup.
  VK_ASSIGN_OR_RETURN(auto stats, db.StatsDifferences());
  for (const store::StatsDiffRow& r : stats) {
    out.push_back({FindingKind::kStatsRollup, "telemetry_stats", r.stat_type + "/" + r.stat_key,
                   "statistics " + r.stat_type + "/" + r.stat_key + " hold " +
                       r.stored_json.value_or("null") + ", the events and sessions give " +
                       r.expected_json.value_or("null"),
                   false});
  }
  // 6. The analytics rollups (minute, hour and day levels) against the events.
  VK_ASSIGN_OR_RETURN(store::RollupTotals totals, db.ReadRollupTotals());
  const std::int64_t levels[] = {totals.minute, totals.hour, totals.day};
  const char* names[] = {"minute", "hour", "day"};
  for (int i = 0; i < 3; ++i) {
    if (levels[i] != totals.events) {
      out.push_back({FindingKind::kMinuteRollups,
                     i == 0 ? "telemetry_minute_rollups" : "telemetry_period_rollups", names[i],
                     std::string(names[i]) + " rollups count " + std::to_string(levels[i]) +
                         " events, the table has " + std::to_string(totals.events),
                     false});
    }
  }
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

Result<std::vector<RepairAction>> ApplyRepairs(IntegrityBackend& db,
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
    return db.WriteAudit({table, id, op, old_v, new_v, fields, options.reason, meta, now_ms});
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
          VK_RETURN_IF_ERROR(db.RebuildIndexes().WithContext("repair: reindex"));
          VK_RETURN_IF_ERROR(audit("database", "", "UPDATE", "", "", "",
                                   "{\"action\":\"REINDEX\"}"));
          reindexed = true;
        }
        a.applied = true;
        break;
      }
      case FindingKind::kOrphanedEvents: {
        VK_ASSIGN_OR_RETURN(std::string row, db.RecreateSession(f.record_id, now_ms));
        VK_RETURN_IF_ERROR(audit("telemetry_sessions", f.record_id, "INSERT", "", row, "",
                                 "{\"finding\":\"orphaned_events\"}"));
        stats = rollups = true;
        a.applied = true;
        break;
      }
      case FindingKind::kOrphanedErrorEvent: {
        VK_ASSIGN_OR_RETURN(std::string old_v, db.ClearErrorEvent(f.record_id));
        VK_RETURN_IF_ERROR(audit("telemetry_errors", f.record_id, "UPDATE", old_v,
                                 "{\"event_id\":null}", "[\"event_id\"]",
                                 "{\"finding\":\"orphaned_error_event\"}"));
        a.applied = true;
        break;
      }
      case FindingKind::kOrphanedErrorSession: {
        VK_ASSIGN_OR_RETURN(std::string old_v, db.ClearErrorSession(f.record_id));
        if (old_v.empty()) {
          a.action = "nothing left to do: the session was re-created from its events";
        } else {
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
        VK_RETURN_IF_ERROR(db.DeleteRow(f.table, f.record_id)
                               .WithContext("repair: delete row of " + f.table));
        VK_RETURN_IF_ERROR(audit(f.table, f.record_id, "DELETE", "", "", "",
                                 "{\"finding\":\"foreign_key\"}"));
        a.applied = true;
        break;
      }
      case FindingKind::kSessionCounters: {
        VK_ASSIGN_OR_RETURN(auto values, db.ResetSessionCounters(f.record_id, now_ms));
        const auto& [old_v, new_v] = values;
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
    // One audit row per statistics row that changes, with both values.
    VK_ASSIGN_OR_RETURN(auto diffs, db.StatsDifferences());
    VK_RETURN_IF_ERROR(db.ReplaceStats(now_ms).WithContext("repair: rebuild statistics"));
    for (const store::StatsDiffRow& d : diffs) {
      const std::string old_v = d.stored_json.value_or("");
      const std::string new_v = d.expected_json.value_or("");
      VK_RETURN_IF_ERROR(audit("telemetry_stats", d.stat_type + "/" + d.stat_key,
                               old_v.empty() ? "INSERT" : (new_v.empty() ? "DELETE" : "UPDATE"),
                               old_v, new_v, "", "{\"finding\":\"stats_rollup\"}"));
    }
  }
  if (rollups) {
    VK_ASSIGN_OR_RETURN(auto counts, db.RebuildRollups());
    VK_RETURN_IF_ERROR(audit("telemetry_minute_rollups", "", "UPDATE",
                             "{\"events\":" + std::to_string(counts.first) + "}",
                             "{\"events\":" + std::to_string(counts.second) + "}", "[\"events\"]",
                             "{\"finding\":\"minute_rollups\",\"levels\":[\"minute\",\"hour\","
                             "\"day\"]}"));
  }
  return actions;
}

}  // namespace vibekit::integrity
