#include "common/json.h"

#include <boost/json.hpp>

#include <array>
#include <string>

#include "common/json_parse.h"

namespace vibekit::internal {
namespace json = boost::json;

namespace {

// Parses into a stack buffer first so small metadata objects cost no heap allocation.
struct ParsedObject {
  std::array<unsigned char, 4096> buffer;
  json::monotonic_resource resource{buffer.data(), buffer.size()};
  json::value value;
};

Status Parse(std::string_view text, std::string_view field, ParsedObject& out) {
  boost::system::error_code ec;
  out.value = ParseJson(text, ec, &out.resource, kMaxMetadataDepth);
  if (ec) {
    return Status::InvalidArgument(std::string(field) + " is not valid JSON: " + ec.message());
  }
  if (!out.value.is_object()) {
    return Status::InvalidArgument(std::string(field) + " must be a JSON object");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateJsonObject(std::string_view text, std::string_view field) {
  try {
    ParsedObject parsed;
    return Parse(text, field, parsed);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(field) + " is not valid JSON: " + e.what());
  }
}

std::optional<std::string> JsonStringMember(std::string_view text, std::string_view key) {
  try {
    ParsedObject parsed;
    if (!Parse(text, "json", parsed).ok()) return std::nullopt;
    const auto* v = parsed.value.as_object().if_contains(key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::string(v->as_string());
  } catch (...) {
    return std::nullopt;
  }
}

void AppendJsonString(std::string& out, std::string_view value) {
  out += json::serialize(json::string_view(value.data(), value.size()));
}

}  // namespace vibekit::internal
