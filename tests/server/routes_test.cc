// The analytics and export routes over loopback against a real database, on both backends.
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <string>

#include "server/server_test_util.h"
#include "vibekit/clock.h"

namespace vibekit::testing {
namespace {

namespace json = boost::json;

class RoutesTest : public BackendServerFixture {
 protected:
  // Three sessions two minutes ago: two complete (one with tokens), one failed.
  void Fill() {
    // Two minutes back: full minutes of history for the forecasts, inside a 5-minute window.
    const std::int64_t now = WallNowMs() - 120000;
    std::string body = "[" +
        EventJson("a1", "start", now - 3000, R"(,"mode":"agent")") + "," +
        EventJson("a1", "stream", now - 2500, R"(,"mode":"agent","streamData":"x")") + "," +
        EventJson("a1", "end", now - 2000,
                  R"(,"mode":"agent","metadata":{"gen_ai.usage.input_tokens":100,"gen_ai.usage.output_tokens":50})") +
        "," + EventJson("a2", "start", now - 1500, R"(,"mode":"chat")") + "," +
        EventJson("a2", "error", now - 1000, R"(,"mode":"chat","error":{"message":"x"})") + "," +
        EventJson("a3", "start", now - 900, R"(,"mode":"agent")") + "," +
        EventJson("a3", "end", now - 100, R"(,"mode":"agent")") + "]";
    ASSERT_EQ(HttpPost(url_ + "/api/events", body).status, 200);
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, RoutesTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

TEST_P(RoutesTest, DashboardHasHeadlineFiguresAndMinuteSeries) {
  StartServer();
  Fill();
  HttpResult r = HttpGet(url_ + "/api/dashboard?minutes=5");
  ASSERT_EQ(r.status, 200) << r.body;
  json::object o = Json(r).as_object();
  EXPECT_EQ(o["events"].as_int64(), 7);
  EXPECT_EQ(o["inputTokens"].as_int64(), 100);
  EXPECT_EQ(o["outputTokens"].as_int64(), 50);
  EXPECT_EQ(o["tokens"].as_int64(), 150);
  EXPECT_TRUE(o["avgDurationMs"].is_number());
  json::object series = o["series"].as_object();
  ASSERT_EQ(series["t"].as_array().size(), 5u);
  std::int64_t events = 0, errors = 0, started = 0;
  for (const json::value& v : series["events"].as_array()) events += v.as_int64();
  for (const json::value& v : series["errors"].as_array()) errors += v.as_int64();
  for (const json::value& v : series["sessionsStarted"].as_array()) started += v.as_int64();
  // The events may straddle a minute boundary; the sums over the window are exact.
  EXPECT_EQ(events, 7);
  EXPECT_EQ(errors, 1);
  EXPECT_EQ(started, 3);
  EXPECT_EQ(HttpGet(url_ + "/api/dashboard?minutes=0").status, 400);
}

TEST_P(RoutesTest, AnalyticsAgentsAlertsAnomaliesPredictions) {
  StartServer();
  Fill();
  json::object a = Json(HttpGet(url_ + "/api/analytics?since=1h")).as_object();
  EXPECT_EQ(a["usage"].as_object().at("events").as_int64(), 7);
  EXPECT_EQ(HttpGet(url_ + "/api/analytics?since=later").status, 400);

  const json::object agents = Json(HttpGet(url_ + "/api/agents")).as_object();
  const json::array& rows = agents.at("agents").as_array();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].as_object().at("mode").as_string(), "agent");
  EXPECT_EQ(rows[0].as_object().at("sessions").as_int64(), 2);
  EXPECT_EQ(rows[0].as_object().at("events").as_int64(), 5);
  EXPECT_EQ(rows[1].as_object().at("errors").as_int64(), 1);

  json::object alerts = Json(HttpGet(url_ + "/api/alerts")).as_object();
  EXPECT_TRUE(alerts["active"].is_array());
  EXPECT_TRUE(alerts["history"].is_array());
  EXPECT_GE(alerts["thresholds"].as_array().size(), 4u);

  HttpResult an = HttpGet(url_ + "/api/anomalies?metrics=throughput,error_rate&lookback=2h");
  ASSERT_EQ(an.status, 200) << an.body;
  EXPECT_TRUE(Json(an).as_object()["anomalies"].is_array());
  EXPECT_EQ(HttpGet(url_ + "/api/anomalies?metrics=nonsense").status, 400);
  EXPECT_EQ(HttpGet(url_ + "/api/anomalies?lookback=zzz").status, 400);

  HttpResult p = HttpGet(url_ + "/api/predictions?metric=throughput&minutes=5");
  ASSERT_EQ(p.status, 200) << p.body;
  const json::value pv = Json(p);
  const json::array& preds = pv.as_object().at("predictions").as_array();
  ASSERT_EQ(preds.size(), 1u);
  EXPECT_EQ(preds[0].as_object().at("points").as_array().size(), 5u);
  EXPECT_EQ(HttpGet(url_ + "/api/predictions?metric=nonsense").status, 400);
  EXPECT_EQ(HttpGet(url_ + "/api/predictions?minutes=0").status, 400);
}

TEST_P(RoutesTest, ExportStreamsTheFile) {
  StartServer();
  Fill();
  HttpResult r = HttpPost(url_ + "/api/export", R"({"format":"ndjson","tables":["events"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.Header("content-disposition").find("attachment; filename="), std::string::npos);
  EXPECT_EQ(r.Header("content-type"), "application/x-ndjson");
  EXPECT_EQ(r.Header("x-vibekit-records"), "7");
  EXPECT_NE(r.body.find("\"sessionId\":\"a2\""), std::string::npos);

  HttpResult csv = HttpPost(url_ + "/api/export", R"({"format":"csv","tables":["sessions"]})");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.Header("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(std::count(csv.body.begin(), csv.body.end(), '\n'), 4);  // header + 3 sessions

  HttpResult gz = HttpPost(url_ + "/api/export", R"({"format":"json","compression":"gzip"})");
  ASSERT_EQ(gz.status, 200);
  EXPECT_EQ(gz.Header("content-type"), "application/gzip");
  ASSERT_GE(gz.body.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gz.body[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gz.body[1]), 0x8b);

  EXPECT_EQ(HttpPost(url_ + "/api/export", R"({"format":"csv"})").status, 400);
  EXPECT_EQ(HttpPost(url_ + "/api/export", R"({"format":"xml"})").status, 400);
  EXPECT_EQ(HttpPost(url_ + "/api/export", R"({"limit":"ten"})").status, 400);
  EXPECT_EQ(HttpPost(url_ + "/api/export", "[1]").status, 400);
}

}  // namespace
}  // namespace vibekit::testing
