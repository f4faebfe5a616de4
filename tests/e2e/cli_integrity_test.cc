// `vibekit db audit|migrate|rollback|validate|repair|rules` on the real binary: output, exit
// codes, and a clear message with a non-zero exit on bad input; one suite on both backends (a
// SQLite file and a PostgreSQL database of the test run's cluster).
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <string>

#include "e2e/cli_runner.h"
#include "e2e/pty_runner.h"
#include "integrity/integrity_test_util.h"

namespace vibekit {
namespace {

namespace json = boost::json;
using testing::CountSchemaObjects;
using testing::ExecSql;
using testing::ExecSqlBypassingForeignKeys;
using testing::QueryInt;
using testing::TempDir;

class CliIntegrityTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    db_ = testing::FreshDatabase(GetParam(), dir_);
    testing::PopulateDatabase(db_, 6);
  }
  std::string Db() const { return "--db '" + db_ + "' "; }
  TempDir dir_;
  std::string db_;
};

INSTANTIATE_TEST_SUITE_P(Backends, CliIntegrityTest, testing::IntegrityBackends(),
                         testing::BackendName);

TEST_P(CliIntegrityTest, AuditListsSessionChangesAndFiltersByRecord) {
  CliRun all = Vibekit(Db() + "db audit --table telemetry_sessions --since 1d --format json");
  ASSERT_EQ(all.code, 0) << all.err;
  json::array rows = json::parse(all.out).as_array();
  ASSERT_GE(rows.size(), 5u);  // five of six sessions ended
  for (const auto& r : rows) {
    EXPECT_EQ(r.at("operation").as_string(), "UPDATE");
    EXPECT_TRUE(r.at("oldValues").is_object());
    EXPECT_TRUE(r.at("changedFields").is_array());
  }
  CliRun one = Vibekit(Db() + "db audit --table telemetry_sessions --since 1d --record sess-0 "
                              "--format json");
  ASSERT_EQ(one.code, 0) << one.err;
  json::array just = json::parse(one.out).as_array();
  ASSERT_EQ(just.size(), 1u);
  EXPECT_EQ(just[0].at("newValues").at("status").as_string(), "completed");
  EXPECT_EQ(just[0].at("reason").as_string(), "end event");
  CliRun table = Vibekit(Db() + "db audit --table telemetry_sessions --since 1d --record sess-0");
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("end event"), std::string::npos) << table.out;
  CliRun future = Vibekit(Db() + "db audit --table telemetry_sessions --since 2099-01-01 "
                                 "--format json");
  ASSERT_EQ(future.code, 0);
  EXPECT_EQ(json::parse(future.out).as_array().size(), 0u);
}

TEST_P(CliIntegrityTest, AuditRejectsBadInputWithAMessage) {
  CliRun table = Vibekit(Db() + "db audit --table no_such --since 1d");
  EXPECT_EQ(table.code, 2);
  EXPECT_NE(table.err.find("unknown table"), std::string::npos) << table.err;
  CliRun since = Vibekit(Db() + "db audit --table telemetry_sessions --since yesterday-ish");
  EXPECT_EQ(since.code, 2);
  EXPECT_NE(since.err.find("--since"), std::string::npos) << since.err;
  CliRun missing = Vibekit(Db() + "db audit --since 1d");
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("--table"), std::string::npos) << missing.err;
  CliRun nodb = Vibekit("--db " + dir_.File("none.db") + " db audit --table telemetry_sessions "
                        "--since 1d");
  EXPECT_EQ(nodb.code, 1);
  EXPECT_NE(nodb.err.find("db init"), std::string::npos) << nodb.err;
}

TEST_P(CliIntegrityTest, RollbackAndMigrateRoundTrip) {
  const std::int64_t events = QueryInt(db_, "SELECT count(*) FROM telemetry_events");
  CliRun down = Vibekit(Db() + "db rollback --to-version 1.3.0 --format json");
  ASSERT_EQ(down.code, 0) << down.err;
  json::object d = json::parse(down.out).as_object();
  EXPECT_EQ(d.at("fromVersion").as_string(), "1.9.0");
  EXPECT_EQ(d.at("toVersion").as_string(), "1.3.0");
  EXPECT_EQ(d.at("steps").as_array().size(), 6u);
  EXPECT_EQ(CountSchemaObjects(db_, "telemetry_alerts"), 0);
  EXPECT_EQ(CountSchemaObjects(db_, "telemetry_privacy_ranges"), 0);
  CliRun up = Vibekit(Db() + "db migrate");
  ASSERT_EQ(up.code, 0) << up.err;
  EXPECT_NE(up.out.find("applied 1.4.0"), std::string::npos) << up.out;
  EXPECT_NE(up.out.find("-> 1.9.0"), std::string::npos) << up.out;
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM telemetry_events"), events);
  CliRun again = Vibekit(Db() + "db migrate --to-version 1.9.0 --format json");
  ASSERT_EQ(again.code, 0);
  EXPECT_EQ(json::parse(again.out).at("steps").as_array().size(), 0u);
  CliRun audit = Vibekit(Db() + "db audit --table telemetry_schema_versions --since 1h "
                                "--format json");
  ASSERT_EQ(audit.code, 0);
  EXPECT_EQ(json::parse(audit.out).as_array().size(), 12u);  // 6 down, 6 up
}

TEST_P(CliIntegrityTest, MigrateAndRollbackRejectUnknownVersions) {
  CliRun bad = Vibekit(Db() + "db rollback --to-version 7.7.7");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("not applied"), std::string::npos) << bad.err;
  CliRun unknown = Vibekit(Db() + "db migrate --to-version 0.0.1");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("this build knows"), std::string::npos) << unknown.err;
  CliRun none = Vibekit(Db() + "db rollback");
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("--to-version"), std::string::npos) << none.err;
}

TEST_P(CliIntegrityTest, ValidateAndRepairFixInjectedDefects) {
  CliRun clean = Vibekit(Db() + "db validate --foreign-keys");
  ASSERT_EQ(clean.code, 0) << clean.all();
  EXPECT_NE(clean.out.find("ok: 0 findings"), std::string::npos) << clean.out;
  ExecSqlBypassingForeignKeys(db_,
          "UPDATE telemetry_sessions SET event_count = 99 WHERE id = 'sess-1';"
          "INSERT INTO telemetry_events (session_id, event_type, agent_type, timestamp) VALUES "
          "('ghost', 'start', 'claude', 1767225600000);");
  CliRun found = Vibekit(Db() + "db validate --foreign-keys --format json");
  EXPECT_EQ(found.code, 1);
  json::object v = json::parse(found.out).as_object();
  EXPECT_FALSE(v.at("ok").as_bool());
  std::string kinds;
  for (const auto& f : v.at("findings").as_array()) kinds += std::string(f.at("kind").as_string()) + " ";
  EXPECT_NE(kinds.find("session_counters"), std::string::npos) << kinds;
  EXPECT_NE(kinds.find("orphaned_events"), std::string::npos) << kinds;
  EXPECT_NE(kinds.find("foreign_key"), std::string::npos) << kinds;
  EXPECT_NE(kinds.find("stats_rollup"), std::string::npos) << kinds;

  // Not a terminal and neither --yes nor --dry-run: refused, nothing changed.
  CliRun refused = Vibekit(Db() + "db repair");
  EXPECT_EQ(refused.code, 2);
  EXPECT_NE(refused.err.find("--yes"), std::string::npos) << refused.err;
  CliRun both = Vibekit(Db() + "db repair --dry-run --yes");
  EXPECT_EQ(both.code, 2);
  CliRun dry = Vibekit(Db() + "db repair --fix-constraints --dry-run");
  EXPECT_EQ(dry.code, 0) << dry.all();
  EXPECT_NE(dry.out.find("dry run"), std::string::npos) << dry.out;
  EXPECT_EQ(QueryInt(db_, "SELECT event_count FROM telemetry_sessions WHERE id = 'sess-1'"), 99);

  CliRun partial = Vibekit(Db() + "db repair --yes");
  EXPECT_EQ(partial.code, 1) << partial.all();  // the orphan needs --fix-constraints
  EXPECT_NE(partial.out.find("--fix-constraints"), std::string::npos) << partial.out;
  EXPECT_EQ(QueryInt(db_, "SELECT event_count FROM telemetry_sessions WHERE id = 'sess-1'"), 7);
  CliRun full = Vibekit(Db() + "db repair --fix-constraints --yes --format json");
  ASSERT_EQ(full.code, 0) << full.all();
  json::object rep = json::parse(full.out).as_object();
  EXPECT_GT(rep.at("auditRows").as_int64(), 0);
  EXPECT_EQ(rep.at("remaining").as_array().size(), 0u);
  EXPECT_EQ(Vibekit(Db() + "db validate --foreign-keys").code, 0);
  CliRun ghost = Vibekit(Db() + "db audit --table telemetry_sessions --since 1h --record ghost "
                                "--format json");
  ASSERT_EQ(ghost.code, 0);
  EXPECT_EQ(json::parse(ghost.out).as_array().at(0).at("operation").as_string(), "INSERT");
}

TEST_P(CliIntegrityTest, RepairOnATerminalShowsThePlanAndAsksFirst) {
  ExecSql(db_, "UPDATE telemetry_sessions SET event_count = 42 WHERE id = 'sess-2';");
  PtyOptions no;
  no.input = {{"[y/N]", "n\r"}};
  PtyRun refused = VibekitOnPty(Db() + "db repair", no);
  EXPECT_EQ(refused.code, 1) << refused.output;
  EXPECT_NE(refused.output.find("session_counters"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("cancelled"), std::string::npos) << refused.output;
  EXPECT_EQ(QueryInt(db_, "SELECT event_count FROM telemetry_sessions WHERE id = 'sess-2'"), 42);
  PtyOptions yes;
  yes.input = {{"[y/N]", "y\r"}};
  PtyRun applied = VibekitOnPty(Db() + "db repair", yes);
  EXPECT_EQ(applied.code, 0) << applied.output;
  EXPECT_NE(applied.output.find("repaired"), std::string::npos) << applied.output;
  EXPECT_EQ(QueryInt(db_, "SELECT event_count FROM telemetry_sessions WHERE id = 'sess-2'"), 6);
}

}  // namespace
}  // namespace vibekit

namespace vibekit {
namespace {

TEST_P(CliIntegrityTest, RulesListAddDisableEnableRemove) {
  CliRun list = Vibekit(Db() + "db rules list --format json");
  ASSERT_EQ(list.code, 0) << list.err;
  json::array rules = json::parse(list.out).as_array();
  ASSERT_EQ(rules.size(), 7u);  // the defaults of schema 1.7.0
  EXPECT_EQ(rules[0].at("field").as_string(), "eventType");
  EXPECT_EQ(rules[0].at("type").as_string(), "enum");

  CliRun add = Vibekit(Db() + "db rules add --field agentType --type enum "
                              "--config '[\"claude\"]' --message 'Only claude here' "
                              "--priority 5 --format json");
  ASSERT_EQ(add.code, 0) << add.err;
  const std::int64_t id = json::parse(add.out).as_object().at("id").as_int64();
  CliRun table = Vibekit(Db() + "db rules list");
  ASSERT_EQ(table.code, 0);
  EXPECT_NE(table.out.find("Only claude here"), std::string::npos) << table.out;

  // The rule is in force for the next writer: an import of a codex event skips it.
  const std::string file = dir_.File("e.ndjson");
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    std::fputs(R"({"sessionId":"n1","eventType":"start","agentType":"codex","timestamp":1000})"
               "\n", f);
    std::fclose(f);
  }
  CliRun imp = Vibekit(Db() + "telemetry import " + file);
  EXPECT_EQ(imp.code, 1);  // a skipped line
  EXPECT_NE(imp.err.find("line 1: validation rule " + std::to_string(id) +
                         " failed: table=telemetry_events field=agentType rule=enum "
                         "value=\"codex\": Only claude here"),
            std::string::npos)
      << imp.err;
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM telemetry_sessions WHERE id = 'n1'"), 0);

  const std::string sid = std::to_string(id);
  CliRun off = Vibekit(Db() + "db rules disable " + sid);
  ASSERT_EQ(off.code, 0) << off.err;
  EXPECT_NE(off.out.find("disabled"), std::string::npos);
  EXPECT_EQ(QueryInt(db_, "SELECT is_active FROM telemetry_validation_rules WHERE id = " + sid), 0);
  ASSERT_EQ(Vibekit(Db() + "db rules enable " + sid).code, 0);
  EXPECT_EQ(QueryInt(db_, "SELECT is_active FROM telemetry_validation_rules WHERE id = " + sid), 1);
  ASSERT_EQ(Vibekit(Db() + "db rules remove " + sid).code, 0);
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM telemetry_validation_rules WHERE id = " + sid), 0);
  CliRun again = Vibekit(Db() + "db rules remove " + sid);
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("no validation rule with id"), std::string::npos) << again.err;
  // Every change is in the audit trail.
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM telemetry_audit_log WHERE table_name = "
                          "'telemetry_validation_rules' AND record_id = '" + sid + "'"), 4);
}

TEST_P(CliIntegrityTest, BadRulesAreUsageErrors) {
  CliRun regex = Vibekit(Db() + "db rules add --field prompt --type regex --config '\"(\"'");
  EXPECT_EQ(regex.code, 2);
  EXPECT_NE(regex.err.find("does not compile"), std::string::npos) << regex.err;
  CliRun type = Vibekit(Db() + "db rules add --field prompt --type between");
  EXPECT_EQ(type.code, 2);
  EXPECT_NE(type.err.find("unknown rule type"), std::string::npos) << type.err;
  CliRun field = Vibekit(Db() + "db rules add --field nope --type required");
  EXPECT_EQ(field.code, 2);
  EXPECT_NE(field.err.find("unknown field 'nope'"), std::string::npos) << field.err;
  CliRun range = Vibekit(Db() + "db rules add --field timestamp --type range "
                                "--config '{\"min\":9,\"max\":1}'");
  EXPECT_EQ(range.code, 2);
  EXPECT_NE(range.err.find("min greater than max"), std::string::npos) << range.err;
  CliRun id = Vibekit(Db() + "db rules disable abc");
  EXPECT_EQ(id.code, 2);
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM telemetry_validation_rules"), 7);
}

}  // namespace
}  // namespace vibekit
