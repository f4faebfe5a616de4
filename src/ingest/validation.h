// Validation of events before they are accepted: the description's "ValidationError" path.
#pragma once

#include <cstdint>
#include <functional>

#include "vibekit/config.h"
#include "vibekit/event.h"
#include "vibekit/status.h"

namespace vibekit::ingest {

// Largest timestamp accepted: 9999-12-31T23:59:59.999Z.
inline constexpr std::int64_t kMaxTimestampMs = 253402300799999;

// Checks `event` and fills what the caller may leave out (timestamp 0 -> now_ms). Returns
// kInvalidArgument naming the field and the reason:
//   session_id / agent_type empty or longer than 256 bytes; any text not valid UTF-8 (with the
//   byte offset); a text field longer than config.max_field_bytes; a negative or too large
//   timestamp; metadata that is not one JSON object; an error event without a message.
Status ValidateEvent(Event& event, const LocalStoreConfig& config, std::int64_t now_ms);

// A further check run after ValidateEvent by the write paths that report per event (HTTP body,
// NDJSON import, OTLP receiver): the service's validation rules. Empty = none.
using EventCheck = std::function<Status(Event&)>;

// Approximate memory an event holds (for the pipeline's byte bound).
std::int64_t EventBytes(const Event& event) noexcept;

}  // namespace vibekit::ingest
