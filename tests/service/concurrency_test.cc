// Many threads on one TelemetryService: exact counts after a flush, sane answers from concurrent
// readers, and per-session order preserved through the per-session stream buffers.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "vibekit/telemetry_service.h"

#include "testing/test_util.h"

namespace vibekit {
namespace {

using testing::QueryInt;
using testing::TempDir;

// What one session of the exact-counts test is made of.
struct SessionPlan {
  std::string id;
  std::string agent;
  int streams = 0;
  bool error = false;  // one TrackError in the middle of the streams, then end "failed"
  bool end = true;     // false: left active
};

SessionPlan PlanFor(int thread, int k, int streams) {
  SessionPlan p;
  p.id = "t" + std::to_string(thread) + "-s" + std::to_string(k);
  p.agent = "agent-" + std::to_string(thread % 3);
  p.streams = streams;
  p.error = k % 5 == 0;
  p.end = k % 10 != 9;
  return p;
}

SessionStatus ExpectedStatus(const SessionPlan& p) {
  if (p.error) return SessionStatus::kFailed;
  return p.end ? SessionStatus::kCompleted : SessionStatus::kActive;
}

std::int64_t ExpectedEvents(const SessionPlan& p) {
  return 1 + p.streams + (p.error ? 1 : 0) + (p.end ? 1 : 0);
}

// Tracks the plan; returns the first non-OK status (as text) or "".
std::string TrackSession(TelemetryService& service, const SessionPlan& p) {
  auto check = [](const Status& st, const char* what) -> std::string {
    return st.ok() ? std::string() : std::string(what) + ": " + st.ToString();
  };
  TrackStartParams start;
  start.session_id = p.id;
  start.agent_type = p.agent;
  start.mode = "concurrency";
  start.prompt = "prompt of " + p.id;
  if (auto e = check(service.TrackStart(start), "TrackStart"); !e.empty()) return e;
  for (int i = 0; i < p.streams; ++i) {
    if (p.error && i == p.streams / 2) {
      TrackErrorParams err;
      err.session_id = p.id;
      err.agent_type = p.agent;
      err.mode = "concurrency";
      err.error = "boom in " + p.id;
      err.error_type = "TestError";
      err.severity = ErrorSeverity::kHigh;
      if (auto e = check(service.TrackError(err), "TrackError"); !e.empty()) return e;
    }
    TrackStreamParams s;
    s.session_id = p.id;
    s.agent_type = p.agent;
    s.mode = "concurrency";
    s.stream_data = p.id + " chunk " + std::to_string(i);
    if (auto e = check(service.TrackStream(s), "TrackStream"); !e.empty()) return e;
  }
  if (p.end) {
    TrackEndParams end;
    end.session_id = p.id;
    end.agent_type = p.agent;
    end.mode = "concurrency";
    end.metadata = p.error ? R"({"status":"failed"})" : R"({"status":"success"})";
    if (auto e = check(service.TrackEnd(end), "TrackEnd"); !e.empty()) return e;
  }
  return "";
}

TelemetryConfig ConcurrencyConfig(const std::string& db_path) {
  TelemetryConfig config = testing::TestConfig(db_path);
  config.local_store.stream_batch_size = 5;          // buffers fill and move often
  config.local_store.stream_flush_interval_ms = 10;  // and expire while streams still arrive
  config.local_store.max_write_batch = 64;  // many small transactions interleaving the readers
  config.local_store.enqueue_timeout_ms = 30000;
  return config;
}

TEST(Concurrency, EightWritersTwoReadersExactCounts) {
  TempDir dir;
  const std::string db_path = dir.File("concurrency.db");
  TelemetryService service(ConcurrencyConfig(db_path));
  ASSERT_OK(service.Initialize());

  constexpr int kWriters = 8;
  constexpr int kSessionsPerWriter = 50;
  constexpr int kStreams = 17;

  std::vector<SessionPlan> plans;
  for (int t = 0; t < kWriters; ++t) {
    for (int k = 0; k < kSessionsPerWriter; ++k) plans.push_back(PlanFor(t, k, kStreams));
  }

  std::atomic<bool> writers_done{false};
  std::vector<std::string> writer_errors(kWriters);
  std::vector<std::string> reader_errors(2);
  std::vector<std::int64_t> reader_rounds(2, 0);

  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      for (int k = 0; k < kSessionsPerWriter; ++k) {
        std::string e =
            TrackSession(service, plans[static_cast<std::size_t>(t * kSessionsPerWriter + k)]);
        if (!e.empty()) {
          writer_errors[static_cast<std::size_t>(t)] = e;
          return;
        }
      }
    });
  }

  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      std::string& error = reader_errors[static_cast<std::size_t>(r)];
      std::int64_t last_total = 0, last_sessions = 0, last_session_events = 0;
      std::size_t last_queried_events = 0;
      const std::string watched = "t" + std::to_string(r) + "-s0";
      auto fail = [&](const std::string& what) { error = what; };
      do {
        // Events, newest first, of one agent.
        EventQueryFilter ef;
        ef.agent_type = "agent-" + std::to_string(r);
        ef.limit = 100000;
        auto events = service.QueryEvents(ef);
        if (!events.ok()) return fail("QueryEvents: " + events.status().ToString());
        if (events->size() < last_queried_events) return fail("QueryEvents shrank");
        last_queried_events = events->size();
        for (const Event& e : *events) {
          if (e.agent_type != ef.agent_type || e.session_id.empty() || e.id <= 0) {
            return fail("QueryEvents returned a foreign or incomplete event: " + e.session_id);
          }
        }
        // Sessions.
        SessionQueryFilter sf;
        sf.limit = 1000;
        auto sessions = service.QuerySessions(sf);
        if (!sessions.ok()) return fail("QuerySessions: " + sessions.status().ToString());
        for (const Session& s : *sessions) {
          if (s.event_count < 1 || s.stream_event_count > s.event_count ||
              s.error_count > s.event_count) {
            return fail("QuerySessions: impossible counters for " + s.id);
          }
        }
        // The rollup: monotonic, and internally consistent in every snapshot.
        auto stats = service.GetAggregateStats();
        if (!stats.ok()) return fail("GetAggregateStats: " + stats.status().ToString());
        const RollupCounts& c = stats->total;
        if (c.total_events < last_total) return fail("total_events decreased");
        if (c.sessions < last_sessions) return fail("sessions decreased");
        last_total = c.total_events;
        last_sessions = c.sessions;
        if (c.total_events != c.start_events + c.stream_events + c.end_events + c.error_events) {
          return fail("rollup event types do not add up: " + std::to_string(c.total_events));
        }
        // Every session begins with its start event, committed in the same transaction.
        if (c.sessions != c.start_events) {
          return fail("rollup: sessions " + std::to_string(c.sessions) + " != start events " +
                      std::to_string(c.start_events));
        }
        if (c.active_sessions + c.completed_sessions + c.failed_sessions + c.timeout_sessions !=
            c.sessions) {
          return fail("rollup statuses do not add up");
        }
        // One session's stats: NotFound until committed, then growing.
        auto ss = service.GetSessionStats(watched);
        if (ss.ok()) {
          if (ss->event_count < last_session_events) return fail("session event_count decreased");
          last_session_events = ss->event_count;
          if (ss->stream_event_count > ss->event_count) return fail("session stats impossible");
        } else if (ss.status().code() != StatusCode::kNotFound) {
          return fail("GetSessionStats: " + ss.status().ToString());
        }
        ++reader_rounds[static_cast<std::size_t>(r)];
      } while (!writers_done.load());
    });
  }

  for (auto& t : writers) t.join();
  writers_done.store(true);
  for (auto& t : readers) t.join();
  for (int t = 0; t < kWriters; ++t)
    EXPECT_EQ(writer_errors[static_cast<std::size_t>(t)], "") << "writer " << t;
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(reader_errors[static_cast<std::size_t>(r)], "") << "reader " << r;
    EXPECT_GE(reader_rounds[static_cast<std::size_t>(r)], 1) << "reader " << r;
  }
  ASSERT_OK(service.FlushBuffers());

  // Expected totals.
  std::int64_t events = 0, streams = 0, errors = 0, ends = 0;
  std::int64_t active = 0, completed = 0, failed = 0, with_errors = 0;
  std::map<std::string, std::int64_t> events_by_agent;
  for (const SessionPlan& p : plans) {
    events += ExpectedEvents(p);
    events_by_agent[p.agent] += ExpectedEvents(p);
    streams += p.streams;
    errors += p.error ? 1 : 0;
    with_errors += p.error ? 1 : 0;
    ends += p.end ? 1 : 0;
    switch (ExpectedStatus(p)) {
      case SessionStatus::kActive:
        ++active;
        break;
      case SessionStatus::kCompleted:
        ++completed;
        break;
      case SessionStatus::kFailed:
        ++failed;
        break;
      case SessionStatus::kTimeout:
        break;
    }
  }
  const auto n_sessions = static_cast<std::int64_t>(plans.size());

  // On disk, through a separate connection.
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_events"), events);
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_events WHERE event_type='stream'"),
            streams);
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_events WHERE event_type='error'"),
            errors);
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_errors"), errors);
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_sessions"), n_sessions);
  // No event was written twice.
  EXPECT_EQ(QueryInt(db_path,
                     "SELECT count(*) FROM (SELECT session_id, stream_data FROM telemetry_events "
                     "WHERE event_type='stream' GROUP BY 1, 2 HAVING count(*) > 1)"),
            0);

  // Every session, through the API.
  SessionQueryFilter all;
  all.limit = 100000;
  auto sessions = service.QuerySessions(all);
  ASSERT_OK(sessions.status());
  ASSERT_EQ(static_cast<std::int64_t>(sessions->size()), n_sessions);
  std::map<std::string, Session> by_id;
  for (Session& s : *sessions) by_id.emplace(s.id, std::move(s));
  for (const SessionPlan& p : plans) {
    SCOPED_TRACE(p.id);
    auto it = by_id.find(p.id);
    ASSERT_NE(it, by_id.end());
    const Session& s = it->second;
    EXPECT_EQ(s.agent_type, p.agent);
    EXPECT_EQ(s.event_count, ExpectedEvents(p));
    EXPECT_EQ(s.stream_event_count, p.streams);
    EXPECT_EQ(s.error_count, p.error ? 1 : 0);
    EXPECT_EQ(SessionStatusName(s.status), SessionStatusName(ExpectedStatus(p)));
    EXPECT_EQ(s.end_time.has_value(), p.end);
  }

  // The rollup equals a direct count.
  auto stats = service.GetAggregateStats();
  ASSERT_OK(stats.status());
  const RollupCounts& c = stats->total;
  EXPECT_EQ(c.total_events, events);
  EXPECT_EQ(c.total_events, QueryInt(db_path, "SELECT count(*) FROM telemetry_events"));
  EXPECT_EQ(c.start_events, n_sessions);
  EXPECT_EQ(c.stream_events, streams);
  EXPECT_EQ(c.end_events, ends);
  EXPECT_EQ(c.error_events, errors);
  EXPECT_EQ(c.sessions, n_sessions);
  EXPECT_EQ(c.sessions, QueryInt(db_path, "SELECT count(*) FROM telemetry_sessions"));
  EXPECT_EQ(c.active_sessions, active);
  EXPECT_EQ(c.completed_sessions, completed);
  EXPECT_EQ(c.failed_sessions, failed);
  EXPECT_EQ(c.sessions_with_errors, with_errors);
  EXPECT_EQ(c.duration_count, ends);
  EXPECT_EQ(c.duration_sum_ms, QueryInt(db_path,
                                        "SELECT coalesce(sum(duration), 0) FROM telemetry_sessions "
                                        "WHERE duration IS NOT NULL"));
  EXPECT_EQ(QueryInt(db_path,
                     "SELECT total_events FROM telemetry_stats "
                     "WHERE stat_type='global' AND stat_key='all'"),
            events);
  EXPECT_EQ(QueryInt(db_path,
                     "SELECT unique_sessions FROM telemetry_stats "
                     "WHERE stat_type='global' AND stat_key='all'"),
            n_sessions);
  ASSERT_EQ(stats->by_agent.size(), events_by_agent.size());
  for (const auto& [agent, n] : events_by_agent) {
    auto it = stats->by_agent.find(agent);
    ASSERT_NE(it, stats->by_agent.end()) << agent;
    EXPECT_EQ(it->second.total_events, n) << agent;
    EXPECT_EQ(
        it->second.total_events,
        QueryInt(db_path, "SELECT count(*) FROM telemetry_events WHERE agent_type='" + agent + "'"))
        << agent;
  }

  // One session's stats agree with its row.
  auto one = service.GetSessionStats(plans[0].id);
  ASSERT_OK(one.status());
  EXPECT_EQ(one->event_count, ExpectedEvents(plans[0]));
  EXPECT_EQ(one->stream_event_count, plans[0].streams);
  EXPECT_EQ(one->error_count, 1);
}

TEST(Concurrency, OrderWithinSessionHoldsUnderConcurrency) {
  TempDir dir;
  const std::string db_path = dir.File("order.db");
  TelemetryConfig config = ConcurrencyConfig(db_path);
  config.local_store.stream_batch_size = 7;
  config.local_store.stream_flush_interval_ms = 3;
  TelemetryService service(config);
  ASSERT_OK(service.Initialize());

  constexpr int kThreads = 8;
  constexpr int kSessionsPerThread = 6;
  constexpr int kStreams = 60;

  auto sid = [](int t, int k) { return "o" + std::to_string(t) + "-s" + std::to_string(k); };
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string& error = errors[static_cast<std::size_t>(t)];
      auto check = [&](const Status& st) {
        if (!st.ok() && error.empty()) error = st.ToString();
        return st.ok();
      };
      for (int k = 0; k < kSessionsPerThread; ++k) {
        TrackStartParams start;
        start.session_id = sid(t, k);
        start.agent_type = "order-agent";
        if (!check(service.TrackStart(start))) return;
      }
      // Interleave the thread's sessions so their buffers fill, expire and move at different
      // moments; a bulk batch now and then goes around the buffers.
      for (int i = 0; i < kStreams; ++i) {
        for (int k = 0; k < kSessionsPerThread; ++k) {
          const std::string data = "seq=" + std::to_string(i);
          if ((i + k) % 13 == 12) {
            Event e;
            e.session_id = sid(t, k);
            e.event_type = EventType::kStream;
            e.agent_type = "order-agent";
            e.stream_data = data;
            if (!check(service.InsertEventBatch(std::span<const Event>(&e, 1)))) return;
          } else {
            TrackStreamParams s;
            s.session_id = sid(t, k);
            s.agent_type = "order-agent";
            s.stream_data = data;
            if (!check(service.TrackStream(s))) return;
          }
        }
        if (i % 20 == 10) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      for (int k = 0; k < kSessionsPerThread; ++k) {
        TrackEndParams end;
        end.session_id = sid(t, k);
        end.agent_type = "order-agent";
        if (!check(service.TrackEnd(end))) return;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(errors[static_cast<std::size_t>(t)], "") << "thread " << t;
  ASSERT_OK(service.FlushBuffers());

  for (int t = 0; t < kThreads; ++t) {
    for (int k = 0; k < kSessionsPerThread; ++k) {
      SCOPED_TRACE(sid(t, k));
      EventQueryFilter f;
      f.session_id = sid(t, k);
      f.order = SortOrder::kAsc;
      f.limit = 1000;
      auto events = service.QueryEvents(f);
      ASSERT_OK(events.status());
      ASSERT_EQ(events->size(), static_cast<std::size_t>(kStreams + 2));
      EXPECT_EQ(events->front().event_type, EventType::kStart);
      EXPECT_EQ(events->back().event_type, EventType::kEnd);
      for (std::size_t i = 1; i < events->size(); ++i) {
        const Event& prev = (*events)[i - 1];
        const Event& cur = (*events)[i];
        EXPECT_LT(prev.id, cur.id) << "at position " << i;
        EXPECT_LE(prev.timestamp, cur.timestamp) << "at position " << i;
        if (i <= kStreams) {
          EXPECT_EQ(cur.event_type, EventType::kStream) << "at position " << i;
          EXPECT_EQ(cur.stream_data.value_or("<none>"), "seq=" + std::to_string(i - 1))
              << "at position " << i;
        }
      }
      // Descending order is the exact reverse.
      f.order = SortOrder::kDesc;
      auto desc = service.QueryEvents(f);
      ASSERT_OK(desc.status());
      ASSERT_EQ(desc->size(), events->size());
      for (std::size_t i = 0; i < desc->size(); ++i) {
        EXPECT_EQ((*desc)[i].id, (*events)[events->size() - 1 - i].id);
      }
      auto session = service.GetSession(sid(t, k));
      ASSERT_OK(session.status());
      EXPECT_EQ(session->event_count, kStreams + 2);
      EXPECT_EQ(session->stream_event_count, kStreams);
      EXPECT_EQ(session->status, SessionStatus::kCompleted);
    }
  }
}

}  // namespace
}  // namespace vibekit
