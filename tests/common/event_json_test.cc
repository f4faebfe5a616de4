#include "common/event_json.h"

#include <gtest/gtest.h>

namespace vibekit::internal {
namespace {

TEST(EventJson, RoundTripsEveryField) {
  Event e;
  e.session_id = "s-1";
  e.event_type = EventType::kError;
  e.agent_type = "claude";
  e.mode = "code";
  e.prompt = "Fix \"this\"\nplease";
  e.stream_data = "boom \xE2\x86\x92 \\";
  e.sandbox_id = "sbx";
  e.repo_url = "https://example.test/r";
  e.metadata = R"({"a":1,"b":{"c":[true,null]}})";
  e.timestamp = 1767225600123;
  e.error = ErrorDetails{"RateLimitError", "slow down", std::string("at x"), std::nullopt,
                         ErrorSeverity::kHigh};
  const std::string line = EventToJson(e);
  auto back = EventFromJson(line);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->session_id, e.session_id);
  EXPECT_EQ(back->event_type, e.event_type);
  EXPECT_EQ(back->mode, e.mode);
  EXPECT_EQ(back->prompt, e.prompt);
  EXPECT_EQ(back->stream_data, e.stream_data);
  EXPECT_EQ(back->metadata, e.metadata);
  EXPECT_EQ(back->timestamp, e.timestamp);
  ASSERT_TRUE(back->error.has_value());
  EXPECT_EQ(back->error->error_type, "RateLimitError");
  EXPECT_EQ(back->error->severity, ErrorSeverity::kHigh);
  EXPECT_EQ(EventToJson(*back), line);
}

TEST(EventJson, RejectsBadShapesWithPreciseMessages) {
  auto msg = [](std::string_view json) { return EventFromJson(json).status().message(); };
  EXPECT_NE(msg("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(msg("[1,2]").find("JSON object"), std::string::npos);
  EXPECT_NE(msg(R"({"eventType":"start","agentType":"a","timestamp":1})").find("sessionId"),
            std::string::npos);
  EXPECT_NE(msg(R"({"sessionId":"s","eventType":"begin","agentType":"a","timestamp":1})")
                .find("unknown event type"),
            std::string::npos);
  EXPECT_NE(msg(R"({"sessionId":"s","eventType":"start","agentType":"a","timestamp":"NaN"})")
                .find("timestamp"),
            std::string::npos);
  EXPECT_NE(msg(R"({"sessionId":"s","eventType":"start","agentType":"a","timestamp":1.5})")
                .find("whole milliseconds"),
            std::string::npos);
  EXPECT_FALSE(EventFromJson(R"({"sessionId":"s","eventType":"start","agentType":"a","timestamp":1e999})").ok());
  EXPECT_NE(msg(R"({"sessionId":"s","eventType":"start","agentType":"a","timestamp":1,"metadata":[1]})")
                .find("metadata"),
            std::string::npos);
}

}  // namespace
}  // namespace vibekit::internal
