#include "common/genai_usage.h"

#include <boost/json.hpp>

#include <cmath>
#include <initializer_list>

#include "common/json_parse.h"

namespace vibekit::internal {
namespace json = boost::json;

namespace {

const json::value* Find(const json::object& obj, std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys) {
    if (const json::value* v = obj.if_contains(key)) return v;
  }
  return nullptr;
}

std::optional<std::int64_t> TokenCount(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_int64() && v->as_int64() >= 0) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->as_uint64());
  }
  if (v->is_double()) {
    const double d = v->as_double();
    if (std::isfinite(d) && d >= 0 && d == std::floor(d) && d < 9.0e15) {
      return static_cast<std::int64_t>(d);
    }
  }
  return std::nullopt;
}

std::optional<double> Cost(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_double() && std::isfinite(v->as_double())) return v->as_double();
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  return std::nullopt;
}

void ReadFrom(const json::object& obj, GenAiUsage& usage) {
  if (!usage.model) {
    const json::value* m = Find(obj, {"gen_ai.request.model", "gen_ai.response.model", "model"});
    if (m != nullptr && m->is_string() && !m->as_string().empty()) {
      usage.model = std::string(m->as_string());
    }
  }
  if (!usage.input_tokens) {
    usage.input_tokens = TokenCount(Find(obj, {"gen_ai.usage.input_tokens", "input_tokens",
                                               "inputTokens", "prompt_tokens",
                                               "promptTokenCount"}));
  }
  if (!usage.output_tokens) {
    usage.output_tokens = TokenCount(Find(obj, {"gen_ai.usage.output_tokens", "output_tokens",
                                                "outputTokens", "completion_tokens",
                                                "candidatesTokenCount"}));
  }
  if (!usage.cost_usd) {
    usage.cost_usd = Cost(Find(obj, {"vibekit.cost_usd", "cost_usd", "costUsd", "total_cost_usd"}));
  }
}

// Whether `metadata` can hold one of the keys ReadFrom looks up: each contains one of these
// fragments, and a key spelled with escapes holds a backslash. Most events' metadata (a stream
// chunk's {"chunk":3,"type":"text"}) names none, and the store asks for every event it writes.
bool MayNameUsage(std::string_view metadata) {
  for (std::string_view fragment : {"model", "okens", "TokenCount", "cost", "\\"}) {
    if (metadata.find(fragment) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

void GenAiUsage::Accumulate(const GenAiUsage& other) {
  if (other.model) model = other.model;
  if (other.input_tokens) input_tokens = input_tokens.value_or(0) + *other.input_tokens;
  if (other.output_tokens) output_tokens = output_tokens.value_or(0) + *other.output_tokens;
  if (other.cost_usd) cost_usd = cost_usd.value_or(0.0) + *other.cost_usd;
}

GenAiUsage ExtractGenAiUsage(std::string_view metadata) {
  GenAiUsage usage;
  if (!MayNameUsage(metadata)) return usage;
  boost::system::error_code ec;
  json::value parsed = vibekit::internal::ParseJson(metadata, ec);
  if (ec || !parsed.is_object()) return usage;
  const json::object& obj = parsed.as_object();
  ReadFrom(obj, usage);
  if (const json::value* nested = obj.if_contains("usage"); nested != nullptr &&
                                                             nested->is_object()) {
    ReadFrom(nested->as_object(), usage);
  }
  return usage;
}

}  // namespace vibekit::internal
