// The OTLP/HTTP receiver's mapping (docs/OTLP_RECEIVER.md): OTLP/JSON ExportTraceServiceRequest,
// ExportLogsServiceRequest and ExportMetricsServiceRequest bodies from coding agents (Claude Code,
// Codex, Gemini CLI, opencode) or any OpenTelemetry SDK turned into our Events. No sockets here:
// the server decompresses the body and submits the events.
//
//   session   session.id, gen_ai.conversation.id or conversation.id, looked up on the record
//             (span / log record / data point), then its scope, then its resource. Records
//             without one are rejected (counted, with the reason, for OTLP partial success).
//   agent     gen_ai.agent.name, else the resource's service.name, else the event name's prefix
//             (claude_code.*, codex.*, gemini_cli.*), normalised by NormalizeAgentName.
//   start     the first record of a session the store has not seen (SessionKnown says no):
//             a user prompt becomes the start event carrying the prompt; otherwise a start
//             event is added at the session's earliest record.
//   stream    model calls, tool results, responses, other log records, metric data points;
//             metadata keeps the record's attributes (typed) and adds the GenAI names our
//             analytics read: gen_ai.request.model, gen_ai.usage.input_tokens/output_tokens,
//             gen_ai.usage.cache_read_input_tokens, vibekit.cost_usd (metric data points never
//             do, so tokens are not counted twice).
//   error     *_error log records, records at severity ERROR or above, failed API requests,
//             spans with status ERROR, exception span events.
//   end       the end of a root invoke_agent span (status ERROR → the session fails), or an
//             explicit session-end log record (*.session_end, *.conversation_ends). A session
//             that only sends logs and never such a record ends by the store's timeout sweep.
//   ours      spans written by our own OTLP export or live delivery are read back exactly
//             (the vibekit.* span events), so a round trip gives the same sessions and events.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "vibekit/event.h"
#include "vibekit/status.h"

namespace vibekit::otlp {

enum class OtlpSignal { kTraces, kLogs, kMetrics };

// "traces", "logs", "metrics".
std::string_view OtlpSignalName(OtlpSignal signal) noexcept;

// True when the store already holds the session (so no start event is added for it).
using SessionKnown = std::function<bool(std::string_view session_id)>;

struct ReceivedBatch {
  // Grouped per session (first appearance order); each session's events in time order.
  // Ids are 0 (the store assigns them).
  std::vector<Event> events;
  std::int64_t items = 0;     // spans / log records / data points in the request
  std::int64_t rejected = 0;  // items that gave no event because they were unusable
  std::int64_t ignored = 0;   // items accepted but carrying nothing to store (stream deltas)
  // For partialSuccess.errorMessage: the first reasons, empty when nothing was rejected.
  std::string error_message;
  std::vector<std::string> started_sessions;  // sessions this batch adds a start event for
};

// kInvalidArgument (the OTLP/HTTP 400 case) when `body` is not JSON or not the request of
// `signal` at the top level; problems inside one record reject that record only.
Result<ReceivedBatch> ReceiveOtlpJson(OtlpSignal signal, std::string_view body,
                                      const SessionKnown& known);

// "claude-code"/"claude_code"/"claude" → "claude", "codex*" → "codex", "gemini-cli"/"gemini_cli"
// → "gemini", "opencode" → "opencode"; others lower-cased as they are; "unknown_service*" and
// empty → "".
std::string NormalizeAgentName(std::string_view name);

// The JSON body of the OTLP/HTTP success answer: "{}" when nothing was rejected, else
// {"partialSuccess":{"rejectedSpans"|"rejectedLogRecords"|"rejectedDataPoints":"N",
// "errorMessage":"..."}} (int64 as a decimal string, as the JSON mapping writes it).
std::string PartialSuccessJson(OtlpSignal signal, std::int64_t rejected,
                               std::string_view error_message);

}  // namespace vibekit::otlp
