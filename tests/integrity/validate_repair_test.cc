// db validate finds every injected defect (injected with raw SQL, foreign keys off, as a foreign
// tool or a crash-damaged write would leave them) and db repair fixes each one, audited; on
// both backends (the same findings and fixes on a SQLite file and on PostgreSQL).
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <string>

#include "integrity/integrity_test_util.h"
#include "store/postgres/pg_schema.h"
#include "vibekit/data_integrity.h"

namespace vibekit {
namespace {

using testing::ExecSql;
using testing::ExecSqlBypassingForeignKeys;
using testing::QueryInt;
using testing::QueryText;
using testing::TestConfig;

std::unique_ptr<DataIntegrityService> OpenIntegrity(const std::string& db) {
  auto r = DataIntegrityService::Open(TestConfig(db));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(*r) : nullptr;
}

std::map<FindingKind, int> Kinds(const std::vector<IntegrityFinding>& findings) {
  std::map<FindingKind, int> out;
  for (const auto& f : findings) ++out[f.kind];
  return out;
}

std::string Describe(const std::vector<IntegrityFinding>& findings) {
  std::string out;
  for (const auto& f : findings) out += std::string(FindingKindName(f.kind)) + ": " + f.detail + "\n";
  return out;
}

// Every defect the checks know, each in its own place.
void InjectDefects(const std::string& db) {
  ExecSqlBypassingForeignKeys(db,
          // counters that disagree with the events
          "UPDATE telemetry_sessions SET event_count = event_count + 5, error_count = 3 "
          "WHERE id = 'sess-0';"
          // events of a session that does not exist
          "INSERT INTO telemetry_events (session_id, event_type, agent_type, timestamp) VALUES "
          "('ghost', 'start', 'claude', 1767225600000), ('ghost', 'stream', 'claude', "
          "1767225601000), ('ghost', 'end', 'claude', 1767225605000);"
          // an error naming a missing event, and one naming a missing session
          "INSERT INTO telemetry_errors (session_id, event_id, error_type, error_message, "
          "timestamp) VALUES ('sess-2', 999999, 'tool', 'lost event', 1767225600000), "
          "('nobody', NULL, 'tool', 'lost session', 1767225600000);"
          // a delivery outbox row of a missing session (foreign keys only)
          "INSERT INTO telemetry_delivery_state (id) VALUES (1);"
          "INSERT INTO telemetry_delivery_sessions (session_id, status) VALUES ('vanished', "
          "'completed');"
          // the statistics rollup and the analytics rollups off
          "UPDATE telemetry_stats SET total_events = total_events + 7 WHERE stat_type = 'global';"
          "DELETE FROM telemetry_minute_rollups WHERE minute = (SELECT min(minute) FROM "
          "telemetry_minute_rollups);");
}

class Validate : public testing::BackendTest {};
INSTANTIATE_TEST_SUITE_P(Backends, Validate, testing::IntegrityBackends(),
                         testing::BackendName);
class Repair : public testing::BackendTest {};
INSTANTIATE_TEST_SUITE_P(Backends, Repair, testing::IntegrityBackends(),
                         testing::BackendName);

TEST_P(Validate, ACleanDatabaseHasNoFindings) {
  const std::string db = Db();
  testing::PopulateDatabase(db, 6);
  auto svc = OpenIntegrity(db);
  ASSERT_NE(svc, nullptr);
  auto r = svc->Validate(true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok()) << Describe(r->findings);
  EXPECT_TRUE(r->foreign_keys_checked);
  EXPECT_EQ(r->schema_version, std::string(DataIntegrityService::LatestSchemaVersion()));
}

TEST_P(Validate, FindsEveryInjectedDefect) {
  const std::string db = Db();
  testing::PopulateDatabase(db, 6);
  InjectDefects(db);
  auto svc = OpenIntegrity(db);
  ASSERT_NE(svc, nullptr);
  auto r = svc->Validate(true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto kinds = Kinds(r->findings);
  EXPECT_EQ(kinds[FindingKind::kSessionCounters], 1) << Describe(r->findings);
  EXPECT_EQ(kinds[FindingKind::kOrphanedEvents], 1);
  EXPECT_EQ(kinds[FindingKind::kOrphanedErrorEvent], 1);
  EXPECT_EQ(kinds[FindingKind::kOrphanedErrorSession], 1);
  EXPECT_GE(kinds[FindingKind::kStatsRollup], 1);
  EXPECT_GE(kinds[FindingKind::kMinuteRollups], 1);
  // 3 ghost events + 1 error with a missing event + 1 with a missing session + 1 outbox row.
  EXPECT_EQ(kinds[FindingKind::kForeignKey], 6);
  EXPECT_EQ(kinds[FindingKind::kIntegrity], 0);
  for (const auto& f : r->findings) {
    if (f.kind == FindingKind::kSessionCounters) {
      EXPECT_EQ(f.record_id, "sess-0");
      EXPECT_NE(f.detail.find("11/4/3"), std::string::npos) << f.detail;
      EXPECT_NE(f.detail.find("6/4/0"), std::string::npos) << f.detail;
    }
    if (f.kind == FindingKind::kOrphanedEvents) {
      EXPECT_EQ(f.record_id, "ghost");
    }
  }
  // Without --foreign-keys the PRAGMA rows are not listed, the orphans still are.
  auto quick = svc->Validate(false);
  ASSERT_TRUE(quick.ok());
  EXPECT_EQ(Kinds(quick->findings)[FindingKind::kForeignKey], 0);
  EXPECT_EQ(Kinds(quick->findings)[FindingKind::kOrphanedEvents], 1);
}

TEST_P(Repair, DryRunChangesNothing) {
  const std::string db = Db();
  testing::PopulateDatabase(db, 4);
  InjectDefects(db);
  auto svc = OpenIntegrity(db);
  ASSERT_NE(svc, nullptr);
  const std::int64_t audit_before = QueryInt(db, "SELECT count(*) FROM telemetry_audit_log");
  RepairOptions o;
  o.fix_constraints = true;
  o.dry_run = true;
  auto r = svc->Repair(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->dry_run);
  EXPECT_FALSE(r->actions.empty());
  for (const auto& a : r->actions) EXPECT_FALSE(a.applied);
  EXPECT_EQ(QueryInt(db, "SELECT event_count FROM telemetry_sessions WHERE id = 'sess-0'"), 11);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_sessions WHERE id = 'ghost'"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_audit_log"), audit_before);
}

TEST_P(Repair, WithoutFixConstraintsFixesCountersAndRollupsButLeavesOrphans) {
  const std::string db = Db();
  testing::PopulateDatabase(db, 4);
  InjectDefects(db);
  auto svc = OpenIntegrity(db);
  ASSERT_NE(svc, nullptr);
  RepairOptions o;
  o.dry_run = false;
  auto r = svc->Repair(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto left = Kinds(r->remaining);
  EXPECT_EQ(left[FindingKind::kSessionCounters], 0);
  EXPECT_EQ(left[FindingKind::kStatsRollup], 0) << Describe(r->remaining);
  EXPECT_EQ(left[FindingKind::kMinuteRollups], 0);
  EXPECT_EQ(left[FindingKind::kOrphanedEvents], 1);
  EXPECT_EQ(QueryInt(db, "SELECT event_count FROM telemetry_sessions WHERE id = 'sess-0'"), 6);
  EXPECT_EQ(QueryInt(db, "SELECT error_count FROM telemetry_sessions WHERE id = 'sess-0'"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events WHERE session_id = 'ghost'"), 3);
  for (const auto& a : r->actions) {
    if (a.finding.needs_fix_constraints) {
      EXPECT_FALSE(a.applied) << a.finding.detail;
    }
  }
}

TEST_P(Repair, FixesEveryFindingAuditsEachAndValidatesClean) {
  const std::string db = Db();
  testing::PopulateDatabase(db, 6);
  const std::int64_t events_before = QueryInt(db, "SELECT count(*) FROM telemetry_events");
  InjectDefects(db);
  auto svc = OpenIntegrity(db);
  ASSERT_NE(svc, nullptr);
  RepairOptions o;
  o.fix_constraints = true;
  o.dry_run = false;
  o.reason = "test repair";
  auto r = svc->Repair(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->remaining.empty()) << Describe(r->remaining);
  for (const auto& a : r->actions) EXPECT_TRUE(a.applied) << a.finding.detail << " -> " << a.action;
  auto v = svc->Validate(true);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok()) << Describe(v->findings);

  // Nothing was thrown away: the ghost session is back with its 3 events, the errors are kept.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), events_before + 3);
  EXPECT_EQ(QueryText(db, "SELECT status || '/' || event_count || '/' || start_time || '/' || "
                          "end_time FROM telemetry_sessions WHERE id = 'ghost'"),
            "completed/3/1767225600000/1767225605000");
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_errors WHERE error_message = 'lost "
                         "event' AND event_id IS NULL"), 1);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_errors WHERE error_message = 'lost "
                         "session' AND session_id IS NULL"), 1);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_delivery_sessions WHERE session_id = "
                         "'vanished'"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT total_events FROM telemetry_stats WHERE stat_type = 'global'"),
            events_before + 3);

  // Each fix left an audit row with the reason, old and new values.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_audit_log WHERE reason = 'test repair'"),
            r->audit_rows);
  auto counters = svc->GetAuditHistory("telemetry_sessions", "sess-0");
  ASSERT_TRUE(counters.ok());
  bool found = false;
  for (const AuditEntry& e : *counters) {
    if (e.reason != "test repair") continue;
    found = true;
    EXPECT_EQ(e.operation, "UPDATE");
    EXPECT_NE(e.old_values->find("\"event_count\":11"), std::string::npos) << *e.old_values;
    EXPECT_NE(e.new_values->find("\"event_count\":6"), std::string::npos) << *e.new_values;
  }
  EXPECT_TRUE(found);
  auto ghost = svc->GetAuditHistory("telemetry_sessions", "ghost");
  ASSERT_TRUE(ghost.ok());
  ASSERT_EQ(ghost->size(), 1u);
  EXPECT_EQ((*ghost)[0].operation, "INSERT");
  for (const char* table : {"telemetry_errors", "telemetry_stats", "telemetry_minute_rollups",
                            "telemetry_delivery_sessions"}) {
    EXPECT_GE(QueryInt(db, std::string("SELECT count(*) FROM telemetry_audit_log WHERE reason = "
                                       "'test repair' AND table_name = '") + table + "'"), 1)
        << table;
  }
  // A second repair has nothing to do.
  auto again = svc->Repair(o);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->actions.empty());
  EXPECT_EQ(again->audit_rows, 0);
}

static_assert(testing::WriterLockHolder::kPgWriterLockKey == store::postgres::kWriterLockKey);

// A repair beside a running writer waits for its transaction (SQLite's write lock, PostgreSQL's
// writer advisory lock) instead of interleaving with it, then applies.
TEST_P(Repair, WaitsForAnotherWritersTransactionThenApplies) {
  const std::string db = Db();
  testing::PopulateDatabase(db, 3);
  ExecSql(db, "UPDATE telemetry_sessions SET event_count = 50 WHERE id = 'sess-1'");
  auto svc = OpenIntegrity(db);
  ASSERT_NE(svc, nullptr);
  RepairOptions o;
  o.dry_run = false;
  testing::WriterLockHolder writer(db);
  auto repair = std::async(std::launch::async, [&] { return svc->Repair(o); });
  // Held: the repair cannot have written (a wait, not a sleep the test depends on).
  EXPECT_EQ(repair.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  EXPECT_EQ(QueryInt(db, "SELECT event_count FROM telemetry_sessions WHERE id = 'sess-1'"), 50);
  writer.Release();
  auto r = repair.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->remaining.empty()) << Describe(r->remaining);
  EXPECT_EQ(QueryInt(db, "SELECT event_count FROM telemetry_sessions WHERE id = 'sess-1'"), 7);
}

TEST_P(Validate, RefusesAnOldSchemaWithAHint) {
  const std::string db = Db();
  testing::PopulateDatabase(db, 1);
  auto svc = OpenIntegrity(db);
  ASSERT_TRUE(svc->RollbackTo("1.2.0").ok());
  auto r = svc->Validate(false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("db migrate"), std::string::npos);
}

}  // namespace
}  // namespace vibekit
