// PostgreSQL-only behaviour of PgStore (the behaviour both backends share is the parametrised
// store_conformance_test.cc): schema versions beside jsonb, several stores (processes) writing
// one database, a dropped connection, the text index, COPY restores in chunks, and the same
// batches giving the same rollups as a SqliteStore.
#include "store/postgres/pg_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/postgres/pg_schema.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/pg_cluster.h"
#include "testing/test_util.h"

namespace vibekit::store::postgres {
namespace {

using testing::QueryInt;

Event MakeEvent(const std::string& sid, EventType type, std::int64_t ts,
                std::optional<std::string> text = std::nullopt) {
  Event e;
  e.session_id = sid;
  e.event_type = type;
  e.agent_type = "claude";
  e.mode = "code";
  e.timestamp = ts;
  if (type == EventType::kStart) e.prompt = text;
  if (type == EventType::kStream) e.stream_data = text;
  e.metadata = R"({"b":1,"a":"x"})";
  return e;
}

class PgStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<PgStore> NewStore() {
    LocalStoreConfig c;
    c.db_path = url_;
    c.busy_timeout_ms = 60'000;  // the run's other tests share the test database's writer lock
    auto s = std::make_unique<PgStore>(c, SystemClock());
    EXPECT_OK(s->Open());
    return s;
  }
  std::string url_ = testing::PgCluster::Get().NewDatabase();
};

TEST_F(PgStoreTest, MigrationsRecordTheSameVersionsAsSqlite) {
  auto store = NewStore();
  auto versions = store->SchemaVersions();
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  std::vector<std::string> want;
  for (const auto& m : sqlite::Migrations()) want.emplace_back(m.version);
  std::vector<std::string> got;
  for (const auto& v : *versions) got.push_back(v.version);
  EXPECT_EQ(got, want);
  // Opening again (another process) applies nothing twice.
  auto again = NewStore();
  EXPECT_EQ(QueryInt(url_, "SELECT count(*) FROM telemetry_schema_versions"),
            static_cast<std::int64_t>(want.size()));
  // jsonb beside the exact text: the caller's bytes come back, the value is queryable.
  std::vector<Event> batch = {MakeEvent("m", EventType::kStart, 1000, "hi")};
  ASSERT_OK(store->ApplyBatch(batch, 2000));
  auto events = store->QueryEvents(EventQueryFilter{});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->at(0).metadata, R"({"b":1,"a":"x"})");
  EXPECT_EQ(QueryInt(url_, "SELECT (metadata_json->>'b')::int FROM telemetry_events"), 1);
}

TEST_F(PgStoreTest, StoresInSeveralThreadsWriteOneDatabaseExactlyWithConsecutiveBatchIds) {
  constexpr int kWriters = 4;
  constexpr int kBatches = 25;
  constexpr int kPerBatch = 20;
  std::vector<std::thread> threads;
  std::vector<std::set<std::int64_t>> ids(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      auto store = NewStore();  // its own connections, as another server process would have
      for (int b = 0; b < kBatches; ++b) {
        std::vector<Event> batch;
        for (int i = 0; i < kPerBatch; ++i) {
          // Every writer touches the shared session "shared" and one of its own.
          const std::string sid = i % 2 == 0 ? "shared" : "w" + std::to_string(w);
          batch.push_back(MakeEvent(sid, EventType::kStream, 1000 + b * 100 + i, "x"));
        }
        ASSERT_OK(store->ApplyBatch(batch, 5000));
        const auto [first, last] = store->LastBatchIds();
        ASSERT_EQ(last - first + 1, kPerBatch);
        for (std::int64_t id = first; id <= last; ++id) ids[w].insert(id);
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::int64_t total = kWriters * kBatches * kPerBatch;
  EXPECT_EQ(QueryInt(url_, "SELECT count(*) FROM telemetry_events"), total);
  EXPECT_EQ(QueryInt(url_, "SELECT count(DISTINCT id) FROM telemetry_events"), total);
  EXPECT_EQ(QueryInt(url_, "SELECT event_count FROM telemetry_sessions WHERE id = 'shared'"),
            total / 2);
  EXPECT_EQ(QueryInt(url_, "SELECT sum(event_count) FROM telemetry_sessions"), total);
  EXPECT_EQ(QueryInt(url_, "SELECT total_events FROM telemetry_stats WHERE stat_type='global'"),
            total);
  std::set<std::int64_t> all;
  for (const auto& s : ids) all.insert(s.begin(), s.end());
  EXPECT_EQ(static_cast<std::int64_t>(all.size()), total);  // ids reported match, no overlap
}

TEST_F(PgStoreTest, DroppedConnectionFailsTheBatchAsUnavailableAndTheRetryLosesNothing) {
  // A database of its own: the server drops its connections, and no other test's.
  url_ = testing::PgCluster::Get().NewWholeDatabase();
  auto store = NewStore();
  std::vector<Event> first = {MakeEvent("d", EventType::kStart, 1000, "hello")};
  ASSERT_OK(store->ApplyBatch(first, 1000));
  // The server drops every other connection of this database (a restart or failover).
  PGconn* admin = PQconnectdb(url_.c_str());
  ASSERT_EQ(PQstatus(admin), CONNECTION_OK);
  PQclear(PQexec(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"));
  PQfinish(admin);
  std::vector<Event> second = {MakeEvent("d", EventType::kStream, 1100, "again")};
  Status st = store->ApplyBatch(second, 1100);
  if (!st.ok()) {
    EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
    ASSERT_OK(store->ApplyBatch(second, 1100));  // what the ingest writer does: retry
  }
  EXPECT_EQ(QueryInt(url_, "SELECT count(*) FROM telemetry_events"), 2);
  auto session = store->GetSession("d");  // reads reconnect too
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  ASSERT_TRUE(session->has_value());
  EXPECT_EQ((*session)->event_count, 2);
}

TEST_F(PgStoreTest, ContainsSearchUsesTheTextIndexAndStaysExact) {
  auto store = NewStore();
  std::vector<Event> batch = {
      MakeEvent("c", EventType::kStart, 1000, "Refactor the parser module"),
      MakeEvent("c", EventType::kStream, 1001, "see /usr/bin/parser_tool for details"),
      MakeEvent("c", EventType::kStream, 1002, "reparse everything"),
      MakeEvent("c", EventType::kStream, 1003, std::string(300000, 'a') + " needle here"),
      MakeEvent("c", EventType::kStream, 1004, "x" + std::string(3000, 'b') + " tailword"),
  };
  ASSERT_OK(store->ApplyBatch(batch, 2000));
  auto find = [&](const std::string& text) {
    EventQueryFilter f;
    f.contains = text;
    f.order = SortOrder::kAsc;
    auto r = store->QueryEvents(f);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::int64_t> ts;
    if (r.ok()) {
      for (const auto& e : *r) ts.push_back(e.timestamp);
    }
    return ts;
  };
  EXPECT_EQ(find("parser"), (std::vector<std::int64_t>{1000, 1001}));  // word starts only
  EXPECT_EQ(find("PARSER MOD"), (std::vector<std::int64_t>{1000}));   // last word a prefix
  EXPECT_EQ(find("bin/parser"), (std::vector<std::int64_t>{1001}));   // path parts are words
  EXPECT_EQ(find("needle"), (std::vector<std::int64_t>{1003}));       // too long to index
  EXPECT_EQ(find("tailword"), (std::vector<std::int64_t>{1004}));     // a word too long to index
  EXPECT_EQ(QueryInt(url_, "SELECT count(*) FROM telemetry_events WHERE search IS NULL"), 2);
  EXPECT_TRUE(find("parse everything").empty());                     // exact check
  EXPECT_EQ(QueryInt(url_, "SELECT count(*) FROM pg_indexes WHERE indexname = "
                           "'idx_events_search' AND schemaname = current_schema() AND indexdef LIKE '%gin%'"),
            1);
}

// The same batches through both backends give the same rollups, minute, hour and day.
TEST_F(PgStoreTest, RollupsEqualTheSqliteStoresForTheSameBatches) {
  testing::TempDir dir;
  LocalStoreConfig lc;
  lc.db_path = dir.File("same.db");
  sqlite::SqliteStore lite(lc, SystemClock());
  ASSERT_OK(lite.Open());
  auto pg = NewStore();
  const std::int64_t t0 = 1'700'000'000'000;
  for (int b = 0; b < 6; ++b) {
    std::vector<Event> batch;
    for (int s = 0; s < 5; ++s) {
      const std::string sid = "s" + std::to_string(s);
      const std::int64_t ts = t0 + b * 700'000 + s * 1000;
      if (b == 0) batch.push_back(MakeEvent(sid, EventType::kStart, ts, "go"));
      batch.push_back(MakeEvent(sid, EventType::kStream, ts + 250 * (s + 1), "chunk"));
      if (b == 5 && s % 2 == 0) batch.push_back(MakeEvent(sid, EventType::kEnd, ts + 5000));
      if (b == 5 && s == 1) batch.push_back(MakeEvent(sid, EventType::kError, ts + 6000));
    }
    ASSERT_OK(lite.ApplyBatch(batch, t0 + b * 700'000));
    ASSERT_OK(pg->ApplyBatch(batch, t0 + b * 700'000));
  }
  auto timed_lite = lite.MarkTimedOutSessions(t0 + 3'600'000 * 3, t0 + 3'600'000 * 4);
  auto timed_pg = pg->MarkTimedOutSessions(t0 + 3'600'000 * 3, t0 + 3'600'000 * 4);
  ASSERT_TRUE(timed_lite.ok() && timed_pg.ok());
  EXPECT_EQ(*timed_lite, *timed_pg);
  auto same = [](const std::vector<MinuteRow>& a, const std::vector<MinuteRow>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i].key != b[i].key || !(a[i].counts == b[i].counts)) return false;
    }
    return true;
  };
  auto m1 = lite.ReadMinuteRollups(0, t0 * 2);
  auto m2 = pg->ReadMinuteRollups(0, t0 * 2);
  ASSERT_TRUE(m1.ok() && m2.ok()) << m2.status().ToString();
  EXPECT_GT(m1->size(), 5u);
  EXPECT_TRUE(same(*m1, *m2));
  for (const std::int64_t period : {kHourMs, kDayMs}) {
    auto p1 = lite.ReadPeriodRollups(period, 0, t0 * 2);
    auto p2 = pg->ReadPeriodRollups(period, 0, t0 * 2);
    ASSERT_TRUE(p1.ok() && p2.ok());
    EXPECT_FALSE(p1->empty());
    EXPECT_TRUE(same(*p1, *p2)) << "period " << period;
  }
  auto h1 = lite.EventsByHourOfDay(0, t0 * 2);
  auto h2 = pg->EventsByHourOfDay(0, t0 * 2);
  ASSERT_TRUE(h1.ok() && h2.ok());
  EXPECT_EQ(*h1, *h2);
  auto a1 = lite.GetAggregateStats();
  auto a2 = pg->GetAggregateStats();
  ASSERT_TRUE(a1.ok() && a2.ok());
  EXPECT_EQ(a1->total.total_events, a2->total.total_events);
  EXPECT_EQ(a1->total.timeout_sessions, a2->total.timeout_sessions);
  EXPECT_EQ(a1->total.failed_sessions, a2->total.failed_sessions);
  EXPECT_EQ(a1->total.duration_sum_ms, a2->total.duration_sum_ms);
  // Retention takes the same out of both.
  DeleteSelector sel;
  sel.kind = DeleteSelector::Kind::kOldest;
  sel.limit = 2;
  sel.reason = "test";
  auto d1 = lite.DeleteSessions(sel, t0 * 2);
  auto d2 = pg->DeleteSessions(sel, t0 * 2);
  ASSERT_TRUE(d1.ok() && d2.ok()) << d2.status().ToString();
  EXPECT_EQ(d1->events_removed, d2->events_removed);
  m1 = lite.ReadMinuteRollups(0, t0 * 2);
  m2 = pg->ReadMinuteRollups(0, t0 * 2);
  ASSERT_TRUE(m1.ok() && m2.ok());
  EXPECT_TRUE(same(*m1, *m2));
}

// Range statistics and percentiles agree with SQLite's for the same data (the delivery outbox:
// store_conformance_test.cc).
TEST_F(PgStoreTest, RangeStatisticsMatchSqlite) {
  testing::TempDir dir;
  LocalStoreConfig lc;
  lc.db_path = dir.File("same.db");
  sqlite::SqliteStore lite(lc, SystemClock());
  ASSERT_OK(lite.Open());
  auto pg = NewStore();
  std::vector<Store*> stores = {&lite, pg.get()};
  std::vector<Event> first = {MakeEvent("before", EventType::kStart, 500, "old")};
  for (Store* s : stores) ASSERT_OK(s->ApplyBatch(first, 600));
  std::vector<Event> batch;
  for (int i = 0; i < 8; ++i) {
    const std::string sid = "r" + std::to_string(i);
    batch.push_back(MakeEvent(sid, EventType::kStart, 1000 + i * 100, "go"));
    batch.push_back(MakeEvent(sid, EventType::kStream, 1010 + i * 100, "x"));
    if (i % 3 != 0) batch.push_back(MakeEvent(sid, EventType::kEnd, 1050 + i * 130));
    if (i == 4) batch.push_back(MakeEvent(sid, EventType::kError, 1060 + i * 100));
  }
  for (Store* s : stores) ASSERT_OK(s->ApplyBatch(batch, 5000));
  auto a1 = lite.AggregateStatsBetween(900, 1500);
  auto a2 = pg->AggregateStatsBetween(900, 1500);
  ASSERT_TRUE(a1.ok() && a2.ok()) << a2.status().ToString();
  EXPECT_EQ(a1->total.total_events, a2->total.total_events);
  EXPECT_EQ(a1->total.sessions, a2->total.sessions);
  EXPECT_EQ(a1->total.completed_sessions, a2->total.completed_sessions);
  EXPECT_EQ(a1->total.sessions_with_errors, a2->total.sessions_with_errors);
  EXPECT_EQ(a1->total.duration_sum_ms, a2->total.duration_sum_ms);
  EXPECT_EQ(a1->by_agent.size(), a2->by_agent.size());
  auto p1 = lite.SessionPercentilesBetween(0, 10000);
  auto p2 = pg->SessionPercentilesBetween(0, 10000);
  ASSERT_TRUE(p1.ok() && p2.ok());
  EXPECT_EQ(p1->duration_ms.count, p2->duration_ms.count);
  EXPECT_EQ(p1->duration_ms.p50, p2->duration_ms.p50);
  EXPECT_EQ(p1->duration_ms.p99, p2->duration_ms.p99);
  EXPECT_EQ(p1->events_per_session.p90, p2->events_per_session.p90);
}

// Restores go by COPY in chunks; they keep ids, move the sequences on and refuse duplicates.
TEST_F(PgStoreTest, RestoreKeepsIdsAcrossCopyChunksAndRefusesDuplicates) {
  auto store = NewStore();
  {
    auto w = store->BeginRestore(1000);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    Session s;
    s.id = "restored";
    s.agent_type = "claude";
    s.start_time = 1000;
    s.last_event_time = 1000;
    s.event_count = 4500;
    ASSERT_OK((*w)->AddSession(s));
    for (int i = 0; i < 4500; ++i) {  // more than two COPY chunks
      Event e = MakeEvent("restored", EventType::kStream, 1000 + i, "line\twith\ttabs\n");
      e.id = 10 + i * 2;
      ASSERT_OK((*w)->AddEvent(e));
    }
    ErrorRecord r;
    r.id = 7;
    r.session_id = "restored";
    r.event_id = 10;
    r.error_type = "boom";
    r.error_message = "it broke";
    r.timestamp = 1000;
    ASSERT_OK((*w)->AddError(r));
    ASSERT_OK((*w)->Commit());
  }
  EXPECT_EQ(QueryInt(url_, "SELECT count(*) FROM telemetry_events"), 4500);
  EXPECT_EQ(QueryInt(url_, "SELECT max(id) FROM telemetry_events"), 10 + 4499 * 2);
  EXPECT_EQ(QueryInt(url_, "SELECT count(*) FROM telemetry_errors WHERE event_id = 10"), 1);
  EXPECT_EQ(QueryInt(url_, "SELECT total_events FROM telemetry_stats WHERE stat_type='global'"),
            4500);
  auto back = store->QueryEvents(EventQueryFilter{});
  ASSERT_TRUE(back.ok());
  ASSERT_FALSE(back->empty());
  EXPECT_EQ(back->front().stream_data, "line\twith\ttabs\n");  // COPY escaping round trip
  std::vector<Event> batch = {MakeEvent("new", EventType::kStart, 9000, "after")};
  ASSERT_OK(store->ApplyBatch(batch, 9000));
  EXPECT_GT(store->LastBatchIds().first, 10 + 4499 * 2);
  // The same session again: refused, and nothing of the second restore stays.
  auto w = store->BeginRestore(2000);
  ASSERT_TRUE(w.ok());
  Session again;
  again.id = "restored";
  again.agent_type = "claude";
  again.start_time = 1;
  Status st = (*w)->AddSession(again);
  if (st.ok()) st = (*w)->Commit();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("already exists"), std::string::npos) << st.message();
  w->reset();
  EXPECT_EQ(QueryInt(url_, "SELECT count(*) FROM telemetry_sessions"), 2);
}

// Another process holding the writer lock: a write waits the busy timeout (lock_timeout), then
// fails with kBusy, as on SQLite; reads go on; once the lock is free the same write succeeds.
TEST_F(PgStoreTest, WriterLockHeldElsewhereIsBusyAfterTheBusyTimeout) {
  // A database of its own: advisory locks are per database; the shared one's writers must not
  // wait for this test.
  url_ = testing::PgCluster::Get().NewWholeDatabase();
  LocalStoreConfig c;
  c.db_path = url_;
  c.busy_timeout_ms = 150;
  PgStore store(c, SystemClock());
  ASSERT_OK(store.Open());
  std::vector<Event> first = {MakeEvent("b", EventType::kStart, 1000, "one")};
  ASSERT_OK(store.ApplyBatch(first, 1000));
  PGconn* other = PQconnectdb(url_.c_str());
  ASSERT_EQ(PQstatus(other), CONNECTION_OK);
  const std::string lock =
      "BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(kWriterLockKey) + ")";
  PQclear(PQexec(other, lock.c_str()));
  std::vector<Event> second = {MakeEvent("b", EventType::kStream, 1100, "two")};
  const auto t0 = std::chrono::steady_clock::now();
  Status st = store.ApplyBatch(second, 1100);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(st.code(), StatusCode::kBusy) << st.ToString();
  EXPECT_GE(waited, std::chrono::milliseconds(140));
  EXPECT_LT(waited, std::chrono::seconds(5));
  auto session = store.GetSession("b");  // reads do not wait for the writer lock
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  EXPECT_EQ((*session)->event_count, 1);
  PQclear(PQexec(other, "ROLLBACK"));
  PQfinish(other);
  ASSERT_OK(store.ApplyBatch(second, 1100));
  EXPECT_EQ(QueryInt(url_, "SELECT count(*) FROM telemetry_events"), 2);
}

TEST_F(PgStoreTest, UnreachableServerIsUnavailableWithLibpqsReason) {
  LocalStoreConfig c;
  c.db_path = "postgresql:///nope?host=/nonexistent-dir&user=postgres&connect_timeout=2";
  PgStore store(c, SystemClock());
  Status st = store.Open();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("cannot connect to PostgreSQL"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace vibekit::store::postgres
