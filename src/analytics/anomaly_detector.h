// Anomaly detection on a regularly sampled metric series (one value per bucket, e.g. per minute).
//
// Method, per point t (nothing from the future is used):
//  1. Expected value. Without seasonality: the median of the trailing `window` points. With a
//     season of `period` buckets (e.g. 1440 one-minute buckets = hour of day) and at least
//     `min_cycles` full cycles of history: the median of the points within ±`phase_halfwidth`
//     buckets of the same phase in up to `max_cycles` previous cycles, shifted by the median
//     residual of the trailing window (so a slow level change is followed).
//  2. Scale. 1.4826 × the median absolute deviation of the trailing residuals, widened by
//     (1 + 1/√n) for the uncertainty of that estimate from n residuals, floored by `min_scale`
//     and by `relative_scale_floor` × |expected| (a flat series is not "infinitely" surprised
//     by a small wiggle). With `log_scale` (latencies, durations, token counts: quantities
//     whose noise is multiplicative) all of this runs on log(1 + x); expected and observed
//     values are reported in the metric's own unit.
//  3. Robust z = (x - expected) / scale. Points with |z| ≥ `threshold` in the chosen direction
//     are flagged; flagged points closer than `merge_gap` buckets form one anomaly.
//  4. Level shifts: `level_shift_min_run` consecutive points all deviating by at least
//     `shift_threshold` (a lower bar than `threshold`: sustained evidence adds up) on one side
//     are a level shift. The baseline then restarts from those points (the new level is the new
//     normal) and nothing is flagged until `min_history` points of it were seen. Other
//     anomalies are spikes (above) or drops (below).
//  5. Confidence (%): 100 × (1 - p) where p = (1 + #{history points with |z| ≥ peak |z|}) /
//     (N + 1) over the N points scored before the anomaly: an empirical tail probability, so it
//     grows with the amount of unremarkable history, and never claims certainty.
//  6. Severity from the peak |z|: low < 1.5 × threshold ≤ medium < 2 × ≤ high < 3 × ≤ critical.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vibekit::analytics {

enum class Direction { kBoth, kAbove, kBelow };
enum class AnomalyKind { kSpike, kDrop, kLevelShift };
enum class Severity { kLow, kMedium, kHigh, kCritical };

std::string_view AnomalyKindName(AnomalyKind kind) noexcept;
std::string_view SeverityName(Severity severity) noexcept;

struct DetectorOptions {
  int window = 60;            // trailing points for the non-seasonal baseline and the scale
  int min_history = 30;       // points seen before anything may be flagged
  double threshold = 4.5;     // robust z
  Direction direction = Direction::kBoth;
  int period = 0;             // season length in buckets; 0: none
  int min_cycles = 2;         // full cycles needed before the seasonal baseline is used
  int max_cycles = 7;
  int phase_halfwidth = 5;
  double min_scale = 0;       // absolute floor of the scale, in the metric's unit
  double relative_scale_floor = 0.02;
  bool log_scale = false;
  int merge_gap = 2;
  int level_shift_min_run = 8;
  double shift_threshold = 3.0;
};

struct SeriesAnomaly {
  std::size_t start = 0;  // first flagged index
  std::size_t end = 0;    // last flagged index (inclusive)
  std::size_t peak = 0;   // index of the largest |z|
  AnomalyKind kind = AnomalyKind::kSpike;
  double observed = 0;    // value at the peak
  double expected = 0;    // baseline at the peak
  double z = 0;           // robust z at the peak
  double confidence_pct = 0;
  Severity severity = Severity::kLow;
};

// The settings used for the metrics the service watches: response_time, session_duration and
// token_usage on a log scale; error_rate (in %) only upwards with a scale of at least one
// percentage point; throughput (events per bucket) with a scale of at least one event. Unknown
// names get the defaults. `period` is copied in.
DetectorOptions OptionsForMetric(std::string_view metric, int period);

// NaN values are missing buckets: skipped, never flagged. Returns anomalies in time order.
std::vector<SeriesAnomaly> DetectAnomalies(std::span<const double> values,
                                           const DetectorOptions& options);

}  // namespace vibekit::analytics
