// Reading the OTLP/JSON encoding (lowerCamelCase keys, 64-bit integers as decimal strings or
// numbers, AnyValue wrappers) into plain Boost.JSON values. Shared by the decoder of our own
// exports (otlp_decode.cc) and the receiver of other producers' requests (otlp_receive.cc).
// Internal: Boost.JSON appears here, so this header never goes under include/.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vibekit/event.h"
#include "vibekit/status.h"

namespace vibekit::otlp::internal {

// kInvalidArgument "<path> <what>".
Status Bad(const std::string& path, const std::string& what);

// The array at `key` (nullptr when absent); an error when present but not an array.
Result<const boost::json::array*> ArrayAt(const boost::json::object& o, std::string_view key,
                                          const std::string& path);
Result<const boost::json::object*> ObjectOf(const boost::json::value& v, const std::string& path);
// int64 of the JSON mapping: a decimal string or a number.
Result<std::int64_t> Int64Of(const boost::json::value& v, const std::string& path);
// Unix nanoseconds (fixed64, string or number) to milliseconds; an error when absent.
Result<std::int64_t> NanosToMs(const boost::json::value* v, const std::string& path);
// Standard base64 (with padding) of `bytes`.
std::string Base64(std::string_view bytes);
// AnyValue to plain JSON: stringValue → string, intValue → int64, kvlistValue → object, ...
Result<boost::json::value> AnyToJson(const boost::json::value& any, const std::string& path);
// `owner.attributes` (a KeyValue list) as key → plain JSON value; empty when absent.
Result<boost::json::object> AttributesOf(const boost::json::object& owner, const std::string& path);

std::optional<std::string> StringAttr(const boost::json::object& attrs, std::string_view key);
// A value kept as text: strings verbatim, anything else serialized.
std::optional<std::string> MetadataAttr(const boost::json::object& attrs, std::string_view key);

// Our own span events (those with vibekit.event.type) of one span, appended to `out` in order;
// other span events are counted in `skipped`. Event ids come from vibekit.event.id.
struct SpanDefaults {
  std::string session_id;
  std::string agent_type;
  std::optional<std::string> mode;
};
Status DecodeVibekitSpanEvents(const boost::json::object& span, const SpanDefaults& defaults,
                               const std::string& path, std::vector<Event>& out,
                               std::int64_t& skipped);

// Parses `text` as one or more JSON documents (concatenated or one per line) and calls
// `visit(document, path)` for each; "$" is the first document's path, "$[i]" the others'.
template <typename Visit>
Status ForEachJsonDocument(std::string_view text, Visit&& visit);

}  // namespace vibekit::otlp::internal

#include "otlp/otlp_attributes_inl.h"
