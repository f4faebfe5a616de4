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
  sessions_active += o.sessions_active;
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

void MinuteRollupDelta::AddSessionEvents(const SessionBefore& before,
                                         std::span<const Event* const> events,
                                         const Session& after) {
  std::int64_t streams_before = before.row ? before.row->stream_event_count : 0;
  std::optional<std::int64_t> last_stream = before.last_stream_time;
  // The start time as the session row has it after this batch (a start event in the batch
  // sets it); used for the response time of the first stream event.
  const std::int64_t start_time = after.start_time;
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
        break;
      case EventType::kError:
        ++c.error_events;
        break;
    }
    if (e->metadata) {
      const internal::GenAiUsage u = internal::ExtractGenAiUsage(*e->metadata);
      c.input_tokens += u.input_tokens.value_or(0);
      c.output_tokens += u.output_tokens.value_or(0);
      c.cost_usd += u.cost_usd.value_or(0.0);
    }
  }
  ReplaceSession(before.row, after);
}

void MinuteRollupDelta::AddSession(const Session& session, int sign) {
  MinuteCounts& c = At(session.start_time, session.agent_type, session.mode);
  switch (session.status) {
    case SessionStatus::kActive: c.sessions_active += sign; break;
    case SessionStatus::kCompleted: c.sessions_completed += sign; break;
    case SessionStatus::kFailed: c.sessions_failed += sign; break;
    case SessionStatus::kTimeout: c.sessions_timeout += sign; break;
  }
  if (session.status != SessionStatus::kActive && session.duration) {
    const std::int64_t d = std::max<std::int64_t>(0, *session.duration);
    if (sign > 0) {
      c.duration.Add(d);
    } else {
      c.duration.Remove(d);
    }
  }
}

void MinuteRollupDelta::ReplaceSession(const std::optional<Session>& old_row,
                                       const Session& new_row) {
  if (old_row) AddSession(*old_row, -1);
  AddSession(new_row, +1);
}

}  // namespace vibekit::store
