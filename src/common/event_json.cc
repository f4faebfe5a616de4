#include "common/event_json.h"

#include <boost/json.hpp>

#include <cmath>
#include <string>

#include "common/json.h"
#include "common/json_parse.h"

namespace vibekit::internal {
namespace json = boost::json;

namespace {

void AppendField(std::string& out, std::string_view key, std::string_view value) {
  out += ",\"";
  out += key;
  out += "\":";
  AppendJsonString(out, value);
}

void AppendOptional(std::string& out, std::string_view key, const std::optional<std::string>& v) {
  if (v) AppendField(out, key, *v);
}

Result<std::optional<std::string>> OptionalString(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return Status::InvalidArgument("\"" + std::string(key) + "\" must be a string");
  return std::optional<std::string>(std::string(v->as_string()));
}

Result<std::string> RequiredString(const json::object& obj, std::string_view key) {
  VK_ASSIGN_OR_RETURN(auto v, OptionalString(obj, key));
  if (!v) return Status::InvalidArgument("\"" + std::string(key) + "\" is required");
  return std::move(*v);
}

Result<std::int64_t> Timestamp(const json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) {
    if (v.as_uint64() > static_cast<std::uint64_t>(INT64_MAX)) {
      return Status::InvalidArgument("\"timestamp\" is out of range");
    }
    return static_cast<std::int64_t>(v.as_uint64());
  }
  if (v.is_double()) {
    const double d = v.as_double();
    if (!std::isfinite(d)) return Status::InvalidArgument("\"timestamp\" must be a finite number");
    if (d != std::floor(d) || std::fabs(d) > 9.0e15) {
      return Status::InvalidArgument("\"timestamp\" must be whole milliseconds since the epoch");
    }
    return static_cast<std::int64_t>(d);
  }
  return Status::InvalidArgument("\"timestamp\" must be a number of milliseconds");
}

}  // namespace

std::string EventToJson(const Event& e) {
  std::string out;
  out.reserve(256 + (e.stream_data ? e.stream_data->size() : 0) +
              (e.prompt ? e.prompt->size() : 0) + (e.metadata ? e.metadata->size() : 0));
  out += '{';
  if (e.id != 0) {
    out += "\"id\":" + std::to_string(e.id) + ",";
  }
  out += "\"sessionId\":";
  AppendJsonString(out, e.session_id);
  AppendField(out, "eventType", EventTypeName(e.event_type));
  AppendField(out, "agentType", e.agent_type);
  AppendOptional(out, "mode", e.mode);
  AppendOptional(out, "prompt", e.prompt);
  AppendOptional(out, "streamData", e.stream_data);
  AppendOptional(out, "sandboxId", e.sandbox_id);
  AppendOptional(out, "repoUrl", e.repo_url);
  if (e.metadata) {
    out += ",\"metadata\":";
    out += *e.metadata;  // validated JSON object text
  }
  out += ",\"timestamp\":" + std::to_string(e.timestamp);
  if (e.error) {
    out += ",\"error\":{\"type\":";
    AppendJsonString(out, e.error->error_type);
    AppendField(out, "message", e.error->message);
    AppendOptional(out, "stack", e.error->stack);
    AppendOptional(out, "context", e.error->context);
    AppendField(out, "severity", ErrorSeverityName(e.error->severity));
    out += '}';
  }
  out += '}';
  return out;
}

Result<Event> EventFromJson(std::string_view text) {
  boost::system::error_code ec;
  json::value doc;
  try {
    doc = vibekit::internal::ParseJson(text, ec);
  } catch (const std::exception& ex) {
    return Status::InvalidArgument(std::string("cannot read event: ") + ex.what());
  }
  if (ec) return Status::InvalidArgument("not valid JSON: " + ec.message());
  return EventFromJsonValue(doc);
}

Result<Event> EventFromJsonValue(const json::value& doc) {
  try {
    if (!doc.is_object()) return Status::InvalidArgument("an event must be a JSON object");
    const json::object& obj = doc.as_object();
    Event e;
    VK_ASSIGN_OR_RETURN(e.session_id, RequiredString(obj, "sessionId"));
    VK_ASSIGN_OR_RETURN(std::string type, RequiredString(obj, "eventType"));
    VK_ASSIGN_OR_RETURN(e.event_type, ParseEventType(type));
    VK_ASSIGN_OR_RETURN(e.agent_type, RequiredString(obj, "agentType"));
    VK_ASSIGN_OR_RETURN(e.mode, OptionalString(obj, "mode"));
    VK_ASSIGN_OR_RETURN(e.prompt, OptionalString(obj, "prompt"));
    VK_ASSIGN_OR_RETURN(e.stream_data, OptionalString(obj, "streamData"));
    VK_ASSIGN_OR_RETURN(e.sandbox_id, OptionalString(obj, "sandboxId"));
    VK_ASSIGN_OR_RETURN(e.repo_url, OptionalString(obj, "repoUrl"));
    if (const json::value* m = obj.if_contains("metadata"); m != nullptr && !m->is_null()) {
      if (m->is_string()) {
        e.metadata = std::string(m->as_string());  // JSON text inside a string; validated later
      } else if (m->is_object()) {
        e.metadata = json::serialize(*m);
      } else {
        return Status::InvalidArgument("\"metadata\" must be an object");
      }
    }
    const json::value* ts = obj.if_contains("timestamp");
    if (ts == nullptr) return Status::InvalidArgument("\"timestamp\" is required");
    VK_ASSIGN_OR_RETURN(e.timestamp, Timestamp(*ts));
    if (const json::value* err = obj.if_contains("error"); err != nullptr && !err->is_null()) {
      ErrorDetails d;
      if (err->is_string()) {
        d.message = std::string(err->as_string());
      } else if (err->is_object()) {
        const json::object& eo = err->as_object();
        VK_ASSIGN_OR_RETURN(auto t, OptionalString(eo, "type"));
        VK_ASSIGN_OR_RETURN(auto msg, OptionalString(eo, "message"));
        VK_ASSIGN_OR_RETURN(d.stack, OptionalString(eo, "stack"));
        VK_ASSIGN_OR_RETURN(d.context, OptionalString(eo, "context"));
        VK_ASSIGN_OR_RETURN(auto sev, OptionalString(eo, "severity"));
        d.error_type = t.value_or("");
        d.message = msg.value_or("");
        if (sev) {
          VK_ASSIGN_OR_RETURN(d.severity, ParseErrorSeverity(*sev));
        }
      } else {
        return Status::InvalidArgument("\"error\" must be a string or an object");
      }
      e.error = std::move(d);
    }
    return e;
  } catch (const std::exception& ex) {
    return Status::InvalidArgument(std::string("cannot read event: ") + ex.what());
  }
}

}  // namespace vibekit::internal
