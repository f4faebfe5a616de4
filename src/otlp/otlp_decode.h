// Reading OTLP/JSON trace requests back into events: the inverse of otlp_json.h for the spans
// we write (root spans "invoke_agent ..." and "vibekit.events" batch spans), so an OTLP export
// can be converted to the other formats or imported again. Spans of other producers are
// accepted when they carry gen_ai.conversation.id; span events without vibekit.event.type are
// skipped and counted.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "vibekit/event.h"
#include "vibekit/status.h"

namespace vibekit::otlp {

struct DecodedTrace {
  // In request order; ids, timestamps (ms), metadata (JSON object text) and, for error events,
  // `error` (type, message, stack, severity, context) are restored from the attributes.
  std::vector<Event> events;
  std::int64_t spans = 0;
  std::int64_t skipped_span_events = 0;  // span events that are not ours
};

// kInvalidArgument with the JSON path of the first problem for text that is not an OTLP/JSON
// ExportTraceServiceRequest (or a JSON array of them, one per line also accepted).
Result<DecodedTrace> DecodeTraceRequest(std::string_view json_text);

}  // namespace vibekit::otlp
