// Internals of DataIntegrityService shared by its .cc files: the backend
// (store/integrity_backend.h: every SQL statement, SQLite or PostgreSQL) and its mutex, version
// helpers, and the backend-independent part of validation and repair (findings, repair plan).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "store/integrity_backend.h"
#include "vibekit/config.h"
#include "vibekit/data_integrity.h"

namespace vibekit::integrity {

// <0, 0, >0 like strcmp; dotted parts compared as numbers when both are numbers.
int CompareVersions(std::string_view a, std::string_view b) noexcept;
// Digits and dots, at most 8 parts ("2.0.0", "1.10").
bool IsValidVersion(std::string_view v) noexcept;

// The checks (integrity_checks.cc), the service's mutex held.
Result<std::vector<IntegrityFinding>> RunChecks(store::IntegrityBackend& db, bool foreign_keys);
// Applies the fixes inside the caller's transaction; returns the actions and counts audit rows.
Result<std::vector<RepairAction>> ApplyRepairs(store::IntegrityBackend& db,
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
  std::unique_ptr<store::IntegrityBackend> db;  // guarded by mu
};

}  // namespace vibekit
