#include "vibekit/validation_rule.h"

namespace vibekit {

std::string_view ValidationRuleTypeName(ValidationRuleType type) noexcept {
  switch (type) {
    case ValidationRuleType::kEnum: return "enum";
    case ValidationRuleType::kRegex: return "regex";
    case ValidationRuleType::kRange: return "range";
    case ValidationRuleType::kRequired: return "required";
    case ValidationRuleType::kMaxLength: return "max_length";
    case ValidationRuleType::kJsonType: return "json_type";
  }
  return "required";
}

Result<ValidationRuleType> ParseValidationRuleType(std::string_view name) noexcept {
  for (ValidationRuleType t : {ValidationRuleType::kEnum, ValidationRuleType::kRegex,
                               ValidationRuleType::kRange, ValidationRuleType::kRequired,
                               ValidationRuleType::kMaxLength, ValidationRuleType::kJsonType}) {
    if (ValidationRuleTypeName(t) == name) return t;
  }
  if (name == "maxLength") return ValidationRuleType::kMaxLength;
  if (name == "jsonType") return ValidationRuleType::kJsonType;
  return Status::InvalidArgument("unknown rule type '" + std::string(name) +
                                 "' (enum, regex, range, required, max_length, json_type)");
}

}  // namespace vibekit
