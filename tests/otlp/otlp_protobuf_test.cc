#include "otlp/otlp_protobuf.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>
#include <sstream>

#include "otlp/otlp_receive.h"

namespace vibekit::otlp {
namespace {
namespace json = boost::json;

// The cases are written by tests/otlp/receiver_cases/make_protobuf_cases.mjs with the
// OpenTelemetry JS SDK's serializers: <name>.pb is what @opentelemetry/exporter-*-otlp-proto
// sends, <name>.pb.json what the -otlp-http exporters send for the same telemetry.
std::string Case(const std::string& name) {
  std::ifstream in(std::string(VIBEKIT_RECEIVER_CASES) + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_FALSE(ss.str().empty()) << name;
  return ss.str();
}

const SessionKnown kNoneKnown = [](std::string_view) { return false; };

ReceivedBatch Receive(OtlpSignal signal, const std::string& body) {
  auto r = ReceiveOtlpJson(signal, body, kNoneKnown);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(*r) : ReceivedBatch{};
}

void ExpectSameBatch(const ReceivedBatch& want, const ReceivedBatch& got) {
  EXPECT_EQ(got.items, want.items);
  EXPECT_EQ(got.rejected, want.rejected);
  EXPECT_EQ(got.error_message, want.error_message);
  ASSERT_EQ(got.events.size(), want.events.size());
  for (std::size_t i = 0; i < want.events.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i));
    const Event& w = want.events[i];
    const Event& g = got.events[i];
    EXPECT_EQ(g.session_id, w.session_id);
    EXPECT_EQ(g.event_type, w.event_type);
    EXPECT_EQ(g.agent_type, w.agent_type);
    EXPECT_EQ(g.mode, w.mode);
    EXPECT_EQ(g.timestamp, w.timestamp);
    EXPECT_EQ(g.prompt, w.prompt);
    EXPECT_EQ(g.stream_data, w.stream_data);
    ASSERT_EQ(g.metadata.has_value(), w.metadata.has_value());
    if (w.metadata) {
      EXPECT_EQ(json::parse(*g.metadata), json::parse(*w.metadata));
    }
    ASSERT_EQ(g.error.has_value(), w.error.has_value());
    if (w.error) {
      EXPECT_EQ(g.error->message, w.error->message);
      EXPECT_EQ(g.error->error_type, w.error->error_type);
      EXPECT_EQ(g.error->stack, w.error->stack);
    }
  }
}

json::object Meta(const Event& e) { return json::parse(*e.metadata).as_object(); }

TEST(OtlpProtobuf, SdkTracesDecodeLikeTheirJson) {
  auto text = OtlpProtobufToJson(OtlpSignal::kTraces, Case("sdk_traces.pb"));
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  ReceivedBatch got = Receive(OtlpSignal::kTraces, *text);
  ExpectSameBatch(Receive(OtlpSignal::kTraces, Case("sdk_traces.pb.json")), got);
  // And what that is: a start with the prompt, the call with typed tokens, an exception, the end.
  EXPECT_EQ(got.items, 4);
  EXPECT_EQ(got.rejected, 1);
  ASSERT_EQ(got.events.size(), 5u);
  EXPECT_EQ(got.events[0].event_type, EventType::kStart);
  EXPECT_EQ(got.events[0].prompt, "Rename the config loader");
  EXPECT_EQ(got.events[0].mode, "code");
  EXPECT_EQ(got.events[0].timestamp, 1764079200000);
  json::object call = Meta(got.events[1]);
  EXPECT_EQ(call.at("gen_ai.usage.input_tokens").as_int64(), 2400);
  EXPECT_DOUBLE_EQ(call.at("gen_ai.request.temperature").as_double(), 0.25);
  EXPECT_EQ(call.at("streaming").as_bool(), true);
  EXPECT_EQ(call.at("gen_ai.response.finish_reasons"), json::parse(R"(["tool_use","stop"])"));
  EXPECT_EQ(call.at("otlp.span_id").as_string().size(), 16u);
  EXPECT_EQ(call.at("otlp.trace_id").as_string().size(), 32u);
  EXPECT_EQ(got.events[2].event_type, EventType::kError);
  EXPECT_EQ(got.events[2].error->message, "command exited with 1");
  EXPECT_EQ(got.events[2].error->stack, "at bash");
  EXPECT_EQ(got.events[4].event_type, EventType::kEnd);
  EXPECT_EQ(got.events[4].timestamp, 1764079203000);
}

TEST(OtlpProtobuf, SdkLogsDecodeLikeTheirJson) {
  auto text = OtlpProtobufToJson(OtlpSignal::kLogs, Case("sdk_logs.pb"));
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  ReceivedBatch got = Receive(OtlpSignal::kLogs, *text);
  ExpectSameBatch(Receive(OtlpSignal::kLogs, Case("sdk_logs.pb.json")), got);
  EXPECT_EQ(got.items, 5);
  EXPECT_EQ(got.rejected, 1);
  ASSERT_EQ(got.events.size(), 4u);
  EXPECT_EQ(got.events[0].prompt, "Explain the retry loop");
  EXPECT_EQ(got.events[0].agent_type, "claude");
  EXPECT_EQ(Meta(got.events[1]).at("gen_ai.usage.input_tokens").as_int64(), 1520);
  EXPECT_EQ(got.events[2].error->severity, ErrorSeverity::kHigh);
  json::object structured = Meta(got.events[3]);
  EXPECT_EQ(structured.at("digest").as_string(), "3q2+7w==");  // bytes de ad be ef
  EXPECT_EQ(structured.at("big").as_int64(), 9007199254740991);
  EXPECT_EQ(json::parse(structured.at("otlp.body").as_string()),
            json::parse(R"({"step":"lint","ok":true,"files":[1,2]})"));
}

TEST(OtlpProtobuf, SdkMetricsDecodeLikeTheirJson) {
  auto text = OtlpProtobufToJson(OtlpSignal::kMetrics, Case("sdk_metrics.pb"));
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  ReceivedBatch got = Receive(OtlpSignal::kMetrics, *text);
  ExpectSameBatch(Receive(OtlpSignal::kMetrics, Case("sdk_metrics.pb.json")), got);
  EXPECT_EQ(got.items, 5);
  EXPECT_EQ(got.rejected, 1);
  ASSERT_EQ(got.events.size(), 5u);  // start + 4 points
  std::map<std::string, json::object> by_name;
  for (const Event& e : got.events) {
    if (e.event_type == EventType::kStream) {
      json::object m = Meta(e);
      by_name[std::string(m.at("metric.name").as_string())] = m;
    }
  }
  EXPECT_EQ(by_name.at("claude_code.token.usage").at("metric.value").as_int64(), 1820);
  EXPECT_DOUBLE_EQ(by_name.at("claude_code.cost.usage").at("metric.value").as_double(), 0.0433);
  EXPECT_DOUBLE_EQ(by_name.at("claude_code.context.fill").at("metric.value").as_double(), -0.75);
  EXPECT_EQ(by_name.at("claude_code.tool.duration").at("metric.count").as_int64(), 1);
  EXPECT_DOUBLE_EQ(by_name.at("claude_code.tool.duration").at("metric.sum").as_double(), 1180);
}

TEST(OtlpProtobuf, BrokenBodiesAreRefusedWithTheField) {
  const std::string pb = Case("sdk_traces.pb");
  auto truncated = OtlpProtobufToJson(OtlpSignal::kTraces, pb.substr(0, pb.size() - 7));
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(truncated.status().message().find("truncated"), std::string::npos)
      << truncated.status().message();
  // Field 1 (resourceSpans) with wire type 0 instead of 2.
  auto wrong = OtlpProtobufToJson(OtlpSignal::kTraces, std::string("\x08\x01", 2));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("resourceSpans"), std::string::npos);
  // A start-group tag of an unknown field (15).
  auto group = OtlpProtobufToJson(OtlpSignal::kLogs, std::string("\x7b", 1));
  ASSERT_FALSE(group.ok());
  EXPECT_NE(group.status().message().find("groups"), std::string::npos);
  // Unknown fields are skipped; an empty body is an empty request.
  auto unknown = OtlpProtobufToJson(OtlpSignal::kMetrics, std::string("\x78\x05", 2));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(*unknown, "{}");
  // Nesting deeper than 64 messages (AnyValue arrays in arrays) is refused, not recursed.
  const auto ld = [](int field, const std::string& payload) {
    std::string out(1, static_cast<char>(field << 3 | 2));
    std::size_t n = payload.size();
    do {
      const auto byte = static_cast<unsigned char>(n & 0x7f);
      n >>= 7;
      out.push_back(static_cast<char>(n ? byte | 0x80 : byte));
    } while (n);
    return out + payload;
  };
  const auto request_with = [&](const std::string& any) {
    const std::string kv = ld(1, "k") + ld(2, any);
    return ld(1, ld(2, ld(2, ld(6, kv))));  // resourceLogs.scopeLogs.logRecords.attributes
  };
  std::string any = ld(1, "x");
  for (int i = 0; i < 40; ++i) any = ld(5, ld(1, any));  // arrayValue.values
  auto deep = OtlpProtobufToJson(OtlpSignal::kLogs, request_with(any));
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("deeper than 64"), std::string::npos);
  std::string shallow = ld(1, "x");
  for (int i = 0; i < 3; ++i) shallow = ld(5, ld(1, shallow));
  auto ok = OtlpProtobufToJson(OtlpSignal::kLogs, request_with(shallow));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_NE(ok->find(R"({"arrayValue":{"values":[{"arrayValue":{"values":[{"arrayValue":{"values":[{"stringValue":"x"}]}}]}}]}})"),
            std::string::npos) << *ok;
  EXPECT_TRUE(OtlpProtobufToJson(OtlpSignal::kLogs, "").ok());
}

// Two findings of fuzz/otlp_protobuf_fuzz.cc: whatever the transcoder accepts, the JSON receiver
// must read. (1) A string field that is not UTF-8 made JSON text no parser takes: refused now,
// naming the field, as protobuf's own parsers do. (2) An empty attribute key is omitted from the
// JSON, as the proto3 JSON mapping allows; the receiver took the missing "key" as an error.
TEST(OtlpProtobuf, WhatTheTranscoderAcceptsTheReceiverReads) {
  const std::string pb = Case("sdk_traces.pb");
  const std::size_t at = pb.find("claude");
  ASSERT_NE(at, std::string::npos);
  std::string bad_utf8 = pb;
  bad_utf8[at + 2] = '\xe9';  // a lone continuation-less lead byte
  auto refused = OtlpProtobufToJson(OtlpSignal::kTraces, bad_utf8);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("not valid UTF-8"), std::string::npos)
      << refused.status().message();

  std::ifstream in(std::string(VIBEKIT_FUZZ_CORPUS) +
                       "/otlp_protobuf/regression_absent_attribute_key.pb",
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  ASSERT_FALSE(ss.str().empty());
  auto json_text = OtlpProtobufToJson(OtlpSignal::kTraces, ss.str());
  ASSERT_TRUE(json_text.ok()) << json_text.status().ToString();
  EXPECT_NE(json_text->find(R"({"value":{"stringValue":"amd64"}})"), std::string::npos);
  const ReceivedBatch batch = Receive(OtlpSignal::kTraces, *json_text);
  ASSERT_FALSE(batch.events.empty());
  // A present but mistyped key is still an error of that record's path.
  auto mistyped = ReceiveOtlpJson(
      OtlpSignal::kTraces,
      R"({"resourceSpans":[{"resource":{"attributes":[{"key":7,"value":{"stringValue":"x"}}]}}]})",
      kNoneKnown);
  ASSERT_FALSE(mistyped.ok());
  EXPECT_NE(mistyped.status().message().find("attributes[0].key must be a string"),
            std::string::npos) << mistyped.status().message();
}

TEST(OtlpProtobuf, PartialSuccessResponse) {
  EXPECT_EQ(PartialSuccessProtobuf(0, ""), "");
  EXPECT_EQ(PartialSuccessProtobuf(2, "x"), std::string("\x0a\x05\x08\x02\x12\x01x", 7));
  const std::string long_message(200, 'm');
  const std::string big = PartialSuccessProtobuf(300, long_message);
  // 300 = ac 02 as a varint; the 200-byte message's length c8 01; the whole 206 = ce 01.
  EXPECT_EQ(big.substr(0, 8), std::string("\x0a\xce\x01\x08\xac\x02\x12\xc8", 8));
  EXPECT_EQ(big.size(), 3u + 206u);
}

}  // namespace
}  // namespace vibekit::otlp
