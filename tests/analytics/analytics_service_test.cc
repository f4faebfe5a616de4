// AnalyticsService against independent computations over the raw events (SQL on the file).
#include "vibekit/analytics.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>

#include "service/service_internal.h"
#include "store/minute_rollup.h"
#include "store/sqlite/database.h"
#include "store/sqlite/minute_rollup_sql.h"
#include "analytics/alert_webhook.h"
#include "delivery/test_collector.h"
#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"
#include "workload/workload.h"

namespace vibekit {
namespace {
using testing::FakeClock;
using testing::QueryInt;
using testing::TempDir;

constexpr std::int64_t kStart = 1767225600000;  // the workload's first timestamp

std::vector<std::int64_t> QueryInts(const std::string& path, const std::string& sql) {
  std::vector<std::int64_t> out;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
  while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) out.push_back(sqlite3_column_int64(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

double LowerRank(std::vector<std::int64_t> v, double q) {
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[static_cast<std::size_t>(std::floor(q * (v.size() - 1)))]);
}

void ExpectQuantiles(const QuantileSummary& got, const std::vector<std::int64_t>& exact,
                     const char* what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(got.count, static_cast<std::int64_t>(exact.size()));
  ASSERT_FALSE(exact.empty());
  double sum = 0;
  for (std::int64_t v : exact) sum += static_cast<double>(v);
  EXPECT_NEAR(got.mean.value_or(-1), sum / exact.size(), 1e-6);
  const std::pair<double, std::optional<double>> qs[] = {
      {0.5, got.p50}, {0.9, got.p90}, {0.95, got.p95}, {0.99, got.p99}};
  for (const auto& [q, value] : qs) {
    const double want = LowerRank(exact, q);
    ASSERT_TRUE(value.has_value());
    EXPECT_NEAR(*value, want, std::max(1.0, want * 0.0101)) << "q=" << q;
  }
}

class AnalyticsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("a.db");
    TelemetryConfig cfg = testing::TestConfig(db_);
    cfg.local_store.session_timeout_ms = 365LL * 24 * 3600 * 1000;  // no sweep surprises
    service_ = std::make_unique<TelemetryService>(cfg, &clock_);
    ASSERT_OK(service_->Initialize());
  }
  void TearDown() override {
    if (service_) EXPECT_OK(service_->Shutdown());
  }

  void IngestWorkload(std::int64_t events) {
    workload::WorkloadOptions o;
    o.total_events = events;
    o.error_session_fraction = 0.1;
    workload::Generator gen(o);
    std::vector<Event> batch;
    Event e;
    while (gen.Next(&e)) batch.push_back(e);
    ASSERT_OK(service_->InsertEventBatch(batch));
    ASSERT_OK(service_->FlushBuffers());
  }

  Event Make(const std::string& session, EventType type, std::int64_t ts,
             std::optional<std::string> metadata = std::nullopt) {
    Event e;
    e.session_id = session;
    e.event_type = type;
    e.agent_type = "gemini";
    e.timestamp = ts;
    e.metadata = std::move(metadata);
    if (type == EventType::kStream || type == EventType::kError) e.stream_data = "x";
    return e;
  }

  TempDir dir_;
  std::string db_;
  FakeClock clock_{kStart};
  std::unique_ptr<TelemetryService> service_;
};

TEST_F(AnalyticsTest, ReportEqualsIndependentComputationOverTheRawEvents) {
  IngestWorkload(20000);
  const std::int64_t last = QueryInt(db_, "SELECT max(timestamp) FROM telemetry_events");
  // Token usage in metadata, GenAI names and an agent's own keys.
  const std::vector<Event> tokens = {
      Make("tok-1", EventType::kStart, last + 1000,
           R"({"model":"m1","usage":{"input_tokens":100,"output_tokens":7}})"),
      Make("tok-1", EventType::kStream, last + 2000,
           R"({"gen_ai.usage.input_tokens":5,"cost_usd":0.25})"),
      Make("tok-1", EventType::kEnd, last + 3000)};
  ASSERT_OK(service_->InsertEventBatch(tokens));
  ASSERT_OK(service_->FlushBuffers());
  clock_.Set(last + 60'000);

  AnalyticsService analytics(*service_, &clock_);
  auto report = analytics.GetAnalytics();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const AnalyticsReport& r = *report;

  EXPECT_EQ(r.from_ms, kStart);
  EXPECT_EQ(r.usage.events, QueryInt(db_, "SELECT count(*) FROM telemetry_events"));
  for (const char* type : {"start", "stream", "end", "error"}) {
    EXPECT_EQ(r.usage.events_by_type.at(type),
              QueryInt(db_, std::string("SELECT count(*) FROM telemetry_events WHERE "
                                        "event_type = '") + type + "'")) << type;
  }
  EXPECT_EQ(r.usage.sessions_started, r.usage.events_by_type.at("start"));
  const double minutes = (store::MinuteOf(r.to_ms) - store::MinuteOf(r.from_ms)) / 60000.0 + 1;
  EXPECT_NEAR(r.performance.throughput_per_min, r.usage.events / minutes, 1e-9);
  EXPECT_NEAR(r.performance.error_rate_pct,
              100.0 * r.usage.events_by_type.at("error") / r.usage.events, 1e-9);
  for (const auto& [agent, n] : r.usage.sessions_by_agent) {
    EXPECT_EQ(n, QueryInt(db_, "SELECT count(*) FROM telemetry_events WHERE event_type='start' "
                               "AND agent_type='" + agent + "'")) << agent;
  }
  EXPECT_EQ(r.usage.top_agent.value_or("?"),
            testing::QueryText(db_, "SELECT agent_type FROM telemetry_events GROUP BY 1 "
                                    "ORDER BY count(*) DESC LIMIT 1"));
  EXPECT_EQ(r.usage.peak_hour_utc.value_or(-1),
            QueryInt(db_, "SELECT (timestamp / 3600000) % 24 FROM telemetry_events GROUP BY 1 "
                          "ORDER BY count(*) DESC LIMIT 1"));
  EXPECT_EQ(r.usage.active_sessions,
            QueryInt(db_, "SELECT count(*) FROM telemetry_sessions WHERE status='active'"));

  // Response time: a session's first stream event minus its start.
  ExpectQuantiles(r.performance.response_time_ms,
                  QueryInts(db_, "SELECT (SELECT min(timestamp) FROM telemetry_events e WHERE "
                                 "e.session_id = s.id AND e.event_type = 'stream') - s.start_time "
                                 "FROM telemetry_sessions s WHERE s.stream_event_count > 0"),
                  "response time");
  ExpectQuantiles(r.performance.stream_gap_ms,
                  QueryInts(db_, "SELECT gap FROM (SELECT timestamp - lag(timestamp) OVER "
                                 "(PARTITION BY session_id ORDER BY timestamp, id) AS gap FROM "
                                 "telemetry_events WHERE event_type = 'stream') WHERE gap IS NOT "
                                 "NULL"),
                  "stream gap");
  ExpectQuantiles(r.quality.session_duration_ms,
                  QueryInts(db_, "SELECT duration FROM telemetry_sessions WHERE status <> "
                                 "'active' AND duration IS NOT NULL"),
                  "session duration");
  EXPECT_EQ(r.quality.completed,
            QueryInt(db_, "SELECT count(*) FROM telemetry_sessions WHERE status='completed'"));
  EXPECT_EQ(r.quality.failed,
            QueryInt(db_, "SELECT count(*) FROM telemetry_sessions WHERE status='failed'"));
  EXPECT_EQ(r.quality.active,
            QueryInt(db_, "SELECT count(*) FROM telemetry_sessions WHERE status='active'"));
  EXPECT_GT(r.quality.failed, 0);
  // Tokens: the workload's end events carry gen_ai.usage.*; tok-1 uses usage.* and cost_usd.
  const auto tokens_sql = [](const std::string& kind) {
    return "SELECT coalesce(sum(coalesce(json_extract(metadata, '$.\"gen_ai.usage." + kind +
           "_tokens\"'), json_extract(metadata, '$." + kind + "_tokens'), json_extract(metadata, "
           "'$.usage." + kind + "_tokens'))), 0) FROM telemetry_events WHERE metadata IS NOT NULL";
  };
  EXPECT_EQ(r.quality.input_tokens, QueryInt(db_, tokens_sql("input")));
  EXPECT_EQ(r.quality.output_tokens, QueryInt(db_, tokens_sql("output")));
  EXPECT_GT(r.quality.input_tokens, 105);
  EXPECT_DOUBLE_EQ(r.quality.cost_usd, 0.25);

  // A sub-range: only what happened in it.
  AnalyticsRange first_hour{kStart, kStart + 3'600'000 - 1};
  auto part = analytics.GetAnalytics(first_hour);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(part->usage.events,
            QueryInt(db_, "SELECT count(*) FROM telemetry_events WHERE timestamp < " +
                              std::to_string(kStart + 3'600'000)));
  EXPECT_FALSE(analytics.GetAnalytics({kStart + 10, kStart}).ok()) << "from after to";
}

TEST_F(AnalyticsTest, RollupsAreTheSameWhenRebuiltFromTheEvents) {
  IngestWorkload(8000);
  auto store = service::ServiceInternals::StoreOf(*service_);
  ASSERT_TRUE(store.ok());
  auto before = (*store)->ReadMinuteRollups(0, INT64_MAX / 2);
  ASSERT_TRUE(before.ok());
  ASSERT_FALSE(before->empty());
  ASSERT_OK(service::ServiceInternals::RunOnWriter(
      *service_,
      [&]() -> Status {
        store::sqlite::OpenOptions opts;
        auto db = store::sqlite::Database::Open(db_, opts);
        if (!db.ok()) return db.status();
        store::sqlite::Transaction txn(**db);
        VK_RETURN_IF_ERROR(txn.Begin());
        VK_RETURN_IF_ERROR(store::sqlite::RebuildMinuteRollups(**db));
        return txn.Commit();
      },
      60000));
  auto after = (*store)->ReadMinuteRollups(0, INT64_MAX / 2);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), before->size());
  for (std::size_t i = 0; i < after->size(); ++i) {
    EXPECT_TRUE((*after)[i].key == (*before)[i].key) << i;
    EXPECT_TRUE((*after)[i].counts == (*before)[i].counts) << "minute " << (*after)[i].key.minute;
  }
}

TEST_F(AnalyticsTest, DashboardAndSeriesCoverTheLastHourMinuteByMinute) {
  IngestWorkload(6000);
  const std::int64_t last = QueryInt(db_, "SELECT max(timestamp) FROM telemetry_events");
  clock_.Set(last + 1);
  AnalyticsService analytics(*service_, &clock_);
  auto d = analytics.GetDashboardMetrics();
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const std::int64_t from = store::MinuteOf(last) - 59 * 60000;
  EXPECT_EQ(d->events, QueryInt(db_, "SELECT count(*) FROM telemetry_events WHERE timestamp >= " +
                                         std::to_string(from)));
  const auto& tp = d->series.at("throughput");
  ASSERT_EQ(tp.size(), 60u);
  EXPECT_EQ(tp.front().minute, from);
  for (const MetricPoint& p : tp) {
    EXPECT_EQ(p.value.value_or(-1),
              QueryInt(db_, "SELECT count(*) FROM telemetry_events WHERE timestamp / 60000 * "
                            "60000 = " + std::to_string(p.minute)));
  }
  for (const MetricPoint& p : d->series.at("error_rate")) {
    const std::int64_t n = QueryInt(db_, "SELECT count(*) FROM telemetry_events WHERE timestamp "
                                         "/ 60000 * 60000 = " + std::to_string(p.minute));
    const std::int64_t errors = QueryInt(
        db_, "SELECT count(*) FROM telemetry_events WHERE event_type='error' AND timestamp / "
             "60000 * 60000 = " + std::to_string(p.minute));
    if (n == 0) {
      EXPECT_FALSE(p.value.has_value());
    } else {
      EXPECT_NEAR(p.value.value_or(-1), 100.0 * errors / n, 1e-9);
    }
  }
  auto bad = analytics.GetMetricSeries("latency", 0, 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("throughput"), std::string::npos) << "lists the names";
}

// A steady stream of short sessions, one every 10 s (start, stream, end); in `error_minute`
// every session fails instead of streaming (start, error, end): same throughput, 1/3 errors.
void SteadyTraffic(TelemetryService& s, int minutes, int error_minute) {
  std::vector<Event> batch;
  for (int m = 0; m < minutes; ++m) {
    for (int k = 0; k < 6; ++k) {
      const std::int64_t t = kStart + m * 60000LL + k * 10000;
      const std::string id = "s" + std::to_string(m) + "-" + std::to_string(k);
      Event e;
      e.session_id = id;
      e.agent_type = "claude";
      e.event_type = EventType::kStart;
      e.timestamp = t;
      batch.push_back(e);
      if (m == error_minute) {
        e.event_type = EventType::kError;
        e.stream_data = "boom";
        e.timestamp = t + 2000;
      } else {
        e.event_type = EventType::kStream;
        e.stream_data = "ok";
        e.timestamp = t + 800 + (k * 37 + m * 11) % 200;
      }
      batch.push_back(e);
      e.event_type = EventType::kEnd;
      e.stream_data.reset();
      e.timestamp = t + 3000;
      batch.push_back(e);
    }
  }
  ASSERT_OK(s.InsertEventBatch(batch));
  ASSERT_OK(s.FlushBuffers());
}

TEST_F(AnalyticsTest, AnomaliesAndPredictionsOnStoredTraffic) {
  SteadyTraffic(*service_, 300, 200);
  clock_.Set(kStart + 300 * 60000LL + 5000);
  AnalyticsService analytics(*service_, &clock_);
  auto anomalies = analytics.DetectAnomalies({"error_rate", "throughput"});
  ASSERT_TRUE(anomalies.ok()) << anomalies.status().ToString();
  ASSERT_EQ(anomalies->size(), 1u);
  const Anomaly& a = anomalies->front();
  EXPECT_EQ(a.metric, "error_rate");
  EXPECT_EQ(a.kind, "spike");
  EXPECT_EQ(a.peak_ms, kStart + 200 * 60000LL);
  EXPECT_EQ(a.window_start_ms, a.peak_ms);
  EXPECT_EQ(a.window_end_ms, a.peak_ms + 60000);
  EXPECT_NEAR(a.observed, 100.0 / 3, 1e-9) << "6 errors among 18 events";
  EXPECT_NEAR(a.expected, 0.0, 1e-9);
  EXPECT_GT(a.confidence_pct, 99.0);
  EXPECT_NE(a.description.find("error_rate was 33.33 % where 0 % was expected"),
            std::string::npos) << a.description;

  auto predictions = analytics.GeneratePredictions({"throughput"}, 30);
  ASSERT_TRUE(predictions.ok()) << predictions.status().ToString();
  const Prediction& p = predictions->front();
  ASSERT_EQ(p.points.size(), 30u);
  for (const PredictionPoint& pt : p.points) {
    EXPECT_NEAR(pt.value, 18.0, 0.5) << "steady 18 events a minute";
    EXPECT_LE(pt.lower, pt.value);
    EXPECT_GE(pt.upper, pt.value);
  }
  EXPECT_EQ(p.points.front().minute, kStart + 300 * 60000LL);
  EXPECT_TRUE(p.backtest_mae.has_value());
  EXPECT_FALSE(analytics.GeneratePredictions({"throughput"}, 0).ok());
  EXPECT_FALSE(analytics.DetectAnomalies({"nope"}).ok());
}

TEST_F(AnalyticsTest, AlertFiresOncePerCooldownResolvesAndReachesSubscribers) {
  SteadyTraffic(*service_, 10, 5);  // minute 5 has 1/3 errors
  AnalyticsService analytics(*service_, &clock_);
  ASSERT_OK(analytics.SetAlertThreshold("error_rate", 5, AlertDirection::kAbove,
                                        AlertSeverity::kHigh, 10 * 60000));
  ASSERT_OK(analytics.SetAlertThreshold("throughput", 1, AlertDirection::kBelow,
                                        AlertSeverity::kLow, 0));
  std::vector<AlertEvent> fired;
  std::vector<AlertEvent> resolved;
  analytics.OnAlert([&](const AlertEvent& a) { fired.push_back(a); });
  analytics.OnResolved([&](const AlertEvent& a) { resolved.push_back(a); });
  auto at_minute = [&](int m) {
    clock_.Set(kStart + (m + 1) * 60000LL + 1000);  // the check looks at the last full minute
    ASSERT_OK(analytics.CheckAlertsNow());
  };
  at_minute(4);
  EXPECT_TRUE(fired.empty());
  at_minute(5);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].metric, "error_rate");
  EXPECT_NEAR(fired[0].value, 100.0 / 3, 1e-9);
  EXPECT_EQ(fired[0].severity, AlertSeverity::kHigh);
  at_minute(5);
  EXPECT_EQ(fired.size(), 1u) << "no repeat while still crossed";
  at_minute(6);
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].id, fired[0].id);
  EXPECT_EQ(analytics.ActiveAlerts().size(), 0u);
  at_minute(5);  // crossed again within the 10 minute cooldown
  EXPECT_EQ(fired.size(), 1u);
  EXPECT_EQ(analytics.AlertHistory().size(), 1u);

  // The monitoring thread does the same on its own.
  std::atomic<int> seen{0};
  AnalyticsService monitor(*service_, &clock_);
  ASSERT_OK(monitor.SetAlertThreshold("error_rate", 5, AlertDirection::kAbove,
                                      AlertSeverity::kHigh, 0));
  monitor.OnAlert([&](const AlertEvent&) { ++seen; });
  clock_.Set(kStart + 6 * 60000LL + 1000);
  ASSERT_OK(monitor.StartMonitoring(20));
  EXPECT_FALSE(monitor.StartMonitoring(20).ok()) << "already running";
  EXPECT_TRUE(testing::WaitFor([&] { return seen.load() == 1; }));
  monitor.StopMonitoring();
  EXPECT_FALSE(monitor.monitoring());
  EXPECT_EQ(seen.load(), 1) << "fired once, not once per interval";
  EXPECT_FALSE(monitor.StartMonitoring(1).ok()) << "interval too short";
}

TEST_F(AnalyticsTest, CachedAnalyticsHitsUntilTtlOrNewDataAndReportsHitRate) {
  SteadyTraffic(*service_, 10, -1);
  clock_.Set(kStart + 10 * 60000LL);
  AnalyticsService analytics(*service_, &clock_);
  ASSERT_OK(analytics.SetCacheTtl(30'000));
  const AnalyticsRange range{kStart, kStart + 20 * 60000LL};

  auto first = analytics.GetCachedAnalytics("week", range);  // miss: computed
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->usage.events, 180);
  clock_.Advance(29'000);
  auto second = analytics.GetCachedAnalytics("week", range);  // hit: the same answer
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->generated_at, first->generated_at) << "served from the cache";
  AnalyticsCacheStats st = analytics.GetCacheStats();
  EXPECT_EQ(st.hits, 1);
  EXPECT_EQ(st.misses, 1);
  EXPECT_EQ(st.entries, 1);
  EXPECT_DOUBLE_EQ(st.hit_rate_pct, 50.0);

  // Another range under the same key is not the cached answer.
  auto other = analytics.GetCachedAnalytics("week", AnalyticsRange{kStart, kStart + 59'999});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->usage.events, 18);
  EXPECT_EQ(analytics.GetCacheStats().misses, 2);

  // Expiry: older than the TTL is recomputed.
  ASSERT_TRUE(analytics.GetCachedAnalytics("week", range).ok());  // miss (range changed back)
  clock_.Advance(30'000);
  auto expired = analytics.GetCachedAnalytics("week", range);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(expired->generated_at, clock_.NowMs());
  st = analytics.GetCacheStats();
  EXPECT_EQ(st.expired, 1);
  EXPECT_EQ(st.misses, 4);

  // Invalidation: new data committed inside the TTL is seen at once.
  auto cached = analytics.GetCachedAnalytics("week", range);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(analytics.GetCacheStats().hits, 2);
  const std::vector<Event> late = {Make("late", EventType::kStart, kStart + 15 * 60000LL)};
  ASSERT_OK(service_->InsertEventBatch(late));
  ASSERT_OK(service_->FlushBuffers());
  auto fresh = analytics.GetCachedAnalytics("week", range);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->usage.events, 181) << "the new event is counted, not the cached 180";
  EXPECT_EQ(analytics.GetCacheStats().invalidated, 1);

  // The dashboard through the cache, ClearCache, and TTL 0 (no caching).
  auto d1 = analytics.GetCachedDashboardMetrics();
  auto d2 = analytics.GetCachedDashboardMetrics();
  ASSERT_TRUE(d1.ok() && d2.ok());
  EXPECT_EQ(d1->events, d2->events);
  EXPECT_EQ(analytics.GetCacheStats().entries, 2);
  const std::int64_t hits = analytics.GetCacheStats().hits;
  analytics.ClearCache();
  EXPECT_EQ(analytics.GetCacheStats().entries, 0);
  ASSERT_TRUE(analytics.GetCachedAnalytics("week", range).ok());
  EXPECT_EQ(analytics.GetCacheStats().hits, hits) << "cleared: computed again";
  ASSERT_OK(analytics.SetCacheTtl(0));
  ASSERT_TRUE(analytics.GetCachedAnalytics("week", range).ok());
  ASSERT_TRUE(analytics.GetCachedAnalytics("week", range).ok());
  EXPECT_EQ(analytics.GetCacheStats().hits, hits) << "TTL 0 caches nothing";
  EXPECT_FALSE(analytics.SetCacheTtl(-1).ok());
  EXPECT_FALSE(analytics.GetCachedAnalytics("bad", {kStart + 10, kStart}).ok());
}

// Alerts are persisted: a restart keeps the history, an open alert stays open (no second
// firing), cooldowns keep running; every firing and resolution reaches the webhook, a 503
// retried.
TEST_F(AnalyticsTest, AlertHistorySurvivesRestartsAndEveryTransitionReachesTheWebhook) {
  testing::TestCollector hook(dir_.File("hook"));
  ASSERT_TRUE(hook.Start()) << hook.error();
  hook.Script({{503}});  // the first POST fails once, then 200s
  ASSERT_OK(service_->Shutdown());
  TelemetryConfig cfg = testing::TestConfig(db_);
  cfg.local_store.session_timeout_ms = 365LL * 24 * 3600 * 1000;
  cfg.analytics.webhook_url = hook.url();
  cfg.analytics.webhook_backoff_base_ms = 10;
  cfg.analytics.webhook_backoff_max_ms = 50;
  auto restart = [&] {
    if (service_) ASSERT_OK(service_->Shutdown());
    service_ = std::make_unique<TelemetryService>(cfg, &clock_);
    ASSERT_OK(service_->Initialize());
  };
  restart();
  SteadyTraffic(*service_, 30, 5);  // minute 5: 1/3 errors
  std::vector<Event> more;
  for (int k = 0; k < 6; ++k) {  // minute 20: 6 more errors
    more.push_back(Make("late-" + std::to_string(k), EventType::kError,
                        kStart + 20 * 60000LL + k * 1000));
  }
  ASSERT_OK(service_->InsertEventBatch(more));
  ASSERT_OK(service_->FlushBuffers());
  auto at_minute = [&](AnalyticsService& a, int m) {
    clock_.Set(kStart + (m + 1) * 60000LL + 1000);
    ASSERT_OK(a.CheckAlertsNow());
  };
  std::vector<AlertEvent> fired, resolved;
  auto open = [&] {
    auto a = std::make_unique<AnalyticsService>(*service_, &clock_);
    EXPECT_OK(a->SetAlertThreshold("error_rate", 5, AlertDirection::kAbove, AlertSeverity::kHigh,
                                   10 * 60000));
    a->OnAlert([&](const AlertEvent& e) { fired.push_back(e); });
    a->OnResolved([&](const AlertEvent& e) { resolved.push_back(e); });
    return a;
  };

  auto first = open();
  at_minute(*first, 5);
  ASSERT_EQ(fired.size(), 1u);
  const std::int64_t id = fired[0].id;
  EXPECT_EQ(id, QueryInt(db_, "SELECT max(id) FROM telemetry_alerts")) << "the stored id";
  ASSERT_TRUE(first->WaitForAlertWebhook(10000));
  first.reset();
  restart();

  auto second = open();
  ASSERT_EQ(second->ActiveAlerts().size(), 1u) << "still open after the restart";
  EXPECT_EQ(second->ActiveAlerts()[0].id, id);
  at_minute(*second, 5);
  EXPECT_EQ(fired.size(), 1u) << "not fired again: it is the same open alert";
  at_minute(*second, 6);
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].id, id);
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM telemetry_alerts WHERE resolved_at IS NOT NULL"),
            1);
  at_minute(*second, 5);
  EXPECT_EQ(fired.size(), 1u) << "crossed again within the cooldown";
  ASSERT_TRUE(second->WaitForAlertWebhook(10000));
  second.reset();
  restart();

  auto third = open();
  ASSERT_EQ(third->AlertHistory().size(), 1u);
  EXPECT_EQ(third->AlertHistory()[0].id, id);
  EXPECT_TRUE(third->AlertHistory()[0].resolved_at_ms.has_value());
  EXPECT_TRUE(third->ActiveAlerts().empty());
  at_minute(*third, 20);  // 15 minutes after the last firing: the cooldown is over
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_GT(fired[1].id, id);
  EXPECT_EQ(third->AlertHistory().size(), 2u);
  ASSERT_TRUE(third->WaitForAlertWebhook(10000));
  const auto stats = third->GetAlertWebhookStats();
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->delivered, 1);

  // 503, then the same firing again (200), the resolution, the second firing.
  const std::vector<testing::CollectorRequest> reqs = hook.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].status, 503);
  EXPECT_EQ(reqs[0].body, reqs[1].body) << "retried with the same body";
  EXPECT_EQ(reqs[1].headers.at("content-type"), "application/json");
  EXPECT_NE(reqs[1].body.find("\"type\":\"alert\""), std::string::npos) << reqs[1].body;
  EXPECT_NE(reqs[1].body.find("\"id\":" + std::to_string(id) + ","), std::string::npos);
  EXPECT_NE(reqs[1].body.find("\"metric\":\"error_rate\""), std::string::npos);
  EXPECT_NE(reqs[1].body.find("\"resolvedAt\":null"), std::string::npos);
  EXPECT_NE(reqs[2].body.find("\"type\":\"resolved\""), std::string::npos) << reqs[2].body;
  EXPECT_NE(reqs[2].body.find("\"id\":" + std::to_string(id) + ","), std::string::npos);
  EXPECT_NE(reqs[3].body.find("\"id\":" + std::to_string(fired[1].id) + ","),
            std::string::npos);
  hook.Stop();
}

TEST(AlertWebhook, RetriesConnectionErrorsAndServerErrorsButNotClientErrors) {
  TempDir dir;
  testing::TestCollector hook(dir.File("hook"));
  ASSERT_TRUE(hook.Start()) << hook.error();
  analytics::WebhookOptions o;
  o.url = hook.url();
  o.max_attempts = 3;
  o.backoff_base_ms = 5;
  o.backoff_max_ms = 20;
  {
    hook.Script({{500}, {502}, {500}, {400}});
    auto w = analytics::AlertWebhook::Start(o);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    (*w)->Enqueue("{\"n\":1}");  // 500, 502, 500: out of attempts
    (*w)->Enqueue("{\"n\":2}");  // 400: not retried
    ASSERT_TRUE((*w)->WaitIdle(10000));
    const analytics::WebhookStats st = (*w)->stats();
    EXPECT_EQ(st.failed, 2);
    EXPECT_EQ(st.delivered, 0);
    EXPECT_EQ(st.retries, 2);
    EXPECT_EQ(st.last_error, "HTTP 400");
    EXPECT_EQ(hook.request_count(), 4u);
  }
  hook.Stop();  // nothing listens: connection refused, retried, then given up
  auto w = analytics::AlertWebhook::Start(o);
  ASSERT_TRUE(w.ok());
  (*w)->Enqueue("{}");
  ASSERT_TRUE((*w)->WaitIdle(10000));
  EXPECT_EQ((*w)->stats().failed, 1);
  EXPECT_EQ((*w)->stats().retries, 2);
  o.url = "ftp://example";
  EXPECT_FALSE(analytics::AlertWebhook::Start(o).ok());
}

// Sessions spread over nine days at uneven times (one every 37 minutes, 3 stream events, some
// failing, a few left to time out): long ranges come from day and hour rollups.
void SpreadOverDays(TelemetryService& s, std::int64_t start) {
  std::vector<Event> batch;
  const char* agents[] = {"claude", "gemini", "codex"};
  for (int i = 0; i < 9 * 24 * 60 / 37; ++i) {
    const std::int64_t t = start + i * 37LL * 60000 + (i * 7919) % 50000;
    const std::string id = "d" + std::to_string(i);
    Event e;
    e.session_id = id;
    e.agent_type = agents[i % 3];
    if (i % 4 == 0) e.mode = "chat";
    e.event_type = EventType::kStart;
    e.timestamp = t;
    batch.push_back(e);
    for (int k = 0; k < 3; ++k) {
      e.event_type = EventType::kStream;
      e.stream_data = "x";
      e.timestamp = t + 500 + (i * 131 + k * 977) % 4000 + k * 4000;  // increasing
      batch.push_back(e);
    }
    if (i % 29 == 5) continue;  // stays active
    e.event_type = i % 5 == 0 ? EventType::kError : EventType::kEnd;
    e.timestamp = t + 15000 + (i * 613) % 90000;
    batch.push_back(e);
  }
  ASSERT_OK(s.InsertEventBatch(batch));
  ASSERT_OK(s.FlushBuffers());
}

// Every hour and day rollup row equals the merge of its minute rows.
void ExpectPeriodsMatchMinutes(store::Store& st) {
  auto minutes = st.ReadMinuteRollups(INT64_MIN / 2, INT64_MAX / 2);
  ASSERT_TRUE(minutes.ok());
  for (std::int64_t period : {store::kHourMs, store::kDayMs}) {
    std::map<store::MinuteKey, store::MinuteCounts> want;
    for (const store::MinuteRow& r : *minutes) {
      store::MinuteKey k = r.key;
      k.minute = store::PeriodOf(k.minute, period);
      want[k].Merge(r.counts);
    }
    auto got = st.ReadPeriodRollups(period, INT64_MIN / 2, INT64_MAX / 2);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    std::size_t nonzero = 0;
    for (const auto& [k, c] : want) nonzero += c.events != 0 || c.start_events != 0;
    ASSERT_GE(got->size(), nonzero) << "period " << period;
    for (const store::MinuteRow& r : *got) {
      SCOPED_TRACE("period " + std::to_string(period) + " at " + std::to_string(r.key.minute) +
                   " " + r.key.agent_type + "/" + r.key.mode);
      const store::MinuteCounts& w = want[r.key];
      EXPECT_EQ(r.counts.events, w.events);
      EXPECT_EQ(r.counts.error_events, w.error_events);
      EXPECT_EQ(r.counts.start_events, w.start_events);
      EXPECT_EQ(r.counts.sessions_active, w.sessions_active);
      EXPECT_EQ(r.counts.sessions_completed, w.sessions_completed);
      EXPECT_EQ(r.counts.sessions_failed, w.sessions_failed);
      EXPECT_EQ(r.counts.sessions_timeout, w.sessions_timeout);
      EXPECT_EQ(r.counts.duration.count, w.duration.count);
      EXPECT_EQ(r.counts.duration.sum_ms, w.duration.sum_ms);
      EXPECT_EQ(r.counts.response.sum_ms, w.response.sum_ms);
      EXPECT_EQ(r.counts.gap.sum_ms, w.gap.sum_ms);
      for (double q : {0.0, 0.5, 0.99, 1.0}) {
        EXPECT_EQ(r.counts.duration.sketch.Quantile(q), w.duration.sketch.Quantile(q)) << q;
        EXPECT_EQ(r.counts.gap.sketch.Quantile(q), w.gap.sketch.Quantile(q)) << q;
      }
    }
  }
}

TEST_F(AnalyticsTest, LongRangesFromHourAndDayRollupsEqualTheRawEvents) {
  ASSERT_OK(service_->Shutdown());
  TelemetryConfig cfg = testing::TestConfig(db_);
  cfg.local_store.session_timeout_ms = 3'600'000;
  cfg.local_store.timeout_check_interval_ms = 20;
  service_ = std::make_unique<TelemetryService>(cfg, &clock_);
  ASSERT_OK(service_->Initialize());
  SpreadOverDays(*service_, kStart + 13 * 60000 + 4321);
  clock_.Set(kStart + 10LL * 86'400'000);  // the sweep times out the sessions left active
  ASSERT_TRUE(testing::WaitFor([&] {
    return QueryInt(db_, "SELECT count(*) FROM telemetry_sessions WHERE status='timeout'") > 0;
  }));
  auto store = service::ServiceInternals::StoreOf(*service_);
  ASSERT_TRUE(store.ok());
  ExpectPeriodsMatchMinutes(**store);

  AnalyticsService analytics(*service_, &clock_);
  const std::int64_t day = 86'400'000;
  const std::vector<std::pair<std::int64_t, std::int64_t>> ranges = {
      {kStart, kStart + 9 * day},                                  // days
      {kStart + day + 13 * 3'600'000 + 7 * 60000 + 5, kStart + 7 * day + 5 * 3'600'000 + 3 * 60000},
      {kStart + 2 * 3'600'000 + 59 * 60000, kStart + 4 * 3'600'000 + 1},  // hours and edges
      {kStart + 5 * 3'600'000 + 10 * 60000, kStart + 5 * 3'600'000 + 50 * 60000},  // minutes
      {kStart + 3 * day - 1, kStart + 3 * day}};
  for (const auto& [from, to] : ranges) {
    SCOPED_TRACE(std::to_string(from - kStart) + ".." + std::to_string(to - kStart));
    auto r = analytics.GetAnalytics({from, to});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    // The rollups count whole minutes: the range's minutes, both ends included.
    const std::string ev = " FROM telemetry_events WHERE timestamp / 60000 BETWEEN " +
                           std::to_string(from / 60000) + " AND " + std::to_string(to / 60000);
    const std::string ss = " FROM telemetry_sessions WHERE start_time / 60000 BETWEEN " +
                           std::to_string(from / 60000) + " AND " + std::to_string(to / 60000);
    EXPECT_EQ(r->usage.events, QueryInt(db_, "SELECT count(*)" + ev));
    EXPECT_EQ(r->usage.events_by_type.at("error"),
              QueryInt(db_, "SELECT count(*)" + ev + " AND event_type = 'error'"));
    for (const char* agent : {"claude", "gemini", "codex"}) {
      const std::int64_t n = QueryInt(db_, "SELECT count(*)" + ev + " AND event_type = 'start' "
                                      "AND agent_type = '" + agent + "'");
      EXPECT_EQ(r->usage.sessions_by_agent.count(agent) ? r->usage.sessions_by_agent.at(agent) : 0,
                n) << agent;
    }
    if (r->usage.events > 0) {
      EXPECT_EQ(r->usage.peak_hour_events,
                QueryInt(db_, "SELECT count(*)" + ev + " GROUP BY (timestamp / 3600000) % 24 "
                              "ORDER BY 1 DESC LIMIT 1"));
    }
    EXPECT_EQ(r->quality.failed, QueryInt(db_, "SELECT count(*)" + ss + " AND status='failed'"));
    EXPECT_EQ(r->quality.timed_out,
              QueryInt(db_, "SELECT count(*)" + ss + " AND status='timeout'"));
    const std::vector<std::int64_t> durations = QueryInts(
        db_, "SELECT duration" + ss + " AND status <> 'active' AND duration IS NOT NULL");
    if (!durations.empty()) ExpectQuantiles(r->quality.session_duration_ms, durations, "duration");
    const std::vector<std::int64_t> gaps = QueryInts(
        db_, "SELECT gap FROM (SELECT timestamp, timestamp - lag(timestamp) OVER (PARTITION BY "
             "session_id ORDER BY timestamp, id) AS gap FROM telemetry_events WHERE event_type = "
             "'stream') WHERE gap IS NOT NULL AND timestamp / 60000 BETWEEN " +
                 std::to_string(from / 60000) + " AND " + std::to_string(to / 60000));
    if (!gaps.empty()) ExpectQuantiles(r->performance.stream_gap_ms, gaps, "gap");
  }

  // Retention takes whole sessions out of every level.
  ASSERT_OK(service_->ClearOldData(5).status());
  ExpectPeriodsMatchMinutes(**store);
  const std::int64_t hours = QueryInt(db_, "SELECT count(*) FROM telemetry_period_rollups");
  ASSERT_GT(hours, 0);

  // A database from before the hour and day levels (schema 1.4.0) gets them when opened.
  ASSERT_OK(service_->Shutdown());
  service_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "DELETE FROM telemetry_period_rollups", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  service_ = std::make_unique<TelemetryService>(cfg, &clock_);
  ASSERT_OK(service_->Initialize());
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM telemetry_period_rollups"), hours);
  store = service::ServiceInternals::StoreOf(*service_);
  ASSERT_TRUE(store.ok());
  ExpectPeriodsMatchMinutes(**store);
}

}  // namespace
}  // namespace vibekit
