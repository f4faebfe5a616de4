#include "store/sqlite/sqlite_integrity.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <exception>
#include <string>

#include "store/sqlite/database.h"
#include "store/sqlite/minute_rollup_sql.h"
#include "store/sqlite/reference_import.h"
#include "store/sqlite/schema.h"
#include "store/integrity_sql.h"
#include "store/sqlite/stats_sql.h"
#include "store/store.h"
#include "store/validation_rules_sql.h"

namespace vibekit::store::sqlite {
namespace {

constexpr const char* kSessionCountersJson =
    "SELECT json_object('event_count', event_count, 'stream_event_count', stream_event_count, "
    "'error_count', error_count) FROM telemetry_sessions WHERE id = ?1";

const Migration* FindMigration(std::string_view version) {
  for (const Migration& m : Migrations()) {
    if (m.version == version) return &m;
  }
  return nullptr;
}

class SqliteIntegrity final : public IntegrityBackend {
 public:
  explicit SqliteIntegrity(std::unique_ptr<Database> db) : db_(std::move(db)) {}

  Result<bool> HasTable(std::string_view name) override {
    VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(*db_,
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"));
    st.Bind(1, name);
    VK_ASSIGN_OR_RETURN(bool row, st.Step());
    return row && st.ColumnInt(0) > 0;
  }

  Status InTransaction(const std::function<Status()>& body) override {
    Transaction txn(*db_);
    VK_RETURN_IF_ERROR(txn.Begin());
    VK_RETURN_IF_ERROR(body());
    return txn.Commit();
  }

  Result<std::vector<AuditRow>> ReadAudit(const AuditFilter& q) override {
    VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(*db_,
        "SELECT id, table_name, coalesce(record_id, ''), operation, old_values, new_values, "
        "changed_fields, coalesce(reason, ''), metadata, timestamp FROM telemetry_audit_log "
        "WHERE (?1 = '' OR table_name = ?1) "
        "AND (?2 IS NULL OR record_id = ?2 OR (record_id IS NULL AND json_valid(old_values) "
        "AND json_type(old_values) = 'array' AND EXISTS (SELECT 1 FROM json_each(old_values) j "
        "WHERE j.value = ?2))) "
        "AND (?3 IS NULL OR timestamp >= ?3) AND (?4 IS NULL OR timestamp <= ?4) "
        "ORDER BY timestamp, id LIMIT ?5"));
    st.Bind(1, std::string_view(q.table));
    st.Bind(2, q.record_id);
    st.Bind(3, q.since_ms);
    st.Bind(4, q.until_ms);
    st.Bind(5, q.limit);
    std::vector<AuditRow> out;
    while (true) {
      VK_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      AuditRow e;
      e.id = st.ColumnInt(0);
      e.table_name = st.ColumnText(1);
      e.record_id = st.ColumnText(2);
      e.operation = st.ColumnText(3);
      e.old_values = st.ColumnOptText(4);
      e.new_values = st.ColumnOptText(5);
      e.changed_fields = st.ColumnOptText(6);
      e.reason = st.ColumnText(7);
      e.metadata = st.ColumnOptText(8);
      e.timestamp = st.ColumnInt(9);
      out.push_back(std::move(e));
    }
    return out;
  }

  Status WriteAudit(const AuditWrite& w) override {
    VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(*db_,
        "INSERT INTO telemetry_audit_log (table_name, record_id, operation, old_values, "
        "new_values, changed_fields, reason, metadata, timestamp, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"));
    auto bind_opt = [&st](int i, std::string_view v) {
      if (v.empty()) {
        st.BindNull(i);
      } else {
        st.Bind(i, v);
      }
    };
    st.Bind(1, w.table);
    bind_opt(2, w.record_id);
    st.Bind(3, w.operation);
    bind_opt(4, w.old_values);
    bind_opt(5, w.new_values);
    bind_opt(6, w.changed_fields);
    bind_opt(7, w.reason);
    bind_opt(8, w.metadata);
    st.Bind(9, w.now_ms);
    return st.Run().WithContext("write audit row");
  }

  const std::vector<MigrationInfo>& Migrations() const override {
    static const std::vector<MigrationInfo> infos = [] {
      std::vector<MigrationInfo> out;
      for (const Migration& m : sqlite::Migrations()) {
        out.push_back({std::string(m.version), std::string(m.description)});
      }
      return out;
    }();
    return infos;
  }

  Result<std::vector<std::pair<std::string, std::string>>> RecordedVersions() override {
    std::vector<std::pair<std::string, std::string>> out;
    VK_ASSIGN_OR_RETURN(bool has, HasTable("telemetry_schema_versions"));
    if (!has) return out;
    VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(*db_,
        "SELECT version, coalesce(rollback_script, '') FROM telemetry_schema_versions"));
    while (true) {
      VK_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.emplace_back(st.ColumnText(0), st.ColumnText(1));
    }
    return out;
  }

  Result<std::vector<SchemaVersion>> SchemaVersions() override {
    std::vector<SchemaVersion> out;
    VK_ASSIGN_OR_RETURN(bool has, HasTable("telemetry_schema_versions"));
    if (!has) return out;
    VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(*db_,
        "SELECT version, coalesce(description, ''), applied_at, is_active "
        "FROM telemetry_schema_versions"));
    while (true) {
      VK_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back({st.ColumnText(0), st.ColumnText(1), st.ColumnInt(2), st.ColumnInt(3) != 0});
    }
    return out;
  }

  Status ApplyMigration(std::string_view version, std::int64_t now_ms) override {
    const Migration* m = FindMigration(version);
    if (m == nullptr) return Status::InvalidArgument("unknown migration " + std::string(version));
    return sqlite::ApplyMigration(*db_, *m, now_ms);
  }

  Status RollBackMigration(std::string_view version) override {
    const Migration* m = FindMigration(version);
    if (m == nullptr) return Status::InvalidArgument("unknown migration " + std::string(version));
    return db_->Exec(m->rollback_script);
  }

  Status ExecScriptChecked(std::string_view script) override {
    const char* tail = script.data();
    const char* end = script.data() + script.size();
    while (tail < end) {
      sqlite3_stmt* raw = nullptr;
      const char* next = nullptr;
      const int rc =
          sqlite3_prepare_v2(db_->handle(), tail, static_cast<int>(end - tail), &raw, &next);
      if (rc != SQLITE_OK) {
        return StatusFromSqlite(rc, db_->handle(), "script")
            .WithContext("statement \"" +
                         std::string(tail, std::min<std::size_t>(end - tail, 80)) + "\"");
      }
      std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, &sqlite3_finalize);
      const std::string_view text(tail, static_cast<std::size_t>(next - tail));
      tail = next;
      if (!stmt) continue;  // only blanks or comments
      if (const std::string kw = TransactionControlKeyword(text); !kw.empty()) {
        return TransactionControlError(kw);
      }
      int step;
      while ((step = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      }
      if (step != SQLITE_DONE) {
        return StatusFromSqlite(step, db_->handle(), "script")
            .WithContext("statement \"" + std::string(text.substr(0, 120)) + "\"");
      }
    }
    return Status::Ok();
  }

  Status RecordVersion(std::string_view version, std::string_view description,
                       std::string_view script, std::string_view rollback_script,
                       std::int64_t now_ms) override {
    VK_ASSIGN_OR_RETURN(Statement ins, Statement::Prepare(*db_,
        "INSERT INTO telemetry_schema_versions (version, description, migration_script, "
        "rollback_script, applied_at, is_active) VALUES (?, ?, ?, ?, ?, 1)"));
    ins.Bind(1, version);
    ins.Bind(2, description);
    ins.Bind(3, script);
    ins.Bind(4, rollback_script);
    ins.Bind(5, now_ms);
    return ins.Run();
  }

  Status DeleteVersion(std::string_view version) override {
    VK_ASSIGN_OR_RETURN(Statement del, Statement::Prepare(*db_,
        "DELETE FROM telemetry_schema_versions WHERE version = ?"));
    del.Bind(1, version);
    return del.Run();
  }

  Result<bool> IsReferenceDatabase() override { return sqlite::IsReferenceDatabase(*db_); }

  Status MigrateReference(std::int64_t now_ms) override {
    VK_RETURN_IF_ERROR(Migrate(*db_, now_ms));
    return sqlite::RebuildMissingRollups(*db_);
  }

  Status RebuildMissingRollups() override { return sqlite::RebuildMissingRollups(*db_); }

  Result<std::vector<std::string>> IntegrityProblems() override {
    std::vector<std::string> out;
    VK_RETURN_IF_ERROR(Collect("PRAGMA integrity_check(100)", [&](const Statement& st) {
      const std::string msg = st.ColumnText(0);
      if (msg != "ok") out.push_back(msg);
    }));
    return out;
  }

  Result<std::vector<ForeignKeyRow>> ForeignKeyViolations(int limit) override {
    std::vector<ForeignKeyRow> out;
    VK_RETURN_IF_ERROR(Collect("PRAGMA foreign_key_check", [&](const Statement& st) {
      if (static_cast<int>(out.size()) >= limit) return;
      out.push_back({st.ColumnText(0), Text(st, 1), st.ColumnText(2)});
    }));
    return out;
  }

  Result<std::vector<OrphanedEventsRow>> OrphanedEvents(int limit) override {
    std::vector<OrphanedEventsRow> out;
    VK_RETURN_IF_ERROR(Collect(
        std::string(kOrphanedEventsSql) + " LIMIT " + std::to_string(limit),
        [&](const Statement& st) {
          out.push_back({st.ColumnText(0), st.ColumnInt(1), st.ColumnInt(2), st.ColumnInt(3)});
        }));
    return out;
  }

  Result<std::vector<OrphanedErrorRow>> ErrorsWithMissingEvent(int limit) override {
    return OrphanedErrors(kErrorsWithMissingEventSql, limit);
  }

  Result<std::vector<OrphanedErrorRow>> ErrorsWithMissingSession(int limit) override {
    return OrphanedErrors(kErrorsWithMissingSessionSql, limit);
  }

  Result<std::vector<CounterRow>> SessionCounterMismatches(int limit) override {
    std::vector<CounterRow> out;
    VK_RETURN_IF_ERROR(Collect(
        "SELECT s.id, s.event_count, s.stream_event_count, s.error_count, coalesce(c.n, 0), "
        "coalesce(c.streams, 0), coalesce(c.errors, 0) FROM telemetry_sessions s LEFT JOIN "
        "(SELECT session_id, count(*) AS n, sum(event_type = 'stream') AS streams, "
        "sum(event_type = 'error') AS errors FROM telemetry_events GROUP BY session_id) c "
        "ON c.session_id = s.id WHERE s.event_count IS NOT coalesce(c.n, 0) OR "
        "s.stream_event_count IS NOT coalesce(c.streams, 0) OR "
        "s.error_count IS NOT coalesce(c.errors, 0) ORDER BY 1 LIMIT " + std::to_string(limit),
        [&](const Statement& st) {
          CounterRow r;
          r.session_id = st.ColumnText(0);
          for (int i = 0; i < 3; ++i) {
            r.stored[i] = st.ColumnOptInt(1 + i);
            r.actual[i] = st.ColumnInt(4 + i);
          }
          out.push_back(std::move(r));
        }));
    return out;
  }

  Result<std::vector<StatsDiffRow>> StatsDifferences() override {
    VK_RETURN_IF_ERROR(ComputeExpectedStats(*db_).WithContext("expected statistics"));
    std::vector<StatsDiffRow> out;
    VK_RETURN_IF_ERROR(Collect(StatsDiffSql("json_object"), [&](const Statement& st) {
      out.push_back({st.ColumnText(0), st.ColumnText(1), st.ColumnOptText(2),
                     st.ColumnOptText(3)});
    }));
    return out;
  }

  Result<RollupTotals> ReadRollupTotals() override {
    RollupTotals t;
    VK_RETURN_IF_ERROR(Collect(kRollupTotalsSql, [&](const Statement& st) {
          t = {st.ColumnInt(0), st.ColumnInt(1), st.ColumnInt(2), st.ColumnInt(3)};
        }));
    return t;
  }

  Status RebuildIndexes() override { return db_->Exec("REINDEX"); }

  Result<std::string> RecreateSession(std::string_view id, std::int64_t now_ms) override {
    VK_ASSIGN_OR_RETURN(Statement ins, Statement::Prepare(*db_,
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
    ins.Bind(1, id);
    ins.Bind(2, now_ms);
    VK_RETURN_IF_ERROR(ins.Run());
    return QueryJson(
        "SELECT json_object('id', id, 'agent_type', agent_type, 'mode', mode, 'status', "
        "status, 'start_time', start_time, 'end_time', end_time, 'event_count', event_count) "
        "FROM telemetry_sessions WHERE id = ?1",
        id);
  }

  Result<std::string> ClearErrorEvent(std::string_view error_id) override {
    VK_ASSIGN_OR_RETURN(std::string old_v, QueryJson(
        "SELECT json_object('event_id', event_id) FROM telemetry_errors WHERE id = ?1",
        error_id));
    VK_RETURN_IF_ERROR(RunWithId("UPDATE telemetry_errors SET event_id = NULL WHERE id = ?1",
                                 error_id));
    return old_v;
  }

  Result<std::string> ClearErrorSession(std::string_view error_id) override {
    VK_ASSIGN_OR_RETURN(std::string old_v, QueryJson(
        "SELECT json_object('session_id', session_id) FROM telemetry_errors WHERE id = ?1 "
        "AND NOT EXISTS (SELECT 1 FROM telemetry_sessions s WHERE s.id = "
        "telemetry_errors.session_id)", error_id));
    if (old_v.empty()) return old_v;
    VK_RETURN_IF_ERROR(RunWithId("UPDATE telemetry_errors SET session_id = NULL WHERE id = ?1",
                                 error_id));
    return old_v;
  }

  Status DeleteRow(std::string_view table, std::string_view record_id) override {
    VK_ASSIGN_OR_RETURN(Statement del, Statement::Prepare(*db_,
        "DELETE FROM \"" + std::string(table) + "\" WHERE rowid = ?1"));
    del.Bind(1, static_cast<std::int64_t>(std::stoll(std::string(record_id))));
    return del.Run();
  }

  Result<std::pair<std::string, std::string>> ResetSessionCounters(
      std::string_view id, std::int64_t now_ms) override {
    VK_ASSIGN_OR_RETURN(std::string old_v, QueryJson(kSessionCountersJson, id));
    VK_ASSIGN_OR_RETURN(Statement up, Statement::Prepare(*db_,
        "UPDATE telemetry_sessions SET "
        "event_count = (SELECT count(*) FROM telemetry_events WHERE session_id = ?1), "
        "stream_event_count = (SELECT count(*) FROM telemetry_events WHERE session_id = ?1 "
        "AND event_type = 'stream'), "
        "error_count = (SELECT count(*) FROM telemetry_events WHERE session_id = ?1 "
        "AND event_type = 'error'), updated_at = ?2 WHERE id = ?1"));
    up.Bind(1, id);
    up.Bind(2, now_ms);
    VK_RETURN_IF_ERROR(up.Run());
    VK_ASSIGN_OR_RETURN(std::string new_v, QueryJson(kSessionCountersJson, id));
    return std::make_pair(std::move(old_v), std::move(new_v));
  }

  Status ReplaceStats(std::int64_t now_ms) override {
    VK_RETURN_IF_ERROR(ComputeExpectedStats(*db_).WithContext("expected statistics"));
    return ReplaceStatsWithExpected(*db_, now_ms);
  }

  Result<std::pair<std::int64_t, std::int64_t>> RebuildRollups() override {
    constexpr std::string_view kSum =
        "SELECT coalesce(sum(events), 0) FROM telemetry_minute_rollups";
    VK_ASSIGN_OR_RETURN(std::int64_t before, db_->QueryInt(kSum));
    VK_RETURN_IF_ERROR(RebuildMinuteRollups(*db_));
    VK_ASSIGN_OR_RETURN(std::int64_t after, db_->QueryInt(kSum));
    return std::make_pair(before, after);
  }

  Result<std::int64_t> InsertRule(const ValidationRule& rule, std::int64_t now_ms) override {
    VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(*db_,
        "INSERT INTO telemetry_validation_rules (table_name, field_name, rule_type, rule_config, "
        "error_message, is_active, priority, created_at, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"));
    st.Bind(1, std::string_view(rule.table_name));
    st.Bind(2, std::string_view(rule.field_name));
    st.Bind(3, ValidationRuleTypeName(rule.rule_type));
    if (rule.rule_config.empty()) {
      st.BindNull(4);
    } else {
      st.Bind(4, std::string_view(rule.rule_config));
    }
    if (rule.error_message.empty()) {
      st.BindNull(5);
    } else {
      st.Bind(5, std::string_view(rule.error_message));
    }
    st.Bind(6, rule.is_active ? 1 : 0);
    st.Bind(7, rule.priority);
    st.Bind(8, now_ms);
    VK_RETURN_IF_ERROR(st.Run());
    return db_->LastInsertRowId();
  }

  Result<std::vector<ValidationRule>> ReadRules() override {
    VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(*db_, kValidationRulesQuery));
    std::vector<ValidationRule> out;
    while (true) {
      VK_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back(ValidationRuleFromRow(st.ColumnInt(0), st.ColumnText(1), st.ColumnText(2),
                                          st.ColumnText(3), st.ColumnText(4), st.ColumnText(5),
                                          st.ColumnInt(6) != 0, st.ColumnInt(7), st.ColumnInt(8),
                                          st.ColumnInt(9)));
    }
    return out;
  }

  Result<std::int64_t> SetRuleActive(std::int64_t id, bool active, std::int64_t now_ms) override {
    VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(*db_,
        "UPDATE telemetry_validation_rules SET is_active = ?2, updated_at = ?3 WHERE id = ?1"));
    st.Bind(1, id);
    st.Bind(2, active ? 1 : 0);
    st.Bind(3, now_ms);
    VK_RETURN_IF_ERROR(st.Run());
    return static_cast<std::int64_t>(db_->Changes());
  }

  Result<std::int64_t> DeleteRule(std::int64_t id) override {
    VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(*db_,
        "DELETE FROM telemetry_validation_rules WHERE id = ?1"));
    st.Bind(1, id);
    VK_RETURN_IF_ERROR(st.Run());
    return static_cast<std::int64_t>(db_->Changes());
  }

 private:
  static std::string Text(const Statement& st, int col) {
    return st.IsNull(col) ? std::string("null") : st.ColumnText(col);
  }

  Status Collect(const std::string& sql, const std::function<void(const Statement&)>& each) {
    VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(*db_, sql));
    while (true) {
      VK_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      each(st);
    }
    return Status::Ok();
  }

  Result<std::vector<OrphanedErrorRow>> OrphanedErrors(const std::string& sql, int limit) {
    std::vector<OrphanedErrorRow> out;
    VK_RETURN_IF_ERROR(Collect(sql + " LIMIT " + std::to_string(limit), [&](const Statement& st) {
      out.push_back({st.ColumnText(0), st.ColumnText(1)});
    }));
    return out;
  }

  Result<std::string> QueryJson(const std::string& sql, std::string_view bind) {
    VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(*db_, sql));
    st.Bind(1, bind);
    VK_ASSIGN_OR_RETURN(bool row, st.Step());
    return row && !st.IsNull(0) ? st.ColumnText(0) : std::string();
  }

  Status RunWithId(const std::string& sql, std::string_view id) {
    VK_ASSIGN_OR_RETURN(Statement up, Statement::Prepare(*db_, sql));
    up.Bind(1, id);
    return up.Run();
  }

  std::unique_ptr<Database> db_;
};

}  // namespace

Result<std::unique_ptr<IntegrityBackend>> OpenSqliteIntegrity(const LocalStoreConfig& config) {
  const std::string& path = config.db_path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Status::NotFound("no database at " + path + " (create one with `vibekit db init`)");
  }
  OpenOptions options;
  options.create = false;
  options.busy_timeout_ms = config.busy_timeout_ms;
  VK_ASSIGN_OR_RETURN(auto db, Database::Open(path, options));
  VK_RETURN_IF_ERROR(ConfigureConnection(*db, /*writer=*/true, config));
  VK_RETURN_IF_ERROR(db->Exec("SELECT count(*) FROM sqlite_master")
                         .WithContext("\"" + path + "\" is not a usable SQLite database"));
  return std::unique_ptr<IntegrityBackend>(new SqliteIntegrity(std::move(db)));
}

}  // namespace vibekit::store::sqlite
