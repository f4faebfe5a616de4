#include "common/quantile_sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace vibekit::analytics {
namespace {

double ExactLowerRank(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(std::floor(q * static_cast<double>(v.size() - 1)))];
}

TEST(QuantileSketch, QuantilesWithinTheRelativeAccuracyOnSkewedData) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(7.0, 1.2);  // latency-like: heavy right tail
  std::vector<double> values;
  QuantileSketch sketch;
  for (int i = 0; i < 50000; ++i) {
    const double v = dist(rng);
    values.push_back(v);
    sketch.Add(v);
  }
  EXPECT_EQ(sketch.count(), 50000);
  for (double q : {0.0, 0.5, 0.9, 0.95, 0.99, 1.0}) {
    const double exact = ExactLowerRank(values, q);
    EXPECT_NEAR(sketch.Quantile(q), exact, exact * QuantileSketch::kRelativeAccuracy * 1.0001)
        << "q=" << q;
  }
}

TEST(QuantileSketch, MergeEqualsOneSketchOfEverything) {
  QuantileSketch a, b, all;
  for (int i = 1; i <= 1000; ++i) {
    (i % 3 == 0 ? a : b).Add(i * 1.5);
    all.Add(i * 1.5);
  }
  a.Add(0, 5);
  all.Add(0, 5);
  QuantileSketch merged = a;
  merged.Merge(b);
  EXPECT_EQ(merged, all);
  EXPECT_EQ(merged.Quantile(0.0), 0.0) << "zeros count";
  EXPECT_EQ(merged.count(), 1005);
}

TEST(QuantileSketch, EncodeDecodeRoundTripAndCorruptionIsRefused) {
  QuantileSketch s;
  for (double v : {0.0, 0.001, 1.0, 2.0, 1e9, 123.4, 123.5}) s.Add(v, 3);
  const std::string bytes = s.Encode();
  auto back = QuantileSketch::Decode(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, s);
  EXPECT_LT(bytes.size(), 40u) << "compact";
  EXPECT_FALSE(QuantileSketch::Decode(bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_FALSE(QuantileSketch::Decode(bytes + "x").ok());
  EXPECT_FALSE(QuantileSketch::Decode("").ok());
  auto empty = QuantileSketch::Decode(QuantileSketch().Encode());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(empty->Quantile(0.5), 0.0);
}

}  // namespace
}  // namespace vibekit::analytics
