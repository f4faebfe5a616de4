#include "store/session_merge.h"

#include <boost/json.hpp>

#include <algorithm>
#include <string>

#include "common/json.h"
#include "common/json_parse.h"

namespace vibekit::store {
namespace {

void AddCounts(RollupCounts& to, const RollupCounts& from) {
  to.total_events += from.total_events;
  to.start_events += from.start_events;
  to.stream_events += from.stream_events;
  to.end_events += from.end_events;
  to.error_events += from.error_events;
  to.sessions += from.sessions;
  to.active_sessions += from.active_sessions;
  to.completed_sessions += from.completed_sessions;
  to.failed_sessions += from.failed_sessions;
  to.timeout_sessions += from.timeout_sessions;
  to.sessions_with_errors += from.sessions_with_errors;
  to.duration_sum_ms += from.duration_sum_ms;
  to.duration_count += from.duration_count;
}

void CountEventType(RollupCounts& c, EventType type, std::int64_t n) {
  c.total_events += n;
  switch (type) {
    case EventType::kStart: c.start_events += n; break;
    case EventType::kStream: c.stream_events += n; break;
    case EventType::kEnd: c.end_events += n; break;
    case EventType::kError: c.error_events += n; break;
  }
}

void Widen(RollupCounts& c, std::int64_t ts) {
  c.min_timestamp = c.min_timestamp ? std::min(*c.min_timestamp, ts) : ts;
  c.max_timestamp = c.max_timestamp ? std::max(*c.max_timestamp, ts) : ts;
}

RollupCounts SessionContribution(const Session& s, int sign) {
  RollupCounts c;
  c.sessions = sign;
  switch (s.status) {
    case SessionStatus::kActive: c.active_sessions = sign; break;
    case SessionStatus::kCompleted: c.completed_sessions = sign; break;
    case SessionStatus::kFailed: c.failed_sessions = sign; break;
    case SessionStatus::kTimeout: c.timeout_sessions = sign; break;
  }
  if (s.error_count > 0) c.sessions_with_errors = sign;
  if (s.duration) {
    c.duration_sum_ms = sign * *s.duration;
    c.duration_count = sign;
  }
  return c;
}

// Copies the members of `from` (a JSON object) over those of `into`; returns `into` unchanged
// when either is not an object (validation guarantees they are).
std::string MergeObjects(const std::string& into, const std::string& from) {
  try {
    boost::system::error_code ec_a;
    boost::system::error_code ec_b;
    boost::json::value a = internal::ParseJson(into, ec_a);
    boost::json::value b = internal::ParseJson(from, ec_b);
    if (ec_a || ec_b || !a.is_object() || !b.is_object()) return into;
    for (const auto& kv : b.as_object()) a.as_object()[kv.key()] = kv.value();
    return boost::json::serialize(a);
  } catch (...) {
    return into;
  }
}

}  // namespace

void RollupDelta::AddEvent(const Event& event) {
  const std::string mode = event.mode.value_or("");
  for (auto* c : {&rows_[{"global", "all"}], &rows_[{"agent", event.agent_type}],
                  &rows_[{"mode", mode}]}) {
    CountEventType(*c, event.event_type, 1);
  }
  Widen(rows_[{"global", "all"}], event.timestamp);
  Widen(rows_[{"agent", event.agent_type}], event.timestamp);
}

void RollupDelta::RemoveEvents(const std::string& agent, const std::string& mode, EventType type,
                               std::int64_t count) {
  CountEventType(rows_[{"global", "all"}], type, -count);
  CountEventType(rows_[{"agent", agent}], type, -count);
  CountEventType(rows_[{"mode", mode}], type, -count);
}

void RollupDelta::AddSession(const Session& session, int sign) {
  const RollupCounts c = SessionContribution(session, sign);
  AddCounts(rows_[{"global", "all"}], c);
  AddCounts(rows_[{"agent", session.agent_type}], c);
  AddCounts(rows_[{"mode", session.mode.value_or("")}], c);
}

void RollupDelta::ReplaceSession(const std::optional<Session>& old_row, const Session& new_row) {
  if (old_row) AddSession(*old_row, -1);
  AddSession(new_row, +1);
}

bool EndMetadataMeansFailure(const std::optional<std::string>& metadata) {
  if (!metadata) return false;
  // Cheap pre-check: most end events say "success" or have no status at all.
  if (metadata->find("\"status\"") == std::string::npos) return false;
  const auto status = internal::JsonStringMember(*metadata, "status");
  if (!status) return false;
  std::string s = *status;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s == "failed" || s == "failure" || s == "error" || s == "cancelled" || s == "canceled";
}

Session MergeSessionEvents(const std::optional<Session>& existing,
                           std::span<const Event* const> events, std::int64_t now_ms) {
  Session s;
  if (existing) {
    s = *existing;
  } else {
    const Event& first = *events.front();
    s.id = first.session_id;
    s.agent_type = first.agent_type;
    s.mode = first.mode;
    s.status = SessionStatus::kActive;
    s.start_time = first.timestamp;
    s.last_event_time = first.timestamp;
    s.created_at = now_ms;
  }
  for (const Event* e : events) {
    ++s.event_count;
    s.start_time = std::min(s.start_time, e->timestamp);
    s.last_event_time = std::max(s.last_event_time, e->timestamp);
    if (s.agent_type.empty()) s.agent_type = e->agent_type;
    if (!s.mode && e->mode) s.mode = e->mode;
    switch (e->event_type) {
      case EventType::kStart:
        s.agent_type = e->agent_type;
        if (e->mode) s.mode = e->mode;
        if (e->sandbox_id) s.sandbox_id = e->sandbox_id;
        if (e->repo_url) s.repo_url = e->repo_url;
        if (e->metadata) s.metadata = s.metadata ? MergeObjects(*e->metadata, *s.metadata) : *e->metadata;
        if (s.status == SessionStatus::kTimeout) s.status = SessionStatus::kActive;
        break;
      case EventType::kStream:
        ++s.stream_event_count;
        if (s.status == SessionStatus::kTimeout) s.status = SessionStatus::kActive;
        break;
      case EventType::kError:
        ++s.error_count;
        s.status = SessionStatus::kFailed;
        break;
      case EventType::kEnd:
        s.end_time = s.end_time ? std::max(*s.end_time, e->timestamp) : e->timestamp;
        s.status = EndMetadataMeansFailure(e->metadata) ? SessionStatus::kFailed
                                                         : SessionStatus::kCompleted;
        if (e->metadata) s.metadata = s.metadata ? MergeObjects(*s.metadata, *e->metadata) : *e->metadata;
        break;
    }
  }
  if (s.end_time) {
    s.duration = *s.end_time - s.start_time;
  } else if (s.status == SessionStatus::kTimeout) {
    s.duration = s.last_event_time - s.start_time;
  } else {
    s.duration.reset();
  }
  s.updated_at = now_ms;
  return s;
}

Session TimedOut(const Session& session, std::int64_t now_ms) {
  Session s = session;
  s.status = SessionStatus::kTimeout;
  s.duration = s.last_event_time - s.start_time;
  s.updated_at = now_ms;
  return s;
}

}  // namespace vibekit::store
