#include "store/integrity_backend.h"

#include <cctype>

#include "store/postgres/pg_integrity.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_integrity.h"

namespace vibekit::store {

Result<std::unique_ptr<IntegrityBackend>> OpenIntegrityBackend(const LocalStoreConfig& config) {
  if (postgres::IsPostgresUrl(config.db_path)) return postgres::OpenPgIntegrity(config);
  return sqlite::OpenSqliteIntegrity(config);
}

std::string TransactionControlKeyword(std::string_view sql) {
  std::size_t i = 0;
  while (i < sql.size()) {
    if (std::isspace(static_cast<unsigned char>(sql[i])) != 0 || sql[i] == ';') {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      const std::size_t nl = sql.find('\n', i);
      i = nl == std::string_view::npos ? sql.size() : nl + 1;
    } else if (sql.substr(i, 2) == "/*") {
      const std::size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      break;
    }
  }
  std::string word;
  while (i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i])) != 0) {
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i])));
    ++i;
  }
  for (const char* banned : {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT",
                             "RELEASE", "PREPARE", "ATTACH", "DETACH", "VACUUM"}) {
    if (word == banned) return word;
  }
  return "";
}

Status TransactionControlError(std::string_view keyword) {
  return Status::InvalidArgument("a schema script must not contain " + std::string(keyword) +
                                 ": each version is applied in one transaction");
}

}  // namespace vibekit::store
