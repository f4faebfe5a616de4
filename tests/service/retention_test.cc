// Retention by age (ClearOldData, the background cleanup) and by size (max_size_mb).
#include <gtest/gtest.h>

#include <string>

#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"

namespace vibekit {
namespace {

using testing::QueryInt;
using testing::TempDir;
using testing::TestConfig;
using testing::WaitFor;
using testing::WallNowMs;

constexpr std::int64_t kDay = 86400000;

Status Session(TelemetryService& s, const std::string& id, std::int64_t ts, int streams,
               std::size_t chunk = 16) {
  TrackStartParams p{id, "claude"};
  p.timestamp = ts;
  VK_RETURN_IF_ERROR(s.TrackStart(p));
  for (int i = 0; i < streams; ++i) {
    TrackStreamParams sp{id, "claude"};
    sp.stream_data = std::string(chunk, static_cast<char>('a' + i % 26)) + " word" + std::to_string(i);
    sp.timestamp = ts + 1 + i;
    VK_RETURN_IF_ERROR(s.TrackStream(sp));
  }
  if (streams % 2 == 0) {
    TrackErrorParams e;
    e.session_id = id;
    e.agent_type = "claude";
    e.error = "oops";
    e.timestamp = ts + streams + 1;
    VK_RETURN_IF_ERROR(s.TrackError(e));
  }
  TrackEndParams end{id, "claude"};
  end.timestamp = ts + streams + 2;
  return s.TrackEnd(end);
}

TEST(Retention, ClearOldDataRemovesWholeOldSessionsAndFixesTheRollup) {
  TempDir dir;
  const std::string db = dir.File("r.db");
  TelemetryService s(TestConfig(db));
  ASSERT_OK(s.Initialize());
  const std::int64_t now = WallNowMs();
  ASSERT_OK(Session(s, "old-1", now - 40 * kDay, 4));
  ASSERT_OK(Session(s, "old-2", now - 31 * kDay, 3));
  ASSERT_OK(Session(s, "new-1", now - 1 * kDay, 5));
  ASSERT_OK(s.FlushBuffers());
  auto removed = s.ClearOldData(30);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 2);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_sessions"), 1);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events WHERE session_id LIKE 'old%'"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_errors WHERE session_id LIKE 'old%'"), 0);
  // The text index forgets the purged events (a search brings it up to date first).
  EventQueryFilter word;
  word.contains = "word0";
  auto found = s.QueryEvents(word);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front().session_id, "new-1");
  EXPECT_EQ(QueryInt(db + "-text", "SELECT count(*) FROM telemetry_events_fts WHERE "
                                  "telemetry_events_fts MATCH 'word0'"), 1);
  auto agg = s.GetAggregateStats();
  ASSERT_TRUE(agg.ok());
  EXPECT_EQ(agg->total.total_events, QueryInt(db, "SELECT count(*) FROM telemetry_events"));
  EXPECT_EQ(agg->total.sessions, 1);
  EXPECT_EQ(agg->total.error_events, 0);  // new-1 has 5 streams: no error
  EXPECT_EQ(*agg->total.min_timestamp, QueryInt(db, "SELECT min(timestamp) FROM telemetry_events"));
  EXPECT_EQ(agg->by_agent.at("claude").sessions, 1);
  // The purge is audited.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_audit_log WHERE operation='DELETE' AND "
                         "table_name='telemetry_sessions' AND old_values LIKE '%old-1%'"),
            1);
  EXPECT_EQ(s.ClearOldData(-1).status().code(), StatusCode::kInvalidArgument);
  auto h = s.HealthCheck();
  ASSERT_TRUE(h.ok());
  EXPECT_GT(h->last_cleanup_time, 0);
  EXPECT_EQ(h->last_cleanup_sessions_removed, 2);
}

TEST(Retention, BackgroundCleanupAppliesPruneDays) {
  TempDir dir;
  const std::string db = dir.File("bg.db");
  TelemetryConfig c = TestConfig(db);
  c.local_store.prune_days = 7;
  TelemetryService s(c);
  ASSERT_OK(s.Initialize());
  const std::int64_t now = WallNowMs();
  ASSERT_OK(Session(s, "ancient", now - 8 * kDay, 2));
  ASSERT_OK(Session(s, "recent", now - 6 * kDay, 2));
  ASSERT_OK(s.FlushBuffers());
  ASSERT_OK(s.ScheduleBackgroundCleanup(50));
  EXPECT_TRUE(WaitFor([&] { return QueryInt(db, "SELECT count(*) FROM telemetry_sessions") == 1; }));
  EXPECT_EQ(s.GetSession("ancient").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(s.GetSession("recent").ok());
}

TEST(Retention, SizeLimitRemovesOldestSessionsFirstAndShrinksTheFile) {
  TempDir dir;
  const std::string db = dir.File("size.db");
  TelemetryConfig c = TestConfig(db);
  c.local_store.max_size_mb = 1;
  c.local_store.compress_min_bytes = 0;  // the repetitive test text would shrink 100x
  // Small pages: an empty database of ~45 tables and indexes takes one page each, which at
  // 16 KiB is most of the 1 MiB cap and would leave room for no session at all.
  c.local_store.page_size = 4096;
  TelemetryService s(c);
  ASSERT_OK(s.Initialize());
  // About 4 MB of text in 80 sessions, oldest first.
  for (int i = 0; i < 80; ++i) {
    ASSERT_OK(Session(s, "sz-" + std::to_string(1000 + i), 1000000 + i * 1000, 10, 5000));
  }
  ASSERT_OK(s.FlushBuffers());
  auto before = s.HealthCheck();
  ASSERT_TRUE(before.ok());
  ASSERT_GT(before->file_size_bytes, 2 << 20);
  auto r = s.EnforceSizeLimit();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->sessions_removed, 40);
  EXPECT_LT(r->sessions_removed, 80);
  // Whole sessions, oldest first: what is left is a contiguous run of the newest.
  const std::int64_t left = QueryInt(db, "SELECT count(*) FROM telemetry_sessions");
  EXPECT_EQ(left, 80 - r->sessions_removed);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_sessions WHERE id >= 'sz-" +
                             std::to_string(1000 + 80 - left) + "'"),
            left);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events e WHERE NOT EXISTS "
                         "(SELECT 1 FROM telemetry_sessions s WHERE s.id = e.session_id)"),
            0);
  auto after = s.HealthCheck();
  ASSERT_TRUE(after.ok());
  EXPECT_LE(after->file_size_bytes, (1 << 20) + 64 * 1024) << "file shrinks back under the cap";
  auto agg = s.GetAggregateStats();
  EXPECT_EQ(agg->total.sessions, left);
  EXPECT_EQ(agg->total.total_events, QueryInt(db, "SELECT count(*) FROM telemetry_events"));
}

}  // namespace
}  // namespace vibekit
