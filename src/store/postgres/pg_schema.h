// The PostgreSQL schema: the SQLite migrations' versions and tables in PostgreSQL types (bigint
// milliseconds, text, jsonb beside the exact metadata text, bytea sketches, identity keys), a
// full-text index (tsvector + GIN) instead of FTS5, plpgsql triggers for the delivery outbox.
// Recorded in telemetry_schema_versions like on SQLite.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/migration.h"
#include "store/postgres/pg_conn.h"

namespace vibekit::store::postgres {

// The migrations in PostgreSQL types: same versions and descriptions as store/sqlite/schema.h.
using PgMigration = store::Migration;

// In the order they apply.
const std::vector<PgMigration>& PgMigrations();

// Runs `m` (script, then its restore script when its rollback left a stash) and records it in
// telemetry_schema_versions. Inside the caller's transaction.
Status ApplyPgMigration(PgConn& conn, const PgMigration& m, std::int64_t now_ms);

// Applies every migration not yet recorded, in one transaction, under an advisory lock so
// several processes opening one database at once migrate it once.
Status Migrate(PgConn& conn, std::int64_t now_ms);
std::string_view PgCurrentSchemaVersion();

// Appends the COPY text of an event's `search` column: its words (maximal runs of ASCII
// letters and digits, lowercased; other bytes separate words) as a tsvector literal, or \N (not
// indexed: always checked by the query) when the text is over 256 KiB or a word over 2046 bytes.
void AppendSearchVector(std::string& out, const std::optional<std::string>& prompt,
                        const std::optional<std::string>& stream_data);

// The advisory lock every write transaction takes first (pg_advisory_xact_lock): one writer at a
// time per database, across processes, as SQLite's BEGIN IMMEDIATE gives.
constexpr std::int64_t kWriterLockKey = 0x76696265'6b697400;  // "vibekit\0"

}  // namespace vibekit::store::postgres
