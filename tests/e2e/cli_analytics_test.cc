// `vibekit telemetry analytics ...` against the library on the same database.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "e2e/cli_runner.h"
#include "testing/test_util.h"
#include "vibekit/analytics.h"
#include "vibekit/telemetry_service.h"
#include "workload/workload.h"

namespace vibekit {
namespace {
namespace json = boost::json;
using testing::TempDir;

// Run on both backends: a SQLite file and a PostgreSQL database (testing/pg_cluster.h).
class CliAnalyticsTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    db_ = testing::FreshDatabase(GetParam(), dir_);
    TelemetryService s(testing::TestConfig(db_));
    ASSERT_OK(s.Initialize());
    workload::WorkloadOptions o;
    o.total_events = 5000;
    o.start_time_ms = (testing::WallNowMs() - 4 * 3'600'000) / 60000 * 60000;  // recent data
    start_ = o.start_time_ms;
    workload::Generator gen(o);
    std::vector<Event> batch;
    Event e;
    while (gen.Next(&e)) batch.push_back(e);
    ASSERT_OK(s.InsertEventBatch(batch));
    ASSERT_OK(s.Shutdown());
  }
  std::string Db() const { return "--db '" + db_ + "' "; }
  TempDir dir_;
  std::string db_;
  std::int64_t start_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Backends, CliAnalyticsTest,
                         ::testing::Values(testing::Backend::kSqlite, testing::Backend::kPostgres),
                         testing::BackendName);

TEST_P(CliAnalyticsTest, ReportJsonEqualsTheLibrary) {
  const std::int64_t from = start_;
  const std::int64_t to = from + 6 * 3'600'000;
  CliRun r = Vibekit(Db() + "--format json telemetry analytics report --since " +
                     std::to_string(from) + " --until " + std::to_string(to));
  ASSERT_EQ(r.code, 0) << r.err;
  json::object got = json::parse(r.out).as_object();

  TelemetryService s(testing::TestConfig(db_));
  ASSERT_OK(s.Initialize());
  AnalyticsService a(s);
  auto want = a.GetAnalytics({from, to});
  ASSERT_TRUE(want.ok());
  EXPECT_EQ(got.at("usage").at("events").as_int64(), want->usage.events);
  EXPECT_EQ(got.at("usage").at("sessionsStarted").as_int64(), want->usage.sessions_started);
  EXPECT_EQ(got.at("usage").at("topAgent").as_string(), want->usage.top_agent.value());
  EXPECT_EQ(got.at("quality").at("completed").as_int64(), want->quality.completed);
  EXPECT_EQ(got.at("quality").at("inputTokens").as_int64(), want->quality.input_tokens);
  EXPECT_DOUBLE_EQ(got.at("performance").at("errorRatePct").to_number<double>(),
                   want->performance.error_rate_pct);
  EXPECT_DOUBLE_EQ(got.at("performance").at("responseTimeMs").at("p95").to_number<double>(),
                   want->performance.response_time_ms.p95.value());
  EXPECT_EQ(got.at("performance").at("responseTimeMs").at("count").as_int64(),
            want->performance.response_time_ms.count);
  EXPECT_OK(s.Shutdown());
}

TEST_P(CliAnalyticsTest, AnomaliesAndPredictPrintValidJsonAndBadInputIsAUsageError) {
  CliRun an = Vibekit(Db() + "--format json telemetry analytics anomalies --lookback 400d");
  EXPECT_EQ(an.code, 2) << "longer than the 60-day limit: " << an.err;
  an = Vibekit(Db() + "--format json telemetry analytics anomalies --lookback 30d");
  ASSERT_EQ(an.code, 0) << an.err;
  EXPECT_TRUE(json::parse(an.out).is_array());

  CliRun p = Vibekit(Db() + "--format json telemetry analytics predict --metric error_rate "
                            "--minutes 5");
  ASSERT_EQ(p.code, 0) << p.err;
  json::object o = json::parse(p.out).as_object();
  EXPECT_EQ(o.at("metric").as_string(), "error_rate");
  ASSERT_EQ(o.at("points").as_array().size(), 5u);
  for (const json::value& pt : o.at("points").as_array()) {
    EXPECT_GE(pt.at("lower").to_number<double>(), 0.0);
    EXPECT_LE(pt.at("lower").to_number<double>(), pt.at("value").to_number<double>());
  }

  EXPECT_EQ(Vibekit(Db() + "telemetry analytics predict --metric nope").code, 2);
  CliRun empty = Vibekit("--db " + dir_.File("e.db") + " db init");
  ASSERT_EQ(empty.code, 0) << empty.err;
  CliRun none = Vibekit("--db " + dir_.File("e.db") + " telemetry analytics predict");
  EXPECT_EQ(none.code, 1) << "nothing to forecast from";
  EXPECT_NE(none.err.find("no throughput data"), std::string::npos) << none.err;
  EXPECT_EQ(Vibekit(Db() + "telemetry analytics predict --minutes 0").code, 2);
  EXPECT_EQ(Vibekit(Db() + "telemetry analytics anomalies --metrics latency").code, 2);
  EXPECT_EQ(Vibekit(Db() + "telemetry analytics report --since tomorrowish").code, 2);
  EXPECT_EQ(Vibekit(Db() + "telemetry analytics").code, 2) << "a subcommand is required";
  CliRun missing = Vibekit("--db " + dir_.File("none.db") + " telemetry analytics report");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("vibekit db init"), std::string::npos);
}

}  // namespace
}  // namespace vibekit
