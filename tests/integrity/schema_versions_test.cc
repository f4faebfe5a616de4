// Schema versions: GetCurrentSchemaVersion, ApplySchemaVersion (atomic), rollback then migrate
// for every step of the project's migrations without losing a row; on both backends (SQLite's
// schema.cc and PostgreSQL's pg_schema.cc have the same versions).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "integrity/integrity_test_util.h"
#include "store/postgres/pg_schema.h"
#include "store/sqlite/schema.h"
#include "vibekit/data_integrity.h"

namespace vibekit {
namespace {

using testing::CountSchemaObjects;
using testing::ExecSql;
using testing::HasColumn;
using testing::QueryInt;
using testing::QueryText;
using testing::TableSnapshot;
using testing::TempDir;
using testing::TestConfig;

std::unique_ptr<DataIntegrityService> OpenIntegrity(const std::string& db) {
  auto r = DataIntegrityService::Open(TestConfig(db));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(*r) : nullptr;
}

// Tables whose every row must survive a rollback and a migrate (the text index is checked by a
// search; schema versions and the audit log gain rows by design).
const std::vector<std::string> kDataTables = {
    "telemetry_sessions",       "telemetry_events",          "telemetry_errors",
    "telemetry_stats",          "telemetry_buffers",         "telemetry_validation_rules",
    "telemetry_delivery_state", "telemetry_delivery_sessions", "telemetry_delivery_failures",
    "telemetry_minute_rollups", "telemetry_period_rollups",  "telemetry_alerts"};

std::string Snapshot(const std::string& db) {
  std::string out;
  for (const std::string& t : kDataTables) out += "## " + t + "\n" + TableSnapshot(db, t);
  return out;
}

// A database with rows in every table, delivery and alerts included.
void FullDatabase(const std::string& db) {
  testing::PopulateDatabase(db, 6);
  ExecSql(db,
          "INSERT INTO telemetry_delivery_state (id, event_cursor, events_sent, requests_sent, "
          "last_error) VALUES (1, 7, 7, 2, 'collector said 503');"
          "INSERT INTO telemetry_delivery_sessions (session_id, status) VALUES ('sess-0', "
          "'completed');"
          "INSERT INTO telemetry_delivery_failures (first_event_id, last_event_id, event_count, "
          "http_status, error) VALUES (1, 3, 3, 400, 'bad request');"
          "INSERT INTO telemetry_alerts (metric, value, threshold, direction, severity, message, "
          "fired_at, resolved_at, resolved_value) VALUES ('error_rate', 9.5, 5, 'above', 'high', "
          "'error rate 9.5% above 5%', 1767225600000, 1767225660000, 1.0);"
          "INSERT INTO telemetry_validation_rules (table_name, field_name, rule_type, "
          "rule_config) VALUES ('telemetry_events', 'prompt', 'max_length', '{\"max\":100000}');"
          "INSERT INTO telemetry_buffers (session_id, status, event_count, buffer_data) VALUES "
          "('sess-5', 'failed', 1, '[]');");
}

// Events whose text holds `word`, found by the service's text search (FTS5 on SQLite, the
// tsvector index on PostgreSQL), against the count by SQL.
void ExpectSearchFindsEvery(const std::string& db, const std::string& word) {
  const std::int64_t expected = QueryInt(
      db, "SELECT count(*) FROM telemetry_events WHERE stream_data LIKE '%" + word + "%'");
  ASSERT_GT(expected, 0);
  TelemetryService s(TestConfig(db));
  ASSERT_OK(s.Initialize());
  EXPECT_EQ(static_cast<std::int64_t>(testing::SearchIds(s, word).size()), expected);
  ASSERT_OK(s.Shutdown());
}

class RollbackRoundTrip
    : public ::testing::TestWithParam<std::tuple<testing::Backend, std::string>> {
 protected:
  TempDir dir_;
};

class SchemaVersions : public testing::BackendTest {};
INSTANTIATE_TEST_SUITE_P(Backends, SchemaVersions, testing::IntegrityBackends(),
                         testing::BackendName);

TEST_P(RollbackRoundTrip, RollbackThenMigrateLosesNothing) {
  const std::string target = std::get<1>(GetParam());
  const std::string db = testing::FreshDatabase(std::get<0>(GetParam()), dir_);
  FullDatabase(db);
  const std::string before = Snapshot(db);
  const std::string latest(DataIntegrityService::LatestSchemaVersion());
  {
    auto svc = OpenIntegrity(db);
    ASSERT_NE(svc, nullptr);
    auto back = svc->RollbackTo(target);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->from_version, latest);
    auto now = svc->GetCurrentSchemaVersion();
    ASSERT_TRUE(now.ok());
    EXPECT_EQ(*now, target);
    // The rolled-back schema really is the older one.
    if (target < std::string("1.6.0")) {
      EXPECT_EQ(CountSchemaObjects(db, "telemetry_audit_sessions_au"), 0);
    }
    if (target < std::string("1.4.0")) {
      EXPECT_EQ(CountSchemaObjects(db, "telemetry_alerts"), 0);
    }
    if (target < std::string("1.2.0")) {
      EXPECT_EQ(CountSchemaObjects(db, "telemetry_delivery_state"), 0);
    }
    if (target < std::string("1.1.0")) {
      EXPECT_FALSE(HasColumn(db, "telemetry_sessions", "last_event_time"));
    }
    auto up = svc->MigrateTo(latest);
    ASSERT_TRUE(up.ok()) << up.status().ToString();
    EXPECT_EQ(up->to_version, latest);
    EXPECT_FALSE(up->steps.empty());
  }
  EXPECT_EQ(Snapshot(db), before);
  EXPECT_EQ(CountSchemaObjects(db, "vk_stash_%"), 0);
  // Each step is in the audit trail, both ways.
  auto svc = OpenIntegrity(db);
  AuditQuery q;
  q.table = "telemetry_schema_versions";
  auto audit = svc->QueryAudit(q);
  ASSERT_TRUE(audit.ok());
  std::size_t steps_down = 0;
  for (const auto& m : store::sqlite::Migrations()) {
    if (std::string(m.version) > target) ++steps_down;
  }
  EXPECT_EQ(audit->size(), 2 * steps_down);
  auto v = svc->Validate(true);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->ok()) << v->findings.front().detail;
  svc.reset();
  ExpectSearchFindsEvery(db, "chunk");  // the text index is whole again
}

std::vector<std::string> RollbackTargets() {
  std::vector<std::string> out;
  const auto& all = store::sqlite::Migrations();
  for (std::size_t i = 0; i + 1 < all.size(); ++i) out.emplace_back(all[i].version);
  return out;
}

INSTANTIATE_TEST_SUITE_P(EveryStep, RollbackRoundTrip,
                         ::testing::Combine(testing::IntegrityBackends(),
                                            ::testing::ValuesIn(RollbackTargets())),
                         [](const auto& param_info) {
                           const bool lite =
                               std::get<0>(param_info.param) == testing::Backend::kSqlite;
                           std::string n = std::string(lite ? "sqlite" : "postgres") + "_to_" +
                                           std::get<1>(param_info.param);
                           for (char& c : n) {
                             if (c == '.') c = '_';
                           }
                           return n;
                         });

// The two backends' migrations are the same versions in the same order (the suites here take
// SQLite's list for both).
TEST(SchemaVersionsBackends, PostgreSqlHasTheSameVersionsAsSqlite) {
  const auto& lite = store::sqlite::Migrations();
  const auto& pg = store::postgres::PgMigrations();
  ASSERT_EQ(lite.size(), pg.size());
  for (std::size_t i = 0; i < lite.size(); ++i) EXPECT_EQ(lite[i].version, pg[i].version);
}

TEST_P(SchemaVersions, OneStepAtATimeDownAndUpKeepsEveryRow) {
  const std::string db = Db();
  FullDatabase(db);
  const std::string before = Snapshot(db);
  auto svc = OpenIntegrity(db);
  ASSERT_NE(svc, nullptr);
  const auto& all = store::sqlite::Migrations();
  for (std::size_t i = all.size() - 1; i > 0; --i) {
    auto r = svc->RollbackTo(all[i - 1].version);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->steps.size(), 1u);
  }
  for (std::size_t i = 1; i < all.size(); ++i) {
    auto r = svc->MigrateTo(all[i].version);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->steps.size(), 1u);
    EXPECT_EQ(r->steps[0].version, all[i].version);
  }
  EXPECT_EQ(Snapshot(db), before);
}

TEST_P(SchemaVersions, MigrateAndRollbackRejectUnknownOrWrongDirection) {
  const std::string db = Db();
  testing::PopulateDatabase(db, 1);
  auto svc = OpenIntegrity(db);
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(svc->MigrateTo("9.9.9").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(svc->RollbackTo("0.1.0").status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(svc->RollbackTo("1.3.0").ok());
  auto down = svc->MigrateTo("1.2.0");
  ASSERT_FALSE(down.ok());
  EXPECT_NE(down.status().message().find("rollback"), std::string::npos);
  auto same = svc->MigrateTo("1.3.0");
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->steps.empty());
}

TEST_P(SchemaVersions, OpeningARolledBackDatabaseWithTheServiceUpgradesIt) {
  const std::string db = Db();
  testing::PopulateDatabase(db, 3);
  {
    auto svc = OpenIntegrity(db);
    ASSERT_TRUE(svc->RollbackTo("1.2.0").ok());
  }
  TelemetryService s(TestConfig(db));
  ASSERT_OK(s.Initialize());
  auto versions = s.GetSchemaVersions();
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), store::sqlite::Migrations().size());
  auto stats = s.GetSessionStats("sess-1");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->event_count, 7);
  ASSERT_OK(s.Shutdown());
}

TEST_P(SchemaVersions, ApplySchemaVersionIsAtomicAndCanBeRolledBack) {
  const std::string db = Db();
  testing::PopulateDatabase(db, 2);
  auto svc = OpenIntegrity(db);
  ASSERT_NE(svc, nullptr);
  auto current = svc->GetCurrentSchemaVersion();
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(*current, std::string(DataIntegrityService::LatestSchemaVersion()));

  // The second statement fails: the first must not stay.
  SchemaVersionSpec broken{"2.0.0", "broken", "ALTER TABLE telemetry_events ADD COLUMN exec_ms REAL;"
                           "INSERT INTO no_such_table VALUES (1);", ""};
  Status st = svc->ApplySchemaVersion(broken);
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(HasColumn(db, "telemetry_events", "exec_ms"));
  EXPECT_EQ(*svc->GetCurrentSchemaVersion(), *current);

  // Transaction control would break atomicity: refused before anything runs past it.
  SchemaVersionSpec sneaky{"2.0.0", "sneaky", "CREATE TABLE t1 (x); COMMIT; CREATE TABLE t2 (y);",
                           ""};
  st = svc->ApplySchemaVersion(sneaky);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CountSchemaObjects(db, "t1") + CountSchemaObjects(db, "t2"), 0);

  EXPECT_EQ(svc->ApplySchemaVersion({"abc", "", "SELECT 1", ""}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(svc->ApplySchemaVersion({"1.0.5", "", "SELECT 1", ""}).code(),
            StatusCode::kInvalidArgument);  // not above the current version
  EXPECT_EQ(svc->ApplySchemaVersion({"2.0.0", "", "  ; ", ""}).code(),
            StatusCode::kInvalidArgument);

  SchemaVersionSpec good{"2.0.0", "Added performance tracking fields",
                         "ALTER TABLE telemetry_events ADD COLUMN execution_time REAL",
                         "ALTER TABLE telemetry_events DROP COLUMN execution_time"};
  ASSERT_OK(svc->ApplySchemaVersion(good));
  EXPECT_EQ(*svc->GetCurrentSchemaVersion(), "2.0.0");
  EXPECT_TRUE(HasColumn(db, "telemetry_events", "execution_time"));
  auto versions = svc->GetSchemaVersions();
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->back().version, "2.0.0");
  EXPECT_EQ(versions->back().description, "Added performance tracking fields");
  // A version 10 sorts after 9 (numbers, not text).
  ASSERT_OK(svc->ApplySchemaVersion({"10.0.0", "ten", "CREATE INDEX idx_t10 ON "
                                     "telemetry_events(mode)", "DROP INDEX idx_t10"}));
  EXPECT_EQ(*svc->GetCurrentSchemaVersion(), "10.0.0");
  auto back = svc->RollbackTo(current->c_str());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->steps.size(), 2u);
  EXPECT_EQ(back->steps[0].version, "10.0.0");
  EXPECT_EQ(back->steps[1].version, "2.0.0");
  EXPECT_FALSE(HasColumn(db, "telemetry_events", "execution_time"));
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), 2 * 5 + 1 + 1);
}

}  // namespace
}  // namespace vibekit

namespace vibekit {
namespace {

// `db migrate` on a database without any schema (an empty file; a new PostgreSQL database)
// creates it step by step, each step recorded and audited, and the result validates clean.
TEST_P(SchemaVersions, MigrateOnAnEmptyDatabaseCreatesTheWholeSchema) {
  const std::string db = Db();
  if (!IsPostgres()) {
    std::filesystem::create_directories(std::filesystem::path(db).parent_path());
    std::ofstream(db).close();  // an empty file: SQLite's "no schema yet"
  }
  auto svc = OpenIntegrity(db);
  ASSERT_NE(svc, nullptr);
  auto before = svc->GetCurrentSchemaVersion();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(*before, "");
  const std::string latest(DataIntegrityService::LatestSchemaVersion());
  auto up = svc->MigrateTo(latest);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->from_version, "");
  EXPECT_EQ(up->to_version, latest);
  EXPECT_EQ(up->steps.size(), store::sqlite::Migrations().size());
  auto versions = svc->GetSchemaVersions();
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), store::sqlite::Migrations().size());
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_audit_log WHERE table_name = "
                         "'telemetry_schema_versions'"),
            static_cast<std::int64_t>(store::sqlite::Migrations().size()));
  auto v = svc->Validate(true);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->ok());
}

// A custom script is split into statements as the database parses it: semicolons, BEGIN and
// COMMIT inside quotes, comments and trigger or function bodies (SQLite's BEGIN ... END,
// PostgreSQL's dollar quotes) neither split a statement nor count as transaction control.
TEST_P(SchemaVersions, ScriptBodiesWithSemicolonsAndBeginStayOneStatement) {
  const std::string db = Db();
  testing::PopulateDatabase(db, 1);
  auto svc = OpenIntegrity(db);
  ASSERT_NE(svc, nullptr);
  const std::string script =
      IsPostgres()
          ? "CREATE TABLE t_notes (id bigint, note text); -- a comment; COMMIT\n"
            "CREATE FUNCTION t_note_mark() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
            "BEGIN NEW.note := NEW.note || ';'; RETURN NEW; END $body$;\n"
            "CREATE TRIGGER t_notes_mark BEFORE INSERT ON t_notes FOR EACH ROW\n"
            "  EXECUTE FUNCTION t_note_mark();\n"
            "/* COMMIT; */ INSERT INTO t_notes VALUES (1, 'it''s; BEGIN')"
          : "CREATE TABLE t_notes (id INTEGER, note TEXT); -- a comment; COMMIT\n"
            "CREATE TRIGGER t_notes_mark AFTER INSERT ON t_notes BEGIN\n"
            "  UPDATE t_notes SET note = note || ';' WHERE id = new.id; END;\n"
            "/* COMMIT; */ INSERT INTO t_notes VALUES (1, 'it''s; BEGIN')";
  const std::string rollback = IsPostgres()
                                   ? "DROP TABLE t_notes; DROP FUNCTION t_note_mark()"
                                   : "DROP TABLE t_notes";
  ASSERT_OK(svc->ApplySchemaVersion({"3.0.0", "notes", script, rollback}));
  EXPECT_EQ(QueryText(db, "SELECT note FROM t_notes"), "it's; BEGIN;");
  EXPECT_EQ(CountSchemaObjects(db, "t_notes_mark"), 1);
  auto back = svc->RollbackTo(std::string(DataIntegrityService::LatestSchemaVersion()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(CountSchemaObjects(db, "t_notes%"), 0);
}

}  // namespace
}  // namespace vibekit
