// Optimize, Vacuum, ClearAll and BenchmarkQueries of the library, checked against the file.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "service/maintenance.h"
#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"
#include "workload/workload.h"

namespace vibekit {
namespace {

using testing::FileSize;
using testing::QueryInt;
using testing::TempDir;
using testing::TestConfig;
using testing::WallNowMs;

// Fills the database with `events` workload events, committing every `per_commit` and searching
// every 8 commits: a search brings the text index up to date first, in a step of its own, so the
// index gets one segment per 8 commits (FTS5 merges some of them on its own).
void Fill(TelemetryService& s, std::int64_t events, int per_commit = 50) {
  workload::WorkloadOptions wo;
  wo.total_events = events;
  wo.seed = 11;
  wo.concurrent_sessions = 8;
  wo.start_time_ms = WallNowMs() - 3600 * 1000;
  workload::Generator gen(wo);
  Event e;
  int n = 0;
  while (gen.Next(&e)) {
    ASSERT_OK(s.Track(e));
    if (++n % per_commit == 0) ASSERT_OK(s.FlushBuffers());
    if (n % (8 * per_commit) == 0) {
      EventQueryFilter f;
      f.contains = "error";
      ASSERT_TRUE(s.QueryEvents(f).ok());
    }
  }
  ASSERT_OK(s.FlushBuffers());
}

using testing::SearchIds;

std::vector<std::string> StepNames(const MaintenanceReport& r) {
  std::vector<std::string> names;
  for (const MaintenanceStep& s : r.steps) names.push_back(s.name);
  return names;
}

TEST(Maintenance, OptimizeMergesTheTextIndexAndKeepsSearchResults) {
  TempDir dir;
  const std::string db = dir.File("o.db");
  TelemetryService s(TestConfig(db));
  ASSERT_OK(s.Initialize());
  Fill(s, 1500);
  const std::vector<std::string> terms = workload::SearchTerms();
  ASSERT_FALSE(terms.empty());
  std::vector<std::vector<std::int64_t>> before;
  for (const std::string& t : terms) before.push_back(SearchIds(s, t));
  ASSERT_FALSE(std::all_of(before.begin(), before.end(), [](const auto& v) { return v.empty(); }));
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"), 0);

  auto r = s.Optimize(/*rebuild_indexes=*/false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(StepNames(*r), (std::vector<std::string>{"pragma_optimize", "analyze", "fts_optimize"}));
  EXPECT_GT(r->fts_segments_before, 1) << "the fill should leave several segments";
  EXPECT_EQ(r->fts_segments_after, 1);
  double sum = 0;
  for (const MaintenanceStep& st : r->steps) {
    EXPECT_GE(st.duration_ms, 0);
    sum += st.duration_ms;
  }
  EXPECT_GE(r->total_ms, sum);
  EXPECT_GT(QueryInt(db, "SELECT count(*) FROM sqlite_stat1"), 0);
  for (std::size_t i = 0; i < terms.size(); ++i) {
    EXPECT_EQ(SearchIds(s, terms[i]), before[i]) << terms[i];
  }
  // New events are still indexed after the merge.
  TrackStreamParams p{"after-optimize", "claude"};
  p.stream_data = "zebracorn appears once";
  ASSERT_OK(s.TrackStream(p));
  ASSERT_OK(s.FlushBuffers());
  EXPECT_EQ(SearchIds(s, "zebracorn").size(), 1u);
}

TEST(Maintenance, OptimizeWithRebuildReindexesOurTables) {
  TempDir dir;
  const std::string db = dir.File("o2.db");
  TelemetryService s(TestConfig(db));
  ASSERT_OK(s.Initialize());
  Fill(s, 300);
  auto r = s.Optimize(/*rebuild_indexes=*/true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::set<std::string> reindexed;
  for (const MaintenanceStep& st : r->steps) {
    if (st.name == "reindex") reindexed.insert(st.detail.substr(0, st.detail.find(' ')));
  }
  EXPECT_EQ(reindexed, (std::set<std::string>{"telemetry_alerts", "telemetry_audit_log",
                                              "telemetry_buffers",
                                              "telemetry_delivery_sessions", "telemetry_errors",
                                              "telemetry_events", "telemetry_schema_versions",
                                              "telemetry_sessions", "telemetry_stats"}));
  EXPECT_EQ(testing::QueryText(db, "PRAGMA integrity_check"), "ok");
}

TEST(Maintenance, VacuumReportsTheSizesOnDisk) {
  TempDir dir;
  const std::string db = dir.File("v.db");
  TelemetryService s(TestConfig(db));
  ASSERT_OK(s.Initialize());
  Fill(s, 800);
  const std::int64_t events = QueryInt(db, "SELECT count(*) FROM telemetry_events");
  auto r = s.Vacuum(/*analyze=*/true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(StepNames(*r), (std::vector<std::string>{"vacuum", "analyze", "wal_checkpoint"}));
  EXPECT_GT(r->file_size_before_bytes, 0);
  EXPECT_GT(r->wal_size_before_bytes, 0) << "ingest leaves a WAL behind";
  EXPECT_EQ(r->file_size_after_bytes, FileSize(db));
  EXPECT_EQ(r->wal_size_after_bytes, 0);
  EXPECT_EQ(FileSize(db + "-wal"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), events);
  EXPECT_GT(QueryInt(db, "SELECT count(*) FROM sqlite_stat1"), 0);

  auto plain = s.Vacuum(/*analyze=*/false);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(StepNames(*plain), (std::vector<std::string>{"vacuum", "wal_checkpoint"}));
}

TEST(Maintenance, ClearAllRemovesTelemetryAndKeepsSchemaAndRules) {
  TempDir dir;
  const std::string db = dir.File("c.db");
  TelemetryService s(TestConfig(db));
  ASSERT_OK(s.Initialize());
  Fill(s, 600);
  // A dead-letter buffer row, as a failed batch would leave.
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    ASSERT_EQ(sqlite3_exec(h,
                           "INSERT INTO telemetry_buffers (session_id, status, event_count, "
                           "buffer_data, max_size, created_at, last_updated, flush_attempts) "
                           "VALUES ('x', 'failed', 1, '{}', 1, 1, 1, 1)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(h);
    sqlite3_close(h);
  }
  auto stats = s.GetAggregateStats();
  ASSERT_TRUE(stats.ok());
  ASSERT_GT(stats->total.error_events, 0);
  const std::int64_t versions = QueryInt(db, "SELECT count(*) FROM telemetry_schema_versions");
  const std::int64_t rules = QueryInt(db, "SELECT count(*) FROM telemetry_validation_rules");
  const std::int64_t audits = QueryInt(db, "SELECT count(*) FROM telemetry_audit_log");
  const std::string term = workload::SearchTerms().back();
  ASSERT_FALSE(SearchIds(s, term).empty());

  auto r = s.ClearAll();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->sessions_removed, stats->total.sessions);
  EXPECT_EQ(r->events_removed, stats->total.total_events);
  for (const char* table : {"telemetry_sessions", "telemetry_events", "telemetry_errors",
                            "telemetry_buffers", "telemetry_stats"}) {
    EXPECT_EQ(QueryInt(db, std::string("SELECT count(*) FROM ") + table), 0) << table;
  }
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_schema_versions"), versions);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_validation_rules"), rules);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_audit_log"), audits + 1);
  EXPECT_EQ(testing::QueryText(db, "SELECT metadata FROM telemetry_audit_log ORDER BY id DESC "
                                   "LIMIT 1"),
            "{\"all\":true,\"sessions\":" + std::to_string(r->sessions_removed) +
                ",\"events\":" + std::to_string(r->events_removed) + ",\"errors\":" +
                std::to_string(stats->total.error_events) + ",\"buffers\":1}");
  // The text index lost every entry: nothing matches, the vocabulary is empty.
  EXPECT_TRUE(SearchIds(s, term).empty());
  EXPECT_EQ(QueryInt(db + "-text", "SELECT count(*) FROM telemetry_events_fts_vocab"), 0);
  auto after = s.GetAggregateStats();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->total.total_events, 0);
  EXPECT_EQ(after->total.sessions, 0);
  // The database keeps working: new events are stored, counted and searchable.
  TrackStreamParams p{"fresh", "claude"};
  p.stream_data = "quasarbeam after clear";
  ASSERT_OK(s.TrackStream(p));
  ASSERT_OK(s.FlushBuffers());
  EXPECT_EQ(SearchIds(s, "quasarbeam").size(), 1u);
  after = s.GetAggregateStats();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->total.total_events, 1);
  EXPECT_EQ(after->total.sessions, 1);
}

// The standard queries of `s`, each run `runs` times, with their plans.
Result<QueryBenchmarkReport> Explained(TelemetryService& s, int runs) {
  QueryBenchmarkOptions o;
  o.runs = runs;
  o.explain = true;
  return s.BenchmarkQueries(o);
}

TEST(Maintenance, BenchmarkQueriesTimesAndExplainsTheStandardQueries) {
  TempDir dir;
  const std::string db = dir.File("b.db");
  TelemetryService s(TestConfig(db));
  ASSERT_OK(s.Initialize());
  Fill(s, 1000, 25);
  auto r = Explained(s, 5);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> names;
  for (const QueryTiming& t : r->queries) {
    names.push_back(t.name);
    EXPECT_EQ(t.runs, 5);
    EXPECT_LE(t.min_ms, t.p50_ms);
    EXPECT_LE(t.p50_ms, t.p95_ms);
    EXPECT_LE(t.p95_ms, t.max_ms);
    EXPECT_GT(t.rows, 0) << t.name;
    ASSERT_FALSE(t.plans.empty()) << t.name;
    for (const auto& p : t.plans) EXPECT_FALSE(p.rows.empty()) << p.sql;
    EXPECT_FALSE(t.full_scan) << t.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"session_events", "agent_latest_100",
                                             "sessions_by_status", "aggregate_stats",
                                             "text_search"}));
  // The session query is answered through the session index.
  const QueryTiming& se = r->queries[0];
  bool uses_index = false;
  for (const auto& p : se.plans) {
    for (const std::string& row : p.rows) {
      uses_index = uses_index || row.find("idx_events_session_time") != std::string::npos;
    }
  }
  EXPECT_TRUE(uses_index);
  // Rows agree with the library for the latest session.
  SessionQueryFilter latest;
  latest.limit = 1;
  auto sessions = s.QuerySessions(latest);
  ASSERT_TRUE(sessions.ok() && !sessions->empty());
  EXPECT_NE(se.description.find(sessions->front().id), std::string::npos);
  EXPECT_EQ(se.rows, sessions->front().event_count);
  EXPECT_EQ(r->events, 1000);
  EXPECT_FALSE(r->planner_statistics);
  EXPECT_EQ(r->fts_data_rows,
            QueryInt(db + "-text", "SELECT count(*) FROM telemetry_events_fts_data"));
  EXPECT_GT(r->fts_segments, 0);
  ASSERT_FALSE(r->recommendations.empty());
  EXPECT_NE(r->recommendations[0].find("vibekit db optimize"), std::string::npos);

  ASSERT_TRUE(s.Optimize().ok());
  auto again = Explained(s, 5);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->planner_statistics);
  EXPECT_EQ(again->fts_segments, 1);
  EXPECT_TRUE(again->recommendations.empty());

  EXPECT_EQ(Explained(s, 0).status().code(), StatusCode::kInvalidArgument);
}

// `db performance --analyze` on PostgreSQL: the plans of the statements the queries ran (EXPLAIN
// with their parameters), a sequential scan of the events reported as a full scan.
TEST(Maintenance, BenchmarkQueriesExplainsThePostgresStatementsToo) {
  TempDir dir;
  TelemetryService s(TestConfig(testing::FreshDatabase(testing::Backend::kPostgres, dir)));
  ASSERT_OK(s.Initialize());
  Fill(s, 1000, 25);
  auto r = Explained(s, 3);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->queries.size(), 5u);
  for (const QueryTiming& t : r->queries) {
    ASSERT_FALSE(t.plans.empty()) << t.name;
    bool seq_scan = false;
    for (const auto& p : t.plans) {
      EXPECT_EQ(p.sql.rfind("SELECT ", 0), 0u) << p.sql;
      ASSERT_FALSE(p.rows.empty()) << p.sql;
      EXPECT_NE(p.rows[0].find("(cost="), std::string::npos) << p.rows[0];
      for (const std::string& row : p.rows) {
        seq_scan = seq_scan || row.find("Seq Scan on telemetry_events ") != std::string::npos;
      }
    }
    EXPECT_EQ(t.full_scan, seq_scan) << t.name;
  }
  // The session's events: the statement reads telemetry_events by session id.
  const QueryTiming& se = r->queries[0];
  EXPECT_EQ(se.name, "session_events");
  bool reads_events = false;
  for (const auto& p : se.plans) {
    for (const std::string& row : p.rows) {
      reads_events = reads_events || row.find("telemetry_events") != std::string::npos;
    }
  }
  EXPECT_TRUE(reads_events);
  EXPECT_EQ(r->fts_segments, -1);  // a GIN index has no segments
  ASSERT_OK(s.Shutdown());
}

TEST(Maintenance, FullEventScanRowsOfBothPlanDialects) {
  EXPECT_TRUE(service::IsFullEventScan("SCAN telemetry_events"));
  EXPECT_TRUE(service::IsFullEventScan("  SCAN telemetry_events"));
  EXPECT_FALSE(service::IsFullEventScan("SCAN telemetry_events USING INDEX idx_events_time"));
  EXPECT_FALSE(service::IsFullEventScan("SCAN telemetry_events_fts VIRTUAL TABLE INDEX 0:"));
  EXPECT_TRUE(service::IsFullEventScan("Seq Scan on telemetry_events  (cost=0.00..1.10 rows=1)"));
  EXPECT_TRUE(service::IsFullEventScan("        ->  Seq Scan on telemetry_events  (cost=0.00..)"));
  EXPECT_FALSE(service::IsFullEventScan("  ->  Index Scan using idx_events_session_time on "
                                        "telemetry_events  (cost=0.28..8.30 rows=1)"));
  EXPECT_FALSE(service::IsFullEventScan("Seq Scan on telemetry_events_archive  (cost=0.00..)"));
  EXPECT_FALSE(service::IsFullEventScan("Seq Scan on telemetry_sessions  (cost=0.00..1.10)"));
}

}  // namespace
}  // namespace vibekit
