#include "store/store.h"

namespace vibekit::store {

ValidationRule ValidationRuleFromRow(std::int64_t id, std::string table, std::string field,
                                     std::string_view type, std::string config,
                                     std::string message, bool active, std::int64_t priority,
                                     std::int64_t created, std::int64_t updated) {
  ValidationRule r;
  r.id = id;
  r.table_name = std::move(table);
  r.field_name = std::move(field);
  auto parsed = ParseValidationRuleType(type);
  if (parsed.ok()) {
    r.rule_type = *parsed;
  } else {
    r.field_name = "?" + r.field_name + " (rule type '" + std::string(type) + "')";
  }
  r.rule_config = std::move(config);
  r.error_message = std::move(message);
  r.is_active = active;
  r.priority = static_cast<int>(priority);
  r.created_at = created;
  r.updated_at = updated;
  return r;
}

}  // namespace vibekit::store
