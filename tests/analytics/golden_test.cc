// Judges the anomaly detector and the forecaster on the labelled series in cases/ (written by
// cases/generate.py): precision and recall per metric, forecast error against the naive
// last-value forecast. Prints the figures so they can be quoted.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "analytics/anomaly_detector.h"
#include "analytics/forecast.h"

namespace vibekit::analytics {
namespace {

struct Interval {
  std::size_t start = 0;
  std::size_t end = 0;
};

struct Case {
  std::string name;
  std::string metric;
  int period = 0;
  std::string direction;
  std::vector<double> values;
  std::vector<Interval> labelled;
};

Case ReadCase(const std::filesystem::path& path) {
  Case c;
  c.name = path.stem().string();
  std::ifstream in(path);
  std::string line;
  std::vector<int> labels;
  while (std::getline(in, line)) {
    if (line.rfind("# metric: ", 0) == 0) c.metric = line.substr(10);
    if (line.rfind("# period: ", 0) == 0) c.period = std::stoi(line.substr(10));
    if (line.rfind("# direction: ", 0) == 0) c.direction = line.substr(13);
    if (line.empty() || line[0] == '#' || line.rfind("index", 0) == 0) continue;
    std::istringstream row(line);
    std::string idx, value, label;
    std::getline(row, idx, ',');
    std::getline(row, value, ',');
    std::getline(row, label, ',');
    c.values.push_back(std::stod(value));
    labels.push_back(std::stoi(label));
  }
  for (std::size_t t = 0; t < labels.size(); ++t) {
    if (labels[t] == 1 && (t == 0 || labels[t - 1] == 0)) c.labelled.push_back({t, t});
    if (labels[t] == 1) c.labelled.back().end = t;
  }
  return c;
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const auto& entry : std::filesystem::directory_iterator(VIBEKIT_ANALYTICS_CASES)) {
    if (entry.path().extension() == ".csv") cases.push_back(ReadCase(entry.path()));
  }
  std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

bool Overlaps(const SeriesAnomaly& a, const Interval& l, std::size_t tolerance) {
  const std::size_t lo = l.start >= tolerance ? l.start - tolerance : 0;
  return a.start <= l.end + tolerance && a.end >= lo;
}

struct Score {
  int detections = 0;
  int true_detections = 0;
  int labels = 0;
  int found_labels = 0;
  double precision() const { return detections == 0 ? 1.0 : double(true_detections) / detections; }
  double recall() const { return labels == 0 ? 1.0 : double(found_labels) / labels; }
};

TEST(GoldenCases, AreThereAndLabelled) {
  std::vector<Case> cases = AllCases();
  ASSERT_GE(cases.size(), 12u);
  std::set<std::string> metrics;
  for (const Case& c : cases) {
    metrics.insert(c.metric);
    EXPECT_FALSE(c.labelled.empty()) << c.name;
    EXPECT_GE(c.values.size(), 720u) << c.name;
  }
  EXPECT_EQ(metrics, (std::set<std::string>{"error_rate", "response_time", "session_duration",
                                            "throughput", "token_usage"}));
}

TEST(GoldenCases, DetectorPrecisionAndRecallPerMetricAtLeast90Percent) {
  std::map<std::string, Score> per_metric;
  for (const Case& c : AllCases()) {
    const DetectorOptions o = OptionsForMetric(c.metric, c.period);
    const std::vector<SeriesAnomaly> found = DetectAnomalies(c.values, o);
    Score& s = per_metric[c.metric];
    s.detections += static_cast<int>(found.size());
    s.labels += static_cast<int>(c.labelled.size());
    for (const SeriesAnomaly& a : found) {
      bool hit = false;
      for (const Interval& l : c.labelled) hit = hit || Overlaps(a, l, 2);
      s.true_detections += hit ? 1 : 0;
      if (!hit) {
        std::cout << c.name << ": false alarm at " << a.start << "-" << a.end << " z=" << a.z
                  << "\n";
      }
      EXPECT_GT(a.confidence_pct, 0.0);
      EXPECT_LT(a.confidence_pct, 100.0);
    }
    for (const Interval& l : c.labelled) {
      bool hit = false;
      for (const SeriesAnomaly& a : found) hit = hit || Overlaps(a, l, 2);
      s.found_labels += hit ? 1 : 0;
      if (!hit) std::cout << c.name << ": missed " << l.start << "-" << l.end << "\n";
    }
  }
  for (const auto& [metric, s] : per_metric) {
    std::cout << "{\"metric\":\"" << metric << "\",\"precision\":" << s.precision()
              << ",\"recall\":" << s.recall() << ",\"detections\":" << s.detections
              << ",\"labels\":" << s.labels << "}\n";
    EXPECT_GE(s.precision(), 0.9) << metric;
    EXPECT_GE(s.recall(), 0.9) << metric;
  }
}

TEST(GoldenCases, KindsMatchTheInjectedAnomalies) {
  for (const Case& c : AllCases()) {
    if (c.name.find("_shift") == std::string::npos) continue;
    const std::vector<SeriesAnomaly> found = DetectAnomalies(c.values, OptionsForMetric(c.metric, c.period));
    const Interval& shift = c.labelled.back();  // the generator puts the level shift last
    bool seen = false;
    for (const SeriesAnomaly& a : found) {
      if (Overlaps(a, shift, 2)) seen = seen || a.kind == AnomalyKind::kLevelShift;
    }
    EXPECT_TRUE(seen) << c.name << ": the level shift at " << shift.start << " was not called one";
  }
}

TEST(GoldenCases, HoltWintersBeatsTheNaiveForecastOnSeasonalCases) {
  int seasonal = 0;
  for (const Case& c : AllCases()) {
    if (c.period == 0) continue;
    ++seasonal;
    // The clean history before the first injected anomaly.
    std::vector<double> history(c.values.begin(),
                                c.values.begin() + static_cast<std::ptrdiff_t>(c.labelled.front().start));
    ForecastOptions o;
    o.period = c.period;
    const Forecast f = ForecastSeries(history, 60, o);
    std::cout << "{\"case\":\"" << c.name << "\",\"method\":\"" << f.method
              << "\",\"backtest_mae\":" << f.backtest_mae << ",\"naive_mae\":" << f.naive_mae
              << "}\n";
    EXPECT_EQ(f.method, "holt_winters") << c.name;
    EXPECT_EQ(f.backtest_points, 60);
    EXPECT_LT(f.backtest_mae, f.naive_mae) << c.name;
    ASSERT_EQ(f.points.size(), 60u);
    for (std::size_t h = 1; h < f.points.size(); ++h) {
      EXPECT_LE(f.points[h].lower, f.points[h].value);
      EXPECT_GE(f.points[h].upper, f.points[h].value);
      EXPECT_GE(f.points[h].upper - f.points[h].lower,
                f.points[h - 1].upper - f.points[h - 1].lower - 1e-9)
          << "intervals widen with the horizon";
    }
  }
  EXPECT_GE(seasonal, 3);
}

}  // namespace
}  // namespace vibekit::analytics
