// `vibekit telemetry analytics report|anomalies|predict`: the AnalyticsService on the command
// line (docs/ANALYTICS.md defines every figure).
#include <boost/json.hpp>

#include <cstdio>

#include "cli/analytics_live.h"
#include "cli/commands.h"
#include "cli/time_arg.h"
#include "vibekit/clock.h"
#include "vibekit/analytics.h"

namespace vibekit::cli {
namespace {
namespace json = boost::json;

json::value Opt(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::object Quantiles(const QuantileSummary& q) {
  return {{"count", q.count}, {"mean", Opt(q.mean)}, {"p50", Opt(q.p50)},
          {"p90", Opt(q.p90)}, {"p95", Opt(q.p95)}, {"p99", Opt(q.p99)}};
}

json::object Counts(const std::map<std::string, std::int64_t>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k.empty() ? "(none)" : k] = v;
  return o;
}

json::object AnalyticsReportToJson(const AnalyticsReport& r) {
  json::object o;
  o["from"] = r.from_ms;
  o["to"] = r.to_ms;
  o["generatedAt"] = r.generated_at;
  o["performance"] = {{"responseTimeMs", Quantiles(r.performance.response_time_ms)},
                      {"streamGapMs", Quantiles(r.performance.stream_gap_ms)},
                      {"throughputPerMin", r.performance.throughput_per_min},
                      {"errorRatePct", r.performance.error_rate_pct}};
  o["usage"] = {
      {"events", r.usage.events},
      {"sessionsStarted", r.usage.sessions_started},
      {"activeSessions", r.usage.active_sessions},
      {"topAgent", r.usage.top_agent ? json::value(*r.usage.top_agent) : json::value(nullptr)},
      {"peakHourUtc",
       r.usage.peak_hour_utc ? json::value(*r.usage.peak_hour_utc) : json::value(nullptr)},
      {"peakHourEvents", r.usage.peak_hour_events},
      {"sessionsByAgent", Counts(r.usage.sessions_by_agent)},
      {"sessionsByMode", Counts(r.usage.sessions_by_mode)},
      {"eventsByType", Counts(r.usage.events_by_type)}};
  o["quality"] = {{"sessionDurationMs", Quantiles(r.quality.session_duration_ms)},
                  {"active", r.quality.active},
                  {"completed", r.quality.completed},
                  {"failed", r.quality.failed},
                  {"timedOut", r.quality.timed_out},
                  {"successRatePct", Opt(r.quality.success_rate_pct)},
                  {"inputTokens", r.quality.input_tokens},
                  {"outputTokens", r.quality.output_tokens},
                  {"costUsd", r.quality.cost_usd}};
  return o;
}

}  // namespace

void RegisterAnalyticsCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run) {
  CLI::App* analytics = telemetry.add_subcommand(
      "analytics", "Performance, usage and quality figures, anomalies and forecasts");
  analytics->require_subcommand(1);
  analytics->footer("Figures are defined in docs/ANALYTICS.md.");

  struct ReportArgs {
    std::string since, until;
  };
  auto report = std::make_shared<ReportArgs>();
  CLI::App* rep = analytics->add_subcommand("report", "The analytics report over a time range");
  rep->add_option("--since", report->since,
                  "From: 30m, 24h, 7d, ISO 8601 or epoch ms (default: the oldest event)");
  rep->add_option("--until", report->until, "Until (inclusive; default: now)");
  rep->footer("Examples:\n  vibekit telemetry analytics report --since 7d --format json");
  rep->callback([&global, &run, report] {
    run = [&global, report]() -> int {
      std::optional<std::int64_t> from;
      std::optional<std::int64_t> to;
      if (!ParseTimeFlag("--since", report->since, &from)) return kExitUsage;
      if (!ParseTimeFlag("--until", report->until, &to)) return kExitUsage;
      if (from && to && *from > *to) return UsageError("--since is after --until");
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      Result<AnalyticsReport> r = [&] {
        AnalyticsService a(*service);
        return a.GetAnalytics({from, to});
      }();
      (void)service->Shutdown();
      if (!r.ok()) return Fail("cannot compute analytics: " + r.status().message());
      PrintObject(AnalyticsReportToJson(*r), MakeOutput(global), stdout);
      return kExitOk;
    };
  });

  struct AnomalyArgs {
    std::vector<std::string> metrics;
    std::string lookback = "24h";
  };
  auto anomaly = std::make_shared<AnomalyArgs>();
  CLI::App* an = analytics->add_subcommand("anomalies", "Anomalies in the per-minute metrics");
  an->add_option("--metrics", anomaly->metrics,
                 "Metrics (default: throughput,error_rate,response_time,session_duration,"
                 "token_usage)")
      ->delimiter(',');
  an->add_option("--lookback", anomaly->lookback, "How far back: 30m, 24h, 7d (default 24h)");
  an->footer("Examples:\n  vibekit telemetry analytics anomalies --metrics error_rate --lookback 7d");
  an->callback([&global, &run, anomaly] {
    run = [&global, anomaly]() -> int {
      std::optional<std::int64_t> since;
      if (!ParseTimeFlag("--lookback", anomaly->lookback, &since)) return kExitUsage;
      const std::int64_t now = SystemClock().NowMs();
      if (!since || *since >= now) return UsageError("--lookback must be a duration such as 24h");
      AnomalyOptions options;
      options.lookback_minutes = std::max<std::int64_t>(1, (now - *since) / 60000);
      std::vector<std::string> metrics = anomaly->metrics;
      if (metrics.empty()) {
        metrics = {"throughput", "error_rate", "response_time", "session_duration",
                   "token_usage"};
      }
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      Result<std::vector<Anomaly>> found = [&] {
        AnalyticsService a(*service);
        return a.DetectAnomalies(metrics, options);
      }();
      (void)service->Shutdown();
      if (!found.ok()) {
        if (found.status().IsValidationError()) return UsageError(found.status().message());
        return Fail("cannot detect anomalies: " + found.status().message());
      }
      Records records;
      records.columns = {"peak", "metric", "kind", "severity", "observed", "expected",
                         "confidencePct", "description"};
      for (const Anomaly& x : *found) {
        records.rows.push_back({{"peak", FormatTimestamp(x.peak_ms)},
                                {"metric", x.metric},
                                {"kind", x.kind},
                                {"severity", x.severity},
                                {"observed", x.observed},
                                {"expected", x.expected},
                                {"confidencePct", x.confidence_pct},
                                {"zScore", x.z_score},
                                {"windowStart", x.window_start_ms},
                                {"windowEnd", x.window_end_ms},
                                {"title", x.title},
                                {"description", x.description}});
      }
      Print(records, MakeOutput(global), stdout);
      return kExitOk;
    };
  });

  struct PredictArgs {
    std::string metric = "throughput";
    int minutes = 60;
  };
  auto predict = std::make_shared<PredictArgs>();
  CLI::App* pr = analytics->add_subcommand("predict", "Forecast a metric minute by minute");
  pr->add_option("--metric", predict->metric, "Metric to forecast (default throughput)");
  pr->add_option("--minutes", predict->minutes, "Minutes ahead (1-1440, default 60)")
      ->check(CLI::Range(1, 1440));
  pr->footer("Examples:\n  vibekit telemetry analytics predict --metric error_rate --minutes 30");
  pr->callback([&global, &run, predict] {
    run = [&global, predict]() -> int {
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      Result<std::vector<Prediction>> p = [&] {
        AnalyticsService a(*service);
        return a.GeneratePredictions({predict->metric}, predict->minutes);
      }();
      (void)service->Shutdown();
      if (!p.ok()) {
        if (p.status().IsValidationError()) return UsageError(p.status().message());
        return Fail("cannot forecast: " + p.status().message());
      }
      const Prediction& f = p->front();
      json::array points;
      for (const PredictionPoint& pt : f.points) {
        points.push_back({{"minute", pt.minute}, {"value", pt.value}, {"lower", pt.lower},
                          {"upper", pt.upper}});
      }
      json::object o{{"metric", f.metric},
                     {"method", f.method},
                     {"backtestMae", Opt(f.backtest_mae)},
                     {"naiveMae", Opt(f.naive_mae)},
                     {"points", std::move(points)}};
      PrintObject(o, MakeOutput(global), stdout);
      return kExitOk;
    };
  });

  RegisterAnalyticsLiveCommands(*analytics, global, run);
}

}  // namespace vibekit::cli
