// DataIntegrityService: the validation rules of telemetry_validation_rules (the audit triggers
// of schema 1.6.0 record every insert, update and delete, on both backends).
#include <mutex>
#include <optional>

#include "ingest/validation_rules.h"
#include "integrity/integrity_impl.h"
#include "vibekit/clock.h"

namespace vibekit {

Result<std::int64_t> DataIntegrityService::AddValidationRule(const ValidationRule& rule) noexcept {
  try {
    VK_RETURN_IF_ERROR(ingest::CheckValidationRule(rule));
    std::lock_guard lock(impl_->mu);
    return impl_->db->InsertRule(rule, SystemClock().NowMs());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("add validation rule: ") + e.what());
  }
}

Result<std::vector<ValidationRule>> DataIntegrityService::ListValidationRules() noexcept {
  try {
    std::lock_guard lock(impl_->mu);
    return impl_->db->ReadRules();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("list validation rules: ") + e.what());
  }
}

namespace {

// kNotFound when `changed` (the rows a change touched) is 0.
Status RuleChanged(const Result<std::int64_t>& changed, std::int64_t id) {
  if (!changed.ok()) return changed.status();
  if (*changed == 0) return Status::NotFound("no validation rule with id " + std::to_string(id));
  return Status::Ok();
}

}  // namespace

Status DataIntegrityService::SetValidationRuleActive(std::int64_t id, bool active) noexcept {
  try {
    std::lock_guard lock(impl_->mu);
    return RuleChanged(impl_->db->SetRuleActive(id, active, SystemClock().NowMs()), id);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("set validation rule: ") + e.what());
  }
}

Status DataIntegrityService::RemoveValidationRule(std::int64_t id) noexcept {
  try {
    std::lock_guard lock(impl_->mu);
    return RuleChanged(impl_->db->DeleteRule(id), id);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("remove validation rule: ") + e.what());
  }
}

}  // namespace vibekit
