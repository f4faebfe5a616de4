// AnalyticsService (the description's AdvancedAnalyticsService): what the recorded sessions say
// about speed, usage and quality, anomalies in those figures, short-term forecasts, and threshold
// alerts while monitoring. Every figure is measured from stored events; docs/ANALYTICS.md defines
// each one.
//
// Cost: answers come from per-minute rollups kept up to date at ingest (counts, sums and
// mergeable quantile sketches per minute, agent and mode), so a question over a time range costs
// O(minutes × agents × modes) whatever the number of events. Quantiles are within 1 % (relative)
// of an exact value of the data.
//
// Definitions (all times in ms):
//   response time  time from a session's start to its first stream event
//   stream gap     time between consecutive stream events of a session
//   throughput     events per minute over the range
//   error rate     error events / all events × 100
//   sessions by status, session duration, success rate: over the sessions that STARTED in the
//                  range, by their current status (duration: of those no longer active)
//   tokens / cost  sums of the GenAI usage found in event metadata (gen_ai.usage.* or the
//                  agents' own keys, see src/common/genai_usage.h)
//
// Thread-safety: all methods may be called from any thread. Alert callbacks run on the
// monitoring thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vibekit/status.h"
#include "vibekit/telemetry_service.h"

namespace vibekit {

class Clock;

struct QuantileSummary {
  std::int64_t count = 0;
  std::optional<double> mean;
  std::optional<double> p50, p90, p95, p99;
};

struct PerformanceAnalytics {
  QuantileSummary response_time_ms;  // start -> first stream event
  QuantileSummary stream_gap_ms;     // stream -> next stream event
  double throughput_per_min = 0;     // events / minutes in the range
  double error_rate_pct = 0;         // error events / events * 100 (0 when no events)
};

struct UsageAnalytics {
  std::int64_t events = 0;
  std::int64_t sessions_started = 0;       // start events in the range
  std::int64_t active_sessions = 0;        // sessions whose status is active now
  std::optional<std::string> top_agent;    // most events in the range
  std::optional<int> peak_hour_utc;        // hour of day (0-23) with the most events
  std::int64_t peak_hour_events = 0;
  std::map<std::string, std::int64_t> sessions_by_agent;  // start events per agent
  std::map<std::string, std::int64_t> sessions_by_mode;   // per mode ("" = none)
  std::map<std::string, std::int64_t> events_by_type;     // "start", "stream", "end", "error"
};

struct QualityAnalytics {
  QuantileSummary session_duration_ms;  // sessions started in the range and over
  std::int64_t active = 0;              // sessions started in the range, by current status
  std::int64_t completed = 0;
  std::int64_t failed = 0;
  std::int64_t timed_out = 0;
  std::optional<double> success_rate_pct;  // completed / (completed + failed + timed out)
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  double cost_usd = 0;
};

struct AnalyticsRange {
  std::optional<std::int64_t> from_ms;  // default: the oldest rollup minute
  std::optional<std::int64_t> to_ms;    // default: now
};

struct AnalyticsReport {
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  std::int64_t generated_at = 0;
  PerformanceAnalytics performance;
  UsageAnalytics usage;
  QualityAnalytics quality;
};

// One value per minute.
struct MetricPoint {
  std::int64_t minute = 0;  // ms at the start of the minute
  std::optional<double> value;  // empty: no data that minute (e.g. no stream event for a latency)
};

// The last hour, for a live view: the headline figures and per-minute series.
struct DashboardMetrics {
  std::int64_t generated_at = 0;
  std::int64_t window_minutes = 60;
  std::int64_t events = 0;
  std::int64_t active_sessions = 0;
  double throughput_per_min = 0;
  double error_rate_pct = 0;
  std::optional<double> response_time_p50_ms;
  std::optional<double> response_time_p95_ms;
  std::map<std::string, std::vector<MetricPoint>> series;  // "throughput", "error_rate", ...
};

// Metrics known to the series, anomaly and prediction methods: "throughput" (events/min),
// "error_rate" (%), "response_time" (mean ms per minute), "session_duration" (mean ms of the sessions
// that started that minute and are over), "token_usage" (input + output tokens per minute), "sessions" (started).
std::vector<std::string> AnalyticsMetricNames();

struct Anomaly {
  std::string metric;
  std::string kind;          // "spike", "drop", "level_shift"
  std::string title;         // e.g. "error_rate spike"
  std::string description;   // one sentence with the numbers
  double observed = 0;       // at the peak minute
  double expected = 0;       // the baseline there
  std::int64_t window_start_ms = 0;  // first anomalous minute
  std::int64_t window_end_ms = 0;    // end of the last anomalous minute
  std::int64_t peak_ms = 0;
  std::string severity;      // "low", "medium", "high", "critical"
  double confidence_pct = 0;  // computed, see src/analytics/anomaly_detector.h
  double z_score = 0;
};

struct AnomalyOptions {
  std::int64_t lookback_minutes = 24 * 60;
  // Season length in minutes for the baseline (hour-of-day seasonality): 1440 by default, used
  // only when the lookback holds two full days.
  int season_minutes = 1440;
};

struct PredictionPoint {
  std::int64_t minute = 0;
  double value = 0;
  double lower = 0;  // 95 % prediction interval
  double upper = 0;
};

struct Prediction {
  std::string metric;
  std::string method;  // "holt_winters", "holt" or "last_value"
  std::vector<PredictionPoint> points;
  // The model's mean absolute error when refitted without the last `minutes_ahead` minutes of
  // history and scored on them, and the naive last-value forecast's on the same minutes.
  std::optional<double> backtest_mae;
  std::optional<double> naive_mae;
};

enum class AlertDirection { kAbove, kBelow };
enum class AlertSeverity { kLow, kMedium, kHigh, kCritical };

struct AlertEvent {
  std::int64_t id = 0;
  std::string metric;
  double value = 0;
  double threshold = 0;
  AlertDirection direction = AlertDirection::kAbove;
  AlertSeverity severity = AlertSeverity::kMedium;
  std::int64_t fired_at_ms = 0;
  std::optional<std::int64_t> resolved_at_ms;
  std::string message;
};

// Alert notifications POSTed to TelemetryConfig::analytics.webhook_url by this object.
struct AlertWebhookStats {
  std::int64_t delivered = 0;  // answered 2xx
  std::int64_t failed = 0;     // rejected (4xx other than 429) or out of attempts
  std::int64_t retries = 0;
  std::int64_t dropped = 0;    // queue overflow or shutdown before delivery
  std::int64_t pending = 0;
  std::string last_error;
};

// One threshold rule of the alert monitor (SetAlertThreshold, or the defaults).
struct AlertThreshold {
  std::string metric;
  double threshold = 0;
  AlertDirection direction = AlertDirection::kAbove;
  AlertSeverity severity = AlertSeverity::kMedium;
  std::int64_t cooldown_ms = 0;
};

// Figures of the answer cache (GetCachedAnalytics, GetCachedDashboardMetrics).
struct AnalyticsCacheStats {
  std::int64_t hits = 0;
  std::int64_t misses = 0;       // answers computed: absent, expired or invalidated entries
  std::int64_t expired = 0;      // of the misses: the entry had outlived its TTL
  std::int64_t invalidated = 0;  // of the misses: data was committed after the entry was made
  std::int64_t entries = 0;
  std::int64_t ttl_ms = 0;
  double hit_rate_pct = 0;  // hits / (hits + misses) × 100 (0 before the first lookup)
};

class AnalyticsService {
 public:
  // `service` must be initialized and outlive this object. `clock` (may be null: the system
  // clock) decides "now" for default ranges and monitoring.
  explicit AnalyticsService(TelemetryService& service, const Clock* clock = nullptr);
  ~AnalyticsService();
  AnalyticsService(const AnalyticsService&) = delete;
  AnalyticsService& operator=(const AnalyticsService&) = delete;

  Result<AnalyticsReport> GetAnalytics(const AnalyticsRange& range = {}) noexcept;
  Result<DashboardMetrics> GetDashboardMetrics() noexcept;
  // Per-minute values of `metric` over [from_ms, to_ms] (every minute present, empty values
  // where there is no data).
  Result<std::vector<MetricPoint>> GetMetricSeries(const std::string& metric, std::int64_t from_ms,
                                                   std::int64_t to_ms) noexcept;
  Result<std::vector<Anomaly>> DetectAnomalies(const std::vector<std::string>& metrics,
                                               const AnomalyOptions& options = {}) noexcept;
  Result<std::vector<Prediction>> GeneratePredictions(const std::vector<std::string>& metrics,
                                                      int minutes_ahead) noexcept;

  // --- answer cache ---
  // GetAnalytics(range) remembered under `key` (the description's getCachedAnalytics). An entry
  // is answered again while it is younger than the TTL and no data was committed since it was
  // computed (the store's commit counter: batches, timeout sweeps, retention, clear, restore);
  // otherwise it is recomputed. The same key asked with another range is recomputed and
  // replaces the entry. So a cached answer is never staler than the TTL; writes of another
  // process on the same database are seen when the TTL runs out. At most 256 entries (the
  // oldest is dropped).
  Result<AnalyticsReport> GetCachedAnalytics(const std::string& key,
                                             const AnalyticsRange& range = {}) noexcept;
  // GetDashboardMetrics() through the same cache (key "dashboard-metrics").
  Result<DashboardMetrics> GetCachedDashboardMetrics() noexcept;
  // TTL of entries made from now on and of the ones there (default 60 s; 0 disables caching).
  // kInvalidArgument when negative.
  Status SetCacheTtl(std::int64_t ttl_ms) noexcept;
  void ClearCache() noexcept;  // drops every entry; the counters stay
  AnalyticsCacheStats GetCacheStats() const noexcept;

  // --- monitoring ---
  // Every interval, the last full minute's throughput, error rate, response time and session
  // duration (and the database's disk usage in % of max_size_mb) are checked against the alert
  // thresholds. Defaults: response_time > 5000 ms, error_rate > 5 %, throughput < 10/min,
  // disk_usage > 80 %.
  Status StartMonitoring(std::int64_t interval_ms) noexcept;
  void StopMonitoring() noexcept;
  bool monitoring() const noexcept;
  Status SetAlertThreshold(const std::string& metric, double threshold, AlertDirection direction,
                           AlertSeverity severity, std::int64_t cooldown_ms = 5 * 60 * 1000) noexcept;
  using AlertCallback = std::function<void(const AlertEvent&)>;
  std::int64_t OnAlert(AlertCallback callback);     // the description's on('alert', ...)
  std::int64_t OnResolved(AlertCallback callback);
  void Unsubscribe(std::int64_t subscription);
  // Runs one monitoring check now (what the monitoring thread does each interval).
  Status CheckAlertsNow() noexcept;
  std::vector<AlertEvent> ActiveAlerts() const;
  // Fired alerts, oldest first, with their resolutions. Persisted in the database
  // (telemetry_alerts): a new AnalyticsService on the same database starts with the newest 1000,
  // their open alerts still open and their cooldowns running.
  std::vector<AlertEvent> AlertHistory() const;
  // nullopt when no webhook is configured (TelemetryConfig::analytics.webhook_url).
  std::optional<AlertWebhookStats> GetAlertWebhookStats() const noexcept;
  // Waits until every notification so far was delivered or given up; false after `timeout_ms`.
  bool WaitForAlertWebhook(std::int64_t timeout_ms) noexcept;
  // The rules in effect, one per metric.
  std::vector<AlertThreshold> AlertThresholds() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vibekit
