#include "otlp/otlp_decode.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>

#include "otlp/otlp_fixtures.h"
#include "otlp/otlp_json.h"

namespace vibekit::otlp {
namespace {
namespace json = boost::json;

json::value Parsed(const std::optional<std::string>& text) {
  return text ? json::parse(*text) : json::value(nullptr);
}

void ExpectSameEvents(std::vector<Event> want, const std::vector<Event>& got) {
  std::sort(want.begin(), want.end(), [](const Event& a, const Event& b) {
    return a.timestamp != b.timestamp ? a.timestamp < b.timestamp : a.id < b.id;
  });
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(want[i].id));
    EXPECT_EQ(got[i].id, want[i].id);
    EXPECT_EQ(got[i].session_id, want[i].session_id);
    EXPECT_EQ(got[i].event_type, want[i].event_type);
    EXPECT_EQ(got[i].agent_type, want[i].agent_type);
    EXPECT_EQ(got[i].mode, want[i].mode);
    EXPECT_EQ(got[i].timestamp, want[i].timestamp);
    EXPECT_EQ(got[i].prompt, want[i].prompt);
    EXPECT_EQ(got[i].stream_data, want[i].stream_data);
    EXPECT_EQ(got[i].repo_url, want[i].repo_url);
    EXPECT_EQ(got[i].sandbox_id, want[i].sandbox_id);
    json::value md = Parsed(want[i].metadata);
    // Beyond int64 the encoder writes a double (OTLP has no unsigned integers).
    if (md.is_object() && md.as_object().contains("big")) {
      md.as_object()["big"] = static_cast<double>(md.at("big").as_uint64());
    }
    EXPECT_EQ(Parsed(got[i].metadata), md);
  }
}

TEST(OtlpDecode, RootSpanEventsComeBackAsTheEvents) {
  SessionTrace t = FailedSession();
  auto decoded = DecodeTraceRequest(EncodeTraceRequest(std::span(&t, 1)));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->spans, 1);
  EXPECT_EQ(decoded->skipped_span_events, 0);
  ExpectSameEvents(t.events, decoded->events);
  const Event& error = decoded->events[2];
  ASSERT_TRUE(error.error.has_value());
  EXPECT_EQ(error.error->error_type, "RateLimitError");
  EXPECT_EQ(error.error->message, "rate limited");
  EXPECT_EQ(error.error->stack, "at step 3");
  EXPECT_EQ(error.error->severity, ErrorSeverity::kHigh);
}

TEST(OtlpDecode, BatchSpansAndRequestsOnePerLine) {
  SessionTrace t = FailedSession();
  std::string first;
  TraceRequestWriter w1(first);
  w1.Begin();
  w1.EventBatchSpan(t.session.id, "claude", std::span(t.events).subspan(0, 2), t.errors);
  w1.Finish();
  std::string second;
  TraceRequestWriter w2(second);
  w2.Begin();
  w2.EventBatchSpan(t.session.id, "claude", std::span(t.events).subspan(2, 2), t.errors);
  w2.SessionSpan(t.session, {}, {});
  w2.Finish();
  auto decoded = DecodeTraceRequest(first + "\n" + second + "\n");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->spans, 3);
  std::vector<Event> got = decoded->events;
  std::sort(got.begin(), got.end(),
            [](const Event& a, const Event& b) { return a.timestamp < b.timestamp; });
  ExpectSameEvents(t.events, got);
}

TEST(OtlpDecode, ForeignSpansAreSkippedAndCounted) {
  const std::string foreign = R"({"resourceSpans":[{"scopeSpans":[{"spans":[
    {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"GET",
     "startTimeUnixNano":"1","endTimeUnixNano":"2",
     "events":[{"timeUnixNano":"1","name":"x"}]}]}]}]})";
  auto decoded = DecodeTraceRequest(foreign);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(decoded->events.empty());
  EXPECT_EQ(decoded->skipped_span_events, 1);
}

TEST(OtlpDecode, BrokenInputIsRefusedWithWhere) {
  SessionTrace t = FailedSession();
  const std::string good = EncodeTraceRequest(std::span(&t, 1));
  auto truncated = DecodeTraceRequest(good.substr(0, good.size() - 10));
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("invalid JSON"), std::string::npos);

  EXPECT_FALSE(DecodeTraceRequest("").ok());
  EXPECT_FALSE(DecodeTraceRequest("[1,2]").ok());
  auto no_spans = DecodeTraceRequest(R"({"sessions":[]})");
  ASSERT_FALSE(no_spans.ok());
  EXPECT_NE(no_spans.status().message().find("resourceSpans"), std::string::npos);

  std::string bad_type = good;
  bad_type.replace(bad_type.find("\"stringValue\":\"stream\""), 22, "\"stringValue\":\"strum\"");
  auto wrong = DecodeTraceRequest(bad_type);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("events[1]"), std::string::npos)
      << wrong.status().message();

  std::string bad_int = good;
  bad_int.replace(bad_int.find("{\"intValue\":\"100\"}"), 18, "{\"intValue\":\"1x0\"}");
  auto mistyped = DecodeTraceRequest(bad_int);
  ASSERT_FALSE(mistyped.ok());
  EXPECT_NE(mistyped.status().message().find("intValue"), std::string::npos);
}

}  // namespace
}  // namespace vibekit::otlp
