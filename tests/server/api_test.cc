// The /api routes over real loopback HTTP against a real database.
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "server/http_types.h"
#include "server/server_test_util.h"

namespace vibekit::testing {
namespace {

namespace json = boost::json;

constexpr std::int64_t kT0 = 1764000000000;

// The HTTP API over both storage backends (SQLite file, PostgreSQL).
class ApiTest : public BackendServerFixture {};

INSTANTIATE_TEST_SUITE_P(Backends, ApiTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

TEST_P(ApiTest, PostedArrayIsCommittedBeforeTheAnswer) {
  StartServer();
  std::string body = "[" + EventJson("s1", "start", kT0, R"(,"prompt":"hello")") + "," +
                     EventJson("s1", "stream", kT0 + 1, R"(,"streamData":"x")") + "]";
  HttpResult r = HttpPost(url_ + "/api/events", body, {"Content-Type: application/json"});
  ASSERT_EQ(r.status, 200) << r.body;
  json::object o = Json(r).as_object();
  EXPECT_EQ(o["accepted"].as_int64(), 2);
  EXPECT_EQ(o["rejected"].as_int64(), 0);
  // Read through a separate connection right after the answer: already on disk.
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM telemetry_events"), 2);
  EXPECT_EQ(QueryInt(db(), "SELECT event_count FROM telemetry_sessions WHERE id='s1'"), 2);
}

// `top -H`, `ps -L` and perf tell the server's threads apart.
TEST_P(ApiTest, TheServersThreadsAreNamed) {
  StartServer();
  ASSERT_EQ(HttpGet(url_ + "/api/health").status, 200);
  const std::vector<std::string> names = vibekit::testing::ThreadNames();
  for (const char* name : {"vk-http", "vk-handler", "vk-websocket", "vk-writer"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
}

TEST_P(ApiTest, NdjsonReportsPerLineErrorsAndKeepsTheGoodLines) {
  StartServer();
  std::string body = EventJson("s2", "start", kT0) + "\n" + "not json\n" +
                     R"({"sessionId":"s2","eventType":"explode","agentType":"a","timestamp":1})" +
                     "\n\n" + EventJson("s2", "end", kT0 + 5) + "\n";
  HttpResult r = HttpPost(url_ + "/api/events", body, {"Content-Type: application/x-ndjson"});
  ASSERT_EQ(r.status, 200) << r.body;
  json::object o = Json(r).as_object();
  EXPECT_EQ(o["accepted"].as_int64(), 2);
  EXPECT_EQ(o["rejected"].as_int64(), 2);
  const json::array& errors = o["errors"].as_array();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].as_object().at("index").as_int64(), 1);
  EXPECT_EQ(errors[1].as_object().at("index").as_int64(), 2);
  EXPECT_NE(std::string(errors[1].as_object().at("message").as_string()).find("explode"),
            std::string::npos);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM telemetry_events WHERE session_id='s2'"), 2);
}

TEST_P(ApiTest, ValidationErrorsNameTheItem) {
  StartServer();
  std::string body = "[" + EventJson("s3", "start", kT0) + "," +
                     EventJson("s3", "stream", -5) + "]";
  HttpResult r = HttpPost(url_ + "/api/events", body);
  ASSERT_EQ(r.status, 200);
  json::object o = Json(r).as_object();
  EXPECT_EQ(o["accepted"].as_int64(), 1);
  EXPECT_EQ(o["errors"].as_array()[0].as_object().at("index").as_int64(), 1);
}

TEST_P(ApiTest, BodyThatIsNotJsonIs400WithJsonError) {
  StartServer();
  for (const std::string body : {"[1, 2", "hello world", "", "{{{"}) {
    HttpResult r = HttpPost(url_ + "/api/events", body);
    EXPECT_EQ(r.status, 400) << body;
    json::object o = Json(r).as_object();
    EXPECT_EQ(o["code"].as_string(), "bad_request");
    EXPECT_FALSE(o["error"].as_string().empty());
  }
}

TEST_P(ApiTest, OversizedBodyIs413) {
  server::ServerOptions options;
  options.max_body_bytes = 4096;
  StartServer(options);
  HttpResult r = HttpPost(url_ + "/api/events", std::string(10000, ' '));
  ASSERT_EQ(r.status, 413) << r.error;
  EXPECT_EQ(Json(r).as_object()["code"].as_string(), "payload_too_large");
}

TEST_P(ApiTest, GzipRequestBodyIsAccepted) {
  StartServer();
  auto packed = server::GzipCompress("[" + EventJson("gz", "start", kT0) + "]");
  ASSERT_TRUE(packed.ok());
  HttpResult r = HttpPost(url_ + "/api/events", *packed, {"Content-Encoding: gzip"});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).as_object()["accepted"].as_int64(), 1);
  HttpResult bad = HttpPost(url_ + "/api/events", "not gzip", {"Content-Encoding: gzip"});
  EXPECT_EQ(bad.status, 400);
}

TEST_P(ApiTest, LargeResponsesAreGzippedWhenAsked) {
  StartServer();
  std::string body = "[";
  for (int i = 0; i < 50; ++i) {
    body += (i ? "," : "") + EventJson("big", i == 0 ? "start" : "stream", kT0 + i,
                                       R"(,"streamData":"some streamed output text")");
  }
  body += "]";
  ASSERT_EQ(HttpPost(url_ + "/api/events", body).status, 200);
  HttpCall call{"GET", url_ + "/api/events?limit=50", "", {}, /*decode_gzip=*/true};
  HttpResult r = Http(call);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-encoding"), "gzip");
  EXPECT_EQ(Json(r).as_object()["events"].as_array().size(), 50u);
  HttpResult plain = HttpGet(url_ + "/api/events?limit=50");
  EXPECT_EQ(plain.Header("content-encoding"), "");
}

TEST_P(ApiTest, EventsPageNewestFirstWithCursorsAndNoDuplicates) {
  StartServer();
  // 25 events, several sharing a timestamp, so pages break inside a run of equal times.
  std::string body = "[";
  for (int i = 0; i < 25; ++i) {
    body += (i ? "," : "") + EventJson("p", i == 0 ? "start" : "stream", kT0 + i / 4);
  }
  body += "]";
  ASSERT_EQ(HttpPost(url_ + "/api/events", body).status, 200);
  std::set<std::int64_t> seen;
  std::string cursor;
  std::int64_t last_ts = INT64_MAX;
  int pages = 0;
  do {
    HttpResult r = HttpGet(url_ + "/api/events?sessionId=p&limit=3" +
                           (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    json::object o = Json(r).as_object();
    for (const json::value& e : o["events"].as_array()) {
      EXPECT_TRUE(seen.insert(e.as_object().at("id").as_int64()).second);
      EXPECT_LE(e.as_object().at("timestamp").as_int64(), last_ts);
      last_ts = e.as_object().at("timestamp").as_int64();
    }
    cursor = o["nextCursor"].is_null() ? "" : std::string(o["nextCursor"].as_string());
    ++pages;
  } while (!cursor.empty() && pages < 20);
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(pages, 9);
}

TEST_P(ApiTest, EventFiltersAndBadParameters) {
  StartServer();
  std::string body = "[" + EventJson("f1", "start", kT0, R"(,"mode":"agent","prompt":"fix the parser")") +
                     "," + EventJson("f2", "start", kT0 + 10, R"(,"mode":"chat")") + "," +
                     EventJson("f2", "error", kT0 + 20, R"(,"error":{"message":"boom"})") + "]";
  ASSERT_EQ(HttpPost(url_ + "/api/events", body).status, 200);
  auto count = [&](const std::string& q) {
    HttpResult r = HttpGet(url_ + "/api/events?" + q);
    EXPECT_EQ(r.status, 200) << q << " " << r.body;
    return Json(r).as_object()["events"].as_array().size();
  };
  EXPECT_EQ(count("type=error"), 1u);
  EXPECT_EQ(count("mode=chat"), 1u);
  EXPECT_EQ(count("contains=parser"), 1u);
  EXPECT_EQ(count("since=" + std::to_string(kT0 + 10)), 2u);
  EXPECT_EQ(count("until=" + std::to_string(kT0 + 10)), 2u);
  EXPECT_EQ(count("since=2025-11-24T16:00:00Z"), 3u);
  EXPECT_EQ(HttpGet(url_ + "/api/events?type=nope").status, 400);
  EXPECT_EQ(HttpGet(url_ + "/api/events?limit=0").status, 400);
  EXPECT_EQ(HttpGet(url_ + "/api/events?limit=abc").status, 400);
  EXPECT_EQ(HttpGet(url_ + "/api/events?since=yesterdayish").status, 400);
  EXPECT_EQ(HttpGet(url_ + "/api/events?cursor=zzz").status, 400);
}

TEST_P(ApiTest, SessionsFilterSearchTotalAndDetail) {
  StartServer();
  std::string body = "[" +
                     EventJson("alpha-1", "start", kT0, R"(,"repoUrl":"https://x/Repo-One")") +
                     "," + EventJson("beta-2", "start", kT0 + 1) + "," +
                     EventJson("beta-2", "error", kT0 + 2, R"(,"error":{"message":"bad"})") + "," +
                     EventJson("gamma-3", "start", kT0 + 3) + "," +
                     EventJson("gamma-3", "end", kT0 + 4) + "]";
  ASSERT_EQ(HttpPost(url_ + "/api/events", body).status, 200);
  json::object all = Json(HttpGet(url_ + "/api/sessions?limit=2")).as_object();
  EXPECT_EQ(all["total"].as_int64(), 3);
  ASSERT_EQ(all["sessions"].as_array().size(), 2u);
  EXPECT_EQ(all["sessions"].as_array()[0].as_object().at("id").as_string(), "gamma-3");
  ASSERT_TRUE(all["nextCursor"].is_string());
  json::object rest = Json(HttpGet(url_ + "/api/sessions?limit=2&cursor=" +
                                   std::string(all["nextCursor"].as_string())))
                          .as_object();
  ASSERT_EQ(rest["sessions"].as_array().size(), 1u);
  EXPECT_EQ(rest["sessions"].as_array()[0].as_object().at("id").as_string(), "alpha-1");
  EXPECT_TRUE(rest["nextCursor"].is_null());

  json::object failed = Json(HttpGet(url_ + "/api/sessions?status=failed")).as_object();
  EXPECT_EQ(failed["total"].as_int64(), 1);
  EXPECT_EQ(failed["sessions"].as_array()[0].as_object().at("id").as_string(), "beta-2");
  json::object search = Json(HttpGet(url_ + "/api/sessions?q=repo-ONE")).as_object();
  EXPECT_EQ(search["total"].as_int64(), 1);
  EXPECT_EQ(search["sessions"].as_array()[0].as_object().at("id").as_string(), "alpha-1");
  EXPECT_EQ(HttpGet(url_ + "/api/sessions?status=sleeping").status, 400);

  HttpResult detail = HttpGet(url_ + "/api/sessions/beta-2");
  ASSERT_EQ(detail.status, 200);
  json::object d = Json(detail).as_object();
  EXPECT_EQ(d["session"].as_object().at("status").as_string(), "failed");
  ASSERT_EQ(d["events"].as_array().size(), 2u);
  EXPECT_EQ(d["events"].as_array()[0].as_object().at("eventType").as_string(), "start");
  ASSERT_EQ(d["errors"].as_array().size(), 1u);
  EXPECT_EQ(d["errors"].as_array()[0].as_object().at("errorMessage").as_string(), "bad");
  HttpResult missing = HttpGet(url_ + "/api/sessions/nobody");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Json(missing).as_object()["code"].as_string(), "not_found");
}

TEST_P(ApiTest, HealthReportsDatabaseAndServer) {
  StartServer();
  HttpResult r = HttpGet(url_ + "/api/health");
  ASSERT_EQ(r.status, 200) << r.body;
  json::object o = Json(r).as_object();
  EXPECT_EQ(o["status"].as_string(), "healthy");
  EXPECT_TRUE(o["database"].as_bool());
  EXPECT_EQ(o["dbPath"].as_string(), db());
  EXPECT_EQ(o["server"].as_object().at("version").as_string(), "0.1.0");
}

TEST_P(ApiTest, UnknownRouteIs404AndWrongMethod405) {
  StartServer();
  HttpResult r = HttpGet(url_ + "/api/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Json(r).as_object()["code"].as_string(), "not_found");
  HttpResult m = Http({"DELETE", url_ + "/api/events"});
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(Json(m).as_object()["code"].as_string(), "method_not_allowed");
  EXPECT_NE(m.Header("allow").find("POST"), std::string::npos);
}

TEST_P(ApiTest, TokenMissingIs401WrongIs403HealthIsPublic) {
  server::ServerOptions options;
  options.token = "s3cret";
  StartServer(options);
  HttpResult missing = HttpGet(url_ + "/api/sessions");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(Json(missing).as_object()["code"].as_string(), "unauthorized");
  HttpResult wrong = HttpGet(url_ + "/api/sessions", {"Authorization: Bearer nope"});
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(Json(wrong).as_object()["code"].as_string(), "forbidden");
  EXPECT_EQ(HttpGet(url_ + "/api/sessions", {"Authorization: Bearer s3cret"}).status, 200);
  EXPECT_EQ(HttpPost(url_ + "/api/events", "[]").status, 401);
  EXPECT_EQ(HttpGet(url_ + "/metrics").status, 401);
  EXPECT_EQ(HttpGet(url_ + "/api/health").status, 200);
}

TEST_P(ApiTest, NonLoopbackHostWithoutTokenIsRefused) {
  service_ = std::make_unique<TelemetryService>(TestConfig(db()));
  ASSERT_OK(service_->Initialize());
  server::ServerOptions options;
  options.host = "0.0.0.0";
  options.port = 0;
  auto s = server::TelemetryServer::Start(*service_, options);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("--token"), std::string::npos);
}

TEST_P(ApiTest, RateLimitAnswers429WithRetryAfter) {
  // 0.5 requests/s with a burst of 1: however slow the machine, the bucket lets through at most
  // 1 + 0.5 per elapsed second, so the bound below holds without timing assumptions.
  server::ServerOptions options;
  options.rate_limit_per_s = 0.5;
  StartServer(options);
  int limited = 0;
  int allowed = 0;
  std::string retry_after;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 30; ++i) {
    HttpResult r = HttpGet(url_ + "/api/health");
    if (r.status == 429) {
      ++limited;
      retry_after = r.Header("retry-after");
      EXPECT_EQ(Json(r).as_object()["code"].as_string(), "rate_limited");
    } else {
      EXPECT_EQ(r.status, 200);
      ++allowed;
    }
  }
  const double elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LE(allowed, 1 + static_cast<int>(0.5 * elapsed_s) + 1) << elapsed_s << " s";
  ASSERT_GT(limited, 0);
  // The wait until the next token, rounded up: at most 1 / 0.5 = 2 s.
  EXPECT_TRUE(retry_after == "1" || retry_after == "2") << retry_after;
}

TEST_P(ApiTest, MetricsCountRequestsAndIngest) {
  StartServer();
  ASSERT_EQ(HttpPost(url_ + "/api/events", "[" + EventJson("m", "start", kT0) + "]").status, 200);
  (void)HttpGet(url_ + "/api/nothing");
  HttpResult r = HttpGet(url_ + "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.Header("content-type").find("text/plain"), std::string::npos);
  EXPECT_NE(r.body.find("vibekit_ingest_events_total 1\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"(vibekit_http_requests_total{route="/api/events",code="200"} 1)"),
            std::string::npos);
  EXPECT_NE(r.body.find(R"(vibekit_http_requests_total{route="unmatched",code="404"} 1)"),
            std::string::npos);
  EXPECT_NE(r.body.find("vibekit_flush_latency_seconds_count 1\n"), std::string::npos);
  EXPECT_NE(r.body.find(R"(vibekit_http_request_duration_seconds_bucket{route="/api/events",le="+Inf"} 1)"),
            std::string::npos);
  // The writer thread's CPU time: it has committed a batch, so it has used some.
  EXPECT_NE(r.body.find("# TYPE vibekit_writer_cpu_seconds_total counter\n"), std::string::npos);
  EXPECT_GT(MetricSample(r.body, "vibekit_writer_cpu_seconds_total"), 0.0) << r.body;
  EXPECT_NE(r.body.find("# TYPE vibekit_text_index_cpu_seconds_total counter\n"),
            std::string::npos);
  EXPECT_NE(r.body.find("# TYPE vibekit_text_index_lag_events gauge\n"), std::string::npos);
  EXPECT_NE(r.body.find("\nvibekit_text_index_lag_events "), std::string::npos);
}

TEST_P(ApiTest, NoCorsHeadersUnlessConfigured) {
  StartServer();
  HttpResult r = HttpGet(url_ + "/api/health", {"Origin: http://evil.example"});
  EXPECT_EQ(r.Header("access-control-allow-origin"), "");
}

TEST_P(ApiTest, CorsOriginWhenConfigured) {
  server::ServerOptions options;
  options.cors_origin = "http://localhost:5173";
  StartServer(options);
  HttpResult r = HttpGet(url_ + "/api/health", {"Origin: http://localhost:5173"});
  EXPECT_EQ(r.Header("access-control-allow-origin"), "http://localhost:5173");
  HttpResult pre = Http({"OPTIONS", url_ + "/api/events"});
  EXPECT_EQ(pre.status, 204);
}

}  // namespace
}  // namespace vibekit::testing
