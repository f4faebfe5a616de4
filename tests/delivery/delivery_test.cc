// Live OTLP delivery against a local test collector (test_collector.h): every event arrives
// exactly once through failures, throttling, a collector restart and a kill -9 of our process;
// rejected requests are not retried and are counted; every accepted request validates against
// the OTLP protobuf schema (tests/otlp/validate_otlp.mjs); the metrics match what arrived.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "delivery/delivery_worker.h"
#include "delivery/http_client.h"
#include "delivery/test_collector.h"
#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"

#ifndef VIBEKIT_DELIVERY_CHILD
#error "VIBEKIT_DELIVERY_CHILD must name the delivery child executable"
#endif

extern char** environ;

namespace vibekit {
namespace {

namespace json = boost::json;
using testing::CollectorReply;
using testing::CollectorRequest;
using testing::TempDir;
using testing::TestCollector;

// What the accepted (2xx) requests carried.
struct Delivered {
  std::map<std::int64_t, int> event_ids;           // vibekit.event.id -> times received
  std::map<std::string, int> roots;                // session id -> root spans received
  std::map<std::string, std::string> root_status;  // session id -> vibekit.session.status
  std::vector<std::string> files;                  // the saved bodies
  std::int64_t requests = 0;
  std::int64_t spans = 0;
};

std::string AttributeString(const json::array& attributes, std::string_view key) {
  for (const json::value& a : attributes) {
    if (a.at("key").as_string() != key) continue;
    const json::object& v = a.at("value").as_object();
    if (const auto* s = v.if_contains("stringValue")) return std::string(s->as_string());
    if (const auto* i = v.if_contains("intValue")) return std::string(i->as_string());
  }
  return {};
}

// Adds one request body to `out`; returns the event ids it carried.
std::vector<std::int64_t> AddBody(const std::string& body, Delivered& out) {
  std::vector<std::int64_t> ids;
  json::value doc = json::parse(body);
  for (const json::value& rs : doc.at("resourceSpans").as_array()) {
    for (const json::value& ss : rs.at("scopeSpans").as_array()) {
      for (const json::value& span : ss.at("spans").as_array()) {
        const json::object& o = span.as_object();
        ++out.spans;
        const json::array& attrs = o.at("attributes").as_array();
        if (!o.contains("parentSpanId")) {
          const std::string sid = AttributeString(attrs, "gen_ai.conversation.id");
          ++out.roots[sid];
          out.root_status[sid] = AttributeString(attrs, "vibekit.session.status");
        }
        if (const auto* events = o.if_contains("events")) {
          for (const json::value& e : events->as_array()) {
            const std::int64_t id =
                std::stoll(AttributeString(e.at("attributes").as_array(), "vibekit.event.id"));
            ++out.event_ids[id];
            ids.push_back(id);
          }
        }
      }
    }
  }
  return ids;
}

Delivered Accepted(const std::vector<CollectorRequest>& requests) {
  Delivered d;
  for (const CollectorRequest& r : requests) {
    if (!r.replied || r.status < 200 || r.status >= 300) continue;
    ++d.requests;
    d.files.push_back(r.file);
    AddBody(r.body, d);
  }
  return d;
}

std::vector<std::int64_t> EventIdsInDb(const std::string& db_path) {
  std::vector<std::int64_t> ids;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db_path;
    sqlite3_close(db);
    return ids;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT id FROM telemetry_events ORDER BY id", -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return ids;
}

// Every event in the database arrived exactly once, and nothing else did.
void ExpectEachEventExactlyOnce(const std::string& db_path, const Delivered& d) {
  const std::vector<std::int64_t> ids = EventIdsInDb(db_path);
  ASSERT_FALSE(ids.empty());
  for (std::int64_t id : ids) {
    auto it = d.event_ids.find(id);
    ASSERT_NE(it, d.event_ids.end()) << "event " << id << " never arrived";
    EXPECT_EQ(it->second, 1) << "event " << id << " arrived " << it->second << " times";
  }
  EXPECT_EQ(d.event_ids.size(), ids.size()) << "events arrived that are not in the database";
}

// Runs the OTLP schema check on `files`; returns its output, empty when all are valid.
std::string ValidateOtlp(const std::vector<std::string>& files) {
  std::string cmd = std::string(VIBEKIT_NODE) + " " + VIBEKIT_OTLP_VALIDATOR;
  for (const std::string& f : files) cmd += " '" + f + "'";
  cmd += " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return "cannot run " + cmd;
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof(buf), pipe)) out.append(buf, n);
  const int status = pclose(pipe);
  if (status != 0 && out.empty()) out = "validator exited with " + std::to_string(status);
  return status == 0 ? std::string() : out;
}

TelemetryConfig DeliveryTestConfig(const std::string& db_path, const std::string& url) {
  TelemetryConfig c = testing::TestConfig(db_path);
  c.endpoint = url;
  c.headers["x-api-key"] = "test-key";
  c.local_store.stream_batch_size = 5;
  c.local_store.stream_flush_interval_ms = 20;
  c.delivery.poll_interval_ms = 20;
  c.delivery.backoff_base_ms = 20;
  c.delivery.backoff_max_ms = 100;
  c.delivery.max_events_per_request = 20;
  c.delivery.request_timeout_ms = 3000;
  c.delivery.connect_timeout_ms = 1000;
  return c;
}

// One session: start, `streams` stream events, then end (or an error when `fail`).
void TrackSession(TelemetryService& service, const std::string& sid, int streams, bool fail) {
  TrackStartParams start;
  start.session_id = sid;
  start.agent_type = "claude";
  start.mode = "code";
  start.prompt = "prompt of " + sid;
  start.metadata = R"({"model":"claude-sonnet","nested":{"k":[1,2.5,true]}})";
  ASSERT_OK(service.TrackStart(start));
  for (int i = 0; i < streams; ++i) {
    TrackStreamParams s;
    s.session_id = sid;
    s.agent_type = "claude";
    s.mode = "code";
    s.stream_data = sid + " chunk " + std::to_string(i);
    ASSERT_OK(service.TrackStream(s));
  }
  if (fail) {
    TrackErrorParams e;
    e.session_id = sid;
    e.agent_type = "claude";
    e.mode = "code";
    e.error = "ECONNRESET talking to the model";
    e.error_type = "network";
    ASSERT_OK(service.TrackError(e));
  } else {
    TrackEndParams end;
    end.session_id = sid;
    end.agent_type = "claude";
    end.mode = "code";
    end.metadata = R"({"status":"success","usage":{"input_tokens":12,"output_tokens":34}})";
    ASSERT_OK(service.TrackEnd(end));
  }
}

// Nothing left in the outbox (read from the database, not the worker's last look).
bool DeliveryIdle(const TelemetryService& service) {
  auto h = service.HealthCheck({.quick_check = false});
  return h.ok() && h->delivery.queued_events == 0 && h->delivery.queued_sessions == 0;
}

// The worker updates its in-memory counters just after the outcome commits: wait for them to
// account for every request the collector accepted (they never run ahead of it).
bool CountersCaughtUp(const TelemetryService& service, const TestCollector& collector) {
  std::int64_t accepted = 0;
  std::int64_t rejected = 0;
  for (const CollectorRequest& r : collector.requests()) {
    if (!r.replied) continue;
    if (r.status >= 200 && r.status < 300) ++accepted;
    if (r.status >= 400 && !delivery::IsRetryableStatus(r.status)) ++rejected;
  }
  const PerformanceMetrics m = service.GetPerformanceMetrics();
  return m.delivery_requests_sent == accepted && m.delivery_requests_failed == rejected;
}

// (a) failures (503, 502, 504), throttling (429 + Retry-After), a collector restart on the same
// port, a session timed out by the sweep: every event exactly once, every final session's root
// span exactly once, the Retry-After wait honoured, each accepted body valid OTLP.
TEST(Delivery, EveryEventArrivesExactlyOnceThroughFailuresThrottlingAndRestart) {
  TempDir dir;
  TestCollector collector(dir.path());
  ASSERT_TRUE(collector.Start()) << collector.error();
  collector.Script({{503}, {503}, {429, "1"}, {200}, {502}, {200}, {504}, {200}});
  TelemetryConfig config = DeliveryTestConfig(dir.File("t.db"), collector.url());
  config.local_store.session_timeout_ms = 300;
  config.local_store.timeout_check_interval_ms = 50;
  TelemetryService service(config);
  ASSERT_OK(service.Initialize());

  for (int k = 0; k < 6; ++k) TrackSession(service, "s" + std::to_string(k), 7, k == 3);
  // A session that never ends: the timeout sweep finishes it (no event is written for that).
  TrackStartParams lonely;
  lonely.session_id = "silent";
  lonely.agent_type = "claude";
  ASSERT_OK(service.TrackStart(lonely));
  ASSERT_OK(service.FlushBuffers());

  // The scripted failures are used up and some requests accepted.
  ASSERT_TRUE(testing::WaitFor([&] { return collector.request_count() >= 8; }, 15000));
  // Collector down: connection refused, retried with backoff.
  collector.Stop();
  const std::int64_t retries_before = service.GetPerformanceMetrics().delivery_retries;
  for (int k = 6; k < 10; ++k) TrackSession(service, "s" + std::to_string(k), 5, false);
  ASSERT_OK(service.FlushBuffers());
  ASSERT_TRUE(testing::WaitFor(
      [&] { return service.GetPerformanceMetrics().delivery_retries >= retries_before + 3; },
      10000));
  ASSERT_TRUE(collector.Start()) << collector.error();  // same port
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto s = service.GetSession("silent");
        return s.ok() && s->status == SessionStatus::kTimeout && DeliveryIdle(service);
      },
      15000));

  const std::vector<CollectorRequest> requests = collector.requests();
  const Delivered d = Accepted(requests);
  ExpectEachEventExactlyOnce(config.local_store.db_path, d);
  // Root spans: one per final session, with its final status.
  for (int k = 0; k < 10; ++k) {
    const std::string sid = "s" + std::to_string(k);
    EXPECT_EQ(d.roots.count(sid) ? d.roots.at(sid) : 0, 1) << sid;
    EXPECT_EQ(d.root_status.count(sid) ? d.root_status.at(sid) : "", k == 3 ? "failed" : "completed")
        << sid;
  }
  EXPECT_EQ(d.roots.count("silent") ? d.roots.at("silent") : 0, 1);
  EXPECT_EQ(d.root_status.count("silent") ? d.root_status.at("silent") : "", "timeout");

  // Retry-After: 1 was honoured: the next attempt came at least a second after the 429.
  bool saw_429 = false;
  for (std::size_t i = 0; i + 1 < requests.size(); ++i) {
    if (requests[i].status != 429) continue;
    saw_429 = true;
    EXPECT_GE(requests[i + 1].arrived_ms - requests[i].answered_ms, 1000);
  }
  EXPECT_TRUE(saw_429);
  // Retried requests are the same request again.
  EXPECT_EQ(requests[1].body, requests[0].body);
  EXPECT_EQ(requests[2].body, requests[0].body);
  // Every request: POST to the path, gzip, JSON, our header.
  for (const CollectorRequest& r : requests) {
    EXPECT_EQ(r.path, "/v1/traces");
    EXPECT_TRUE(r.was_gzip);
    EXPECT_EQ(r.headers.at("content-encoding"), "gzip");
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
    EXPECT_EQ(r.headers.at("x-api-key"), "test-key");
  }
  // (d) every accepted body is valid OTLP.
  EXPECT_EQ(ValidateOtlp(d.files), "");

  // (e) metrics match what arrived.
  ASSERT_TRUE(testing::WaitFor([&] { return CountersCaughtUp(service, collector); }, 5000));
  const PerformanceMetrics m = service.GetPerformanceMetrics();
  EXPECT_EQ(m.delivery_events_sent, static_cast<std::int64_t>(d.event_ids.size()));
  EXPECT_EQ(m.delivery_requests_sent, d.requests);
  EXPECT_EQ(m.delivery_spans_sent, d.spans);
  EXPECT_EQ(m.delivery_requests_failed, 0);
  std::int64_t refused = 0;
  for (const CollectorRequest& r : requests) refused += delivery::IsRetryableStatus(r.status) ? 1 : 0;
  EXPECT_GE(m.delivery_retries, refused + 3);  // the answered ones plus the refused connections
  auto h = service.HealthCheck({.quick_check = false});
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_TRUE(h->delivery.configured);
  EXPECT_TRUE(h->delivery.worker_running);
  EXPECT_EQ(h->delivery.queued_events, 0);
  EXPECT_EQ(h->delivery.events_sent, m.delivery_events_sent);
  EXPECT_EQ(h->delivery.requests_sent, m.delivery_requests_sent);
  EXPECT_EQ(h->delivery.retries, m.delivery_retries);
  ASSERT_OK(service.Shutdown());
}

// (b) A 400 is not retried: the request arrives once, is counted as failed, recorded in
// telemetry_delivery_failures, and its events are not sent again, not even after a restart.
TEST(Delivery, BadRequestIsNotRetriedAndIsCountedAsFailed) {
  TempDir dir;
  TestCollector collector(dir.path());
  ASSERT_TRUE(collector.Start()) << collector.error();
  collector.Script({{400, "", R"({"code":3,"message":"bad span"})"}});
  const TelemetryConfig config = DeliveryTestConfig(dir.File("t.db"), collector.url());
  std::vector<std::int64_t> rejected_ids;
  {
    TelemetryService service(config);
    ASSERT_OK(service.Initialize());
    TrackSession(service, "a", 3, false);
    ASSERT_OK(service.FlushBuffers());
    ASSERT_TRUE(testing::WaitFor(
        [&] { return service.GetPerformanceMetrics().delivery_requests_failed == 1; }, 10000));
    TrackSession(service, "b", 3, false);
    ASSERT_OK(service.FlushBuffers());
    ASSERT_TRUE(testing::WaitFor([&] { return DeliveryIdle(service); }, 10000));

    const std::vector<CollectorRequest> requests = collector.requests();
    ASSERT_GE(requests.size(), 2u);
    ASSERT_EQ(requests[0].status, 400);
    Delivered rejected;
    rejected_ids = AddBody(requests[0].body, rejected);
    ASSERT_FALSE(rejected_ids.empty());
    const Delivered accepted = Accepted(requests);
    for (std::int64_t id : rejected_ids) {
      EXPECT_EQ(accepted.event_ids.count(id), 0u) << "rejected event " << id << " was sent again";
    }
    for (std::size_t i = 1; i < requests.size(); ++i) {
      EXPECT_EQ(requests[i].status, 200);
      EXPECT_NE(requests[i].body, requests[0].body) << "the 400 request was retried";
    }
    // Everything else arrived once: the rejected events plus the accepted ones are the database.
    const std::vector<std::int64_t> all = EventIdsInDb(config.local_store.db_path);
    EXPECT_EQ(rejected_ids.size() + accepted.event_ids.size(), all.size());

    ASSERT_TRUE(testing::WaitFor([&] { return CountersCaughtUp(service, collector); }, 5000));
    const PerformanceMetrics m = service.GetPerformanceMetrics();
    EXPECT_EQ(m.delivery_requests_failed, 1);
    EXPECT_EQ(m.delivery_events_failed, static_cast<std::int64_t>(rejected_ids.size()));
    EXPECT_EQ(m.delivery_retries, 0);
    EXPECT_EQ(m.delivery_events_sent, static_cast<std::int64_t>(accepted.event_ids.size()));
    EXPECT_EQ(m.delivery_requests_sent, accepted.requests);
    EXPECT_NE(m.delivery_last_error.find("HTTP 400"), std::string::npos) << m.delivery_last_error;
    auto h = service.HealthCheck({.quick_check = false});
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->delivery.requests_failed, 1);
    EXPECT_EQ(h->delivery.events_failed, m.delivery_events_failed);
    EXPECT_NE(h->delivery.last_error.find("bad span"), std::string::npos) << h->delivery.last_error;
    bool noted = false;
    for (const std::string& issue : h->issues) noted |= issue.find("rejected") != std::string::npos;
    EXPECT_TRUE(noted);
    ASSERT_OK(service.Shutdown());
  }
  EXPECT_EQ(testing::QueryInt(config.local_store.db_path,
                              "SELECT count(*) FROM telemetry_delivery_failures "
                              "WHERE http_status = 400 AND first_event_id = " +
                                  std::to_string(*std::min_element(rejected_ids.begin(),
                                                                   rejected_ids.end())) +
                                  " AND event_count = " + std::to_string(rejected_ids.size())),
            1);
  // A restart resumes after the rejected request: nothing is sent again.
  const std::size_t before = collector.request_count();
  {
    TelemetryService service(config);
    ASSERT_OK(service.Initialize());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_TRUE(DeliveryIdle(service));
    ASSERT_OK(service.Shutdown());
  }
  EXPECT_EQ(collector.request_count(), before);
}

// (c) kill -9 between retries: the child tracks and flushes while the collector answers 503
// (after accepting the first two requests); we kill it mid-backoff. A new process, the collector
// now answering 200, delivers every event exactly once (none lost, none accepted twice).
TEST(Delivery, NothingIsLostOrSentTwiceWhenKilledBetweenRetries) {
  TempDir dir;
  TestCollector collector(dir.path());
  ASSERT_TRUE(collector.Start()) << collector.error();
  collector.Script({{200}, {200}});
  collector.SetFallback({503});
  const std::string db = dir.File("t.db");

  int out_pipe[2];
  ASSERT_EQ(pipe(out_pipe), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  std::string child = VIBEKIT_DELIVERY_CHILD;
  std::string url = collector.url();
  std::vector<char*> argv = {child.data(), const_cast<char*>(db.c_str()), url.data(), nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, child.c_str(), &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  // Wait for "FLUSHED <n>": everything tracked is committed.
  std::string out;
  char buf[256];
  while (out.find('\n') == std::string::npos) {
    const ssize_t n = read(out_pipe[0], buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(out_pipe[0]);
  ASSERT_EQ(out.rfind("FLUSHED ", 0), 0u) << out;
  // Two accepted, then at least three 503s: the child is retrying.
  ASSERT_TRUE(testing::WaitFor([&] { return collector.request_count() >= 5; }, 15000));
  // Kill it between retries: right after a 503 was answered (the backoff is 50..200 ms).
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto r = collector.requests();
        return r.back().replied;
      },
      5000));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  const std::size_t first_phase = collector.request_count();
  const Delivered before = Accepted(collector.requests());
  ASSERT_EQ(before.requests, 2);
  ASSERT_FALSE(before.event_ids.empty());

  collector.SetFallback({200});
  TelemetryService service(DeliveryTestConfig(db, collector.url()));
  ASSERT_OK(service.Initialize());
  ASSERT_TRUE(testing::WaitFor([&] { return DeliveryIdle(service); }, 15000));
  ASSERT_OK(service.Shutdown());
  const std::vector<CollectorRequest> requests = collector.requests();
  ASSERT_GT(requests.size(), first_phase);
  const Delivered d = Accepted(requests);
  ExpectEachEventExactlyOnce(db, d);
  auto sessions = testing::QueryInt(db, "SELECT count(*) FROM telemetry_sessions");
  EXPECT_EQ(static_cast<std::int64_t>(d.roots.size()), sessions);
  for (const auto& [sid, n] : d.roots) EXPECT_EQ(n, 1) << sid;
  EXPECT_EQ(ValidateOtlp(d.files), "");
}

TEST(DeliveryRetry, BackoffIsFullJitterUnderAnExponentialCeiling) {
  std::mt19937_64 rng(7);
  for (int attempt = 0; attempt < 12; ++attempt) {
    const std::int64_t ceiling = std::min<std::int64_t>(30000, 200LL << attempt);
    std::int64_t lo = ceiling;
    std::int64_t hi = 0;
    for (int i = 0; i < 2000; ++i) {
      const std::int64_t b = delivery::BackoffMs(attempt, 200, 30000, rng);
      ASSERT_GE(b, 0);
      ASSERT_LE(b, ceiling);
      lo = std::min(lo, b);
      hi = std::max(hi, b);
    }
    EXPECT_LT(lo, ceiling / 10 + 1) << attempt;  // jitter reaches near zero
    EXPECT_GT(hi, ceiling * 9 / 10) << attempt;  // and near the ceiling
  }
  EXPECT_LE(delivery::BackoffMs(200, 200, 30000, rng), 30000);
}

TEST(DeliveryRetry, RetryAfterTakesSecondsOrAnHttpDate) {
  EXPECT_EQ(delivery::ParseRetryAfterMs("1", 0), 1000);
  EXPECT_EQ(delivery::ParseRetryAfterMs("120", 0), 120000);
  // Wed, 21 Oct 2015 07:28:00 GMT = 1445412480.
  EXPECT_EQ(delivery::ParseRetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470), 10000);
  EXPECT_EQ(delivery::ParseRetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
  EXPECT_FALSE(delivery::ParseRetryAfterMs("", 0).has_value());
  EXPECT_FALSE(delivery::ParseRetryAfterMs("soon", 0).has_value());
  EXPECT_TRUE(delivery::IsRetryableStatus(429));
  EXPECT_TRUE(delivery::IsRetryableStatus(503));
  EXPECT_FALSE(delivery::IsRetryableStatus(500));
  EXPECT_FALSE(delivery::IsRetryableStatus(400));
}

// Shutdown does not wait out a long Retry-After: it interrupts the wait, and the unsent events
// stay in the outbox.
TEST(Delivery, ShutdownInterruptsWaitsAndKeepsTheRestQueued) {
  TempDir dir;
  TestCollector collector(dir.path());
  ASSERT_TRUE(collector.Start()) << collector.error();
  collector.SetFallback({429, "60"});
  const TelemetryConfig config = DeliveryTestConfig(dir.File("t.db"), collector.url());
  TelemetryService service(config);
  ASSERT_OK(service.Initialize());
  TrackSession(service, "a", 3, false);
  ASSERT_OK(service.FlushBuffers());
  ASSERT_TRUE(testing::WaitFor([&] { return collector.request_count() >= 1; }, 10000));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_OK(service.Shutdown());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_EQ(collector.request_count(), 1u);
  EXPECT_EQ(testing::QueryInt(config.local_store.db_path,
                              "SELECT count(*) FROM telemetry_events WHERE id > "
                              "(SELECT event_cursor FROM telemetry_delivery_state)"),
            5);
}

// Live delivery redacts too: events stored while redaction was off leave redacted.
TEST(Delivery, SecretsStoredBeforeRedactionWasOnAreRedactedOnTheWayOut) {
  TempDir dir;
  TestCollector collector(dir.path());
  ASSERT_TRUE(collector.Start()) << collector.error();
  const TelemetryConfig config = DeliveryTestConfig(dir.File("t.db"), collector.url());
  const std::string secret = "ghp_FAKE0123456789abcdefghijklmnopqrstuv";
  {
    TelemetryConfig off = config;
    off.delivery.run_worker = false;  // keeps the outbox, sends nothing
    off.privacy.redact_secrets = false;
    TelemetryService s(off);
    ASSERT_OK(s.Initialize());
    TrackStartParams p{"sec", "claude"};
    p.prompt = "use " + secret;
    p.metadata = R"({"env":{"cmd":"GITHUB_TOKEN=)" + secret + R"("}})";
    ASSERT_OK(s.TrackStart(p));
    TrackErrorParams e;
    e.session_id = "sec";
    e.agent_type = "claude";
    e.error = "401 for " + secret;
    ASSERT_OK(s.TrackError(e));
    ASSERT_OK(s.TrackEnd({"sec", "claude"}));
    ASSERT_OK(s.Shutdown());
  }
  ASSERT_EQ(testing::QueryInt(config.local_store.db_path,
                              "SELECT count(*) FROM telemetry_events WHERE instr(prompt, '" +
                                  secret + "') > 0"),
            1);
  TelemetryService s(config);
  ASSERT_OK(s.Initialize());
  ASSERT_TRUE(testing::WaitFor(
      [&] { return Accepted(collector.requests()).event_ids.size() == 3; }, 10000));
  ASSERT_TRUE(testing::WaitFor([&] { return DeliveryIdle(s); }, 10000));
  ASSERT_OK(s.Shutdown());
  std::string all;
  for (const CollectorRequest& r : collector.requests()) all += r.body;
  EXPECT_EQ(all.find(secret), std::string::npos) << all;
  // The texts themselves travel (with the secret replaced), so the check above means something.
  EXPECT_NE(all.find("401 for [REDACTED:github_token]"), std::string::npos) << all;
  EXPECT_NE(all.find("use [REDACTED:github_token]"), std::string::npos) << all;
}

}  // namespace
}  // namespace vibekit
