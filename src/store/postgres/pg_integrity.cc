#include "store/postgres/pg_integrity.h"

#include <boost/json.hpp>
#include <cctype>
#include <exception>
#include <string>

#include "store/postgres/pg_conn.h"
#include "store/postgres/pg_minute_rollup.h"
#include "store/integrity_sql.h"
#include "store/postgres/pg_rules.h"
#include "store/postgres/pg_schema.h"
#include "store/stats_expected.h"
#include "store/store.h"
#include "store/validation_rules_sql.h"

namespace vibekit::store::postgres {
namespace {

// The JSON text PostgreSQL's json_build_object writes ({"k" : v, ...}) in the compact form
// SQLite's json_object writes ({"k":v,...}); anything that is not JSON is returned as it is.
std::string CompactJson(std::string text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  return ec ? text : boost::json::serialize(v);
}

std::optional<std::string> CompactJson(std::optional<std::string> text) {
  if (!text) return text;
  return CompactJson(std::move(*text));
}

const PgMigration* FindMigration(std::string_view version) {
  for (const PgMigration& m : PgMigrations()) {
    if (m.version == version) return &m;
  }
  return nullptr;
}

constexpr const char* kSessionCountersJson =
    "SELECT json_build_object('event_count', event_count, 'stream_event_count', "
    "stream_event_count, 'error_count', error_count)::text FROM telemetry_sessions "
    "WHERE id = $1";

// No JIT on the connection: the checks' plans over freshly made temporary tables (no statistics
// yet) are costed high enough to be compiled, which took 4.6 s for a statement that runs in
// 1.6 ms without (measured, 6 sessions).
Status Configure(PgConn& conn) { return conn.Exec("SET jit = off"); }

Status Reconnect(PgConn& conn) {
  VK_RETURN_IF_ERROR(conn.Reset());
  return Configure(conn);
}

class PgIntegrity final : public IntegrityBackend {
 public:
  explicit PgIntegrity(std::unique_ptr<PgConn> conn) : db_(std::move(conn)) {}

  Result<bool> HasTable(std::string_view name) override {
    VK_ASSIGN_OR_RETURN(PgResult r, db_->Query(
        "SELECT count(*) FROM pg_tables WHERE tablename = $1 AND "
        "schemaname = ANY (current_schemas(false))",
        PgParams().Add(name)));
    return r.Int(0, 0) > 0;
  }

  Status InTransaction(const std::function<Status()>& body) override {
    if (!db_->healthy()) VK_RETURN_IF_ERROR(Reconnect(*db_));
    VK_RETURN_IF_ERROR(db_->Exec("BEGIN"));
    Status st = db_->Query("SELECT pg_advisory_xact_lock($1)", PgParams().Add(kWriterLockKey))
                    .status();
    if (st.ok()) st = body();
    if (st.ok()) st = db_->Exec("COMMIT").WithContext("commit");
    if (!st.ok() && db_->healthy()) (void)db_->Exec("ROLLBACK");
    return st;
  }

  Result<std::vector<AuditRow>> ReadAudit(const AuditFilter& q) override {
    // Purge rows (record_id NULL) list their ids as a JSON array of strings in old_values.
    VK_ASSIGN_OR_RETURN(PgResult r, db_->Query(
        "SELECT id, table_name, coalesce(record_id, ''), operation, old_values, new_values, "
        "changed_fields, coalesce(reason, ''), metadata, timestamp FROM telemetry_audit_log "
        "WHERE ($1 = '' OR table_name = $1) "
        "AND ($2::text IS NULL OR record_id = $2 OR CASE WHEN record_id IS NULL AND "
        "left(old_values, 1) = '[' THEN jsonb_exists(old_values::jsonb, $2) ELSE false END) "
        "AND ($3::bigint IS NULL OR timestamp >= $3) AND ($4::bigint IS NULL OR timestamp <= $4) "
        "ORDER BY timestamp, id LIMIT $5",
        PgParams().Add(q.table).Add(q.record_id).Add(q.since_ms).Add(q.until_ms).Add(q.limit)));
    std::vector<AuditRow> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      AuditRow e;
      e.id = r.Int(i, 0);
      e.table_name = r.Text(i, 1);
      e.record_id = r.Text(i, 2);
      e.operation = r.Text(i, 3);
      e.old_values = CompactJson(r.OptText(i, 4));
      e.new_values = CompactJson(r.OptText(i, 5));
      e.changed_fields = CompactJson(r.OptText(i, 6));
      e.reason = r.Text(i, 7);
      e.metadata = CompactJson(r.OptText(i, 8));
      e.timestamp = r.Int(i, 9);
      out.push_back(std::move(e));
    }
    return out;
  }

  Status WriteAudit(const AuditWrite& w) override {
    auto opt = [](std::string_view v) {
      return v.empty() ? std::optional<std::string>() : std::optional<std::string>(v);
    };
    return db_->Query(
        "INSERT INTO telemetry_audit_log (table_name, record_id, operation, old_values, "
        "new_values, changed_fields, reason, metadata, timestamp, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        PgParams().Add(w.table).Add(opt(w.record_id)).Add(w.operation).Add(opt(w.old_values))
            .Add(opt(w.new_values)).Add(opt(w.changed_fields)).Add(opt(w.reason))
            .Add(opt(w.metadata)).Add(w.now_ms))
        .status()
        .WithContext("write audit row");
  }

  const std::vector<MigrationInfo>& Migrations() const override {
    static const std::vector<MigrationInfo> infos = [] {
      std::vector<MigrationInfo> out;
      for (const PgMigration& m : PgMigrations()) {
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
    VK_ASSIGN_OR_RETURN(PgResult r, db_->QueryOnce(
        "SELECT version, coalesce(rollback_script, '') FROM telemetry_schema_versions"));
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.Text(i, 0), r.Text(i, 1));
    return out;
  }

  Result<std::vector<SchemaVersion>> SchemaVersions() override {
    std::vector<SchemaVersion> out;
    VK_ASSIGN_OR_RETURN(bool has, HasTable("telemetry_schema_versions"));
    if (!has) return out;
    VK_ASSIGN_OR_RETURN(PgResult r, db_->QueryOnce(
        "SELECT version, coalesce(description, ''), applied_at, is_active "
        "FROM telemetry_schema_versions"));
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back({r.Text(i, 0), r.Text(i, 1), r.Int(i, 2), r.Int(i, 3) != 0});
    }
    return out;
  }

  Status ApplyMigration(std::string_view version, std::int64_t now_ms) override {
    const PgMigration* m = FindMigration(version);
    if (m == nullptr) return Status::InvalidArgument("unknown migration " + std::string(version));
    return ApplyPgMigration(*db_, *m, now_ms);
  }

  Status RollBackMigration(std::string_view version) override {
    const PgMigration* m = FindMigration(version);
    if (m == nullptr) return Status::InvalidArgument("unknown migration " + std::string(version));
    if (m->rollback_script.find_first_not_of(" \t\r\n;") == std::string_view::npos) {
      return Status::Ok();  // nothing to undo (1.7.0's rules stay: they are data)
    }
    return db_->Exec(m->rollback_script);
  }

  Status ExecScriptChecked(std::string_view script) override {
    const std::vector<std::string> statements = SplitSqlStatements(script);
    for (const std::string& s : statements) {
      if (const std::string kw = TransactionControlKeyword(s); !kw.empty()) {
        return TransactionControlError(kw);
      }
    }
    for (const std::string& s : statements) {
      VK_RETURN_IF_ERROR(db_->Exec(s).WithContext("statement \"" + s.substr(0, 120) + "\""));
    }
    return Status::Ok();
  }

  Status RecordVersion(std::string_view version, std::string_view description,
                       std::string_view script, std::string_view rollback_script,
                       std::int64_t now_ms) override {
    return db_->Query(
        "INSERT INTO telemetry_schema_versions (version, description, migration_script, "
        "rollback_script, applied_at, is_active) VALUES ($1, $2, $3, $4, $5, 1)",
        PgParams().Add(version).Add(description).Add(script).Add(rollback_script).Add(now_ms))
        .status();
  }

  Status DeleteVersion(std::string_view version) override {
    return db_->Query("DELETE FROM telemetry_schema_versions WHERE version = $1",
                      PgParams().Add(version))
        .status();
  }

  Result<bool> IsReferenceDatabase() override { return false; }

  Status MigrateReference(std::int64_t) override {
    return Status::FailedPrecondition(
        "the reference implementation's databases are SQLite files, not PostgreSQL");
  }

  Status RebuildMissingRollups() override {
    // Events whose rollups are missing (a database from before 1.3.0 / 1.5.0): every level is
    // rebuilt once, as PgStore::Open does for the minute rows.
    VK_ASSIGN_OR_RETURN(bool minutes, HasTable("telemetry_minute_rollups"));
    VK_ASSIGN_OR_RETURN(bool periods, HasTable("telemetry_period_rollups"));
    if (!minutes || !periods) return Status::Ok();
    VK_ASSIGN_OR_RETURN(PgResult r, db_->QueryOnce(
        "SELECT EXISTS (SELECT 1 FROM telemetry_events), "
        "EXISTS (SELECT 1 FROM telemetry_minute_rollups), "
        "EXISTS (SELECT 1 FROM telemetry_period_rollups)"));
    const bool events = r.TextView(0, 0) == "t";
    const bool has_minutes = r.TextView(0, 1) == "t";
    const bool has_periods = r.TextView(0, 2) == "t";
    if ((events && !has_minutes) || (has_minutes && !has_periods)) {
      return InTransaction([&] { return RebuildMinuteRollups(*db_); });
    }
    return Status::Ok();
  }

  Result<std::vector<std::string>> IntegrityProblems() override {
    return std::vector<std::string>{};  // see pg_integrity.h
  }

  Result<std::vector<ForeignKeyRow>> ForeignKeyViolations(int limit) override {
    // Every single-column foreign key of the tables in the first schema of the search path,
    // with the child's primary key column (quoted names for the query, plain for the report).
    VK_ASSIGN_OR_RETURN(PgResult keys, db_->QueryOnce(
        "SELECT quote_ident(cl.relname), quote_ident(a.attname), quote_ident(pcl.relname), "
        "quote_ident(pa.attname), (SELECT quote_ident(ka.attname) FROM pg_constraint pk "
        "JOIN pg_attribute ka ON ka.attrelid = pk.conrelid AND ka.attnum = pk.conkey[1] "
        "WHERE pk.conrelid = c.conrelid AND pk.contype = 'p'), cl.relname, pcl.relname "
        "FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid "
        "JOIN pg_class pcl ON pcl.oid = c.confrelid "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1] "
        "WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1 "
        "AND cl.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) "
        "ORDER BY cl.relname, c.conname"));
    std::vector<ForeignKeyRow> out;
    for (int i = 0; i < keys.rows() && static_cast<int>(out.size()) < limit; ++i) {
      if (keys.IsNull(i, 4)) continue;  // no primary key to name the row by
      const std::string child = keys.Text(i, 0), col = keys.Text(i, 1);
      const std::string parent = keys.Text(i, 2), pcol = keys.Text(i, 3), pk = keys.Text(i, 4);
      VK_ASSIGN_OR_RETURN(PgResult rows, db_->QueryOnce(
          "SELECT x." + pk + "::text FROM " + child + " x WHERE x." + col + " IS NOT NULL AND "
          "NOT EXISTS (SELECT 1 FROM " + parent + " p WHERE p." + pcol + " = x." + col + ") "
          "ORDER BY x." + pk + " LIMIT " + std::to_string(limit - static_cast<int>(out.size()))));
      for (int j = 0; j < rows.rows(); ++j) {
        out.push_back({keys.Text(i, 5), rows.Text(j, 0), keys.Text(i, 6)});
      }
    }
    return out;
  }

  Result<std::vector<OrphanedEventsRow>> OrphanedEvents(int limit) override {
    VK_ASSIGN_OR_RETURN(PgResult r, db_->Query(std::string(kOrphanedEventsSql) + " LIMIT $1",
                                               PgParams().Add(limit)));
    std::vector<OrphanedEventsRow> out;
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back({r.Text(i, 0), r.Int(i, 1), r.Int(i, 2), r.Int(i, 3)});
    }
    return out;
  }

  Result<std::vector<OrphanedErrorRow>> ErrorsWithMissingEvent(int limit) override {
    return OrphanedErrors(kErrorsWithMissingEventSql, limit);
  }

  Result<std::vector<OrphanedErrorRow>> ErrorsWithMissingSession(int limit) override {
    return OrphanedErrors(kErrorsWithMissingSessionSql, limit);
  }

  Result<std::vector<CounterRow>> SessionCounterMismatches(int limit) override {
    VK_ASSIGN_OR_RETURN(PgResult r, db_->Query(
        "SELECT s.id, s.event_count, s.stream_event_count, s.error_count, coalesce(c.n, 0), "
        "coalesce(c.streams, 0), coalesce(c.errors, 0) FROM telemetry_sessions s LEFT JOIN "
        "(SELECT session_id, count(*) AS n, count(*) FILTER (WHERE event_type = 'stream') "
        "AS streams, count(*) FILTER (WHERE event_type = 'error') AS errors "
        "FROM telemetry_events GROUP BY session_id) c ON c.session_id = s.id "
        "WHERE s.event_count IS DISTINCT FROM coalesce(c.n, 0) OR "
        "s.stream_event_count IS DISTINCT FROM coalesce(c.streams, 0) OR "
        "s.error_count IS DISTINCT FROM coalesce(c.errors, 0) ORDER BY s.id LIMIT $1",
        PgParams().Add(limit)));
    std::vector<CounterRow> out;
    for (int i = 0; i < r.rows(); ++i) {
      CounterRow c;
      c.session_id = r.Text(i, 0);
      for (int k = 0; k < 3; ++k) {
        c.stored[k] = r.OptInt(i, 1 + k);
        c.actual[k] = r.Int(i, 4 + k);
      }
      out.push_back(std::move(c));
    }
    return out;
  }

  Result<std::vector<StatsDiffRow>> StatsDifferences() override {
    VK_RETURN_IF_ERROR(db_->Exec(ExpectedStatsSql()).WithContext("expected statistics"));
    VK_ASSIGN_OR_RETURN(PgResult r, db_->QueryOnce(StatsDiffSql("json_build_object")));
    std::vector<StatsDiffRow> out;
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back({r.Text(i, 0), r.Text(i, 1), CompactJson(r.OptText(i, 2)),
                     CompactJson(r.OptText(i, 3))});
    }
    return out;
  }

  Result<RollupTotals> ReadRollupTotals() override {
    VK_ASSIGN_OR_RETURN(PgResult r, db_->Query(kRollupTotalsSql));
    return RollupTotals{r.Int(0, 0), r.Int(0, 1), r.Int(0, 2), r.Int(0, 3)};
  }

  Status RebuildIndexes() override {
    VK_ASSIGN_OR_RETURN(PgResult tables, db_->QueryOnce(
        "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema() "
        "AND tablename LIKE 'telemetry\\_%' ORDER BY 1"));
    for (int i = 0; i < tables.rows(); ++i) {
      VK_RETURN_IF_ERROR(db_->Exec("REINDEX TABLE " + tables.Text(i, 0)));
    }
    return Status::Ok();
  }

  Result<std::string> RecreateSession(std::string_view id, std::int64_t now_ms) override {
    VK_RETURN_IF_ERROR(db_->Query(
        "INSERT INTO telemetry_sessions (id, agent_type, mode, status, start_time, end_time, "
        "duration, event_count, stream_event_count, error_count, last_event_time, "
        "created_at, updated_at) "
        "SELECT $1, (SELECT agent_type FROM telemetry_events WHERE session_id = $1 "
        "ORDER BY timestamp, id LIMIT 1), "
        "(SELECT mode FROM telemetry_events WHERE session_id = $1 AND mode IS NOT NULL "
        "ORDER BY timestamp, id LIMIT 1), "
        "CASE WHEN count(*) FILTER (WHERE event_type = 'error') > 0 THEN 'failed' "
        "WHEN count(*) FILTER (WHERE event_type = 'end') > 0 THEN 'completed' "
        "ELSE 'active' END, min(timestamp), max(timestamp) FILTER (WHERE event_type = 'end'), "
        "max(timestamp) FILTER (WHERE event_type = 'end') - min(timestamp), count(*), "
        "count(*) FILTER (WHERE event_type = 'stream'), "
        "count(*) FILTER (WHERE event_type = 'error'), max(timestamp), $2, $2 "
        "FROM telemetry_events WHERE session_id = $1",
        PgParams().Add(id).Add(now_ms)).status());
    return QueryJson(
        "SELECT json_build_object('id', id, 'agent_type', agent_type, 'mode', mode, 'status', "
        "status, 'start_time', start_time, 'end_time', end_time, 'event_count', "
        "event_count)::text FROM telemetry_sessions WHERE id = $1",
        id);
  }

  Result<std::string> ClearErrorEvent(std::string_view error_id) override {
    VK_ASSIGN_OR_RETURN(std::string old_v, QueryJson(
        "SELECT json_build_object('event_id', event_id)::text FROM telemetry_errors "
        "WHERE id = $1::bigint", error_id));
    VK_RETURN_IF_ERROR(db_->Query("UPDATE telemetry_errors SET event_id = NULL "
                                  "WHERE id = $1::bigint",
                                  PgParams().Add(error_id)).status());
    return old_v;
  }

  Result<std::string> ClearErrorSession(std::string_view error_id) override {
    VK_ASSIGN_OR_RETURN(std::string old_v, QueryJson(
        "SELECT json_build_object('session_id', session_id)::text FROM telemetry_errors r "
        "WHERE r.id = $1::bigint AND NOT EXISTS (SELECT 1 FROM telemetry_sessions s "
        "WHERE s.id = r.session_id)", error_id));
    if (old_v.empty()) return old_v;
    VK_RETURN_IF_ERROR(db_->Query("UPDATE telemetry_errors SET session_id = NULL "
                                  "WHERE id = $1::bigint",
                                  PgParams().Add(error_id)).status());
    return old_v;
  }

  Status DeleteRow(std::string_view table, std::string_view record_id) override {
    VK_ASSIGN_OR_RETURN(PgResult pk, db_->QueryOnce(
        "SELECT quote_ident($1::text), (SELECT quote_ident(a.attname) FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.conrelid = to_regclass(quote_ident($1::text)) AND c.contype = 'p')",
        PgParams().Add(table)));
    if (pk.IsNull(0, 1)) {
      return Status::FailedPrecondition("table " + std::string(table) + " has no primary key");
    }
    return db_->QueryOnce("DELETE FROM " + pk.Text(0, 0) + " WHERE " + pk.Text(0, 1) +
                              "::text = $1",
                          PgParams().Add(record_id))
        .status();
  }

  Result<std::pair<std::string, std::string>> ResetSessionCounters(
      std::string_view id, std::int64_t now_ms) override {
    VK_ASSIGN_OR_RETURN(std::string old_v, QueryJson(kSessionCountersJson, id));
    VK_RETURN_IF_ERROR(db_->Query(
        "UPDATE telemetry_sessions s SET event_count = c.n, stream_event_count = c.streams, "
        "error_count = c.errors, updated_at = $2 FROM (SELECT count(*) AS n, "
        "count(*) FILTER (WHERE event_type = 'stream') AS streams, "
        "count(*) FILTER (WHERE event_type = 'error') AS errors FROM telemetry_events "
        "WHERE session_id = $1) c WHERE s.id = $1",
        PgParams().Add(id).Add(now_ms)).status());
    VK_ASSIGN_OR_RETURN(std::string new_v, QueryJson(kSessionCountersJson, id));
    return std::make_pair(std::move(old_v), std::move(new_v));
  }

  Status ReplaceStats(std::int64_t now_ms) override {
    VK_RETURN_IF_ERROR(db_->Exec(ExpectedStatsSql()).WithContext("expected statistics"));
    VK_RETURN_IF_ERROR(db_->Exec("DELETE FROM telemetry_stats"));
    VK_RETURN_IF_ERROR(db_->QueryOnce(InsertExpectedStatsSql("$1::bigint"),
                                      PgParams().Add(now_ms)).status()
                           .WithContext("rebuild statistics"));
    return db_->Query(
        "UPDATE telemetry_stats SET "
        "agent_breakdown = (SELECT jsonb_object_agg(stat_key, total_events) FROM telemetry_stats "
        "WHERE stat_type = 'agent'), "
        "mode_breakdown = (SELECT jsonb_object_agg(stat_key, total_events) FROM telemetry_stats "
        "WHERE stat_type = 'mode'), computed_at = $1 "
        "WHERE stat_type = 'global' AND stat_key = 'all'",
        PgParams().Add(now_ms)).status();
  }

  Result<std::pair<std::int64_t, std::int64_t>> RebuildRollups() override {
    const std::string sum = "SELECT coalesce(sum(events), 0) FROM telemetry_minute_rollups";
    VK_ASSIGN_OR_RETURN(PgResult before, db_->Query(sum));
    VK_RETURN_IF_ERROR(RebuildMinuteRollups(*db_));
    VK_ASSIGN_OR_RETURN(PgResult after, db_->Query(sum));
    return std::make_pair(before.Int(0, 0), after.Int(0, 0));
  }

  Result<std::int64_t> InsertRule(const ValidationRule& rule, std::int64_t now_ms) override {
    auto opt = [](const std::string& v) {
      return v.empty() ? std::optional<std::string>() : std::optional<std::string>(v);
    };
    VK_ASSIGN_OR_RETURN(PgResult r, db_->Query(
        "INSERT INTO telemetry_validation_rules (table_name, field_name, rule_type, rule_config, "
        "error_message, is_active, priority, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        PgParams().Add(rule.table_name).Add(rule.field_name)
            .Add(ValidationRuleTypeName(rule.rule_type)).Add(opt(rule.rule_config))
            .Add(opt(rule.error_message)).Add(rule.is_active ? 1 : 0).Add(rule.priority)
            .Add(now_ms)));
    return r.Int(0, 0);
  }

  Result<std::vector<ValidationRule>> ReadRules() override {
    VK_ASSIGN_OR_RETURN(PgResult r, db_->Query(kValidationRulesQuery));
    return ValidationRulesFromResult(r);
  }

  Result<std::int64_t> SetRuleActive(std::int64_t id, bool active, std::int64_t now_ms) override {
    VK_ASSIGN_OR_RETURN(PgResult r, db_->Query(
        "UPDATE telemetry_validation_rules SET is_active = $2, updated_at = $3 WHERE id = $1",
        PgParams().Add(id).Add(active ? 1 : 0).Add(now_ms)));
    return r.affected();
  }

  Result<std::int64_t> DeleteRule(std::int64_t id) override {
    VK_ASSIGN_OR_RETURN(PgResult r, db_->Query(
        "DELETE FROM telemetry_validation_rules WHERE id = $1", PgParams().Add(id)));
    return r.affected();
  }

 private:
  Result<std::vector<OrphanedErrorRow>> OrphanedErrors(const std::string& sql, int limit) {
    VK_ASSIGN_OR_RETURN(PgResult r, db_->Query(sql + " LIMIT $1", PgParams().Add(limit)));
    std::vector<OrphanedErrorRow> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back({r.Text(i, 0), r.Text(i, 1)});
    return out;
  }

  // The JSON text of the first row's first column, compacted ("" when no row or NULL).
  Result<std::string> QueryJson(const std::string& sql, std::string_view bind) {
    VK_ASSIGN_OR_RETURN(PgResult r, db_->Query(sql, PgParams().Add(bind)));
    return r.rows() > 0 && !r.IsNull(0, 0) ? CompactJson(r.Text(0, 0)) : std::string();
  }

  std::unique_ptr<PgConn> db_;
};

}  // namespace

std::vector<std::string> SplitSqlStatements(std::string_view sql) {
  std::vector<std::string> out;
  std::string cur;
  auto finish = [&] {
    if (cur.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(cur);
    cur.clear();
  };
  std::size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == ';') {
      finish();
      ++i;
    } else if (c == '\'' || c == '"') {
      // A quoted string or identifier; a doubled quote stays inside. E'...' strings escape with
      // a backslash too.
      const bool escapes = c == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e');
      std::size_t j = i + 1;
      while (j < sql.size()) {
        if (escapes && sql[j] == '\\') {
          j += 2;
        } else if (sql[j] == c) {
          if (j + 1 < sql.size() && sql[j + 1] == c) {
            j += 2;
          } else {
            break;
          }
        } else {
          ++j;
        }
      }
      j = std::min(j + 1, sql.size());
      cur.append(sql.substr(i, j - i));
      i = j;
    } else if (sql.substr(i, 2) == "--") {
      const std::size_t nl = sql.find('\n', i);
      const std::size_t j = nl == std::string_view::npos ? sql.size() : nl + 1;
      cur.append(sql.substr(i, j - i));
      i = j;
    } else if (sql.substr(i, 2) == "/*") {
      int depth = 0;
      std::size_t j = i;
      while (j < sql.size()) {
        if (sql.substr(j, 2) == "/*") {
          ++depth;
          j += 2;
        } else if (sql.substr(j, 2) == "*/") {
          j += 2;
          if (--depth == 0) break;
        } else {
          ++j;
        }
      }
      j = std::min(j, sql.size());
      cur.append(sql.substr(i, j - i));
      i = j;
    } else if (c == '$' && (i == 0 || !(std::isalnum(static_cast<unsigned char>(sql[i - 1])) ||
                                        sql[i - 1] == '_'))) {
      // A dollar quote: $$ or $tag$ ... the same tag ($1 is a parameter, not a quote).
      std::size_t j = i + 1;
      while (j < sql.size() &&
             (std::isalnum(static_cast<unsigned char>(sql[j])) != 0 || sql[j] == '_')) {
        ++j;
      }
      const bool tag_ok = j < sql.size() && sql[j] == '$' &&
                          (j == i + 1 || std::isdigit(static_cast<unsigned char>(sql[i + 1])) == 0);
      if (!tag_ok) {
        cur += c;
        ++i;
        continue;
      }
      const std::string_view tag = sql.substr(i, j + 1 - i);
      const std::size_t close = sql.find(tag, j + 1);
      const std::size_t end = close == std::string_view::npos ? sql.size() : close + tag.size();
      cur.append(sql.substr(i, end - i));
      i = end;
    } else {
      cur += c;
      ++i;
    }
  }
  finish();
  return out;
}

Result<std::unique_ptr<IntegrityBackend>> OpenPgIntegrity(const LocalStoreConfig& config) {
  VK_ASSIGN_OR_RETURN(auto conn, PgConn::Connect(config.db_path));
  VK_RETURN_IF_ERROR(Configure(*conn));
  return std::unique_ptr<IntegrityBackend>(new PgIntegrity(std::move(conn)));
}

}  // namespace vibekit::store::postgres
