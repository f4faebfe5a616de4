#include "analytics/anomaly_detector.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

#include "analytics/series_stats.h"

namespace vibekit::analytics {

std::string_view AnomalyKindName(AnomalyKind kind) noexcept {
  switch (kind) {
    case AnomalyKind::kSpike: return "spike";
    case AnomalyKind::kDrop: return "drop";
    case AnomalyKind::kLevelShift: return "level_shift";
  }
  return "spike";
}

std::string_view SeverityName(Severity severity) noexcept {
  switch (severity) {
    case Severity::kLow: return "low";
    case Severity::kMedium: return "medium";
    case Severity::kHigh: return "high";
    case Severity::kCritical: return "critical";
  }
  return "low";
}

namespace {

constexpr double kMadToSigma = 1.4826;

struct Scored {
  double expected = 0;
  double z = 0;
  bool scored = false;
  bool shift = false;  // part of a sustained deviation called a level shift
};

// Seasonal expectation at t: median of the same phase (± halfwidth) in previous cycles, or
// NaN when there are not enough cycles.
double SeasonalBase(std::span<const double> x, std::size_t t, const DetectorOptions& o) {
  if (o.period <= 0) return std::numeric_limits<double>::quiet_NaN();
  const auto period = static_cast<std::size_t>(o.period);
  const std::size_t cycles = t / period;
  if (cycles < static_cast<std::size_t>(o.min_cycles)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  std::vector<double> same_phase;
  for (std::size_t c = 1; c <= std::min<std::size_t>(cycles, o.max_cycles); ++c) {
    const std::size_t center = t - c * period;
    const std::size_t lo = center >= static_cast<std::size_t>(o.phase_halfwidth)
                               ? center - o.phase_halfwidth
                               : 0;
    const std::size_t hi = std::min(center + o.phase_halfwidth, t - 1);
    for (std::size_t i = lo; i <= hi; ++i) {
      if (!std::isnan(x[i])) same_phase.push_back(x[i]);
    }
  }
  return Median(same_phase);
}

Severity SeverityOf(double abs_z, double threshold) {
  if (abs_z >= 3 * threshold) return Severity::kCritical;
  if (abs_z >= 2 * threshold) return Severity::kHigh;
  if (abs_z >= 1.5 * threshold) return Severity::kMedium;
  return Severity::kLow;
}

bool Flagged(double z, const DetectorOptions& o) {
  switch (o.direction) {
    case Direction::kAbove: return z >= o.threshold;
    case Direction::kBelow: return z <= -o.threshold;
    case Direction::kBoth: return std::fabs(z) >= o.threshold;
  }
  return false;
}

}  // namespace

DetectorOptions OptionsForMetric(std::string_view metric, int period) {
  DetectorOptions o;
  o.period = period;
  if (metric == "error_rate") {
    o.direction = Direction::kAbove;
    o.min_scale = 1.0;  // percentage points: binomial noise at a few hundred events per bucket
  } else if (metric == "throughput") {
    o.min_scale = 1.0;  // one event per bucket
  } else if (metric == "response_time" || metric == "session_duration" ||
             metric == "token_usage") {
    o.log_scale = true;
  }
  return o;
}

std::vector<SeriesAnomaly> DetectAnomalies(std::span<const double> values,
                                           const DetectorOptions& o) {
  const std::size_t n = values.size();
  std::vector<double> transformed;
  if (o.log_scale) {
    transformed.reserve(n);
    for (double v : values) {
      transformed.push_back(std::isnan(v) || v < 0 ? std::numeric_limits<double>::quiet_NaN()
                                                   : std::log1p(v));
    }
  }
  std::span<const double> x = o.log_scale ? std::span<const double>(transformed) : values;
  std::vector<Scored> scored(n);
  // Trailing raw values (non-seasonal base) and residuals (scale, seasonal level correction) of
  // points that were not flagged, so an anomaly does not become its own baseline.
  std::deque<double> recent;
  std::deque<double> residuals;
  const auto window = static_cast<std::size_t>(std::max(o.window, 3));
  int points_seen = 0;
  // The latest scored points while they all deviate by at least shift_threshold on one side.
  struct RunPoint {
    std::size_t t;
    double value, residual;
  };
  std::vector<RunPoint> sustained;
  int sustained_sign = 0;
  const auto shift_run = static_cast<std::size_t>(std::max(o.level_shift_min_run, 3));

  for (std::size_t t = 0; t < n; ++t) {
    if (std::isnan(x[t])) continue;
    const double seasonal = SeasonalBase(x, t, o);
    double expected;
    if (!std::isnan(seasonal)) {
      std::vector<double> res(residuals.begin(), residuals.end());
      expected = seasonal + (res.empty() ? 0.0 : Median(res));
    } else {
      std::vector<double> r(recent.begin(), recent.end());
      expected = r.empty() ? x[t] : Median(r);
    }
    const double residual = x[t] - (std::isnan(seasonal) ? expected : seasonal);

    bool flagged = false;
    if (points_seen >= o.min_history && residuals.size() >= 3) {
      std::vector<double> res(residuals.begin(), residuals.end());
      const double med = Median(res);
      double scale = kMadToSigma * MedianAbsoluteDeviation(res, med) *
                     (1.0 + 1.0 / std::sqrt(static_cast<double>(res.size())));
      const double floor_base = o.log_scale ? std::expm1(expected) : expected;
      double abs_floor = std::max(o.min_scale, o.relative_scale_floor * std::fabs(floor_base));
      if (o.log_scale) abs_floor = std::log1p(abs_floor / (1.0 + std::fabs(floor_base)));
      scale = std::max({scale, abs_floor, std::numeric_limits<double>::min()});
      scored[t] = {expected, (x[t] - expected) / scale, true, false};
      flagged = Flagged(scored[t].z, o);

      const double z = scored[t].z;
      const int sign = z > 0 ? 1 : -1;
      const bool deviates = std::fabs(z) >= o.shift_threshold &&
                            Flagged(sign * std::max(std::fabs(z), o.threshold), o);
      if (!deviates || sign != sustained_sign) sustained.clear();
      if (deviates) {
        sustained_sign = sign;
        sustained.push_back({t, x[t], residual});
      }
    }
    ++points_seen;
    if (sustained.size() >= shift_run) {
      // The series has moved: mark the run as a level shift, restart the baseline from it
      // (the new normal) and warm up again before flagging anything.
      std::vector<double> level;
      for (const RunPoint& p : sustained) {
        scored[p.t].shift = true;
        level.push_back(p.value);
      }
      const double m = Median(level);
      recent.clear();
      residuals.clear();
      for (const RunPoint& p : sustained) {
        recent.push_back(p.value);
        residuals.push_back(std::isnan(seasonal) ? p.value - m : p.residual);
      }
      points_seen = static_cast<int>(sustained.size());
      sustained.clear();
      sustained_sign = 0;
      continue;
    }
    if (!flagged) {
      recent.push_back(x[t]);
      residuals.push_back(residual);
      if (recent.size() > window) recent.pop_front();
      if (residuals.size() > window) residuals.pop_front();
    }
  }
  if (o.log_scale) {
    for (Scored& s : scored) {
      if (s.scored) s.expected = std::expm1(s.expected);
    }
  }

  // Group flagged points into anomalies.
  std::vector<SeriesAnomaly> out;
  std::vector<double> history_abs_z;  // |z| of every scored point before the current one
  SeriesAnomaly cur;
  bool open = false;
  std::size_t last_flag = 0;
  bool has_shift = false;
  auto close = [&] {
    if (has_shift) {
      cur.kind = AnomalyKind::kLevelShift;
    } else {
      cur.kind = cur.z >= 0 ? AnomalyKind::kSpike : AnomalyKind::kDrop;
    }
    out.push_back(cur);
    open = false;
  };
  std::size_t history_before_open = 0;
  for (std::size_t t = 0; t < n; ++t) {
    if (!scored[t].scored) continue;
    const double z = scored[t].z;
    if (Flagged(z, o) || scored[t].shift) {
      if (open && t - last_flag > static_cast<std::size_t>(o.merge_gap) + 1) close();
      if (!open) {
        cur = SeriesAnomaly{};
        cur.start = t;
        cur.peak = t;
        cur.z = 0;
        open = true;
        has_shift = false;
        history_before_open = history_abs_z.size();
      }
      cur.end = t;
      last_flag = t;
      has_shift = has_shift || scored[t].shift;
      if (std::fabs(z) > std::fabs(cur.z)) {
        cur.peak = t;
        cur.z = z;
        cur.observed = values[t];
        cur.expected = scored[t].expected;
      }
      // Confidence against the history before this anomaly only.
      std::size_t exceed = 0;
      for (std::size_t i = 0; i < history_before_open; ++i) {
        if (history_abs_z[i] >= std::fabs(cur.z)) ++exceed;
      }
      const double p = (1.0 + static_cast<double>(exceed)) /
                       (static_cast<double>(history_before_open) + 1.0);
      cur.confidence_pct = 100.0 * (1.0 - p);
      cur.severity = SeverityOf(std::fabs(cur.z), o.threshold);
    } else if (open && t - last_flag > static_cast<std::size_t>(o.merge_gap)) {
      close();
    }
    history_abs_z.push_back(std::fabs(z));
  }
  if (open) close();
  return out;
}

}  // namespace vibekit::analytics
