#include "otlp/otlp_receive.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "otlp/otlp_attributes.h"

namespace vibekit::otlp {
namespace json = boost::json;
using namespace internal;  // NOLINT(google-build-using-namespace): this file's vocabulary

namespace {

constexpr std::size_t kMaxReasons = 3;  // reasons quoted in partialSuccess.errorMessage

// The attribute levels of one record, most specific first: record, scope, resource.
struct Levels {
  const json::object* record = nullptr;
  const json::object* scope = nullptr;
  const json::object* resource = nullptr;

  const json::value* Find(std::initializer_list<std::string_view> keys) const {
    for (const json::object* level : {record, scope, resource}) {
      if (level == nullptr) continue;
      for (std::string_view key : keys) {
        const json::value* v = level->if_contains(key);
        if (v == nullptr || v->is_null()) continue;
        if (v->is_string() && v->get_string().empty()) continue;
        return v;
      }
    }
    return nullptr;
  }
};

std::optional<std::string> TextOf(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  return std::nullopt;
}

// A number, or a string holding one (agents write counts and costs as strings).
std::optional<double> NumberOf(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_double()) return std::isfinite(v->get_double()) ? std::optional(v->get_double()) : std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_string()) {
    const json::string& s = v->get_string();
    double out = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && end == s.data() + s.size() && std::isfinite(out)) return out;
  }
  return std::nullopt;
}

// A non-negative whole count.
std::optional<std::int64_t> CountOf(const json::value* v) {
  if (v != nullptr && v->is_int64()) {
    return v->get_int64() >= 0 ? std::optional(v->get_int64()) : std::nullopt;
  }
  const std::optional<double> d = NumberOf(v);
  if (!d || *d < 0 || *d != std::floor(*d) || *d > 9.0e15) return std::nullopt;
  return static_cast<std::int64_t>(*d);
}

const json::value* FirstOf(const json::object& o, std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys) {
    const json::value* v = o.if_contains(key);
    if (v != nullptr && !v->is_null()) return v;
  }
  return nullptr;
}

// Adds the GenAI names our analytics read (common/genai_usage.h) from the agents' own keys:
// Claude Code (model, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,
// cost_usd), Codex (input_token_count, output_token_count, cached_token_count), Gemini CLI
// (input_token_count, output_token_count, cached_content_token_count) and GenAI spans.
void AddGenAiNames(json::object& meta) {
  if (const auto model = TextOf(FirstOf(meta, {"gen_ai.request.model", "gen_ai.response.model",
                                               "model"}))) {
    meta["gen_ai.request.model"] = *model;
  }
  const auto count = [&](std::string_view target, std::initializer_list<std::string_view> keys) {
    if (const auto n = CountOf(FirstOf(meta, keys))) meta[target] = *n;
  };
  count("gen_ai.usage.input_tokens",
        {"gen_ai.usage.input_tokens", "input_tokens", "input_token_count", "prompt_tokens"});
  count("gen_ai.usage.output_tokens",
        {"gen_ai.usage.output_tokens", "output_tokens", "output_token_count", "completion_tokens"});
  count("gen_ai.usage.cache_read_input_tokens",
        {"gen_ai.usage.cache_read_input_tokens", "cache_read_tokens", "cached_token_count",
         "cached_content_token_count"});
  count("gen_ai.usage.cache_creation_input_tokens",
        {"gen_ai.usage.cache_creation_input_tokens", "cache_creation_tokens"});
  if (const auto cost = NumberOf(FirstOf(meta, {"vibekit.cost_usd", "cost_usd", "gen_ai.usage.cost"}))) {
    if (*cost >= 0) meta["vibekit.cost_usd"] = *cost;
  }
  if (const auto ms = NumberOf(FirstOf(meta, {"duration_ms"}))) meta["duration_ms"] = *ms;
}

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// One readable line for the timeline: "<name> <model> · 1200 in / 300 out tokens · $0.0123 ·
// Bash · ok · 2300 ms".
std::string Summary(std::string_view name, const json::object& meta) {
  std::string out(name);
  const auto add = [&](const std::string& part) { out += (out.empty() ? "" : " · ") + part; };
  if (const auto m = TextOf(meta.if_contains("gen_ai.request.model"))) out += " " + *m;
  const auto in = CountOf(meta.if_contains("gen_ai.usage.input_tokens"));
  const auto outt = CountOf(meta.if_contains("gen_ai.usage.output_tokens"));
  if (in || outt) {
    add(std::to_string(in.value_or(0)) + " in / " + std::to_string(outt.value_or(0)) +
        " out tokens");
  }
  if (const auto c = NumberOf(meta.if_contains("vibekit.cost_usd"))) add("$" + FormatNumber(*c));
  if (const auto t = TextOf(FirstOf(meta, {"tool_name", "function_name", "gen_ai.tool.name"}))) {
    add(*t);
  }
  if (const json::value* ok = meta.if_contains("success")) {
    if (ok->is_bool()) add(ok->get_bool() ? "ok" : "failed");
    if (ok->is_string()) add(ok->get_string() == "true" ? "ok" : "failed");
  }
  if (const auto d = TextOf(meta.if_contains("decision"))) add(*d);
  if (const auto ms = NumberOf(meta.if_contains("duration_ms"))) add(FormatNumber(*ms) + " ms");
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

std::string SessionKeysHint() { return "session.id, gen_ai.conversation.id or conversation.id"; }

// What a record turned into, before the per-session pass adds start events.
struct Pending {
  Event event;
  int rank = 1;                 // sort tie-break: start 0, stream/error 1, end 2
  bool opens_session = false;   // may become the session's start event (prompt, session start)
  std::optional<std::string> prompt;
  bool restored = false;        // read back from our own export
};

class Mapper {
 public:
  Mapper(OtlpSignal signal, const SessionKnown& known) : signal_(signal), known_(known) {}

  void Item() { ++out_.items; }
  void Ignore() { ++out_.ignored; }
  void Reject(std::string reason) {
    ++out_.rejected;
    if (reasons_.size() < kMaxReasons) reasons_.push_back(std::move(reason));
  }
  void Add(Pending p) {
    auto [it, inserted] = index_.try_emplace(p.event.session_id, sessions_.size());
    if (inserted) sessions_.emplace_back();
    sessions_[it->second].push_back(std::move(p));
  }

  // Session id and agent of a record; nullopt session when it has none.
  std::optional<std::string> SessionOf(const Levels& l) const {
    return TextOf(l.Find({"session.id", "gen_ai.conversation.id", "conversation.id"}));
  }
  static std::string AgentOf(const Levels& l, std::string_view event_name) {
    if (const auto a = TextOf(l.Find({"gen_ai.agent.name"}))) {
      std::string n = NormalizeAgentName(*a);
      if (!n.empty()) return n;
    }
    if (l.resource != nullptr) {
      if (const auto s = TextOf(l.resource->if_contains("service.name"))) {
        std::string n = NormalizeAgentName(*s);
        if (!n.empty()) return n;
      }
    }
    if (StartsWith(event_name, "claude_code.")) return "claude";
    if (StartsWith(event_name, "codex.")) return "codex";
    if (StartsWith(event_name, "gemini_cli.")) return "gemini";
    return "unknown";
  }

  json::object BaseMetadata(const json::object& attrs, std::string_view name) const {
    json::object meta = attrs;
    meta["otlp.signal"] = OtlpSignalName(signal_);
    meta["otlp.name"] = name;
    return meta;
  }

  ReceivedBatch Finish() {
    for (auto& events : sessions_) {
      std::stable_sort(events.begin(), events.end(), [](const Pending& a, const Pending& b) {
        if (a.event.timestamp != b.event.timestamp) return a.event.timestamp < b.event.timestamp;
        return a.rank < b.rank;
      });
      const std::string sid = events.front().event.session_id;  // a copy: events may grow
      const bool has_start = std::any_of(events.begin(), events.end(), [](const Pending& p) {
        return p.event.event_type == EventType::kStart;
      });
      if (!has_start && !(known_ && known_(sid))) {
        Pending& first = events.front();
        if (first.opens_session) {
          first.event.event_type = EventType::kStart;
          first.event.prompt = first.prompt;
          first.event.stream_data.reset();
        } else {
          Pending start;
          start.event.session_id = sid;
          start.event.event_type = EventType::kStart;
          start.event.agent_type = first.event.agent_type;
          start.event.mode = first.event.mode;
          start.event.timestamp = first.event.timestamp;
          json::object meta;
          meta["otlp.signal"] = OtlpSignalName(signal_);
          meta["otlp.started_by"] = "first record";
          start.event.metadata = json::serialize(meta);
          events.insert(events.begin(), std::move(start));
        }
        out_.started_sessions.push_back(sid);
      }
      for (Pending& p : events) {
        // An opening record that did not open the session stays a stream event; one with
        // nothing to say (a root span's start when the session exists) is dropped.
        if (p.event.event_type == EventType::kStream && p.opens_session &&
            !p.event.stream_data) {
          continue;
        }
        out_.events.push_back(std::move(p.event));
      }
    }
    if (out_.rejected > 0) {
      std::string msg = std::to_string(out_.rejected) + " of " + std::to_string(out_.items) +
                        " " + std::string(ItemName()) + " rejected: ";
      for (std::size_t i = 0; i < reasons_.size(); ++i) msg += (i ? "; " : "") + reasons_[i];
      if (static_cast<std::int64_t>(reasons_.size()) < out_.rejected) msg += "; ...";
      out_.error_message = std::move(msg);
    }
    return std::move(out_);
  }

  std::string_view ItemName() const {
    switch (signal_) {
      case OtlpSignal::kTraces: return "spans";
      case OtlpSignal::kLogs: return "log records";
      case OtlpSignal::kMetrics: return "data points";
    }
    return "items";
  }

 private:
  OtlpSignal signal_;
  const SessionKnown& known_;
  ReceivedBatch out_;
  std::vector<std::string> reasons_;
  std::map<std::string, std::size_t, std::less<>> index_;
  std::vector<std::vector<Pending>> sessions_;
};

// Walks resource → scope → records of one request document. `records_key` is "spans",
// "logRecords" or "metrics"; `on_record(record, levels-without-record, path)`.
template <typename OnRecord>
Status ForEachRecord(const json::value& doc, const std::string& path, std::string_view top_key,
                     std::string_view scope_key, std::string_view records_key,
                     OnRecord&& on_record) {
  VK_ASSIGN_OR_RETURN(const json::object* root, ObjectOf(doc, path));
  VK_ASSIGN_OR_RETURN(const json::array* resources, ArrayAt(*root, top_key, path));
  if (resources == nullptr) {
    // An empty request is valid OTLP (every field at its default is left out), but an object
    // that holds none of the request's fields is another signal's body or not OTLP at all.
    if (root->empty()) return Status::Ok();
    return Bad(path, "has no " + std::string(top_key));
  }
  for (std::size_t r = 0; r < resources->size(); ++r) {
    const std::string rp = path + "." + std::string(top_key) + "[" + std::to_string(r) + "]";
    VK_ASSIGN_OR_RETURN(const json::object* rs, ObjectOf((*resources)[r], rp));
    json::object resource_attrs;
    if (const json::value* res = rs->if_contains("resource"); res != nullptr && res->is_object()) {
      VK_ASSIGN_OR_RETURN(resource_attrs, AttributesOf(res->get_object(), rp + ".resource"));
    }
    VK_ASSIGN_OR_RETURN(const json::array* scopes, ArrayAt(*rs, scope_key, rp));
    if (scopes == nullptr) continue;
    for (std::size_t s = 0; s < scopes->size(); ++s) {
      const std::string sp = rp + "." + std::string(scope_key) + "[" + std::to_string(s) + "]";
      VK_ASSIGN_OR_RETURN(const json::object* ss, ObjectOf((*scopes)[s], sp));
      json::object scope_attrs;
      if (const json::value* sc = ss->if_contains("scope"); sc != nullptr && sc->is_object()) {
        VK_ASSIGN_OR_RETURN(scope_attrs, AttributesOf(sc->get_object(), sp + ".scope"));
      }
      VK_ASSIGN_OR_RETURN(const json::array* records, ArrayAt(*ss, records_key, sp));
      if (records == nullptr) continue;
      Levels levels{nullptr, &scope_attrs, &resource_attrs};
      for (std::size_t i = 0; i < records->size(); ++i) {
        on_record((*records)[i], levels,
                  sp + "." + std::string(records_key) + "[" + std::to_string(i) + "]");
      }
    }
  }
  return Status::Ok();
}

std::int64_t MsOrZero(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  auto ms = NanosToMs(v, "");
  return ms.ok() ? *ms : -1;
}

std::optional<std::string> PromptOf(const json::object& attrs) {
  if (auto p = StringAttr(attrs, "prompt")) return p;
  if (auto p = StringAttr(attrs, "gen_ai.prompt")) return p;
  if (auto p = StringAttr(attrs, "vibekit.prompt")) return p;
  return MetadataAttr(attrs, "gen_ai.input.messages");
}

// ---- traces ---------------------------------------------------------------------------------

bool SpanStatusIsError(const json::object& span, std::string* message) {
  const json::value* st = span.if_contains("status");
  if (st == nullptr || !st->is_object()) return false;
  const json::value* code = st->get_object().if_contains("code");
  bool error = false;
  if (code != nullptr) {
    if (code->is_int64()) error = code->get_int64() == 2;
    if (code->is_uint64()) error = code->get_uint64() == 2;
    if (code->is_string()) error = code->get_string() == "STATUS_CODE_ERROR";
  }
  if (error && message != nullptr) {
    const json::value* m = st->get_object().if_contains("message");
    *message = (m != nullptr && m->is_string()) ? std::string(m->get_string()) : "";
  }
  return error;
}

void MapSpan(Mapper& m, const json::value& value, Levels levels, const std::string& path) {
  m.Item();
  auto span_r = ObjectOf(value, path);
  if (!span_r.ok()) return m.Reject(span_r.status().message());
  const json::object& span = **span_r;
  auto attrs_r = AttributesOf(span, path);
  if (!attrs_r.ok()) return m.Reject(attrs_r.status().message());
  const json::object attrs = std::move(*attrs_r);
  levels.record = &attrs;
  const std::string name = StringAttr(span, "name").value_or("");
  const auto sid = m.SessionOf(levels);
  if (!sid) {
    return m.Reject("span '" + name + "' has no " + SessionKeysHint());
  }
  const std::string agent = Mapper::AgentOf(levels, name);
  const std::optional<std::string> mode = TextOf(levels.Find({"vibekit.mode"}));

  // Spans of our own export or live delivery: their vibekit.* span events are the events.
  if (attrs.contains("vibekit.session.status") || attrs.contains("vibekit.events.count")) {
    std::vector<Event> restored;
    std::int64_t skipped = 0;
    SpanDefaults d{*sid, agent, attrs.contains("vibekit.session.status") ? mode : std::nullopt};
    if (Status st = DecodeVibekitSpanEvents(span, d, path, restored, skipped); !st.ok()) {
      return m.Reject(st.message());
    }
    for (Event& e : restored) {
      Pending p;
      p.rank = e.event_type == EventType::kStart ? 0 : e.event_type == EventType::kEnd ? 2 : 1;
      e.id = 0;
      p.event = std::move(e);
      p.restored = true;
      m.Add(std::move(p));
    }
    return;
  }

  const std::int64_t start_ms = MsOrZero(span, "startTimeUnixNano");
  const std::int64_t end_ms = MsOrZero(span, "endTimeUnixNano");
  if (start_ms < 0 || end_ms < 0) return m.Reject(path + " has an invalid timestamp");
  const std::string op = StringAttr(attrs, "gen_ai.operation.name")
                             .value_or(name.substr(0, name.find(' ')));
  const json::value* parent = span.if_contains("parentSpanId");
  const bool root = parent == nullptr || (parent->is_string() && parent->get_string().empty());
  std::string status_message;
  const bool failed = SpanStatusIsError(span, &status_message);

  json::object meta = m.BaseMetadata(attrs, name);
  if (const auto t = TextOf(span.if_contains("traceId"))) meta["otlp.trace_id"] = *t;
  if (const auto s = TextOf(span.if_contains("spanId"))) meta["otlp.span_id"] = *s;
  AddGenAiNames(meta);

  Pending base;
  base.event.session_id = *sid;
  base.event.agent_type = agent;
  base.event.mode = mode;

  // Exception span events become error events.
  bool exception_seen = false;
  if (const json::value* evs = span.if_contains("events"); evs != nullptr && evs->is_array()) {
    for (std::size_t i = 0; i < evs->get_array().size(); ++i) {
      const json::value& ev = evs->get_array()[i];
      if (!ev.is_object() || StringAttr(ev.get_object(), "name") != "exception") continue;
      auto ev_attrs = AttributesOf(ev.get_object(), path + ".events[" + std::to_string(i) + "]");
      if (!ev_attrs.ok()) continue;
      Pending p = base;
      p.event.event_type = EventType::kError;
      const std::int64_t t = MsOrZero(ev.get_object(), "timeUnixNano");
      p.event.timestamp = t > 0 ? t : end_ms;
      ErrorDetails err;
      err.error_type = StringAttr(*ev_attrs, "exception.type").value_or("exception");
      err.message = StringAttr(*ev_attrs, "exception.message").value_or(status_message);
      if (err.message.empty()) err.message = "exception in span '" + name + "'";
      err.stack = StringAttr(*ev_attrs, "exception.stacktrace");
      err.severity = ErrorSeverity::kHigh;
      p.event.stream_data = err.message;
      p.event.error = std::move(err);
      p.event.metadata = json::serialize(meta);
      m.Add(std::move(p));
      exception_seen = true;
    }
  }

  if (op == "invoke_agent" && root) {
    Pending open = base;
    open.rank = 0;
    open.opens_session = true;
    open.prompt = PromptOf(attrs);
    open.event.timestamp = start_ms;
    open.event.metadata = json::serialize(meta);
    if (open.prompt) open.event.stream_data = *open.prompt;
    m.Add(std::move(open));
    Pending end = base;
    end.rank = 2;
    end.event.event_type = EventType::kEnd;
    end.event.timestamp = end_ms > 0 ? end_ms : start_ms;
    json::object end_meta = meta;
    end_meta["status"] = failed ? "failed" : "completed";
    if (failed && !status_message.empty()) end_meta["otlp.status_message"] = status_message;
    end.event.metadata = json::serialize(end_meta);
    m.Add(std::move(end));
    return;
  }

  Pending p = base;
  p.event.timestamp = end_ms > 0 ? end_ms : start_ms;
  p.event.metadata = json::serialize(meta);
  if (failed && !exception_seen) {
    p.event.event_type = EventType::kError;
    ErrorDetails err;
    err.error_type = StringAttr(attrs, "error.type").value_or(op.empty() ? "span_error" : op);
    err.message = status_message.empty() ? "span '" + name + "' failed" : status_message;
    err.severity = ErrorSeverity::kHigh;
    p.event.stream_data = err.message;
    p.event.error = std::move(err);
  } else {
    p.event.event_type = EventType::kStream;
    p.event.stream_data = Summary(name, meta);
    if (op == "invoke_agent") {  // a sub-agent: its prompt is what it was asked
      if (auto pr = PromptOf(attrs)) p.event.stream_data = *pr;
    }
  }
  m.Add(std::move(p));
}

// ---- logs -----------------------------------------------------------------------------------

// "claude_code.api_request": the eventName field, else the event.name attribute, else the body
// when it names the event (Claude Code writes event.name "api_request" and body
// "claude_code.api_request").
std::string LogEventName(const json::object& rec, const json::object& attrs,
                         const std::optional<std::string>& body) {
  std::string name = StringAttr(rec, "eventName").value_or("");
  if (name.empty()) name = StringAttr(attrs, "event.name").value_or("");
  if (body && !body->empty() && body->find(' ') == std::string::npos &&
      body->find('.') != std::string::npos &&
      (name.empty() || (name.find('.') == std::string::npos && EndsWith(*body, "." + name)))) {
    return *body;
  }
  return name.empty() ? "log" : name;
}

void MapLogRecord(Mapper& m, const json::value& value, Levels levels, const std::string& path) {
  m.Item();
  auto rec_r = ObjectOf(value, path);
  if (!rec_r.ok()) return m.Reject(rec_r.status().message());
  const json::object& rec = **rec_r;
  auto attrs_r = AttributesOf(rec, path);
  if (!attrs_r.ok()) return m.Reject(attrs_r.status().message());
  const json::object attrs = std::move(*attrs_r);
  levels.record = &attrs;
  std::optional<std::string> body;
  if (const json::value* b = rec.if_contains("body")) {
    auto bj = AnyToJson(*b, path + ".body");
    if (!bj.ok()) return m.Reject(bj.status().message());
    if (bj->is_string()) body = std::string(bj->get_string());
    else if (!bj->is_null()) body = json::serialize(*bj);
  }
  const std::string name = LogEventName(rec, attrs, body);
  const auto sid = m.SessionOf(levels);
  if (!sid) return m.Reject("log record '" + name + "' has no " + SessionKeysHint());
  std::int64_t ts = MsOrZero(rec, "timeUnixNano");
  if (ts == 0) ts = MsOrZero(rec, "observedTimeUnixNano");
  if (ts < 0) return m.Reject(path + " has an invalid timestamp");
  const std::string kind = Lower(name.substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1));
  std::int64_t severity = 0;
  if (const json::value* sv = rec.if_contains("severityNumber")) {
    if (sv->is_int64()) severity = sv->get_int64();
    if (sv->is_string()) severity = StartsWith(sv->get_string(), "SEVERITY_NUMBER_ERROR") ? 17
                                    : StartsWith(sv->get_string(), "SEVERITY_NUMBER_FATAL") ? 21 : 0;
  }

  json::object meta = m.BaseMetadata(attrs, name);
  if (body && *body != name) meta["otlp.body"] = *body;
  AddGenAiNames(meta);

  Pending p;
  p.event.session_id = *sid;
  p.event.agent_type = Mapper::AgentOf(levels, name);
  p.event.mode = TextOf(levels.Find({"vibekit.mode"}));
  p.event.timestamp = ts;

  const std::optional<std::string> error_text =
      TextOf(FirstOf(attrs, {"error", "error.message", "error_message"}));
  const bool request_failed =
      (kind == "api_request" || kind == "sse_event" || kind == "api_response") && error_text;
  const bool is_error = kind.find("error") != std::string::npos || severity >= 17 || request_failed;
  if (is_error) {
    p.event.event_type = EventType::kError;
    ErrorDetails err;
    err.error_type = TextOf(FirstOf(attrs, {"error_type", "error.type"})).value_or(name);
    if (const auto code = TextOf(FirstOf(attrs, {"status_code", "http.response.status_code"}))) {
      if (err.error_type == name) err.error_type = name + " " + *code;
    }
    err.message = error_text.value_or(body.value_or(name));
    if (err.message.empty()) err.message = name;
    err.severity = severity >= 21 ? ErrorSeverity::kCritical
                   : (kind == "api_error" || request_failed) ? ErrorSeverity::kHigh
                                                             : ErrorSeverity::kMedium;
    p.event.stream_data = err.message;
    p.event.error = std::move(err);
  } else if (EndsWith(kind, "session_end") || EndsWith(kind, "session_ended") ||
             kind == "conversation_ends" || kind == "conversation_end") {
    p.rank = 2;
    p.event.event_type = EventType::kEnd;
  } else if (kind == "user_prompt") {
    p.opens_session = true;
    p.prompt = PromptOf(attrs);
    if (p.prompt) {
      p.event.stream_data = *p.prompt;
    } else if (const auto len = CountOf(attrs.if_contains("prompt_length"))) {
      p.event.stream_data = "user prompt (" + std::to_string(*len) + " characters, not logged)";
    } else {
      p.event.stream_data = name;
    }
  } else if (kind == "conversation_starts" || EndsWith(kind, "session_start") ||
             EndsWith(kind, "session_started")) {
    p.opens_session = true;
    p.rank = 0;
    p.event.stream_data = Summary(name, meta);
  } else if (kind == "sse_event" && !meta.contains("gen_ai.usage.input_tokens") &&
             !meta.contains("gen_ai.usage.output_tokens")) {
    m.Ignore();  // Codex writes one per server-sent event; only the completed one has tokens
    return;
  } else {
    // A generic log line keeps its text; agents' events get a summary.
    const bool plain_line = body && *body != name && name == "log";
    p.event.stream_data = plain_line ? *body : Summary(name, meta);
  }
  p.event.metadata = json::serialize(meta);
  m.Add(std::move(p));
}

// ---- metrics --------------------------------------------------------------------------------

void MapMetric(Mapper& m, const json::value& value, Levels levels, const std::string& path) {
  auto metric_r = ObjectOf(value, path);
  if (!metric_r.ok()) {
    m.Item();
    return m.Reject(metric_r.status().message());
  }
  const json::object& metric = **metric_r;
  const std::string name = StringAttr(metric, "name").value_or("");
  const std::string unit = StringAttr(metric, "unit").value_or("");
  for (std::string_view kind : {"sum", "gauge", "histogram", "exponentialHistogram", "summary"}) {
    const json::value* data = metric.if_contains(kind);
    if (data == nullptr || !data->is_object()) continue;
    const json::object& d = data->get_object();
    std::string temporality;
    if (const json::value* t = d.if_contains("aggregationTemporality")) {
      const std::int64_t n = t->is_int64() ? t->get_int64() : 0;
      temporality = n == 1 || (t->is_string() && EndsWith(t->get_string(), "DELTA")) ? "delta"
                    : n == 2 || (t->is_string() && EndsWith(t->get_string(), "CUMULATIVE"))
                        ? "cumulative"
                        : "";
    }
    const json::value* points = d.if_contains("dataPoints");
    if (points == nullptr || !points->is_array()) continue;
    for (std::size_t i = 0; i < points->get_array().size(); ++i) {
      const std::string at = path + "." + std::string(kind) + ".dataPoints[" + std::to_string(i) + "]";
      m.Item();
      const json::value& pv = points->get_array()[i];
      if (!pv.is_object()) {
        m.Reject(at + " must be an object");
        continue;
      }
      const json::object& point = pv.get_object();
      auto attrs_r = AttributesOf(point, at);
      if (!attrs_r.ok()) {
        m.Reject(attrs_r.status().message());
        continue;
      }
      const json::object attrs = std::move(*attrs_r);
      Levels l = levels;
      l.record = &attrs;
      const auto sid = m.SessionOf(l);
      if (!sid) {
        m.Reject("data point of '" + name + "' has no " + SessionKeysHint());
        continue;
      }
      const std::int64_t ts = MsOrZero(point, "timeUnixNano");
      if (ts < 0) {
        m.Reject(at + " has an invalid timestamp");
        continue;
      }
      json::object meta = m.BaseMetadata(attrs, name);
      meta["metric.name"] = name;
      meta["metric.kind"] = kind;
      if (!unit.empty()) meta["metric.unit"] = unit;
      if (!temporality.empty()) meta["metric.temporality"] = temporality;
      std::string text = name;
      std::string labels;
      for (const auto& [k, v] : attrs) {
        if (k == "session.id" || k == "gen_ai.conversation.id" || k == "conversation.id") continue;
        if (!v.is_string()) continue;
        if (k != "type" && k != "model" && k != "tool_name" && k != "decision" && k != "language") continue;
        labels += (labels.empty() ? "" : ",") + std::string(k) + "=" + std::string(v.get_string());
      }
      if (!labels.empty()) text += "{" + labels + "}";
      if (kind == "sum" || kind == "gauge") {
        std::optional<double> v = NumberOf(point.if_contains("asDouble"));
        if (!v) {
          auto n = point.if_contains("asInt") ? Int64Of(*point.if_contains("asInt"), at) : Result<std::int64_t>(std::int64_t{0});
          if (!n.ok()) {
            m.Reject(n.status().message());
            continue;
          }
          meta["metric.value"] = *n;
          text += " = " + std::to_string(*n);
        } else {
          meta["metric.value"] = *v;
          text += " = " + FormatNumber(*v);
        }
      } else {
        if (const auto c = CountOf(point.if_contains("count"))) meta["metric.count"] = *c;
        if (const auto s = NumberOf(point.if_contains("sum"))) meta["metric.sum"] = *s;
        text += " count=" + std::to_string(CountOf(point.if_contains("count")).value_or(0));
        if (const auto s = NumberOf(point.if_contains("sum"))) text += " sum=" + FormatNumber(*s);
      }
      if (!unit.empty()) text += " " + unit;
      Pending p;
      p.event.session_id = *sid;
      p.event.agent_type = Mapper::AgentOf(l, name);
      p.event.mode = TextOf(l.Find({"vibekit.mode"}));
      p.event.timestamp = ts;
      p.event.stream_data = std::move(text);
      p.event.metadata = json::serialize(meta);
      m.Add(std::move(p));
    }
  }
}

}  // namespace

std::string_view OtlpSignalName(OtlpSignal signal) noexcept {
  switch (signal) {
    case OtlpSignal::kTraces: return "traces";
    case OtlpSignal::kLogs: return "logs";
    case OtlpSignal::kMetrics: return "metrics";
  }
  return "traces";
}

std::string NormalizeAgentName(std::string_view name) {
  std::string n = Lower(name);
  if (n.empty() || StartsWith(n, "unknown_service")) return "";
  if (n == "claude-code" || n == "claude_code" || n == "claude" || StartsWith(n, "claude-code")) {
    return "claude";
  }
  if (StartsWith(n, "codex")) return "codex";
  if (n == "gemini-cli" || n == "gemini_cli" || n == "gemini") return "gemini";
  if (n == "opencode" || n == "open-code") return "opencode";
  return n;
}

std::string PartialSuccessJson(OtlpSignal signal, std::int64_t rejected,
                               std::string_view error_message) {
  if (rejected <= 0 && error_message.empty()) return "{}";
  json::object ps;
  const char* key = signal == OtlpSignal::kTraces ? "rejectedSpans"
                    : signal == OtlpSignal::kLogs ? "rejectedLogRecords"
                                                  : "rejectedDataPoints";
  ps[key] = std::to_string(rejected);
  if (!error_message.empty()) ps["errorMessage"] = error_message;
  json::object root;
  root["partialSuccess"] = std::move(ps);
  return json::serialize(root);
}

Result<ReceivedBatch> ReceiveOtlpJson(OtlpSignal signal, std::string_view body,
                                      const SessionKnown& known) {
  try {
    Mapper mapper(signal, known);
    Status st = ForEachJsonDocument(body, [&](const json::value& doc, const std::string& path) {
      switch (signal) {
        case OtlpSignal::kTraces:
          return ForEachRecord(doc, path, "resourceSpans", "scopeSpans", "spans",
                               [&](const json::value& v, const Levels& l, const std::string& p) {
                                 MapSpan(mapper, v, l, p);
                               });
        case OtlpSignal::kLogs:
          return ForEachRecord(doc, path, "resourceLogs", "scopeLogs", "logRecords",
                               [&](const json::value& v, const Levels& l, const std::string& p) {
                                 MapLogRecord(mapper, v, l, p);
                               });
        case OtlpSignal::kMetrics:
          return ForEachRecord(doc, path, "resourceMetrics", "scopeMetrics", "metrics",
                               [&](const json::value& v, const Levels& l, const std::string& p) {
                                 MapMetric(mapper, v, l, p);
                               });
      }
      return Status::Ok();
    });
    if (!st.ok()) {
      return Status::InvalidArgument("not an OTLP " + std::string(OtlpSignalName(signal)) +
                                     " request: " + st.message());
    }
    return mapper.Finish();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("OTLP receiver: ") + e.what());
  }
}

}  // namespace vibekit::otlp
