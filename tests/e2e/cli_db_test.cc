// `vibekit db optimize | vacuum | clear | performance` of the real binary on small real
// databases: JSON parsed back and checked against the file and the library.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "e2e/cli_runner.h"
#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"
#include "workload/workload.h"

namespace vibekit {
namespace {

namespace json = boost::json;
using testing::QueryInt;
using testing::TempDir;
using testing::TestConfig;


json::object ParseObject(const CliRun& r) {
  json::value v = json::parse(r.out);
  EXPECT_TRUE(v.is_object()) << r.out;
  return v.is_object() ? v.as_object() : json::object();
}

std::int64_t FileSize(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : 0;
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
  }
  ASSERT_OK(s.Shutdown());
}

std::vector<std::int64_t> SearchIds(const std::string& db, const std::string& text) {
  TelemetryService s(TestConfig(db));
  EXPECT_OK(s.Initialize());
  return testing::SearchIds(s, text);
}

TEST(CliDb, OptimizeMergesTheTextIndexAndSearchStillFindsTheSameEvents) {
  TempDir dir;
  const std::string db = dir.File("o.db");
  MakeDb(db, 800);
  const std::vector<std::string> terms = workload::SearchTerms();
  std::vector<std::vector<std::int64_t>> before;
  for (const std::string& t : terms) before.push_back(SearchIds(db, t));

  CliRun r = Vibekit("db optimize --db " + db + " --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  json::object o = ParseObject(r);
  EXPECT_EQ(StepNames(o), (std::vector<std::string>{"pragma_optimize", "analyze", "fts_optimize"}));
  EXPECT_EQ(o.at("dbPath").as_string(), db);
  EXPECT_FALSE(o.at("rebuildIndexes").as_bool());
  EXPECT_GT(o.at("ftsSegmentsBefore").as_int64(), 1);
  EXPECT_EQ(o.at("ftsSegmentsAfter").as_int64(), 1);
  EXPECT_GT(QueryInt(db, "SELECT count(*) FROM sqlite_stat1"), 0);
  for (std::size_t i = 0; i < terms.size(); ++i) EXPECT_EQ(SearchIds(db, terms[i]), before[i]);

  r = Vibekit("db optimize --rebuild-indexes --db " + db + " --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  o = ParseObject(r);
  EXPECT_TRUE(o.at("rebuildIndexes").as_bool());
  std::set<std::string> reindexed;
  for (const auto& s : o.at("steps").as_array()) {
    if (s.as_object().at("name").as_string() == "reindex") {
      reindexed.insert(std::string(s.as_object().at("detail").as_string()));
    }
  }
  EXPECT_TRUE(reindexed.count("telemetry_events (3 indexes)")) << r.out;
  EXPECT_TRUE(reindexed.count("telemetry_sessions (6 indexes)")) << r.out;
  EXPECT_TRUE(reindexed.count("telemetry_stats (1 index)")) << r.out;
  EXPECT_EQ(testing::QueryText(db, "PRAGMA integrity_check"), "ok");

  r = Vibekit("db optimize --db " + db);  // table format
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("fts_optimize"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("totalMs"), std::string::npos) << r.out;
}

TEST(CliDb, VacuumReportsTheSizesOfTheFiles) {
  TempDir dir;
  const std::string db = dir.File("v.db");
  MakeDb(db, 600);
  const std::int64_t events = QueryInt(db, "SELECT count(*) FROM telemetry_events");
  const std::int64_t size_before = FileSize(db);
  CliRun r = Vibekit("db vacuum --analyze --db " + db + " --format json");
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

  r = Vibekit("db vacuum --db " + db + " --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  o = ParseObject(r);
  EXPECT_EQ(StepNames(o), (std::vector<std::string>{"vacuum", "wal_checkpoint"}));
  EXPECT_FALSE(o.at("analyze").as_bool());
  EXPECT_EQ(o.at("fileSizeAfterBytes").as_int64(), FileSize(db));
}

TEST(CliDb, ClearWithoutYesOnANonTerminalRefusesAndDeletesNothing) {
  TempDir dir;
  const std::string db = dir.File("c.db");
  MakeDb(db, 300);
  const std::int64_t events = QueryInt(db, "SELECT count(*) FROM telemetry_events");
  const std::int64_t audits = QueryInt(db, "SELECT count(*) FROM telemetry_audit_log");
  ASSERT_GT(events, 0);
  CliRun r = Vibekit("db clear --db " + db);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--yes"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), events);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_audit_log"), audits);
}

TEST(CliDb, ClearWithYesRemovesAllTelemetry) {
  TempDir dir;
  const std::string db = dir.File("c2.db");
  MakeDb(db, 500);
  const std::int64_t events = QueryInt(db, "SELECT count(*) FROM telemetry_events");
  const std::int64_t sessions = QueryInt(db, "SELECT count(*) FROM telemetry_sessions");
  const std::int64_t versions = QueryInt(db, "SELECT count(*) FROM telemetry_schema_versions");
  const std::int64_t audits = QueryInt(db, "SELECT count(*) FROM telemetry_audit_log");
  const std::string term = workload::SearchTerms().back();
  ASSERT_FALSE(SearchIds(db, term).empty());
  CliRun r = Vibekit("db clear --yes --db " + db + " --format json");
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

  r = Vibekit("db clear -y --db " + db);  // an empty database: nothing to remove, still fine
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("eventsRemoved"), std::string::npos) << r.out;
}

TEST(CliDb, ClearOfAMissingDatabaseFails) {
  TempDir dir;
  CliRun r = Vibekit("db clear --yes --db " + dir.File("none.db"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("db init"), std::string::npos) << r.err;
  EXPECT_EQ(FileSize(dir.File("none.db")), 0);
}

class CliDbPerformance : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    db_ = dir_->File("p.db");
    MakeDb(db_, 600);
  }
  static void TearDownTestSuite() { delete dir_; }
  static TempDir* dir_;
  static std::string db_;
};
TempDir* CliDbPerformance::dir_ = nullptr;
std::string CliDbPerformance::db_;

TEST_F(CliDbPerformance, TimesTheStandardQueries) {
  CliRun r = Vibekit("db performance --db " + db_ + " --format json");
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

TEST_F(CliDbPerformance, BenchmarkRuns200Times) {
  CliRun r = Vibekit("db performance --benchmark --db " + db_ + " --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  json::object o = ParseObject(r);
  EXPECT_EQ(o.at("runs").as_int64(), 200);
  for (const auto& q : o.at("queries").as_array()) EXPECT_EQ(q.as_object().at("runs").as_int64(), 200);
}

TEST_F(CliDbPerformance, AnalyzeExplainsAndRecommendsOptimizeUntilItRan) {
  for (const char* flag : {"--analyze", "--optimization-report"}) {
    CliRun r = Vibekit(std::string("db performance ") + flag + " --db " + db_ + " --format json");
    ASSERT_EQ(r.code, 0) << r.err;
    json::object o = ParseObject(r);
    for (const auto& qv : o.at("queries").as_array()) {
      const json::object& q = qv.as_object();
      ASSERT_FALSE(q.at("plans").as_array().empty()) << q.at("name");
      for (const auto& p : q.at("plans").as_array()) {
        EXPECT_FALSE(p.as_object().at("plan").as_array().empty());
      }
      EXPECT_FALSE(q.at("fullScan").as_bool()) << q.at("name");
    }
    const std::string plan0 = json::serialize(o.at("queries").as_array()[0]);
    EXPECT_NE(plan0.find("idx_events_session_time"), std::string::npos) << plan0;
    EXPECT_EQ(o.at("ftsDataRows").as_int64(),
              QueryInt(db_, "SELECT count(*) FROM telemetry_events_fts_data"));
    if (QueryInt(db_, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'") == 0) {
      EXPECT_FALSE(o.at("plannerStatistics").as_bool());
      EXPECT_NE(json::serialize(o.at("recommendations")).find("vibekit db optimize"),
                std::string::npos);
    }
  }
  ASSERT_EQ(Vibekit("db optimize --db " + db_).code, 0);
  CliRun r = Vibekit("db performance --analyze --db " + db_ + " --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  json::object o = ParseObject(r);
  EXPECT_TRUE(o.at("plannerStatistics").as_bool());
  EXPECT_EQ(o.at("ftsSegments").as_int64(), 1);
  EXPECT_TRUE(o.at("recommendations").as_array().empty()) << r.out;

  r = Vibekit("db performance --analyze --db " + db_);  // table format shows the plans
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("plan of session_events"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SEARCH telemetry_events"), std::string::npos) << r.out;
}

TEST_F(CliDbPerformance, SlowQueriesListsExactlyTheQueriesAbove10Ms) {
  CliRun r = Vibekit("db performance --slow-queries --db " + db_ + " --format json");
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

TEST_F(CliDbPerformance, EmptyDatabaseStillReports) {
  TempDir dir;
  const std::string db = dir.File("e.db");
  ASSERT_EQ(Vibekit("db init --db " + db).code, 0);
  CliRun r = Vibekit("db performance --analyze --db " + db + " --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  json::object o = ParseObject(r);
  EXPECT_EQ(o.at("events").as_int64(), 0);
  EXPECT_NE(json::serialize(o.at("findings")).find("no events"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace vibekit
