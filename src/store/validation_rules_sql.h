// The query of every validation rule (telemetry_validation_rules), by id, in the columns
// store::ValidationRuleFromRow takes; the same SQL on both backends.
#pragma once

namespace vibekit::store {

inline constexpr const char* kValidationRulesQuery =
    "SELECT id, table_name, field_name, rule_type, coalesce(rule_config, ''), "
    "coalesce(error_message, ''), is_active, priority, created_at, updated_at "
    "FROM telemetry_validation_rules ORDER BY id";

}  // namespace vibekit::store
