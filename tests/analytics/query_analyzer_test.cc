// QueryPerformanceAnalyzer on a real database, on both backends: cache hits and misses (TTL,
// filter, new data), the slow-query log with real plans, recommendations drawn from them.
#include "vibekit/query_analyzer.h"

#include <gtest/gtest.h>

#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"
#include "workload/workload.h"

namespace vibekit {
namespace {
using testing::FakeClock;
using testing::TempDir;

constexpr std::int64_t kStart = 1767225600000;

// On both backends (a SQLite file, a PostgreSQL schema of the run's cluster).
class QueryAnalyzerTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    db_ = testing::FreshDatabase(GetParam(), dir_);
    TelemetryConfig cfg = testing::TestConfig(db_);
    cfg.local_store.session_timeout_ms = 365LL * 24 * 3600 * 1000;
    service_ = std::make_unique<TelemetryService>(cfg, &clock_);
    ASSERT_OK(service_->Initialize());
    workload::WorkloadOptions o;
    o.total_events = 3000;
    workload::Generator gen(o);
    std::vector<Event> batch;
    Event e;
    while (gen.Next(&e)) batch.push_back(e);
    ASSERT_OK(service_->InsertEventBatch(batch));
    ASSERT_OK(service_->FlushBuffers());
  }
  void TearDown() override { EXPECT_OK(service_->Shutdown()); }
  TempDir dir_;
  std::string db_;
  FakeClock clock_{kStart + 3'600'000};
  std::unique_ptr<TelemetryService> service_;
};

INSTANTIATE_TEST_SUITE_P(Backends, QueryAnalyzerTest,
                         ::testing::Values(testing::Backend::kSqlite, testing::Backend::kPostgres),
                         testing::BackendName);

TEST_P(QueryAnalyzerTest, CachesByKeyFilterTtlAndDataVersion) {
  QueryPerformanceAnalyzer analyzer(*service_, {}, &clock_);
  EventQueryFilter claude;
  claude.agent_type = "claude";
  claude.limit = 500;
  auto first = analyzer.ExecuteQuery(claude, "claude-events", 300000);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_FALSE(first->empty());
  auto second = analyzer.ExecuteQuery(claude, "claude-events", 300000);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->size(), first->size());
  auto rec = analyzer.GetRecommendations();
  ASSERT_TRUE(rec.ok());
  EXPECT_DOUBLE_EQ(rec->cache_hit_rate_pct, 50.0);
  ASSERT_EQ(rec->keys.size(), 1u);
  EXPECT_EQ(rec->keys[0].executions, 1);
  EXPECT_EQ(rec->keys[0].cache_hits, 1);

  // Another filter under the same key runs.
  EventQueryFilter fewer = claude;
  fewer.limit = 3;
  auto other = analyzer.ExecuteQuery(fewer, "claude-events", 300000);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->size(), 3u);
  // TTL over: runs again.
  clock_.Advance(300000);
  ASSERT_TRUE(analyzer.ExecuteQuery(fewer, "claude-events", 300000).ok());
  // New data: runs again within the TTL and sees it.
  SessionQueryFilter all;
  all.limit = 100000;
  auto before = analyzer.ExecuteQuery(all, "sessions", 300000);
  ASSERT_TRUE(before.ok());
  Event e;
  e.session_id = "new-one";
  e.agent_type = "claude";
  e.event_type = EventType::kStart;
  e.timestamp = kStart + 1000;
  const std::vector<Event> one = {e};
  ASSERT_OK(service_->InsertEventBatch(one));
  ASSERT_OK(service_->FlushBuffers());
  auto after = analyzer.ExecuteQuery(all, "sessions", 300000);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), before->size() + 1);
  rec = analyzer.GetRecommendations();
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->lookups, 6);
  EXPECT_NEAR(rec->cache_hit_rate_pct, 100.0 / 6, 1e-9);

  EXPECT_FALSE(analyzer.ExecuteQuery(claude, "", 1000).ok());
  EXPECT_FALSE(analyzer.ExecuteQuery(claude, "k", -1).ok());
  EventQueryFilter bad;
  bad.limit = 0;
  EXPECT_FALSE(analyzer.ExecuteQuery(bad, "k", 1000).ok()) << "the query's own validation";
}

TEST_P(QueryAnalyzerTest, SlowQueryLogHoldsRealPlansAndRecommendationsCiteThem) {
  QueryAnalyzerOptions o;
  o.enable_query_logging = true;
  o.slow_query_ms = 0;  // log every query
  QueryPerformanceAnalyzer analyzer(*service_, o, &clock_);
  EventQueryFilter stream;
  stream.event_type = EventType::kStream;
  stream.order = SortOrder::kDesc;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(analyzer.ExecuteQuery(stream, "streams", 0).ok());
  const std::vector<SlowQuery> log = analyzer.SlowQueryLog();
  ASSERT_EQ(log.size(), 3u);
  ASSERT_FALSE(log[0].plans.empty());
  EXPECT_NE(log[0].plans[0].sql.find("telemetry_events"), std::string::npos);
  ASSERT_FALSE(log[0].plans[0].rows.empty());
  bool mentions_table = false;
  for (const std::string& row : log[0].plans[0].rows) {
    mentions_table = mentions_table || row.find("telemetry_events") != std::string::npos;
  }
  EXPECT_TRUE(mentions_table) << "a plan row (EXPLAIN [QUERY PLAN]) names the table";
  EXPECT_EQ(log[0].rows, 100);

  auto rec = analyzer.GetRecommendations();
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->slow_queries, 3);
  auto has = [&](const std::string& text) {
    for (const std::string& r : rec->recommendations) {
      if (r.find(text) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("\"streams\" ran 3 times without a cache hit")) << ::testing::PrintToString(
      rec->recommendations);
  // PostgreSQL's autovacuum may have gathered statistics by itself meanwhile; if not even now,
  // it had not when the recommendations were made.
  const bool analyzed =
      GetParam() == testing::Backend::kPostgres &&
      testing::QueryInt(db_, "SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = "
                             "current_schema() AND (last_analyze IS NOT NULL OR "
                             "last_autoanalyze IS NOT NULL)") > 0;
  if (!analyzed) {
    EXPECT_TRUE(has("no statistics"));
  }
  ASSERT_TRUE(service_->Optimize(false).ok());  // ANALYZE
  rec = analyzer.GetRecommendations();
  ASSERT_TRUE(rec.ok());
  EXPECT_FALSE(has("no statistics"));

  QueryAnalyzerOptions quiet;  // logging off: nothing kept
  QueryPerformanceAnalyzer off(*service_, quiet, &clock_);
  ASSERT_TRUE(off.ExecuteQuery(stream, "streams", 0).ok());
  EXPECT_TRUE(off.SlowQueryLog().empty());
}

}  // namespace
}  // namespace vibekit
