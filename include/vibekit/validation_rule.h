// Validation rules: checks stored in the database's telemetry_validation_rules table, added and
// managed through DataIntegrityService (CLI `vibekit db rules`), applied by every write path of
// a TelemetryService on the same database (library Track*, InsertEventBatch, NDJSON import,
// HTTP POST /api/events, the OTLP receiver) after the built-in checks.
//
// A failing event gets kInvalidArgument (the description's ValidationError) whose message is
//   validation rule <id> failed: table=<table> field=<field> rule=<type> value=<value>: <error>
// with the value shown as JSON text cut to 80 bytes ("<missing>" for an absent field).
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vibekit/status.h"

namespace vibekit {

enum class ValidationRuleType {
  kEnum,       // config: JSON array of allowed strings, e.g. ["start","stream","end","error"]
  kRegex,      // config: JSON string (ECMAScript regex) or {"pattern":"..."}; whole value must match
  kRange,      // config: {"min":n,"max":n} (either may be left out); numbers (timestamp, metadata)
               // or, for a text field, its length in bytes
  kRequired,   // config: none (null or {}); the field must be present and not empty
  kMaxLength,  // config: a number or {"max":n}; bytes of the value (text) or of its JSON text
  kJsonType,   // config: a JSON string or array of "object","array","string","number",
               // "integer","boolean","null"
};

// "enum", "regex", "range", "required", "max_length", "json_type".
std::string_view ValidationRuleTypeName(ValidationRuleType type) noexcept;
// The inverse of ValidationRuleTypeName; kInvalidArgument listing the names otherwise.
Result<ValidationRuleType> ParseValidationRuleType(std::string_view name) noexcept;

// One row of telemetry_validation_rules.
//
// table_name: "telemetry_events" (fields of every event), "telemetry_sessions" (sessionId,
// agentType, mode, sandboxId, repoUrl of every event: the values that make a session row) or
// "telemetry_errors" (fields of error events only: message, type, stack, context).
// field_name: camelCase as in the API: sessionId, agentType, mode, eventType, prompt,
// streamData, sandboxId, repoUrl, metadata, timestamp; a path into the metadata object such as
// "metadata.userId" or "metadata.user.email"; for telemetry_errors: message, type, stack, context.
// Rules run in priority order (higher first, then by id); an absent field passes every rule
// but `required`.
struct ValidationRule {
  std::int64_t id = 0;  // assigned by AddValidationRule
  std::string table_name = "telemetry_events";
  std::string field_name;
  ValidationRuleType rule_type = ValidationRuleType::kRequired;
  std::string rule_config;    // JSON text ("" = null)
  std::string error_message;  // appended to the failure message
  bool is_active = true;
  int priority = 0;
  std::int64_t created_at = 0;  // ms since the epoch (filled when read)
  std::int64_t updated_at = 0;

  bool operator==(const ValidationRule&) const = default;
};

}  // namespace vibekit
