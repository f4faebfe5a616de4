// `vibekit telemetry analytics report|anomalies|predict`: the AnalyticsService on the command
// line (docs/ANALYTICS.md defines every figure).
#include <boost/json.hpp>

#include <cstdio>

#include "cli/analytics_live.h"
#include "cli/commands.h"
#include "views/time_arg.h"
#include "vibekit/clock.h"
#include "vibekit/analytics.h"
#include "views/json_views.h"

namespace vibekit::cli {
namespace json = boost::json;

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
      PrintObject(views::AnalyticsReportToJson(*r), MakeOutput(global), stdout);
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
        json::object row = views::AnomalyToJsonObject(x);
        row["peak"] = FormatTimestamp(x.peak_ms);  // readable in a table; the API keeps ms
        records.rows.push_back(std::move(row));
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
      const json::object o = views::PredictionToJsonObject(p->front());
      PrintObject(o, MakeOutput(global), stdout);
      return kExitOk;
    };
  });

  RegisterAnalyticsLiveCommands(*analytics, global, run);
}

}  // namespace vibekit::cli
