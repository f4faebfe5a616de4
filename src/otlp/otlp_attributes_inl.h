// Template definitions of otlp_attributes.h.
#pragma once

#include <cctype>
#include <utility>

#include "common/json_parse.h"

namespace vibekit::otlp::internal {

// An OTLP/JSON body may nest as deep as any protobuf body the transcoder accepts (65 message
// levels, each at most an object and a repeated-field array), so both encodings read alike.
inline constexpr int kMaxOtlpJsonDepth = 2 * 65 + 2;

template <typename Visit>
Status ForEachJsonDocument(std::string_view text, Visit&& visit) {
  std::size_t pos = 0;
  int index = 0;
  while (true) {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos >= text.size()) break;
    boost::system::error_code ec;
    std::size_t used = 0;
    boost::json::value doc =
        vibekit::internal::ParseJsonPrefix(text.substr(pos), used, ec, {}, kMaxOtlpJsonDepth);
    if (ec) {
      return Status::InvalidArgument("invalid JSON at byte " + std::to_string(pos + used) + ": " +
                                     ec.message());
    }
    pos += used;
    const std::string path = index == 0 ? "$" : "$[" + std::to_string(index) + "]";
    VK_RETURN_IF_ERROR(visit(std::move(doc), path));
    ++index;
  }
  if (index == 0) return Status::InvalidArgument("the input is empty");
  return Status::Ok();
}

}  // namespace vibekit::otlp::internal
