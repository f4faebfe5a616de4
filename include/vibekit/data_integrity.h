// DataIntegrityService: the audit trail, schema versions (migrate, roll back, apply a custom
// version atomically) and the checks and repairs of a database's consistency. It works on the
// database of a TelemetryConfig (a SQLite file or a PostgreSQL URL) through its own connection;
// it runs beside a TelemetryService or `vibekit serve` on it (writes wait for the write lock:
// SQLite's up to the busy timeout, PostgreSQL's advisory lock). Opening never changes the schema.
//
// Thread-safety: every method is thread-safe (one connection behind a mutex) and noexcept.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vibekit/config.h"
#include "vibekit/status.h"
#include "vibekit/telemetry_service.h"
#include "vibekit/validation_rule.h"

namespace vibekit {

// One row of telemetry_audit_log. Values are JSON text as stored.
struct AuditEntry {
  std::int64_t id = 0;
  std::string table_name;
  std::string record_id;  // "" for rows about many records (a retention purge lists the ids)
  std::string operation;  // "INSERT" | "UPDATE" | "DELETE"
  std::optional<std::string> old_values;
  std::optional<std::string> new_values;
  std::vector<std::string> changed_fields;
  std::string reason;
  std::optional<std::string> metadata;
  std::int64_t timestamp = 0;  // ms since the epoch
};

struct AuditQuery {
  std::string table;                     // "" = every table
  std::optional<std::string> record_id;  // also matches purge rows whose id list holds it
  std::optional<std::int64_t> since_ms;  // timestamp >= since
  std::optional<std::int64_t> until_ms;  // timestamp <= until
  int limit = 1000;                      // 1..100000
};

// What ApplySchemaVersion runs: the migration and the script that undoes it.
struct SchemaVersionSpec {
  std::string version;  // dotted numbers ("2.0.0"), greater than the current version
  std::string description;
  std::string migration_script;
  std::string rollback_script;
};

// One step of a migrate or rollback.
struct SchemaStep {
  std::string version;
  std::string direction;  // "migrate" | "rollback"
  std::string description;
};

struct SchemaChangeReport {
  std::string from_version;
  std::string to_version;
  std::vector<SchemaStep> steps;  // in the order they ran (empty: already there)
};

enum class FindingKind {
  kIntegrity,           // SQLite's PRAGMA integrity_check reported a problem (none on PostgreSQL)
  kForeignKey,          // a row references a missing parent (SQLite: foreign_key_check)
  kSessionCounters,     // event/stream/error counts of a session disagree with its events
  kOrphanedEvents,      // events of a session that does not exist
  kOrphanedErrorEvent,  // an error row naming an event that does not exist
  kOrphanedErrorSession,  // an error row naming a session that does not exist
  kStatsRollup,         // a telemetry_stats row disagrees with the events and sessions
  kMinuteRollups,       // the analytics rollups' totals disagree with the events
};
// "integrity", "foreign_key", "session_counters", "orphaned_events", "orphaned_error_event",
// "orphaned_error_session", "stats_rollup", "minute_rollups".
std::string_view FindingKindName(FindingKind kind) noexcept;

struct IntegrityFinding {
  FindingKind kind = FindingKind::kIntegrity;
  std::string table;
  std::string record_id;  // the row concerned ("" when the finding is about a whole table)
  std::string detail;     // what disagrees, with the values
  bool needs_fix_constraints = false;  // repair changes it only with fix_constraints
};

struct ValidationReport {
  std::string schema_version;
  bool foreign_keys_checked = false;
  std::vector<IntegrityFinding> findings;
  bool ok() const noexcept { return findings.empty(); }
};

struct RepairOptions {
  bool fix_constraints = false;  // also fix orphaned rows and foreign-key violations
  bool dry_run = true;           // only say what would be done
  std::string reason = "repair";  // written to every audit row
};

struct RepairAction {
  IntegrityFinding finding;
  std::string action;    // what was (or would be) done
  bool applied = false;  // false in a dry run, or when fix_constraints is needed but not given
};

struct RepairReport {
  bool dry_run = true;
  std::vector<RepairAction> actions;
  std::int64_t audit_rows = 0;  // audit rows written by the repair
  // A validation after the repair (empty in a dry run).
  std::vector<IntegrityFinding> remaining;
};

class DataIntegrityService {
 public:
  // Opens `config.local_store.db_path` (kNotFound: no such file; kCorruption: not a database;
  // a postgres:// URL: kUnavailable when the server cannot be reached). Does not migrate.
  static Result<std::unique_ptr<DataIntegrityService>> Open(const TelemetryConfig& config) noexcept;
  ~DataIntegrityService();
  DataIntegrityService(const DataIntegrityService&) = delete;
  DataIntegrityService& operator=(const DataIntegrityService&) = delete;

  // --- audit trail ---
  // Every audit row of `record_id` in `table` (including purges whose id list holds it), oldest
  // first (by time, then id).
  Result<std::vector<AuditEntry>> GetAuditHistory(std::string_view table,
                                                  std::string_view record_id) noexcept;
  // Rows matching `query`, oldest first. kInvalidArgument for an unknown table or a bad limit.
  Result<std::vector<AuditEntry>> QueryAudit(const AuditQuery& query) noexcept;

  // --- schema versions ---
  // The newest version of the project's own migrations ("1.6.0").
  static std::string_view LatestSchemaVersion() noexcept;
  // The highest version recorded as applied ("" for a file without our schema).
  Result<std::string> GetCurrentSchemaVersion() noexcept;
  Result<std::vector<SchemaVersion>> GetSchemaVersions() noexcept;
  // Runs the migration script and records the version in one transaction: on any failure
  // nothing of it stays. kInvalidArgument when the version is malformed, not greater than the
  // current one, or a script holds transaction control (BEGIN, COMMIT, ROLLBACK, ...).
  Status ApplySchemaVersion(const SchemaVersionSpec& spec) noexcept;
  // The project's own migrations up to `version` (each step one transaction; a database made
  // by the reference implementation is converted first). kInvalidArgument for a version that
  // is not one of ours or is below the current one.
  Result<SchemaChangeReport> MigrateTo(std::string_view version) noexcept;
  // Runs the rollback scripts of every version above `version`, newest first, each step one
  // transaction. Data a rollback cannot keep in the older schema is kept aside and put back by
  // the next migrate. kInvalidArgument when `version` is not applied.
  Result<SchemaChangeReport> RollbackTo(std::string_view version) noexcept;

  // --- validation and repair ---
  // integrity_check (SQLite), orphaned rows, session counters, statistics and analytics
  // rollups; with `foreign_keys` also every foreign key of every table.
  Result<ValidationReport> Validate(bool foreign_keys) noexcept;
  // Fixes what Validate finds (with options.foreign_keys checked too when fix_constraints);
  // each fix is audited. One transaction: a failure leaves the database as it was.
  Result<RepairReport> Repair(const RepairOptions& options) noexcept;

  // --- validation rules (telemetry_validation_rules; validation_rule.h) ---
  // Checks the rule (table, field, type, config: a regex must compile, a range needs min <= max,
  // ...) and stores it; returns its id. kInvalidArgument saying what is wrong. A running
  // TelemetryService on the file applies it within its local_store.rules_refresh_ms.
  Result<std::int64_t> AddValidationRule(const ValidationRule& rule) noexcept;
  // Every rule, active or not, by id.
  Result<std::vector<ValidationRule>> ListValidationRules() noexcept;
  // Turns a rule on or off (audited); kNotFound for an unknown id.
  Status SetValidationRuleActive(std::int64_t id, bool active) noexcept;
  // Deletes a rule (audited); kNotFound for an unknown id.
  Status RemoveValidationRule(std::int64_t id) noexcept;

  class Impl;

 private:
  explicit DataIntegrityService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vibekit
