// `vibekit telemetry tail [--follow]` and `telemetry stats --since/--percentiles` of the real
// binary, compared with what the library answers, on both backends.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "e2e/cli_runner.h"
#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"

namespace vibekit {
namespace {

namespace json = boost::json;
using testing::TempDir;
using testing::TestConfig;
using testing::WallNowMs;


std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

// Sessions that all ended (nothing for a timeout sweep to change): 30 in the last half hour,
// 15 about two hours ago.
void Populate(const std::string& db, std::int64_t now) {
  TelemetryService s(TestConfig(db));
  ASSERT_OK(s.Initialize());
  std::vector<Event> events;
  auto session = [&](const std::string& id, const char* agent, std::optional<std::string> mode,
                     std::int64_t start, int streams, int outcome) {
    Event e;
    e.session_id = id;
    e.agent_type = agent;
    e.mode = mode;
    e.event_type = EventType::kStart;
    e.timestamp = start;
    e.prompt = "do " + id;
    events.push_back(e);
    e.prompt.reset();
    for (int j = 0; j < streams; ++j) {
      e.event_type = EventType::kStream;
      e.timestamp = start + (j + 1) * 137;
      e.stream_data = "line " + std::to_string(j) + " of " + id + "\nsecond line";
      events.push_back(e);
    }
    e.stream_data.reset();
    const std::int64_t end = start + (streams + 1) * 137 + outcome * 1000;
    if (outcome == 1) {
      e.event_type = EventType::kError;
      e.timestamp = end - 10;
      e.stream_data = "boom";
      events.push_back(e);
      e.stream_data.reset();
    }
    e.event_type = EventType::kEnd;
    e.timestamp = end;
    if (outcome == 2) e.metadata = R"({"status":"failed"})";
    events.push_back(e);
  };
  const char* agents[] = {"claude", "codex", "gemini"};
  for (int i = 0; i < 30; ++i) {
    session("new" + std::to_string(i), agents[i % 3], i % 4 == 0 ? std::nullopt
                                                                  : std::optional<std::string>("plan"),
            now - 30 * 60 * 1000 + i * 20'000, i % 7, i % 3);
  }
  for (int i = 0; i < 15; ++i) {
    session("old" + std::to_string(i), agents[(i + 1) % 3], std::string("build"),
            now - 2 * 3600 * 1000 + i * 30'000, 2 + i % 5, i % 2);
  }
  ASSERT_OK(s.InsertEventBatch(events));
  ASSERT_OK(s.Shutdown());
}

// On both backends: a SQLite file, a PostgreSQL schema of the run's cluster.
class CliTailTest : public CliBackendTest {
 protected:
  void SetUp() override {
    now_ = WallNowMs();
    Populate(db_, now_);
  }
  std::int64_t now_ = 0;
};
VK_CLI_BACKENDS(CliTailTest);

TEST_P(CliTailTest, TailNdjsonIsTheNewestFiveOldestFirst) {
  TelemetryService lib(TestConfig(db_));
  ASSERT_OK(lib.Initialize());
  EventQueryFilter f;
  f.order = SortOrder::kDesc;
  f.limit = 5;
  auto newest = lib.QueryEvents(f);
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->size(), 5u);
  std::reverse(newest->begin(), newest->end());
  CliRun r = Vibekit(Db() + "telemetry tail -n 5 --format ndjson");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const json::object o = json::parse(lines[i]).as_object();
    const Event& e = (*newest)[i];
    EXPECT_EQ(o.at("id").as_int64(), e.id);
    EXPECT_EQ(o.at("sessionId").as_string(), e.session_id);
    EXPECT_EQ(o.at("eventType").as_string(), EventTypeName(e.event_type));
    EXPECT_EQ(o.at("agentType").as_string(), e.agent_type);
    EXPECT_EQ(o.at("timestamp").as_int64(), e.timestamp);
    EXPECT_EQ(o.at("createdAt").as_int64(), e.created_at);
  }
  // Filters and the table form: one line per event, session and type readable.
  CliRun t = Vibekit(Db() + "telemetry tail -n 3 --session new6 --event-type stream");
  ASSERT_EQ(t.code, 0) << t.err;
  const auto rows = Lines(t.out);
  ASSERT_EQ(rows.size(), 3u) << t.out;
  for (const std::string& row : rows) {
    EXPECT_NE(row.find("  new6  stream  claude  line "), std::string::npos) << row;
    EXPECT_EQ(row.find("second line"), std::string::npos) << "first line of text only";
  }
  EXPECT_NE(rows.back().find("line 5 of new6"), std::string::npos) << "oldest first";
  EXPECT_EQ(Vibekit(Db() + "telemetry tail -n -1").code, 2);
  EXPECT_EQ(Vibekit(Db() + "telemetry tail --follow --format csv").code, 2);
}

TEST_P(CliTailTest, FollowPrintsCommitsOfAnotherProcessThenStopsOnSigint) {
  int out_pipe[2];
  ASSERT_EQ(pipe(out_pipe), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    close(out_pipe[0]);
    close(out_pipe[1]);
    unsetenv("TELEMETRY_DB_PATH");
    unsetenv("VIBEKIT_TELEMETRY");
    execl(VIBEKIT_BIN, VIBEKIT_BIN, "--db", db_.c_str(), "telemetry", "tail", "--follow", "-n",
          "1", "--format", "ndjson", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out_pipe[1]);
  std::string buffer;
  std::vector<json::object> objects;
  // Reads whole lines until `want` objects arrived or `deadline` passed.
  auto read_until = [&](std::size_t want, std::chrono::steady_clock::time_point deadline) {
    while (objects.size() < want) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return false;
      pollfd p{out_pipe[0], POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[4096];
      const ssize_t n = read(out_pipe[0], chunk, sizeof(chunk));
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = buffer.find('\n')) != std::string::npos) {
        objects.push_back(json::parse(buffer.substr(0, nl)).as_object());
        buffer.erase(0, nl + 1);
      }
    }
    return true;
  };
  // The newest existing event first: once it is out, the follower has its starting point.
  ASSERT_TRUE(read_until(1, std::chrono::steady_clock::now() + std::chrono::seconds(10)))
      << "tail printed nothing";
  const std::int64_t first_id = objects[0].at("id").as_int64();

  TelemetryService writer(TestConfig(db_));
  ASSERT_OK(writer.Initialize());
  TrackStartParams start{"live", "claude"};
  start.prompt = "watch me";
  ASSERT_OK(writer.TrackStart(start));
  ASSERT_OK(writer.TrackStream({"live", "claude", std::nullopt, "streamed while following"}));
  ASSERT_OK(writer.TrackEnd({"live", "claude"}));
  ASSERT_OK(writer.FlushBuffers());
  const auto committed = std::chrono::steady_clock::now();
  const bool arrived = read_until(4, committed + std::chrono::seconds(3));

  kill(pid, SIGINT);
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 300 && done == 0; ++i) {
    done = waitpid(pid, &status, WNOHANG);
    if (done == 0) usleep(10'000);
  }
  if (done == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  close(out_pipe[0]);
  ASSERT_TRUE(arrived) << "new events did not appear within 3 s (got " << objects.size() << ")";
  ASSERT_NE(done, 0) << "tail --follow did not stop on SIGINT";
  ASSERT_TRUE(WIFEXITED(status)) << "killed by a signal instead of exiting";
  EXPECT_EQ(WEXITSTATUS(status), 0);

  EventQueryFilter f;
  f.session_id = "live";
  auto live = writer.QueryEvents(f);
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 3u);
  ASSERT_EQ(objects.size(), 4u) << "exactly the three new events after the first";
  std::set<std::int64_t> ids;
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(objects[i + 1].at("sessionId").as_string(), "live");
    EXPECT_EQ(objects[i + 1].at("id").as_int64(), (*live)[i].id);
    EXPECT_GT((*live)[i].id, first_id);
    ids.insert(objects[i + 1].at("id").as_int64());
  }
  EXPECT_EQ(ids.size(), 3u) << "no event printed twice";
  EXPECT_EQ(objects[2].at("streamData").as_string(), "streamed while following");
  ASSERT_OK(writer.Shutdown());
}

void ExpectRollupJson(const json::object& o, const RollupCounts& c, const std::string& where) {
  SCOPED_TRACE(where);
  EXPECT_EQ(o.at("totalEvents").as_int64(), c.total_events);
  EXPECT_EQ(o.at("startEvents").as_int64(), c.start_events);
  EXPECT_EQ(o.at("streamEvents").as_int64(), c.stream_events);
  EXPECT_EQ(o.at("endEvents").as_int64(), c.end_events);
  EXPECT_EQ(o.at("errorEvents").as_int64(), c.error_events);
  EXPECT_EQ(o.at("sessions").as_int64(), c.sessions);
  EXPECT_EQ(o.at("completedSessions").as_int64(), c.completed_sessions);
  EXPECT_EQ(o.at("failedSessions").as_int64(), c.failed_sessions);
  EXPECT_EQ(o.at("sessionsWithErrors").as_int64(), c.sessions_with_errors);
  if (c.avg_session_duration_ms) {
    EXPECT_DOUBLE_EQ(o.at("avgSessionDurationMs").to_number<double>(), *c.avg_session_duration_ms);
  } else {
    EXPECT_TRUE(o.at("avgSessionDurationMs").is_null());
  }
  EXPECT_EQ(o.at("minTimestamp").as_int64(), c.min_timestamp.value());
  EXPECT_EQ(o.at("maxTimestamp").as_int64(), c.max_timestamp.value());
}

void ExpectPercentileJson(const json::object& o, const PercentileSet& p, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(o.at("count").as_int64(), p.count);
  EXPECT_EQ(o.at("p50").as_int64(), p.p50.value());
  EXPECT_EQ(o.at("p90").as_int64(), p.p90.value());
  EXPECT_EQ(o.at("p95").as_int64(), p.p95.value());
  EXPECT_EQ(o.at("p99").as_int64(), p.p99.value());
}

TEST_P(CliTailTest, StatsSinceWithPercentilesEqualsTheLibrary) {
  CliRun r = Vibekit(Db() + "telemetry stats --since 1h --percentiles --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::int64_t from = now_ - 3600 * 1000;  // nothing lies within minutes of this edge
  TelemetryService lib(TestConfig(db_));
  ASSERT_OK(lib.Initialize());
  auto want = lib.GetAggregateStatsBetween(from, std::numeric_limits<std::int64_t>::max());
  auto pct = lib.GetSessionPercentiles(from, std::nullopt);
  ASSERT_TRUE(want.ok());
  ASSERT_TRUE(pct.ok());
  ASSERT_EQ(want->total.sessions, 30) << "the range holds the recent sessions only";
  const json::object o = json::parse(r.out).as_object();
  ExpectRollupJson(o.at("total").as_object(), want->total, "total");
  ASSERT_EQ(o.at("byAgent").as_object().size(), want->by_agent.size());
  for (const auto& [agent, c] : want->by_agent) {
    ExpectRollupJson(o.at("byAgent").as_object().at(agent).as_object(), c, agent);
  }
  ASSERT_EQ(o.at("byMode").as_object().size(), want->by_mode.size());
  for (const auto& [mode, c] : want->by_mode) {
    ExpectRollupJson(o.at("byMode").as_object().at(mode.empty() ? "(none)" : mode).as_object(), c,
                     "mode " + mode);
  }
  EXPECT_EQ(o.at("byEventType").as_object().at("stream").as_int64(), want->total.stream_events);
  EXPECT_EQ(o.at("byStatus").as_object().at("failed").as_int64(), want->total.failed_sessions);
  EXPECT_DOUBLE_EQ(o.at("errorEventRatePct").to_number<double>(), want->error_event_rate_pct);
  const std::int64_t got_from = o.at("range").as_object().at("from").as_int64();
  EXPECT_NEAR(static_cast<double>(got_from), static_cast<double>(from), 60'000.0);
  EXPECT_TRUE(o.at("range").as_object().at("until").is_null());
  const json::object& p = o.at("percentiles").as_object();
  ExpectPercentileJson(p.at("sessionDurationMs").as_object(), pct->duration_ms, "duration");
  ExpectPercentileJson(p.at("eventsPerSession").as_object(), pct->events_per_session, "events");
  // The whole database differs (the old sessions), so the range really applied.
  auto all = lib.GetSessionPercentiles(std::nullopt, std::nullopt);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->events_per_session.count, 45);
  EXPECT_EQ(p.at("eventsPerSession").as_object().at("count").as_int64(), 30);
  // Without a range the command still reads the rollup: all 45 sessions, no range object.
  CliRun plain = Vibekit(Db() + "telemetry stats --format json");
  ASSERT_EQ(plain.code, 0) << plain.err;
  const json::object q = json::parse(plain.out).as_object();
  EXPECT_EQ(q.at("total").as_object().at("sessions").as_int64(), 45);
  EXPECT_FALSE(q.contains("range"));
  EXPECT_FALSE(q.contains("percentiles"));
  EXPECT_EQ(Vibekit(Db() + "telemetry stats --since 1h --until 2h").code, 2);
  ASSERT_OK(lib.Shutdown());
}

}  // namespace
}  // namespace vibekit
