// `vibekit telemetry analytics sessions|performance|dashboard`: the real binary, checked against
// the database; the dashboard under a pseudo-terminal.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <sstream>

#include "e2e/cli_runner.h"
#include "e2e/pty_runner.h"
#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"

namespace vibekit {
namespace {
namespace json = boost::json;
using testing::QueryInt;
using testing::TempDir;

class CliAnalyticsLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("live.db");
    TelemetryService s(testing::TestConfig(db_));
    ASSERT_OK(s.Initialize());
    // Every minute of the last six: 12 sessions, a third of them failing; two agents.
    const std::int64_t now = testing::WallNowMs();
    std::vector<Event> batch;
    for (int m = 6; m >= 0; --m) {
      for (int k = 0; k < 12; ++k) {
        const std::int64_t t = now - m * 60000LL - 50000 + k * 3000;
        Event e;
        e.session_id = "m" + std::to_string(m) + "-" + std::to_string(k);
        e.agent_type = k % 2 == 0 ? "claude" : "codex";
        e.event_type = EventType::kStart;
        e.timestamp = t;
        batch.push_back(e);
        e.event_type = k % 3 == 0 ? EventType::kError : EventType::kStream;
        e.stream_data = "x";
        e.timestamp = t + 400 + k * 10;
        batch.push_back(e);
        if (k == 11) continue;  // left active
        e.event_type = EventType::kEnd;
        e.stream_data.reset();
        e.timestamp = t + 1500 + k * 20;
        batch.push_back(e);
      }
    }
    ASSERT_OK(s.InsertEventBatch(batch));
    ASSERT_OK(s.Shutdown());
  }
  std::string Db() const { return "--db " + db_ + " "; }
  std::vector<json::object> Lines(const std::string& out) {
    std::vector<json::object> v;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) v.push_back(json::parse(line).as_object());
    }
    return v;
  }
  TempDir dir_;
  std::string db_;
};

TEST_F(CliAnalyticsLiveTest, SessionsByAgentEqualTheSessionTable) {
  CliRun r = Vibekit(Db() + "--format json telemetry analytics sessions");
  ASSERT_EQ(r.code, 0) << r.err;
  json::array rows = json::parse(r.out).as_array();
  ASSERT_EQ(rows.size(), 3u) << r.out;  // (all), claude, codex
  for (const json::value& v : rows) {
    const json::object& o = v.as_object();
    const std::string agent(o.at("agent").as_string());
    const std::string where = agent == "(all)" ? "" : " AND agent_type = '" + agent + "'";
    SCOPED_TRACE(agent);
    EXPECT_EQ(o.at("sessions").as_int64(),
              QueryInt(db_, "SELECT count(*) FROM telemetry_sessions WHERE 1" + where));
    for (const char* st : {"active", "completed", "failed"}) {
      EXPECT_EQ(o.at(st).as_int64(), QueryInt(db_, std::string("SELECT count(*) FROM "
                                                               "telemetry_sessions WHERE status='") +
                                                       st + "'" + where)) << st;
    }
    EXPECT_EQ(o.at("durationP50Ms").to_number<double>(),
              static_cast<double>(QueryInt(
                  db_, "SELECT duration FROM telemetry_sessions WHERE status <> 'active'" + where +
                           " ORDER BY duration LIMIT 1 OFFSET (SELECT (count(*) - 1) / 2 FROM "
                           "telemetry_sessions WHERE status <> 'active'" + where + ")")));
  }
  r = Vibekit(Db() + "--format json telemetry analytics sessions --agent codex --status active "
                     "--since 1h");
  ASSERT_EQ(r.code, 0) << r.err;
  rows = json::parse(r.out).as_array();
  ASSERT_EQ(rows.size(), 1u) << "one agent: no (all) row";
  EXPECT_EQ(rows[0].at("agent").as_string(), "codex");
  EXPECT_EQ(rows[0].at("sessions").as_int64(),
            QueryInt(db_, "SELECT count(*) FROM telemetry_sessions WHERE status='active' AND "
                          "agent_type='codex'"));
  EXPECT_GT(rows[0].at("sessions").as_int64(), 0);

  r = Vibekit(Db() + "telemetry analytics sessions --status done");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--status must be"), std::string::npos) << r.err;
}

TEST_F(CliAnalyticsLiveTest, PerformanceSnapshotAndMonitorPrintingAlertsOnce) {
  CliRun r = Vibekit(Db() + "--format json telemetry analytics performance");
  ASSERT_EQ(r.code, 0) << r.err;
  json::object snap = json::parse(r.out).as_object();
  EXPECT_EQ(snap.at("events").as_int64(), QueryInt(db_, "SELECT count(*) FROM telemetry_events"));
  EXPECT_EQ(snap.at("activeSessions").as_int64(),
            QueryInt(db_, "SELECT count(*) FROM telemetry_sessions WHERE status='active'"));

  // A third of the sessions fail every minute: error_rate > 5 % fires once, not per check.
  const std::string monitor = Db() +
      "--format ndjson telemetry analytics performance --monitor --interval 100ms --alerts "
      "--threshold error_rate:5 --threshold throughput:1:below:low --iterations 3";
  r = Vibekit(monitor);
  ASSERT_EQ(r.code, 0) << r.err;
  int fired = 0;
  for (const json::object& o : Lines(r.out)) {
    if (o.at("metric").as_string() == "error_rate" && o.at("type").as_string() == "alert") {
      ++fired;
      EXPECT_EQ(o.at("severity").as_string(), "high");
      EXPECT_GT(o.at("value").to_number<double>(), 5.0);
    }
    EXPECT_NE(o.at("metric").as_string(), "throughput") << "12+ events a minute is not below 1";
  }
  EXPECT_EQ(fired, 1) << r.out;
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM telemetry_alerts WHERE metric='error_rate' AND "
                          "resolved_at IS NULL"),
            1);
  // The next run finds the alert still open (persisted): nothing new to print.
  r = Vibekit(monitor);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const json::object& o : Lines(r.out)) {
    EXPECT_NE(o.at("metric").as_string(), "error_rate") << r.out;
  }

  // Without --alerts, the monitor prints one snapshot per check.
  r = Vibekit(Db() + "telemetry analytics performance --monitor --interval 100ms --iterations 2");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Lines(r.out).size(), 2u) << r.out;

  for (const char* bad : {"--monitor --threshold error_rate", "--monitor --threshold x:1:sideways",
                          "--alerts", "--monitor --interval 5x", "--monitor --interval 10ms"}) {
    r = Vibekit(Db() + "telemetry analytics performance " + bad);
    EXPECT_EQ(r.code, 2) << bad << ": " << r.all();
    EXPECT_FALSE(r.err.empty()) << bad;
  }
  r = Vibekit(Db() + "telemetry analytics performance --monitor --threshold latency:3 "
                     "--iterations 1");
  EXPECT_EQ(r.code, 2) << r.all();
  EXPECT_NE(r.err.find("unknown metric"), std::string::npos) << r.err;
}

TEST_F(CliAnalyticsLiveTest, DashboardRefreshesInPlaceAndQuitsCleanlyOnQAndCtrlC) {
  const std::string enter = "\x1b[?1049h";
  const std::string restore = "\x1b[?25h\x1b[?1049l";
  for (const std::string& key : {std::string("q"), std::string("\x03")}) {
    SCOPED_TRACE(key == "q" ? "q" : "Ctrl-C");
    PtyOptions o;
    o.columns = 100;
    o.timeout_ms = 20000;
    // Two frames drawn (the screen cleared and redrawn), then the key.
    o.input = {{"\x1b[2J", ""}, {"\x1b[2J", key}};
    PtyRun r = VibekitOnPty(Db() + "telemetry analytics dashboard --interval 200ms", o);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(r.output.find(enter), 0u) << "alternate screen first";
    const auto end = r.output.rfind(restore);
    ASSERT_NE(end, std::string::npos) << "terminal restored";
    EXPECT_EQ(r.output.find("\x1b[", end + restore.size()), std::string::npos)
        << "nothing drawn after the restore";
    const std::string text = StripEscapes(r.output);
    EXPECT_NE(text.find("VibeKit telemetry"), std::string::npos);
    EXPECT_NE(text.find("error rate"), std::string::npos);
    EXPECT_NE(text.find("ALERT [high] error_rate"), std::string::npos) << text;
  }
  // Not a terminal: one plain frame.
  CliRun r = Vibekit(Db() + "telemetry analytics dashboard");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  EXPECT_NE(r.out.find("events (last 60 min)"), std::string::npos) << r.out;
  r = Vibekit(Db() + "telemetry analytics dashboard --interval soon");
  EXPECT_EQ(r.code, 2);
}

}  // namespace
}  // namespace vibekit
