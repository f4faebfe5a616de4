// The server's plain HTTP model: what a route handler sees (Request) and returns (Response).
// No Beast or Asio here: routes compile fast and are unit-tested without sockets; only
// http_server.cc translates between these and the wire.
//
// Thread-safety: plain values.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/gzip.h"
#include "vibekit/status.h"

namespace vibekit::server {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded path, without the query ("/api/sessions/abc")
  std::string query;   // raw query string after '?', may be empty
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  std::string remote_ip;
  // Filled by the router: the values of "{name}" segments of the matched pattern.
  std::vector<std::pair<std::string, std::string>> path_params;

  // First header of that (lower-case) name, or empty.
  std::string_view Header(std::string_view lower_name) const noexcept;
  // First query parameter of that name, percent-decoded ('+' is a space); nullopt when absent.
  std::optional<std::string> Param(std::string_view name) const;
  std::string_view PathParam(std::string_view name) const noexcept;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
  // Streaming variant: when set, the body is this file, sent in chunks from disk (an export);
  // with `remove_file` the file is deleted once sent (or when the connection fails).
  std::optional<std::string> file_path;
  bool remove_file = false;

  void SetHeader(std::string name, std::string value);
  std::string_view Header(std::string_view name) const noexcept;  // case-insensitive
};

// 200 (or `status`) with the compact JSON text of `value`.
Response JsonResponse(const boost::json::value& value, int status = 200);
// {"error": message, "code": code} with `status`; code is derived from the status
// (bad_request, unauthorized, forbidden, not_found, method_not_allowed, payload_too_large,
// rate_limited, unavailable, internal).
Response ErrorResponse(int status, std::string message);
// A failed library call: kInvalidArgument 400, kNotFound 404, kBusy / kUnavailable /
// kDeadlineExceeded / kFailedPrecondition 503 (with Retry-After: 1), anything else 500.
Response StatusResponse(const Status& status);
std::string_view ErrorCodeName(int http_status) noexcept;

// Percent-decoding of a URL component; `plus_is_space` for query strings. nullopt when a '%' is
// not followed by two hex digits.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// True for 127.0.0.0/8, ::1, ::ffff:127.x and "localhost".
bool IsLoopbackHost(std::string_view host) noexcept;

using internal::GzipCompress;  // common/gzip.h
using internal::GzipDecompress;

}  // namespace vibekit::server
