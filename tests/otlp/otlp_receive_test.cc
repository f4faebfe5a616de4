#include "otlp/otlp_receive.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "common/genai_usage.h"
#include "otlp/otlp_fixtures.h"
#include "otlp/otlp_json.h"
#include "store/session_merge.h"

namespace vibekit::otlp {
namespace {
namespace json = boost::json;

std::string Case(const std::string& name) {
  std::ifstream in(std::string(VIBEKIT_RECEIVER_CASES) + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_FALSE(ss.str().empty()) << name;
  return ss.str();
}

const SessionKnown kNoneKnown = [](std::string_view) { return false; };

json::object Meta(const Event& e) {
  EXPECT_TRUE(e.metadata.has_value());
  return e.metadata ? json::parse(*e.metadata).as_object() : json::object();
}

std::vector<const Event*> OfSession(const ReceivedBatch& b, std::string_view sid) {
  std::vector<const Event*> out;
  for (const Event& e : b.events) {
    if (e.session_id == sid) out.push_back(&e);
  }
  return out;
}

// The session row the store would build from these events.
Session Merged(const std::vector<Event>& events, std::string_view sid) {
  std::vector<const Event*> ptrs;
  for (const Event& e : events) {
    if (e.session_id == sid) ptrs.push_back(&e);
  }
  return store::MergeSessionEvents(std::nullopt, ptrs, 1);
}

TEST(OtlpReceive, ClaudeCodeLogsBecomeASessionWithPromptModelTokensCostAndErrors) {
  auto r = ReceiveOtlpJson(OtlpSignal::kLogs, Case("claude_code_logs.json"), kNoneKnown);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->items, 7);
  EXPECT_EQ(r->rejected, 1);  // the record without session.id
  EXPECT_NE(r->error_message.find("1 of 7 log records rejected"), std::string::npos)
      << r->error_message;
  EXPECT_NE(r->error_message.find("claude_code.api_request"), std::string::npos);
  const std::string sid = "4f1c2a9e-7b3d-4c55-9a61-0d2e8f3b7c10";
  ASSERT_EQ(r->started_sessions, std::vector<std::string>{sid});
  auto ev = OfSession(*r, sid);
  ASSERT_EQ(ev.size(), 6u);
  // The user prompt opened the session.
  EXPECT_EQ(ev[0]->event_type, EventType::kStart);
  EXPECT_EQ(ev[0]->prompt, "Add a retry to the HTTP client and test it");
  EXPECT_FALSE(ev[0]->stream_data.has_value());
  for (const Event* e : ev) EXPECT_EQ(e->agent_type, "claude");
  // The model call: typed GenAI names from Claude Code's string attributes.
  EXPECT_EQ(ev[1]->event_type, EventType::kStream);
  json::object call = Meta(*ev[1]);
  EXPECT_EQ(call.at("gen_ai.request.model").as_string(), "claude-sonnet-4-5-20250929");
  EXPECT_EQ(call.at("gen_ai.usage.input_tokens").as_int64(), 1520);
  EXPECT_EQ(call.at("gen_ai.usage.output_tokens").as_int64(), 412);
  EXPECT_EQ(call.at("gen_ai.usage.cache_read_input_tokens").as_int64(), 18000);
  EXPECT_DOUBLE_EQ(call.at("vibekit.cost_usd").as_double(), 0.0421);
  EXPECT_DOUBLE_EQ(call.at("duration_ms").as_double(), 2087);
  EXPECT_EQ(call.at("otlp.name").as_string(), "claude_code.api_request");
  EXPECT_EQ(call.at("terminal.type").as_string(), "vscode");
  EXPECT_NE(ev[1]->stream_data->find("1520 in / 412 out tokens"), std::string::npos)
      << *ev[1]->stream_data;
  // What our analytics read from it.
  internal::GenAiUsage usage = internal::ExtractGenAiUsage(*ev[1]->metadata);
  EXPECT_EQ(usage.model, "claude-sonnet-4-5-20250929");
  EXPECT_EQ(usage.input_tokens, 1520);
  EXPECT_EQ(usage.output_tokens, 412);
  EXPECT_DOUBLE_EQ(usage.cost_usd.value_or(-1), 0.0421);
  // Tool decision and result are stream events naming the tool.
  EXPECT_EQ(ev[2]->event_type, EventType::kStream);
  EXPECT_NE(ev[3]->stream_data->find("Bash"), std::string::npos);
  EXPECT_NE(ev[3]->stream_data->find("ok"), std::string::npos);
  // The API error is an error event with the status code in its type.
  EXPECT_EQ(ev[4]->event_type, EventType::kError);
  ASSERT_TRUE(ev[4]->error.has_value());
  EXPECT_EQ(ev[4]->error->message, "Overloaded");
  EXPECT_EQ(ev[4]->error->error_type, "claude_code.api_error 529");
  EXPECT_EQ(ev[4]->error->severity, ErrorSeverity::kHigh);
  EXPECT_EQ(ev[4]->timestamp, 1764079205000);
  // Logs alone never end the session: the merge leaves it failed by the error, open-ended.
  Session s = Merged(r->events, sid);
  EXPECT_FALSE(s.end_time.has_value());
  EXPECT_EQ(s.error_count, 1);
  EXPECT_EQ(s.start_time, 1764079200000);
}

TEST(OtlpReceive, KnownSessionGetsNoSecondStart) {
  const std::string sid = "4f1c2a9e-7b3d-4c55-9a61-0d2e8f3b7c10";
  auto r = ReceiveOtlpJson(OtlpSignal::kLogs, Case("claude_code_logs.json"),
                           [&](std::string_view id) { return id == sid; });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->started_sessions.empty());
  auto ev = OfSession(*r, sid);
  ASSERT_EQ(ev.size(), 6u);
  for (const Event* e : ev) EXPECT_NE(e->event_type, EventType::kStart);
  // The prompt is still recorded, as a stream event.
  EXPECT_EQ(ev[0]->stream_data, "Add a retry to the HTTP client and test it");
}

TEST(OtlpReceive, ClaudeCodeMetricsAreStreamEventsThatDoNotCountTokensTwice) {
  auto r = ReceiveOtlpJson(OtlpSignal::kMetrics, Case("claude_code_metrics.json"), kNoneKnown);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->items, 6);
  EXPECT_EQ(r->rejected, 1);  // active_time has no session.id
  EXPECT_NE(r->error_message.find("claude_code.active_time.total"), std::string::npos);
  ASSERT_EQ(r->events.size(), 6u);  // a start added at the first data point + 5 data points
  EXPECT_EQ(r->events[0].event_type, EventType::kStart);
  EXPECT_EQ(r->events[0].agent_type, "claude");
  int token_points = 0;
  for (std::size_t i = 1; i < r->events.size(); ++i) {
    const Event& e = r->events[i];
    EXPECT_EQ(e.event_type, EventType::kStream);
    json::object m = Meta(e);
    EXPECT_EQ(m.at("metric.temporality").as_string(), "delta");
    if (m.at("metric.name").as_string() == "claude_code.token.usage") {
      ++token_points;
      if (m.at("type").as_string() == "input") {
        EXPECT_EQ(m.at("metric.value").as_int64(), 1820);
        EXPECT_EQ(*e.stream_data,
                  "claude_code.token.usage{type=input,model=claude-sonnet-4-5-20250929} = 1820 tokens");
      }
    }
    if (m.at("metric.name").as_string() == "claude_code.cost.usage") {
      EXPECT_DOUBLE_EQ(m.at("metric.value").as_double(), 0.0433);
    }
    // The logs carry the same tokens; the data points must not add to them.
    internal::GenAiUsage u = internal::ExtractGenAiUsage(*e.metadata);
    EXPECT_FALSE(u.input_tokens || u.output_tokens || u.cost_usd) << *e.metadata;
  }
  EXPECT_EQ(token_points, 3);
}

TEST(OtlpReceive, CodexLogsUseConversationIdAndDropTokenlessStreamDeltas) {
  auto r = ReceiveOtlpJson(OtlpSignal::kLogs, Case("codex_logs.json"), kNoneKnown);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->items, 9);
  EXPECT_EQ(r->rejected, 0);
  EXPECT_TRUE(r->error_message.empty());
  EXPECT_EQ(r->ignored, 2);  // the two output_text.delta SSE events
  ASSERT_EQ(r->events.size(), 7u);
  for (const Event& e : r->events) {
    EXPECT_EQ(e.session_id, "0199a3b2-5c7e-7d10-8f42-6b1e2d3c4a5f");
    EXPECT_EQ(e.agent_type, "codex");
  }
  // conversation_starts opened the session; the prompt that follows is a stream event.
  EXPECT_EQ(r->events[0].event_type, EventType::kStart);
  EXPECT_EQ(r->events[1].event_type, EventType::kStream);
  EXPECT_EQ(r->events[1].stream_data, "Fix the flaky test in parser.rs");
  const Event& completed = r->events[3];
  internal::GenAiUsage u = internal::ExtractGenAiUsage(*completed.metadata);
  EXPECT_EQ(u.model, "gpt-5-codex");
  EXPECT_EQ(u.input_tokens, 5210);
  EXPECT_EQ(u.output_tokens, 780);
  EXPECT_EQ(Meta(completed).at("gen_ai.usage.cache_read_input_tokens").as_int64(), 4096);
  // A failed API request (error.message) is an error event.
  const Event& failed = r->events.back();
  EXPECT_EQ(failed.event_type, EventType::kError);
  EXPECT_EQ(failed.error->message, "rate limit exceeded");
  EXPECT_EQ(failed.error->error_type, "codex.api_request 429");
}

TEST(OtlpReceive, GeminiCliLogs) {
  auto r = ReceiveOtlpJson(OtlpSignal::kLogs, Case("gemini_cli_logs.json"), kNoneKnown);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 4u);
  EXPECT_EQ(r->events[0].event_type, EventType::kStart);
  EXPECT_EQ(r->events[0].prompt, "Explain this repo");
  EXPECT_EQ(r->events[0].agent_type, "gemini");
  internal::GenAiUsage u = internal::ExtractGenAiUsage(*r->events[1].metadata);
  EXPECT_EQ(u.model, "gemini-2.5-pro");
  EXPECT_EQ(u.input_tokens, 8000);
  EXPECT_EQ(u.output_tokens, 600);
  EXPECT_NE(r->events[2].stream_data->find("read_file"), std::string::npos);
  EXPECT_EQ(r->events[3].event_type, EventType::kError);
  EXPECT_EQ(r->events[3].error->error_type, "RESOURCE_EXHAUSTED");
  EXPECT_EQ(r->events[3].error->message, "Quota exceeded");
}

TEST(OtlpReceive, GenAiSpansMapToStartCallsToolsErrorAndEnd) {
  auto r = ReceiveOtlpJson(OtlpSignal::kTraces, Case("genai_spans.json"), kNoneKnown);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->items, 6);
  EXPECT_EQ(r->rejected, 1);
  EXPECT_NE(r->error_message.find("span 'GET /health' has no session.id"), std::string::npos)
      << r->error_message;
  ASSERT_EQ(r->events.size(), 6u);
  const auto& ev = r->events;
  for (const Event& e : ev) {
    EXPECT_EQ(e.session_id, "ses_7f3a9c");
    EXPECT_EQ(e.agent_type, "opencode");  // gen_ai.agent.name on the scope beats service.name
  }
  // The root span arrives last but its start comes first, with the prompt.
  EXPECT_EQ(ev[0].event_type, EventType::kStart);
  EXPECT_EQ(ev[0].prompt, "Rename the config loader");
  EXPECT_EQ(ev[0].timestamp, 1764079200000);
  EXPECT_EQ(ev[1].event_type, EventType::kStream);
  internal::GenAiUsage u = internal::ExtractGenAiUsage(*ev[1].metadata);
  EXPECT_EQ(u.model, "claude-sonnet-4-5");
  EXPECT_EQ(u.input_tokens, 2400);
  EXPECT_EQ(Meta(ev[1]).at("otlp.span_id").as_string(), "aaaaaaaaaaaaaaa1");
  EXPECT_NE(ev[2].stream_data->find("edit"), std::string::npos);
  EXPECT_EQ(ev[3].event_type, EventType::kError);
  EXPECT_EQ(ev[3].error->error_type, "ExitCode1");
  EXPECT_EQ(ev[3].error->message, "command exited with 1");
  EXPECT_EQ(ev[5].event_type, EventType::kEnd);
  EXPECT_EQ(ev[5].timestamp, 1764079205600);
  Session s = Merged(r->events, "ses_7f3a9c");
  EXPECT_EQ(s.status, SessionStatus::kCompleted);  // the root span's status is OK
  EXPECT_EQ(s.duration, 5600);
  EXPECT_EQ(s.error_count, 1);
}

TEST(OtlpReceive, RootSpanWithErrorStatusFailsTheSession) {
  const std::string body = R"({"resourceSpans":[{"resource":{"attributes":[
    {"key":"service.name","value":{"stringValue":"claude-code"}}]},
    "scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",
    "spanId":"00f067aa0ba902b7","name":"invoke_agent","startTimeUnixNano":1764079200000000000,
    "endTimeUnixNano":"1764079203000000000","status":{"code":2,"message":"interrupted"},
    "attributes":[{"key":"session.id","value":{"stringValue":"s-1"}}],
    "unknownField":{"ignored":true}}]}]}]})";
  auto r = ReceiveOtlpJson(OtlpSignal::kTraces, body, kNoneKnown);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 2u);
  EXPECT_EQ(r->events[0].agent_type, "claude");
  EXPECT_EQ(r->events[1].event_type, EventType::kEnd);
  EXPECT_EQ(Meta(r->events[1]).at("otlp.status_message").as_string(), "interrupted");
  EXPECT_EQ(Merged(r->events, "s-1").status, SessionStatus::kFailed);
}

TEST(OtlpReceive, ExplicitSessionEndLogEndsALogsOnlySession) {
  const std::string body = R"({"resourceLogs":[{"resource":{"attributes":[
    {"key":"service.name","value":{"stringValue":"opencode"}}]},"scopeLogs":[{"logRecords":[
    {"timeUnixNano":"1764079200000000000","eventName":"opencode.session_start",
     "attributes":[{"key":"session.id","value":{"stringValue":"oc-1"}}]},
    {"timeUnixNano":"1764079260000000000","eventName":"opencode.session_end",
     "attributes":[{"key":"session.id","value":{"stringValue":"oc-1"}}]}]}]}]})";
  auto r = ReceiveOtlpJson(OtlpSignal::kLogs, body, kNoneKnown);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 2u);
  EXPECT_EQ(r->events[0].event_type, EventType::kStart);
  EXPECT_EQ(r->events[1].event_type, EventType::kEnd);
  Session s = Merged(r->events, "oc-1");
  EXPECT_EQ(s.status, SessionStatus::kCompleted);
  EXPECT_EQ(s.agent_type, "opencode");
  EXPECT_EQ(s.duration, 60000);
}

TEST(OtlpReceive, OurOwnExportRoundTripsToTheSameEventsAndSession) {
  SessionTrace t = FailedSession();
  const std::string body = EncodeTraceRequest(std::span(&t, 1));
  auto r = ReceiveOtlpJson(OtlpSignal::kTraces, body, kNoneKnown);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rejected, 0);
  std::vector<Event> want = t.events;
  std::sort(want.begin(), want.end(),
            [](const Event& a, const Event& b) { return a.timestamp < b.timestamp; });
  ASSERT_EQ(r->events.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    const Event& g = r->events[i];
    EXPECT_EQ(g.id, 0);
    EXPECT_EQ(g.event_type, want[i].event_type);
    EXPECT_EQ(g.session_id, want[i].session_id);
    EXPECT_EQ(g.agent_type, want[i].agent_type);
    EXPECT_EQ(g.mode, want[i].mode);
    EXPECT_EQ(g.timestamp, want[i].timestamp);
    EXPECT_EQ(g.prompt, want[i].prompt);
    EXPECT_EQ(g.stream_data, want[i].stream_data);
    EXPECT_EQ(g.repo_url, want[i].repo_url);
  }
  ASSERT_TRUE(r->events[2].error.has_value());
  EXPECT_EQ(r->events[2].error->error_type, "RateLimitError");
  Session got = Merged(r->events, t.session.id);
  Session orig = Merged(t.events, t.session.id);
  EXPECT_EQ(got.status, SessionStatus::kFailed);
  EXPECT_EQ(got.status, orig.status);
  EXPECT_EQ(got.duration, orig.duration);
  EXPECT_EQ(got.event_count, orig.event_count);
  EXPECT_EQ(got.stream_event_count, orig.stream_event_count);
  EXPECT_EQ(got.error_count, orig.error_count);
  // Beyond int64 the encoder writes a double (OTLP has no unsigned integers).
  json::object orig_md = json::parse(*orig.metadata).as_object();
  orig_md["big"] = static_cast<double>(orig_md.at("big").as_uint64());
  EXPECT_EQ(json::parse(*got.metadata), json::value(orig_md));
  EXPECT_EQ(got.mode, orig.mode);
}

TEST(OtlpReceive, LiveDeliveryBatchesRoundTripWithoutDuplicateEnd) {
  SessionTrace t = FailedSession();
  std::string body;
  TraceRequestWriter w(body);
  w.Begin();
  w.EventBatchSpan(t.session.id, "claude", t.events, t.errors);
  w.SessionSpan(t.session, {}, {});  // the root span of live delivery carries no events
  w.Finish();
  auto r = ReceiveOtlpJson(OtlpSignal::kTraces, body, kNoneKnown);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), t.events.size());
  EXPECT_EQ(std::count_if(r->events.begin(), r->events.end(),
                          [](const Event& e) { return e.event_type == EventType::kEnd; }),
            1);
  EXPECT_EQ(Merged(r->events, t.session.id).status, SessionStatus::kFailed);
}

TEST(OtlpReceive, BadBodiesAreRefusedAndBadRecordsRejected) {
  auto not_json = ReceiveOtlpJson(OtlpSignal::kTraces, "{\"resourceSpans\":[", kNoneKnown);
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(not_json.status().message().find("invalid JSON"), std::string::npos);
  auto wrong_signal = ReceiveOtlpJson(OtlpSignal::kLogs, Case("genai_spans.json"), kNoneKnown);
  ASSERT_FALSE(wrong_signal.ok());
  EXPECT_NE(wrong_signal.status().message().find("resourceLogs"), std::string::npos);
  auto not_array = ReceiveOtlpJson(OtlpSignal::kMetrics, R"({"resourceMetrics":{}})", kNoneKnown);
  ASSERT_FALSE(not_array.ok());
  EXPECT_FALSE(ReceiveOtlpJson(OtlpSignal::kLogs, "", kNoneKnown).ok());
  EXPECT_FALSE(ReceiveOtlpJson(OtlpSignal::kLogs, "[1,2]", kNoneKnown).ok());
  // An empty request is valid and accepts nothing.
  auto empty = ReceiveOtlpJson(OtlpSignal::kTraces, "{}", kNoneKnown);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->items, 0);
  // One malformed record is rejected, the others kept.
  const std::string body = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[
    {"timeUnixNano":"12x","attributes":[{"key":"session.id","value":{"stringValue":"a"}}]},
    {"attributes":[{"key":"session.id","value":{"intValue":"notanumber"}}]},
    "not a record",
    {"timeUnixNano":"1764079200000000000","body":{"stringValue":"plain text line"},
     "attributes":[{"key":"conversation.id","value":{"stringValue":"b"}}]}]}]}]})";
  auto r = ReceiveOtlpJson(OtlpSignal::kLogs, body, kNoneKnown);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->items, 4);
  EXPECT_EQ(r->rejected, 3);
  EXPECT_NE(r->error_message.find("invalid timestamp"), std::string::npos) << r->error_message;
  EXPECT_NE(r->error_message.find("intValue"), std::string::npos) << r->error_message;
  ASSERT_EQ(r->events.size(), 2u);
  EXPECT_EQ(r->events[1].stream_data, "plain text line");
  EXPECT_EQ(r->events[1].agent_type, "unknown");
}

TEST(OtlpReceive, AgentNamesAreNormalised) {
  EXPECT_EQ(NormalizeAgentName("claude-code"), "claude");
  EXPECT_EQ(NormalizeAgentName("Claude_Code"), "claude");
  EXPECT_EQ(NormalizeAgentName("codex_cli_rs"), "codex");
  EXPECT_EQ(NormalizeAgentName("codex-exec"), "codex");
  EXPECT_EQ(NormalizeAgentName("gemini-cli"), "gemini");
  EXPECT_EQ(NormalizeAgentName("opencode"), "opencode");
  EXPECT_EQ(NormalizeAgentName("My-Agent"), "my-agent");
  EXPECT_EQ(NormalizeAgentName("unknown_service:node"), "");
}

TEST(OtlpReceive, PartialSuccessAnswer) {
  EXPECT_EQ(PartialSuccessJson(OtlpSignal::kTraces, 0, ""), "{}");
  json::value v = json::parse(PartialSuccessJson(OtlpSignal::kLogs, 2, "2 of 5 log records"));
  EXPECT_EQ(v.at("partialSuccess").at("rejectedLogRecords").as_string(), "2");
  EXPECT_EQ(v.at("partialSuccess").at("errorMessage").as_string(), "2 of 5 log records");
  json::value m = json::parse(PartialSuccessJson(OtlpSignal::kMetrics, 1, "x"));
  EXPECT_EQ(m.at("partialSuccess").at("rejectedDataPoints").as_string(), "1");
  json::value t = json::parse(PartialSuccessJson(OtlpSignal::kTraces, 3, "y"));
  EXPECT_EQ(t.at("partialSuccess").at("rejectedSpans").as_string(), "3");
}

}  // namespace
}  // namespace vibekit::otlp
