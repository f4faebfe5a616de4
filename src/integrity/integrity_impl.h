// Internals of DataIntegrityService shared by its .cc files: the connection and its mutex,
// schema-version helpers, and the validation/repair engine.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite/database.h"
#include "vibekit/config.h"
#include "vibekit/data_integrity.h"

namespace vibekit::integrity {

// <0, 0, >0 like strcmp; dotted parts compared as numbers when both are numbers.
int CompareVersions(std::string_view a, std::string_view b) noexcept;
// Digits and dots, at most 8 parts ("2.0.0", "1.10").
bool IsValidVersion(std::string_view v) noexcept;

// Runs `script` statement by statement inside the caller's transaction. kInvalidArgument when a
// statement controls transactions (BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE), attaches,
// detaches or vacuums: any of those would break the one-transaction guarantee.
Status ExecScriptChecked(store::sqlite::Database& db, std::string_view script);

// Inserts one telemetry_audit_log row (values are JSON text or empty for NULL).
Status WriteAudit(store::sqlite::Database& db, std::string_view table, std::string_view record_id,
                  std::string_view operation, std::string_view old_values,
                  std::string_view new_values, std::string_view changed_fields,
                  std::string_view reason, std::string_view metadata, std::int64_t now_ms);

// The checks (integrity_checks.cc). `db` is the service's connection, its mutex held.
Result<std::vector<IntegrityFinding>> RunChecks(store::sqlite::Database& db, bool foreign_keys);
// Applies the fixes inside the caller's transaction; returns the actions and counts audit rows.
Result<std::vector<RepairAction>> ApplyRepairs(store::sqlite::Database& db,
                                               const std::vector<IntegrityFinding>& findings,
                                               const RepairOptions& options, std::int64_t now_ms,
                                               std::int64_t* audit_rows);
// What repair would do for `finding` (the dry run's text).
std::string PlannedAction(const IntegrityFinding& finding, bool fix_constraints);

}  // namespace vibekit::integrity

namespace vibekit {

class DataIntegrityService::Impl {
 public:
  TelemetryConfig config;
  std::mutex mu;
  std::unique_ptr<store::sqlite::Database> db;  // guarded by mu
};

}  // namespace vibekit
