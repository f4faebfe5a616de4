#include "testing/test_util.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "testing/pg_cluster.h"

namespace vibekit::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/vibekit-test-XXXXXX";
  char* made = mkdtemp(tmpl.data());
  if (made == nullptr) ADD_FAILURE() << "mkdtemp failed";
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::int64_t WallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool WaitFor(const std::function<bool()>& condition, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

TelemetryConfig TestConfig(const std::string& db_path) {
  TelemetryConfig c;
  c.apply_environment = false;
  c.local_store.db_path = db_path;
  c.local_store.enqueue_timeout_ms = 5000;
  // A fixed metadata hash key: no install.key file written outside the test's directory (a
  // PostgreSQL database has none); tests of the install key clear it.
  c.privacy.hash_key = "vibekit-tests-hash-key-0123456789abcdef";
  return c;
}

namespace {

// PostgreSQL: the first column of the first row as text (nullopt for NULL or no row).
std::optional<std::string> PgQuery(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  std::optional<std::string> out;
  if (PQstatus(c) != CONNECTION_OK) {
    ADD_FAILURE() << "cannot connect to " << url << ": " << PQerrorMessage(c);
    PQfinish(c);
    return out;
  }
  PGresult* r = PQexec(c, sql.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    ADD_FAILURE() << "bad SQL " << sql << ": " << PQresultErrorMessage(r);
  } else if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
    out = PQgetvalue(r, 0, 0);
  }
  PQclear(r);
  PQfinish(c);
  return out;
}

template <typename Fn>
void WithQuery(const std::string& db_path, const std::string& sql, Fn&& fn) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db_path;
    sqlite3_close(db);
    return;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "bad SQL " << sql << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    return;
  }
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    fn(stmt);
  } else if (rc != SQLITE_DONE) {
    ADD_FAILURE() << "query failed " << sql << ": " << sqlite3_errmsg(db);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

}  // namespace

std::int64_t QueryInt(const std::string& db_path, const std::string& sql) {
  if (IsPgUrl(db_path)) {
    const auto v = PgQuery(db_path, sql);
    return v ? static_cast<std::int64_t>(std::strtod(v->c_str(), nullptr)) : 0;
  }
  std::int64_t out = 0;
  WithQuery(db_path, sql, [&](sqlite3_stmt* s) { out = sqlite3_column_int64(s, 0); });
  return out;
}

void ExecSql(const std::string& db_path, const std::string& sql) {
  if (IsPgUrl(db_path)) {
    PGconn* c = PQconnectdb(db_path.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
      ADD_FAILURE() << "cannot connect to " << db_path << ": " << PQerrorMessage(c);
    } else {
      PGresult* r = PQexec(c, sql.c_str());
      if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        ADD_FAILURE() << "SQL failed " << sql << ": " << PQresultErrorMessage(r);
      }
      PQclear(r);
    }
    PQfinish(c);
    return;
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db_path;
  } else {
    sqlite3_busy_timeout(db, 5000);
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      ADD_FAILURE() << "SQL failed " << sql << ": " << (err != nullptr ? err : "?");
    }
    sqlite3_free(err);
  }
  sqlite3_close(db);
}

std::int64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : 0;
}

std::vector<std::string> ThreadNames() {
  std::vector<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "comm");
    std::string name;
    if (std::getline(in, name)) names.push_back(name);
  }
  return names;
}

std::string QueryText(const std::string& db_path, const std::string& sql) {
  if (IsPgUrl(db_path)) return PgQuery(db_path, sql).value_or("");
  std::string out;
  WithQuery(db_path, sql, [&](sqlite3_stmt* s) {
    const auto* t = sqlite3_column_text(s, 0);
    if (t != nullptr) out = reinterpret_cast<const char*>(t);
  });
  return out;
}

}  // namespace vibekit::testing

namespace vibekit::testing {

std::string FreshDatabase(Backend backend, const TempDir& dir) {
  if (backend == Backend::kPostgres) return PgCluster::Get().NewDatabase();
  return dir.File("data/telemetry.db");
}

}  // namespace vibekit::testing
