#include "analytics/forecast.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "analytics/series_stats.h"

namespace vibekit::analytics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Fit {
  double sse = std::numeric_limits<double>::infinity();
  int errors = 0;
  double level = 0, trend = 0;
  std::vector<double> season;  // indexed by t mod period
  double alpha = 0, beta = 0, gamma = 0;
};

double Mean(std::span<const double> v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// One pass of additive Holt-Winters (period > 0) or Holt (period == 0) with fixed parameters.
Fit RunModel(std::span<const double> x, int period, double a, double b, double g) {
  Fit f;
  f.alpha = a;
  f.beta = b;
  f.gamma = g;
  std::size_t t0;
  if (period > 0) {
    // Initial state from the first two cycles: level = mean of the first, trend = the change
    // of the cycle means, season = each phase's deviation from its cycle mean averaged over
    // both cycles and smoothed over neighbouring phases (±period/96, i.e. ±15 one-minute
    // buckets for a daily season), so one noisy bucket does not become part of the pattern.
    const auto p = static_cast<std::size_t>(period);
    const double m1 = Mean(x.subspan(0, p));
    const double m2 = Mean(x.subspan(p, p));
    f.level = m1;
    f.trend = (m2 - m1) / static_cast<double>(p);
    std::vector<double> raw(p);
    for (std::size_t i = 0; i < p; ++i) raw[i] = ((x[i] - m1) + (x[p + i] - m2)) / 2;
    const std::size_t w = std::max<std::size_t>(0, p / 96);
    f.season.assign(p, 0.0);
    for (std::size_t i = 0; i < p; ++i) {
      double sum = 0;
      for (std::size_t k = 0; k <= 2 * w; ++k) sum += raw[(i + p + k - w) % p];
      f.season[i] = sum / static_cast<double>(2 * w + 1);
    }
    t0 = p;
  } else {
    f.level = x[0];
    f.trend = x.size() > 1 ? x[1] - x[0] : 0.0;
    t0 = 1;
  }
  double sse = 0;
  int count = 0;
  for (std::size_t t = t0; t < x.size(); ++t) {
    const double s = period > 0 ? f.season[t % period] : 0.0;
    const double forecast = f.level + f.trend + s;
    const double err = x[t] - forecast;
    sse += err * err;
    ++count;
    const double prev_level = f.level;
    f.level = a * (x[t] - s) + (1 - a) * (f.level + f.trend);
    f.trend = b * (f.level - prev_level) + (1 - b) * f.trend;
    if (period > 0) f.season[t % period] = g * (x[t] - f.level) + (1 - g) * s;
  }
  f.sse = sse;
  f.errors = count;
  return f;
}

Fit BestFit(std::span<const double> x, int period) {
  static constexpr double kAlphas[] = {0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9};
  static constexpr double kBetas[] = {0.0, 0.01, 0.05, 0.1, 0.2};
  static constexpr double kGammas[] = {0.05, 0.1, 0.2, 0.3, 0.5};
  Fit best;
  for (double a : kAlphas) {
    for (double b : kBetas) {
      if (period > 0) {
        for (double g : kGammas) {
          Fit f = RunModel(x, period, a, b, g);
          if (f.sse < best.sse) best = std::move(f);
        }
      } else {
        Fit f = RunModel(x, 0, a, b, 0);
        if (f.sse < best.sse) best = std::move(f);
      }
    }
  }
  return best;
}

// Which model the series supports.
int UsablePeriod(std::size_t n, int period) {
  return period > 1 && n >= 2 * static_cast<std::size_t>(period) ? period : 0;
}

std::vector<double> Filled(std::span<const double> values) {
  std::vector<double> x(values.begin(), values.end());
  double last = kNaN;
  for (double& v : x) {
    if (std::isnan(v)) {
      v = last;
    } else {
      last = v;
    }
  }
  // Leading gaps take the first real value.
  auto first = std::find_if(x.begin(), x.end(), [](double v) { return !std::isnan(v); });
  if (first == x.end()) return {};
  std::fill(x.begin(), first, *first);
  return x;
}

struct PointForecast {
  std::string method;
  Fit fit;
  int period = 0;
};

PointForecast FitSeries(std::span<const double> x, int period) {
  PointForecast pf;
  pf.period = UsablePeriod(x.size(), period);
  if (x.size() < 3) {
    pf.method = "last_value";
    pf.fit.level = x.empty() ? 0.0 : x.back();
    pf.fit.sse = 0;
    pf.fit.errors = 0;
    return pf;
  }
  pf.fit = BestFit(x, pf.period);
  pf.method = pf.period > 0 ? "holt_winters" : "holt";
  return pf;
}

double PredictAt(const PointForecast& pf, std::size_t n, int h) {
  const Fit& f = pf.fit;
  double v = f.level + h * f.trend;
  if (pf.period > 0) v += f.season[(n + h - 1) % pf.period];
  return v;
}

}  // namespace

Forecast ForecastSeries(std::span<const double> values, int horizon, const ForecastOptions& o) {
  Forecast out;
  horizon = std::max(horizon, 1);
  const std::vector<double> x = Filled(values);
  if (x.empty()) {
    out.method = "last_value";
    out.backtest_mae = out.naive_mae = kNaN;
    return out;
  }
  const PointForecast pf = FitSeries(x, o.period);
  out.method = pf.method;
  out.alpha = pf.fit.alpha;
  out.beta = pf.fit.beta;
  out.gamma = pf.fit.gamma;
  out.sigma = pf.fit.errors > 0 ? std::sqrt(pf.fit.sse / pf.fit.errors) : 0.0;
  const double z = NormalQuantile(0.5 + std::clamp(o.level, 0.5, 0.999) / 2);
  double var_sum = 1.0;  // 1 + Σ c_j² for j < h
  for (int h = 1; h <= horizon; ++h) {
    if (h > 1) {
      const int j = h - 1;
      double c = out.alpha * (1 + j * out.beta);
      if (pf.period > 0 && j % pf.period == 0) c += out.gamma;
      var_sum += c * c;
    }
    ForecastPoint p;
    p.value = pf.method == "last_value" ? x.back() : PredictAt(pf, x.size(), h);
    const double half = z * out.sigma * std::sqrt(var_sum);
    p.lower = p.value - half;
    p.upper = p.value + half;
    out.points.push_back(p);
  }

  out.backtest_mae = out.naive_mae = kNaN;
  if (o.backtest && x.size() > static_cast<std::size_t>(horizon) + 3) {
    const std::size_t train = x.size() - horizon;
    std::span<const double> head(x.data(), train);
    const PointForecast bt = FitSeries(head, o.period);
    double err = 0;
    double naive = 0;
    for (int h = 1; h <= horizon; ++h) {
      const double actual = x[train + h - 1];
      const double pred = bt.method == "last_value" ? head.back() : PredictAt(bt, train, h);
      err += std::fabs(actual - pred);
      naive += std::fabs(actual - head.back());
    }
    out.backtest_points = horizon;
    out.backtest_mae = err / horizon;
    out.naive_mae = naive / horizon;
  }
  return out;
}

}  // namespace vibekit::analytics
