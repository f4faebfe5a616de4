// PostgreSQL side of DataIntegrityService (store/integrity_backend.h): its own connection to the
// database of a postgres:// URL; every write transaction takes PgStore's writer advisory lock
// (kWriterLockKey), so a running `vibekit serve` or TelemetryService on the same database waits
// for a migration or repair step and never sees half of it.
//
// Where PostgreSQL differs from SQLite:
// - IntegrityProblems is always empty: PostgreSQL has no cheap whole-database check like
//   PRAGMA integrity_check (page checksums are verified as pages are read; a deeper check of
//   indexes is the amcheck extension's pg_amcheck, run by the database's administrator).
// - Foreign keys are enforced by PostgreSQL, but rows written with the constraint triggers off
//   (session_replication_role = replica, a restore with triggers disabled) can still dangle:
//   ForeignKeyViolations checks every single-column foreign key of the tables on the search path
//   with one NOT EXISTS query each, the equivalent of PRAGMA foreign_key_check. Rows are named
//   by their primary key.
// - JSON written by the audit triggers (json_build_object: "key" : value) is read back compacted
//   ({"key":value}), the form SQLite writes.
#pragma once

#include <memory>

#include "store/integrity_backend.h"

namespace vibekit::store::postgres {

// Connects to `config.db_path` (kUnavailable when the server cannot be reached).
Result<std::unique_ptr<IntegrityBackend>> OpenPgIntegrity(const LocalStoreConfig& config);

// Splits a script into statements at top-level semicolons (quotes, dollar quotes, comments
// respected); blank statements are dropped.
std::vector<std::string> SplitSqlStatements(std::string_view script);

}  // namespace vibekit::store::postgres
