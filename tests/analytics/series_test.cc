#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "analytics/anomaly_detector.h"
#include "analytics/forecast.h"
#include "analytics/series_stats.h"

namespace vibekit::analytics {
namespace {

TEST(SeriesStats, MedianMadQuantile) {
  std::vector<double> odd = {5, 1, 3};
  std::vector<double> even = {4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(Median(odd), 3);
  EXPECT_DOUBLE_EQ(Median(even), 2.5);
  EXPECT_TRUE(std::isnan(Median(std::vector<double>{})));
  std::vector<double> v = {1, 1, 2, 2, 4, 6, 9};
  EXPECT_DOUBLE_EQ(MedianAbsoluteDeviation(v, Median(v)), 1);
  EXPECT_DOUBLE_EQ(Quantile(v, 0.0), 1);
  EXPECT_DOUBLE_EQ(Quantile(v, 1.0), 9);
  EXPECT_DOUBLE_EQ(Quantile(std::vector<double>{0, 10}, 0.25), 2.5);
}

TEST(SeriesStats, NormalTailsAndQuantiles) {
  EXPECT_NEAR(NormalTwoSidedP(1.959964), 0.05, 1e-6);
  EXPECT_NEAR(NormalQuantile(0.975), 1.959964, 1e-6);
  EXPECT_NEAR(NormalQuantile(0.5), 0.0, 1e-9);
  EXPECT_NEAR(NormalQuantile(0.001), -3.090232, 1e-6);
}

std::vector<double> Noisy(std::size_t n, double level, double amplitude) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    // Deterministic pseudo-noise in [-amplitude, amplitude].
    v[i] = level + amplitude * std::sin(static_cast<double>(i) * 12.9898) ;
  }
  return v;
}

TEST(Detector, FindsASpikeWithItsValuesAndNothingElse) {
  std::vector<double> v = Noisy(300, 100, 5);
  v[200] = 400;
  const std::vector<SeriesAnomaly> a = DetectAnomalies(v, DetectorOptions{});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].start, 200u);
  EXPECT_EQ(a[0].peak, 200u);
  EXPECT_EQ(a[0].kind, AnomalyKind::kSpike);
  EXPECT_DOUBLE_EQ(a[0].observed, 400);
  EXPECT_NEAR(a[0].expected, 100, 5);
  EXPECT_GT(a[0].z, 20);
  EXPECT_EQ(a[0].severity, Severity::kCritical);
  // Points 30..199 were scored before it (30 = min_history), none as extreme: p = 1/171.
  EXPECT_NEAR(a[0].confidence_pct, 100.0 * (1 - 1.0 / 171), 1e-9);
}

TEST(Detector, DirectionDropsAndMissingValues) {
  std::vector<double> v = Noisy(300, 100, 5);
  v[150] = 10;
  v[250] = 300;
  v[100] = std::numeric_limits<double>::quiet_NaN();
  DetectorOptions above;
  above.direction = Direction::kAbove;
  const auto only_up = DetectAnomalies(v, above);
  ASSERT_EQ(only_up.size(), 1u);
  EXPECT_EQ(only_up[0].start, 250u);
  const auto both = DetectAnomalies(v, DetectorOptions{});
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].kind, AnomalyKind::kDrop);
  EXPECT_LT(both[0].z, 0);
}

TEST(Detector, ALevelShiftIsOneAnomalyThenTheNewNormal) {
  std::vector<double> v = Noisy(400, 100, 3);
  for (std::size_t i = 200; i < v.size(); ++i) v[i] += 50;
  const auto a = DetectAnomalies(v, DetectorOptions{});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].start, 200u);
  EXPECT_EQ(a[0].kind, AnomalyKind::kLevelShift);
  EXPECT_LT(a[0].end, 300u) << "the baseline follows the new level";
}

TEST(Detector, NothingBeforeEnoughHistory) {
  std::vector<double> v = Noisy(30, 100, 5);
  v[10] = 1000;
  DetectorOptions o;
  o.min_history = 20;
  EXPECT_TRUE(DetectAnomalies(v, o).empty());
}

TEST(Forecast, FollowsALinearTrend) {
  std::vector<double> v;
  for (int i = 0; i < 200; ++i) v.push_back(10 + 2.0 * i);
  const Forecast f = ForecastSeries(v, 5, ForecastOptions{});
  EXPECT_EQ(f.method, "holt");
  ASSERT_EQ(f.points.size(), 5u);
  for (int h = 1; h <= 5; ++h) EXPECT_NEAR(f.points[h - 1].value, 10 + 2.0 * (199 + h), 1e-6);
  EXPECT_NEAR(f.backtest_mae, 0, 1e-6);
  EXPECT_NEAR(f.naive_mae, 6.0, 1e-9) << "mean of 2,4,...,10";
}

TEST(Forecast, SeasonalPatternAndShortSeries) {
  std::vector<double> v;
  for (int i = 0; i < 24 * 6; ++i) v.push_back(50 + 20 * std::sin(2 * M_PI * i / 24.0));
  ForecastOptions o;
  o.period = 24;
  const Forecast f = ForecastSeries(v, 24, o);
  EXPECT_EQ(f.method, "holt_winters");
  for (int h = 1; h <= 24; ++h) {
    EXPECT_NEAR(f.points[h - 1].value, 50 + 20 * std::sin(2 * M_PI * (24 * 6 + h - 1) / 24.0), 1.0);
  }
  EXPECT_LT(f.backtest_mae, f.naive_mae);

  const Forecast tiny = ForecastSeries(std::vector<double>{7, 8}, 3, ForecastOptions{});
  EXPECT_EQ(tiny.method, "last_value");
  EXPECT_DOUBLE_EQ(tiny.points[2].value, 8);
  const Forecast none = ForecastSeries(std::vector<double>{}, 3, ForecastOptions{});
  EXPECT_TRUE(none.points.empty());
}

}  // namespace
}  // namespace vibekit::analytics
