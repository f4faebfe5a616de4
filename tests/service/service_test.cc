#include "vibekit/telemetry_service.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "testing/test_util.h"

namespace vibekit {
namespace {

using testing::QueryInt;
using testing::QueryText;
using testing::TempDir;
using testing::TestConfig;
using testing::WaitFor;
using testing::WallNowMs;

class ServiceTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void Open(const std::function<void(TelemetryConfig&)>& tweak = nullptr) {
    TelemetryConfig config = TestConfig(db());
    if (tweak) tweak(config);
    service_ = std::make_unique<TelemetryService>(config);
    ASSERT_OK(service_->Initialize());
  }
  const std::string& db() const { return db_; }
  std::int64_t Count(const std::string& where = "1=1") {
    return QueryInt(db(), "SELECT count(*) FROM telemetry_events WHERE " + where);
  }
  Status Start(const std::string& sid, std::int64_t ts = 0, const std::string& agent = "claude") {
    TrackStartParams p;
    p.session_id = sid;
    p.agent_type = agent;
    p.mode = "code";
    p.prompt = "Fix the failing test";
    p.metadata = R"({"priority":"high","userId":"user-789"})";
    p.timestamp = ts;
    return service_->TrackStart(p);
  }
  Status Stream(const std::string& sid, const std::string& data, std::int64_t ts = 0) {
    TrackStreamParams p;
    p.session_id = sid;
    p.agent_type = "claude";
    p.stream_data = data;
    p.timestamp = ts;
    return service_->TrackStream(p);
  }
  Status End(const std::string& sid, std::int64_t ts = 0, const char* meta = R"({"status":"success"})") {
    TrackEndParams p;
    p.session_id = sid;
    p.agent_type = "claude";
    p.metadata = meta;
    p.timestamp = ts;
    return service_->TrackEnd(p);
  }

  TempDir dir_;
  const std::string db_ = testing::FreshDatabase(GetParam(), dir_);
  std::unique_ptr<TelemetryService> service_;
};

INSTANTIATE_TEST_SUITE_P(Backends, ServiceTest,
                         ::testing::Values(testing::Backend::kSqlite, testing::Backend::kPostgres),
                         testing::BackendName);

TEST_P(ServiceTest, TrackStartStreamEndRecordsSessionWithCounters) {
  Open();
  ASSERT_OK(Start("s1", 1000));
  ASSERT_OK(Stream("s1", "Here's the issue with your component...", 1500));
  ASSERT_OK(Stream("s1", "second", 1700));
  ASSERT_OK(End("s1", 46000));
  ASSERT_OK(service_->FlushBuffers());
  auto s = service_->GetSession("s1");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->status, SessionStatus::kCompleted);
  EXPECT_EQ(s->event_count, 4);
  EXPECT_EQ(s->stream_event_count, 2);
  EXPECT_EQ(s->error_count, 0);
  EXPECT_EQ(s->start_time, 1000);
  EXPECT_EQ(*s->end_time, 46000);
  EXPECT_EQ(*s->duration, 45000);
  EXPECT_EQ(s->agent_type, "claude");
  EXPECT_EQ(*s->mode, "code");
  // Start metadata merged with the end's.
  // userId is one of the hashed metadata keys (PrivacyConfig::hash_metadata_keys).
  EXPECT_EQ(s->metadata->find("user-789"), std::string::npos);
  EXPECT_NE(s->metadata->find(R"("userId":"hmac:)"), std::string::npos) << *s->metadata;
  EXPECT_NE(s->metadata->find("success"), std::string::npos);
  auto stats = service_->GetSessionStats("s1");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(*stats->time_to_first_stream_ms, 500);
  EXPECT_EQ(stats->stream_bytes, static_cast<std::int64_t>(
                                     std::string("Here's the issue with your component...").size() + 6));
  EXPECT_EQ(service_->GetSessionStats("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->GetSession("nope").status().code(), StatusCode::kNotFound);
}

TEST_P(ServiceTest, TrackBeforeInitializeIsAFailedPrecondition) {
  TelemetryService s(TestConfig(db()));
  TrackStartParams p{"s", "claude"};
  EXPECT_EQ(s.TrackStart(p).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.QueryEvents({}).status().code(), StatusCode::kFailedPrecondition);
}

TEST_P(ServiceTest, StreamEventsAreBufferedUntilBatchSize) {
  Open([](TelemetryConfig& c) {
    c.local_store.stream_batch_size = 5;
    c.local_store.stream_flush_interval_ms = 3600000;
  });
  ASSERT_OK(Start("b"));
  for (int i = 0; i < 4; ++i) ASSERT_OK(Stream("b", "chunk " + std::to_string(i)));
  // The start is not buffered: it becomes visible; the four streams are held back.
  ASSERT_TRUE(WaitFor([&] { return Count() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Count("event_type='stream'"), 0);
  EXPECT_EQ(service_->GetPerformanceMetrics().buffered_events, 4);
  EXPECT_EQ(service_->GetPerformanceMetrics().active_buffers, 1);
  ASSERT_OK(Stream("b", "chunk 4"));  // the fifth fills the buffer
  EXPECT_TRUE(WaitFor([&] { return Count("event_type='stream'") == 5; }));
  EXPECT_EQ(service_->GetPerformanceMetrics().buffered_events, 0);
}

TEST_P(ServiceTest, StreamEventsAreFlushedAfterTheInterval) {
  const int interval = 1500;
  Open([&](TelemetryConfig& c) {
    c.local_store.stream_batch_size = 1000;
    c.local_store.stream_flush_interval_ms = interval;
  });
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_OK(Stream("i", "one"));
  ASSERT_OK(Stream("i", "two"));
  EXPECT_EQ(Count(), 0);
  ASSERT_TRUE(WaitFor([&] { return Count() == 2; }, 15000));
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - t0)
                          .count();
  EXPECT_GE(waited, interval - 50);
}

TEST_P(ServiceTest, EndFlushesItsSessionBufferFirstSoOrderHolds) {
  Open([](TelemetryConfig& c) {
    c.local_store.stream_batch_size = 1000;
    c.local_store.stream_flush_interval_ms = 3600000;
  });
  const std::int64_t ts = 5000;  // identical timestamps: order must come from acceptance
  ASSERT_OK(Start("o", ts));
  for (int i = 0; i < 3; ++i) ASSERT_OK(Stream("o", "c" + std::to_string(i), ts));
  ASSERT_OK(End("o", ts));
  ASSERT_TRUE(WaitFor([&] { return Count() == 5; }));
  EventQueryFilter f;
  f.session_id = "o";
  auto events = service_->QueryEvents(f);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 5u);
  EXPECT_EQ((*events)[0].event_type, EventType::kStart);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*(*events)[1 + i].stream_data, "c" + std::to_string(i));
  EXPECT_EQ((*events)[4].event_type, EventType::kEnd);
}

TEST_P(ServiceTest, OrderWithinSessionHoldsAcrossManyFlushes) {
  Open([](TelemetryConfig& c) { c.local_store.stream_batch_size = 3; });
  ASSERT_OK(Start("m", 100));
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(Stream("m", std::to_string(i), 100));
    if (i % 17 == 0) ASSERT_OK(service_->FlushBuffers());
  }
  ASSERT_OK(service_->FlushBuffers());
  EventQueryFilter f;
  f.session_id = "m";
  f.event_type = EventType::kStream;
  f.limit = 1000;
  auto events = service_->QueryEvents(f);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(*(*events)[i].stream_data, std::to_string(i));
  f.order = SortOrder::kDesc;
  f.limit = 10;
  f.offset = 5;
  auto desc = service_->QueryEvents(f);
  ASSERT_TRUE(desc.ok());
  ASSERT_EQ(desc->size(), 10u);
  EXPECT_EQ(*(*desc)[0].stream_data, "94");
}

TEST_P(ServiceTest, StatusTransitionsAndErrorRecords) {
  Open();
  ASSERT_OK(Start("fail-end", 10));
  ASSERT_OK(End("fail-end", 20, R"({"status":"failed"})"));
  ASSERT_OK(Start("err", 10));
  TrackErrorParams e;
  e.session_id = "err";
  e.agent_type = "claude";
  e.error = "rate limited";
  e.error_type = "RateLimitError";
  e.severity = ErrorSeverity::kHigh;
  e.stack = "at call()";
  e.timestamp = 15;
  ASSERT_OK(service_->TrackError(e));
  ASSERT_OK(Stream("orphan", "no start seen", 30));  // unknown session: created, not refused
  ASSERT_OK(service_->FlushBuffers());
  EXPECT_EQ(service_->GetSession("fail-end")->status, SessionStatus::kFailed);
  auto err = service_->GetSession("err");
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->status, SessionStatus::kFailed);
  EXPECT_EQ(err->error_count, 1);
  auto records = service_->GetSessionErrors("err");
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].error_message, "rate limited");
  EXPECT_EQ((*records)[0].error_type, "RateLimitError");
  EXPECT_EQ(*(*records)[0].error_stack, "at call()");
  EXPECT_TRUE((*records)[0].event_id.has_value());
  EXPECT_EQ(QueryText(db(), "SELECT event_type FROM telemetry_events WHERE id = " +
                                std::to_string(*(*records)[0].event_id)),
            "error");
  auto orphan = service_->GetSession("orphan");
  ASSERT_TRUE(orphan.ok());
  EXPECT_EQ(orphan->status, SessionStatus::kActive);
  EXPECT_EQ(orphan->start_time, 30);
  // QuerySessions filters.
  SessionQueryFilter sf;
  sf.status = SessionStatus::kFailed;
  auto failed = service_->QuerySessions(sf);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->size(), 2u);
  sf = {};
  sf.agent_type = "claude";
  sf.mode = "code";
  sf.from_time = 10;
  sf.to_time = 10;
  sf.order = SortOrder::kAsc;
  auto by = service_->QuerySessions(sf);
  ASSERT_TRUE(by.ok());
  ASSERT_EQ(by->size(), 2u);
  EXPECT_EQ((*by)[0].id, "err");  // same start time: by id
}

TEST_P(ServiceTest, SilentSessionsTimeOutAndReviveOnActivity) {
  Open([](TelemetryConfig& c) {
    c.local_store.session_timeout_ms = 60000;
    c.local_store.timeout_check_interval_ms = 50;
  });
  const std::int64_t now = WallNowMs();
  ASSERT_OK(Start("stale", now - 120000));
  ASSERT_OK(Start("fresh", now));
  ASSERT_OK(service_->FlushBuffers());
  ASSERT_TRUE(WaitFor([&] { return service_->GetSession("stale")->status == SessionStatus::kTimeout; }));
  EXPECT_EQ(service_->GetSession("fresh")->status, SessionStatus::kActive);
  auto agg = service_->GetAggregateStats();
  ASSERT_TRUE(agg.ok());
  EXPECT_EQ(agg->total.timeout_sessions, 1);
  EXPECT_EQ(agg->total.active_sessions, 1);
  ASSERT_OK(Stream("stale", "back again", now));
  ASSERT_OK(service_->FlushBuffers());
  EXPECT_EQ(service_->GetSession("stale")->status, SessionStatus::kActive);
  agg = service_->GetAggregateStats();
  EXPECT_EQ(agg->total.timeout_sessions, 0);
  EXPECT_EQ(agg->total.active_sessions, 2);
}

TEST_P(ServiceTest, TimeoutSweepRunsEvenUnderContinuousIngest) {
  Open([](TelemetryConfig& c) {
    c.local_store.session_timeout_ms = 60000;
    c.local_store.timeout_check_interval_ms = 50;
    c.local_store.stream_batch_size = 1;  // every event goes straight to the writer queue
    c.local_store.write_linger_ms = 0;
  });
  const std::int64_t now = WallNowMs();
  ASSERT_OK(Start("quiet", now - 120000));
  ASSERT_OK(service_->FlushBuffers());
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    int i = 0;
    while (!stop.load()) (void)Stream("busy", "tick " + std::to_string(i++));
  });
  const bool timed_out = WaitFor(
      [&] { return service_->GetSession("quiet")->status == SessionStatus::kTimeout; });
  stop = true;
  busy.join();
  EXPECT_TRUE(timed_out);
}

TEST_P(ServiceTest, BadInputGetsClearErrorsAndNothingIsStored) {
  Open();
  EXPECT_EQ(Start("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Stream("x", std::string("\xFF\xFE", 2)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Start("neg", -1).code(), StatusCode::kInvalidArgument);
  Status big = Stream("x", std::string(5 << 20, 'a'));
  EXPECT_EQ(big.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(big.message().find("limit"), std::string::npos);
  TrackStartParams p{"x", "claude"};
  p.metadata = "{\"unterminated\": ";
  Status meta = service_->TrackStart(p);
  EXPECT_TRUE(meta.IsValidationError());
  EXPECT_NE(meta.message().find("metadata"), std::string::npos);
  TrackErrorParams e;
  e.session_id = "x";
  e.agent_type = "claude";
  EXPECT_EQ(service_->TrackError(e).code(), StatusCode::kInvalidArgument);
  EventQueryFilter f;
  f.limit = 0;
  EXPECT_EQ(service_->QueryEvents(f).status().code(), StatusCode::kInvalidArgument);
  ASSERT_OK(service_->FlushBuffers());
  EXPECT_EQ(Count(), 0);
  EXPECT_GE(service_->GetPerformanceMetrics().rejected_invalid, 5);
  // A large but allowed chunk is stored byte for byte.
  const std::string chunk(900 * 1024, 'z');
  ASSERT_OK(Stream("x", chunk));
  ASSERT_OK(service_->FlushBuffers());
  auto stored = service_->QueryEvents({});
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ(*(*stored)[0].stream_data, chunk);
}

TEST_P(ServiceTest, TrackOfAnyEventMatchesTheTypedCalls) {
  Open();
  Event start;
  start.id = 777;  // ignored: the store assigns ids
  start.session_id = "generic";
  start.agent_type = "opencode";
  start.event_type = EventType::kStart;
  start.prompt = "go";
  start.timestamp = 100;
  ASSERT_OK(service_->Track(start));
  Event error = start;
  error.event_type = EventType::kError;
  error.prompt.reset();
  error.error = ErrorDetails{"ToolError", "tool failed", std::nullopt, std::nullopt, ErrorSeverity::kCritical};
  error.timestamp = 150;
  ASSERT_OK(service_->Track(error));
  Event bad = start;
  bad.session_id.clear();
  EXPECT_EQ(service_->Track(bad).code(), StatusCode::kInvalidArgument);
  ASSERT_OK(service_->FlushBuffers());
  auto s = service_->GetSession("generic");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->event_count, 2);
  EXPECT_EQ(s->status, SessionStatus::kFailed);
  auto errors = service_->GetSessionErrors("generic");
  ASSERT_TRUE(errors.ok());
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ((*errors)[0].severity, ErrorSeverity::kCritical);
  EXPECT_NE(QueryInt(db(), "SELECT min(id) FROM telemetry_events"), 777);
}

TEST_P(ServiceTest, InsertEventBatchIsValidatedAsAWhole) {
  Open();
  std::vector<Event> batch(3);
  for (int i = 0; i < 3; ++i) {
    batch[i].session_id = "batch";
    batch[i].agent_type = "codex";
    batch[i].event_type = i == 0 ? EventType::kStart : (i == 1 ? EventType::kStream : EventType::kEnd);
    batch[i].stream_data = "d";
    batch[i].timestamp = 100 + i;
  }
  batch[2].metadata = "not json";
  Status st = service_->InsertEventBatch(batch);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("event 2"), std::string::npos);
  ASSERT_OK(service_->FlushBuffers());
  EXPECT_EQ(Count(), 0);
  batch[2].metadata.reset();
  ASSERT_OK(service_->InsertEventBatch(batch));
  ASSERT_OK(service_->FlushBuffers());
  EXPECT_EQ(Count(), 3);
  EXPECT_EQ(service_->GetSession("batch")->status, SessionStatus::kCompleted);
}

TEST_P(ServiceTest, InsertValidatedBatchTakesTheEventsAndStillAppliesPrivacy) {
  Open();
  std::vector<Event> batch(2);
  for (int i = 0; i < 2; ++i) {
    batch[i].session_id = "validated";
    batch[i].agent_type = "codex";
    batch[i].event_type = i == 0 ? EventType::kStart : EventType::kStream;
    batch[i].timestamp = 200 + i;
    batch[i].id = 999;  // ignored, as on every path
    ASSERT_OK(service_->ValidateEvent(batch[i]));
  }
  batch[0].prompt = "deploy with key sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789ABCD";
  batch[1].stream_data = std::string(3000, 'y');  // moved, not copied: the vector is consumed
  ASSERT_OK(service_->InsertValidatedBatch(std::move(batch)));
  ASSERT_OK(service_->FlushBuffers());
  EXPECT_EQ(Count(), 2);
  EventQueryFilter f;
  f.session_id = "validated";
  f.order = SortOrder::kAsc;
  auto events = service_->QueryEvents(f);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].prompt->find("sk-ant-api03"), std::string::npos) << *(*events)[0].prompt;
  EXPECT_EQ((*events)[1].stream_data->size(), 3000u);
  EXPECT_NE((*events)[0].id, 999);
}

TEST_P(ServiceTest, AggregateStatsMatchAnIndependentCount) {
  Open();
  for (int s = 0; s < 12; ++s) {
    const std::string sid = "agg" + std::to_string(s);
    TrackStartParams p{sid, s % 3 == 0 ? "codex" : "claude"};
    p.mode = s % 2 == 0 ? "code" : "ask";
    p.timestamp = 1000 + s;
    ASSERT_OK(service_->TrackStart(p));
    for (int i = 0; i < s; ++i) ASSERT_OK(Stream(sid, "x", 1100 + s));
    if (s % 4 == 0) {
      TrackErrorParams e;
      e.session_id = sid;
      e.agent_type = p.agent_type;
      e.error = "bad";
      e.timestamp = 1200;
      ASSERT_OK(service_->TrackError(e));
    }
    if (s % 5 != 0) ASSERT_OK(End(sid, 2000 + s * 10));
  }
  ASSERT_OK(service_->FlushBuffers());
  auto agg = service_->GetAggregateStats();
  ASSERT_TRUE(agg.ok());
  EXPECT_EQ(agg->total.total_events, Count());
  EXPECT_EQ(agg->total.stream_events, Count("event_type='stream'"));
  EXPECT_EQ(agg->total.error_events, Count("event_type='error'"));
  EXPECT_EQ(agg->total.sessions, QueryInt(db(), "SELECT count(*) FROM telemetry_sessions"));
  EXPECT_EQ(agg->total.completed_sessions,
            QueryInt(db(), "SELECT count(*) FROM telemetry_sessions WHERE status='completed'"));
  EXPECT_EQ(agg->total.failed_sessions,
            QueryInt(db(), "SELECT count(*) FROM telemetry_sessions WHERE status='failed'"));
  EXPECT_EQ(agg->total.duration_sum_ms,
            QueryInt(db(), "SELECT sum(duration) FROM telemetry_sessions WHERE duration IS NOT NULL"));
  EXPECT_EQ(agg->by_agent.at("codex").total_events, Count("agent_type='codex'"));
  EXPECT_EQ(agg->by_mode.at("ask").sessions,
            QueryInt(db(), "SELECT count(*) FROM telemetry_sessions WHERE mode='ask'"));
  EXPECT_EQ(*agg->total.min_timestamp, QueryInt(db(), "SELECT min(timestamp) FROM telemetry_events"));
  EXPECT_NEAR(agg->error_event_rate_pct,
              100.0 * Count("event_type='error'") / static_cast<double>(Count()), 1e-9);
  EXPECT_NE(QueryText(db(), "SELECT agent_breakdown FROM telemetry_stats WHERE stat_type='global'")
                .find("\"codex\""),
            std::string::npos);
}

// `top -H`, `ps -L` and perf tell the service's threads apart.
TEST_P(ServiceTest, ItsThreadsAreNamed) {
  Open();
  ASSERT_OK(Stream("t", "named"));
  ASSERT_OK(service_->FlushBuffers());
  const std::vector<std::string> names = testing::ThreadNames();
  auto has = [&](const char* name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  EXPECT_TRUE(has("vk-writer"));
  if (GetParam() == testing::Backend::kSqlite) {
    EXPECT_TRUE(has("vk-text-index"));
    EXPECT_TRUE(has("vk-checkpoint"));
  }
}

TEST_P(ServiceTest, HealthCheckAndPerformanceMetricsAreMeasured) {
  Open();
  for (int i = 0; i < 50; ++i) ASSERT_OK(Stream("h", "data " + std::to_string(i)));
  ASSERT_OK(service_->FlushBuffers());
  auto h = service_->HealthCheck();
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_TRUE(h->database);
  EXPECT_EQ(h->quick_check, "ok");
  EXPECT_GT(h->file_size_bytes, 0);
  if (GetParam() == testing::Backend::kPostgres) {
    EXPECT_EQ(h->disk_free_bytes, -1);  // the server's disk: unknown to the client
  } else {
    EXPECT_GT(h->disk_free_bytes, 0);
  }
  EXPECT_GT(h->memory_rss_bytes, 0);
  EXPECT_EQ(h->buffered_events, 0);
  EXPECT_EQ(h->queued_events, 0);
  EXPECT_GT(h->oldest_event_time, 0);
  EXPECT_FALSE(h->performance_grade.empty());
  EXPECT_GE(h->connections.total, 1);
  const PerformanceMetrics m = service_->GetPerformanceMetrics();
  EXPECT_EQ(m.events_written, 50);
  EXPECT_GE(m.total_flushes, 1);
  EXPECT_GT(m.avg_flush_ms, 0.0);
  EXPECT_GE(m.p99_flush_ms, m.avg_flush_ms * 0.0);
  EXPECT_GT(m.last_flush_time, 0);
  EXPECT_GT(m.writer_cpu_seconds, 0.0);  // the writer thread's CPU clock, read at its commits
  ASSERT_TRUE(Start("cpu-more").ok());
  ASSERT_TRUE(service_->FlushBuffers().ok());
  EXPECT_GE(service_->GetPerformanceMetrics().writer_cpu_seconds, m.writer_cpu_seconds);
  // The text index: a search brings it up to date first.
  EventQueryFilter any;
  any.contains = "data";
  ASSERT_TRUE(service_->QueryEvents(any).ok());
  EXPECT_EQ(service_->GetPerformanceMetrics().text_index_lag_events, 0);
  if (GetParam() == testing::Backend::kPostgres) {
    EXPECT_EQ(service_->GetPerformanceMetrics().text_index_cpu_seconds, 0.0);  // in each commit
    return;
  }
  // On SQLite its own thread also reaches new commits by itself, and uses CPU for them.
  for (int i = 0; i < 20; ++i) ASSERT_OK(Stream("h2", "more data " + std::to_string(i)));
  ASSERT_OK(service_->FlushBuffers());
  PerformanceMetrics after = service_->GetPerformanceMetrics();
  for (int i = 0; i < 100 && (after.text_index_lag_events > 0 ||
                              after.text_index_cpu_seconds <= 0.0); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    after = service_->GetPerformanceMetrics();
  }
  EXPECT_EQ(after.text_index_lag_events, 0);
  EXPECT_GT(after.text_index_cpu_seconds, 0.0);
}

TEST_P(ServiceTest, ShutdownFlushesAndLaterCallsAreRefused) {
  Open([](TelemetryConfig& c) { c.local_store.stream_flush_interval_ms = 3600000; });
  for (int i = 0; i < 7; ++i) ASSERT_OK(Stream("sd", "x"));
  ASSERT_OK(service_->Shutdown());
  EXPECT_EQ(Stream("sd", "late").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count(), 7);
  service_.reset();
  Open();  // reopen the same file
  EXPECT_EQ(service_->GetSession("sd")->event_count, 7);
}

TEST_P(ServiceTest, DisabledByEnvironmentIsANoOpThatCreatesNothing) {
  setenv("VIBEKIT_TELEMETRY", "off", 1);
  TelemetryConfig c = TestConfig(db());
  c.apply_environment = true;
  TelemetryService s(c);
  unsetenv("VIBEKIT_TELEMETRY");
  EXPECT_FALSE(s.enabled());
  ASSERT_OK(s.Initialize());
  TrackStartParams p{"s", "claude"};
  EXPECT_OK(s.TrackStart(p));
  p.session_id = "";  // even invalid input costs nothing when disabled
  EXPECT_OK(s.TrackStart(p));
  EXPECT_OK(s.FlushBuffers());
  auto events = s.QueryEvents({});
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
  struct stat st {};
  EXPECT_NE(stat(db().c_str(), &st), 0) << "no database file may be created";
}

TEST_P(ServiceTest, EnvironmentOverridesReachTheService) {
  setenv("TELEMETRY_BATCH_SIZE", "7", 1);
  setenv("TELEMETRY_DB_PATH", dir_.File("env.db").c_str(), 1);
  TelemetryConfig c = TestConfig(db());
  c.apply_environment = true;
  TelemetryService s(c);
  unsetenv("TELEMETRY_BATCH_SIZE");
  unsetenv("TELEMETRY_DB_PATH");
  EXPECT_EQ(s.config().local_store.stream_batch_size, 7);
  EXPECT_EQ(s.config().local_store.db_path, dir_.File("env.db"));
  ASSERT_OK(s.Initialize());
  struct stat st {};
  EXPECT_EQ(stat(dir_.File("env.db").c_str(), &st), 0);

  setenv("TELEMETRY_RETENTION_DAYS", "soon", 1);
  TelemetryService bad(c);
  unsetenv("TELEMETRY_RETENTION_DAYS");
  Status init = bad.Initialize();
  EXPECT_EQ(init.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(init.message().find("TELEMETRY_RETENTION_DAYS"), std::string::npos);
}

TEST_P(ServiceTest, UnusableDatabasePathIsReportedNotCrashed) {
  TelemetryConfig c = TestConfig("/proc/definitely/not/here.db");
  TelemetryService s(c);
  Status st = s.Initialize();
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(st.IsDatabaseError()) << st.ToString();
}

}  // namespace
}  // namespace vibekit
