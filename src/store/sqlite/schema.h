// The SQLite schema and its migrations. Each migration runs in one transaction and records
// itself in telemetry_schema_versions (version, description, the script, its rollback script).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite/database.h"
#include "vibekit/config.h"
#include "vibekit/status.h"

namespace vibekit::store::sqlite {

struct Migration {
  std::string_view version;
  std::string_view description;
  std::string_view script;
  std::string_view rollback_script;
};

// In the order they apply.
const std::vector<Migration>& Migrations();
// The version a fresh database ends at.
std::string_view CurrentSchemaVersion();

// Sets the per-connection pragmas (WAL, synchronous=NORMAL, foreign_keys, secure_delete=OFF,
// cache size). `writer` also sets what only matters for the connection that creates the file.
Status ConfigureConnection(Database& db, bool writer, const LocalStoreConfig& config);

// Applies every migration not yet recorded. Safe to call on every open; concurrent openers are
// serialized by BEGIN IMMEDIATE.
Status Migrate(Database& db, std::int64_t now_ms);

}  // namespace vibekit::store::sqlite
