// Time arguments of the command line (--since, --until): a duration back from now ("90s",
// "30m", "24h", "7d", "2w"), an ISO 8601 instant ("2026-11-25T10:00:00Z",
// "2026-11-25T10:00:00.250+01:00", "2026-11-25 10:00:00" as UTC, "2026-11-25" as midnight UTC),
// or epoch milliseconds ("1767225600000").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vibekit/status.h"

namespace vibekit::views {

// Milliseconds since the epoch. kInvalidArgument with an example of each accepted form.
Result<std::int64_t> ParseTimeArg(std::string_view text, std::int64_t now_ms);

// "2026-11-25T10:00:00.250Z" (UTC, milliseconds).
std::string FormatTimestamp(std::int64_t ms);

}  // namespace vibekit::views
