// The JSON shape of one event, as NDJSON import reads it and exports write it (camelCase, as in
// the API): {"sessionId","eventType","agentType","mode","prompt","streamData","sandboxId",
// "repoUrl","metadata":{...},"timestamp":<ms>,"error":{"type","message","stack","severity"}}.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

#include "vibekit/event.h"
#include "vibekit/status.h"

namespace vibekit::internal {

// One line of JSON (no newline). Absent optional fields are omitted; metadata is embedded as an
// object; "id" is written when non-zero.
std::string EventToJson(const Event& event);

// Parses one JSON object of the shape above. kInvalidArgument with a precise message for
// malformed JSON, missing or mistyped fields, unknown event types, NaN / negative / fractional
// timestamps. Unknown top-level fields are ignored. Does not run the full event validation.
Result<Event> EventFromJson(std::string_view json);
// The same for an already parsed JSON value (one element of a JSON array of events).
Result<Event> EventFromJsonValue(const boost::json::value& doc);

}  // namespace vibekit::internal
