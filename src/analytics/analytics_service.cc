#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <iterator>
#include <mutex>
#include <thread>
#include <variant>

#include <fmt/format.h>

#include "vibekit/analytics.h"
#include "vibekit/clock.h"

#include "analytics/alert_engine.h"
#include "analytics/alert_webhook.h"
#include "analytics/anomaly_detector.h"
#include "analytics/forecast.h"
#include "common/guard.h"
#include "common/json.h"
#include "common/log.h"
#include "common/sys.h"
#include "service/service_internal.h"
#include "store/minute_rollup.h"

namespace vibekit {

namespace {

using store::kMinuteMs;
using store::MinuteCounts;
using store::MinuteOf;
using store::MinuteRow;

using internal::Guard;  // common/guard.h

QuantileSummary Summarize(const store::LatencyAggregate& a) {
  QuantileSummary q;
  q.count = a.count;
  if (a.count == 0) return q;
  q.mean = static_cast<double>(a.sum_ms) / static_cast<double>(a.count);
  q.p50 = a.sketch.Quantile(0.50);
  q.p90 = a.sketch.Quantile(0.90);
  q.p95 = a.sketch.Quantile(0.95);
  q.p99 = a.sketch.Quantile(0.99);
  return q;
}

// The rows of each minute merged over agents and modes, for every minute of [from, to].
std::vector<MinuteCounts> PerMinute(const std::vector<MinuteRow>& rows, std::int64_t from,
                                    std::int64_t to) {
  const std::int64_t first = MinuteOf(from);
  const std::int64_t n = (MinuteOf(to) - first) / kMinuteMs + 1;
  std::vector<MinuteCounts> out(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)));
  for (const MinuteRow& r : rows) {
    const std::int64_t i = (r.key.minute - first) / kMinuteMs;
    if (i >= 0 && i < n) out[static_cast<std::size_t>(i)].Merge(r.counts);
  }
  return out;
}

std::optional<double> MetricValue(const std::string& metric, const MinuteCounts& c) {
  if (metric == "throughput") return static_cast<double>(c.events);
  if (metric == "sessions") return static_cast<double>(c.start_events);
  if (metric == "token_usage") return static_cast<double>(c.input_tokens + c.output_tokens);
  if (metric == "error_rate") {
    if (c.events == 0) return std::nullopt;
    return 100.0 * static_cast<double>(c.error_events) / static_cast<double>(c.events);
  }
  if (metric == "response_time") {
    if (c.response.count == 0) return std::nullopt;
    return static_cast<double>(c.response.sum_ms) / static_cast<double>(c.response.count);
  }
  if (metric == "session_duration") {
    if (c.duration.count == 0) return std::nullopt;
    return static_cast<double>(c.duration.sum_ms) / static_cast<double>(c.duration.count);
  }
  return std::nullopt;
}

Status CheckMetric(const std::string& metric) {
  const std::vector<std::string> names = AnalyticsMetricNames();
  if (std::find(names.begin(), names.end(), metric) != names.end()) return Status::Ok();
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  return Status::InvalidArgument("unknown metric \"" + metric + "\" (known: " + list + ")");
}

std::string Unit(const std::string& metric) {
  if (metric == "error_rate") return " %";
  if (metric == "response_time" || metric == "session_duration") return " ms";
  if (metric == "throughput") return " events/min";
  if (metric == "token_usage") return " tokens/min";
  return "";
}

AlertEvent ToPublic(const analytics::Alert& a) {
  AlertEvent e;
  e.id = a.id;
  e.metric = a.metric;
  e.value = a.value;
  e.threshold = a.threshold;
  e.direction = a.direction == analytics::ThresholdDirection::kAbove ? AlertDirection::kAbove
                                                                     : AlertDirection::kBelow;
  e.severity = static_cast<AlertSeverity>(static_cast<int>(a.severity));
  e.fired_at_ms = a.fired_at_ms;
  e.resolved_at_ms = a.resolved_at_ms;
  e.message = a.message;
  return e;
}

store::AlertRecord ToRecord(const analytics::Alert& a) {
  store::AlertRecord r;
  r.id = a.id;
  r.metric = a.metric;
  r.value = a.value;
  r.threshold = a.threshold;
  r.direction = std::string(analytics::ThresholdDirectionName(a.direction));
  r.severity = std::string(analytics::SeverityName(a.severity));
  r.message = a.message;
  r.fired_at = a.fired_at_ms;
  r.resolved_at = a.resolved_at_ms;
  r.resolved_value = a.resolved_value;
  return r;
}

analytics::Alert FromRecord(const store::AlertRecord& r) {
  analytics::Alert a;
  a.id = r.id;
  a.metric = r.metric;
  a.value = r.value;
  a.threshold = r.threshold;
  a.direction = r.direction == "below" ? analytics::ThresholdDirection::kBelow
                                       : analytics::ThresholdDirection::kAbove;
  a.severity = analytics::Severity::kMedium;
  for (auto s : {analytics::Severity::kLow, analytics::Severity::kMedium,
                 analytics::Severity::kHigh, analytics::Severity::kCritical}) {
    if (analytics::SeverityName(s) == r.severity) a.severity = s;
  }
  a.fired_at_ms = r.fired_at;
  a.resolved_at_ms = r.resolved_at;
  a.resolved_value = r.resolved_value;
  a.message = r.message;
  return a;
}

void AppendNumber(std::string& out, double v) {
  out += std::isfinite(v) ? fmt::format("{}", v) : std::string("null");
}

// The webhook body: {"type":"alert"|"resolved","source":"vibekit","alert":{...}} (camelCase).
std::string AlertJson(analytics::AlertEngine::Transition kind, const analytics::Alert& a) {
  std::string out = "{\"type\":";
  out += kind == analytics::AlertEngine::Transition::kFired ? "\"alert\"" : "\"resolved\"";
  out += ",\"source\":\"vibekit\",\"alert\":{\"id\":" + std::to_string(a.id) + ",\"metric\":";
  internal::AppendJsonString(out, a.metric);
  out += ",\"value\":";
  AppendNumber(out, a.value);
  out += ",\"threshold\":";
  AppendNumber(out, a.threshold);
  out += ",\"direction\":\"" + std::string(analytics::ThresholdDirectionName(a.direction)) + "\"";
  out += ",\"severity\":\"" + std::string(analytics::SeverityName(a.severity)) + "\"";
  out += ",\"firedAt\":" + std::to_string(a.fired_at_ms);
  out += ",\"resolvedAt\":" +
         (a.resolved_at_ms ? std::to_string(*a.resolved_at_ms) : std::string("null"));
  out += ",\"resolvedValue\":";
  if (a.resolved_value) {
    AppendNumber(out, *a.resolved_value);
  } else {
    out += "null";
  }
  out += ",\"message\":";
  internal::AppendJsonString(out, a.message);
  out += "}}";
  return out;
}

}  // namespace

std::vector<std::string> AnalyticsMetricNames() {
  return {"throughput",       "error_rate",  "response_time",
          "session_duration", "token_usage", "sessions"};
}

class AnalyticsService::Impl {
 public:
  Impl(TelemetryService& service, const Clock* clock)
      : service_(service), clock_(clock != nullptr ? *clock : SystemClock()) {
    const AnalyticsConfig& cfg = service_.config().analytics;
    if (!cfg.webhook_url.empty()) {
      analytics::WebhookOptions o;
      o.url = cfg.webhook_url;
      for (const auto& [k, v] : cfg.webhook_headers) o.headers.push_back(k + ": " + v);
      o.timeout_ms = cfg.webhook_timeout_ms;
      o.max_attempts = cfg.webhook_max_attempts;
      o.backoff_base_ms = cfg.webhook_backoff_base_ms;
      o.backoff_max_ms = cfg.webhook_backoff_max_ms;
      auto hook = analytics::AlertWebhook::Start(std::move(o));
      if (hook.ok()) {
        webhook_ = std::move(*hook);
      } else {
        internal::LogWarn("alert webhook disabled: " + hook.status().ToString());
      }
    }
    // The persisted history: open alerts stay open and cooldowns continue across restarts.
    auto store = Store();
    if (store.ok()) {
      auto history = (*store)->ReadAlerts(kRestoredAlerts);
      if (history.ok()) {
        std::vector<analytics::Alert> alerts;
        for (const store::AlertRecord& r : *history) alerts.push_back(FromRecord(r));
        engine_.Restore(std::move(alerts));
      } else {
        internal::LogWarn("alert history not read: " + history.status().ToString());
      }
    }
    engine_.SetRecorder([this](analytics::AlertEngine::Transition kind, const analytics::Alert& a) {
      return Record(kind, a);
    });
  }

  ~Impl() {
    StopMonitoring();
    engine_.SetRecorder(nullptr);
  }

  // Persists a transition (returns the stored id of a firing, 0 when it could not be stored)
  // and hands it to the webhook.
  std::int64_t Record(analytics::AlertEngine::Transition kind, const analytics::Alert& a) {
    std::int64_t stored = 0;
    auto store = Store();
    if (store.ok()) {
      if (kind == analytics::AlertEngine::Transition::kFired) {
        auto id = (*store)->InsertAlert(ToRecord(a));
        if (id.ok()) {
          stored = *id;
        } else {
          internal::LogWarn("alert not persisted: " + id.status().ToString());
        }
      } else {
        Status st = (*store)->ResolveAlert(a.id, a.resolved_at_ms.value_or(Now()),
                                           a.resolved_value.value_or(a.value));
        if (!st.ok()) internal::LogWarn("alert resolution not persisted: " + st.ToString());
      }
    }
    if (webhook_) {
      analytics::Alert sent = a;
      if (stored > 0) sent.id = stored;
      webhook_->Enqueue(AlertJson(kind, sent));
    }
    return stored;
  }

  std::optional<AlertWebhookStats> WebhookStatsNow() const {
    if (!webhook_) return std::nullopt;
    const analytics::WebhookStats w = webhook_->stats();
    return AlertWebhookStats{w.delivered, w.failed, w.retries, w.dropped, w.pending, w.last_error};
  }
  bool WaitForWebhook(std::int64_t timeout_ms) {
    return !webhook_ || webhook_->WaitIdle(timeout_ms);
  }

  Result<store::Store*> Store() { return service::ServiceInternals::StoreOf(service_); }
  std::int64_t Now() const { return clock_.NowMs(); }

  Result<std::vector<MinuteRow>> Rows(std::int64_t from, std::int64_t to) {
    VK_ASSIGN_OR_RETURN(store::Store * s, Store());
    return s->ReadMinuteRollups(MinuteOf(from), MinuteOf(to));
  }

  // The rows covering the minutes [from, to] (both included) at the coarsest levels that fit:
  // whole days from the day rollups, whole hours around them from the hour rollups, the minutes
  // at the edges. Each row's key.minute is the start of its bucket; `day_spans` lists the
  // [start, end) ranges answered by day rows (their hour of day is not in the row).
  struct RangeRows {
    std::vector<MinuteRow> rows;
    std::vector<std::pair<std::int64_t, std::int64_t>> day_spans;
  };
  Result<RangeRows> ReadRange(std::int64_t from, std::int64_t to) {
    VK_ASSIGN_OR_RETURN(store::Store * s, Store());
    RangeRows out;
    auto append = [&](std::vector<MinuteRow> rows) {
      out.rows.insert(out.rows.end(), std::make_move_iterator(rows.begin()),
                      std::make_move_iterator(rows.end()));
    };
    // [a, b) in minutes, split at whole periods of `period` (coarser first).
    std::function<Status(std::int64_t, std::int64_t, std::size_t)> split =
        [&](std::int64_t a, std::int64_t b, std::size_t level) -> Status {
      static constexpr std::int64_t kLevels[] = {store::kDayMs, store::kHourMs};
      if (a >= b) return Status::Ok();
      if (level == std::size(kLevels)) {
        VK_ASSIGN_OR_RETURN(std::vector<MinuteRow> rows, s->ReadMinuteRollups(a, b - kMinuteMs));
        append(std::move(rows));
        return Status::Ok();
      }
      const std::int64_t p = kLevels[level];
      const std::int64_t first = store::PeriodOf(a + p - 1, p);  // first whole period
      const std::int64_t end = store::PeriodOf(b, p);            // end of the last whole one
      if (first >= end) return split(a, b, level + 1);
      VK_ASSIGN_OR_RETURN(std::vector<MinuteRow> rows, s->ReadPeriodRollups(p, first, end - p));
      append(std::move(rows));
      if (p == store::kDayMs) out.day_spans.emplace_back(first, end);
      VK_RETURN_IF_ERROR(split(a, first, level + 1));
      return split(end, b, level + 1);
    };
    VK_RETURN_IF_ERROR(split(MinuteOf(from), MinuteOf(to) + kMinuteMs, 0));
    return out;
  }

  Result<AnalyticsReport> Analytics(const AnalyticsRange& range) {
    AnalyticsReport r;
    r.generated_at = Now();
    r.to_ms = range.to_ms.value_or(r.generated_at);
    VK_ASSIGN_OR_RETURN(store::Store * s, Store());
    VK_ASSIGN_OR_RETURN(AggregateStats now, s->GetAggregateStats());
    // Default start: the oldest event there is.
    r.from_ms = range.from_ms.value_or(now.total.min_timestamp.value_or(r.to_ms));
    if (r.from_ms > r.to_ms) {
      return Status::InvalidArgument("the range starts after it ends (from > to)");
    }
    VK_ASSIGN_OR_RETURN(RangeRows range_rows, ReadRange(r.from_ms, r.to_ms));
    MinuteCounts total;
    std::map<std::string, std::int64_t> events_by_agent;
    std::array<std::int64_t, 24> by_hour{};
    for (const auto& [from, end] : range_rows.day_spans) {
      VK_ASSIGN_OR_RETURN(auto hours, s->EventsByHourOfDay(from, end));
      for (std::size_t h = 0; h < 24; ++h) by_hour[h] += hours[h];
    }
    for (const MinuteRow& row : range_rows.rows) {
      total.Merge(row.counts);
      events_by_agent[row.key.agent_type] += row.counts.events;
      if (row.counts.start_events > 0) {
        r.usage.sessions_by_agent[row.key.agent_type] += row.counts.start_events;
        r.usage.sessions_by_mode[row.key.mode] += row.counts.start_events;
      }
      if (std::none_of(range_rows.day_spans.begin(), range_rows.day_spans.end(),
                       [&](const auto& span) {
                         return row.key.minute >= span.first && row.key.minute < span.second;
                       })) {
        by_hour[static_cast<std::size_t>((row.key.minute / 3'600'000) % 24)] += row.counts.events;
      }
    }
    const double minutes =
        static_cast<double>(MinuteOf(r.to_ms) - MinuteOf(r.from_ms)) / kMinuteMs + 1.0;
    r.performance.response_time_ms = Summarize(total.response);
    r.performance.stream_gap_ms = Summarize(total.gap);
    r.performance.throughput_per_min = static_cast<double>(total.events) / minutes;
    r.performance.error_rate_pct =
        total.events == 0
            ? 0.0
            : 100.0 * static_cast<double>(total.error_events) / static_cast<double>(total.events);
    r.usage.events = total.events;
    r.usage.sessions_started = total.start_events;
    r.usage.events_by_type = {{"start", total.start_events},
                              {"stream", total.stream_events},
                              {"end", total.end_events},
                              {"error", total.error_events}};
    r.usage.active_sessions = now.total.active_sessions;
    std::int64_t best = 0;
    for (const auto& [agent, n] : events_by_agent) {
      if (n > best) {
        best = n;
        r.usage.top_agent = agent;
      }
    }
    for (int h = 0; h < 24; ++h) {
      if (by_hour[static_cast<std::size_t>(h)] > r.usage.peak_hour_events) {
        r.usage.peak_hour_events = by_hour[static_cast<std::size_t>(h)];
        r.usage.peak_hour_utc = h;
      }
    }
    r.quality.session_duration_ms = Summarize(total.duration);
    r.quality.active = total.sessions_active;
    r.quality.completed = total.sessions_completed;
    r.quality.failed = total.sessions_failed;
    r.quality.timed_out = total.sessions_timeout;
    const std::int64_t outcomes = r.quality.completed + r.quality.failed + r.quality.timed_out;
    if (outcomes > 0) {
      r.quality.success_rate_pct =
          100.0 * static_cast<double>(r.quality.completed) / static_cast<double>(outcomes);
    }
    r.quality.input_tokens = total.input_tokens;
    r.quality.output_tokens = total.output_tokens;
    r.quality.cost_usd = total.cost_usd;
    return r;
  }

  Result<std::vector<MetricPoint>> Series(const std::string& metric, std::int64_t from,
                                          std::int64_t to) {
    VK_RETURN_IF_ERROR(CheckMetric(metric));
    if (from > to) return Status::InvalidArgument("the range starts after it ends (from > to)");
    if ((to - from) / kMinuteMs > 366LL * 24 * 60) {
      return Status::InvalidArgument("a series is limited to one year of minutes");
    }
    VK_ASSIGN_OR_RETURN(std::vector<MinuteRow> rows, Rows(from, to));
    std::vector<MinuteCounts> minutes = PerMinute(rows, from, to);
    std::vector<MetricPoint> out;
    out.reserve(minutes.size());
    for (std::size_t i = 0; i < minutes.size(); ++i) {
      out.push_back({MinuteOf(from) + static_cast<std::int64_t>(i) * kMinuteMs,
                     MetricValue(metric, minutes[i])});
    }
    return out;
  }

  Result<DashboardMetrics> Dashboard() {
    DashboardMetrics d;
    d.generated_at = Now();
    const std::int64_t to = d.generated_at;
    const std::int64_t from = MinuteOf(to) - (d.window_minutes - 1) * kMinuteMs;
    VK_ASSIGN_OR_RETURN(std::vector<MinuteRow> rows, Rows(from, to));
    std::vector<MinuteCounts> minutes = PerMinute(rows, from, to);
    MinuteCounts total;
    for (const MinuteCounts& m : minutes) total.Merge(m);
    d.events = total.events;
    d.throughput_per_min =
        static_cast<double>(total.events) / static_cast<double>(d.window_minutes);
    d.error_rate_pct = total.events == 0 ? 0.0
                                         : 100.0 * static_cast<double>(total.error_events) /
                                               static_cast<double>(total.events);
    if (total.response.count > 0) {
      d.response_time_p50_ms = total.response.sketch.Quantile(0.5);
      d.response_time_p95_ms = total.response.sketch.Quantile(0.95);
    }
    VK_ASSIGN_OR_RETURN(store::Store * s, Store());
    VK_ASSIGN_OR_RETURN(AggregateStats now, s->GetAggregateStats());
    d.active_sessions = now.total.active_sessions;
    for (const std::string& metric : AnalyticsMetricNames()) {
      std::vector<MetricPoint>& series = d.series[metric];
      for (std::size_t i = 0; i < minutes.size(); ++i) {
        series.push_back(
            {from + static_cast<std::int64_t>(i) * kMinuteMs, MetricValue(metric, minutes[i])});
      }
    }
    return d;
  }

  // The `minutes` full minutes before now, from the first one with events on: leading minutes
  // before any data are not "zero throughput". Shared by anomaly detection and forecasting.
  struct History {
    std::int64_t first_minute = 0;  // ms of minutes.front()
    std::int64_t last_minute = 0;   // ms of the last full minute (minutes.back())
    std::vector<MinuteCounts> minutes;
    std::vector<double> Values(const std::string& metric) const {
      std::vector<double> values;
      values.reserve(minutes.size());
      for (const MinuteCounts& c : minutes) {
        values.push_back(MetricValue(metric, c).value_or(std::nan("")));
      }
      return values;
    }
  };
  Result<History> RecentHistory(std::int64_t minutes) {
    const std::int64_t to = MinuteOf(Now()) - kMinuteMs;  // the last full minute
    const std::int64_t from = to - (minutes - 1) * kMinuteMs;
    VK_ASSIGN_OR_RETURN(std::vector<MinuteRow> rows, Rows(from, to));
    std::vector<MinuteCounts> all = PerMinute(rows, from, to);
    std::size_t first = 0;
    while (first < all.size() && all[first].events == 0) ++first;
    History h;
    h.first_minute = from + static_cast<std::int64_t>(first) * kMinuteMs;
    h.last_minute = to;
    h.minutes.assign(all.begin() + static_cast<std::ptrdiff_t>(first), all.end());
    return h;
  }

  Result<std::vector<Anomaly>> Anomalies(const std::vector<std::string>& metrics,
                                         const AnomalyOptions& o) {
    if (o.lookback_minutes < 1 || o.lookback_minutes > 60 * 24 * 60) {
      return Status::InvalidArgument("lookback_minutes must be between 1 and 86400");
    }
    for (const std::string& m : metrics) VK_RETURN_IF_ERROR(CheckMetric(m));
    VK_ASSIGN_OR_RETURN(History history, RecentHistory(o.lookback_minutes));
    std::vector<Anomaly> out;
    for (const std::string& metric : metrics) {
      const std::vector<double> values = history.Values(metric);
      const int period =
          static_cast<int>(values.size()) >= 2 * o.season_minutes ? o.season_minutes : 0;
      const analytics::DetectorOptions dopt = analytics::OptionsForMetric(metric, period);
      for (const analytics::SeriesAnomaly& a : analytics::DetectAnomalies(values, dopt)) {
        Anomaly x;
        x.metric = metric;
        x.kind = std::string(analytics::AnomalyKindName(a.kind));
        x.title = metric + " " + x.kind;
        x.observed = a.observed;
        x.expected = a.expected;
        const std::int64_t base = history.first_minute;
        x.window_start_ms = base + static_cast<std::int64_t>(a.start) * kMinuteMs;
        x.window_end_ms = base + static_cast<std::int64_t>(a.end + 1) * kMinuteMs;
        x.peak_ms = base + static_cast<std::int64_t>(a.peak) * kMinuteMs;
        x.severity = std::string(analytics::SeverityName(a.severity));
        x.confidence_pct = a.confidence_pct;
        x.z_score = a.z;
        char buf[256];
        std::snprintf(buf, sizeof buf,
                      "%s was %.4g%s where %.4g%s was expected (robust z %.1f, %lld minute%s)",
                      metric.c_str(), a.observed, Unit(metric).c_str(), a.expected,
                      Unit(metric).c_str(), a.z, static_cast<long long>(a.end - a.start + 1),
                      a.end == a.start ? "" : "s");
        x.description = buf;
        out.push_back(std::move(x));
      }
    }
    std::sort(out.begin(), out.end(),
              [](const Anomaly& a, const Anomaly& b) { return a.peak_ms < b.peak_ms; });
    return out;
  }

  Result<std::vector<Prediction>> Predictions(const std::vector<std::string>& metrics,
                                              int minutes_ahead) {
    if (minutes_ahead < 1 || minutes_ahead > 24 * 60) {
      return Status::InvalidArgument("minutes ahead must be between 1 and 1440");
    }
    for (const std::string& m : metrics) VK_RETURN_IF_ERROR(CheckMetric(m));
    // History: up to a week of full minutes, from the first minute with data.
    VK_ASSIGN_OR_RETURN(History history, RecentHistory(7 * 24 * 60));
    const std::int64_t to = history.last_minute;
    std::vector<Prediction> out;
    for (const std::string& metric : metrics) {
      const std::vector<double> values = history.Values(metric);
      if (std::all_of(values.begin(), values.end(), [](double v) { return std::isnan(v); })) {
        return Status::FailedPrecondition("no " + metric +
                                          " data in the last 7 days to forecast from");
      }
      analytics::ForecastOptions fo;
      fo.period = 1440;  // used only with two full days of history
      const analytics::Forecast f = analytics::ForecastSeries(values, minutes_ahead, fo);
      Prediction p;
      p.metric = metric;
      p.method = f.method;
      // Every metric here is a count, rate or duration: never below zero.
      for (std::size_t h = 0; h < f.points.size(); ++h) {
        p.points.push_back({to + static_cast<std::int64_t>(h + 1) * kMinuteMs,
                            std::max(0.0, f.points[h].value), std::max(0.0, f.points[h].lower),
                            std::max(0.0, f.points[h].upper)});
      }
      if (f.backtest_points > 0) {
        p.backtest_mae = f.backtest_mae;
        p.naive_mae = f.naive_mae;
      }
      out.push_back(std::move(p));
    }
    return out;
  }

  // --- answer cache ---
  using Answer = std::variant<AnalyticsReport, DashboardMetrics>;
  struct CacheEntry {
    std::optional<std::int64_t> from_ms, to_ms;  // the range asked (reports)
    std::uint64_t data_version = 0;              // the store's, read before computing
    std::int64_t made_at_ms = 0;
    Answer answer;
  };

  template <typename T, typename Compute>
  Result<T> Cached(const std::string& key, const AnalyticsRange& range, Compute compute) {
    VK_ASSIGN_OR_RETURN(store::Store * s, Store());
    const std::uint64_t version = s->DataVersion();
    {
      std::lock_guard lock(cache_mu_);
      auto it = cache_.find(key);
      if (it != cache_.end() && std::holds_alternative<T>(it->second.answer) &&
          it->second.from_ms == range.from_ms && it->second.to_ms == range.to_ms) {
        if (it->second.data_version != version) {
          ++cache_stats_.invalidated;
        } else if (Now() - it->second.made_at_ms >= cache_stats_.ttl_ms) {
          ++cache_stats_.expired;
        } else {
          ++cache_stats_.hits;
          return std::get<T>(it->second.answer);
        }
      }
      ++cache_stats_.misses;
    }
    VK_ASSIGN_OR_RETURN(T answer, compute());
    std::lock_guard lock(cache_mu_);
    if (cache_stats_.ttl_ms > 0) {
      if (cache_.size() >= kMaxCacheEntries && cache_.find(key) == cache_.end()) {
        auto oldest = std::min_element(
            cache_.begin(), cache_.end(),
            [](const auto& a, const auto& b) { return a.second.made_at_ms < b.second.made_at_ms; });
        cache_.erase(oldest);
      }
      cache_[key] = CacheEntry{range.from_ms, range.to_ms, version, Now(), answer};
    }
    return answer;
  }

  Status SetCacheTtl(std::int64_t ttl_ms) {
    if (ttl_ms < 0) return Status::InvalidArgument("cache TTL must not be negative");
    std::lock_guard lock(cache_mu_);
    cache_stats_.ttl_ms = ttl_ms;
    if (ttl_ms == 0) cache_.clear();
    return Status::Ok();
  }

  void ClearCache() {
    std::lock_guard lock(cache_mu_);
    cache_.clear();
  }

  AnalyticsCacheStats CacheStats() const {
    std::lock_guard lock(cache_mu_);
    AnalyticsCacheStats st = cache_stats_;
    st.entries = static_cast<std::int64_t>(cache_.size());
    const std::int64_t lookups = st.hits + st.misses;
    st.hit_rate_pct =
        lookups == 0 ? 0.0 : 100.0 * static_cast<double>(st.hits) / static_cast<double>(lookups);
    return st;
  }

  // --- monitoring ---
  Status CheckAlerts() {
    const std::int64_t now = Now();
    const std::int64_t minute = MinuteOf(now) - kMinuteMs;  // the last full minute
    VK_ASSIGN_OR_RETURN(std::vector<MinuteRow> rows, Rows(minute, minute));
    MinuteCounts c;
    for (const MinuteRow& r : rows) c.Merge(r.counts);
    std::map<std::string, double> samples;
    for (const char* metric : {"throughput", "error_rate", "response_time", "session_duration"}) {
      if (auto v = MetricValue(metric, c)) samples[metric] = *v;
    }
    const int max_mb = service_.config().local_store.max_size_mb;
    if (max_mb > 0) {
      VK_ASSIGN_OR_RETURN(store::Store * s, Store());
      VK_ASSIGN_OR_RETURN(std::int64_t used, s->UsedBytes());
      samples["disk_usage"] =
          100.0 * static_cast<double>(used) / (static_cast<double>(max_mb) * 1024 * 1024);
    }
    engine_.Evaluate(samples, now);
    return Status::Ok();
  }

  Status StartMonitoring(std::int64_t interval_ms) {
    if (interval_ms < 10) return Status::InvalidArgument("interval must be at least 10 ms");
    VK_RETURN_IF_ERROR(Store().status());
    std::lock_guard lock(monitor_mu_);
    if (monitor_.joinable()) return Status::FailedPrecondition("monitoring is already running");
    stop_ = false;
    monitor_ = std::thread([this, interval_ms] {
      internal::NameThisThread("vk-monitor");
      std::unique_lock guard(monitor_mu_);
      while (!stop_) {
        guard.unlock();
        Status st = CheckAlerts();
        (void)st;  // a failed check (e.g. busy database) is retried at the next interval
        guard.lock();
        monitor_cv_.wait_for(guard, std::chrono::milliseconds(interval_ms),
                             [this] { return stop_; });
      }
    });
    return Status::Ok();
  }

  void StopMonitoring() {
    std::thread t;
    {
      std::lock_guard lock(monitor_mu_);
      stop_ = true;
      t = std::move(monitor_);
    }
    monitor_cv_.notify_all();
    if (t.joinable()) t.join();
  }

  bool Monitoring() {
    std::lock_guard lock(monitor_mu_);
    return monitor_.joinable();
  }

  analytics::AlertEngine engine_;

 private:
  TelemetryService& service_;
  const Clock& clock_;
  std::mutex monitor_mu_;
  std::condition_variable monitor_cv_;
  std::thread monitor_;
  bool stop_ = false;
  static constexpr int kRestoredAlerts = 1000;
  std::unique_ptr<analytics::AlertWebhook> webhook_;  // null without webhook_url
  static constexpr std::size_t kMaxCacheEntries = 256;
  mutable std::mutex cache_mu_;
  std::map<std::string, CacheEntry> cache_;            // guarded by cache_mu_
  AnalyticsCacheStats cache_stats_{.ttl_ms = 60'000};  // guarded by cache_mu_ (entries unused)
};

AnalyticsService::AnalyticsService(TelemetryService& service, const Clock* clock)
    : impl_(std::make_unique<Impl>(service, clock)) {}

AnalyticsService::~AnalyticsService() = default;

Result<AnalyticsReport> AnalyticsService::GetAnalytics(const AnalyticsRange& range) noexcept {
  return Guard([&] { return impl_->Analytics(range); });
}

Result<DashboardMetrics> AnalyticsService::GetDashboardMetrics() noexcept {
  return Guard([&] { return impl_->Dashboard(); });
}

Result<std::vector<MetricPoint>> AnalyticsService::GetMetricSeries(const std::string& metric,
                                                                   std::int64_t from_ms,
                                                                   std::int64_t to_ms) noexcept {
  return Guard([&] { return impl_->Series(metric, from_ms, to_ms); });
}

Result<std::vector<Anomaly>> AnalyticsService::DetectAnomalies(
    const std::vector<std::string>& metrics, const AnomalyOptions& options) noexcept {
  return Guard([&] { return impl_->Anomalies(metrics, options); });
}

Result<std::vector<Prediction>> AnalyticsService::GeneratePredictions(
    const std::vector<std::string>& metrics, int minutes_ahead) noexcept {
  return Guard([&] { return impl_->Predictions(metrics, minutes_ahead); });
}

Result<AnalyticsReport> AnalyticsService::GetCachedAnalytics(const std::string& key,
                                                             const AnalyticsRange& range) noexcept {
  return Guard([&] {
    return impl_->Cached<AnalyticsReport>(key, range, [&] { return impl_->Analytics(range); });
  });
}

Result<DashboardMetrics> AnalyticsService::GetCachedDashboardMetrics() noexcept {
  return Guard([&] {
    return impl_->Cached<DashboardMetrics>("dashboard-metrics", {},
                                           [&] { return impl_->Dashboard(); });
  });
}

Status AnalyticsService::SetCacheTtl(std::int64_t ttl_ms) noexcept {
  return Guard([&] { return impl_->SetCacheTtl(ttl_ms); });
}

void AnalyticsService::ClearCache() noexcept { impl_->ClearCache(); }

AnalyticsCacheStats AnalyticsService::GetCacheStats() const noexcept { return impl_->CacheStats(); }

Status AnalyticsService::StartMonitoring(std::int64_t interval_ms) noexcept {
  return Guard([&] { return impl_->StartMonitoring(interval_ms); });
}

void AnalyticsService::StopMonitoring() noexcept { impl_->StopMonitoring(); }

bool AnalyticsService::monitoring() const noexcept { return impl_->Monitoring(); }

Status AnalyticsService::SetAlertThreshold(const std::string& metric, double threshold,
                                           AlertDirection direction, AlertSeverity severity,
                                           std::int64_t cooldown_ms) noexcept {
  return Guard([&]() -> Status {
    if (metric != "disk_usage") VK_RETURN_IF_ERROR(CheckMetric(metric));
    if (cooldown_ms < 0) return Status::InvalidArgument("cooldown must not be negative");
    analytics::AlertRule rule;
    rule.metric = metric;
    rule.threshold = threshold;
    rule.direction = direction == AlertDirection::kAbove ? analytics::ThresholdDirection::kAbove
                                                         : analytics::ThresholdDirection::kBelow;
    rule.severity = static_cast<analytics::Severity>(static_cast<int>(severity));
    rule.cooldown_ms = cooldown_ms;
    impl_->engine_.SetRule(rule);
    return Status::Ok();
  });
}

std::int64_t AnalyticsService::OnAlert(AlertCallback callback) {
  return impl_->engine_.OnAlert(
      [cb = std::move(callback)](const analytics::Alert& a) { cb(ToPublic(a)); });
}

std::int64_t AnalyticsService::OnResolved(AlertCallback callback) {
  return impl_->engine_.OnResolved(
      [cb = std::move(callback)](const analytics::Alert& a) { cb(ToPublic(a)); });
}

void AnalyticsService::Unsubscribe(std::int64_t subscription) {
  impl_->engine_.Unsubscribe(subscription);
}

Status AnalyticsService::CheckAlertsNow() noexcept {
  return Guard([&] { return impl_->CheckAlerts(); });
}

std::vector<AlertEvent> AnalyticsService::ActiveAlerts() const {
  std::vector<AlertEvent> out;
  for (const analytics::Alert& a : impl_->engine_.Active()) out.push_back(ToPublic(a));
  return out;
}

std::optional<AlertWebhookStats> AnalyticsService::GetAlertWebhookStats() const noexcept {
  return impl_->WebhookStatsNow();
}

bool AnalyticsService::WaitForAlertWebhook(std::int64_t timeout_ms) noexcept {
  return impl_->WaitForWebhook(timeout_ms);
}

std::vector<AlertEvent> AnalyticsService::AlertHistory() const {
  std::vector<AlertEvent> out;
  for (const analytics::Alert& a : impl_->engine_.History()) out.push_back(ToPublic(a));
  return out;
}

std::vector<AlertThreshold> AnalyticsService::AlertThresholds() const {
  std::vector<AlertThreshold> out;
  for (const analytics::AlertRule& r : impl_->engine_.Rules()) {
    AlertThreshold t;
    t.metric = r.metric;
    t.threshold = r.threshold;
    t.direction = r.direction == analytics::ThresholdDirection::kAbove ? AlertDirection::kAbove
                                                                       : AlertDirection::kBelow;
    t.severity = static_cast<AlertSeverity>(static_cast<int>(r.severity));
    t.cooldown_ms = r.cooldown_ms;
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace vibekit
