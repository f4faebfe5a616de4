// Migrating in a database made by the reference implementation (same table names; REAL
// millisecond timestamps; created_at in seconds from unixepoch() or a constant frozen when its
// first migration was generated; empty prompts on every event; no schema versions of ours).
#pragma once

#include <cstdint>

#include "store/sqlite/database.h"

namespace vibekit::store::sqlite {

// True when the file holds the reference's tables (telemetry_events.timestamp declared REAL and
// none of our versions recorded).
Result<bool> IsReferenceDatabase(Database& db);

// Inside the caller's transaction: moves the reference tables aside, creates our 1.0.0 tables
// and copies every row of sessions, events, errors, buffers, audit log and validation rules with
// the time units fixed (see reference_import.cc), then drops the old tables. The statistics are
// rebuilt by the caller once the later migrations ran (FinishReferenceImport).
Status ImportReferenceTables(Database& db, std::int64_t now_ms);
// After the migrations: session counters from the events, statistics rebuilt.
Status FinishReferenceImport(Database& db, std::int64_t now_ms);

}  // namespace vibekit::store::sqlite
