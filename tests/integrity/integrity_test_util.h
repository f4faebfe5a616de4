// Helpers of the integrity tests: raw SQL on a file (foreign keys off, as a foreign tool would
// write), a content snapshot of tables, and a small populated database.
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

#include "testing/test_util.h"
#include "vibekit/data_integrity.h"
#include "vibekit/telemetry_service.h"

namespace vibekit::testing {

// Runs `sql` (any number of statements) on a separate read-write connection with foreign keys
// off. Fails the test on an SQL error.
inline void ExecSql(const std::string& db_path, const std::string& sql) {
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

// Every row of `table` in primary-key order, each column as text (blobs as hex), one line per
// row. Empty when the table does not exist.
inline std::string TableSnapshot(const std::string& db_path, const std::string& table) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "cannot open";
  }
  sqlite3_stmt* st = nullptr;
  const std::string sql = "SELECT * FROM \"" + table + "\" ORDER BY 1, 2, 3";
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
