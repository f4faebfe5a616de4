// One-shot gzip (RFC 1952) of in-memory bodies: the server's request and response bodies and
// the delivery worker's requests. Streaming compression of export files lives in export/sink.*.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "vibekit/status.h"

namespace vibekit::internal {

// gzip of `data` at zlib's default level; kInternal when zlib fails.
Result<std::string> GzipCompress(std::string_view data);

// Inflates a gzip body; kInvalidArgument when it is not gzip, is truncated, or expands beyond
// `max_bytes`.
Result<std::string> GzipDecompress(std::string_view data, std::size_t max_bytes);

}  // namespace vibekit::internal
