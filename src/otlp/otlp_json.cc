#include "otlp/otlp_json.h"

#include <boost/json.hpp>

#include <algorithm>
#include <numeric>
#include <optional>

#include "common/genai_usage.h"
#include "common/json.h"
#include "common/json_parse.h"

namespace vibekit::otlp {
namespace json = boost::json;
using internal::AppendJsonString;

namespace {

// OpenTelemetry span kinds and status codes as the protocol numbers them.
constexpr int kSpanKindInternal = 1;
constexpr int kStatusOk = 1;
constexpr int kStatusError = 2;

// FNV-1a over `parts` from `seed`, then the splitmix64 finaliser to spread the bits.
std::uint64_t Hash64(std::uint64_t seed, std::string_view a, std::string_view b) {
  std::uint64_t h = seed;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
  };
  mix(a);
  h ^= 0xff;  // separator: ("ab","c") and ("a","bc") differ
  h *= 0x100000001b3ULL;
  mix(b);
  h += 0x9e3779b97f4a7c15ULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h == 0 ? 1 : h;
}

void AppendHex64(std::string& out, std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out += kDigits[(v >> shift) & 0xf];
}

// Milliseconds to the protocol's fixed64 nanoseconds, as a JSON string.
void AppendNanos(std::string& out, std::string_view key, std::int64_t ms) {
  out += '"';
  out += key;
  out += "\":\"";
  if (ms > 0) {
    out += std::to_string(ms);
    out += "000000";
  } else {
    out += '0';
  }
  out += '"';
}

// ---- attributes -------------------------------------------------------------------------------

class Attributes {
 public:
  explicit Attributes(std::string& out) : out_(out) {}

  void String(std::string_view key, std::string_view value) {
    Key(key);
    out_ += "{\"stringValue\":";
    AppendJsonString(out_, value);
    out_ += "}}";
  }
  void Int(std::string_view key, std::int64_t value) {
    Key(key);
    out_ += "{\"intValue\":\"";
    out_ += std::to_string(value);
    out_ += "\"}}";
  }
  void Double(std::string_view key, double value) {
    Key(key);
    out_ += "{\"doubleValue\":";
    out_ += json::serialize(json::value(value));
    out_ += "}}";
  }
  void Value(std::string_view key, const json::value& value) {
    Key(key);
    AppendAnyValue(out_, value);
    out_ += '}';
  }
  void Usage(const internal::GenAiUsage& usage) {
    if (usage.model) String("gen_ai.request.model", *usage.model);
    if (usage.input_tokens) Int("gen_ai.usage.input_tokens", *usage.input_tokens);
    if (usage.output_tokens) Int("gen_ai.usage.output_tokens", *usage.output_tokens);
    if (usage.cost_usd) Double("vibekit.cost_usd", *usage.cost_usd);
  }
  // The metadata object as one kvlist attribute; text that is not a JSON object is kept as a
  // string so nothing is dropped.
  void Metadata(std::string_view key, const std::optional<std::string>& metadata) {
    if (!metadata || metadata->empty()) return;
    boost::system::error_code ec;
    json::value parsed = vibekit::internal::ParseJson(*metadata, ec);
    if (ec) {
      String(key, *metadata);
    } else {
      Value(key, parsed);
    }
  }

  bool any() const noexcept { return count_ > 0; }

  static void AppendAnyValue(std::string& out, const json::value& v) {
    switch (v.kind()) {
      case json::kind::null:
        out += "{}";  // an AnyValue with no value set: the protocol's "empty"
        return;
      case json::kind::bool_:
        out += v.get_bool() ? "{\"boolValue\":true}" : "{\"boolValue\":false}";
        return;
      case json::kind::int64:
        out += "{\"intValue\":\"" + std::to_string(v.get_int64()) + "\"}";
        return;
      case json::kind::uint64:
        if (v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
          out += "{\"intValue\":\"" + std::to_string(v.get_uint64()) + "\"}";
        } else {
          out += "{\"doubleValue\":" +
                 json::serialize(json::value(static_cast<double>(v.get_uint64()))) + "}";
        }
        return;
      case json::kind::double_:
        out += "{\"doubleValue\":" + json::serialize(v) + "}";
        return;
      case json::kind::string:
        out += "{\"stringValue\":";
        AppendJsonString(out, v.get_string());
        out += '}';
        return;
      case json::kind::array: {
        const json::array& a = v.get_array();
        if (a.empty()) {
          out += "{\"arrayValue\":{}}";
          return;
        }
        out += "{\"arrayValue\":{\"values\":[";
        for (std::size_t i = 0; i < a.size(); ++i) {
          if (i > 0) out += ',';
          AppendAnyValue(out, a[i]);
        }
        out += "]}}";
        return;
      }
      case json::kind::object: {
        const json::object& o = v.get_object();
        if (o.empty()) {
          out += "{\"kvlistValue\":{}}";
          return;
        }
        out += "{\"kvlistValue\":{\"values\":[";
        bool first = true;
        for (const auto& kv : o) {
          if (!first) out += ',';
          first = false;
          out += "{\"key\":";
          AppendJsonString(out, kv.key());
          out += ",\"value\":";
          AppendAnyValue(out, kv.value());
          out += '}';
        }
        out += "]}}";
        return;
      }
    }
  }

 private:
  void Key(std::string_view key) {
    if (count_++ > 0) out_ += ',';
    out_ += "{\"key\":";
    AppendJsonString(out_, key);
    out_ += ",\"value\":";
  }

  std::string& out_;
  int count_ = 0;
};

const ErrorRecord* ErrorFor(const Event& e, std::span<const ErrorRecord> errors) {
  for (const ErrorRecord& r : errors) {
    if (r.event_id && *r.event_id == e.id) return &r;
  }
  return nullptr;
}

std::string_view SpanEventName(EventType type) {
  switch (type) {
    case EventType::kStart: return "vibekit.start";
    case EventType::kStream: return "vibekit.stream";
    case EventType::kError: return "exception";  // the semantic conventions' name for errors
    case EventType::kEnd: return "vibekit.end";
  }
  return "vibekit.stream";
}

// Fields an event carries only where they differ from its session (the span's) own.
struct SpanContext {
  std::string_view agent_type;
  const std::optional<std::string>* mode = nullptr;
};

void AppendSpanEvent(std::string& out, const Event& e, std::span<const ErrorRecord> errors,
                     const SpanContext& ctx) {
  out += '{';
  AppendNanos(out, "timeUnixNano", e.timestamp);
  out += ",\"name\":";
  AppendJsonString(out, SpanEventName(e.event_type));
  out += ",\"attributes\":[";
  Attributes attrs(out);
  attrs.Int("vibekit.event.id", e.id);
  attrs.String("vibekit.event.type", EventTypeName(e.event_type));
  if (e.agent_type != ctx.agent_type) attrs.String("vibekit.agent_type", e.agent_type);
  if (e.mode && (ctx.mode == nullptr || *ctx.mode != e.mode)) attrs.String("vibekit.mode", *e.mode);
  if (e.prompt) attrs.String("vibekit.prompt", *e.prompt);
  if (e.event_type == EventType::kError) {
    const ErrorRecord* r = ErrorFor(e, errors);
    if (r != nullptr) {
      attrs.String("exception.type", r->error_type);
      attrs.String("exception.message", r->error_message);
      if (r->error_stack) attrs.String("exception.stacktrace", *r->error_stack);
      attrs.String("vibekit.error.severity", ErrorSeverityName(r->severity));
      if (r->context) attrs.String("vibekit.error.context", *r->context);
    } else {
      attrs.String("exception.message", e.stream_data.value_or("error"));
    }
    if (e.stream_data) attrs.String("vibekit.stream_data", *e.stream_data);
  } else if (e.stream_data) {
    attrs.String("vibekit.stream_data", *e.stream_data);
  }
  if (e.sandbox_id) attrs.String("vibekit.sandbox_id", *e.sandbox_id);
  if (e.repo_url) attrs.String("vibekit.repo_url", *e.repo_url);
  if (e.metadata) {
    attrs.Usage(internal::ExtractGenAiUsage(*e.metadata));
    attrs.Metadata("vibekit.metadata", e.metadata);
  }
  out += "]}";
}

std::vector<std::size_t> TimeOrder(std::span<const Event> events) {
  std::vector<std::size_t> order(events.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (events[a].timestamp != events[b].timestamp) {
      return events[a].timestamp < events[b].timestamp;
    }
    return events[a].id < events[b].id;
  });
  return order;
}

void AppendSpanEvents(std::string& out, std::span<const Event> events,
                      std::span<const ErrorRecord> errors, const SpanContext& ctx) {
  if (events.empty()) return;
  out += ",\"events\":[";
  bool first = true;
  for (std::size_t i : TimeOrder(events)) {
    if (!first) out += ',';
    first = false;
    AppendSpanEvent(out, events[i], errors, ctx);
  }
  out += ']';
}

void AppendIds(std::string& out, std::string_view session_id, std::string_view discriminator,
               bool child) {
  out += "\"traceId\":\"";
  out += TraceIdHex(session_id);
  out += "\",\"spanId\":\"";
  out += SpanIdHex(session_id, discriminator);
  out += '"';
  if (child) {
    out += ",\"parentSpanId\":\"";
    out += SpanIdHex(session_id);
    out += '"';
  }
}

std::string LastErrorMessage(std::span<const ErrorRecord> errors) {
  const ErrorRecord* last = nullptr;
  for (const ErrorRecord& r : errors) {
    if (last == nullptr || r.timestamp > last->timestamp ||
        (r.timestamp == last->timestamp && r.id > last->id)) {
      last = &r;
    }
  }
  return last != nullptr ? last->error_message : std::string();
}

}  // namespace

std::string TraceIdHex(std::string_view session_id) {
  std::string out;
  out.reserve(32);
  AppendHex64(out, Hash64(0xcbf29ce484222325ULL, "trace", session_id));
  AppendHex64(out, Hash64(0x84222325cbf29ce4ULL, "trace", session_id));
  return out;
}

std::string SpanIdHex(std::string_view session_id, std::string_view discriminator) {
  std::string out;
  out.reserve(16);
  AppendHex64(out, Hash64(0x9ae16a3b2f90404fULL, session_id, discriminator));
  return out;
}

TraceRequestWriter::TraceRequestWriter(std::string& out, ResourceInfo resource)
    : out_(out), resource_(std::move(resource)) {}

void TraceRequestWriter::Begin() {
  out_ += "{\"resourceSpans\":[{\"resource\":{\"attributes\":[";
  Attributes attrs(out_);
  attrs.String("service.name", resource_.service_name);
  if (!resource_.service_version.empty()) {
    attrs.String("service.version", resource_.service_version);
  }
  attrs.String("telemetry.sdk.name", "vibekit");
  attrs.String("telemetry.sdk.language", "cpp");
  out_ += "]},\"scopeSpans\":[{\"scope\":{\"name\":\"vibekit\"},\"spans\":[";
  open_ = true;
}

void TraceRequestWriter::SpanSeparator() {
  if (spans_++ > 0) out_ += ',';
}

void TraceRequestWriter::SessionSpan(const Session& s, std::span<const Event> events,
                                     std::span<const ErrorRecord> errors) {
  SpanSeparator();
  out_ += '{';
  AppendIds(out_, s.id, {}, /*child=*/false);
  out_ += ",\"name\":";
  AppendJsonString(out_, "invoke_agent " + s.agent_type);
  out_ += ",\"kind\":" + std::to_string(kSpanKindInternal) + ',';
  AppendNanos(out_, "startTimeUnixNano", s.start_time);
  std::int64_t end = s.end_time.value_or(std::max(s.last_event_time, s.start_time));
  out_ += ',';
  AppendNanos(out_, "endTimeUnixNano", std::max(end, s.start_time));

  internal::GenAiUsage usage;
  for (const Event& e : events) {
    if (e.metadata) usage.Accumulate(internal::ExtractGenAiUsage(*e.metadata));
  }
  out_ += ",\"attributes\":[";
  Attributes attrs(out_);
  attrs.String("gen_ai.operation.name", "invoke_agent");
  attrs.String("gen_ai.agent.name", s.agent_type);
  attrs.String("gen_ai.conversation.id", s.id);
  attrs.Usage(usage);
  attrs.String("vibekit.session.status", SessionStatusName(s.status));
  if (s.mode) attrs.String("vibekit.mode", *s.mode);
  if (s.sandbox_id) attrs.String("vibekit.sandbox_id", *s.sandbox_id);
  if (s.repo_url) attrs.String("vibekit.repo_url", *s.repo_url);
  attrs.Int("vibekit.session.event_count", s.event_count);
  attrs.Int("vibekit.session.stream_event_count", s.stream_event_count);
  attrs.Int("vibekit.session.error_count", s.error_count);
  if (s.duration) attrs.Int("vibekit.session.duration_ms", *s.duration);
  attrs.Metadata("vibekit.session.metadata", s.metadata);
  if (s.status == SessionStatus::kFailed || s.status == SessionStatus::kTimeout) {
    attrs.String("error.type", s.status == SessionStatus::kTimeout ? "timeout" : "agent_error");
  }
  out_ += ']';

  SpanContext ctx{s.agent_type, &s.mode};
  AppendSpanEvents(out_, events, errors, ctx);

  switch (s.status) {
    case SessionStatus::kCompleted:
      out_ += ",\"status\":{\"code\":" + std::to_string(kStatusOk) + "}";
      break;
    case SessionStatus::kFailed: {
      std::string message = LastErrorMessage(errors);
      out_ += ",\"status\":{";
      if (!message.empty()) {
        out_ += "\"message\":";
        AppendJsonString(out_, message);
        out_ += ',';
      }
      out_ += "\"code\":" + std::to_string(kStatusError) + "}";
      break;
    }
    case SessionStatus::kTimeout:
      out_ += ",\"status\":{\"message\":\"session timed out: no event within the session "
              "timeout\",\"code\":" +
              std::to_string(kStatusError) + "}";
      break;
    case SessionStatus::kActive:
      break;  // still running: status unset
  }
  out_ += '}';
}

void TraceRequestWriter::EventBatchSpan(std::string_view session_id, std::string_view agent_type,
                                        std::span<const Event> events,
                                        std::span<const ErrorRecord> errors) {
  if (events.empty()) return;
  std::int64_t first_id = events.front().id;
  std::int64_t begin = events.front().timestamp;
  std::int64_t end = begin;
  bool has_error = false;
  for (const Event& e : events) {
    first_id = std::min(first_id, e.id);
    begin = std::min(begin, e.timestamp);
    end = std::max(end, e.timestamp);
    has_error = has_error || e.event_type == EventType::kError;
  }
  SpanSeparator();
  out_ += '{';
  AppendIds(out_, session_id, "events:" + std::to_string(first_id), /*child=*/true);
  out_ += ",\"name\":\"vibekit.events\",\"kind\":" + std::to_string(kSpanKindInternal) + ',';
  AppendNanos(out_, "startTimeUnixNano", begin);
  out_ += ',';
  AppendNanos(out_, "endTimeUnixNano", end);
  out_ += ",\"attributes\":[";
  Attributes attrs(out_);
  attrs.String("gen_ai.agent.name", agent_type);
  attrs.String("gen_ai.conversation.id", session_id);
  attrs.Int("vibekit.events.count", static_cast<std::int64_t>(events.size()));
  out_ += ']';
  SpanContext ctx{agent_type, nullptr};
  AppendSpanEvents(out_, events, errors, ctx);
  if (has_error) out_ += ",\"status\":{\"code\":" + std::to_string(kStatusError) + "}";
  out_ += '}';
}

void TraceRequestWriter::Finish() {
  if (!open_) Begin();
  out_ += "]}]}]}";
  open_ = false;
}

std::string EncodeTraceRequest(std::span<const SessionTrace> sessions, ResourceInfo resource) {
  std::string out;
  TraceRequestWriter writer(out, std::move(resource));
  writer.Begin();
  for (const SessionTrace& t : sessions) writer.SessionSpan(t.session, t.events, t.errors);
  writer.Finish();
  return out;
}

}  // namespace vibekit::otlp
