// Small JSON helpers over Boost.JSON, kept out of the public headers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "vibekit/status.h"

namespace vibekit::internal {

// OK when `text` is one JSON object (whitespace around it allowed). Otherwise kInvalidArgument
// "<field> is not valid JSON: ..." (also when nested deeper than kMaxMetadataDepth, see
// json_parse.h) or "<field> must be a JSON object".
Status ValidateJsonObject(std::string_view text, std::string_view field);

// The string value of top-level `key` in the JSON object `text`, if present and a string.
std::optional<std::string> JsonStringMember(std::string_view text, std::string_view key);

// Appends `value` as a JSON string literal (quoted, escaped) to `out`.
void AppendJsonString(std::string& out, std::string_view value);

}  // namespace vibekit::internal
