// Schema 1.7.0 (SQLite and PostgreSQL alike): the default validation rules, the built-in checks
// of ingest/validation.cc written as rows of telemetry_validation_rules so `vibekit db rules
// list` shows them and they can be disabled or removed like any rule. Evaluating them again
// would only repeat the built-in checks, so the compiled rule set skips rules the built-in
// checks already guarantee (ingest/validation_rules.cc); edited configs are evaluated.
// Idempotent: a rule of the same table, field and type is not added twice. Seeding is audited
// like any rule added (seven "validation rule added" rows).
#pragma once

#include <string_view>

namespace vibekit::store {

inline constexpr std::string_view kDefaultRulesScript = R"sql(
INSERT INTO telemetry_validation_rules (table_name, field_name, rule_type, rule_config,
  error_message, is_active, priority)
SELECT 'telemetry_events', 'eventType', 'enum', '["start","stream","end","error"]', 'Invalid event type', 1, 100
WHERE NOT EXISTS (SELECT 1 FROM telemetry_validation_rules WHERE table_name = 'telemetry_events'
  AND field_name = 'eventType' AND rule_type = 'enum');
INSERT INTO telemetry_validation_rules (table_name, field_name, rule_type, rule_config,
  error_message, is_active, priority)
SELECT 'telemetry_events', 'sessionId', 'required', NULL, 'sessionId is required', 1, 100
WHERE NOT EXISTS (SELECT 1 FROM telemetry_validation_rules WHERE table_name = 'telemetry_events'
  AND field_name = 'sessionId' AND rule_type = 'required');
INSERT INTO telemetry_validation_rules (table_name, field_name, rule_type, rule_config,
  error_message, is_active, priority)
SELECT 'telemetry_events', 'sessionId', 'max_length', '256', 'sessionId is at most 256 bytes', 1, 100
WHERE NOT EXISTS (SELECT 1 FROM telemetry_validation_rules WHERE table_name = 'telemetry_events'
  AND field_name = 'sessionId' AND rule_type = 'max_length');
INSERT INTO telemetry_validation_rules (table_name, field_name, rule_type, rule_config,
  error_message, is_active, priority)
SELECT 'telemetry_events', 'agentType', 'required', NULL, 'agentType is required', 1, 100
WHERE NOT EXISTS (SELECT 1 FROM telemetry_validation_rules WHERE table_name = 'telemetry_events'
  AND field_name = 'agentType' AND rule_type = 'required');
INSERT INTO telemetry_validation_rules (table_name, field_name, rule_type, rule_config,
  error_message, is_active, priority)
SELECT 'telemetry_events', 'agentType', 'max_length', '256', 'agentType is at most 256 bytes', 1, 100
WHERE NOT EXISTS (SELECT 1 FROM telemetry_validation_rules WHERE table_name = 'telemetry_events'
  AND field_name = 'agentType' AND rule_type = 'max_length');
INSERT INTO telemetry_validation_rules (table_name, field_name, rule_type, rule_config,
  error_message, is_active, priority)
SELECT 'telemetry_events', 'timestamp', 'range', '{"min":0,"max":253402300799999}', 'timestamp must be milliseconds since 1970, before the year 10000', 1, 100
WHERE NOT EXISTS (SELECT 1 FROM telemetry_validation_rules WHERE table_name = 'telemetry_events'
  AND field_name = 'timestamp' AND rule_type = 'range');
INSERT INTO telemetry_validation_rules (table_name, field_name, rule_type, rule_config,
  error_message, is_active, priority)
SELECT 'telemetry_events', 'metadata', 'json_type', '"object"', 'metadata must be a JSON object', 1, 100
WHERE NOT EXISTS (SELECT 1 FROM telemetry_validation_rules WHERE table_name = 'telemetry_events'
  AND field_name = 'metadata' AND rule_type = 'json_type');
)sql";

// The rules stay on a rollback: telemetry_validation_rules exists in every older schema and the
// rows are data like any other (a rule may have been edited or disabled since); migrating again
// adds none twice.
inline constexpr std::string_view kDefaultRulesRollback = "";

inline constexpr std::string_view kDefaultRulesDescription =
    "Default validation rules (event type, ids, timestamp range, metadata object)";

}  // namespace vibekit::store
