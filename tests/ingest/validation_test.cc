#include "ingest/validation.h"

#include <gtest/gtest.h>

#include <string>

namespace vibekit::ingest {
namespace {

Event Good() {
  Event e;
  e.session_id = "s1";
  e.agent_type = "claude";
  e.event_type = EventType::kStream;
  e.stream_data = "hello";
  e.timestamp = 1767225600000;
  return e;
}

std::string Why(Event e) {
  LocalStoreConfig config;
  Status st = ValidateEvent(e, config, 42);
  return st.ok() ? "" : st.message();
}

TEST(Validation, AcceptsAGoodEventAndFillsMissingTimestamp) {
  Event e = Good();
  e.timestamp = 0;
  LocalStoreConfig config;
  ASSERT_TRUE(ValidateEvent(e, config, 42).ok());
  EXPECT_EQ(e.timestamp, 42);
}

TEST(Validation, RejectsEachBadInputWithAClearMessage) {
  Event e = Good();
  e.session_id.clear();
  EXPECT_NE(Why(e).find("sessionId must not be empty"), std::string::npos);
  e = Good();
  e.agent_type.clear();
  EXPECT_NE(Why(e).find("agentType"), std::string::npos);
  e = Good();
  e.stream_data = std::string("bad \xC3\x28 utf8");
  EXPECT_NE(Why(e).find("streamData is not valid UTF-8 (byte 4)"), std::string::npos);
  e = Good();
  e.timestamp = -5;
  EXPECT_NE(Why(e).find("negative"), std::string::npos);
  e = Good();
  e.timestamp = kMaxTimestampMs + 1;
  EXPECT_NE(Why(e).find("9999"), std::string::npos);
  e = Good();
  e.stream_data = std::string(5 << 20, 'x');
  EXPECT_NE(Why(e).find("streamData is 5242880 bytes; the limit is 1048576"), std::string::npos);
  e = Good();
  e.metadata = "{\"a\":";
  EXPECT_NE(Why(e).find("metadata is not valid JSON"), std::string::npos);
  e = Good();
  e.metadata = "[1,2]";
  EXPECT_NE(Why(e).find("metadata must be a JSON object"), std::string::npos);
  e = Good();
  e.event_type = EventType::kError;
  e.stream_data.reset();
  EXPECT_NE(Why(e).find("needs a message"), std::string::npos);
  e = Good();
  e.error = ErrorDetails{};
  EXPECT_NE(Why(e).find("only error events"), std::string::npos);
}

TEST(Validation, UnknownEventTypeNameIsAValidationError) {
  auto r = ParseEventType("finish");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsValidationError());
  EXPECT_NE(r.status().message().find("finish"), std::string::npos);
}

}  // namespace
}  // namespace vibekit::ingest
