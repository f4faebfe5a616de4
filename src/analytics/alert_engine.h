// Threshold alerts over metric samples: fire once when a metric crosses its threshold, stay
// quiet (de-duplicated) while it stays across, resolve when it comes back, and do not fire again
// for the same rule within its cooldown after the last firing. Subscribers hear about firings
// and resolutions; every transition is also handed to an optional recorder (the persisted
// alert history).
//
// Thread-safety: all methods may be called from any thread; callbacks run on the thread that
// called Evaluate, after the engine's lock is released (a callback may call back in).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "analytics/anomaly_detector.h"

namespace vibekit::analytics {

enum class ThresholdDirection { kAbove, kBelow };
std::string_view ThresholdDirectionName(ThresholdDirection d) noexcept;

struct AlertRule {
  std::string metric;  // e.g. "response_time", "error_rate", "throughput", "disk_usage"
  double threshold = 0;
  ThresholdDirection direction = ThresholdDirection::kAbove;
  Severity severity = Severity::kMedium;
  std::int64_t cooldown_ms = 5 * 60 * 1000;
};

// The reference's defaults: response_time > 5000 ms, error_rate > 5 %, throughput < 10 events
// per minute, disk_usage > 80 %.
std::vector<AlertRule> DefaultAlertRules();

struct Alert {
  std::int64_t id = 0;  // increasing per engine
  std::string metric;
  double value = 0;      // the sample that crossed
  double threshold = 0;
  ThresholdDirection direction = ThresholdDirection::kAbove;
  Severity severity = Severity::kMedium;
  std::int64_t fired_at_ms = 0;
  std::optional<std::int64_t> resolved_at_ms;
  std::optional<double> resolved_value;
  std::string message;  // one readable sentence
};

class AlertEngine {
 public:
  using Callback = std::function<void(const Alert&)>;
  using SubscriptionId = std::int64_t;
  enum class Transition { kFired, kResolved };
  // Called for every transition before the subscribers. For a firing it may return the id the
  // alert was stored under (> 0), which then replaces the engine's own id everywhere (the
  // subscribers, Active(), History() and the later resolution see it); 0 keeps the engine's id.
  using Recorder = std::function<std::int64_t(Transition, const Alert&)>;

  explicit AlertEngine(std::vector<AlertRule> rules = DefaultAlertRules());

  // Adds or replaces the rule for rule.metric. An alert already firing for that metric stays
  // firing until a sample on the new rule's healthy side resolves it.
  void SetRule(const AlertRule& rule);
  bool RemoveRule(const std::string& metric);
  std::vector<AlertRule> Rules() const;

  SubscriptionId OnAlert(Callback callback);
  SubscriptionId OnResolved(Callback callback);
  void Unsubscribe(SubscriptionId id);
  void SetRecorder(Recorder recorder);
  // Takes over a persisted history (oldest first): it becomes History(); an unresolved alert is
  // active again for its metric (now or when a rule for it is set), and each metric's newest
  // firing starts its cooldown, so a restart neither repeats an open alert nor shortens a
  // cooldown. Ids continue after the largest one.
  void Restore(std::vector<Alert> history);

  // Checks every rule whose metric has a sample in `samples` (metrics without a sample are left
  // as they are). Returns the transitions this call caused, in rule order.
  std::vector<std::pair<Transition, Alert>> Evaluate(const std::map<std::string, double>& samples,
                                                     std::int64_t now_ms);

  std::vector<Alert> Active() const;
  std::vector<Alert> History() const;  // fired alerts, oldest first, with their resolutions
  std::int64_t suppressed() const;     // crossings not fired because of the cooldown

 private:
  struct RuleState {
    AlertRule rule;
    std::optional<Alert> active;
    std::optional<std::int64_t> last_fired_ms;
    bool crossed_in_cooldown = false;  // counted once per crossing
  };

  mutable std::mutex mu_;
  std::vector<RuleState> rules_;
  std::map<SubscriptionId, Callback> on_alert_;
  std::map<SubscriptionId, Callback> on_resolved_;
  Recorder recorder_;
  std::vector<Alert> history_;
  // From Restore, for metrics without a rule yet: the open alert and the newest firing.
  std::map<std::string, std::pair<std::optional<Alert>, std::int64_t>> restored_;
  std::int64_t next_alert_id_ = 1;
  SubscriptionId next_subscription_ = 1;
  std::int64_t suppressed_ = 0;
};

}  // namespace vibekit::analytics
