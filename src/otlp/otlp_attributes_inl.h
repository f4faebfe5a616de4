// Template definitions of otlp_attributes.h.
#pragma once

#include <cctype>

namespace vibekit::otlp::internal {

template <typename Visit>
Status ForEachJsonDocument(std::string_view text, Visit&& visit) {
  boost::json::parser parser;
  std::size_t pos = 0;
  int index = 0;
  while (true) {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos >= text.size()) break;
    parser.reset();
    boost::system::error_code ec;
    const std::size_t used = parser.write_some(text.data() + pos, text.size() - pos, ec);
    if (ec) {
      return Status::InvalidArgument("invalid JSON at byte " + std::to_string(pos + used) + ": " +
                                     ec.message());
    }
    pos += used;
    const std::string path = index == 0 ? "$" : "$[" + std::to_string(index) + "]";
    VK_RETURN_IF_ERROR(visit(parser.release(), path));
    ++index;
  }
  if (index == 0) return Status::InvalidArgument("the input is empty");
  return Status::Ok();
}

}  // namespace vibekit::otlp::internal
