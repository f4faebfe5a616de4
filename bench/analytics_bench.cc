// Analytics answer times on a database of N events: GetDashboardMetrics (last hour) and
// GetAnalytics (everything), p50/p95 over repeated calls, plus the rollup size. JSON on stdout.
//   vibekit_analytics_bench --events 1000000 [--dir D] [--runs 50] [--reuse]
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "testing_clock.h"
#include "vibekit/analytics.h"
#include "vibekit/telemetry_service.h"
#include "workload/workload.h"

namespace {

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

template <typename F>
std::pair<double, double> Time(int runs, F&& f) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                     .count());
  }
  return {Percentile(ms, 0.5), Percentile(ms, 0.95)};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Analytics answer times (JSON)"};
  std::int64_t events = 1'000'000;
  std::string dir = "/tmp/vibekit-analytics-bench";
  int runs = 50;
  bool reuse = false;
  app.add_option("--events", events, "Events in the workload");
  app.add_option("--dir", dir, "Where the database goes");
  app.add_option("--runs", runs, "Calls per figure");
  app.add_flag("--reuse", reuse, "Keep an existing database of that size");
  CLI11_PARSE(app, argc, argv);

  std::filesystem::create_directories(dir);
  const std::string db = dir + "/analytics-" + std::to_string(events) + ".db";
  vibekit::TelemetryConfig cfg;
  cfg.apply_environment = false;
  cfg.local_store.db_path = db;
  cfg.local_store.session_timeout_ms = 365LL * 24 * 3600 * 1000;
  cfg.local_store.max_size_mb = 0;
  const bool exists = std::filesystem::exists(db);
  if (!reuse || !exists) {
    std::filesystem::remove(db);
    std::filesystem::remove(db + "-wal");
    std::filesystem::remove(db + "-shm");
  }
  vibekit::bench::ManualClock clock(0);
  vibekit::TelemetryService service(cfg, &clock);
  if (auto st = service.Initialize(); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  vibekit::workload::WorkloadOptions wo;
  wo.total_events = events;
  std::int64_t last = wo.start_time_ms;
  if (!reuse || !exists) {
    vibekit::workload::Generator gen(wo);
    std::vector<vibekit::Event> batch;
    vibekit::Event e;
    while (gen.Next(&e)) {
      last = std::max(last, e.timestamp);
      batch.push_back(e);
      if (batch.size() == 5000) {
        clock.Set(last);
        if (auto st = service.InsertEventBatch(batch); !st.ok()) return 1;
        batch.clear();
      }
    }
    if (!batch.empty() && !service.InsertEventBatch(batch).ok()) return 1;
    if (!service.FlushBuffers().ok()) return 1;
  }
  auto stats = service.GetAggregateStats();
  if (!stats.ok()) return 1;
  last = stats->total.max_timestamp.value_or(last);
  clock.Set(last + 30'000);
  vibekit::AnalyticsService analytics(service, &clock);
  bool ok = true;
  auto dash = Time(runs, [&] { ok = ok && analytics.GetDashboardMetrics().ok(); });
  auto full = Time(runs, [&] { ok = ok && analytics.GetAnalytics().ok(); });
  // A fixed 90-day window ending now (most of it before the first event) and a 7-day one.
  const std::int64_t now = clock.NowMs();
  auto days90 = Time(runs, [&] {
    ok = ok && analytics.GetAnalytics({now - 90LL * 86'400'000, now}).ok();
  });
  auto days7 = Time(runs, [&] {
    ok = ok && analytics.GetAnalytics({now - 7LL * 86'400'000 + 123'456, now}).ok();
  });
  auto anomalies = Time(std::max(1, runs / 10),
                        [&] { ok = ok && analytics.DetectAnomalies({"throughput", "error_rate"}).ok(); });
  const auto report = analytics.GetAnalytics();
  if (!ok || !report.ok()) return 1;
  const double span_min = static_cast<double>(report->to_ms - report->from_ms) / 60000.0;
  std::printf(
      "{\"events\": %lld, \"span_minutes\": %.0f,\n"
      " \"get_dashboard_metrics\": {\"p50_ms\": %.3f, \"p95_ms\": %.3f},\n"
      " \"get_analytics\": {\"p50_ms\": %.3f, \"p95_ms\": %.3f},\n"
      " \"get_analytics_last_7d\": {\"p50_ms\": %.3f, \"p95_ms\": %.3f},\n"
      " \"get_analytics_last_90d\": {\"p50_ms\": %.3f, \"p95_ms\": %.3f},\n"
      " \"detect_anomalies_2_metrics_24h\": {\"p50_ms\": %.3f, \"p95_ms\": %.3f}}\n",
      static_cast<long long>(report->usage.events), span_min, dash.first, dash.second,
      full.first, full.second, days7.first, days7.second, days90.first, days90.second,
      anomalies.first, anomalies.second);
  return service.Shutdown().ok() ? 0 : 1;
}
