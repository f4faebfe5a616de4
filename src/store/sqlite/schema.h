// The SQLite schema and its migrations. Each migration runs in one transaction and records
// itself in telemetry_schema_versions (version, description, the script, its rollback script).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/migration.h"
#include "store/sqlite/database.h"
#include "vibekit/config.h"
#include "vibekit/status.h"

namespace vibekit::store::sqlite {

using Migration = store::Migration;

// In the order they apply.
const std::vector<Migration>& Migrations();
// The version a fresh database ends at.
std::string_view CurrentSchemaVersion();

// Sets the per-connection pragmas (WAL, synchronous=NORMAL, foreign_keys, secure_delete=OFF,
// cache size). `writer` also sets what only matters for the connection that creates the file.
Status ConfigureConnection(Database& db, bool writer, const LocalStoreConfig& config);

// Runs `m` (its script, then its restore script when the rollback left a stash) and records it
// in telemetry_schema_versions. Inside the caller's transaction.
Status ApplyMigration(Database& db, const Migration& m, std::int64_t now_ms);

// Fills the minute rollups when they are empty but events exist, and the hour/day rollups when
// they are empty but minute rows exist (an older database, or one whose rollups a rollback
// dropped). Each fill is one transaction; a no-op when nothing is missing.
Status RebuildMissingRollups(Database& db);

// Applies every migration not yet recorded. Safe to call on every open; concurrent openers are
// serialized by BEGIN IMMEDIATE.
Status Migrate(Database& db, std::int64_t now_ms);

}  // namespace vibekit::store::sqlite
