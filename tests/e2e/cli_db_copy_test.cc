// `vibekit db copy` of the real binary: SQLite -> PostgreSQL -> SQLite keeps every row, the
// statistics and the text search; refusals are clear.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cctype>
#include <string>
#include <vector>

#include "e2e/cli_runner.h"
#include "testing/pg_cluster.h"
#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"
#include "workload/workload.h"

namespace vibekit {
namespace {

using testing::QueryInt;
using testing::TempDir;
using testing::TestConfig;

void Fill(const std::string& db, std::int64_t events) {
  TelemetryService s(TestConfig(db));
  ASSERT_OK(s.Initialize());
  workload::WorkloadOptions wo;
  wo.total_events = events;
  wo.seed = 8;
  wo.concurrent_sessions = 6;
  wo.start_time_ms = testing::WallNowMs() - 2 * 3600 * 1000;
  workload::Generator gen(wo);
  Event e;
  while (gen.Next(&e)) ASSERT_OK(s.Track(e));
  ASSERT_OK(s.Shutdown());
}

struct Snapshot {
  std::vector<Event> events;
  std::vector<Session> sessions;
  AggregateStats stats;
  std::vector<std::int64_t> search;
};

Snapshot Read(const std::string& db, const std::string& term) {
  Snapshot out;
  TelemetryService s(TestConfig(db));
  EXPECT_OK(s.Initialize());
  EventQueryFilter f;
  f.limit = 100000;
  f.order = SortOrder::kAsc;
  auto ev = s.QueryEvents(f);
  EXPECT_TRUE(ev.ok()) << ev.status().ToString();
  if (ev.ok()) out.events = *ev;
  SessionQueryFilter sf;
  sf.limit = 100000;
  auto ss = s.QuerySessions(sf);
  EXPECT_TRUE(ss.ok());
  if (ss.ok()) out.sessions = *ss;
  auto st = s.GetAggregateStats();
  EXPECT_TRUE(st.ok());
  if (st.ok()) out.stats = *st;
  out.search = testing::SearchIds(s, term);
  EXPECT_OK(s.Shutdown());
  return out;
}

void ExpectSame(const Snapshot& a, const Snapshot& b) {
  ASSERT_EQ(a.events.size(), b.events.size());
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    const Event& x = a.events[i];
    const Event& y = b.events[i];
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.session_id, y.session_id);
    EXPECT_EQ(x.event_type, y.event_type);
    EXPECT_EQ(x.prompt, y.prompt);
    EXPECT_EQ(x.stream_data, y.stream_data);
    EXPECT_EQ(x.metadata, y.metadata);
    EXPECT_EQ(x.timestamp, y.timestamp);
    EXPECT_EQ(x.created_at, y.created_at);
  }
  ASSERT_EQ(a.sessions.size(), b.sessions.size());
  for (std::size_t i = 0; i < a.sessions.size(); ++i) {
    EXPECT_EQ(a.sessions[i].id, b.sessions[i].id);
    EXPECT_EQ(a.sessions[i].status, b.sessions[i].status);
    EXPECT_EQ(a.sessions[i].event_count, b.sessions[i].event_count);
    EXPECT_EQ(a.sessions[i].duration, b.sessions[i].duration);
  }
  EXPECT_EQ(a.stats.total.total_events, b.stats.total.total_events);
  EXPECT_EQ(a.stats.total.sessions, b.stats.total.sessions);
  EXPECT_EQ(a.stats.total.error_events, b.stats.total.error_events);
  EXPECT_EQ(a.stats.total.duration_sum_ms, b.stats.total.duration_sum_ms);
  EXPECT_EQ(a.search, b.search);
  EXPECT_FALSE(a.search.empty());
}

boost::json::object Json(const CliRun& r) {
  auto v = boost::json::parse(r.out);
  return v.is_object() ? v.as_object() : boost::json::object();
}

TEST(CliDbCopy, SqliteToPostgresAndBackKeepsEveryRowStatisticsAndSearch) {
  TempDir dir;
  const std::string a = dir.File("a.db");
  const std::string b = dir.File("b.db");
  const std::string pg = testing::PgCluster::Get().NewDatabase();
  Fill(a, 600);
  CliRun r = Vibekit("db copy --from " + a + " --to '" + pg + "' --format json");
  ASSERT_EQ(r.code, 0) << r.all();
  auto o = Json(r);
  EXPECT_EQ(o.at("events").to_number<std::int64_t>(),
            QueryInt(a, "SELECT count(*) FROM telemetry_events"));
  EXPECT_EQ(o.at("sessions").to_number<std::int64_t>(),
            QueryInt(a, "SELECT count(*) FROM telemetry_sessions"));
  EXPECT_EQ(o.at("errors").to_number<std::int64_t>(),
            QueryInt(a, "SELECT count(*) FROM telemetry_errors"));
  EXPECT_EQ(QueryInt(pg, "SELECT count(*) FROM telemetry_events"),
            QueryInt(a, "SELECT count(*) FROM telemetry_events"));
  r = Vibekit("db copy --from '" + pg + "' --to " + b + " --format json");
  ASSERT_EQ(r.code, 0) << r.all();
  // A word of the first stored stream text as the search term.
  std::string term;
  {
    const Snapshot first = Read(a, "x");
    for (const Event& e : first.events) {
      if (!e.stream_data) continue;
      for (const char c : *e.stream_data) {
        if (std::isalpha(static_cast<unsigned char>(c))) {
          term += c;
        } else if (term.size() >= 4) {
          break;
        } else {
          term.clear();
        }
      }
      if (term.size() >= 4) break;
      term.clear();
    }
  }
  ASSERT_FALSE(term.empty());
  const Snapshot original = Read(a, term);
  ExpectSame(original, Read(pg, term));
  ExpectSame(original, Read(b, term));
  // New events after a copy get new ids on PostgreSQL (its sequences moved past the copy).
  {
    TelemetryService s(TestConfig(pg));
    ASSERT_OK(s.Initialize());
    TrackStartParams p;
    p.session_id = "after-copy";
    p.agent_type = "claude";
    ASSERT_OK(s.TrackStart(p));
    ASSERT_OK(s.Shutdown());
  }
  EXPECT_EQ(QueryInt(pg, "SELECT count(*) FROM telemetry_events"),
            static_cast<std::int64_t>(original.events.size()) + 1);
}

TEST(CliDbCopy, RefusesANonEmptyDestinationAndReportsAnUnreachableServer) {
  TempDir dir;
  const std::string a = dir.File("a.db");
  Fill(a, 60);
  const std::string pg = testing::PgCluster::Get().NewDatabase();
  ASSERT_EQ(Vibekit("db copy --from " + a + " --to '" + pg + "'").code, 0);
  CliRun again = Vibekit("db copy --from " + a + " --to '" + pg + "'");
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("already holds"), std::string::npos) << again.all();
  CliRun bad = Vibekit("db copy --from " + a +
                       " --to 'postgresql:///x?host=/nonexistent-dir&connect_timeout=2'");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("cannot connect to PostgreSQL"), std::string::npos) << bad.all();
  CliRun missing = Vibekit("db copy --from " + dir.File("none.db") + " --to " + dir.File("c.db"));
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("no database at"), std::string::npos) << missing.all();
  CliRun usage = Vibekit("db copy --from " + a);
  EXPECT_EQ(usage.code, 2) << usage.all();
}

}  // namespace
}  // namespace vibekit
