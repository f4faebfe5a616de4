// What an event's metadata says about the model call behind it: the model name, token counts and
// cost, read from the OpenTelemetry GenAI attribute names or from the keys the agents themselves
// write. Shared by the OTLP encoder and the analytics so both count tokens the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vibekit::internal {

struct GenAiUsage {
  std::optional<std::string> model;
  std::optional<std::int64_t> input_tokens;
  std::optional<std::int64_t> output_tokens;
  std::optional<double> cost_usd;

  bool empty() const noexcept {
    return !model && !input_tokens && !output_tokens && !cost_usd;
  }
  // Adds the counts of `other` (a later event of the same session); the model becomes the later
  // one's when it names one. Token counts of an event are what that step used, so a session's
  // usage is the sum over its events.
  void Accumulate(const GenAiUsage& other);
};

// Reads `metadata` (a JSON object's text; anything else gives an empty result). Recognised keys,
// first match wins, looked up at the top level and inside a "usage" object:
//   model:  gen_ai.request.model, gen_ai.response.model, model
//   input:  gen_ai.usage.input_tokens, input_tokens, inputTokens, prompt_tokens,
//           promptTokenCount
//   output: gen_ai.usage.output_tokens, output_tokens, outputTokens, completion_tokens,
//           candidatesTokenCount
//   cost:   vibekit.cost_usd, cost_usd, costUsd, total_cost_usd
// Token counts must be non-negative integers (or whole numbers); other values are ignored.
GenAiUsage ExtractGenAiUsage(std::string_view metadata);

}  // namespace vibekit::internal
