// OTLP/JSON encoding of sessions and events as traces (opentelemetry-proto
// collector/trace/v1 ExportTraceServiceRequest, JSON mapping of the OTLP specification:
// lowerCamelCase keys, hex trace and span ids, enums as integers, 64-bit integers as decimal
// strings, fields at their default value left out).
//
// One session is one trace. Its root span is named after the GenAI semantic conventions,
// "invoke_agent {agent}", runs from the session's start to its end (or newest event while it is
// still open) and carries every event as a span event in time order:
//   vibekit.start   vibekit.prompt, metadata
//   vibekit.stream  vibekit.stream_data, metadata
//   exception       exception.type / exception.message / exception.stacktrace,
//                   vibekit.error.severity, vibekit.error.context
//   vibekit.end     metadata
// Event metadata becomes typed attributes under "vibekit.metadata" (a kvlist keeping nested
// objects and arrays), and its model and token counts also become gen_ai.request.model and
// gen_ai.usage.* (on the event, and summed over the session on the root span). Ids derive from
// the session id alone, so exporting the same data twice gives the same bytes.
//
// For live delivery, events can also be sent before their session ends: EventBatchSpan writes a
// child span of the (not yet sent) root span holding a batch of the session's events.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vibekit/event.h"

namespace vibekit::otlp {

// 32 lowercase hex digits, never all zero; a function of the session id only.
std::string TraceIdHex(std::string_view session_id);
// 16 lowercase hex digits, never all zero; a function of (session id, discriminator). The root
// span uses the empty discriminator.
std::string SpanIdHex(std::string_view session_id, std::string_view discriminator = {});

struct ResourceInfo {
  std::string service_name = "vibekit";
  std::string service_version;  // empty: left out
};

// Writes one ExportTraceServiceRequest incrementally, so an export of any size is produced
// with one session in memory at a time: Begin, any number of spans, Finish. The text goes to
// `out`, which the caller drains (for example after every span) to keep memory flat.
class TraceRequestWriter {
 public:
  explicit TraceRequestWriter(std::string& out, ResourceInfo resource = {});

  void Begin();
  // The session's root span with its events. `events` are the session's events (any order;
  // written in timestamp, id order); `errors` are its telemetry_errors rows, matched to error
  // events by event id for the exception details.
  void SessionSpan(const Session& session, std::span<const Event> events,
                   std::span<const ErrorRecord> errors);
  // A child span of the session's root span carrying `events` (all of one session, non-empty).
  // Its id derives from the first event's id, so re-sending the same batch is idempotent.
  void EventBatchSpan(std::string_view session_id, std::string_view agent_type,
                      std::span<const Event> events, std::span<const ErrorRecord> errors);
  void Finish();

  std::int64_t spans_written() const noexcept { return spans_; }

 private:
  void SpanSeparator();

  std::string& out_;
  ResourceInfo resource_;
  std::int64_t spans_ = 0;
  bool open_ = false;
};

// Convenience: a whole request for a few sessions (tests, small pushes).
struct SessionTrace {
  Session session;
  std::vector<Event> events;
  std::vector<ErrorRecord> errors;
};
std::string EncodeTraceRequest(std::span<const SessionTrace> sessions, ResourceInfo resource = {});

}  // namespace vibekit::otlp
