// Text encoders of the export writers: JSON string escaping (a hand-rolled loop: copying runs of
// plain bytes is several times faster than Boost.JSON's serializer on agent output) and RFC 4180
// CSV fields.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vibekit::exporting {

// Appends `value` as a JSON string literal: quotes, backslash and control characters escaped
// (\" \\ \b \f \n \r \t, \u00XX for the rest below 0x20); UTF-8 passes through unchanged.
void AppendJsonString(std::string& out, std::string_view value);

// Appends a decimal integer.
void AppendInt(std::string& out, std::int64_t value);

// Appends one CSV field: quoted (quotes doubled) when it contains the delimiter, a quote, CR or
// LF, or when it is empty (so "" is an empty string and an unquoted empty field is null).
void AppendCsvField(std::string& out, std::string_view value, char delimiter);

}  // namespace vibekit::exporting
