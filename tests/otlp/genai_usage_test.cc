#include "common/genai_usage.h"

#include <gtest/gtest.h>

#include <string>

namespace vibekit::internal {
namespace {

TEST(GenAiUsage, ReadsTheSemanticConventionNames) {
  GenAiUsage u = ExtractGenAiUsage(
      R"({"gen_ai.request.model":"claude-sonnet","gen_ai.usage.input_tokens":120,)"
      R"("gen_ai.usage.output_tokens":45,"vibekit.cost_usd":0.25})");
  EXPECT_EQ(u.model, "claude-sonnet");
  EXPECT_EQ(u.input_tokens, 120);
  EXPECT_EQ(u.output_tokens, 45);
  EXPECT_DOUBLE_EQ(u.cost_usd.value_or(-1), 0.25);
}

TEST(GenAiUsage, ReadsTheAgentsOwnKeysFlatAndUnderUsage) {
  GenAiUsage claude = ExtractGenAiUsage(
      R"({"model":"opus","usage":{"input_tokens":10,"output_tokens":3},"total_cost_usd":1})");
  EXPECT_EQ(claude.model, "opus");
  EXPECT_EQ(claude.input_tokens, 10);
  EXPECT_EQ(claude.output_tokens, 3);
  EXPECT_DOUBLE_EQ(claude.cost_usd.value_or(-1), 1.0);

  GenAiUsage gemini = ExtractGenAiUsage(R"({"promptTokenCount":7,"candidatesTokenCount":9})");
  EXPECT_EQ(gemini.input_tokens, 7);
  EXPECT_EQ(gemini.output_tokens, 9);

  GenAiUsage openai = ExtractGenAiUsage(R"({"prompt_tokens":4,"completion_tokens":5.0})");
  EXPECT_EQ(openai.input_tokens, 4);
  EXPECT_EQ(openai.output_tokens, 5);
}

TEST(GenAiUsage, TopLevelWinsAndBadValuesAreIgnored) {
  GenAiUsage u = ExtractGenAiUsage(
      R"({"input_tokens":1,"usage":{"input_tokens":99,"output_tokens":-3},"model":""})");
  EXPECT_EQ(u.input_tokens, 1);
  EXPECT_FALSE(u.output_tokens) << "negative counts are not token counts";
  EXPECT_FALSE(u.model) << "an empty model name says nothing";
  EXPECT_TRUE(ExtractGenAiUsage(R"({"input_tokens":"12"})").empty()) << "strings are not counts";
  EXPECT_TRUE(ExtractGenAiUsage(R"({"input_tokens":1.5})").empty());
  EXPECT_TRUE(ExtractGenAiUsage("not json").empty());
  EXPECT_TRUE(ExtractGenAiUsage("[1,2]").empty());
  EXPECT_TRUE(ExtractGenAiUsage("").empty());
}

TEST(GenAiUsage, AccumulateSumsCountsAndKeepsTheLatestModel) {
  GenAiUsage total;
  total.Accumulate(ExtractGenAiUsage(R"({"model":"a","input_tokens":10})"));
  total.Accumulate(ExtractGenAiUsage(R"({"output_tokens":5,"cost_usd":0.5})"));
  total.Accumulate(ExtractGenAiUsage(R"({"model":"b","input_tokens":2,"cost_usd":0.25})"));
  EXPECT_EQ(total.model, "b");
  EXPECT_EQ(total.input_tokens, 12);
  EXPECT_EQ(total.output_tokens, 5);
  EXPECT_DOUBLE_EQ(total.cost_usd.value_or(-1), 0.75);
}

// The parse is skipped for metadata that cannot name a usage key; every key is still found, flat
// and under "usage", and so are keys written with JSON escapes.
TEST(GenAiUsage, EveryKeyIsFoundAndMetadataWithoutThemIsEmpty) {
  for (const char* key : {"gen_ai.request.model", "gen_ai.response.model", "model"}) {
    EXPECT_EQ(ExtractGenAiUsage(std::string(R"({")") + key + R"(":"m"})").model, "m") << key;
    EXPECT_EQ(ExtractGenAiUsage(std::string(R"({"usage":{")") + key + R"(":"m"}})").model, "m")
        << key;
  }
  for (const char* key : {"gen_ai.usage.input_tokens", "input_tokens", "inputTokens",
                          "prompt_tokens", "promptTokenCount"}) {
    EXPECT_EQ(ExtractGenAiUsage(std::string(R"({")") + key + R"(":7})").input_tokens, 7) << key;
    EXPECT_EQ(ExtractGenAiUsage(std::string(R"({"usage":{")") + key + R"(":7}})").input_tokens, 7)
        << key;
  }
  for (const char* key : {"gen_ai.usage.output_tokens", "output_tokens", "outputTokens",
                          "completion_tokens", "candidatesTokenCount"}) {
    EXPECT_EQ(ExtractGenAiUsage(std::string(R"({")") + key + R"(":8})").output_tokens, 8) << key;
  }
  for (const char* key : {"vibekit.cost_usd", "cost_usd", "costUsd", "total_cost_usd"}) {
    EXPECT_DOUBLE_EQ(
        ExtractGenAiUsage(std::string(R"({")") + key + R"(":0.5})").cost_usd.value_or(-1), 0.5)
        << key;
  }
  // Each alone: no other key may make the text look like usage.
  EXPECT_EQ(ExtractGenAiUsage(R"({"mod\u0065l":"m"})").model, "m");
  EXPECT_EQ(ExtractGenAiUsage(R"({"input_t\u006fkens":3})").input_tokens, 3);
  EXPECT_DOUBLE_EQ(ExtractGenAiUsage(R"({"c\u006fst_usd":2})").cost_usd.value_or(-1), 2.0);
  EXPECT_TRUE(ExtractGenAiUsage(R"({"chunk":3,"type":"text"})").empty());
  EXPECT_TRUE(ExtractGenAiUsage(R"({"retryable":true,"attempt":1,"chunk":2})").empty());
}

}  // namespace
}  // namespace vibekit::internal
