// Analytics answer times on a database of N events: GetDashboardMetrics (last hour) and
// GetAnalytics (everything), p50/p95 over repeated calls, plus the rollup size. JSON on stdout.
//   vibekit_analytics_bench --events 1000000 [--dir D] [--runs 50] [--reuse]
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <vector>

#include "store/minute_rollup.h"
#include "store/session_merge.h"
#include "store/sqlite/database.h"
#include "store/sqlite/minute_rollup_sql.h"
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

// The bulk path for very large N: the workload's events go straight into the minute, hour and
// day rollups (the same accumulator and writer as ingest, sessions merged by the same rules),
// without storing the events themselves. Analytics answers read only the rollups, so their cost
// is what it would be with the events stored; the fill takes minutes instead of an hour.
// Returns the first event's timestamp (the report's start) or -1 on failure.
std::int64_t BulkRollups(const std::string& db, std::int64_t events) {
  namespace st = vibekit::store;
  vibekit::store::sqlite::OpenOptions opts;
  auto database = vibekit::store::sqlite::Database::Open(db, opts);
  if (!database.ok()) return -1;
  auto writer = st::sqlite::MinuteRollupWriter::Prepare(**database);
  if (!writer.ok()) return -1;
  vibekit::workload::WorkloadOptions wo;
  wo.total_events = events;
  vibekit::workload::Generator gen(wo);
  struct State {
    std::optional<vibekit::Session> row;
    std::optional<std::int64_t> last_stream;
  };
  std::map<std::string, State> sessions;
  std::vector<vibekit::Event> chunk;
  std::int64_t first = -1;
  auto flush = [&]() -> bool {
    std::map<std::string, std::vector<const vibekit::Event*>> by_session;
    for (const vibekit::Event& e : chunk) by_session[e.session_id].push_back(&e);
    st::MinuteRollupDelta delta;
    for (auto& [id, list] : by_session) {
      State& s = sessions[id];
      const vibekit::Session merged =
          st::MergeSessionEvents(s.row, list, list.back()->timestamp);
      delta.AddSessionEvents(st::SessionBefore{s.row, s.last_stream}, list, merged);
      for (const vibekit::Event* e : list) {
        if (e->event_type == vibekit::EventType::kStream) s.last_stream = e->timestamp;
      }
      s.row = merged;
    }
    chunk.clear();
    vibekit::store::sqlite::Transaction txn(**database);
    return txn.Begin().ok() && writer->Apply(delta).ok() && txn.Commit().ok();
  };
  vibekit::Event e;
  while (gen.Next(&e)) {
    if (first < 0) first = e.timestamp;
    chunk.push_back(e);
    if (chunk.size() == 200000 && !flush()) return -1;
  }
  if (!chunk.empty() && !flush()) return -1;
  return first;
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
  bool bulk = false;
  app.add_flag("--bulk", bulk,
               "Fill only the rollups from the workload (no event rows): for 10M events");
  CLI11_PARSE(app, argc, argv);

  std::filesystem::create_directories(dir);
  const std::string db =
      dir + "/analytics-" + std::to_string(events) + (bulk ? "-bulk" : "") + ".db";
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
  std::optional<std::int64_t> first_event;
  if (bulk) {
    // Schema first (the service creates it), then the rollups with the service closed.
    if (!service.Shutdown().ok()) return 1;
    std::int64_t first = wo.start_time_ms;
    if (!reuse || !exists) first = BulkRollups(db, events);
    if (first < 0) {
      std::fprintf(stderr, "bulk fill failed\n");
      return 1;
    }
    first_event = first;
  }
  vibekit::TelemetryService reopened(cfg, &clock);
  if (bulk && !reopened.Initialize().ok()) return 1;
  vibekit::TelemetryService& svc = bulk ? reopened : service;
  if (!bulk && (!reuse || !exists)) {
    vibekit::workload::Generator gen(wo);
    std::vector<vibekit::Event> batch;
    vibekit::Event e;
    while (gen.Next(&e)) {
      last = std::max(last, e.timestamp);
      batch.push_back(e);
      if (batch.size() == 5000) {
        clock.Set(last);
        auto st = svc.InsertEventBatch(batch);
        if (st.code() == vibekit::StatusCode::kBusy) {  // queue bound: let the writer catch up
          if (auto f = svc.FlushBuffers(); !f.ok()) st = f;
          else st = svc.InsertEventBatch(batch);
        }
        if (!st.ok()) {
          std::fprintf(stderr, "insert: %s\n", st.ToString().c_str());
          return 1;
        }
        batch.clear();
      }
    }
    if (!batch.empty() && !svc.InsertEventBatch(batch).ok()) return 1;
    if (!svc.FlushBuffers().ok()) return 1;
  }
  auto stats = svc.GetAggregateStats();
  if (!stats.ok()) return 1;
  last = stats->total.max_timestamp.value_or(last);
  if (bulk) {
    auto rows = svc.GetAggregateStats();  // no event rows: the newest rollup minute instead
    (void)rows;
    vibekit::store::sqlite::OpenOptions ro;
    auto d = vibekit::store::sqlite::Database::Open(db, ro);
    if (!d.ok()) return 1;
    auto newest = (*d)->QueryInt("SELECT max(minute) FROM telemetry_minute_rollups");
    if (!newest.ok()) return 1;
    last = *newest + 59'999;
  }
  clock.Set(last + 30'000);
  vibekit::AnalyticsService analytics(svc, &clock);
  bool ok = true;
  auto dash = Time(runs, [&] { ok = ok && analytics.GetDashboardMetrics().ok(); });
  // Everything: from the first event (the oldest there is) to now.
  const vibekit::AnalyticsRange everything{first_event, std::nullopt};
  auto full = Time(runs, [&] { ok = ok && analytics.GetAnalytics(everything).ok(); });
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
  const auto report = analytics.GetAnalytics(everything);
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
  return svc.Shutdown().ok() ? 0 : 1;
}
