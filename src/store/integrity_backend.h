// The backend side of DataIntegrityService (include/vibekit/data_integrity.h): every SQL
// statement of the audit trail, schema versions, checks, repairs and validation rules, once for
// SQLite (store/sqlite/sqlite_integrity.*) and once for PostgreSQL
// (store/postgres/pg_integrity.*). The service (src/integrity) keeps what both share: argument
// checks, version order, the findings' kinds and texts, the order of repairs, the audit rows.
//
// One connection per backend object; not thread-safe (the service holds its mutex around
// every call). "Inside a transaction" methods run in the caller's InTransaction body.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vibekit/config.h"
#include "vibekit/status.h"
#include "vibekit/telemetry_service.h"
#include "vibekit/validation_rule.h"

namespace vibekit::store {

// One row of telemetry_audit_log, values as stored (JSON text; PostgreSQL's compacted to the
// form SQLite's json_object writes, so both read the same).
struct AuditRow {
  std::int64_t id = 0;
  std::string table_name;
  std::string record_id;  // "" for NULL
  std::string operation;
  std::optional<std::string> old_values;
  std::optional<std::string> new_values;
  std::optional<std::string> changed_fields;
  std::string reason;
  std::optional<std::string> metadata;
  std::int64_t timestamp = 0;
};

struct AuditFilter {
  std::string table;                     // "" = every table
  std::optional<std::string> record_id;  // also matches purge rows whose id list holds it
  std::optional<std::int64_t> since_ms;
  std::optional<std::int64_t> until_ms;
  int limit = 1000;
};

// An audit row to write; empty strings are NULL.
struct AuditWrite {
  std::string_view table;
  std::string_view record_id;
  std::string_view operation;
  std::string_view old_values;
  std::string_view new_values;
  std::string_view changed_fields;
  std::string_view reason;
  std::string_view metadata;
  std::int64_t now_ms = 0;
};

struct MigrationInfo {
  std::string version;
  std::string description;
};

// --- rows the checks report ---
struct ForeignKeyRow {
  std::string table;      // the child table
  std::string record_id;  // its row (rowid on SQLite, primary key on PostgreSQL)
  std::string parent;     // the table of the missing parent
};
struct OrphanedEventsRow {
  std::string session_id;
  std::int64_t count = 0, min_id = 0, max_id = 0;
};
struct OrphanedErrorRow {
  std::string error_id;
  std::string missing;  // the event or session id it names
};
struct CounterRow {
  std::string session_id;
  std::optional<std::int64_t> stored[3];  // event, stream, error counts of the session row
  std::int64_t actual[3] = {0, 0, 0};     // the same counted over its events
};
struct StatsDiffRow {
  std::string stat_type, stat_key;
  std::optional<std::string> stored_json;    // nullopt: the row is missing
  std::optional<std::string> expected_json;  // nullopt: the row should not exist
};
struct RollupTotals {
  std::int64_t events = 0;  // events of existing sessions
  std::int64_t minute = 0, hour = 0, day = 0;
};

class IntegrityBackend {
 public:
  virtual ~IntegrityBackend() = default;

  // --- tables and transactions ---
  // Whether `name` is a table of the database (PostgreSQL: on the search path).
  virtual Result<bool> HasTable(std::string_view name) = 0;
  // Runs `body` in one write transaction, committed when it returns OK and rolled back
  // otherwise. PostgreSQL: holding the writer advisory lock of PgStore (a running server waits).
  virtual Status InTransaction(const std::function<Status()>& body) = 0;

  // --- audit trail ---
  // Matching rows, oldest first (timestamp, id).
  virtual Result<std::vector<AuditRow>> ReadAudit(const AuditFilter& filter) = 0;
  virtual Status WriteAudit(const AuditWrite& row) = 0;

  // --- schema versions ---
  // The project's migrations of this backend, in the order they apply.
  virtual const std::vector<MigrationInfo>& Migrations() const = 0;
  // Every recorded version with its stored rollback script, in no particular order (empty when
  // the table is missing).
  virtual Result<std::vector<std::pair<std::string, std::string>>> RecordedVersions() = 0;
  virtual Result<std::vector<SchemaVersion>> SchemaVersions() = 0;
  // Inside a transaction: one of Migrations() (script, restore of what its rollback kept
  // aside, the version row).
  virtual Status ApplyMigration(std::string_view version, std::int64_t now_ms) = 0;
  // Inside a transaction: the rollback script of one of Migrations().
  virtual Status RollBackMigration(std::string_view version) = 0;
  // Inside a transaction: a custom script statement by statement; kInvalidArgument (before
  // running it) when a statement controls transactions (TransactionControlKeyword).
  virtual Status ExecScriptChecked(std::string_view script) = 0;
  // Inside a transaction: records / forgets a version row.
  virtual Status RecordVersion(std::string_view version, std::string_view description,
                               std::string_view script, std::string_view rollback_script,
                               std::int64_t now_ms) = 0;
  virtual Status DeleteVersion(std::string_view version) = 0;
  // A database made by the reference implementation (SQLite only; false on PostgreSQL).
  virtual Result<bool> IsReferenceDatabase() = 0;
  // Converts a reference database and migrates it to the newest version (one transaction).
  virtual Status MigrateReference(std::int64_t now_ms) = 0;
  // Fills rollups that are empty while their source rows exist (own transactions).
  virtual Status RebuildMissingRollups() = 0;

  // --- checks (at most `limit` rows each) ---
  // Damage the database engine itself reports (SQLite: PRAGMA integrity_check; PostgreSQL:
  // none, see pg_integrity.h).
  virtual Result<std::vector<std::string>> IntegrityProblems() = 0;
  virtual Result<std::vector<ForeignKeyRow>> ForeignKeyViolations(int limit) = 0;
  virtual Result<std::vector<OrphanedEventsRow>> OrphanedEvents(int limit) = 0;
  virtual Result<std::vector<OrphanedErrorRow>> ErrorsWithMissingEvent(int limit) = 0;
  virtual Result<std::vector<OrphanedErrorRow>> ErrorsWithMissingSession(int limit) = 0;
  virtual Result<std::vector<CounterRow>> SessionCounterMismatches(int limit) = 0;
  // telemetry_stats rows that disagree with SQL over the events and sessions.
  virtual Result<std::vector<StatsDiffRow>> StatsDifferences() = 0;
  virtual Result<RollupTotals> ReadRollupTotals() = 0;

  // --- repairs (inside a transaction) ---
  // Rebuilds every index (SQLite REINDEX; PostgreSQL REINDEX of our tables).
  virtual Status RebuildIndexes() = 0;
  // Re-creates session `id` from its events; returns the new row as JSON.
  virtual Result<std::string> RecreateSession(std::string_view id, std::int64_t now_ms) = 0;
  // Clears the error's event_id; returns the old value as JSON.
  virtual Result<std::string> ClearErrorEvent(std::string_view error_id) = 0;
  // Clears the error's session_id when that session still does not exist; returns the old
  // value as JSON, "" when there was nothing to do.
  virtual Result<std::string> ClearErrorSession(std::string_view error_id) = 0;
  // Deletes one row named by a ForeignKeyRow.
  virtual Status DeleteRow(std::string_view table, std::string_view record_id) = 0;
  // Sets the session's counters from its events; returns the counters before and after (JSON).
  virtual Result<std::pair<std::string, std::string>> ResetSessionCounters(
      std::string_view id, std::int64_t now_ms) = 0;
  // Replaces telemetry_stats by the rows StatsDifferences compares against.
  virtual Status ReplaceStats(std::int64_t now_ms) = 0;
  // Rebuilds the minute, hour and day rollups from the events; returns the events counted by
  // the minute rows before and after.
  virtual Result<std::pair<std::int64_t, std::int64_t>> RebuildRollups() = 0;

  // --- validation rules ---
  virtual Result<std::int64_t> InsertRule(const ValidationRule& rule, std::int64_t now_ms) = 0;
  virtual Result<std::vector<ValidationRule>> ReadRules() = 0;
  // Rows changed (0: no such rule).
  virtual Result<std::int64_t> SetRuleActive(std::int64_t id, bool active,
                                             std::int64_t now_ms) = 0;
  virtual Result<std::int64_t> DeleteRule(std::int64_t id) = 0;
};

// The backend of `config.db_path`: a PostgreSQL URL (postgres://, postgresql://) or a SQLite
// file, which must exist (kNotFound otherwise; kCorruption when it is not a database). Never
// changes the schema.
Result<std::unique_ptr<IntegrityBackend>> OpenIntegrityBackend(const LocalStoreConfig& config);

// The keyword of `statement` (its first word, upper-cased, blanks and comments skipped) when it
// controls transactions or otherwise breaks the one-transaction guarantee of a schema script
// (BEGIN, START, COMMIT, END, ROLLBACK, ABORT, SAVEPOINT, RELEASE, PREPARE, ATTACH, DETACH,
// VACUUM); "" for any other statement.
std::string TransactionControlKeyword(std::string_view statement);

// The shared error for such a statement.
Status TransactionControlError(std::string_view keyword);

}  // namespace vibekit::store
