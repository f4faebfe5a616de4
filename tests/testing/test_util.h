// Shared test helpers: status assertions, temporary directories, a fake clock, polling, and
// direct SQLite access for checking what really is on disk.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "vibekit/clock.h"
#include "vibekit/status.h"
#include "vibekit/telemetry_service.h"

#define EXPECT_OK(expr)                                          \
  do {                                                           \
    const ::vibekit::Status vk_st_ = (expr);                     \
    EXPECT_TRUE(vk_st_.ok()) << #expr << " -> " << vk_st_.ToString(); \
  } while (false)
#define ASSERT_OK(expr)                                          \
  do {                                                           \
    const ::vibekit::Status vk_st_ = (expr);                     \
    ASSERT_TRUE(vk_st_.ok()) << #expr << " -> " << vk_st_.ToString(); \
  } while (false)

namespace vibekit::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its content on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t now_ms) : now_(now_ms) {}
  std::int64_t NowMs() const noexcept override { return now_.load(); }
  void Set(std::int64_t ms) { now_.store(ms); }
  void Advance(std::int64_t ms) { now_.fetch_add(ms); }

 private:
  std::atomic<std::int64_t> now_;
};

std::int64_t WallNowMs();

// Polls `condition` every 10 ms until it holds or `timeout_ms` passes; returns whether it held.
bool WaitFor(const std::function<bool()>& condition, int timeout_ms = 10000);

// A config for tests: database in `dir`, environment not applied, small timeouts.
TelemetryConfig TestConfig(const std::string& db_path);

// Runs one SQL query on the database (a SQLite file, or a postgres:// URL) through a separate
// connection and returns the first column of
// the first row as int64 (0 when no row). Fails the test on an SQL error.
std::int64_t QueryInt(const std::string& db_path, const std::string& sql);

// Ids of every event whose text contains `text` (QueryEvents with `contains`), in query order,
// from anything with QueryEvents (the service, a store). Fails the test when the query fails.
template <typename Source>
std::vector<std::int64_t> SearchIds(Source& source, const std::string& text) {
  EventQueryFilter f;
  f.contains = text;
  f.limit = 100000;
  auto r = source.QueryEvents(f);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::int64_t> ids;
  if (r.ok()) {
    for (const Event& e : *r) ids.push_back(e.id);
  }
  return ids;
}
std::string QueryText(const std::string& db_path, const std::string& sql);
// Runs SQL statements (no result) on the database (a SQLite file, created if missing, with
// foreign keys off as a foreign tool would write; or a postgres:// URL) through a separate
// connection; triggers fire on both. Fails the test on an SQL error. The one definition: a second
// one in a test header once made the ASan build (no inlining) pick the wrong one.
void ExecSql(const std::string& db_path, const std::string& sql);

// The size of a file in bytes, 0 when it does not exist (a WAL after a checkpoint, a deleted file).
std::int64_t FileSize(const std::string& path);
// The names of this process's threads (/proc/self/task/*/comm).
std::vector<std::string> ThreadNames();

// The storage backends a parametrised suite runs on.
enum class Backend { kSqlite, kPostgres };
inline const char* BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "sqlite" : "postgres";
}
// A fresh database for one test: a file under `dir` (SQLite) or a new database in the
// process's PostgreSQL cluster (testing/pg_cluster.h).
std::string FreshDatabase(Backend backend, const TempDir& dir);

}  // namespace vibekit::testing
