// The Store interface (store.h), one suite run on both backends: a SQLite file and a PostgreSQL
// schema of the test run's cluster (testing/pg_cluster.h). Everything a caller of the interface
// can observe is asserted with the exact values the rules give (docs/ARCHITECTURE.md "Rules
// worth knowing"), so a backend that differs fails here. Backend-specific behaviour (SQLite
// pragmas and files, PostgreSQL reconnects and several processes) is in schema_test.cc and
// pg_store_test.cc.
#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/postgres/pg_store.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"
#include "testing/test_util.h"

namespace vibekit::store {
namespace {

using testing::Backend;
using testing::QueryInt;

constexpr std::int64_t kT0 = 1'700'000'040'000;  // a minute start (1700000040000 % 60000 == 0)

Event Ev(const std::string& sid, EventType type, std::int64_t ts, std::string agent = "claude",
         std::optional<std::string> mode = std::string("code")) {
  Event e;
  e.session_id = sid;
  e.event_type = type;
  e.agent_type = std::move(agent);
  e.mode = std::move(mode);
  e.timestamp = ts;
  return e;
}
Event Start(const std::string& sid, std::int64_t ts, std::string prompt,
            std::string agent = "claude") {
  Event e = Ev(sid, EventType::kStart, ts, std::move(agent));
  e.prompt = std::move(prompt);
  return e;
}
Event Stream(const std::string& sid, std::int64_t ts, std::string text,
             std::string agent = "claude") {
  Event e = Ev(sid, EventType::kStream, ts, std::move(agent));
  e.stream_data = std::move(text);
  return e;
}

std::vector<std::int64_t> Ids(const std::vector<Event>& events) {
  std::vector<std::int64_t> ids;
  for (const Event& e : events) ids.push_back(e.id);
  return ids;
}

class StoreConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  // A store on a fresh database of this test's backend.
  std::unique_ptr<Store> NewStore(std::string* location = nullptr) {
    LocalStoreConfig c;
    c.db_path = testing::FreshDatabase(GetParam(), dir_);
    // The run's other tests write to schemas of the same PostgreSQL database, whose writer lock
    // (an advisory lock of the database) they share: wait for it as long as a test may take.
    c.busy_timeout_ms = 60'000;
    if (GetParam() == Backend::kSqlite) {
      c.db_path = dir_.File("store" + std::to_string(++files_) + ".db");
    }
    if (location != nullptr) *location = c.db_path;
    std::unique_ptr<Store> s;
    if (GetParam() == Backend::kPostgres) {
      s = std::make_unique<postgres::PgStore>(c, SystemClock());
    } else {
      s = std::make_unique<sqlite::SqliteStore>(c, SystemClock());
    }
    EXPECT_OK(s->Open());
    return s;
  }
  void SetUp() override { store_ = NewStore(&db_); }

  std::vector<Event> All(EventQueryFilter f = {}) {
    f.limit = 100000;
    auto r = store_->QueryEvents(f);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<Event>{};
  }
  Session Get(const std::string& id) {
    auto r = store_->GetSession(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r.ok() && r->has_value()) << "no session " << id;
    return r.ok() && r->has_value() ? **r : Session{};
  }
  std::vector<std::string> SearchSessions(const std::string& text) {
    EventQueryFilter f;
    f.contains = text;
    std::vector<std::string> out;
    for (const Event& e : All(f)) out.push_back(e.session_id + "@" + std::to_string(e.timestamp));
    return out;
  }

  testing::TempDir dir_;
  int files_ = 0;
  std::string db_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformanceTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

TEST_P(StoreConformanceTest, SchemaVersionsListEveryMigrationInOrder) {
  auto versions = store_->SchemaVersions();
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  ASSERT_EQ(versions->size(), sqlite::Migrations().size());
  for (std::size_t i = 0; i < versions->size(); ++i) {
    EXPECT_EQ((*versions)[i].version, std::string(sqlite::Migrations()[i].version));
    EXPECT_GT((*versions)[i].applied_at, 0);
    EXPECT_TRUE((*versions)[i].is_active);
  }
  // The default validation rules (1.7.0) are the same rows on both backends.
  auto rules = store_->ReadValidationRules();
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  EXPECT_FALSE(rules->empty());
  EXPECT_EQ(static_cast<std::int64_t>(rules->size()),
            QueryInt(db_, "SELECT count(*) FROM telemetry_validation_rules"));
  for (const ValidationRule& r : *rules) EXPECT_TRUE(r.is_active) << r.field_name;
}

TEST_P(StoreConformanceTest, ApplyBatchMergesSessionsByTheRules) {
  Event err = Ev("b", EventType::kError, kT0 + 300);
  err.stream_data = "rate limited";
  Event end_failed = Ev("c", EventType::kEnd, kT0 + 900);
  end_failed.metadata = R"({"status":"cancelled"})";
  Event with_repo = Start("a", kT0, "write the parser");
  with_repo.repo_url = "https://example.test/Repo.git";
  with_repo.sandbox_id = "SBX-7";
  with_repo.metadata = R"({"b":1,"a":"x"})";
  std::vector<Event> batch = {
      with_repo,
      Stream("a", kT0 + 100, "first chunk"),
      Stream("a", kT0 + 250, "second"),
      Ev("a", EventType::kEnd, kT0 + 1000),
      Start("b", kT0 + 200, "go"),
      err,
      Start("c", kT0 + 400, "maybe"),
      end_failed,
      Stream("d", kT0 + 500, "no start seen"),  // an unknown session is created
  };
  ASSERT_OK(store_->ApplyBatch(batch, kT0 + 2000));
  const auto [first, last] = store_->LastBatchIds();
  ASSERT_EQ(last - first + 1, static_cast<std::int64_t>(batch.size()));
  // Ids are consecutive in the batch's order.
  EventQueryFilter by_id;
  std::vector<Event> stored = All(by_id);
  ASSERT_EQ(stored.size(), batch.size());
  std::vector<std::int64_t> ids = Ids(stored);
  std::sort(ids.begin(), ids.end());
  for (std::size_t i = 0; i < ids.size(); ++i)
    EXPECT_EQ(ids[i], first + static_cast<std::int64_t>(i));
  EXPECT_EQ(All(EventQueryFilter{.session_id = "a"}).front().id, first);
  EXPECT_EQ(All(EventQueryFilter{.session_id = "a"}).front().metadata, R"({"b":1,"a":"x"})");

  const Session a = Get("a");
  EXPECT_EQ(a.status, SessionStatus::kCompleted);
  EXPECT_EQ(a.start_time, kT0);
  EXPECT_EQ(a.end_time, kT0 + 1000);
  EXPECT_EQ(a.duration, 1000);
  EXPECT_EQ(a.event_count, 4);
  EXPECT_EQ(a.stream_event_count, 2);
  EXPECT_EQ(a.error_count, 0);
  EXPECT_EQ(a.last_event_time, kT0 + 1000);
  EXPECT_EQ(a.repo_url, "https://example.test/Repo.git");
  EXPECT_EQ(a.sandbox_id, "SBX-7");
  EXPECT_EQ(a.mode, "code");
  const Session b = Get("b");
  EXPECT_EQ(b.status, SessionStatus::kFailed);
  EXPECT_EQ(b.error_count, 1);
  EXPECT_FALSE(b.end_time.has_value());
  EXPECT_EQ(Get("c").status, SessionStatus::kFailed);  // end metadata status "cancelled"
  const Session d = Get("d");
  EXPECT_EQ(d.status, SessionStatus::kActive);
  EXPECT_EQ(d.start_time, kT0 + 500);
  EXPECT_EQ(d.event_count, 1);
  auto none = store_->GetSession("zzz");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  auto errors = store_->GetSessionErrors("b");
  ASSERT_TRUE(errors.ok()) << errors.status().ToString();
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ((*errors)[0].error_message, "rate limited");
  EXPECT_EQ((*errors)[0].timestamp, kT0 + 300);
  EXPECT_EQ((*errors)[0].severity, ErrorSeverity::kMedium);
  EXPECT_FALSE((*errors)[0].resolved);
  ASSERT_TRUE((*errors)[0].event_id.has_value());
  EXPECT_EQ(All(EventQueryFilter{.session_id = "b", .event_type = EventType::kError}).at(0).id,
            *(*errors)[0].event_id);

  auto st = store_->GetSessionStats("a");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->time_to_first_stream_ms, 100);
  EXPECT_EQ(st->stream_bytes, static_cast<std::int64_t>(std::string("first chunk").size() +
                                                        std::string("second").size()));
  EXPECT_EQ(st->event_count, 4);
  EXPECT_EQ(store_->GetSessionStats("zzz").status().code(), StatusCode::kNotFound);

  // Another batch continues a session: counters add up, a later start does not move start_time.
  std::vector<Event> more = {Stream("d", kT0 + 600, "more"), Ev("d", EventType::kEnd, kT0 + 800)};
  ASSERT_OK(store_->ApplyBatch(more, kT0 + 3000));
  EXPECT_EQ(store_->LastBatchIds().first, last + 1);
  const Session d2 = Get("d");
  EXPECT_EQ(d2.status, SessionStatus::kCompleted);
  EXPECT_EQ(d2.event_count, 3);
  EXPECT_EQ(d2.stream_event_count, 2);
  EXPECT_EQ(d2.duration, 300);
}

// A session's later batches: most bring only activity (counts, the last event's time), which the
// SQLite writer stores with a narrower UPDATE; every column must still read as one merge of all
// the events, and an end in a later batch still changes the status and is audited.
TEST_P(StoreConformanceTest, LaterBatchesOfASessionUpdateItsCountsAndKeepTheRest) {
  Event start = Start("s", kT0, "refactor the parser");
  start.repo_url = "https://example.test/Repo.git";
  start.sandbox_id = "SBX-1";
  start.metadata = R"({"team":"core"})";
  ASSERT_OK(store_->ApplyBatch(std::vector<Event>{start}, kT0 + 10));
  ASSERT_OK(store_->ApplyBatch(std::vector<Event>{Stream("s", kT0 + 100, "one")}, kT0 + 110));
  ASSERT_OK(store_->ApplyBatch(std::vector<Event>{Stream("s", kT0 + 150, "two")}, kT0 + 160));
  Session s = Get("s");
  EXPECT_EQ(s.status, SessionStatus::kActive);
  EXPECT_EQ(s.event_count, 3);
  EXPECT_EQ(s.stream_event_count, 2);
  EXPECT_EQ(s.last_event_time, kT0 + 150);
  EXPECT_EQ(s.updated_at, kT0 + 160);
  Event err = Ev("s", EventType::kError, kT0 + 200);
  err.stream_data = "tool failed";
  ASSERT_OK(store_->ApplyBatch(std::vector<Event>{err}, kT0 + 210));  // the status changes
  ASSERT_OK(store_->ApplyBatch(std::vector<Event>{Stream("s", kT0 + 300, "three")}, kT0 + 310));

  s = Get("s");
  EXPECT_EQ(s.status, SessionStatus::kFailed);
  EXPECT_EQ(s.event_count, 5);
  EXPECT_EQ(s.stream_event_count, 3);
  EXPECT_EQ(s.error_count, 1);
  EXPECT_EQ(s.last_event_time, kT0 + 300);
  EXPECT_EQ(s.updated_at, kT0 + 310);
  EXPECT_EQ(s.start_time, kT0);
  EXPECT_FALSE(s.end_time.has_value());
  EXPECT_EQ(s.agent_type, "claude");
  EXPECT_EQ(s.mode, "code");
  EXPECT_EQ(s.repo_url, "https://example.test/Repo.git");
  EXPECT_EQ(s.sandbox_id, "SBX-1");
  EXPECT_EQ(s.metadata, R"({"team":"core"})");
  const std::int64_t audits_before_end =
      QueryInt(db_, "SELECT count(*) FROM telemetry_audit_log WHERE record_id = 's'");

  ASSERT_OK(
      store_->ApplyBatch(std::vector<Event>{Ev("s", EventType::kEnd, kT0 + 400)}, kT0 + 410));
  s = Get("s");
  EXPECT_EQ(s.status, SessionStatus::kCompleted) << SessionStatusName(s.status);
  EXPECT_EQ(s.end_time, kT0 + 400);
  EXPECT_EQ(s.duration, 400);
  EXPECT_EQ(s.event_count, 6);
  EXPECT_EQ(s.error_count, 1);
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM telemetry_audit_log WHERE record_id = 's'"),
            audits_before_end + 1);
}

TEST_P(StoreConformanceTest, TimeoutSweepAndRevival) {
  std::vector<Event> batch = {Start("old", kT0, "x"), Stream("old", kT0 + 50, "y"),
                              Start("fresh", kT0 + 10'000, "z"), Start("done", kT0, "w"),
                              Ev("done", EventType::kEnd, kT0 + 20)};
  ASSERT_OK(store_->ApplyBatch(batch, kT0 + 10'000));
  const std::uint64_t v0 = store_->DataVersion();
  auto n = store_->MarkTimedOutSessions(kT0 + 5000, kT0 + 20'000);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);  // "old" only: "fresh" spoke later, "done" is not active
  EXPECT_GT(store_->DataVersion(), v0);
  const Session old = Get("old");
  EXPECT_EQ(old.status, SessionStatus::kTimeout);
  EXPECT_EQ(old.duration, 50);  // up to its last activity
  EXPECT_EQ(Get("fresh").status, SessionStatus::kActive);
  EXPECT_EQ(Get("done").status, SessionStatus::kCompleted);
  auto stats = store_->GetAggregateStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total.timeout_sessions, 1);
  EXPECT_EQ(stats->total.active_sessions, 1);
  // A stream on a timed-out session revives it.
  std::vector<Event> again = {Stream("old", kT0 + 30'000, "back")};
  ASSERT_OK(store_->ApplyBatch(again, kT0 + 30'000));
  EXPECT_EQ(Get("old").status, SessionStatus::kActive);
  stats = store_->GetAggregateStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total.timeout_sessions, 0);
  EXPECT_EQ(stats->total.active_sessions, 2);
  // Nothing left to time out.
  n = store_->MarkTimedOutSessions(kT0, kT0 + 40'000);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  EXPECT_EQ(Get("old").status, SessionStatus::kActive);
}

TEST_P(StoreConformanceTest, AFailedBatchWritesNothingAtAll) {
  std::vector<Event> first = {Start("keep", kT0, "kept")};
  ASSERT_OK(store_->ApplyBatch(first, kT0));
  const auto ids_before = store_->LastBatchIds();
  // A constraint the validation did not foresee: a trigger refuses one event text.
  if (GetParam() == Backend::kPostgres) {
    testing::ExecSql(db_,
                     "CREATE FUNCTION vk_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                     "IF NEW.stream_data = 'poison' THEN RAISE check_violation USING MESSAGE = "
                     "'poisoned'; END IF; RETURN NEW; END $$; CREATE TRIGGER vk_poison BEFORE "
                     "INSERT ON telemetry_events FOR EACH ROW EXECUTE FUNCTION vk_poison()");
  } else {
    testing::ExecSql(db_,
                     "CREATE TRIGGER vk_poison BEFORE INSERT ON telemetry_events WHEN "
                     "NEW.stream_data = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END");
  }
  const std::uint64_t version = store_->DataVersion();
  Event err = Ev("keep", EventType::kError, kT0 + 5);
  err.stream_data = "an error row";
  std::vector<Event> bad = {Start("new", kT0 + 1, "hello"), Stream("keep", kT0 + 2, "fine"), err,
                            Ev("keep", EventType::kEnd, kT0 + 6), Stream("new", kT0 + 3, "poison")};
  Status st = store_->ApplyBatch(bad, kT0 + 10);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_EQ(store_->DataVersion(), version);
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM telemetry_events"), 1);
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM telemetry_sessions"), 1);
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM telemetry_errors"), 0);
  const Session keep = Get("keep");
  EXPECT_EQ(keep.event_count, 1);
  EXPECT_EQ(keep.status, SessionStatus::kActive);
  auto stats = store_->GetAggregateStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total.total_events, 1);
  EXPECT_EQ(stats->total.sessions, 1);
  auto minutes = store_->ReadMinuteRollups(0, kT0 * 2);
  ASSERT_TRUE(minutes.ok());
  std::int64_t minute_events = 0;
  for (const MinuteRow& r : *minutes) minute_events += r.counts.events;
  EXPECT_EQ(minute_events, 1);
  EXPECT_TRUE(SearchSessions("hello").empty());
  // The writer is usable again: the same batch without the poison commits, ids continue.
  bad.pop_back();
  ASSERT_OK(store_->ApplyBatch(bad, kT0 + 20));
  EXPECT_GT(store_->LastBatchIds().first, ids_before.second);
  EXPECT_EQ(Get("keep").status, SessionStatus::kCompleted);
  EXPECT_EQ(SearchSessions("hello"), std::vector<std::string>{"new@" + std::to_string(kT0 + 1)});
  // The parked batch is kept and counted.
  ASSERT_OK(store_->RecordDeadLetter(std::span<const Event>(bad).subspan(0, 2),
                                     Status::InvalidArgument("poisoned"), kT0 + 30));
  auto health = store_->CheckHealth(true);
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->dead_letter_batches, 1);
  EXPECT_EQ(health->quick_check, "ok");
  EXPECT_EQ(health->oldest_event_time, kT0);
  EXPECT_GT(health->used_bytes, 0);
  EXPECT_GT(health->file_size_bytes, 0);
  EXPECT_GE(health->connections_total, 1);
}

TEST_P(StoreConformanceTest, EventFiltersOrderAndPaging) {
  std::vector<Event> batch;
  const char* agents[] = {"claude", "codex", "gemini"};
  for (int s = 0; s < 6; ++s) {
    const std::string sid = "s" + std::to_string(s);
    Event st = Start(sid, kT0 + s * 1000, "task " + sid, agents[s % 3]);
    st.mode = s % 2 == 0 ? std::optional<std::string>("plan") : std::nullopt;
    batch.push_back(st);
    for (int i = 0; i < 5; ++i) {
      // Equal timestamps across sessions: the id decides the order.
      Event e = Stream(sid, kT0 + 10'000 + i * 10, "chunk " + std::to_string(i), agents[s % 3]);
      e.mode = st.mode;
      batch.push_back(e);
    }
  }
  ASSERT_OK(store_->ApplyBatch(batch, kT0 + 20'000));
  const std::int64_t first_id = store_->LastBatchIds().first;

  std::vector<Event> asc = All();
  ASSERT_EQ(asc.size(), 36u);
  for (std::size_t i = 1; i < asc.size(); ++i) {
    const bool ordered = asc[i - 1].timestamp < asc[i].timestamp ||
                         (asc[i - 1].timestamp == asc[i].timestamp && asc[i - 1].id < asc[i].id);
    EXPECT_TRUE(ordered) << i;
  }
  std::vector<Event> desc = All(EventQueryFilter{.order = SortOrder::kDesc});
  std::reverse(desc.begin(), desc.end());
  EXPECT_EQ(Ids(desc), Ids(asc));

  // Pages of 7 cover everything once, in order, in both directions.
  for (SortOrder order : {SortOrder::kAsc, SortOrder::kDesc}) {
    std::vector<std::int64_t> paged;
    for (std::int64_t off = 0;; off += 7) {
      EventQueryFilter f;
      f.limit = 7;
      f.offset = off;
      f.order = order;
      auto page = store_->QueryEvents(f);
      ASSERT_TRUE(page.ok());
      if (page->empty()) break;
      EXPECT_LE(page->size(), 7u);
      for (const Event& e : *page) paged.push_back(e.id);
    }
    std::vector<std::int64_t> want = Ids(All(EventQueryFilter{.order = order}));
    EXPECT_EQ(paged, want);
  }

  EXPECT_EQ(All(EventQueryFilter{.session_id = "s3"}).size(), 6u);
  EXPECT_EQ(All(EventQueryFilter{.event_type = EventType::kStart}).size(), 6u);
  EXPECT_EQ(All(EventQueryFilter{.agent_type = "codex"}).size(), 12u);
  EXPECT_EQ(All(EventQueryFilter{.mode = "plan"}).size(), 18u);
  EXPECT_EQ(All(EventQueryFilter{.from_time = kT0 + 1000, .to_time = kT0 + 3000}).size(), 3u);
  EXPECT_EQ(All(EventQueryFilter{.from_time = kT0 + 10'020}).size(), 18u);  // inclusive
  EXPECT_EQ(All(EventQueryFilter{.to_time = kT0 + 10'000}).size(), 12u);
  EventQueryFilter combined;
  combined.agent_type = "claude";
  combined.event_type = EventType::kStream;
  combined.from_time = kT0 + 10'010;
  combined.to_time = kT0 + 10'030;
  std::vector<Event> c = All(combined);
  ASSERT_EQ(c.size(), 6u);  // s0 and s3, three timestamps each
  for (const Event& e : c) {
    EXPECT_EQ(e.agent_type, "claude");
    EXPECT_TRUE(e.session_id == "s0" || e.session_id == "s3") << e.session_id;
  }
  // after_id: exactly the events committed after an id, combined with other filters.
  EventQueryFilter after;
  after.after_id = first_id + 30;
  EXPECT_EQ(All(after).size(), 5u);
  after.session_id = "s5";
  EXPECT_EQ(All(after).size(), 5u);
  after.session_id = "s0";
  EXPECT_TRUE(All(after).empty());
  EXPECT_TRUE(All(EventQueryFilter{.session_id = "nobody"}).empty());
  EXPECT_TRUE(All(EventQueryFilter{.agent_type = "CLAUDE"}).empty());  // exact match
}

TEST_P(StoreConformanceTest, SessionFiltersSearchCountAndBreakdown) {
  std::vector<Event> batch;
  for (int s = 0; s < 9; ++s) {
    const std::string sid = "Sess-" + std::to_string(s);
    Event st = Start(sid, kT0 + s * 1000, "x", s % 3 == 0 ? "claude" : "codex");
    st.mode = s < 3 ? std::optional<std::string>("plan") : std::nullopt;
    if (s == 4) st.repo_url = "https://git.example/Team/Widget";
    if (s == 5) st.sandbox_id = "box-WIDGET-1";
    batch.push_back(st);
    if (s % 3 == 1) {
      Event end = Ev(sid, EventType::kEnd, kT0 + s * 1000 + 500, st.agent_type, st.mode);
      batch.push_back(end);
    }
    if (s == 8) {
      Event err = Ev(sid, EventType::kError, kT0 + s * 1000 + 100, st.agent_type, st.mode);
      err.stream_data = "bad";
      batch.push_back(err);
    }
  }
  ASSERT_OK(store_->ApplyBatch(batch, kT0 + 20'000));
  auto q = [&](SessionQueryFilter f) {
    auto r = store_->QuerySessions(f);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> ids;
    if (r.ok()) {
      for (const Session& s : *r) ids.push_back(s.id);
    }
    auto n = store_->CountSessions(f);
    EXPECT_TRUE(n.ok());
    return std::make_pair(ids, n.ok() ? *n : -1);
  };
  auto [all, all_n] = q(SessionQueryFilter{});
  EXPECT_EQ(all, (std::vector<std::string>{"Sess-8", "Sess-7", "Sess-6", "Sess-5", "Sess-4",
                                           "Sess-3", "Sess-2", "Sess-1", "Sess-0"}));
  EXPECT_EQ(all_n, 9);
  auto [asc, asc_n] = q(SessionQueryFilter{.order = SortOrder::kAsc});
  std::reverse(asc.begin(), asc.end());
  EXPECT_EQ(asc, all);
  auto [page, page_n] = q(SessionQueryFilter{.limit = 3, .offset = 2});
  EXPECT_EQ(page, (std::vector<std::string>{"Sess-6", "Sess-5", "Sess-4"}));
  EXPECT_EQ(page_n, 9);  // limit and offset ignored by the count
  EXPECT_EQ(q(SessionQueryFilter{.status = SessionStatus::kCompleted}).first,
            (std::vector<std::string>{"Sess-7", "Sess-4", "Sess-1"}));
  EXPECT_EQ(q(SessionQueryFilter{.status = SessionStatus::kFailed}).first,
            (std::vector<std::string>{"Sess-8"}));
  EXPECT_EQ(q(SessionQueryFilter{.agent_type = "claude"}).second, 3);
  EXPECT_EQ(q(SessionQueryFilter{.mode = "plan"}).first,
            (std::vector<std::string>{"Sess-2", "Sess-1", "Sess-0"}));
  EXPECT_EQ(q(SessionQueryFilter{.from_time = kT0 + 2000, .to_time = kT0 + 4000}).second, 3);
  // Search: ASCII case-insensitive substring of id, repo URL or sandbox id; no wildcards.
  EXPECT_EQ(q(SessionQueryFilter{.search = "widget"}).first,
            (std::vector<std::string>{"Sess-5", "Sess-4"}));
  EXPECT_EQ(q(SessionQueryFilter{.search = "SESS-3"}).first, (std::vector<std::string>{"Sess-3"}));
  EXPECT_EQ(q(SessionQueryFilter{.search = "%"}).second, 0);
  EXPECT_EQ(q(SessionQueryFilter{.search = "_"}).second, 0);
  EXPECT_EQ(q(SessionQueryFilter{.search = "ss-"}).second, 9);

  auto breakdown = store_->AgentBreakdown();
  ASSERT_TRUE(breakdown.ok()) << breakdown.status().ToString();
  // codex/none: 4 (Sess-4,5,7,8), claude/none: 2 (3,6), codex/plan: 2 (1,2), claude/plan: 1 (0).
  ASSERT_EQ(breakdown->size(), 4u);
  EXPECT_EQ((*breakdown)[0].agent_type, "codex");
  EXPECT_FALSE((*breakdown)[0].mode.has_value());
  EXPECT_EQ((*breakdown)[0].sessions, 4);
  EXPECT_EQ((*breakdown)[0].events, 7);  // 4 starts, 2 ends, 1 error
  EXPECT_EQ((*breakdown)[0].errors, 1);
  EXPECT_EQ((*breakdown)[3].agent_type, "claude");
  EXPECT_EQ((*breakdown)[3].mode, "plan");
  EXPECT_EQ((*breakdown)[3].sessions, 1);
}

TEST_P(StoreConformanceTest, ContainsSearchIsWordAnchoredCaseInsensitiveAndExact) {
  const std::string big = "lorem ipsum " + std::string(4000, 'z') + " Connection refused by peer";
  std::vector<Event> batch = {
      Start("t", kT0, "Refactor the Parser module"),
      Stream("t", kT0 + 1, "see /usr/bin/parser_tool for details"),
      Stream("t", kT0 + 2, "reparse everything"),
      Stream("t", kT0 + 3, big),  // stored compressed on SQLite
      Stream("u", kT0 + 4, "connection REFUSED again"),
      Stream("u", kT0 + 5, "naïve café — ünïcode parser"),
  };
  ASSERT_OK(store_->ApplyBatch(batch, kT0 + 10));
  const std::string t = "t@", u = "u@";
  auto at = [&](const std::string& s, int dt) { return s + std::to_string(kT0 + dt); };
  EXPECT_EQ(SearchSessions("parser"), (std::vector<std::string>{at(t, 0), at(t, 1), at(u, 5)}));
  EXPECT_EQ(SearchSessions("PARSER MOD"), (std::vector<std::string>{at(t, 0)}));
  EXPECT_EQ(SearchSessions("bin/parser"), (std::vector<std::string>{at(t, 1)}));
  EXPECT_EQ(SearchSessions("connection ref"), (std::vector<std::string>{at(t, 3), at(u, 4)}));
  EXPECT_EQ(SearchSessions("connection refused by"), (std::vector<std::string>{at(t, 3)}));
  EXPECT_EQ(SearchSessions("café"), (std::vector<std::string>{at(u, 5)}));
  EXPECT_TRUE(SearchSessions("nnection").empty());  // not at a word start
  EXPECT_TRUE(SearchSessions("arser").empty());
  EXPECT_TRUE(SearchSessions("parse everything").empty());  // words present, text is not
  EXPECT_TRUE(SearchSessions("absent").empty());
  // Combined with other filters, paged, newest first.
  EventQueryFilter f;
  f.contains = "parser";
  f.session_id = "t";
  f.order = SortOrder::kDesc;
  f.limit = 1;
  f.offset = 1;
  auto r = store_->QueryEvents(f);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].timestamp, kT0);
  EXPECT_EQ((*r)[0].prompt, "Refactor the Parser module");
  // The long text comes back whole.
  auto big_back = All(EventQueryFilter{.contains = "ipsum"});
  ASSERT_EQ(big_back.size(), 1u);
  EXPECT_EQ(big_back[0].stream_data, big);
}

// Collects what a scan delivers, in order.
class Collect final : public ScanVisitor {
 public:
  Status OnCounts(const ScanCounts& c) override {
    counts = c;
    ++count_calls;
    return Status::Ok();
  }
  Status OnSession(const Session& s) override {
    order += "S:" + s.id + " ";
    sessions.push_back(s);
    return Stop();
  }
  Status OnEvent(const Event& e) override {
    order += "E:" + std::to_string(e.timestamp) + " ";
    events.push_back(e);
    return Stop();
  }
  Status OnError(const ErrorRecord& e) override {
    order += "R:" + e.session_id + " ";
    errors.push_back(e);
    return Stop();
  }
  Status Stop() {
    return ++rows == stop_after ? Status::Internal("visitor stopped") : Status::Ok();
  }
  ScanCounts counts;
  int count_calls = 0;
  int rows = 0;
  int stop_after = -1;
  std::string order;
  std::vector<Session> sessions;
  std::vector<Event> events;
  std::vector<ErrorRecord> errors;
};

TEST_P(StoreConformanceTest, ScanDeliversFilteredRowsInTableOrderAndStopsOnAVisitorError) {
  std::vector<Event> batch;
  for (int s = 0; s < 4; ++s) {
    const std::string sid = "x" + std::to_string(s);
    batch.push_back(Start(sid, kT0 + s * 100, "prompt " + std::string(700, 'p'),
                          s % 2 == 0 ? "claude" : "codex"));
    batch.push_back(
        Stream(sid, kT0 + s * 100 + 10, "text of " + sid, s % 2 == 0 ? "claude" : "codex"));
    Event err = Ev(sid, EventType::kError, kT0 + s * 100 + 20, s % 2 == 0 ? "claude" : "codex");
    err.stream_data = "boom " + sid;
    batch.push_back(err);
  }
  ASSERT_OK(store_->ApplyBatch(batch, kT0 + 1000));

  Collect all;
  ASSERT_OK(store_->Scan(ScanRequest{}, all));
  EXPECT_EQ(all.count_calls, 1);
  EXPECT_EQ(all.counts.sessions, 4);
  EXPECT_EQ(all.counts.events, 12);
  EXPECT_EQ(all.counts.errors, 4);
  ASSERT_EQ(all.sessions.size(), 4u);
  ASSERT_EQ(all.events.size(), 12u);
  ASSERT_EQ(all.errors.size(), 4u);
  EXPECT_EQ(all.order.substr(0, 20), "S:x0 S:x1 S:x2 S:x3 ");
  for (std::size_t i = 1; i < all.events.size(); ++i)
    EXPECT_LT(all.events[i - 1].id, all.events[i].id);
  EXPECT_EQ(all.events[0].prompt, "prompt " + std::string(700, 'p'));
  EXPECT_EQ(all.sessions[1].agent_type, "codex");
  EXPECT_EQ(all.errors[2].error_message, "boom x2");

  // Filters: time range, sessions, event types, agents (errors by their session's agent).
  ScanRequest f;
  f.filter.from_time = kT0 + 100;
  f.filter.to_time = kT0 + 215;
  f.filter.event_types = {"stream", "error"};
  Collect some;
  ASSERT_OK(store_->Scan(f, some));
  EXPECT_EQ(some.counts.sessions, 2);  // x1, x2 start in range
  EXPECT_EQ(some.counts.events, 3);    // x1 stream+error, x2 stream
  EXPECT_EQ(some.counts.errors, 1);    // x1's at +120 (x2's at +220 is out)
  EXPECT_EQ(static_cast<std::int64_t>(some.events.size()), some.counts.events);
  ScanRequest agents;
  agents.filter.agent_types = {"codex"};
  agents.sessions = false;
  agents.events = false;
  Collect errs;
  ASSERT_OK(store_->Scan(agents, errs));
  EXPECT_TRUE(errs.sessions.empty());
  ASSERT_EQ(errs.errors.size(), 2u);
  EXPECT_EQ(errs.errors[0].session_id, "x1");
  EXPECT_EQ(errs.errors[1].session_id, "x3");
  ScanRequest ids;
  ids.filter.session_ids = {"x3", "x0"};
  ids.filter.limit = 2;
  ids.filter.offset = 1;
  ids.sessions = false;
  ids.errors = false;
  Collect two;
  ASSERT_OK(store_->Scan(ids, two));
  ASSERT_EQ(two.events.size(), 2u);
  EXPECT_EQ(two.events[0].session_id, "x0");
  EXPECT_EQ(two.events[0].event_type, EventType::kStream);
  EXPECT_EQ(two.events[1].session_id, "x0");
  EXPECT_EQ(two.events[1].event_type, EventType::kError);

  // By session: each session followed by its events and errors.
  ScanRequest grouped;
  grouped.by_session = true;
  grouped.filter.session_ids = {"x1", "x2"};
  grouped.stored_texts = true;  // the default OnStoredEvent decodes for us
  Collect g;
  ASSERT_OK(store_->Scan(grouped, g));
  EXPECT_EQ(g.order,
            "S:x1 E:" + std::to_string(kT0 + 100) + " E:" + std::to_string(kT0 + 110) +
                " E:" + std::to_string(kT0 + 120) + " R:x1 S:x2 E:" + std::to_string(kT0 + 200) +
                " E:" + std::to_string(kT0 + 210) + " E:" + std::to_string(kT0 + 220) + " R:x2 ");
  EXPECT_EQ(g.counts.sessions, 2);
  EXPECT_EQ(g.counts.events, 6);
  EXPECT_EQ(g.counts.errors, 2);
  EXPECT_EQ(g.events[0].prompt, "prompt " + std::string(700, 'p'));

  ScanRequest counts_only;
  counts_only.counts_only = true;
  Collect c;
  ASSERT_OK(store_->Scan(counts_only, c));
  EXPECT_EQ(c.counts.events, 12);
  EXPECT_EQ(c.rows, 0);

  Collect stop;
  stop.stop_after = 6;
  Status st = store_->Scan(ScanRequest{}, stop);
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.ToString();
  EXPECT_NE(st.message().find("visitor stopped"), std::string::npos) << st.message();
  EXPECT_EQ(stop.rows, 6);
  // The reader is free again afterwards.
  EXPECT_EQ(All().size(), 12u);
}

// Which events a scan for `fingerprint` delivers as stored through those privacy settings: the
// ids, in order, with a '*' for each one flagged.
class PrivacyFlags final : public ScanVisitor {
 public:
  Status OnCounts(const ScanCounts&) override { return Status::Ok(); }
  Status OnSession(const Session&) override { return Status::Ok(); }
  Status OnEvent(const Event& e) override { return OnStoredEvent(e, {}); }
  Status OnStoredEvent(const Event& e, StoredTexts stored) override {
    ids += std::to_string(e.id) + (stored.privacy_applied ? "* " : " ");
    return Status::Ok();
  }
  Status OnError(const ErrorRecord&) override { return Status::Ok(); }
  std::string ids;
};

// telemetry_privacy_ranges: consecutive batches under one fingerprint extend the range, a batch
// under another restarts it, a restore clears it; a scan flags exactly the events inside it, and
// only when asked with the same fingerprint (and for stored texts), in table and by-session order.
TEST_P(StoreConformanceTest, PrivacyRangesFlagExactlyTheEventsStoredUnderTheSameSettings) {
  const std::string a(64, 'a');
  const std::string b(64, 'b');
  const auto flags = [this](const std::string& fingerprint, bool by_session = false,
                            bool stored_texts = true) {
    ScanRequest r;
    r.sessions = r.errors = false;
    r.by_session = by_session;
    r.stored_texts = stored_texts;
    r.privacy_fingerprint = fingerprint;
    PrivacyFlags v;
    Status st = store_->Scan(r, v);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return v.ids;
  };
  ASSERT_OK(store_->ApplyBatch(std::vector<Event>{Start("u", kT0, "unknown settings")}, kT0));
  const std::int64_t u = store_->LastBatchIds().first;
  const auto id = [u](int k) { return std::to_string(u + k); };
  store_->SetIncomingPrivacy(a);
  ASSERT_OK(store_->ApplyBatch(std::vector<Event>{Start("s", kT0 + 1, "one"),
                                                  Stream("s", kT0 + 2, "two")},
                               kT0));
  ASSERT_OK(store_->ApplyBatch(std::vector<Event>{Stream("s", kT0 + 3, "three")}, kT0));
  EXPECT_EQ(flags(a), id(0) + " " + id(1) + "* " + id(2) + "* " + id(3) + "* ");
  EXPECT_EQ(flags(a, true), flags(a));  // sessions "u" then "s", each with its events
  EXPECT_EQ(flags(b), id(0) + " " + id(1) + " " + id(2) + " " + id(3) + " ");
  EXPECT_EQ(flags(""), flags(b));
  EXPECT_EQ(flags(a, false, false), flags(b));  // plain scans never flag
  // Other settings: the range restarts there, and stays there while they write.
  store_->SetIncomingPrivacy(b);
  ASSERT_OK(store_->ApplyBatch(std::vector<Event>{Stream("s", kT0 + 4, "four")}, kT0));
  store_->SetIncomingPrivacy(a);
  ASSERT_OK(store_->ApplyBatch(std::vector<Event>{Stream("s", kT0 + 5, "five")}, kT0));
  ASSERT_OK(store_->ApplyBatch(std::vector<Event>{Stream("s", kT0 + 6, "six")}, kT0));
  EXPECT_EQ(flags(a), id(0) + " " + id(1) + " " + id(2) + " " + id(3) + " " + id(4) + " " +
                          id(5) + "* " + id(6) + "* ");
  EXPECT_EQ(flags(b).find('*'), std::string::npos);
  // A restore may put rows with any id anywhere: no range survives it.
  {
    auto w = store_->BeginRestore(kT0 + 100);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    Session session;
    session.id = "r";
    session.agent_type = "claude";
    session.start_time = kT0;
    session.last_event_time = kT0;
    session.event_count = 1;
    ASSERT_OK((*w)->AddSession(session));
    Event restored = Start("r", kT0, "restored");
    restored.id = u + 100;
    ASSERT_OK((*w)->AddEvent(restored));
    ASSERT_OK((*w)->Commit());
  }
  EXPECT_EQ(flags(a).find('*'), std::string::npos) << flags(a);
  // The next batch starts a new range (the restored id lies before it).
  ASSERT_OK(store_->ApplyBatch(std::vector<Event>{Stream("s", kT0 + 7, "seven")}, kT0));
  const std::string after = flags(a);
  EXPECT_EQ(std::count(after.begin(), after.end(), '*'), 1) << after;
  EXPECT_NE(after.find(std::to_string(store_->LastBatchIds().first) + "*"), std::string::npos);
}

TEST_P(StoreConformanceTest, RestoreKeepsIdsIndexesTextAndRollsBackWhenNotCommitted) {
  std::vector<Event> live = {Start("live", kT0, "already here")};
  ASSERT_OK(store_->ApplyBatch(live, kT0));
  const std::uint64_t v0 = store_->DataVersion();
  {
    auto w = store_->BeginRestore(kT0 + 100);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    Session s;
    s.id = "restored";
    s.agent_type = "gemini";
    s.mode = "plan";
    s.status = SessionStatus::kCompleted;
    s.start_time = kT0 - 10'000;
    s.end_time = kT0 - 9000;
    s.duration = 1000;
    s.last_event_time = kT0 - 9000;
    s.event_count = 3;
    s.stream_event_count = 1;
    s.error_count = 1;
    ASSERT_OK((*w)->AddSession(s));
    Event e1 = Start("restored", kT0 - 10'000, "restored prompt about kangaroos", "gemini");
    e1.id = 500;
    e1.mode = "plan";
    Event e2 = Stream("restored", kT0 - 9500, std::string(2000, 'k') + " wallaby", "gemini");
    e2.id = 502;
    e2.mode = "plan";
    Event e3 = Ev("restored", EventType::kEnd, kT0 - 9000, "gemini", std::string("plan"));
    e3.id = 503;
    ASSERT_OK((*w)->AddEvent(e1));
    ASSERT_OK((*w)->AddEvent(e2));
    ASSERT_OK((*w)->AddEvent(e3));
    ErrorRecord r;
    r.id = 40;
    r.session_id = "restored";
    r.event_id = 502;
    r.error_type = "Timeout";
    r.error_message = "took too long";
    r.severity = ErrorSeverity::kHigh;
    r.timestamp = kT0 - 9400;
    ASSERT_OK((*w)->AddError(r));
    ASSERT_OK((*w)->Commit());
  }
  EXPECT_GT(store_->DataVersion(), v0);
  std::vector<Event> r = All(EventQueryFilter{.session_id = "restored"});
  EXPECT_EQ(Ids(r), (std::vector<std::int64_t>{500, 502, 503}));
  EXPECT_EQ(SearchSessions("kangaroo"),
            (std::vector<std::string>{"restored@" + std::to_string(kT0 - 10'000)}));
  EXPECT_EQ(SearchSessions("wallaby").size(), 1u);
  const Session s = Get("restored");
  EXPECT_EQ(s.status, SessionStatus::kCompleted);
  EXPECT_EQ(s.event_count, 3);
  auto errors = store_->GetSessionErrors("restored");
  ASSERT_TRUE(errors.ok());
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ((*errors)[0].id, 40);
  EXPECT_EQ((*errors)[0].severity, ErrorSeverity::kHigh);
  auto stats = store_->GetAggregateStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total.total_events, 4);
  EXPECT_EQ(stats->total.sessions, 2);
  EXPECT_EQ(stats->by_agent.at("gemini").total_events, 3);
  EXPECT_EQ(stats->total.min_timestamp, kT0 - 10'000);
  auto minutes = store_->ReadMinuteRollups(0, kT0 * 2);
  ASSERT_TRUE(minutes.ok());
  std::int64_t minute_events = 0;
  for (const MinuteRow& m : *minutes) minute_events += m.counts.events;
  EXPECT_EQ(minute_events, 4);
  // New events get ids after the restored ones.
  std::vector<Event> next = {Stream("live", kT0 + 5, "after")};
  ASSERT_OK(store_->ApplyBatch(next, kT0 + 5));
  EXPECT_GT(store_->LastBatchIds().first, 503);

  // Uncommitted: nothing stays; a duplicate id is refused.
  {
    auto w = store_->BeginRestore(kT0 + 200);
    ASSERT_TRUE(w.ok());
    Session s2;
    s2.id = "ghost";
    s2.agent_type = "claude";
    s2.start_time = kT0;
    ASSERT_OK((*w)->AddSession(s2));
    Event e = Start("ghost", kT0, "ghost text");
    e.id = 7000;
    ASSERT_OK((*w)->AddEvent(e));
    Event dup = Start("ghost", kT0, "dup");
    dup.id = 500;
    Status st = (*w)->AddEvent(dup);
    if (st.ok()) st = (*w)->Commit();
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  }
  EXPECT_FALSE(store_->GetSession("ghost")->has_value());
  // An event of a session that is in neither the database nor the restore: refused.
  {
    auto w = store_->BeginRestore(kT0 + 300);
    ASSERT_TRUE(w.ok());
    Event orphan = Stream("nobody", kT0, "orphaned text");
    orphan.id = 9000;
    Status st = (*w)->AddEvent(orphan);
    if (st.ok()) st = (*w)->Commit();
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  }
  EXPECT_TRUE(SearchSessions("ghost").empty());
  EXPECT_EQ(All().size(), 5u);
  // The writer is free again.
  std::vector<Event> after = {Stream("live", kT0 + 6, "again")};
  EXPECT_OK(store_->ApplyBatch(after, kT0 + 6));
}

TEST_P(StoreConformanceTest, RollupsRangesPercentilesAndHours) {
  // Three sessions in two hours of one day, with durations 1000, 3000, and one still active.
  const std::int64_t h0 = (kT0 / kHourMs) * kHourMs;
  std::vector<Event> batch = {
      Start("p1", h0 + 60'000, "a"),
      Stream("p1", h0 + 60'500, "x"),
      Ev("p1", EventType::kEnd, h0 + 61'000),
      Start("p2", h0 + kHourMs + 120'000, "b", "codex"),
      Stream("p2", h0 + kHourMs + 120'100, "y", "codex"),
      Stream("p2", h0 + kHourMs + 121'000, "z", "codex"),
      Ev("p2", EventType::kEnd, h0 + kHourMs + 123'000, "codex"),
      Start("p3", h0 + kHourMs + 180'000, "c"),
  };
  ASSERT_OK(store_->ApplyBatch(batch, h0 + 2 * kHourMs));
  auto agg = store_->GetAggregateStats();
  ASSERT_TRUE(agg.ok());
  EXPECT_EQ(agg->total.total_events, 8);
  EXPECT_EQ(agg->total.start_events, 3);
  EXPECT_EQ(agg->total.stream_events, 3);
  EXPECT_EQ(agg->total.end_events, 2);
  EXPECT_EQ(agg->total.sessions, 3);
  EXPECT_EQ(agg->total.completed_sessions, 2);
  EXPECT_EQ(agg->total.active_sessions, 1);
  EXPECT_EQ(agg->total.duration_sum_ms, 4000);
  EXPECT_EQ(agg->total.duration_count, 2);
  EXPECT_DOUBLE_EQ(agg->total.avg_session_duration_ms.value_or(-1), 2000.0);
  EXPECT_EQ(agg->total.min_timestamp, h0 + 60'000);
  EXPECT_EQ(agg->total.max_timestamp, h0 + kHourMs + 180'000);
  EXPECT_EQ(agg->by_agent.at("codex").total_events, 4);
  EXPECT_EQ(agg->by_agent.at("claude").sessions, 2);
  ASSERT_EQ(agg->by_mode.size(), 1u);
  EXPECT_EQ(agg->by_mode.at("code").total_events, 8);  // Ev() gives every event mode "code"
  EXPECT_DOUBLE_EQ(agg->error_event_rate_pct, 0.0);

  auto range = store_->AggregateStatsBetween(h0 + kHourMs, h0 + 2 * kHourMs);
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  EXPECT_EQ(range->total.total_events, 5);
  EXPECT_EQ(range->total.sessions, 2);
  EXPECT_EQ(range->total.completed_sessions, 1);
  EXPECT_EQ(range->by_agent.size(), 2u);
  auto pct = store_->SessionPercentilesBetween(0, h0 * 2);
  ASSERT_TRUE(pct.ok());
  EXPECT_EQ(pct->duration_ms.count, 2);
  EXPECT_EQ(pct->duration_ms.p50, 1000);
  EXPECT_EQ(pct->duration_ms.p99, 3000);
  EXPECT_EQ(pct->events_per_session.count, 3);
  EXPECT_EQ(pct->events_per_session.p50, 3);
  EXPECT_EQ(pct->events_per_session.p99, 4);
  auto empty = store_->SessionPercentilesBetween(0, 10);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->duration_ms.count, 0);
  EXPECT_FALSE(empty->duration_ms.p50.has_value());

  auto minutes = store_->ReadMinuteRollups(h0, h0 + 2 * kHourMs);
  ASSERT_TRUE(minutes.ok());
  std::int64_t events = 0, completed = 0, response_count = 0;
  for (const MinuteRow& m : *minutes) {
    EXPECT_EQ(m.key.minute % kMinuteMs, 0);
    events += m.counts.events;
    completed += m.counts.sessions_completed;
    response_count += m.counts.response.count;
  }
  EXPECT_EQ(events, 8);
  EXPECT_EQ(completed, 2);
  EXPECT_EQ(response_count, 2);  // p1 and p2 have a first stream
  auto later = store_->ReadMinuteRollups(h0 + kHourMs, h0 + 2 * kHourMs);
  ASSERT_TRUE(later.ok());
  events = 0;
  for (const MinuteRow& m : *later) events += m.counts.events;
  EXPECT_EQ(events, 5);
  auto hours = store_->ReadPeriodRollups(kHourMs, h0, h0 + kHourMs);
  ASSERT_TRUE(hours.ok());
  std::set<std::int64_t> starts;
  events = 0;
  for (const MinuteRow& m : *hours) {
    starts.insert(m.key.minute);
    events += m.counts.events;
  }
  EXPECT_EQ(starts, (std::set<std::int64_t>{h0, h0 + kHourMs}));
  EXPECT_EQ(events, 8);
  auto days = store_->ReadPeriodRollups(kDayMs, 0, h0 * 2);
  ASSERT_TRUE(days.ok());
  events = 0;
  for (const MinuteRow& m : *days) {
    EXPECT_EQ(m.key.minute % kDayMs, 0);
    events += m.counts.events;
  }
  EXPECT_EQ(events, 8);
  EXPECT_EQ(store_->ReadPeriodRollups(60'000, 0, h0).status().code(), StatusCode::kInvalidArgument);
  auto by_hour = store_->EventsByHourOfDay(0, h0 * 2);
  ASSERT_TRUE(by_hour.ok());
  const int hour = static_cast<int>((h0 / kHourMs) % 24);
  EXPECT_EQ((*by_hour)[static_cast<std::size_t>(hour)], 3);
  EXPECT_EQ((*by_hour)[static_cast<std::size_t>((hour + 1) % 24)], 5);
}

TEST_P(StoreConformanceTest, RetentionDeletesWholeSessionsAndAdjustsTheRollups) {
  std::vector<Event> batch;
  for (int s = 0; s < 5; ++s) {
    const std::string sid = "r" + std::to_string(s);
    batch.push_back(Start(sid, kT0 + s * 10'000, "work " + sid));
    batch.push_back(Stream(sid, kT0 + s * 10'000 + 100, "searchable" + std::to_string(s)));
    Event err = Ev(sid, EventType::kError, kT0 + s * 10'000 + 200);
    err.stream_data = "oops";
    batch.push_back(err);
  }
  ASSERT_OK(store_->ApplyBatch(batch, kT0 + 60'000));
  const std::int64_t audits = QueryInt(db_, "SELECT count(*) FROM telemetry_audit_log");
  const std::uint64_t v0 = store_->DataVersion();

  DeleteSelector inactive;
  inactive.kind = DeleteSelector::Kind::kInactiveBefore;
  inactive.cutoff_ms = kT0 + 10'200;  // r0 (last event +200) only: r1's last is exactly at it
  inactive.reason = "age";
  auto d = store_->DeleteSessions(inactive, kT0 + 70'000);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->sessions_removed, 1);
  EXPECT_EQ(d->events_removed, 3);
  EXPECT_GT(store_->DataVersion(), v0);
  EXPECT_FALSE(store_->GetSession("r0")->has_value());
  EXPECT_TRUE(Get("r1").id == "r1");

  DeleteSelector oldest;
  oldest.kind = DeleteSelector::Kind::kOldest;
  oldest.limit = 2;
  oldest.reason = "size";
  d = store_->DeleteSessions(oldest, kT0 + 70'000);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->sessions_removed, 2);
  EXPECT_EQ(d->events_removed, 6);
  auto left = store_->QuerySessions(SessionQueryFilter{.order = SortOrder::kAsc});
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 2u);
  EXPECT_EQ((*left)[0].id, "r3");
  EXPECT_EQ((*left)[1].id, "r4");
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM telemetry_errors"), 2);
  EXPECT_TRUE(SearchSessions("searchable1").empty());
  EXPECT_EQ(SearchSessions("searchable3").size(), 1u);
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM telemetry_audit_log"), audits + 2);
  auto stats = store_->GetAggregateStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total.total_events, 6);
  EXPECT_EQ(stats->total.sessions, 2);
  EXPECT_EQ(stats->total.error_events, 2);
  EXPECT_EQ(stats->total.failed_sessions, 2);
  EXPECT_EQ(stats->total.min_timestamp, kT0 + 30'000);
  auto minutes = store_->ReadMinuteRollups(0, kT0 * 2);
  ASSERT_TRUE(minutes.ok());
  // The deleted sessions' contributions leave the minute rollups (their events' counts stay as
  // activity history until the minutes are trimmed).
  std::int64_t failed = 0;
  for (const MinuteRow& m : *minutes) failed += m.counts.sessions_failed;
  EXPECT_EQ(failed, 2);
  auto none = store_->DeleteSessions(inactive, kT0 + 80'000);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->sessions_removed, 0);
  EXPECT_OK(store_->ReclaimSpace());
  EXPECT_EQ(All().size(), 6u);

  // Clear: everything in one transaction, one audit row, schema and rules kept.
  const std::int64_t rules = QueryInt(db_, "SELECT count(*) FROM telemetry_validation_rules");
  ASSERT_OK(store_->RecordDeadLetter(batch, Status::InvalidArgument("x"), kT0));
  const std::uint64_t v1 = store_->DataVersion();
  auto cleared = store_->DeleteAll("test clear", kT0 + 90'000);
  ASSERT_TRUE(cleared.ok()) << cleared.status().ToString();
  EXPECT_EQ(cleared->sessions_removed, 2);
  EXPECT_EQ(cleared->events_removed, 6);
  EXPECT_GT(store_->DataVersion(), v1);
  EXPECT_TRUE(All().empty());
  EXPECT_TRUE(SearchSessions("searchable3").empty());
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM telemetry_buffers"), 0);
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM telemetry_audit_log"), audits + 3);
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM telemetry_validation_rules"), rules);
  stats = store_->GetAggregateStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total.total_events, 0);
  minutes = store_->ReadMinuteRollups(0, kT0 * 2);
  ASSERT_TRUE(minutes.ok());
  EXPECT_TRUE(minutes->empty());
  auto health = store_->CheckHealth(false);
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->quick_check, "skipped");
  EXPECT_EQ(health->oldest_event_time, 0);
  EXPECT_EQ(health->dead_letter_batches, 0);
}

TEST_P(StoreConformanceTest, AlertsArePersistedResolvedAndValidated) {
  AlertRecord a;
  a.metric = "error_rate";
  a.value = 12.5;
  a.threshold = 10;
  a.direction = "above";
  a.severity = "high";
  a.message = "error rate 12.5% above 10%";
  a.fired_at = kT0;
  auto id1 = store_->InsertAlert(a);
  ASSERT_TRUE(id1.ok()) << id1.status().ToString();
  a.metric = "throughput";
  a.direction = "below";
  a.severity = "low";
  a.fired_at = kT0 + 1000;
  auto id2 = store_->InsertAlert(a);
  ASSERT_TRUE(id2.ok());
  EXPECT_GT(*id2, *id1);
  ASSERT_OK(store_->ResolveAlert(*id1, kT0 + 5000, 3.25));
  EXPECT_EQ(store_->ResolveAlert(*id2 + 100, kT0, 0).code(), StatusCode::kNotFound);
  a.direction = "sideways";
  EXPECT_EQ(store_->InsertAlert(a).status().code(), StatusCode::kInvalidArgument);
  a.direction = "above";
  a.severity = "apocalyptic";
  EXPECT_EQ(store_->InsertAlert(a).status().code(), StatusCode::kInvalidArgument);
  // The same after a batch (whose own writes skip SQLite's CHECK constraints: its values come
  // from enumerations): the table's CHECK still refuses the severity.
  ASSERT_OK(store_->ApplyBatch(std::vector<Event>{Start("alerting", kT0, "text")}, kT0));
  EXPECT_EQ(store_->InsertAlert(a).status().code(), StatusCode::kInvalidArgument);
  auto alerts = store_->ReadAlerts(10);
  ASSERT_TRUE(alerts.ok()) << alerts.status().ToString();
  ASSERT_EQ(alerts->size(), 2u);
  EXPECT_EQ((*alerts)[0].id, *id1);  // oldest first
  EXPECT_EQ((*alerts)[0].metric, "error_rate");
  EXPECT_DOUBLE_EQ((*alerts)[0].value, 12.5);
  EXPECT_EQ((*alerts)[0].resolved_at, kT0 + 5000);
  EXPECT_DOUBLE_EQ((*alerts)[0].resolved_value.value_or(-1), 3.25);
  EXPECT_EQ((*alerts)[1].direction, "below");
  EXPECT_FALSE((*alerts)[1].resolved_at.has_value());
  auto newest = store_->ReadAlerts(1);
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->size(), 1u);
  EXPECT_EQ((*newest)[0].id, *id2);
}

TEST_P(StoreConformanceTest, DataVersionMovesOnCommitsOnly) {
  const std::uint64_t v0 = store_->DataVersion();
  (void)store_->QueryEvents(EventQueryFilter{});
  (void)store_->GetAggregateStats();
  EXPECT_EQ(store_->DataVersion(), v0);
  std::vector<Event> batch = {Start("v", kT0, "x")};
  ASSERT_OK(store_->ApplyBatch(batch, kT0));
  const std::uint64_t v1 = store_->DataVersion();
  EXPECT_GT(v1, v0);
  // Writes that change no telemetry (alerts, dead letters, delivery state) keep the version.
  AlertRecord a;
  a.metric = "m";
  a.direction = "above";
  a.severity = "low";
  a.fired_at = kT0;
  ASSERT_TRUE(store_->InsertAlert(a).ok());
  ASSERT_OK(store_->EnsureDeliveryState(kT0));
  (void)store_->CheckHealth(true);
  EXPECT_EQ(store_->DataVersion(), v1);
  // A second store object on the same database counts its own commits only.
  std::vector<Event> more = {Stream("v", kT0 + 1, "y")};
  ASSERT_OK(store_->ApplyBatch(more, kT0 + 1));
  EXPECT_GT(store_->DataVersion(), v1);
}

// The live delivery outbox: events after the cursor, the ended sessions' root spans, accepted
// and rejected requests recorded with their totals.
TEST_P(StoreConformanceTest, DeliveryOutboxQueuesAndRecordsRequests) {
  auto before = store_->GetDeliveryState();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_FALSE(before->configured);
  std::vector<Event> first = {Start("before", 500, "old")};
  ASSERT_OK(store_->ApplyBatch(first, 600));
  ASSERT_OK(store_->EnsureDeliveryState(700));
  ASSERT_OK(store_->EnsureDeliveryState(800));  // idempotent
  std::vector<Event> batch;
  for (int i = 0; i < 8; ++i) {
    const std::string sid = "r" + std::to_string(i);
    batch.push_back(Start(sid, 1000 + i * 100, "go"));
    batch.push_back(Stream(sid, 1010 + i * 100, "x"));
    if (i % 3 != 0) batch.push_back(Ev(sid, EventType::kEnd, 1050 + i * 130));
    if (i == 4) {
      Event err = Ev(sid, EventType::kError, 1060 + i * 100);
      err.stream_data = "boom";
      batch.push_back(err);
    }
  }
  ASSERT_OK(store_->ApplyBatch(batch, 5000));
  auto d = store_->GetDeliveryState();
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->configured);
  EXPECT_EQ(d->queued_events, static_cast<std::int64_t>(batch.size()));  // history not sent
  EXPECT_EQ(d->queued_sessions, 5);
  auto roots = store_->PendingRootSpans(100);
  ASSERT_TRUE(roots.ok());
  std::set<std::string> root_ids;
  for (const PendingRootSpan& r : *roots) root_ids.insert(r.session_id);
  EXPECT_EQ(root_ids, (std::set<std::string>{"r1", "r2", "r4", "r5", "r7"}));
  auto after = store_->EventsAfter(d->event_cursor, 1000);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), batch.size());
  for (std::size_t i = 1; i < after->size(); ++i) EXPECT_LT((*after)[i - 1].id, (*after)[i].id);
  auto limited = store_->EventsAfter(d->event_cursor, 3);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 3u);
  auto errors = store_->ErrorsForEvents(after->front().id, after->back().id);
  ASSERT_TRUE(errors.ok());
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ((*errors)[0].session_id, "r4");

  DeliveryRecord retry;
  retry.kind = DeliveryRecord::Kind::kRetry;
  retry.http_status = 503;
  retry.error = "unavailable";
  ASSERT_OK(store_->RecordDelivery(retry, 8000));
  DeliveryRecord rec;
  rec.kind = DeliveryRecord::Kind::kAccepted;
  rec.new_cursor = after->back().id;
  rec.first_event_id = after->front().id;
  rec.events = static_cast<std::int64_t>(after->size());
  rec.spans = 3;
  rec.roots = *roots;
  rec.http_status = 200;
  ASSERT_OK(store_->RecordDelivery(rec, 9000));
  DeliveryRecord bad;
  bad.kind = DeliveryRecord::Kind::kRejected;
  bad.http_status = 400;
  bad.error = "bad request";
  ASSERT_OK(store_->RecordDelivery(bad, 9100));
  d = store_->GetDeliveryState();
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->event_cursor, after->back().id);
  EXPECT_EQ(d->queued_events, 0);
  EXPECT_EQ(d->queued_sessions, 0);
  EXPECT_EQ(d->events_sent, static_cast<std::int64_t>(batch.size()));
  EXPECT_EQ(d->spans_sent, 3);
  EXPECT_EQ(d->requests_sent, 1);
  EXPECT_EQ(d->requests_failed, 1);
  EXPECT_EQ(d->retries, 1);
  EXPECT_EQ(d->failed_requests_recorded, 1);
  EXPECT_EQ(d->last_error, "bad request");
  EXPECT_EQ(d->last_success_time, 9000);
  // A session reaching a final status later is queued then.
  std::vector<Event> later = {Stream("r3", 9500, "again"), Ev("r3", EventType::kEnd, 9600)};
  ASSERT_OK(store_->ApplyBatch(later, 9700));
  roots = store_->PendingRootSpans(100);
  ASSERT_TRUE(roots.ok());
  ASSERT_EQ(roots->size(), 1u);
  EXPECT_EQ((*roots)[0].session_id, "r3");
  d = store_->GetDeliveryState();
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->queued_events, 2);
}

TEST_P(StoreConformanceTest, OptimizeAndVacuumKeepTheDataAndGatherStatistics) {
  std::vector<Event> batch;
  // Fewer rows than autovacuum's analyze threshold (50), so only Optimize gathers statistics.
  for (int i = 0; i < 40; ++i) {
    batch.push_back(Stream("o" + std::to_string(i % 7), kT0 + i, "word" + std::to_string(i)));
  }
  ASSERT_OK(store_->ApplyBatch(batch, kT0 + 1000));
  // Another database's statistics are not this one's.
  auto other = NewStore();
  ASSERT_TRUE(other->Optimize(false).ok());
  auto before = store_->GetPlannerState();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_FALSE(before->statistics);
  auto opt = store_->Optimize(true);
  ASSERT_TRUE(opt.ok()) << opt.status().ToString();
  std::set<std::string> steps;
  for (const MaintenanceStep& s : opt->steps) {
    steps.insert(s.name);
    EXPECT_GE(s.duration_ms, 0);
  }
  EXPECT_TRUE(steps.count("analyze"));
  EXPECT_TRUE(steps.count("reindex"));
  EXPECT_GT(opt->file_size_before_bytes, 0);
  EXPECT_GT(opt->file_size_after_bytes, 0);
  auto after = store_->GetPlannerState();
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->statistics);
  // Vacuum: one statement, sizes of this database before and after, the data intact.
  DeleteSelector all;
  all.kind = DeleteSelector::Kind::kOldest;
  all.limit = 5;
  all.reason = "test";
  ASSERT_TRUE(store_->DeleteSessions(all, kT0 + 2000).ok());
  auto vac = store_->Vacuum(true);
  ASSERT_TRUE(vac.ok()) << vac.status().ToString();
  ASSERT_FALSE(vac->steps.empty());
  EXPECT_EQ(vac->steps.front().name, "vacuum");
  EXPECT_GT(vac->file_size_before_bytes, 0);
  EXPECT_GT(vac->file_size_after_bytes, 0);
  // The sizes are this database's (not the server's or another schema's): what UsedBytes says.
  auto used = store_->UsedBytes();
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(vac->file_size_after_bytes, *used);
  EXPECT_EQ(All().size(), 10u);  // the 5 oldest sessions (o0..o4, 6 events each) went
  EXPECT_EQ(SearchSessions("word33").size(), 1u);  // o5's
  EXPECT_TRUE(SearchSessions("word39").empty());   // o4's
}

}  // namespace
}  // namespace vibekit::store
