// The one JSON parser for text from outside (request bodies, import lines, stored metadata).
//
// Boost.JSON 1.81's json::parse rounds some doubles to a neighbouring value (inputs with 17
// significant digits or large exponents): a metadata number could change by one unit in the last
// place on its way in and again on every export. Found by fuzz/events_body_fuzz.cc. This parser
// is Boost's own basic_parser building the same json::value, except that every double is
// converted from its exact text with std::from_chars (correctly rounded), so our writer's
// shortest form reads back to the same double.
#pragma once

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <string_view>

namespace vibekit::internal {

// Deepest nesting accepted (objects and arrays) in a document: a request body, an import line.
inline constexpr int kMaxJsonDepth = 64;
// Deepest nesting of an event's metadata object. Lower than kMaxJsonDepth so every document that
// embeds metadata (an event line +1, an array body +2) stays readable by our own parser.
inline constexpr int kMaxMetadataDepth = 48;

// Parses one JSON text (whitespace around it allowed). On error `ec` is set and the result is
// null. Never throws for bad input (allocation failure aside).
boost::json::value ParseJson(std::string_view text, boost::system::error_code& ec,
                             boost::json::storage_ptr sp = {}, int max_depth = kMaxJsonDepth);

// Parses the JSON text at the start of `text` (leading whitespace allowed) and sets `used` to the
// bytes it took; what follows is left to the caller (several documents in one body).
boost::json::value ParseJsonPrefix(std::string_view text, std::size_t& used,
                                   boost::system::error_code& ec, boost::json::storage_ptr sp = {},
                                   int max_depth = kMaxJsonDepth);

}  // namespace vibekit::internal
