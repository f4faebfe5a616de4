// See reference_import.h. Time fixes, column by column:
// - timestamp, start_time, end_time, duration, resolved_at (REAL ms): rounded to INTEGER ms.
// - created_at / updated_at / applied_at / last_updated / flushed_at: the reference wrote seconds
//   (unixepoch()) in some rows and a constant frozen at generation time in others. A value below
//   1e11 is seconds (1e11 ms is 1973) and is multiplied by 1000; then, where the row has its own
//   time (an event's or error's timestamp, a session's start), a created_at earlier than that
//   time (the frozen constant) is replaced by it: a row cannot be written before it happened.
// - prompt: the reference stored '' on events without one; '' becomes NULL.
#include "store/sqlite/reference_import.h"

#include <set>
#include <string>
#include <vector>

#include "common/json.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/stats_sql.h"

namespace vibekit::store::sqlite {
namespace {

constexpr const char* kTables[] = {
    "telemetry_sessions", "telemetry_events",           "telemetry_buffers",
    "telemetry_stats",    "telemetry_errors",           "telemetry_audit_log",
    "telemetry_validation_rules", "telemetry_schema_versions"};

// How a column is converted.
enum class Kind { kCopy, kMs, kSecondsOrMs, kPrompt };

struct Column {
  const char* name;
  Kind kind;
  const char* own_time = nullptr;  // kSecondsOrMs: not earlier than this column (converted)
};

std::string Ms(const std::string& col) {
  return "CAST(round(" + col + ") AS INTEGER)";
}

std::string SecondsOrMs(const std::string& col) {
  return "(CASE WHEN " + col + " IS NULL THEN NULL WHEN abs(" + col + ") < 100000000000 THEN " +
         "CAST(round(" + col + " * 1000) AS INTEGER) ELSE " + Ms(col) + " END)";
}

Result<std::set<std::string>> SourceColumns(Database& db, const std::string& table) {
  std::set<std::string> out;
  VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db,
      "SELECT name FROM pragma_table_info(?)"));
  st.Bind(1, std::string_view(table));
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.insert(st.ColumnText(0));
  }
  return out;
}

// INSERT INTO table (cols present in the source) SELECT converted cols FROM vk_ref_table.
Status CopyTable(Database& db, const std::string& table, const std::vector<Column>& columns) {
  const std::string src = "vk_ref_" + table;
  VK_ASSIGN_OR_RETURN(std::set<std::string> have, SourceColumns(db, src));
  if (have.empty()) return Status::Ok();  // the reference file did not have this table
  std::string names;
  std::string values;
  for (const Column& c : columns) {
    if (have.count(c.name) == 0) continue;
    std::string expr;
    const std::string col = std::string("\"") + c.name + "\"";
    switch (c.kind) {
      case Kind::kCopy: expr = col; break;
      case Kind::kMs: expr = Ms(col); break;
      case Kind::kPrompt: expr = "nullif(" + col + ", '')"; break;
      case Kind::kSecondsOrMs:
        expr = SecondsOrMs(col);
        if (c.own_time != nullptr && have.count(c.own_time) > 0) {
          const std::string own = Ms(std::string("\"") + c.own_time + "\"");
          expr = "(CASE WHEN " + expr + " IS NULL OR " + expr + " < " + own + " THEN " + own +
                 " ELSE " + expr + " END)";
        }
        break;
    }
    if (!names.empty()) {
      names += ", ";
      values += ", ";
    }
    names += col;
    values += expr;
  }
  return db.Exec("INSERT INTO " + table + " (" + names + ") SELECT " + values + " FROM " + src +
                 " ORDER BY rowid")
      .WithContext("copy " + table + " from the reference database");
}

}  // namespace

Result<bool> IsReferenceDatabase(Database& db) {
  Result<std::string> type = db.QueryText(
      "SELECT upper(type) FROM pragma_table_info('telemetry_events') WHERE name = 'timestamp'");
  if (!type.ok()) return type.status();
  if (type->compare("REAL") != 0) return false;
  VK_ASSIGN_OR_RETURN(std::int64_t ours,
                      db.QueryInt("SELECT count(*) FROM sqlite_master WHERE name IN "
                                  "('telemetry_events_fts', 'telemetry_text_index')"));
  return ours == 0;
}

Status ImportReferenceTables(Database& db, std::int64_t now_ms) {
  // Indexes, triggers and views of the old tables would keep our names taken.
  std::vector<std::string> drops;
  {
    VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db,
        "SELECT type, name FROM sqlite_master WHERE type IN ('index', 'trigger', 'view') "
        "AND sql IS NOT NULL"));
    while (true) {
      VK_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      drops.push_back("DROP " + st.ColumnText(0) + " IF EXISTS \"" + st.ColumnText(1) + "\"");
    }
  }
  for (const std::string& d : drops) VK_RETURN_IF_ERROR(db.Exec(d));
  std::string versions_json = "[]";
  for (const char* t : kTables) {
    VK_ASSIGN_OR_RETURN(std::int64_t has,
                        db.QueryInt(std::string("SELECT count(*) FROM sqlite_master WHERE "
                                                "type = 'table' AND name = '") + t + "'"));
    if (has == 0) continue;
    if (std::string(t) == "telemetry_schema_versions") {
      VK_ASSIGN_OR_RETURN(versions_json, db.QueryText(
          "SELECT json_group_array(json_object('version', version, 'description', description)) "
          "FROM telemetry_schema_versions"));
    }
    VK_RETURN_IF_ERROR(
        db.Exec(std::string("ALTER TABLE ") + t + " RENAME TO vk_ref_" + t));
  }
  const Migration& first = Migrations().front();
  VK_RETURN_IF_ERROR(db.Exec(first.script).WithContext("create tables for the reference import"));

  VK_RETURN_IF_ERROR(CopyTable(db, "telemetry_sessions", {
      {"id", Kind::kCopy}, {"agent_type", Kind::kCopy}, {"mode", Kind::kCopy},
      {"status", Kind::kCopy}, {"start_time", Kind::kMs}, {"end_time", Kind::kMs},
      {"duration", Kind::kMs}, {"event_count", Kind::kCopy},
      {"stream_event_count", Kind::kCopy}, {"error_count", Kind::kCopy},
      {"sandbox_id", Kind::kCopy}, {"repo_url", Kind::kCopy}, {"metadata", Kind::kCopy},
      {"created_at", Kind::kSecondsOrMs, "start_time"},
      {"updated_at", Kind::kSecondsOrMs, "start_time"}, {"version", Kind::kCopy},
      {"schema_version", Kind::kCopy}}));
  VK_RETURN_IF_ERROR(CopyTable(db, "telemetry_events", {
      {"id", Kind::kCopy}, {"session_id", Kind::kCopy}, {"event_type", Kind::kCopy},
      {"agent_type", Kind::kCopy}, {"mode", Kind::kCopy}, {"prompt", Kind::kPrompt},
      {"stream_data", Kind::kCopy}, {"sandbox_id", Kind::kCopy}, {"repo_url", Kind::kCopy},
      {"metadata", Kind::kCopy}, {"timestamp", Kind::kMs},
      {"created_at", Kind::kSecondsOrMs, "timestamp"}, {"version", Kind::kCopy},
      {"schema_version", Kind::kCopy}}));
  VK_RETURN_IF_ERROR(CopyTable(db, "telemetry_errors", {
      {"id", Kind::kCopy}, {"session_id", Kind::kCopy}, {"event_id", Kind::kCopy},
      {"error_type", Kind::kCopy}, {"error_message", Kind::kCopy}, {"error_stack", Kind::kCopy},
      {"context", Kind::kCopy}, {"severity", Kind::kCopy}, {"resolved", Kind::kCopy},
      {"metadata", Kind::kCopy}, {"timestamp", Kind::kMs},
      {"created_at", Kind::kSecondsOrMs, "timestamp"}, {"resolved_at", Kind::kMs},
      {"resolved_by", Kind::kCopy}, {"version", Kind::kCopy}, {"schema_version", Kind::kCopy}}));
  VK_RETURN_IF_ERROR(CopyTable(db, "telemetry_buffers", {
      {"id", Kind::kCopy}, {"session_id", Kind::kCopy}, {"status", Kind::kCopy},
      {"event_count", Kind::kCopy}, {"buffer_data", Kind::kCopy}, {"max_size", Kind::kCopy},
      {"created_at", Kind::kSecondsOrMs}, {"last_updated", Kind::kSecondsOrMs},
      {"flushed_at", Kind::kSecondsOrMs}, {"flush_attempts", Kind::kCopy},
      {"version", Kind::kCopy}, {"schema_version", Kind::kCopy}}));
  VK_RETURN_IF_ERROR(CopyTable(db, "telemetry_audit_log", {
      {"id", Kind::kCopy}, {"table_name", Kind::kCopy}, {"record_id", Kind::kCopy},
      {"operation", Kind::kCopy}, {"old_values", Kind::kCopy}, {"new_values", Kind::kCopy},
      {"changed_fields", Kind::kCopy}, {"user_id", Kind::kCopy}, {"session_id", Kind::kCopy},
      {"reason", Kind::kCopy}, {"metadata", Kind::kCopy}, {"timestamp", Kind::kMs},
      {"created_at", Kind::kSecondsOrMs, "timestamp"}}));
  VK_RETURN_IF_ERROR(CopyTable(db, "telemetry_validation_rules", {
      {"id", Kind::kCopy}, {"table_name", Kind::kCopy}, {"field_name", Kind::kCopy},
      {"rule_type", Kind::kCopy}, {"rule_config", Kind::kCopy}, {"error_message", Kind::kCopy},
      {"is_active", Kind::kCopy}, {"priority", Kind::kCopy},
      {"created_at", Kind::kSecondsOrMs}, {"updated_at", Kind::kSecondsOrMs}}));

  std::string meta = "{\"sessions\":";
  VK_ASSIGN_OR_RETURN(std::int64_t sessions, db.QueryInt("SELECT count(*) FROM telemetry_sessions"));
  VK_ASSIGN_OR_RETURN(std::int64_t events, db.QueryInt("SELECT count(*) FROM telemetry_events"));
  VK_ASSIGN_OR_RETURN(std::int64_t errors, db.QueryInt("SELECT count(*) FROM telemetry_errors"));
  meta += std::to_string(sessions) + ",\"events\":" + std::to_string(events) +
          ",\"errors\":" + std::to_string(errors) + "}";
  // Children before parents: dropping a parent runs an implicit DELETE checked by foreign keys.
  for (const char* t : {"telemetry_errors", "telemetry_events", "telemetry_sessions",
                        "telemetry_buffers", "telemetry_stats", "telemetry_audit_log",
                        "telemetry_validation_rules", "telemetry_schema_versions"}) {
    VK_RETURN_IF_ERROR(db.Exec(std::string("DROP TABLE IF EXISTS vk_ref_") + t));
  }
  VK_ASSIGN_OR_RETURN(Statement audit, Statement::Prepare(db,
      "INSERT INTO telemetry_audit_log (table_name, record_id, operation, old_values, "
      "new_values, changed_fields, reason, metadata, timestamp, created_at) VALUES "
      "('telemetry_schema_versions', 'reference', 'UPDATE', ?1, ?2, '[\"version\"]', "
      "'database of the reference implementation migrated in (timestamps to INTEGER ms, "
      "created_at seconds and frozen constants fixed, empty prompts to NULL)', ?3, ?4, ?4)"));
  audit.Bind(1, std::string_view(versions_json));
  const std::string new_values =
      std::string("{\"version\":\"") + std::string(first.version) + "\"}";
  audit.Bind(2, std::string_view(new_values));
  audit.Bind(3, std::string_view(meta));
  audit.Bind(4, now_ms);
  return audit.Run();
}

Status FinishReferenceImport(Database& db, std::int64_t now_ms) {
  VK_RETURN_IF_ERROR(db.Exec(
      "UPDATE telemetry_sessions SET "
      "event_count = (SELECT count(*) FROM telemetry_events e WHERE e.session_id = "
      "telemetry_sessions.id), "
      "stream_event_count = (SELECT count(*) FROM telemetry_events e WHERE e.session_id = "
      "telemetry_sessions.id AND e.event_type = 'stream'), "
      "error_count = (SELECT count(*) FROM telemetry_events e WHERE e.session_id = "
      "telemetry_sessions.id AND e.event_type = 'error'), "
      "last_event_time = max(coalesce(end_time, start_time), coalesce((SELECT max(timestamp) "
      "FROM telemetry_events e WHERE e.session_id = telemetry_sessions.id), start_time))")
      .WithContext("session counters of the reference import"));
  VK_RETURN_IF_ERROR(ComputeExpectedStats(db));
  return ReplaceStatsWithExpected(db, now_ms);
}

}  // namespace vibekit::store::sqlite
