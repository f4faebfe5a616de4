// On both backends (one parametrised suite: SQLite file, PostgreSQL schema).
// The audit trail: session status/end changes, timeouts and revivals, error resolution, rule
// changes, retention purges, and GetAuditHistory / QueryAudit ordering and filters.
#include <gtest/gtest.h>

#include <string>

#include "integrity/integrity_test_util.h"
#include "vibekit/data_integrity.h"

namespace vibekit {
namespace {

using testing::ExecSql;
using testing::QueryInt;
using testing::TempDir;
using testing::TestConfig;
using testing::WaitFor;
using testing::WallNowMs;

std::unique_ptr<DataIntegrityService> OpenIntegrity(const std::string& db) {
  auto r = DataIntegrityService::Open(TestConfig(db));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(*r) : nullptr;
}

class Audit : public testing::BackendTest {};
INSTANTIATE_TEST_SUITE_P(Backends, Audit, testing::IntegrityBackends(),
                         testing::BackendName);

TEST_P(Audit, SessionEndIsAuditedOnceWithOldAndNewValuesNotEachStreamEvent) {
  const std::string db = Db();
  {
    TelemetryService s(TestConfig(db));
    ASSERT_OK(s.Initialize());
    const std::int64_t t = WallNowMs() - 60000;
    TrackStartParams p{"s1", "claude"};
    p.timestamp = t;
    ASSERT_OK(s.TrackStart(p));
    ASSERT_OK(s.FlushBuffers());
    for (int i = 0; i < 50; ++i) {
      TrackStreamParams sp{"s1", "claude"};
      sp.stream_data = "token " + std::to_string(i);
      sp.timestamp = t + 10 + i;
      ASSERT_OK(s.TrackStream(sp));
      if (i % 10 == 0) ASSERT_OK(s.FlushBuffers());  // several batches, several updates
    }
    ASSERT_OK(s.FlushBuffers());
    // (The seven default rules of schema 1.7.0 were audited when they were added.)
    EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_audit_log WHERE table_name <> "
                           "'telemetry_validation_rules'"), 0);
    TrackEndParams end{"s1", "claude"};
    end.timestamp = t + 5000;
    ASSERT_OK(s.TrackEnd(end));
    ASSERT_OK(s.Shutdown());
  }
  auto svc = OpenIntegrity(db);
  ASSERT_NE(svc, nullptr);
  auto h = svc->GetAuditHistory("telemetry_sessions", "s1");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_EQ(h->size(), 1u);
  const AuditEntry& e = h->front();
  EXPECT_EQ(e.operation, "UPDATE");
  EXPECT_EQ(e.record_id, "s1");
  EXPECT_EQ(e.reason, "end event");
  EXPECT_EQ(e.changed_fields, (std::vector<std::string>{"status", "end_time", "duration"}));
  ASSERT_TRUE(e.old_values && e.new_values);
  EXPECT_NE(e.old_values->find("\"status\":\"active\""), std::string::npos) << *e.old_values;
  EXPECT_NE(e.old_values->find("\"end_time\":null"), std::string::npos) << *e.old_values;
  EXPECT_NE(e.new_values->find("\"status\":\"completed\""), std::string::npos) << *e.new_values;
  EXPECT_NE(e.new_values->find("\"duration\":5000"), std::string::npos) << *e.new_values;
  EXPECT_GT(e.timestamp, 0);
}

TEST_P(Audit, ErrorEventTimeoutAndRevivalAreAuditedWithReasons) {
  const std::string db = Db();
  TelemetryConfig c = TestConfig(db);
  c.local_store.session_timeout_ms = 200;
  c.local_store.timeout_check_interval_ms = 50;
  {
    TelemetryService s(c);
    ASSERT_OK(s.Initialize());
    ASSERT_OK(s.TrackStart({"quiet", "codex"}));
    ASSERT_OK(s.FlushBuffers());
    ASSERT_TRUE(WaitFor([&] {
      return QueryInt(db, "SELECT count(*) FROM telemetry_sessions WHERE status = 'timeout'") == 1;
    }));
    TrackStreamParams sp{"quiet", "codex"};
    sp.stream_data = "back again";
    ASSERT_OK(s.TrackStream(sp));
    TrackErrorParams e;
    e.session_id = "quiet";
    e.agent_type = "codex";
    e.error = "boom";
    ASSERT_OK(s.TrackError(e));
    ASSERT_OK(s.FlushBuffers());
    ASSERT_OK(s.Shutdown());
  }
  auto svc = OpenIntegrity(db);
  ASSERT_NE(svc, nullptr);
  auto h = svc->GetAuditHistory("telemetry_sessions", "quiet");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  std::vector<std::string> reasons;
  for (const AuditEntry& e : *h) reasons.push_back(e.reason);
  // Stream and error may share a batch: then active -> failed is one change.
  ASSERT_GE(reasons.size(), 2u);
  EXPECT_EQ(reasons[0], "session timed out (no event within the timeout)");
  EXPECT_NE((*h)[0].new_values->find("\"status\":\"timeout\""), std::string::npos);
  EXPECT_EQ(reasons.back(), "error event or failed end event");
  EXPECT_NE(h->back().new_values->find("\"status\":\"failed\""), std::string::npos);
  for (std::size_t i = 1; i < h->size(); ++i) {
    EXPECT_LE((*h)[i - 1].timestamp, (*h)[i].timestamp);
  }
}

TEST_P(Audit, ErrorResolutionAndRuleChangesAreAudited) {
  const std::string db = Db();
  testing::PopulateDatabase(db, 3);
  const std::int64_t error_id = QueryInt(db, "SELECT min(id) FROM telemetry_errors");
  ASSERT_GT(error_id, 0);
  ExecSql(db, "UPDATE telemetry_errors SET resolved = 1, resolved_at = 1767225600000, "
              "resolved_by = 'ana' WHERE id = " + std::to_string(error_id));
  ExecSql(db, "INSERT INTO telemetry_validation_rules (table_name, field_name, rule_type, "
              "rule_config, is_active, priority) VALUES ('telemetry_events', 'agent_type', "
              "'max_length', '{\"max\":64}', 1, 5)");
  const std::string rule_id =
      std::to_string(QueryInt(db, "SELECT max(id) FROM telemetry_validation_rules"));
  ExecSql(db, "UPDATE telemetry_validation_rules SET is_active = 0");
  ExecSql(db, "DELETE FROM telemetry_validation_rules");
  auto svc = OpenIntegrity(db);
  ASSERT_NE(svc, nullptr);
  auto errs = svc->GetAuditHistory("telemetry_errors", std::to_string(error_id));
  ASSERT_TRUE(errs.ok());
  ASSERT_EQ(errs->size(), 1u);
  EXPECT_EQ((*errs)[0].reason, "error resolved");
  EXPECT_EQ((*errs)[0].timestamp, 1767225600000);
  EXPECT_EQ((*errs)[0].changed_fields,
            (std::vector<std::string>{"resolved", "resolved_at", "resolved_by"}));
  EXPECT_NE((*errs)[0].new_values->find("\"resolved_by\":\"ana\""), std::string::npos);
  auto rules = svc->GetAuditHistory("telemetry_validation_rules", rule_id);
  ASSERT_TRUE(rules.ok());
  ASSERT_EQ(rules->size(), 3u);
  EXPECT_EQ((*rules)[0].operation, "INSERT");
  EXPECT_EQ((*rules)[1].operation, "UPDATE");
  EXPECT_EQ((*rules)[1].reason, "validation rule disabled");
  EXPECT_EQ((*rules)[1].changed_fields, std::vector<std::string>{"is_active"});
  EXPECT_EQ((*rules)[2].operation, "DELETE");
  EXPECT_NE((*rules)[2].old_values->find("\"rule_type\":\"max_length\""), std::string::npos);
}

TEST_P(Audit, RetentionPurgeShowsInTheHistoryOfEachPurgedSession) {
  const std::string db = Db();
  {
    TelemetryService s(TestConfig(db));
    ASSERT_OK(s.Initialize());
    const std::int64_t old = WallNowMs() - 40LL * 86400000;
    for (const char* id : {"old-a", "old-b"}) {
      TrackStartParams p{id, "claude"};
      p.timestamp = old;
      ASSERT_OK(s.TrackStart(p));
    }
    ASSERT_OK(s.TrackStart({"fresh", "claude"}));
    ASSERT_OK(s.FlushBuffers());
    auto removed = s.ClearOldData(30);
    ASSERT_TRUE(removed.ok());
    EXPECT_EQ(*removed, 2);
    ASSERT_OK(s.Shutdown());
  }
  auto svc = OpenIntegrity(db);
  ASSERT_NE(svc, nullptr);
  for (const char* id : {"old-a", "old-b"}) {
    auto h = svc->GetAuditHistory("telemetry_sessions", id);
    ASSERT_TRUE(h.ok());
    ASSERT_EQ(h->size(), 1u) << id;
    EXPECT_EQ((*h)[0].operation, "DELETE");
    EXPECT_EQ((*h)[0].record_id, "");  // one row for the whole purge
    EXPECT_NE((*h)[0].old_values->find("old-a"), std::string::npos);
  }
  auto fresh = svc->GetAuditHistory("telemetry_sessions", "fresh");
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->empty());
}

TEST_P(Audit, QueryAuditOrdersByTimeAndFiltersByTableRecordAndRange) {
  const std::string db = Db();
  testing::PopulateDatabase(db, 2);
  // Rows written out of time order, in two tables.
  ExecSql(db,
          "INSERT INTO telemetry_audit_log (table_name, record_id, operation, reason, timestamp) "
          "VALUES ('telemetry_sessions', 'x', 'UPDATE', 'third', 3000), "
          "('telemetry_sessions', 'x', 'UPDATE', 'first', 1000), "
          "('telemetry_errors', '7', 'UPDATE', 'other table', 1500), "
          "('telemetry_sessions', 'y', 'UPDATE', 'second', 2000)");
  auto svc = OpenIntegrity(db);
  ASSERT_NE(svc, nullptr);
  AuditQuery q;
  q.table = "telemetry_sessions";
  q.until_ms = 5000;
  auto all = svc->QueryAudit(q);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].reason, "first");
  EXPECT_EQ((*all)[1].reason, "second");
  EXPECT_EQ((*all)[2].reason, "third");
  q.record_id = "x";
  auto x = svc->QueryAudit(q);
  ASSERT_TRUE(x.ok());
  ASSERT_EQ(x->size(), 2u);
  q.since_ms = 2000;
  auto later = svc->QueryAudit(q);
  ASSERT_TRUE(later.ok());
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ((*later)[0].reason, "third");
  q.record_id.reset();
  q.since_ms.reset();
  q.limit = 1;
  auto one = svc->QueryAudit(q);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].reason, "first");
  AuditQuery every;
  every.until_ms = 5000;
  auto both = svc->QueryAudit(every);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->size(), 4u);

  AuditQuery bad;
  bad.table = "no_such_table";
  EXPECT_EQ(svc->QueryAudit(bad).status().code(), StatusCode::kInvalidArgument);
  bad.table = "sqlite_master";
  EXPECT_EQ(svc->QueryAudit(bad).status().code(), StatusCode::kInvalidArgument);
  AuditQuery zero;
  zero.limit = 0;
  EXPECT_EQ(svc->QueryAudit(zero).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(svc->GetAuditHistory("", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(svc->GetAuditHistory("telemetry_sessions", "").status().code(),
            StatusCode::kInvalidArgument);
}

// Opening: a SQLite file that is not there, a PostgreSQL server that cannot be reached.
TEST(AuditOpen, OpenFailsClearlyOnAMissingFile) {
  TempDir dir;
  auto r = DataIntegrityService::Open(TestConfig(dir.File("missing.db")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("db init"), std::string::npos);
}

TEST(AuditOpen, OpenFailsClearlyWhenPostgreSqlCannotBeReached) {
  TempDir dir;  // no server listens on a socket in it
  auto r = DataIntegrityService::Open(
      TestConfig("postgresql:///vk_tests?host=" + dir.path() + "&user=postgres"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
}

}  // namespace
}  // namespace vibekit
