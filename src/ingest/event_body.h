// The body of POST /api/events: a JSON array of events, or NDJSON (one event per line). Parsed
// and validated here, away from the HTTP layer, so the fuzzer and the server run the same code.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/validation.h"
#include "vibekit/config.h"
#include "vibekit/event.h"
#include "vibekit/status.h"

namespace vibekit::ingest {

// One event of the body that was not accepted: its index (array element or line number, from 0)
// and why.
struct BodyRejection {
  std::int64_t index = 0;
  std::string message;
};

struct ParsedEventBody {
  std::vector<Event> valid;  // parsed and passed ValidateEvent (and `extra`), in body order
  std::vector<BodyRejection> rejected;
};

// A body starting with '[' is a JSON array unless `ndjson_type` (the request said
// application/x-ndjson); anything else is read as NDJSON, blank lines skipped. Returns
// kInvalidArgument when the body as a whole is unusable: empty, a broken array, or no line that
// is JSON. Problems of single events are listed in `rejected`, the rest is still accepted.
Result<ParsedEventBody> ParseEventBody(std::string_view body, bool ndjson_type,
                                       const LocalStoreConfig& config, std::int64_t now_ms,
                                       const EventCheck& extra = {});

}  // namespace vibekit::ingest
