// Shared inputs of the OTLP tests.
#pragma once

#include "otlp/otlp_json.h"

namespace vibekit::otlp {

// A failed session with every kind of event, nested metadata and an error record.
inline SessionTrace FailedSession() {
  SessionTrace t;
  Session& s = t.session;
  s.id = "sess-failed";
  s.agent_type = "claude";
  s.mode = "code";
  s.status = SessionStatus::kFailed;
  s.start_time = 1767225600000;
  s.end_time = 1767225605000;
  s.duration = 5000;
  s.event_count = 4;
  s.stream_event_count = 1;
  s.error_count = 1;
  s.repo_url = "https://example.invalid/repo.git";
  s.metadata = R"({"branch":"main"})";
  s.last_event_time = *s.end_time;

  auto event = [&](std::int64_t id, EventType type, std::int64_t ts) {
    Event e;
    e.id = id;
    e.session_id = s.id;
    e.event_type = type;
    e.agent_type = "claude";
    e.mode = "code";
    e.timestamp = ts;
    return e;
  };
  // Deliberately out of order: the span events must come out by time.
  Event end = event(4, EventType::kEnd, s.start_time + 5000);
  end.metadata = R"({"status":"failed"})";
  Event error = event(3, EventType::kError, s.start_time + 3000);
  error.stream_data = "rate limited";
  Event stream = event(2, EventType::kStream, s.start_time + 1200);
  stream.stream_data = "writing \"tests\"\n\t\u00e9\u6f22";
  stream.metadata = R"({"usage":{"input_tokens":50,"output_tokens":10}})";
  Event start = event(1, EventType::kStart, s.start_time);
  start.prompt = "fix the bug";
  start.repo_url = s.repo_url;
  start.metadata =
      R"({"model":"claude-x","input_tokens":100,"output_tokens":20,"ratio":0.5,)"
      R"("big":18446744073709551615,"ok":true,"none":null,"tags":["a",1,false],)"
      R"("nested":{"empty":{},"list":[]}})";
  t.events = {end, error, stream, start};

  ErrorRecord r;
  r.id = 9;
  r.session_id = s.id;
  r.event_id = 3;
  r.error_type = "RateLimitError";
  r.error_message = "rate limited";
  r.error_stack = "at step 3";
  r.severity = ErrorSeverity::kHigh;
  r.timestamp = s.start_time + 3000;
  t.errors = {r};
  return t;
}

}  // namespace vibekit::otlp
