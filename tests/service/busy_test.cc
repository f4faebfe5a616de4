// A database locked by someone else: events wait (bounded, never dropped silently) and arrive once
// the lock is released; a full queue answers kBusy; shutdown under the lock reports the failure.
// The lock is held by a second raw SQLite connection in BEGIN IMMEDIATE.
#include <chrono>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "vibekit/telemetry_service.h"

#include "testing/test_util.h"

namespace vibekit {
namespace {

using testing::QueryInt;
using testing::QueryText;
using testing::TempDir;

// Holds the database's write lock from another connection until Release() or destruction.
class WriteLockHolder {
 public:
  explicit WriteLockHolder(const std::string& db_path) {
    if (sqlite3_open_v2(db_path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << db_path << ": " << sqlite3_errmsg(db_);
      return;
    }
    sqlite3_busy_timeout(db_, 10000);
    char* err = nullptr;
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, &err) != SQLITE_OK) {
      ADD_FAILURE() << "BEGIN IMMEDIATE failed: " << (err != nullptr ? err : "?");
      sqlite3_free(err);
      return;
    }
    held_ = true;
  }
  ~WriteLockHolder() { Release(); }
  WriteLockHolder(const WriteLockHolder&) = delete;
  WriteLockHolder& operator=(const WriteLockHolder&) = delete;

  bool held() const { return held_; }

  void Release() {
    if (held_) {
      EXPECT_EQ(sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
      held_ = false;
    }
    if (db_ != nullptr) {
      sqlite3_close(db_);
      db_ = nullptr;
    }
  }

 private:
  sqlite3* db_ = nullptr;
  bool held_ = false;
};

bool IsBusyOrDeadline(const Status& st) {
  return st.code() == StatusCode::kBusy || st.code() == StatusCode::kDeadlineExceeded;
}

TrackStreamParams Stream(const std::string& sid, int i) {
  TrackStreamParams s;
  s.session_id = sid;
  s.agent_type = "busy-agent";
  s.stream_data = sid + " chunk " + std::to_string(i);
  return s;
}

TEST(BusyDatabase, EventsWaitAndArriveWhenLockReleased) {
  TempDir dir;
  const std::string db_path = dir.File("busy.db");
  TelemetryConfig config = testing::TestConfig(db_path);
  config.local_store.busy_timeout_ms = 100;
  config.local_store.stream_batch_size = 4;
  TelemetryService service(config);
  ASSERT_OK(service.Initialize());

  WriteLockHolder lock(db_path);
  ASSERT_TRUE(lock.held());

  const std::string sid = "busy-session";
  constexpr int kStreams = 10;
  TrackStartParams start;
  start.session_id = sid;
  start.agent_type = "busy-agent";
  ASSERT_OK(service.TrackStart(start));
  for (int i = 0; i < kStreams; ++i) ASSERT_OK(service.TrackStream(Stream(sid, i)));
  TrackEndParams end;
  end.session_id = sid;
  end.agent_type = "busy-agent";
  ASSERT_OK(service.TrackEnd(end));

  const auto t0 = std::chrono::steady_clock::now();
  const Status blocked = service.FlushBuffers(500);
  const auto waited_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_FALSE(blocked.ok()) << "FlushBuffers reported success while the database was locked";
  EXPECT_TRUE(IsBusyOrDeadline(blocked)) << blocked.ToString();
  EXPECT_LT(waited_ms, 5000) << "FlushBuffers(500) overran its timeout";
  EXPECT_GE(service.GetPerformanceMetrics().failed_flushes, 1);
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_events"), 0);

  lock.Release();
  ASSERT_OK(service.FlushBuffers(10000));

  // Everything arrived, exactly once.
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_events"), kStreams + 2);
  EXPECT_EQ(QueryInt(db_path,
                     "SELECT count(DISTINCT stream_data) FROM telemetry_events "
                     "WHERE event_type = 'stream'"),
            kStreams);
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_events WHERE event_type = 'start'"),
            1);
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_events WHERE event_type = 'end'"), 1);
  auto session = service.GetSession(sid);
  ASSERT_OK(session.status());
  EXPECT_EQ(session->event_count, kStreams + 2);
  EXPECT_EQ(session->stream_event_count, kStreams);
  EXPECT_EQ(session->status, SessionStatus::kCompleted);
  auto stats = service.GetAggregateStats();
  ASSERT_OK(stats.status());
  EXPECT_EQ(stats->total.total_events, kStreams + 2);
  EXPECT_EQ(stats->total.sessions, 1);
}

TEST(BusyDatabase, FullQueueGivesBusyNotSilentLoss) {
  TempDir dir;
  const std::string db_path = dir.File("full.db");
  TelemetryConfig config = testing::TestConfig(db_path);
  config.local_store.max_pending_events = 20;
  config.local_store.enqueue_timeout_ms = 50;
  config.local_store.busy_timeout_ms = 50;
  TelemetryService service(config);
  ASSERT_OK(service.Initialize());

  WriteLockHolder lock(db_path);
  ASSERT_TRUE(lock.held());

  const std::string sid = "full-session";
  int accepted = 0;
  Status refused;
  TrackStartParams start;
  start.session_id = sid;
  start.agent_type = "busy-agent";
  Status st = service.TrackStart(start);
  ASSERT_OK(st);
  ++accepted;
  for (int i = 0; i < 1000; ++i) {
    st = service.TrackStream(Stream(sid, i));
    if (!st.ok()) {
      refused = st;
      break;
    }
    ++accepted;
  }
  ASSERT_FALSE(refused.ok()) << "1000 events accepted with max_pending_events = 20";
  EXPECT_EQ(refused.code(), StatusCode::kBusy) << refused.ToString();
  // Nothing can be committed while the lock is held, so the bound is exact.
  EXPECT_EQ(accepted, 20);
  // Still full: the next one is refused too.
  TrackEndParams end;
  end.session_id = sid;
  end.agent_type = "busy-agent";
  EXPECT_EQ(service.TrackEnd(end).code(), StatusCode::kBusy);
  EXPECT_GE(service.GetPerformanceMetrics().rejected_busy, 2);

  lock.Release();
  ASSERT_OK(service.FlushBuffers(10000));
  // Exactly the accepted events, each once; the refused ones are not there.
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_events"), accepted);
  EXPECT_EQ(QueryInt(db_path,
                     "SELECT count(DISTINCT coalesce(stream_data, '#start')) "
                     "FROM telemetry_events"),
            accepted);
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_events WHERE event_type = 'end'"), 0);
  EXPECT_EQ(
      QueryText(db_path, "SELECT max(stream_data) FROM telemetry_events WHERE stream_data = '" +
                             sid + " chunk " + std::to_string(accepted - 2) + "'"),
      sid + " chunk " + std::to_string(accepted - 2));
  auto session = service.GetSession(sid);
  ASSERT_OK(session.status());
  EXPECT_EQ(session->event_count, accepted);
  EXPECT_GE(service.GetPerformanceMetrics().rejected_busy, 1);

  // With room again, tracking works.
  ASSERT_OK(service.TrackEnd(end));
  ASSERT_OK(service.FlushBuffers(10000));
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_events"), accepted + 1);
}

TEST(BusyDatabase, ShutdownWithLockHeldReportsFailure) {
  TempDir dir;
  const std::string db_path = dir.File("shutdown.db");
  TelemetryConfig config = testing::TestConfig(db_path);
  config.local_store.busy_timeout_ms = 50;
  TelemetryService service(config);
  ASSERT_OK(service.Initialize());

  WriteLockHolder lock(db_path);
  ASSERT_TRUE(lock.held());
  const std::string sid = "shutdown-session";
  TrackStartParams start;
  start.session_id = sid;
  start.agent_type = "busy-agent";
  ASSERT_OK(service.TrackStart(start));
  for (int i = 0; i < 5; ++i) ASSERT_OK(service.TrackStream(Stream(sid, i)));

  const auto t0 = std::chrono::steady_clock::now();
  const Status st = service.Shutdown(300);
  const auto waited_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_FALSE(st.ok()) << "Shutdown reported success although nothing could be written";
  EXPECT_TRUE(st.code() == StatusCode::kBusy || st.code() == StatusCode::kDeadlineExceeded ||
              st.code() == StatusCode::kUnavailable)
      << st.ToString();
  EXPECT_LT(waited_ms, 5000) << "Shutdown(300) overran its timeout";
  EXPECT_EQ(service.TrackStart(start).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(service.FlushBuffers(100).code(), StatusCode::kFailedPrecondition);

  lock.Release();
  // Whatever happened, the file is consistent: no half-written batch.
  EXPECT_EQ(QueryText(db_path, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_events"),
            QueryInt(db_path, "SELECT coalesce(sum(event_count), 0) FROM telemetry_sessions"));
}

}  // namespace
}  // namespace vibekit
