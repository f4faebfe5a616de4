// DataIntegrityService: the validation rules of telemetry_validation_rules (the audit triggers
// of schema 1.6.0 record every insert, update and delete).
#include <mutex>
#include <optional>

#include "ingest/validation_rules.h"
#include "integrity/integrity_impl.h"
#include "store/store.h"
#include "vibekit/clock.h"

namespace vibekit {

using store::sqlite::Database;
using store::sqlite::Statement;

Result<std::int64_t> DataIntegrityService::AddValidationRule(const ValidationRule& rule) noexcept {
  try {
    VK_RETURN_IF_ERROR(ingest::CheckValidationRule(rule));
    std::lock_guard lock(impl_->mu);
    Database& db = *impl_->db;
    const std::int64_t now = SystemClock().NowMs();
    VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db,
        "INSERT INTO telemetry_validation_rules (table_name, field_name, rule_type, rule_config, "
        "error_message, is_active, priority, created_at, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"));
    st.Bind(1, std::string_view(rule.table_name));
    st.Bind(2, std::string_view(rule.field_name));
    st.Bind(3, ValidationRuleTypeName(rule.rule_type));
    if (rule.rule_config.empty()) {
      st.BindNull(4);
    } else {
      st.Bind(4, std::string_view(rule.rule_config));
    }
    if (rule.error_message.empty()) {
      st.BindNull(5);
    } else {
      st.Bind(5, std::string_view(rule.error_message));
    }
    st.Bind(6, rule.is_active ? 1 : 0);
    st.Bind(7, rule.priority);
    st.Bind(8, now);
    VK_RETURN_IF_ERROR(st.Run());
    return db.LastInsertRowId();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("add validation rule: ") + e.what());
  }
}

Result<std::vector<ValidationRule>> DataIntegrityService::ListValidationRules() noexcept {
  try {
    std::lock_guard lock(impl_->mu);
    VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(*impl_->db,
        "SELECT id, table_name, field_name, rule_type, coalesce(rule_config, ''), "
        "coalesce(error_message, ''), is_active, priority, created_at, updated_at "
        "FROM telemetry_validation_rules ORDER BY id"));
    std::vector<ValidationRule> out;
    while (true) {
      VK_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back(store::ValidationRuleFromRow(
          st.ColumnInt(0), st.ColumnText(1), st.ColumnText(2), st.ColumnText(3),
          st.ColumnText(4), st.ColumnText(5), st.ColumnInt(6) != 0, st.ColumnInt(7),
          st.ColumnInt(8), st.ColumnInt(9)));
    }
    return out;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("list validation rules: ") + e.what());
  }
}

namespace {

// Runs `sql` (?1 = the rule id; with `active`, ?2 = it and ?3 = now) and says kNotFound when
// no row changed.
Status ChangeRule(DataIntegrityService::Impl& impl, const char* sql, std::int64_t id,
                  std::optional<bool> active, const char* what) noexcept {
  try {
    std::lock_guard lock(impl.mu);
    Database& db = *impl.db;
    VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db, sql));
    st.Bind(1, id);
    if (active) {
      st.Bind(2, *active ? 1 : 0);
      st.Bind(3, SystemClock().NowMs());
    }
    VK_RETURN_IF_ERROR(st.Run());
    if (db.Changes() == 0) {
      return Status::NotFound("no validation rule with id " + std::to_string(id));
    }
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status::Internal(std::string(what) + ": " + e.what());
  }
}

}  // namespace

Status DataIntegrityService::SetValidationRuleActive(std::int64_t id, bool active) noexcept {
  return ChangeRule(*impl_,
                    "UPDATE telemetry_validation_rules SET is_active = ?2, updated_at = ?3 "
                    "WHERE id = ?1",
                    id, active, "set validation rule");
}

Status DataIntegrityService::RemoveValidationRule(std::int64_t id) noexcept {
  return ChangeRule(*impl_, "DELETE FROM telemetry_validation_rules WHERE id = ?1", id, std::nullopt,
                    "remove validation rule");
}

}  // namespace vibekit
