#include "store/minute_rollup.h"

#include <algorithm>

#include "common/genai_usage.h"

namespace vibekit::store {

void MinuteCounts::Merge(const MinuteCounts& o) {
  events += o.events;
  start_events += o.start_events;
  stream_events += o.stream_events;
  end_events += o.end_events;
  error_events += o.error_events;
  sessions_completed += o.sessions_completed;
  sessions_failed += o.sessions_failed;
  sessions_timeout += o.sessions_timeout;
  response.Merge(o.response);
  gap.Merge(o.gap);
  duration.Merge(o.duration);
  input_tokens += o.input_tokens;
  output_tokens += o.output_tokens;
  cost_usd += o.cost_usd;
  stream_bytes += o.stream_bytes;
}

MinuteCounts& MinuteRollupDelta::At(std::int64_t ms, const std::string& agent,
                                    const std::optional<std::string>& mode) {
  return rows_[MinuteKey{MinuteOf(ms), agent, mode.value_or("")}];
}

namespace {
bool Final(SessionStatus s) {
  return s == SessionStatus::kCompleted || s == SessionStatus::kFailed;
}
}  // namespace

void MinuteRollupDelta::AddSessionEvents(const SessionBefore& before,
                                         std::span<const Event* const> events,
                                         const Session& after) {
  std::int64_t streams_before = before.row ? before.row->stream_event_count : 0;
  std::optional<std::int64_t> last_stream = before.last_stream_time;
  // The start time as the session row has it after this batch (a start event in the batch
  // sets it); used for the response time of the first stream event.
  const std::int64_t start_time = after.start_time;
  const Event* ending = nullptr;    // the last end or error event of the batch
  const Event* last_end = nullptr;  // the last end event of the batch
  for (const Event* e : events) {
    MinuteCounts& c = At(e->timestamp, e->agent_type, e->mode);
    ++c.events;
    switch (e->event_type) {
      case EventType::kStart: ++c.start_events; break;
      case EventType::kStream: {
        ++c.stream_events;
        if (e->stream_data) c.stream_bytes += static_cast<std::int64_t>(e->stream_data->size());
        if (streams_before == 0) {
          c.response.Add(std::max<std::int64_t>(0, e->timestamp - start_time));
        } else if (last_stream) {
          c.gap.Add(std::max<std::int64_t>(0, e->timestamp - *last_stream));
        }
        ++streams_before;
        last_stream = std::max(last_stream.value_or(e->timestamp), e->timestamp);
        break;
      }
      case EventType::kEnd:
        ++c.end_events;
        ending = e;
        last_end = e;
        break;
      case EventType::kError:
        ++c.error_events;
        ending = e;
        break;
    }
    if (e->metadata) {
      const internal::GenAiUsage u = internal::ExtractGenAiUsage(*e->metadata);
      c.input_tokens += u.input_tokens.value_or(0);
      c.output_tokens += u.output_tokens.value_or(0);
      c.cost_usd += u.cost_usd.value_or(0.0);
    }
  }
  // Outcomes: a session that became completed or failed in this batch counts once, in the
  // minute of the event that made it so. Duration: when the session first gets its end time.
  const SessionStatus was = before.row ? before.row->status : SessionStatus::kActive;
  if (after.status != was && Final(after.status) && ending != nullptr) {
    MinuteCounts& c = At(ending->timestamp, after.agent_type, after.mode);
    ++(after.status == SessionStatus::kCompleted ? c.sessions_completed : c.sessions_failed);
  }
  const bool had_end = before.row && before.row->end_time.has_value();
  if (!had_end && after.end_time && after.duration && last_end != nullptr) {
    At(last_end->timestamp, after.agent_type, after.mode)
        .duration.Add(std::max<std::int64_t>(0, *after.duration));
  }
}

void MinuteRollupDelta::AddTimeout(const Session& session, std::int64_t now_ms) {
  ++At(now_ms, session.agent_type, session.mode).sessions_timeout;
}

}  // namespace vibekit::store
