// The query, sessions, stats, cleanup and db commands of the real binary, on a real database:
// every output format is parsed back and compared with what the library answers.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <array>
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "e2e/cli_runner.h"
#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"
#include "workload/workload.h"

namespace vibekit {
namespace {

namespace json = boost::json;
using testing::TempDir;
using testing::TestConfig;


// A strict RFC 4180 reader: CRLF records, quoted fields with doubled quotes.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      EXPECT_TRUE(field.empty()) << "quote inside an unquoted field";
      quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
    } else if (c == '\r') {
      EXPECT_TRUE(i + 1 < text.size() && text[i + 1] == '\n') << "CR without LF";
      row.push_back(field);
      field.clear();
      rows.push_back(row);
      row.clear();
      ++i;
    } else {
      EXPECT_NE(c, '\n') << "bare LF line end";
      field += c;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quote";
  if (!field.empty() || !row.empty()) {
    row.push_back(field);
    rows.push_back(row);
  }
  return rows;
}

// One suite, run on both backends: a SQLite file and a PostgreSQL database of the test run's
// cluster (testing/pg_cluster.h), each filled once with the same workload.
class CliQueryTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  struct Fixture {
    TempDir dir;
    std::string db;
    std::unique_ptr<TelemetryService> library;
  };
  static Fixture& State() {
    static std::map<testing::Backend, std::unique_ptr<Fixture>> fixtures;
    std::unique_ptr<Fixture>& f = fixtures[GetParam()];
    if (!f) {
      f = std::make_unique<Fixture>();
      f->db = testing::FreshDatabase(GetParam(), f->dir);
      TelemetryService s(TestConfig(f->db));
      EXPECT_TRUE(s.Initialize().ok());
      workload::WorkloadOptions wo;
      wo.total_events = 4000;
      wo.seed = 5;
      wo.start_time_ms = testing::WallNowMs() - 3600 * 1000;
      workload::Generator gen(wo);
      Event e;
      while (gen.Next(&e)) EXPECT_TRUE(s.Track(e).ok());
      EXPECT_TRUE(s.Shutdown().ok());
      f->library = std::make_unique<TelemetryService>(TestConfig(f->db));
      EXPECT_TRUE(f->library->Initialize().ok());
    }
    return *f;
  }
  static std::string Db() { return "--db '" + State().db + "' "; }
  static TelemetryService& Library() { return *State().library; }
};

INSTANTIATE_TEST_SUITE_P(Backends, CliQueryTest,
                         ::testing::Values(testing::Backend::kSqlite, testing::Backend::kPostgres),
                         testing::BackendName);

TEST_P(CliQueryTest, QueryJsonEqualsTheLibraryAnswer) {
  EventQueryFilter f;
  f.agent_type = "claude";
  f.event_type = EventType::kStream;
  f.limit = 40;
  f.offset = 5;
  f.order = SortOrder::kAsc;
  auto expected = Library().QueryEvents(f);
  ASSERT_TRUE(expected.ok());
  CliRun r = Vibekit(Db() + "telemetry query --agent-type claude --event-type stream --limit 40 "
                            "--offset 5 --order asc --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  json::value v = json::parse(r.out);
  ASSERT_TRUE(v.is_array());
  ASSERT_EQ(v.as_array().size(), expected->size());
  for (std::size_t i = 0; i < expected->size(); ++i) {
    const json::object& o = v.as_array()[i].as_object();
    const Event& e = (*expected)[i];
    EXPECT_EQ(o.at("id").as_int64(), e.id);
    EXPECT_EQ(o.at("sessionId").as_string(), e.session_id);
    EXPECT_EQ(o.at("eventType").as_string(), "stream");
    EXPECT_EQ(o.at("agentType").as_string(), "claude");
    EXPECT_EQ(o.at("streamData").as_string(), *e.stream_data);
    EXPECT_EQ(o.at("timestamp").as_int64(), e.timestamp);
  }
}

TEST_P(CliQueryTest, QueryNdjsonAndCsvCarryTheSameRows) {
  EventQueryFilter f;
  f.contains = "error";
  f.limit = 25;
  f.order = SortOrder::kDesc;
  auto expected = Library().QueryEvents(f);
  ASSERT_TRUE(expected.ok());
  ASSERT_FALSE(expected->empty());
  CliRun nd = Vibekit(Db() + "telemetry query --contains error --limit 25 --format ndjson");
  ASSERT_EQ(nd.code, 0) << nd.err;
  std::vector<std::int64_t> ids;
  std::size_t start = 0;
  while (start < nd.out.size()) {
    const std::size_t nl = nd.out.find('\n', start);
    ids.push_back(json::parse(nd.out.substr(start, nl - start)).as_object().at("id").as_int64());
    start = nl + 1;
  }
  ASSERT_EQ(ids.size(), expected->size());
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], (*expected)[i].id);
  CliRun csv = Vibekit(Db() + "telemetry query --contains error --limit 25 --format csv");
  ASSERT_EQ(csv.code, 0) << csv.err;
  auto rows = ParseCsv(csv.out);
  ASSERT_EQ(rows.size(), expected->size() + 1);
  EXPECT_EQ(rows[0][0], "id");
  for (std::size_t i = 0; i < expected->size(); ++i) {
    EXPECT_EQ(rows[i + 1][0], std::to_string((*expected)[i].id));
  }
}

TEST_P(CliQueryTest, SessionsFiltersAndNestedErrors) {
  SessionQueryFilter f;
  f.status = SessionStatus::kCompleted;
  f.agent_type = "codex";
  f.limit = 10;
  auto expected = Library().QuerySessions(f);
  ASSERT_TRUE(expected.ok());
  CliRun r = Vibekit(Db() + "telemetry sessions --status completed --agent codex --limit 10 "
                            "--since 2h --with-errors --with-events --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json::array rows = json::parse(r.out).as_array();
  ASSERT_EQ(rows.size(), expected->size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const json::object& o = rows[i].as_object();
    EXPECT_EQ(o.at("id").as_string(), (*expected)[i].id);
    EXPECT_EQ(o.at("status").as_string(), "completed");
    EXPECT_EQ(o.at("eventCount").as_int64(), (*expected)[i].event_count);
    EXPECT_EQ(static_cast<std::int64_t>(o.at("events").as_array().size()), (*expected)[i].event_count);
    EXPECT_EQ(static_cast<std::int64_t>(o.at("errors").as_array().size()), (*expected)[i].error_count);
  }
  CliRun csv = Vibekit(Db() + "telemetry sessions --status completed --agent codex --limit 10 --format csv");
  ASSERT_EQ(csv.code, 0);
  EXPECT_EQ(ParseCsv(csv.out).size(), expected->size() + 1);
}

TEST_P(CliQueryTest, StatsJsonMatchesTheRollup) {
  auto expected = Library().GetAggregateStats();
  ASSERT_TRUE(expected.ok());
  CliRun r = Vibekit(Db() + "telemetry stats --breakdown agent,event_type,status --format json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json::object o = json::parse(r.out).as_object();
  EXPECT_EQ(o.at("total").as_object().at("totalEvents").as_int64(), 4000);
  EXPECT_EQ(o.at("total").as_object().at("sessions").as_int64(), expected->total.sessions);
  for (const auto& [agent, c] : expected->by_agent) {
    EXPECT_EQ(o.at("byAgent").as_object().at(agent).as_object().at("totalEvents").as_int64(),
              c.total_events);
  }
  EXPECT_EQ(o.at("byEventType").as_object().at("stream").as_int64(), expected->total.stream_events);
  EXPECT_EQ(o.at("byStatus").as_object().at("completed").as_int64(), expected->total.completed_sessions);
  EXPECT_FALSE(o.contains("byMode")) << "only the requested breakdowns";
  EXPECT_EQ(Vibekit(Db() + "telemetry stats --breakdown planet").code, 2);
}

TEST_P(CliQueryTest, DbCommandsReport) {
  CliRun init = Vibekit(Db() + "db init --migration --format json");
  ASSERT_EQ(init.code, 0) << init.err;
  EXPECT_EQ(json::parse(init.out).as_array().back().as_object().at("version").as_string(), "1.9.0");
  CliRun health = Vibekit(Db() + "db health --detailed --format json");
  ASSERT_EQ(health.code, 0) << health.err;
  const json::object h = json::parse(health.out).as_object();
  EXPECT_EQ(h.at("quickCheck").as_string(), "ok");
  EXPECT_TRUE(h.at("database").as_bool());
  EXPECT_TRUE(h.contains("writerLagMs"));
  CliRun stats = Vibekit(Db() + "db stats --format json");
  ASSERT_EQ(stats.code, 0) << stats.err;
  EXPECT_EQ(json::parse(stats.out).as_object().at("totalEvents").as_int64(), 4000);
  CliRun table = Vibekit(Db() + "db stats");
  EXPECT_EQ(table.code, 0);
  EXPECT_NE(table.out.find("totalEvents"), std::string::npos);
  EXPECT_EQ(table.out.find("\x1b["), std::string::npos) << "no colour when stdout is not a TTY";
}

TEST_P(CliQueryTest, BadFlagsAreUsageErrors) {
  for (const char* args : {"telemetry query --since yesterday", "telemetry query --limit 0",
                           "telemetry query --order sideways", "telemetry sessions --status done",
                           "telemetry query --format xml", "telemetry cleanup"}) {
    CliRun r = Vibekit(Db() + args);
    EXPECT_EQ(r.code, 2) << args << ": " << r.err;
    EXPECT_FALSE(r.err.empty()) << args;
  }
}

TEST(CliErrors, MissingCorruptAndLockedDatabases) {
  TempDir dir;
  CliRun missing = Vibekit("--db " + dir.File("absent.db") + " telemetry stats");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("vibekit db init"), std::string::npos) << missing.err;
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << "one line";

  const std::string corrupt = dir.File("corrupt.db");
  std::ofstream(corrupt) << std::string(8192, 'x');
  CliRun bad = Vibekit("--db " + corrupt + " telemetry query");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("damaged"), std::string::npos) << bad.err;

  const std::string db = dir.File("locked.db");
  {
    TelemetryService s(TestConfig(db));
    ASSERT_TRUE(s.Initialize().ok());
    TrackStartParams p{"old", "claude"};
    p.timestamp = 1000;
    ASSERT_TRUE(s.TrackStart(p).ok());
    ASSERT_TRUE(s.Shutdown().ok());
  }
  sqlite3* lock = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &lock), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(lock, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  // Reads still work under WAL while another process writes.
  CliRun read = Vibekit("--db " + db + " telemetry stats --format json");
  EXPECT_EQ(read.code, 0) << read.err;
  sqlite3_exec(lock, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(lock);
  CliRun cleanup = Vibekit("--db " + db + " telemetry cleanup --days 1 --format json");
  EXPECT_EQ(cleanup.code, 0) << cleanup.err;
  EXPECT_EQ(json::parse(cleanup.out).as_object().at("sessionsRemoved").as_int64(), 1);
}

}  // namespace
}  // namespace vibekit
