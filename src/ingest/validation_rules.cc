#include "ingest/validation_rules.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <regex>
#include <span>
#include <string_view>

#include "common/json_parse.h"
#include "ingest/validation.h"

namespace json = boost::json;

namespace vibekit::ingest {
namespace {

enum class Field {
  kSessionId, kAgentType, kMode, kEventType, kPrompt, kStreamData, kSandboxId, kRepoUrl,
  kMetadata, kTimestamp, kMetadataPath, kErrorMessage, kErrorType, kErrorStack, kErrorContext,
};

struct FieldName {
  std::string_view name;
  Field field;
};

constexpr FieldName kEventFields[] = {
    {"sessionId", Field::kSessionId}, {"agentType", Field::kAgentType}, {"mode", Field::kMode},
    {"eventType", Field::kEventType}, {"prompt", Field::kPrompt},
    {"streamData", Field::kStreamData}, {"sandboxId", Field::kSandboxId},
    {"repoUrl", Field::kRepoUrl}, {"metadata", Field::kMetadata},
    {"timestamp", Field::kTimestamp}};
constexpr FieldName kSessionFields[] = {
    {"sessionId", Field::kSessionId}, {"agentType", Field::kAgentType}, {"mode", Field::kMode},
    {"sandboxId", Field::kSandboxId}, {"repoUrl", Field::kRepoUrl}};
constexpr FieldName kErrorFields[] = {
    {"message", Field::kErrorMessage}, {"type", Field::kErrorType},
    {"stack", Field::kErrorStack}, {"context", Field::kErrorContext}};

// The field and, for a metadata path, its parts.
Result<std::pair<Field, std::vector<std::string>>> ResolveField(std::string_view table,
                                                                 std::string_view name) {
  std::span<const FieldName> fields;
  if (table == "telemetry_events") {
    fields = kEventFields;
  } else if (table == "telemetry_sessions") {
    fields = kSessionFields;
  } else if (table == "telemetry_errors") {
    fields = kErrorFields;
  } else {
    return Status::InvalidArgument("unknown table '" + std::string(table) +
                                   "' (telemetry_events, telemetry_sessions, telemetry_errors)");
  }
  for (const FieldName& f : fields) {
    if (f.name == name) return std::make_pair(f.field, std::vector<std::string>{});
  }
  if (table == "telemetry_events" && name.starts_with("metadata.") && name.size() > 9) {
    std::vector<std::string> parts;
    std::string_view rest = name.substr(9);
    while (true) {
      const std::size_t dot = rest.find('.');
      std::string_view part = rest.substr(0, dot);
      if (part.empty()) break;
      parts.emplace_back(part);
      if (dot == std::string_view::npos) {
        return std::make_pair(Field::kMetadataPath, std::move(parts));
      }
      rest.remove_prefix(dot + 1);
    }
  }
  std::string known;
  for (const FieldName& f : fields) known += std::string(known.empty() ? "" : ", ") + std::string(f.name);
  if (table == "telemetry_events") known += ", metadata.<key>[.<key>...]";
  return Status::InvalidArgument("unknown field '" + std::string(name) + "' of " +
                                 std::string(table) + " (" + known + ")");
}

bool IsNumber(const json::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }

double AsDouble(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

constexpr std::string_view kJsonTypes[] = {"object", "array", "string", "number",
                                           "integer", "boolean", "null"};

bool HasJsonType(const json::value& v, std::string_view type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "number") return IsNumber(v);
  if (type == "integer") {
    return v.is_int64() || v.is_uint64() ||
           (v.is_double() && std::isfinite(v.get_double()) &&
            std::trunc(v.get_double()) == v.get_double());
  }
  if (type == "boolean") return v.is_bool();
  return v.is_null();
}

// Cuts JSON text for a message: at most 80 bytes, not inside a UTF-8 sequence.
std::string Shown(const std::optional<json::value>& v) {
  if (!v) return "<missing>";
  std::string text = json::serialize(*v);
  constexpr std::size_t kMax = 80;
  if (text.size() <= kMax) return text;
  std::size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text + "...";
}

}  // namespace

struct RuleSet::Compiled {
  ValidationRule rule;
  Field field = Field::kSessionId;
  std::vector<std::string> path;  // metadata path parts
  std::vector<json::value> allowed;  // enum
  std::optional<std::regex> regex;
  std::optional<double> min, max;  // range
  std::int64_t max_length = 0;
  std::vector<std::string> types;  // json_type
};

namespace {

// Parses the config of `c.rule` into `c`.
Status CompileConfig(RuleSet::Compiled& c) {
  const ValidationRule& r = c.rule;
  json::value config;  // null when empty
  if (!r.rule_config.empty()) {
    boost::system::error_code ec;
    config = internal::ParseJson(r.rule_config, ec);
    if (ec) return Status::InvalidArgument("rule_config is not valid JSON: " + ec.message());
  }
  const std::string type(ValidationRuleTypeName(r.rule_type));
  auto bad = [&](std::string why) {
    return Status::InvalidArgument("a " + type + " rule's config " + why);
  };
  switch (r.rule_type) {
    case ValidationRuleType::kEnum: {
      if (!config.is_array() || config.get_array().empty()) {
        return bad("must be a non-empty JSON array of allowed values");
      }
      for (const json::value& v : config.get_array()) {
        if (!v.is_string() && !IsNumber(v) && !v.is_bool()) {
          return bad("may only hold strings, numbers and booleans");
        }
        c.allowed.push_back(v);
      }
      return Status::Ok();
    }
    case ValidationRuleType::kRegex: {
      const json::value* pattern = &config;
      if (config.is_object()) {
        pattern = config.get_object().if_contains("pattern");
        if (pattern == nullptr) return bad("needs \"pattern\"");
      }
      if (!pattern->is_string() || pattern->get_string().empty()) {
        return bad("must be a regex as a JSON string or {\"pattern\": \"...\"}");
      }
      try {
        c.regex.emplace(std::string(pattern->get_string()),
                        std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& e) {
        return bad(std::string("holds a regex that does not compile: ") + e.what());
      }
      return Status::Ok();
    }
    case ValidationRuleType::kRange: {
      if (!config.is_object()) return bad("must be {\"min\": n, \"max\": n}");
      for (const auto& [key, v] : config.get_object()) {
        if (key != "min" && key != "max") return bad("has an unknown key '" + std::string(key) + "'");
        if (!IsNumber(v) || !std::isfinite(AsDouble(v))) {
          return bad("needs numbers for min and max");
        }
        (key == "min" ? c.min : c.max) = AsDouble(v);
      }
      if (!c.min && !c.max) return bad("needs min or max");
      if (c.min && c.max && *c.min > *c.max) return bad("has min greater than max");
      return Status::Ok();
    }
    case ValidationRuleType::kRequired:
      if (!config.is_null() && !(config.is_object() && config.get_object().empty())) {
        return bad("must be empty (null or {})");
      }
      return Status::Ok();
    case ValidationRuleType::kMaxLength: {
      const json::value* max = &config;
      if (config.is_object()) {
        max = config.get_object().if_contains("max");
        if (max == nullptr) return bad("needs \"max\"");
      }
      if (!(max->is_int64() || max->is_uint64()) || AsDouble(*max) < 0) {
        return bad("must be a non-negative integer or {\"max\": n}");
      }
      c.max_length = max->is_int64() ? max->get_int64()
                                      : static_cast<std::int64_t>(max->get_uint64());
      return Status::Ok();
    }
    case ValidationRuleType::kJsonType: {
      std::vector<const json::value*> items;
      if (config.is_string()) {
        items.push_back(&config);
      } else if (config.is_array() && !config.get_array().empty()) {
        for (const json::value& v : config.get_array()) items.push_back(&v);
      } else {
        return bad("must be a type name or an array of them (object, array, string, number, "
                   "integer, boolean, null)");
      }
      for (const json::value* v : items) {
        if (!v->is_string() ||
            std::find(std::begin(kJsonTypes), std::end(kJsonTypes), v->get_string()) ==
                std::end(kJsonTypes)) {
          return bad("names an unknown type " + json::serialize(*v) +
                     " (object, array, string, number, integer, boolean, null)");
        }
        c.types.emplace_back(v->get_string());
      }
      return Status::Ok();
    }
  }
  return bad("has an unknown type");
}

Result<std::unique_ptr<RuleSet::Compiled>> CompileRule(const ValidationRule& rule) {
  auto c = std::make_unique<RuleSet::Compiled>();
  c->rule = rule;
  VK_ASSIGN_OR_RETURN(auto resolved, ResolveField(rule.table_name, rule.field_name));
  c->field = resolved.first;
  c->path = std::move(resolved.second);
  VK_RETURN_IF_ERROR(CompileConfig(*c));
  return c;
}

std::optional<json::value> Text(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return json::value(json::string_view(*s));
}

// The value of the rule's field in `e` (nullopt when absent). `metadata` is the parsed metadata
// (null when absent or not parsed).
std::optional<json::value> FieldValue(const RuleSet::Compiled& c, const Event& e,
                                      const json::value& metadata) {
  switch (c.field) {
    case Field::kSessionId: return json::value(json::string_view(e.session_id));
    case Field::kAgentType: return json::value(json::string_view(e.agent_type));
    case Field::kMode: return Text(e.mode);
    case Field::kEventType: return json::value(json::string_view(EventTypeName(e.event_type)));
    case Field::kPrompt: return Text(e.prompt);
    case Field::kStreamData: return Text(e.stream_data);
    case Field::kSandboxId: return Text(e.sandbox_id);
    case Field::kRepoUrl: return Text(e.repo_url);
    case Field::kTimestamp: return json::value(e.timestamp);
    case Field::kMetadata:
      if (!e.metadata) return std::nullopt;
      return metadata;
    case Field::kMetadataPath: {
      const json::value* v = &metadata;
      for (const std::string& part : c.path) {
        const json::object* o = v->if_object();
        if (o == nullptr) return std::nullopt;
        v = o->if_contains(part);
        if (v == nullptr) return std::nullopt;
      }
      return *v;
    }
    case Field::kErrorMessage:
      if (e.error) return json::value(json::string_view(e.error->message));
      return Text(e.stream_data);
    case Field::kErrorType:
      if (e.error) return json::value(json::string_view(e.error->error_type));
      return std::nullopt;
    case Field::kErrorStack: return e.error ? Text(e.error->stack) : std::nullopt;
    case Field::kErrorContext: return e.error ? Text(e.error->context) : std::nullopt;
  }
  return std::nullopt;
}

bool Passes(const RuleSet::Compiled& c, const std::optional<json::value>& value) {
  if (!value) return c.rule.rule_type != ValidationRuleType::kRequired;
  const json::value& v = *value;
  switch (c.rule.rule_type) {
    case ValidationRuleType::kRequired:
      if (v.is_null()) return false;
      if (const json::string* s = v.if_string()) return !s->empty();
      return true;
    case ValidationRuleType::kEnum:
      for (const json::value& a : c.allowed) {
        if (IsNumber(a) && IsNumber(v) ? AsDouble(a) == AsDouble(v) : a == v) return true;
      }
      return false;
    case ValidationRuleType::kRegex: {
      const std::string text = v.is_string() ? std::string(v.get_string()) : json::serialize(v);
      return std::regex_search(text, *c.regex);
    }
    case ValidationRuleType::kRange: {
      double x = 0;
      if (IsNumber(v)) {
        x = AsDouble(v);
      } else if (v.is_string()) {
        x = static_cast<double>(v.get_string().size());
      } else {
        return false;
      }
      return (!c.min || x >= *c.min) && (!c.max || x <= *c.max);
    }
    case ValidationRuleType::kMaxLength: {
      const std::size_t n = v.is_string() ? v.get_string().size() : json::serialize(v).size();
      return static_cast<std::int64_t>(n) <= c.max_length;
    }
    case ValidationRuleType::kJsonType:
      for (const std::string& t : c.types) {
        if (HasJsonType(v, t)) return true;
      }
      return false;
  }
  return true;
}

// True when ValidateEvent (which runs first, with enable_data_integrity) already guarantees
// what the rule checks: such a rule (the seeded defaults, store/default_rules.h) is listed but
// not evaluated again.
bool ImpliedByBuiltins(const RuleSet::Compiled& c) {
  if (c.rule.table_name == "telemetry_errors") return false;
  const bool id_field = c.field == Field::kSessionId || c.field == Field::kAgentType;
  switch (c.rule.rule_type) {
    case ValidationRuleType::kRequired:
      return id_field || c.field == Field::kEventType || c.field == Field::kTimestamp;
    case ValidationRuleType::kMaxLength:
      return (id_field || c.field == Field::kMode) && c.max_length >= 256;
    case ValidationRuleType::kEnum: {
      if (c.field != Field::kEventType) return false;
      for (EventType t : {EventType::kStart, EventType::kStream, EventType::kEnd, EventType::kError}) {
        if (std::find(c.allowed.begin(), c.allowed.end(),
                      json::value(json::string_view(EventTypeName(t)))) == c.allowed.end()) {
          return false;
        }
      }
      return true;
    }
    case ValidationRuleType::kRange:
      return c.field == Field::kTimestamp && (!c.min || *c.min <= 0) &&
             (!c.max || *c.max >= static_cast<double>(kMaxTimestampMs));
    case ValidationRuleType::kJsonType:
      return c.field == Field::kMetadata &&
             std::find(c.types.begin(), c.types.end(), "object") != c.types.end();
    case ValidationRuleType::kRegex:
      return false;
  }
  return false;
}

}  // namespace

Status CheckValidationRule(const ValidationRule& rule) {
  auto compiled = CompileRule(rule);
  return compiled.ok() ? Status::Ok() : compiled.status();
}

RuleSet::RuleSet() = default;
RuleSet::~RuleSet() = default;

std::shared_ptr<const RuleSet> RuleSet::Compile(const std::vector<ValidationRule>& rules,
                                                std::vector<std::string>* skipped) {
  std::shared_ptr<RuleSet> set(new RuleSet());
  for (const ValidationRule& rule : rules) {
    if (!rule.is_active) continue;
    auto c = CompileRule(rule);
    if (!c.ok()) {
      if (skipped != nullptr) {
        skipped->push_back("validation rule " + std::to_string(rule.id) + " is ignored: " +
                           c.status().message());
      }
      continue;
    }
    if (ImpliedByBuiltins(**c)) continue;
    set->needs_metadata_ = set->needs_metadata_ || (*c)->field == Field::kMetadata ||
                           (*c)->field == Field::kMetadataPath;
    set->compiled_.push_back(std::move(*c));
  }
  std::stable_sort(set->compiled_.begin(), set->compiled_.end(), [](const auto& a, const auto& b) {
    if (a->rule.priority != b->rule.priority) return a->rule.priority > b->rule.priority;
    return a->rule.id < b->rule.id;
  });
  return set;
}

Status RuleSet::Check(const Event& e) const {
  if (compiled_.empty()) return Status::Ok();
  json::value metadata;
  if (needs_metadata_ && e.metadata) {
    boost::system::error_code ec;
    metadata = internal::ParseJson(*e.metadata, ec, {}, internal::kMaxMetadataDepth);
    if (ec) metadata = json::value(json::string_view(*e.metadata));
  }
  for (const auto& c : compiled_) {
    if (c->rule.table_name == "telemetry_errors" && e.event_type != EventType::kError) continue;
    std::optional<json::value> value = FieldValue(*c, e, metadata);
    if (Passes(*c, value)) continue;
    const ValidationRule& r = c->rule;
    std::string message = "validation rule " + std::to_string(r.id) + " failed: table=" +
                          r.table_name + " field=" + r.field_name + " rule=" +
                          std::string(ValidationRuleTypeName(r.rule_type)) +
                          " value=" + Shown(value);
    message += ": " + (r.error_message.empty() ? std::string("value not allowed") : r.error_message);
    return Status::InvalidArgument(std::move(message));
  }
  return Status::Ok();
}

}  // namespace vibekit::ingest
