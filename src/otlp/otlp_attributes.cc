#include "otlp/otlp_attributes.h"

#include <charconv>
#include <climits>
#include <cmath>

namespace vibekit::otlp::internal {
namespace json = boost::json;

Status Bad(const std::string& path, const std::string& what) {
  return Status::InvalidArgument(path + " " + what);
}

Result<const json::array*> ArrayAt(const json::object& o, std::string_view key,
                                   const std::string& path) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return static_cast<const json::array*>(nullptr);
  if (!v->is_array()) return Bad(path + "." + std::string(key), "must be an array");
  return &v->get_array();
}

Result<const json::object*> ObjectOf(const json::value& v, const std::string& path) {
  if (!v.is_object()) return Bad(path, "must be an object");
  return &v.get_object();
}

// int64 of the JSON mapping: a decimal string or a number.
Result<std::int64_t> Int64Of(const json::value& v, const std::string& path) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v.get_uint64());
  }
  if (v.is_string()) {
    const json::string& s = v.get_string();
    std::int64_t out = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && end == s.data() + s.size()) return out;
  }
  return Bad(path, "must be a 64-bit integer");
}

// Unix nanoseconds (fixed64, string or number) to milliseconds.
Result<std::int64_t> NanosToMs(const json::value* v, const std::string& path) {
  if (v == nullptr) return Bad(path, "is missing");
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64() / 1000000);
  if (v->is_string()) {
    const json::string& s = v->get_string();
    std::uint64_t out = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && end == s.data() + s.size()) {
      return static_cast<std::int64_t>(out / 1000000);
    }
  }
  VK_ASSIGN_OR_RETURN(std::int64_t n, Int64Of(*v, path));
  if (n < 0) return Bad(path, "must not be negative");
  return n / 1000000;
}

// AnyValue to plain JSON (the inverse of the encoder's metadata mapping).
std::string Base64(std::string_view b) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < b.size(); i += 3) {
    const std::uint32_t v = (static_cast<std::uint32_t>(static_cast<unsigned char>(b[i])) << 16) |
                            (static_cast<std::uint32_t>(static_cast<unsigned char>(b[i + 1])) << 8) |
                            static_cast<unsigned char>(b[i + 2]);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == b.size()) {
    const std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(b[i])) << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == b.size()) {
    const std::uint32_t v = (static_cast<std::uint32_t>(static_cast<unsigned char>(b[i])) << 16) |
                            (static_cast<std::uint32_t>(static_cast<unsigned char>(b[i + 1])) << 8);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

namespace {

// A KeyValue's key. Absent means "": the proto3 JSON mapping may omit fields at their default
// value, and our protobuf transcoder does exactly that for an empty key.
Result<json::string_view> KeyOf(const json::object& kv, const std::string& at) {
  const json::value* k = kv.if_contains("key");
  if (k == nullptr) return json::string_view();
  if (!k->is_string()) return Bad(at + ".key", "must be a string");
  return json::string_view(k->get_string());
}

}  // namespace

Result<json::value> AnyToJson(const json::value& any, const std::string& path) {
  VK_ASSIGN_OR_RETURN(const json::object* o, ObjectOf(any, path));
  if (o->empty()) return json::value(nullptr);
  if (o->size() != 1) return Bad(path, "must hold exactly one value");
  const auto& [key, v] = *o->begin();
  const std::string here = path + "." + std::string(key);
  if (key == "stringValue") {
    if (!v.is_string()) return Bad(here, "must be a string");
    return json::value(v.get_string());
  }
  if (key == "boolValue") {
    if (!v.is_bool()) return Bad(here, "must be true or false");
    return json::value(v.get_bool());
  }
  if (key == "intValue") {
    VK_ASSIGN_OR_RETURN(std::int64_t n, Int64Of(v, here));
    return json::value(n);
  }
  if (key == "doubleValue") {
    if (v.is_double()) return json::value(v.get_double());
    if (v.is_int64()) return json::value(static_cast<double>(v.get_int64()));
    if (v.is_uint64()) return json::value(static_cast<double>(v.get_uint64()));
    return Bad(here, "must be a number");
  }
  if (key == "bytesValue") {
    if (v.is_string()) return json::value(v.get_string());
    // The JavaScript SDK's JSON serializer writes a Uint8Array as {"0":222,"1":173,...}: read
    // it as the bytes it means, in base64 like the JSON mapping's strings.
    if (v.is_object()) {
      std::string bytes(v.get_object().size(), '\0');
      for (const auto& [k, b] : v.get_object()) {
        std::size_t index = 0;
        auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), index);
        if (ec != std::errc() || end != k.data() + k.size() || index >= bytes.size() ||
            !b.is_int64() || b.get_int64() < 0 || b.get_int64() > 255) {
          return Bad(here, "must be a base64 string");
        }
        bytes[index] = static_cast<char>(b.get_int64());
      }
      return json::value(Base64(bytes));
    }
    return Bad(here, "must be a base64 string");
  }
  if (key == "arrayValue" || key == "kvlistValue") {
    VK_ASSIGN_OR_RETURN(const json::object* inner, ObjectOf(v, here));
    VK_ASSIGN_OR_RETURN(const json::array* values, ArrayAt(*inner, "values", here));
    if (key == "arrayValue") {
      json::array out;
      if (values != nullptr) {
        for (std::size_t i = 0; i < values->size(); ++i) {
          VK_ASSIGN_OR_RETURN(json::value item,
                              AnyToJson((*values)[i], here + ".values[" + std::to_string(i) + "]"));
          out.push_back(std::move(item));
        }
      }
      return json::value(std::move(out));
    }
    json::object out;
    if (values != nullptr) {
      for (std::size_t i = 0; i < values->size(); ++i) {
        const std::string at = here + ".values[" + std::to_string(i) + "]";
        VK_ASSIGN_OR_RETURN(const json::object* kv, ObjectOf((*values)[i], at));
        VK_ASSIGN_OR_RETURN(json::string_view k, KeyOf(*kv, at));
        const json::value* val = kv->if_contains("value");
        json::value item(nullptr);
        if (val != nullptr) {
          VK_ASSIGN_OR_RETURN(item, AnyToJson(*val, at + ".value"));
        }
        out[k] = std::move(item);
      }
    }
    return json::value(std::move(out));
  }
  return Bad(here, "is not an AnyValue field");
}

// The attribute list as key → plain JSON value.
Result<json::object> AttributesOf(const json::object& owner, const std::string& path) {
  json::object out;
  VK_ASSIGN_OR_RETURN(const json::array* attrs, ArrayAt(owner, "attributes", path));
  if (attrs == nullptr) return out;
  for (std::size_t i = 0; i < attrs->size(); ++i) {
    const std::string at = path + ".attributes[" + std::to_string(i) + "]";
    VK_ASSIGN_OR_RETURN(const json::object* kv, ObjectOf((*attrs)[i], at));
    VK_ASSIGN_OR_RETURN(json::string_view k, KeyOf(*kv, at));
    json::value value(nullptr);
    if (const json::value* v = kv->if_contains("value")) {
      VK_ASSIGN_OR_RETURN(value, AnyToJson(*v, at + ".value"));
    }
    out[k] = std::move(value);
  }
  return out;
}

std::optional<std::string> StringAttr(const json::object& attrs, std::string_view key) {
  const json::value* v = attrs.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

std::optional<std::string> MetadataAttr(const json::object& attrs, std::string_view key) {
  const json::value* v = attrs.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return std::string(v->get_string());  // kept verbatim when not JSON
  return json::serialize(*v);
}

Status DecodeVibekitSpanEvents(const json::object& span, const SpanDefaults& d,
                               const std::string& path, std::vector<Event>& out,
                               std::int64_t& skipped) {
  VK_ASSIGN_OR_RETURN(const json::array* events, ArrayAt(span, "events", path));
  if (events == nullptr) return Status::Ok();
  for (std::size_t i = 0; i < events->size(); ++i) {
    const std::string at = path + ".events[" + std::to_string(i) + "]";
    VK_ASSIGN_OR_RETURN(const json::object* ev, ObjectOf((*events)[i], at));
    VK_ASSIGN_OR_RETURN(json::object attrs, AttributesOf(*ev, at));
    std::optional<std::string> type_name = StringAttr(attrs, "vibekit.event.type");
    if (!type_name) {
      ++skipped;
      continue;
    }
    Event e;
    auto type = ParseEventType(*type_name);
    if (!type.ok()) return Bad(at, type.status().message());
    e.event_type = *type;
    VK_ASSIGN_OR_RETURN(e.timestamp, NanosToMs(ev->if_contains("timeUnixNano"),
                                               at + ".timeUnixNano"));
    if (const json::value* id = attrs.if_contains("vibekit.event.id"); id && id->is_int64()) {
      e.id = id->get_int64();
    }
    e.session_id = d.session_id;
    e.agent_type = StringAttr(attrs, "vibekit.agent_type").value_or(d.agent_type);
    e.mode = StringAttr(attrs, "vibekit.mode");
    if (!e.mode) e.mode = d.mode;
    e.prompt = StringAttr(attrs, "vibekit.prompt");
    e.stream_data = StringAttr(attrs, "vibekit.stream_data");
    e.sandbox_id = StringAttr(attrs, "vibekit.sandbox_id");
    e.repo_url = StringAttr(attrs, "vibekit.repo_url");
    e.metadata = MetadataAttr(attrs, "vibekit.metadata");
    if (e.event_type == EventType::kError) {
      ErrorDetails err;
      err.error_type = StringAttr(attrs, "exception.type").value_or("");
      err.message = StringAttr(attrs, "exception.message").value_or("error");
      err.stack = StringAttr(attrs, "exception.stacktrace");
      err.context = StringAttr(attrs, "vibekit.error.context");
      if (auto sev = StringAttr(attrs, "vibekit.error.severity")) {
        auto parsed = ParseErrorSeverity(*sev);
        if (!parsed.ok()) return Bad(at, parsed.status().message());
        err.severity = *parsed;
      }
      e.error = std::move(err);
    }
    out.push_back(std::move(e));
  }
  return Status::Ok();
}

}  // namespace vibekit::otlp::internal
