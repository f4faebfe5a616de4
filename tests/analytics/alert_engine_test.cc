#include "analytics/alert_engine.h"

#include <gtest/gtest.h>

namespace vibekit::analytics {
namespace {

using Transition = AlertEngine::Transition;

TEST(AlertEngine, DefaultsAreTheReferenceThresholds) {
  std::vector<AlertRule> rules = DefaultAlertRules();
  ASSERT_EQ(rules.size(), 4u);
  EXPECT_EQ(rules[0].metric, "response_time");
  EXPECT_EQ(rules[0].threshold, 5000);
  EXPECT_EQ(rules[1].metric, "error_rate");
  EXPECT_EQ(rules[1].threshold, 5);
  EXPECT_EQ(rules[2].metric, "throughput");
  EXPECT_EQ(rules[2].direction, ThresholdDirection::kBelow);
  EXPECT_EQ(rules[3].metric, "disk_usage");
  EXPECT_EQ(rules[3].threshold, 80);
}

TEST(AlertEngine, FiresOnceWhileCrossedResolvesWhenBackAndHonoursTheCooldown) {
  AlertEngine engine({{"error_rate", 5, ThresholdDirection::kAbove, Severity::kHigh, 60000}});
  std::vector<Alert> fired;
  std::vector<Alert> resolved;
  engine.OnAlert([&](const Alert& a) { fired.push_back(a); });
  engine.OnResolved([&](const Alert& a) { resolved.push_back(a); });

  EXPECT_TRUE(engine.Evaluate({{"error_rate", 4.9}}, 0).empty());
  auto t = engine.Evaluate({{"error_rate", 7}}, 1000);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].first, Transition::kFired);
  EXPECT_TRUE(engine.Evaluate({{"error_rate", 9}}, 2000).empty()) << "de-duplicated";
  EXPECT_TRUE(engine.Evaluate({{"error_rate", 12}}, 3000).empty());
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].value, 7);
  EXPECT_EQ(fired[0].fired_at_ms, 1000);
  EXPECT_EQ(fired[0].message, "error_rate is 7, above the threshold of 5");
  EXPECT_EQ(engine.Active().size(), 1u);

  t = engine.Evaluate({{"error_rate", 3}}, 4000);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].first, Transition::kResolved);
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].id, fired[0].id);
  EXPECT_EQ(resolved[0].resolved_at_ms, 4000);
  EXPECT_TRUE(engine.Active().empty());

  // Crossed again inside the cooldown (60 s from the firing at 1 s): suppressed, counted once.
  EXPECT_TRUE(engine.Evaluate({{"error_rate", 8}}, 30000).empty());
  EXPECT_TRUE(engine.Evaluate({{"error_rate", 8}}, 40000).empty());
  EXPECT_EQ(engine.suppressed(), 1);
  EXPECT_EQ(fired.size(), 1u);
  // After the cooldown it fires again.
  t = engine.Evaluate({{"error_rate", 8}}, 61000);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(fired.size(), 2u);
  EXPECT_GT(fired[1].id, fired[0].id);

  const std::vector<Alert> history = engine.History();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].resolved_at_ms, 4000);
  EXPECT_FALSE(history[1].resolved_at_ms);
}

TEST(AlertEngine, BelowRulesMissingSamplesRecorderAndUnsubscribe) {
  AlertEngine engine;
  std::vector<std::pair<Transition, std::string>> recorded;
  engine.SetRecorder([&](Transition t, const Alert& a) -> std::int64_t {
    recorded.emplace_back(t, a.metric);
    return 0;
  });
  int calls = 0;
  const auto id = engine.OnAlert([&](const Alert&) { ++calls; });
  engine.Evaluate({{"throughput", 4}, {"response_time", 100}}, 10);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(engine.Active().at(0).metric, "throughput");
  // No sample for throughput: it stays firing.
  engine.Evaluate({{"response_time", 100}}, 20);
  EXPECT_EQ(engine.Active().size(), 1u);
  engine.Unsubscribe(id);
  engine.Evaluate({{"disk_usage", 95}}, 30);
  EXPECT_EQ(calls, 1) << "unsubscribed";
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[1].second, "disk_usage");

  engine.SetRule({"throughput", 2, ThresholdDirection::kBelow, Severity::kLow, 0});
  engine.Evaluate({{"throughput", 4}}, 40);
  EXPECT_EQ(engine.Active().size(), 1u) << "only disk_usage still firing";
  EXPECT_TRUE(engine.RemoveRule("disk_usage"));
  EXPECT_FALSE(engine.RemoveRule("disk_usage"));
  EXPECT_EQ(engine.Rules().size(), 3u);
}

TEST(AlertEngine, CallbacksMayCallBackIn) {
  AlertEngine engine({{"x", 1, ThresholdDirection::kAbove, Severity::kLow, 0}});
  std::size_t active_seen = 0;
  engine.OnAlert([&](const Alert&) { active_seen = engine.Active().size(); });
  engine.Evaluate({{"x", 2}}, 0);
  EXPECT_EQ(active_seen, 1u);
}

}  // namespace
}  // namespace vibekit::analytics
