#include "otlp/otlp_json.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "otlp/otlp_fixtures.h"
#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"
#include "workload/workload.h"

namespace vibekit::otlp {
namespace {
namespace json = boost::json;
using testing::TempDir;

bool IsLowerHex(const std::string& s) {
  return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The attribute `key` of an OTLP attribute array, or null.
const json::value* Attr(const json::value& attributes, std::string_view key) {
  for (const json::value& kv : attributes.as_array()) {
    if (kv.at("key").as_string() == key) return &kv.at("value");
  }
  return nullptr;
}

std::string AttrString(const json::value& attributes, std::string_view key) {
  const json::value* v = Attr(attributes, key);
  if (v == nullptr || !v->as_object().contains("stringValue")) return "<missing>";
  return std::string(v->at("stringValue").as_string());
}

std::string AttrInt(const json::value& attributes, std::string_view key) {
  const json::value* v = Attr(attributes, key);
  if (v == nullptr || !v->as_object().contains("intValue")) return "<missing>";
  return std::string(v->at("intValue").as_string());
}

struct RunResult {
  int code = -1;
  std::string output;
};

// Runs the schema check (node + @opentelemetry/otlp-transformer) over `files`.
RunResult Validate(const std::vector<std::string>& files, bool protobuf = false) {
  std::string cmd = std::string(VIBEKIT_NODE) + " " + VIBEKIT_OTLP_VALIDATOR;
  if (protobuf) cmd += " --protobuf";
  for (const std::string& f : files) cmd += " '" + f + "'";
  cmd += " 2>&1";
  RunResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string WriteFile(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.File(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(OtlpIds, AreDeterministicHexAndNeverCollideOnSimpleInputs) {
  EXPECT_EQ(TraceIdHex("s1"), TraceIdHex("s1"));
  EXPECT_EQ(TraceIdHex("s1").size(), 32u);
  EXPECT_EQ(SpanIdHex("s1").size(), 16u);
  EXPECT_TRUE(IsLowerHex(TraceIdHex("s1")));
  EXPECT_TRUE(IsLowerHex(SpanIdHex("s1", "events:7")));
  std::set<std::string> traces;
  std::set<std::string> spans;
  for (int i = 0; i < 10000; ++i) {
    traces.insert(TraceIdHex("session-" + std::to_string(i)));
    spans.insert(SpanIdHex("session-" + std::to_string(i)));
    spans.insert(SpanIdHex("session-" + std::to_string(i), "events:1"));
  }
  EXPECT_EQ(traces.size(), 10000u);
  EXPECT_EQ(spans.size(), 20000u);
  EXPECT_NE(SpanIdHex("ab", "c"), SpanIdHex("a", "bc"));
  EXPECT_NE(TraceIdHex("").find_first_not_of('0'), std::string::npos);
}

TEST(OtlpJson, SessionBecomesOneTypedRootSpanWithTimeOrderedEvents) {
  SessionTrace t = FailedSession();
  const std::string text = EncodeTraceRequest(std::span(&t, 1));
  json::value doc = json::parse(text);
  const json::value& rs = doc.at("resourceSpans").at(0);
  EXPECT_EQ(AttrString(rs.at("resource").at("attributes"), "service.name"), "vibekit");
  const json::value& span = rs.at("scopeSpans").at(0).at("spans").at(0);

  EXPECT_EQ(span.at("traceId").as_string(), TraceIdHex("sess-failed"));
  EXPECT_EQ(span.at("spanId").as_string(), SpanIdHex("sess-failed"));
  EXPECT_FALSE(span.as_object().contains("parentSpanId"));
  EXPECT_EQ(span.at("name").as_string(), "invoke_agent claude");
  EXPECT_EQ(span.at("kind").as_int64(), 1);
  EXPECT_EQ(span.at("startTimeUnixNano").as_string(), "1767225600000000000");
  EXPECT_EQ(span.at("endTimeUnixNano").as_string(), "1767225605000000000");
  EXPECT_EQ(span.at("status").at("code").as_int64(), 2);
  EXPECT_EQ(span.at("status").at("message").as_string(), "rate limited");

  const json::value& attrs = span.at("attributes");
  EXPECT_EQ(AttrString(attrs, "gen_ai.operation.name"), "invoke_agent");
  EXPECT_EQ(AttrString(attrs, "gen_ai.agent.name"), "claude");
  EXPECT_EQ(AttrString(attrs, "gen_ai.conversation.id"), "sess-failed");
  EXPECT_EQ(AttrString(attrs, "gen_ai.request.model"), "claude-x");
  EXPECT_EQ(AttrInt(attrs, "gen_ai.usage.input_tokens"), "150") << "summed over the events";
  EXPECT_EQ(AttrInt(attrs, "gen_ai.usage.output_tokens"), "30");
  EXPECT_EQ(AttrString(attrs, "vibekit.session.status"), "failed");
  EXPECT_EQ(AttrString(attrs, "vibekit.mode"), "code");
  EXPECT_EQ(AttrInt(attrs, "vibekit.session.duration_ms"), "5000");
  EXPECT_EQ(AttrString(attrs, "error.type"), "agent_error");

  const json::array& events = span.at("events").as_array();
  ASSERT_EQ(events.size(), 4u);
  std::vector<std::string> names;
  for (const json::value& e : events) names.emplace_back(e.at("name").as_string());
  EXPECT_EQ(names, (std::vector<std::string>{"vibekit.start", "vibekit.stream", "exception",
                                             "vibekit.end"}));
  EXPECT_EQ(events[0].at("timeUnixNano").as_string(), "1767225600000000000");
  EXPECT_EQ(AttrString(events[0].at("attributes"), "vibekit.prompt"), "fix the bug");
  EXPECT_EQ(AttrInt(events[0].at("attributes"), "vibekit.event.id"), "1");
  EXPECT_EQ(Attr(events[0].at("attributes"), "vibekit.mode"), nullptr)
      << "fields equal to the session's are not repeated";
  EXPECT_EQ(AttrString(events[1].at("attributes"), "vibekit.stream_data"),
            "writing \"tests\"\n\t\u00e9\u6f22");
  EXPECT_EQ(AttrInt(events[1].at("attributes"), "gen_ai.usage.input_tokens"), "50");
  const json::value& ex = events[2].at("attributes");
  EXPECT_EQ(AttrString(ex, "exception.type"), "RateLimitError");
  EXPECT_EQ(AttrString(ex, "exception.message"), "rate limited");
  EXPECT_EQ(AttrString(ex, "exception.stacktrace"), "at step 3");
  EXPECT_EQ(AttrString(ex, "vibekit.error.severity"), "high");

  // Metadata keeps its types and nesting.
  const json::value* md = Attr(events[0].at("attributes"), "vibekit.metadata");
  ASSERT_NE(md, nullptr);
  const json::value& kv = md->at("kvlistValue");
  EXPECT_EQ(AttrInt(kv.at("values"), "input_tokens"), "100");
  EXPECT_EQ(Attr(kv.at("values"), "ratio")->at("doubleValue").as_double(), 0.5);
  EXPECT_TRUE(Attr(kv.at("values"), "big")->as_object().contains("doubleValue"))
      << "beyond int64 a count becomes a double, not a wrapped negative";
  EXPECT_EQ(Attr(kv.at("values"), "ok")->at("boolValue").as_bool(), true);
  EXPECT_TRUE(Attr(kv.at("values"), "none")->as_object().empty()) << "null is the empty value";
  const json::array& tags = Attr(kv.at("values"), "tags")->at("arrayValue").at("values").as_array();
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_EQ(tags[0].at("stringValue").as_string(), "a");
  EXPECT_EQ(tags[1].at("intValue").as_string(), "1");
  EXPECT_EQ(tags[2].at("boolValue").as_bool(), false);

  // The same input gives the same bytes.
  EXPECT_EQ(text, EncodeTraceRequest(std::span(&t, 1)));
}

TEST(OtlpJson, StatusFollowsTheSessionOutcome) {
  SessionTrace t = FailedSession();
  auto status_of = [&](SessionStatus st) {
    t.session.status = st;
    json::value doc = json::parse(EncodeTraceRequest(std::span(&t, 1)));
    const json::object& span =
        doc.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").at(0).as_object();
    return span.contains("status") ? span.at("status").at("code").as_int64() : 0;
  };
  EXPECT_EQ(status_of(SessionStatus::kCompleted), 1);
  EXPECT_EQ(status_of(SessionStatus::kFailed), 2);
  EXPECT_EQ(status_of(SessionStatus::kTimeout), 2);
  EXPECT_EQ(status_of(SessionStatus::kActive), 0) << "a running session's status is unset";
}

TEST(OtlpJson, EventBatchIsAChildOfTheRootSpan) {
  SessionTrace t = FailedSession();
  std::string out;
  TraceRequestWriter w(out);
  w.Begin();
  w.EventBatchSpan("sess-failed", "claude", std::span(t.events).subspan(1, 2), t.errors);
  w.Finish();
  json::value doc = json::parse(out);
  const json::value& span = doc.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").at(0);
  EXPECT_EQ(span.at("traceId").as_string(), TraceIdHex("sess-failed"));
  EXPECT_EQ(span.at("parentSpanId").as_string(), SpanIdHex("sess-failed"));
  EXPECT_EQ(span.at("spanId").as_string(), SpanIdHex("sess-failed", "events:2"))
      << "named by the smallest event id of the batch";
  EXPECT_EQ(span.at("events").as_array().size(), 2u);
  EXPECT_EQ(span.at("status").at("code").as_int64(), 2) << "the batch holds an error";
  EXPECT_EQ(AttrString(span.at("events").at(1).at("attributes"), "vibekit.mode"), "code")
      << "a batch has no session to inherit the mode from";
}

// Real data through the real service, checked against the protocol's schema.
TEST(OtlpSchema, ServiceDataValidatesAgainstTheOtlpProtobufSchema) {
  TempDir dir;
  std::vector<SessionTrace> traces;
  {
    TelemetryConfig cfg = testing::TestConfig(dir.File("t.db"));
    TelemetryService service(cfg);
    ASSERT_OK(service.Initialize());
    workload::WorkloadOptions opts;
    opts.total_events = 3000;
    opts.error_session_fraction = 0.3;
    opts.failed_fraction = 0.1;
    workload::Generator gen(opts);
    std::vector<Event> batch;
    Event e;
    while (gen.Next(&e)) batch.push_back(e);
    ASSERT_OK(service.InsertEventBatch(batch));
    ASSERT_OK(service.FlushBuffers());
    SessionQueryFilter sf;
    sf.limit = 100000;
    auto sessions = service.QuerySessions(sf);
    ASSERT_TRUE(sessions.ok()) << sessions.status().ToString();
    for (const Session& s : *sessions) {
      SessionTrace t;
      t.session = s;
      EventQueryFilter ef;
      ef.session_id = s.id;
      ef.limit = 100000;
      auto events = service.QueryEvents(ef);
      ASSERT_TRUE(events.ok());
      t.events = std::move(*events);
      auto errors = service.GetSessionErrors(s.id);
      ASSERT_TRUE(errors.ok());
      t.errors = std::move(*errors);
      traces.push_back(std::move(t));
    }
    ASSERT_OK(service.Shutdown());
  }
  std::set<SessionStatus> seen;
  for (const SessionTrace& t : traces) seen.insert(t.session.status);
  EXPECT_GE(seen.size(), 3u) << "the workload should cover completed, failed and open sessions";

  std::vector<std::string> files;
  files.push_back(WriteFile(dir, "service.json", EncodeTraceRequest(traces)));
  SessionTrace edge = FailedSession();
  files.push_back(WriteFile(dir, "edge.json", EncodeTraceRequest(std::span(&edge, 1))));
  std::string batch;
  TraceRequestWriter w(batch);
  w.Begin();
  w.EventBatchSpan("sess-failed", "claude", edge.events, edge.errors);
  w.SessionSpan(edge.session, {}, {});
  w.Finish();
  files.push_back(WriteFile(dir, "batch.json", batch));
  RunResult r = Validate(files);
  EXPECT_EQ(r.code, 0) << r.output;
}

// The check itself must be able to fail: each broken variant of a valid request is refused.
TEST(OtlpSchema, ValidatorRefusesUnknownAndMistypedFields) {
  TempDir dir;
  SessionTrace t = FailedSession();
  const std::string good = EncodeTraceRequest(std::span(&t, 1));
  ASSERT_EQ(Validate({WriteFile(dir, "good.json", good)}).code, 0);

  auto mutate = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    const std::size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
  };
  const std::map<std::string, std::string> broken = {
      {"unknown-field", mutate("\"kind\":1", "\"kind\":1,\"spanKind\":1")},
      {"enum-by-name", mutate("\"kind\":1", "\"kind\":\"SPAN_KIND_INTERNAL\"")},
      {"short-trace-id", mutate(TraceIdHex("sess-failed"), TraceIdHex("sess-failed").substr(1))},
      {"zero-span-id", mutate(SpanIdHex("sess-failed"), std::string(16, '0'))},
      {"int-not-a-number", mutate("{\"intValue\":\"100\"}", "{\"intValue\":\"1e2x\"}")},
      {"string-as-number", mutate("{\"stringValue\":\"claude\"}", "{\"stringValue\":7}")},
      {"misspelled-value", mutate("\"doubleValue\":", "\"floatValue\":")},
      {"not-json", good.substr(0, good.size() / 2)},
  };
  for (const auto& [name, text] : broken) {
    RunResult r = Validate({WriteFile(dir, name + ".json", text)});
    EXPECT_EQ(r.code, 1) << name << " was accepted: " << r.output;
    EXPECT_NE(r.output.find(name + ".json"), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace vibekit::otlp
