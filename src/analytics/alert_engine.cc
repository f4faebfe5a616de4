#include "analytics/alert_engine.h"

#include <algorithm>

#include <fmt/format.h>

namespace vibekit::analytics {

std::string_view ThresholdDirectionName(ThresholdDirection d) noexcept {
  return d == ThresholdDirection::kAbove ? "above" : "below";
}

std::vector<AlertRule> DefaultAlertRules() {
  return {
      {"response_time", 5000, ThresholdDirection::kAbove, Severity::kHigh},
      {"error_rate", 5, ThresholdDirection::kAbove, Severity::kHigh},
      {"throughput", 10, ThresholdDirection::kBelow, Severity::kMedium},
      {"disk_usage", 80, ThresholdDirection::kAbove, Severity::kCritical},
  };
}

AlertEngine::AlertEngine(std::vector<AlertRule> rules) {
  for (AlertRule& r : rules) rules_.push_back(RuleState{std::move(r), {}, {}, false});
}

void AlertEngine::SetRule(const AlertRule& rule) {
  std::lock_guard lock(mu_);
  for (RuleState& s : rules_) {
    if (s.rule.metric == rule.metric) {
      s.rule = rule;
      return;
    }
  }
  RuleState state{rule, {}, {}, false};
  if (auto it = restored_.find(rule.metric); it != restored_.end()) {
    state.active = it->second.first;
    state.last_fired_ms = it->second.second;
    restored_.erase(it);
  }
  rules_.push_back(std::move(state));
}

void AlertEngine::Restore(std::vector<Alert> history) {
  std::lock_guard lock(mu_);
  restored_.clear();
  for (const Alert& a : history) {
    auto& [open, last_fired] = restored_[a.metric];
    last_fired = std::max(last_fired, a.fired_at_ms);
    if (!a.resolved_at_ms) {
      open = a;
    } else if (open && open->id == a.id) {
      open.reset();
    }
    next_alert_id_ = std::max(next_alert_id_, a.id + 1);
  }
  history_ = std::move(history);
  for (RuleState& s : rules_) {
    auto it = restored_.find(s.rule.metric);
    if (it == restored_.end()) continue;
    s.active = it->second.first;
    s.last_fired_ms = it->second.second;
    restored_.erase(it);
  }
}

bool AlertEngine::RemoveRule(const std::string& metric) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(rules_.begin(), rules_.end(),
                         [&](const RuleState& s) { return s.rule.metric == metric; });
  if (it == rules_.end()) return false;
  rules_.erase(it);
  return true;
}

std::vector<AlertRule> AlertEngine::Rules() const {
  std::lock_guard lock(mu_);
  std::vector<AlertRule> out;
  for (const RuleState& s : rules_) out.push_back(s.rule);
  return out;
}

AlertEngine::SubscriptionId AlertEngine::OnAlert(Callback callback) {
  std::lock_guard lock(mu_);
  const SubscriptionId id = next_subscription_++;
  on_alert_[id] = std::move(callback);
  return id;
}

AlertEngine::SubscriptionId AlertEngine::OnResolved(Callback callback) {
  std::lock_guard lock(mu_);
  const SubscriptionId id = next_subscription_++;
  on_resolved_[id] = std::move(callback);
  return id;
}

void AlertEngine::Unsubscribe(SubscriptionId id) {
  std::lock_guard lock(mu_);
  on_alert_.erase(id);
  on_resolved_.erase(id);
}

void AlertEngine::SetRecorder(Recorder recorder) {
  std::lock_guard lock(mu_);
  recorder_ = std::move(recorder);
}

std::vector<std::pair<AlertEngine::Transition, Alert>> AlertEngine::Evaluate(
    const std::map<std::string, double>& samples, std::int64_t now_ms) {
  std::vector<std::pair<Transition, Alert>> transitions;
  std::vector<Callback> alert_callbacks;
  std::vector<Callback> resolved_callbacks;
  Recorder recorder;
  {
    std::lock_guard lock(mu_);
    for (RuleState& s : rules_) {
      auto it = samples.find(s.rule.metric);
      if (it == samples.end()) continue;
      const double v = it->second;
      const bool crossed = s.rule.direction == ThresholdDirection::kAbove ? v > s.rule.threshold
                                                                          : v < s.rule.threshold;
      if (crossed && !s.active) {
        if (s.last_fired_ms && now_ms - *s.last_fired_ms < s.rule.cooldown_ms) {
          if (!s.crossed_in_cooldown) ++suppressed_;
          s.crossed_in_cooldown = true;
          continue;
        }
        Alert a;
        a.id = next_alert_id_++;
        a.metric = s.rule.metric;
        a.value = v;
        a.threshold = s.rule.threshold;
        a.direction = s.rule.direction;
        a.severity = s.rule.severity;
        a.fired_at_ms = now_ms;
        a.message = fmt::format("{} is {:.4g}, {} the threshold of {:.4g}", a.metric, v,
                                ThresholdDirectionName(a.direction), a.threshold);
        s.active = a;
        s.last_fired_ms = now_ms;
        s.crossed_in_cooldown = false;
        history_.push_back(a);
        transitions.emplace_back(Transition::kFired, a);
      } else if (!crossed) {
        s.crossed_in_cooldown = false;
        if (s.active) {
          Alert a = *s.active;
          a.resolved_at_ms = now_ms;
          a.resolved_value = v;
          s.active.reset();
          for (Alert& h : history_) {
            if (h.id == a.id) h = a;
          }
          transitions.emplace_back(Transition::kResolved, a);
        }
      }
    }
    for (const auto& [id, cb] : on_alert_) alert_callbacks.push_back(cb);
    for (const auto& [id, cb] : on_resolved_) resolved_callbacks.push_back(cb);
    recorder = recorder_;
  }
  for (auto& [kind, alert] : transitions) {
    if (recorder) {
      const std::int64_t stored = recorder(kind, alert);
      if (kind == Transition::kFired && stored > 0 && stored != alert.id) {
        std::lock_guard lock(mu_);
        for (Alert& h : history_) {
          if (h.id == alert.id) h.id = stored;
        }
        for (RuleState& s : rules_) {
          if (s.active && s.active->id == alert.id) s.active->id = stored;
        }
        next_alert_id_ = std::max(next_alert_id_, stored + 1);
        alert.id = stored;
      }
    }
    for (const Callback& cb : kind == Transition::kFired ? alert_callbacks : resolved_callbacks) {
      cb(alert);
    }
  }
  return transitions;
}

std::vector<Alert> AlertEngine::Active() const {
  std::lock_guard lock(mu_);
  std::vector<Alert> out;
  for (const RuleState& s : rules_) {
    if (s.active) out.push_back(*s.active);
  }
  return out;
}

std::vector<Alert> AlertEngine::History() const {
  std::lock_guard lock(mu_);
  return history_;
}

std::int64_t AlertEngine::suppressed() const {
  std::lock_guard lock(mu_);
  return suppressed_;
}

}  // namespace vibekit::analytics
