// Per-minute rollups for analytics, kept up to date at ingest so dashboard-scale questions cost
// O(minutes × agents × modes), not O(events). Backend-independent: every Store feeds the same
// accumulator and writes its rows.
//
// One row per (minute, agent_type, mode) holds, for the events whose timestamp falls in that
// minute:
//   events by type; sessions started (start events);
//   response time = time from a session's start to its first stream event, counted in the
//     minute of that first stream event (count, sum, quantile sketch);
//   stream gap = time between consecutive stream events of a session, in the minute of the later
//     one (count, sum, sketch);
// and, for the sessions whose start_time falls in that minute (kept current as they change, like
// the telemetry_stats rollup: the old contribution is taken out, the new one put in):
//   sessions by status (active, completed, failed, timeout);
//   session duration of those that are over (completed, failed, timeout) and have one
//     (count, sum, sketch — sketch buckets are exact functions of the value, so removal is exact);
// plus
//   tokens and cost read from event metadata (common/genai_usage.h); bytes of stream data.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "common/quantile_sketch.h"
#include "vibekit/event.h"

namespace vibekit::store {

constexpr std::int64_t kMinuteMs = 60'000;
inline std::int64_t MinuteOf(std::int64_t ms) {
  return (ms >= 0 ? ms / kMinuteMs : (ms - kMinuteMs + 1) / kMinuteMs) * kMinuteMs;
}

// Coarser levels kept next to the minutes (telemetry_period_rollups): each hour and day row is
// the merge of its minute rows, so a long range reads O(days + hours + minutes at its edges).
constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kDayMs = 86'400'000;
// Start of the period of length `period_ms` that holds `ms` (floor, also for negative times).
inline std::int64_t PeriodOf(std::int64_t ms, std::int64_t period_ms) {
  return (ms >= 0 ? ms / period_ms : (ms - period_ms + 1) / period_ms) * period_ms;
}

struct MinuteKey {
  std::int64_t minute = 0;  // ms at the start of the minute
  std::string agent_type;
  std::string mode;  // "" when none
  auto operator<=>(const MinuteKey&) const = default;
};

struct LatencyAggregate {
  std::int64_t count = 0;
  std::int64_t sum_ms = 0;
  analytics::QuantileSketch sketch;
  void Add(std::int64_t ms) {
    ++count;
    sum_ms += ms;
    sketch.Add(static_cast<double>(ms));
  }
  void Remove(std::int64_t ms) {
    --count;
    sum_ms -= ms;
    sketch.Remove(static_cast<double>(ms));
  }
  void Merge(const LatencyAggregate& o) {
    count += o.count;
    sum_ms += o.sum_ms;
    sketch.Merge(o.sketch);
  }
  bool operator==(const LatencyAggregate&) const = default;
};

struct MinuteCounts {
  std::int64_t events = 0;
  std::int64_t start_events = 0;
  std::int64_t stream_events = 0;
  std::int64_t end_events = 0;
  std::int64_t error_events = 0;
  std::int64_t sessions_active = 0;  // by the session's current status, at its start minute
  std::int64_t sessions_completed = 0;
  std::int64_t sessions_failed = 0;
  std::int64_t sessions_timeout = 0;
  LatencyAggregate response;  // start -> first stream, at the first stream's minute
  LatencyAggregate gap;       // stream -> next stream, at the later one's minute
  LatencyAggregate duration;  // sessions over (not active) with a duration, at their start minute
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  double cost_usd = 0;
  std::int64_t stream_bytes = 0;

  void Merge(const MinuteCounts& o);
  bool operator==(const MinuteCounts&) const = default;
};

struct MinuteRow {
  MinuteKey key;
  MinuteCounts counts;
};

// What the accumulator needs to know of a session before the batch.
struct SessionBefore {
  std::optional<Session> row;
  // Timestamp of its newest stream event already stored (for the gap), if any.
  std::optional<std::int64_t> last_stream_time;
};

class MinuteRollupDelta {
 public:
  // `events`: one session's events of this batch, in order; `after` its row after them.
  void AddSessionEvents(const SessionBefore& before, std::span<const Event* const> events,
                        const Session& after);
  // A session row changed outside a batch (the timeout sweep): old -> new contribution.
  void ReplaceSession(const std::optional<Session>& old_row, const Session& new_row);
  // A session row removed (sign -1) or added (+1) as a whole.
  void AddSession(const Session& session, int sign);

  const std::map<MinuteKey, MinuteCounts>& rows() const { return rows_; }
  bool empty() const { return rows_.empty(); }

 private:
  MinuteCounts& At(std::int64_t ms, const std::string& agent, const std::optional<std::string>& mode);
  std::map<MinuteKey, MinuteCounts> rows_;
};

}  // namespace vibekit::store
