// `vibekit db init | health | stats | optimize | vacuum | clear | performance` of the real binary
// on small real databases, on both backends (a SQLite file, a PostgreSQL schema of the run's
// cluster): JSON parsed back and checked against the database and the library.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "e2e/cli_runner.h"
#include "testing/pg_cluster.h"
#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"
#include "workload/workload.h"

namespace vibekit {
namespace {

namespace json = boost::json;
using testing::Backend;
using testing::FileSize;
using testing::QueryInt;
using testing::TempDir;
using testing::TestConfig;

// PostgreSQL: the total size of the store's tables, what the commands report as its size.
constexpr const char* kPgTablesBytes =
    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON "
    "n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = current_schema() AND "
    "c.relname LIKE 'telemetry%'";
// PostgreSQL: tables of this schema that a manual VACUUM / ANALYZE has touched.
std::int64_t PgTablesWith(const std::string& db, const std::string& column) {
  return QueryInt(db, "SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = "
                      "current_schema() AND " + column + " IS NOT NULL");
}


json::object ParseObject(const CliRun& r) {
  json::value v = json::parse(r.out);
  EXPECT_TRUE(v.is_object()) << r.out;
  return v.is_object() ? v.as_object() : json::object();
}

std::vector<std::string> StepNames(const json::object& o) {
  std::vector<std::string> names;
  for (const auto& s : o.at("steps").as_array()) {
    names.emplace_back(s.as_object().at("name").as_string());
    EXPECT_GE(s.as_object().at("durationMs").to_number<double>(), 0);
  }
  return names;
}

// A small database (events committed in many transactions, so the text index has several
// segments), closed again.
void MakeDb(const std::string& path, std::int64_t events) {
  TelemetryService s(TestConfig(path));
  ASSERT_OK(s.Initialize());
  workload::WorkloadOptions wo;
  wo.total_events = events;
  wo.seed = 21;
  wo.concurrent_sessions = 8;
  wo.start_time_ms = testing::WallNowMs() - 3600 * 1000;
  workload::Generator gen(wo);
  Event e;
  int n = 0;
  while (gen.Next(&e)) {
    ASSERT_OK(s.Track(e));
    if (++n % 40 == 0) ASSERT_OK(s.FlushBuffers());
    if (n % 200 == 0) {  // the text index catches up first: a segment of its own
      EventQueryFilter f;
      f.contains = "error";
      ASSERT_TRUE(s.QueryEvents(f).ok());
    }
  }
  ASSERT_OK(s.Shutdown());
}

std::vector<std::int64_t> SearchIds(const std::string& db, const std::string& text) {
  TelemetryService s(TestConfig(db));
  EXPECT_OK(s.Initialize());
  return testing::SearchIds(s, text);
}

class CliDbTest : public CliBackendTest {};
VK_CLI_BACKENDS(CliDbTest);

TEST_P(CliDbTest, OptimizeRefreshesStatisticsAndSearchStillFindsTheSameEvents) {
  const std::string& db = db_;
  MakeDb(db, 800);
  const std::vector<std::string> terms = workload::SearchTerms();
  std::vector<std::vector<std::int64_t>> before;
  for (const std::string& t : terms) before.push_back(SearchIds(db, t));

  CliRun r = Vibekit("db optimize" + Db() + "--format json");
  ASSERT_EQ(r.code, 0) << r.err;
  json::object o = ParseObject(r);
  EXPECT_EQ(o.at("dbPath").as_string(), db);
  EXPECT_FALSE(o.at("rebuildIndexes").as_bool());
  if (pg()) {
    // ANALYZE of the store's tables; a GIN index has no segments to merge.
    EXPECT_EQ(StepNames(o), (std::vector<std::string>{"analyze"}));
    EXPECT_EQ(o.at("backend").as_string(), "postgres");
    EXPECT_EQ(o.at("ftsSegmentsBefore").as_int64(), -1);
    EXPECT_GT(o.at("databaseSizeAfterBytes").as_int64(), 0);
    EXPECT_FALSE(o.contains("fileSizeAfterBytes"));
    EXPECT_GE(PgTablesWith(db, "last_analyze"), 8);
  } else {
    EXPECT_EQ(StepNames(o),
              (std::vector<std::string>{"pragma_optimize", "analyze", "fts_optimize"}));
    EXPECT_GT(o.at("ftsSegmentsBefore").as_int64(), 1);
    EXPECT_EQ(o.at("ftsSegmentsAfter").as_int64(), 1);
    EXPECT_GT(QueryInt(db, "SELECT count(*) FROM sqlite_stat1"), 0);
  }
  for (std::size_t i = 0; i < terms.size(); ++i) EXPECT_EQ(SearchIds(db, terms[i]), before[i]);

  r = Vibekit("db optimize --rebuild-indexes" + Db() + "--format json");
  ASSERT_EQ(r.code, 0) << r.err;
  o = ParseObject(r);
  EXPECT_TRUE(o.at("rebuildIndexes").as_bool());
  std::set<std::string> reindexed;
  for (const auto& s : o.at("steps").as_array()) {
    if (s.as_object().at("name").as_string() == "reindex") {
      reindexed.insert(std::string(s.as_object().at("detail").as_string()));
    }
  }
  if (pg()) {
    // Every table of ours with its index count, as the catalogue says.
    const std::int64_t events_indexes = QueryInt(
        db, "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND "
            "tablename = 'telemetry_events'");
    ASSERT_GT(events_indexes, 3);
    EXPECT_TRUE(reindexed.count("telemetry_events (" + std::to_string(events_indexes) +
                                " indexes)")) << r.out;
    EXPECT_EQ(static_cast<std::int64_t>(reindexed.size()),
              QueryInt(db, "SELECT count(DISTINCT tablename) FROM pg_indexes WHERE schemaname = "
                           "current_schema() AND tablename LIKE 'telemetry%'")) << r.out;
    EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = "
                           "i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                           "n.nspname = current_schema() AND NOT i.indisvalid"),
              0);
  } else {
    EXPECT_TRUE(reindexed.count("telemetry_events (3 indexes)")) << r.out;
    EXPECT_TRUE(reindexed.count("telemetry_sessions (6 indexes)")) << r.out;
    EXPECT_TRUE(reindexed.count("telemetry_stats (1 index)")) << r.out;
    EXPECT_EQ(testing::QueryText(db, "PRAGMA integrity_check"), "ok");
  }
  for (std::size_t i = 0; i < terms.size(); ++i) EXPECT_EQ(SearchIds(db, terms[i]), before[i]);

  r = Vibekit("db optimize" + Db());  // table format
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(pg() ? "analyze" : "fts_optimize"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("totalMs"), std::string::npos) << r.out;
}

TEST_P(CliDbTest, VacuumReportsTheSizesOfTheDatabase) {
  const std::string& db = db_;
  MakeDb(db, 600);
  const std::int64_t events = QueryInt(db, "SELECT count(*) FROM telemetry_events");
  if (pg()) {
    const std::int64_t size_before = QueryInt(db, kPgTablesBytes);
    CliRun r = Vibekit("db vacuum --analyze" + Db() + "--format json");
    ASSERT_EQ(r.code, 0) << r.err;
    json::object o = ParseObject(r);
    EXPECT_EQ(StepNames(o), (std::vector<std::string>{"vacuum"}));
    EXPECT_NE(std::string(o.at("steps").as_array()[0].as_object().at("detail").as_string())
                  .find("VACUUM (ANALYZE)"),
              std::string::npos) << r.out;
    EXPECT_TRUE(o.at("analyze").as_bool());
    EXPECT_EQ(o.at("backend").as_string(), "postgres");
    EXPECT_EQ(o.at("databaseSizeBeforeBytes").as_int64(), size_before);
    EXPECT_EQ(o.at("databaseSizeAfterBytes").as_int64(), QueryInt(db, kPgTablesBytes));
    for (const char* key : {"fileSizeBeforeBytes", "fileSizeAfterBytes", "walSizeBeforeBytes",
                            "walSizeAfterBytes"}) {
      EXPECT_FALSE(o.contains(key)) << key;
    }
    EXPECT_EQ(o.at("bytesFreed").as_int64(), o.at("databaseSizeBeforeBytes").as_int64() -
                                                 o.at("databaseSizeAfterBytes").as_int64());
    EXPECT_GE(PgTablesWith(db, "last_vacuum"), 8);
    EXPECT_GE(PgTablesWith(db, "last_analyze"), 8);
    r = Vibekit("db vacuum" + Db());  // table format: no file sizes to show
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("databaseSizeAfterBytes"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("file"), std::string::npos) << r.out;
    EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), events);
    return;
  }
  const std::int64_t size_before = FileSize(db);
  CliRun r = Vibekit("db vacuum --analyze" + Db() + "--format json");
  ASSERT_EQ(r.code, 0) << r.err;
  json::object o = ParseObject(r);
  EXPECT_EQ(StepNames(o), (std::vector<std::string>{"vacuum", "analyze", "wal_checkpoint"}));
  EXPECT_TRUE(o.at("analyze").as_bool());
  EXPECT_EQ(o.at("fileSizeBeforeBytes").as_int64(), size_before);
  EXPECT_EQ(o.at("fileSizeAfterBytes").as_int64(), FileSize(db));
  EXPECT_EQ(o.at("walSizeAfterBytes").as_int64(), 0);
  EXPECT_EQ(FileSize(db + "-wal"), 0);
  EXPECT_EQ(o.at("bytesFreed").as_int64(),
            o.at("fileSizeBeforeBytes").as_int64() + o.at("walSizeBeforeBytes").as_int64() -
                o.at("fileSizeAfterBytes").as_int64());
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), events);
  EXPECT_GT(QueryInt(db, "SELECT count(*) FROM sqlite_stat1"), 0);

  r = Vibekit("db vacuum" + Db() + "--format json");
  ASSERT_EQ(r.code, 0) << r.err;
  o = ParseObject(r);
  EXPECT_EQ(StepNames(o), (std::vector<std::string>{"vacuum", "wal_checkpoint"}));
  EXPECT_FALSE(o.at("analyze").as_bool());
  EXPECT_EQ(o.at("fileSizeAfterBytes").as_int64(), FileSize(db));
}

TEST_P(CliDbTest, InitHealthAndStatsNameTheBackendsSize) {
  CliRun init = Vibekit("db init --verbose" + Db());
  ASSERT_EQ(init.code, 0) << init.err;
  EXPECT_EQ(init.out.rfind("database ready: " + db_, 0), 0u) << init.out;
  EXPECT_NE(init.out.find("  migration 1.0.0 applied "), std::string::npos) << init.out;
  EXPECT_NE(init.out.find(pg() ? "  backend: postgres" : "  file: created"), std::string::npos)
      << init.out;
  EXPECT_EQ(init.out.find("  file: ") == std::string::npos, pg()) << init.out;
  MakeDb(db_, 300);
  const std::int64_t events = QueryInt(db_, "SELECT count(*) FROM telemetry_events");

  CliRun h = Vibekit("db health" + Db() + "--format json");
  ASSERT_EQ(h.code, 0) << h.err;
  json::object o = ParseObject(h);
  EXPECT_TRUE(o.at("database").as_bool());
  EXPECT_EQ(o.at("quickCheck").as_string(), "ok");
  EXPECT_EQ(o.at("dbPath").as_string(), db_);
  EXPECT_EQ(o.at("backend").as_string(), pg() ? "postgres" : "sqlite");
  if (pg()) {
    EXPECT_EQ(o.at("databaseSizeBytes").as_int64(), QueryInt(db_, kPgTablesBytes));
    EXPECT_FALSE(o.contains("fileSizeBytes"));
    EXPECT_FALSE(o.contains("diskFreeBytes"));  // the server's disk, not ours to measure
  } else {
    EXPECT_EQ(o.at("fileSizeBytes").as_int64(), FileSize(db_) + FileSize(db_ + "-wal"));
    EXPECT_GT(o.at("diskFreeBytes").as_int64(), 0);
    EXPECT_FALSE(o.contains("databaseSizeBytes"));
  }
  for (const char* args : {"db health", "db health --detailed", "db stats"}) {
    CliRun t = Vibekit(std::string(args) + Db());  // table format
    ASSERT_EQ(t.code, 0) << args << ": " << t.err;
    EXPECT_NE(t.out.find(pg() ? "databaseSizeBytes" : "fileSizeBytes"), std::string::npos)
        << args << ": " << t.out;
    if (pg()) {
      EXPECT_EQ(t.out.find("fileSize"), std::string::npos) << args << ": " << t.out;
      EXPECT_EQ(t.out.find("walSize"), std::string::npos) << args << ": " << t.out;
    }
  }
  CliRun s = Vibekit("db stats" + Db() + "--format json");
  ASSERT_EQ(s.code, 0) << s.err;
  json::object st = ParseObject(s);
  EXPECT_EQ(st.at("totalEvents").as_int64(), events);
  EXPECT_EQ(st.at("sessions").as_int64(), QueryInt(db_, "SELECT count(*) FROM telemetry_sessions"));
  EXPECT_EQ(st.at("oldestEventTime").as_int64(),
            QueryInt(db_, "SELECT min(timestamp) FROM telemetry_events"));
  EXPECT_GT(st.at(pg() ? "databaseSizeBytes" : "fileSizeBytes").as_int64(), 0);
  EXPECT_FALSE(st.contains(pg() ? "fileSizeBytes" : "databaseSizeBytes"));
}

TEST_P(CliDbTest, ClearWithoutYesOnANonTerminalRefusesAndDeletesNothing) {
  const std::string& db = db_;
  MakeDb(db, 300);
  const std::int64_t events = QueryInt(db, "SELECT count(*) FROM telemetry_events");
  const std::int64_t audits = QueryInt(db, "SELECT count(*) FROM telemetry_audit_log");
  ASSERT_GT(events, 0);
  CliRun r = Vibekit("db clear" + Db());
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--yes"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), events);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_audit_log"), audits);
}

TEST_P(CliDbTest, ClearWithYesRemovesAllTelemetry) {
  const std::string& db = db_;
  MakeDb(db, 500);
  const std::int64_t events = QueryInt(db, "SELECT count(*) FROM telemetry_events");
  const std::int64_t sessions = QueryInt(db, "SELECT count(*) FROM telemetry_sessions");
  const std::int64_t versions = QueryInt(db, "SELECT count(*) FROM telemetry_schema_versions");
  const std::int64_t audits = QueryInt(db, "SELECT count(*) FROM telemetry_audit_log");
  const std::string term = workload::SearchTerms().back();
  ASSERT_FALSE(SearchIds(db, term).empty());
  CliRun r = Vibekit("db clear --yes" + Db() + "--format json");
  ASSERT_EQ(r.code, 0) << r.err;
  json::object o = ParseObject(r);
  EXPECT_EQ(o.at("eventsRemoved").as_int64(), events);
  EXPECT_EQ(o.at("sessionsRemoved").as_int64(), sessions);
  EXPECT_EQ(o.at("dbPath").as_string(), db);
  {
    TelemetryService s(TestConfig(db));
    ASSERT_OK(s.Initialize());
    EventQueryFilter f;
    f.limit = 100000;
    auto left = s.QueryEvents(f);
    ASSERT_TRUE(left.ok());
    EXPECT_TRUE(left->empty());
    auto sess = s.QuerySessions(SessionQueryFilter{});
    ASSERT_TRUE(sess.ok());
    EXPECT_TRUE(sess->empty());
    auto stats = s.GetAggregateStats();
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->total.total_events, 0);
    auto v = s.GetSchemaVersions();
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(static_cast<std::int64_t>(v->size()), versions);
  }
  EXPECT_TRUE(SearchIds(db, term).empty());
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_errors"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_audit_log"), audits + 1);

  r = Vibekit("db clear -y" + Db());  // an empty database: nothing to remove, still fine
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("eventsRemoved"), std::string::npos) << r.out;
}

TEST_P(CliDbTest, ClearOfAMissingDatabaseFails) {
  // A file that is not there; a PostgreSQL database that does not exist on the server.
  const std::string missing = pg() ? testing::PgCluster::Get().Url("vk_no_such_database")
                                   : dir_.File("none.db");
  CliRun r = Vibekit("db clear --yes --db '" + missing + "'");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  if (pg()) {
    EXPECT_NE(r.err.find("cannot connect to PostgreSQL"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("vk_no_such_database"), std::string::npos) << r.err;
  } else {
    EXPECT_NE(r.err.find("db init"), std::string::npos) << r.err;
    EXPECT_EQ(FileSize(missing), 0);
  }
}

// One database per backend, filled once for the suite.
class CliDbPerformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    db_ = SuiteDatabase("CliDbPerformance", GetParam(), [](const std::string& db) {
      MakeDb(db, 600);
    });
    at_ = " --db '" + db_ + "' ";
  }
  std::string db_;
  std::string at_;  // the --db flag, quoted
};

INSTANTIATE_TEST_SUITE_P(Backends, CliDbPerformance,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

TEST_P(CliDbPerformance, TimesTheStandardQueries) {
  CliRun r = Vibekit("db performance" + at_ + " --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  json::object o = ParseObject(r);
  EXPECT_EQ(o.at("runs").as_int64(), 20);
  EXPECT_EQ(o.at("events").as_int64(), QueryInt(db_, "SELECT count(*) FROM telemetry_events"));
  std::vector<std::string> names;
  for (const auto& qv : o.at("queries").as_array()) {
    const json::object& q = qv.as_object();
    names.emplace_back(q.at("name").as_string());
    EXPECT_EQ(q.at("runs").as_int64(), 20);
    EXPECT_LE(q.at("minMs").to_number<double>(), q.at("p50Ms").to_number<double>());
    EXPECT_LE(q.at("p50Ms").to_number<double>(), q.at("p95Ms").to_number<double>());
    EXPECT_LE(q.at("p95Ms").to_number<double>(), q.at("maxMs").to_number<double>());
    EXPECT_FALSE(q.contains("plans"));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"session_events", "agent_latest_100",
                                             "sessions_by_status", "aggregate_stats",
                                             "text_search"}));
  // The session query used the newest session and returned all its events.
  const json::object& se = o.at("queries").as_array()[0].as_object();
  const std::string newest = testing::QueryText(
      db_, "SELECT id FROM telemetry_sessions ORDER BY start_time DESC, id DESC LIMIT 1");
  EXPECT_NE(std::string(se.at("description").as_string()).find(newest), std::string::npos);
  EXPECT_EQ(se.at("rows").as_int64(),
            QueryInt(db_, "SELECT count(*) FROM telemetry_events WHERE session_id = '" + newest +
                              "'"));
  EXPECT_FALSE(o.contains("findings"));
  EXPECT_FALSE(o.contains("slowQueries"));
}

TEST_P(CliDbPerformance, BenchmarkRuns200Times) {
  CliRun r = Vibekit("db performance --benchmark" + at_ + " --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  json::object o = ParseObject(r);
  EXPECT_EQ(o.at("runs").as_int64(), 200);
  for (const auto& q : o.at("queries").as_array()) EXPECT_EQ(q.as_object().at("runs").as_int64(), 200);
}

TEST_P(CliDbPerformance, AnalyzeExplainsAndRecommendsOptimizeUntilItRan) {
  const bool pg = GetParam() == Backend::kPostgres;
  for (const char* flag : {"--analyze", "--optimization-report"}) {
    CliRun r = Vibekit(std::string("db performance ") + flag + at_ + " --format json");
    ASSERT_EQ(r.code, 0) << r.err;
    json::object o = ParseObject(r);
    for (const auto& qv : o.at("queries").as_array()) {
      const json::object& q = qv.as_object();
      ASSERT_FALSE(q.at("plans").as_array().empty()) << q.at("name");
      bool seq_scan = false;
      for (const auto& p : q.at("plans").as_array()) {
        EXPECT_FALSE(p.as_object().at("plan").as_array().empty());
        seq_scan = seq_scan || json::serialize(p).find("Seq Scan on telemetry_events ") !=
                                   std::string::npos;
      }
      // SQLite walks an index for every standard query; PostgreSQL's planner may prefer a
      // sequential scan of a small table, and then it is reported as one.
      EXPECT_EQ(q.at("fullScan").as_bool(), pg && seq_scan) << q.at("name");
    }
    const std::string plan0 = json::serialize(o.at("queries").as_array()[0]);
    EXPECT_NE(plan0.find(pg ? "telemetry_events" : "idx_events_session_time"), std::string::npos)
        << plan0;
    EXPECT_EQ(o.at("ftsDataRows").as_int64(),
              pg ? 0 : QueryInt(db_ + "-text", "SELECT count(*) FROM telemetry_events_fts_data"));
    // Without planner statistics the report recommends gathering them (autovacuum may gather
    // PostgreSQL's on its own at any moment, so the report's own verdict decides).
    if (!o.at("plannerStatistics").as_bool()) {
      EXPECT_NE(json::serialize(o.at("recommendations")).find("vibekit db optimize"),
                std::string::npos);
    }
  }
  ASSERT_EQ(Vibekit("db optimize" + at_).code, 0);
  CliRun r = Vibekit("db performance --analyze" + at_ + " --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  json::object o = ParseObject(r);
  EXPECT_TRUE(o.at("plannerStatistics").as_bool());
  EXPECT_EQ(o.at("ftsSegments").as_int64(), pg ? -1 : 1);
  const std::string recommendations = json::serialize(o.at("recommendations"));
  EXPECT_EQ(recommendations.find("planner statistics"), std::string::npos) << r.out;
  if (!pg) {
    EXPECT_TRUE(o.at("recommendations").as_array().empty()) << r.out;
  }

  r = Vibekit("db performance --analyze" + at_);  // table format shows the plans
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("plan of session_events"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(pg ? "on telemetry_events" : "SEARCH telemetry_events"), std::string::npos)
      << r.out;
}

TEST_P(CliDbPerformance, SlowQueriesListsExactlyTheQueriesAbove10Ms) {
  CliRun r = Vibekit("db performance --slow-queries" + at_ + " --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  json::object o = ParseObject(r);
  EXPECT_EQ(o.at("slowQueryThresholdMs").to_number<double>(), 10.0);
  std::set<std::string> expected;
  for (const auto& q : o.at("queries").as_array()) {
    if (q.as_object().at("p50Ms").to_number<double>() > 10.0) {
      expected.insert(std::string(q.as_object().at("name").as_string()));
    }
  }
  std::set<std::string> listed;
  for (const auto& s : o.at("slowQueries").as_array()) {
    listed.insert(std::string(s.as_object().at("name").as_string()));
  }
  EXPECT_EQ(listed, expected);
}

TEST_P(CliDbPerformance, EmptyDatabaseStillReports) {
  TempDir dir;
  const std::string db = testing::FreshDatabase(GetParam(), dir);
  ASSERT_EQ(Vibekit("db init --db '" + db + "'").code, 0);
  CliRun r = Vibekit("db performance --analyze --db '" + db + "' --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  json::object o = ParseObject(r);
  EXPECT_EQ(o.at("events").as_int64(), 0);
  EXPECT_NE(json::serialize(o.at("findings")).find("no events"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace vibekit
