// Short-horizon forecasting of a metric series with prediction intervals.
//
// Model: additive Holt-Winters (level, trend, season of `period` buckets) when the series holds
// at least two full seasons, else Holt's linear trend (the same with no season), else the last
// value. Smoothing parameters are chosen by a grid search minimising the one-step-ahead squared
// error over the series. Intervals: the h-step error variance of the additive model,
// sigma² · (1 + Σ_{j<h} (α(1 + jβ) + γ·[j mod period = 0])²), sigma² the mean squared one-step
// error, around the point forecast at the requested level (95 % by default).
// Backtest: the model is refitted on the series without its last `horizon` points and scored on
// them (mean absolute error), next to the naive forecast (last value) on the same points.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace vibekit::analytics {

struct ForecastOptions {
  int period = 0;         // season length in buckets; 0: no season
  double level = 0.95;    // prediction interval coverage
  bool backtest = true;
};

struct ForecastPoint {
  double value = 0;
  double lower = 0;
  double upper = 0;
};

struct Forecast {
  std::string method;  // "holt_winters", "holt" or "last_value"
  double alpha = 0, beta = 0, gamma = 0;
  double sigma = 0;  // RMSE of the one-step errors of the fit
  std::vector<ForecastPoint> points;  // horizon entries, one per bucket ahead
  // Backtest on the last `horizon` points (NaN when the series is too short for it).
  double backtest_mae = 0;
  double naive_mae = 0;
  int backtest_points = 0;
};

// NaN values are filled with the previous value before fitting.
Forecast ForecastSeries(std::span<const double> values, int horizon, const ForecastOptions& options);

}  // namespace vibekit::analytics
