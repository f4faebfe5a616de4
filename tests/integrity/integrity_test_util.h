// Helpers of the integrity tests, on either backend (a SQLite file or a postgres:// URL, see
// testing::FreshDatabase): raw SQL as a foreign tool would write it, a content snapshot of
// tables, questions about the schema, and a small populated database.
#pragma once

#include <libpq-fe.h>
#include <sqlite3.h>

#include <functional>
#include <string>
#include <vector>

#include "testing/pg_cluster.h"
#include "testing/test_util.h"
#include "vibekit/data_integrity.h"
#include "vibekit/telemetry_service.h"

namespace vibekit::testing {

namespace integrity_detail {

// Runs `sql` on a new PostgreSQL connection; `each` sees every result (the last statement's).
inline void PgExec(const std::string& url, const std::string& sql,
                   const std::function<void(PGresult*)>& each = nullptr) {
  PGconn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    ADD_FAILURE() << "cannot connect to " << url << ": " << PQerrorMessage(c);
    PQfinish(c);
    return;
  }
  PGresult* r = PQexec(c, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    ADD_FAILURE() << PQresultErrorMessage(r) << "\nin: " << sql.substr(0, 300);
  } else if (each) {
    each(r);
  }
  PQclear(r);
  PQfinish(c);
}

inline void SqliteExec(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            nullptr),
            SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg << "\nin: " << sql.substr(0, 300);
}

}  // namespace integrity_detail

// testing::ExecSql (test_util.h) with foreign keys bypassed on both backends, to leave dangling
// references behind (a crash-damaged write, a restore with constraints off): SQLite's
// connection has foreign keys off anyway; PostgreSQL's runs with session_replication_role =
// replica, which skips the constraint triggers (and every other trigger).
inline void ExecSqlBypassingForeignKeys(const std::string& db_path, const std::string& sql) {
  if (IsPgUrl(db_path)) {
    integrity_detail::PgExec(db_path, "SET session_replication_role = replica;\n" + sql);
  } else {
    integrity_detail::SqliteExec(db_path, sql);
  }
}

// Every row of `table` in the order of its first three columns, each column as text (SQLite
// blobs as hex, PostgreSQL in its text format), one line per row. Empty when the table does not
// exist.
inline std::string TableSnapshot(const std::string& db_path, const std::string& table) {
  std::string out;
  const std::string sql = "SELECT * FROM \"" + table + "\" ORDER BY 1, 2, 3";
  if (IsPgUrl(db_path)) {
    if (QueryInt(db_path, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
                          "AND tablename = '" + table + "'") == 0) {
      return "";
    }
    integrity_detail::PgExec(db_path, sql, [&](PGresult* r) {
      for (int i = 0; i < PQntuples(r); ++i) {
        for (int c = 0; c < PQnfields(r); ++c) {
          out += PQfname(r, c);
          out += '=';
          out += PQgetisnull(r, i, c) ? "NULL" : PQgetvalue(r, i, c);
          out += '|';
        }
        out += '\n';
      }
    });
    return out;
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "cannot open";
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "";
  }
  while (sqlite3_step(st) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(st); ++c) {
      out += sqlite3_column_name(st, c);
      out += '=';
      if (sqlite3_column_type(st, c) == SQLITE_BLOB) {
        const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(st, c));
        static const char* hex = "0123456789abcdef";
        for (int i = 0; i < sqlite3_column_bytes(st, c); ++i) {
          out += hex[p[i] >> 4];
          out += hex[p[i] & 15];
        }
      } else if (sqlite3_column_type(st, c) == SQLITE_NULL) {
        out += "NULL";
      } else {
        out += reinterpret_cast<const char*>(sqlite3_column_text(st, c));
      }
      out += '|';
    }
    out += '\n';
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// How many tables, indexes or triggers of the database's schema have a name LIKE `pattern`.
inline std::int64_t CountSchemaObjects(const std::string& db_path, const std::string& pattern) {
  if (IsPgUrl(db_path)) {
    return QueryInt(db_path,
                    "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = "
                    "c.relnamespace WHERE n.nspname = current_schema() AND c.relname LIKE '" +
                        pattern + "') + (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON "
                        "c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                        "n.nspname = current_schema() AND t.tgname LIKE '" + pattern + "')");
  }
  return QueryInt(db_path, "SELECT count(*) FROM sqlite_master WHERE name LIKE '" + pattern + "'");
}

// Whether `table` has a column `column`.
inline bool HasColumn(const std::string& db_path, const std::string& table,
                      const std::string& column) {
  if (IsPgUrl(db_path)) {
    return QueryInt(db_path, "SELECT count(*) FROM information_schema.columns WHERE "
                             "table_schema = current_schema() AND table_name = '" + table +
                                 "' AND column_name = '" + column + "'") > 0;
  }
  return QueryInt(db_path, "SELECT count(*) FROM pragma_table_info('" + table +
                               "') WHERE name = '" + column + "'") > 0;
}

// Holds the database's write lock on a connection of its own, as another writer (a running
// TelemetryService or `vibekit serve`) does during a batch: SQLite's BEGIN IMMEDIATE, or
// PgStore's transaction-scoped advisory lock (store/postgres/pg_schema.h kWriterLockKey) on
// PostgreSQL. Released by Release() or on destruction.
class WriterLockHolder {
 public:
  explicit WriterLockHolder(const std::string& db_path) {
    if (IsPgUrl(db_path)) {
      pg_ = PQconnectdb(db_path.c_str());
      EXPECT_EQ(PQstatus(pg_), CONNECTION_OK) << PQerrorMessage(pg_);
      Pg("BEGIN");
      Pg("SELECT pg_advisory_xact_lock(" + std::to_string(kPgWriterLockKey) + ")");
    } else {
      EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &lite_, SQLITE_OPEN_READWRITE, nullptr),
                SQLITE_OK);
      EXPECT_EQ(sqlite3_exec(lite_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    }
  }
  ~WriterLockHolder() { Release(); }
  WriterLockHolder(const WriterLockHolder&) = delete;
  WriterLockHolder& operator=(const WriterLockHolder&) = delete;

  // The value of store::postgres::kWriterLockKey ("vibekit\0"), checked equal by
  // validate_repair_test.cc (the e2e tests do not see the store's headers).
  static constexpr long long kPgWriterLockKey = 0x76696265'6b697400;

  void Release() {
    if (pg_ != nullptr) {
      Pg("COMMIT");
      PQfinish(pg_);
      pg_ = nullptr;
    }
    if (lite_ != nullptr) {
      sqlite3_exec(lite_, "COMMIT", nullptr, nullptr, nullptr);
      sqlite3_close(lite_);
      lite_ = nullptr;
    }
  }

 private:
  void Pg(const std::string& sql) {
    PGresult* r = PQexec(pg_, sql.c_str());
    EXPECT_TRUE(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
        << sql << ": " << PQresultErrorMessage(r);
    PQclear(r);
  }
  PGconn* pg_ = nullptr;
  sqlite3* lite_ = nullptr;
};

// The base of the integrity suites, parametrised over both backends (one suite, not a copy):
// INSTANTIATE_TEST_SUITE_P(Backends, Suite, testing::IntegrityBackends(), testing::BackendName).
class BackendTest : public ::testing::TestWithParam<Backend> {
 protected:
  // The test's database: a file under its directory or a new PostgreSQL schema, made on the
  // first call (empty until something opens it with TelemetryService).
  const std::string& Db() {
    if (db_.empty()) db_ = FreshDatabase(GetParam(), dir_);
    return db_;
  }
  bool IsPostgres() const { return GetParam() == Backend::kPostgres; }
  TempDir dir_;

 private:
  std::string db_;
};

inline auto IntegrityBackends() {
  return ::testing::Values(Backend::kSqlite, Backend::kPostgres);
}

// DataIntegrityService on `db_path` (a test failure, and null, when it cannot be opened).
inline std::unique_ptr<DataIntegrityService> OpenIntegrityService(const std::string& db_path) {
  auto r = DataIntegrityService::Open(TestConfig(db_path));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(*r) : nullptr;
}

// A database with finished, failed and open sessions (streams, errors, metadata) written through
// the service, so every table and rollup holds real rows.
inline void PopulateDatabase(const std::string& db_path, int sessions = 6) {
  TelemetryService s(TestConfig(db_path));
  ASSERT_OK(s.Initialize());
  const std::int64_t base = WallNowMs() - 3 * 3600 * 1000;
  for (int i = 0; i < sessions; ++i) {
    const std::string id = "sess-" + std::to_string(i);
    const std::string agent = i % 2 == 0 ? "claude" : "codex";
    TrackStartParams p{id, agent};
    p.timestamp = base + i * 600000;
    p.prompt = "fix the flaky test number " + std::to_string(i);
    ASSERT_OK(s.TrackStart(p));
    ASSERT_OK(s.FlushBuffers());  // the session exists before the rest: its end is an update
    for (int k = 0; k < 4; ++k) {
      TrackStreamParams sp{id, agent};
      sp.stream_data = "chunk " + std::to_string(k) + " of session " + std::to_string(i);
      sp.timestamp = p.timestamp + 1000 * (k + 1);
      ASSERT_OK(s.TrackStream(sp));
    }
    if (i % 3 == 1) {
      TrackErrorParams e;
      e.session_id = id;
      e.agent_type = agent;
      e.error = "tool failed";
      e.timestamp = p.timestamp + 6000;
      ASSERT_OK(s.TrackError(e));
    }
    if (i != sessions - 1) {
      TrackEndParams end{id, agent};
      end.timestamp = p.timestamp + 9000;
      ASSERT_OK(s.TrackEnd(end));
    }
  }
  ASSERT_OK(s.FlushBuffers());
  ASSERT_OK(s.Shutdown());
}

}  // namespace vibekit::testing
