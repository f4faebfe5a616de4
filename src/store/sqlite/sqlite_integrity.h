// SQLite side of DataIntegrityService (store/integrity_backend.h): its own read-write connection
// to the file (writes wait for the write lock up to the configured busy timeout).
#pragma once

#include <memory>

#include "store/integrity_backend.h"

namespace vibekit::store::sqlite {

// Opens the file of `config.db_path` (kNotFound when missing, kCorruption when not a database).
Result<std::unique_ptr<IntegrityBackend>> OpenSqliteIntegrity(const LocalStoreConfig& config);

}  // namespace vibekit::store::sqlite
