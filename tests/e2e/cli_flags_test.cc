// The global flags of the real binary on every command they apply to: --quiet, --verbose,
// --no-color / NO_COLOR, tables cut to the terminal width, progress lines (only on a terminal,
// pty_runner.h), and write commands on a database another process holds locked
// (--busy-timeout / VIBEKIT_BUSY_TIMEOUT_MS). Every test that uses a database runs on both
// backends (a SQLite file, a PostgreSQL schema or database of the run's cluster), except the
// file-only `db init --verbose` lines (cli_db_test.cc has PostgreSQL's).
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "e2e/cli_runner.h"
#include "e2e/pty_runner.h"
#include "store/postgres/pg_schema.h"
#include "testing/pg_cluster.h"
#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"

namespace vibekit {
namespace {

namespace json = boost::json;
using testing::Backend;
using testing::QueryInt;
using testing::TempDir;
using testing::TestConfig;


constexpr std::string_view kEsc = "\x1b[";
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";

// Sessions s0..s{n-1} of agent "claude", each a start (a prompt of ~200 characters) and an end,
// one hour ago; plus session "old" with one start event at t=1000 ms (1970), which `telemetry
// cleanup --days 1` removes.
void MakeDb(const std::string& path, int sessions = 12) {
  TelemetryService s(TestConfig(path));
  ASSERT_OK(s.Initialize());
  const std::int64_t t = testing::WallNowMs() - 3600 * 1000;
  for (int i = 0; i < sessions; ++i) {
    const std::string id = "s" + std::to_string(i);
    TrackStartParams p{id, "claude"};
    p.prompt = "refactor the storage layer so that every module " + std::to_string(i) +
               " reads its configuration from one place and the tests cover the failure paths "
               "of the writer thread and of the import command with its long options";
    p.timestamp = t + i * 1000;
    ASSERT_OK(s.TrackStart(p));
    TrackEndParams e{id, "claude"};
    e.timestamp = t + i * 1000 + 500;
    ASSERT_OK(s.TrackEnd(e));
  }
  TrackStartParams old{"old", "claude"};
  old.timestamp = 1000;
  ASSERT_OK(s.TrackStart(old));
  ASSERT_OK(s.Shutdown());
}

// Two NDJSON events of session `sid`; with `bad_line`, a broken second line in between.
std::string WriteNdjson(const TempDir& dir, const std::string& name, const std::string& sid,
                        bool bad_line = false) {
  const std::string file = dir.File(name);
  const std::int64_t t = testing::WallNowMs() - 60 * 1000;
  std::ofstream out(file);
  out << R"({"sessionId":")" << sid << R"(","eventType":"start","agentType":"codex","timestamp":)"
      << t << "}\n";
  if (bad_line) out << "{not json\n";
  out << R"({"sessionId":")" << sid << R"(","eventType":"end","agentType":"codex","timestamp":)"
      << t + 10 << "}\n";
  return file;
}

std::int64_t Sessions(const std::string& db) {
  return QueryInt(db, "SELECT count(*) FROM telemetry_sessions");
}
std::int64_t Events(const std::string& db) {
  return QueryInt(db, "SELECT count(*) FROM telemetry_events");
}

bool HasEscape(const std::string& s) { return s.find(kEsc) != std::string::npos; }

// --- --quiet ------------------------------------------------------------------------------

// Commands that only report what they did print nothing at all with --quiet (and did it).
class CliQuiet : public CliBackendTest {};
VK_CLI_BACKENDS(CliQuiet);

TEST_P(CliQuiet, SilencesCommandsThatOnlyReport) {
  const TempDir& dir = dir_;
  const std::string& db = db_;
  MakeDb(db);
  const std::string at = Db();

  // Without --quiet each of them says something, so the empty output below means --quiet.
  CliRun loud = Vibekit("db init" + at);
  ASSERT_EQ(loud.code, 0) << loud.err;
  EXPECT_NE(loud.out.find("database ready"), std::string::npos) << loud.out;
  loud = Vibekit("db optimize" + at);
  ASSERT_EQ(loud.code, 0) << loud.err;
  EXPECT_NE(loud.out.find(pg() ? "analyze" : "fts_optimize"), std::string::npos) << loud.out;
  loud = Vibekit("db vacuum" + at);
  ASSERT_EQ(loud.code, 0) << loud.err;
  EXPECT_NE(loud.out.find("vacuum"), std::string::npos) << loud.out;

  const std::vector<std::string> commands = {"db init", "db init --migration", "db optimize",
                                             "db vacuum --analyze"};
  for (const std::string& c : commands) {
    for (const char* flag : {" --quiet", " -q"}) {
      CliRun r = Vibekit(c + at + flag);
      EXPECT_EQ(r.code, 0) << c << flag << ": " << r.err;
      EXPECT_EQ(r.out, "") << c << flag;
      EXPECT_EQ(r.err, "") << c << flag;
    }
  }

  CliRun cleanup = Vibekit("telemetry cleanup --days 1 --quiet" + at);
  EXPECT_EQ(cleanup.code, 0) << cleanup.err;
  EXPECT_EQ(cleanup.out, "");
  EXPECT_EQ(cleanup.err, "");
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_sessions WHERE id = 'old'"), 0)
      << "cleanup ran";

  const std::string file = WriteNdjson(dir, "in.ndjson", "imported");
  CliRun import = Vibekit("telemetry import " + file + " --quiet" + at);
  EXPECT_EQ(import.code, 0) << import.err;
  EXPECT_EQ(import.out, "");
  EXPECT_EQ(import.err, "");
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events WHERE session_id = 'imported'"), 2)
      << "import ran";
  CliRun loud_import = Vibekit("telemetry import " + WriteNdjson(dir, "b.ndjson", "b") + at);
  EXPECT_EQ(loud_import.code, 0) << loud_import.err;
  EXPECT_NE(loud_import.out.find("imported 2 events"), std::string::npos) << loud_import.out;

  CliRun clear = Vibekit("db clear --yes --quiet" + at);
  EXPECT_EQ(clear.code, 0) << clear.err;
  EXPECT_EQ(clear.out, "");
  EXPECT_EQ(clear.err, "");
  EXPECT_EQ(Sessions(db), 0) << "clear ran";
}

// --quiet is about chatter: errors still reach stderr (one line each) with exit code 1.
TEST_P(CliQuiet, StillReportsErrors) {
  MakeDb(db_, 1);
  const std::string file = WriteNdjson(dir_, "bad.ndjson", "x", /*bad_line=*/true);
  CliRun r = Vibekit("--quiet telemetry import " + file + Db());
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("line 2:"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  // A database that is not there: no file; no database of that name on the server.
  const std::string absent = pg() ? testing::PgCluster::Get().Url("vk_absent")
                                  : dir_.File("absent.db");
  CliRun missing = Vibekit("--quiet telemetry stats --db '" + absent + "'");
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
  EXPECT_NE(missing.err.find(pg() ? "cannot connect to PostgreSQL" : "vibekit db init"),
            std::string::npos) << missing.err;
}

// Commands whose output is the data print the same data with --quiet.
TEST_P(CliQuiet, KeepsTheDataOfQueryCommands) {
  MakeDb(db_);
  const std::string at = Db();
  const std::vector<std::string> commands = {
      "telemetry query --limit 5 --format json", "telemetry query --limit 5",
      "telemetry sessions --format csv", "telemetry stats --format json",
      "telemetry stats --breakdown agent --format ndjson", "telemetry tail -n 3 --format json",
      "db stats --format json", "db health --format json"};
  for (const std::string& c : commands) {
    CliRun plain = Vibekit(c + at);
    CliRun quiet = Vibekit(c + at + " --quiet");
    ASSERT_EQ(plain.code, 0) << c << ": " << plain.err;
    EXPECT_EQ(quiet.code, 0) << c << ": " << quiet.err;
    EXPECT_FALSE(quiet.out.empty()) << c;
    if (c.find("health") != std::string::npos || c.find("db stats") != std::string::npos) {
      // Timings and sizes may move between two runs; the keys may not.
      const json::object a = json::parse(plain.out).as_object();
      const json::object b = json::parse(quiet.out).as_object();
      ASSERT_EQ(a.size(), b.size()) << c;
      for (const auto& kv : a) EXPECT_TRUE(b.contains(kv.key())) << c << " " << kv.key();
    } else {
      EXPECT_EQ(quiet.out, plain.out) << c;
    }
  }
  const json::array rows =
      json::parse(Vibekit("-q telemetry query --limit 5 --format json" + at).out).as_array();
  EXPECT_EQ(rows.size(), 5u);
}

// --- --verbose ----------------------------------------------------------------------------

TEST(CliFlags, VerboseDbInitSaysWhatItCreatedAndTheMigrations) {
  TempDir dir;
  const std::string db = dir.File("sub/v.db");
  CliRun r = Vibekit("db init --verbose --db " + db);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("database ready: " + db, 0), 0u) << r.out;
  EXPECT_NE(r.out.find("  file: created\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  mode: 0600\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  size: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  migration 1.0.0 applied "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  migration 1.1.0 applied "), std::string::npos) << r.out;

  r = Vibekit("-v db init --db " + db);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("  file: existed, opened\n"), std::string::npos) << r.out;

  // Without --verbose: the one line only; --quiet wins over --verbose.
  r = Vibekit("db init --db " + db);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  r = Vibekit("db init --verbose --quiet --db " + db);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

// --- colour and width on a terminal -----------------------------------------------------------

// One database per backend, filled once for the suite.
class CliTerminalTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    const std::string& db = SuiteDatabase("CliTerminalTest", GetParam(), [](const std::string& d) {
      MakeDb(d);
    });
    at_ = " --db '" + db + "' ";
  }
  std::string at_;  // the --db flag, quoted
};
VK_CLI_BACKENDS(CliTerminalTest);

TEST_P(CliTerminalTest, TablesAreColouredOnATerminalOnly) {
  const std::string cmd = "telemetry sessions" + at_;
  PtyOptions wide;  // wide enough for whole status cells
  wide.columns = 120;
  PtyRun tty = VibekitOnPty(cmd, wide);
  ASSERT_EQ(tty.code, 0) << tty.output;
  EXPECT_TRUE(HasEscape(tty.output)) << tty.output;
  EXPECT_NE(tty.output.find("\x1b[1m"), std::string::npos) << "bold header";
  EXPECT_NE(tty.output.find("\x1b[32mcompleted"), std::string::npos) << "green status";

  PtyRun flag = VibekitOnPty(cmd + " --no-color", wide);
  ASSERT_EQ(flag.code, 0) << flag.output;
  EXPECT_FALSE(HasEscape(flag.output)) << flag.output;
  EXPECT_NE(flag.output.find("completed"), std::string::npos) << flag.output;

  PtyOptions no_color = wide;
  no_color.env = {"NO_COLOR=1"};
  PtyRun env = VibekitOnPty(cmd, no_color);
  ASSERT_EQ(env.code, 0) << env.output;
  EXPECT_FALSE(HasEscape(env.output)) << env.output;
  EXPECT_NE(env.output.find("completed"), std::string::npos) << env.output;
  no_color.env = {"NO_COLOR="};  // set but empty does not count (no-color.org)
  EXPECT_TRUE(HasEscape(VibekitOnPty(cmd, no_color).output));

  CliRun pipe = Vibekit(cmd);
  ASSERT_EQ(pipe.code, 0) << pipe.err;
  EXPECT_FALSE(HasEscape(pipe.out)) << pipe.out;
  EXPECT_NE(pipe.out.find("completed"), std::string::npos) << pipe.out;
}

TEST_P(CliTerminalTest, TablesFitTheTerminalWidthAndElideLongText) {
  for (const std::string cmd : {"telemetry query", "telemetry sessions", "telemetry tail -n 5",
                                 "db stats", "telemetry stats --breakdown agent,status"}) {
    for (const int columns : {60, 100}) {
      PtyOptions o;
      o.columns = columns;
      PtyRun r = VibekitOnPty(cmd + at_, o);
      ASSERT_EQ(r.code, 0) << cmd << ": " << r.output;
      const std::vector<std::string> lines = TerminalLines(r.output);
      ASSERT_GE(lines.size(), 2u) << cmd;
      for (const std::string& line : lines) {
        EXPECT_LE(DisplayColumns(line), columns) << cmd << " at " << columns << ": " << line;
      }
    }
  }
  // The prompts (~200 characters) do not fit in 60 columns: cut, ending in "…".
  PtyRun q = VibekitOnPty("telemetry query --event-type start" + at_);
  ASSERT_EQ(q.code, 0) << q.output;
  int elided = 0;
  for (const std::string& line : TerminalLines(q.output)) {
    if (line.find("refactor") == std::string::npos) continue;
    const auto at = line.find(kEllipsis);
    ASSERT_NE(at, std::string::npos) << line;
    EXPECT_EQ(line.find("failure paths"), std::string::npos) << "the tail was cut: " << line;
    ++elided;
  }
  EXPECT_EQ(elided, 12) << q.output;

  // Through a pipe nothing is cut: the whole prompt, no ellipsis.
  CliRun pipe = Vibekit("telemetry query --event-type start" + at_);
  ASSERT_EQ(pipe.code, 0) << pipe.err;
  EXPECT_EQ(pipe.out.find(kEllipsis), std::string::npos);
  EXPECT_NE(pipe.out.find("with its long options"), std::string::npos) << pipe.out;
}

// --- progress ------------------------------------------------------------------------------

// With VIBEKIT_PROGRESS_AFTER_MS=0 the progress line appears at once on a terminal; never
// through a pipe, never with --quiet, and not before the delay.
class CliProgress : public CliBackendTest {};
VK_CLI_BACKENDS(CliProgress);

TEST_P(CliProgress, LongCommandsShowProgressOnATerminalOnly) {
  MakeDb(db_);
  const std::string file = WriteNdjson(dir_, "in.ndjson", "imported");
  struct Case {
    std::string command;
    std::string label;
  };
  const std::vector<Case> cases = {
      {"db vacuum", "vacuuming"},
      {"db optimize", "optimizing"},
      {"telemetry cleanup --days 1", "cleaning up"},
      {"telemetry import " + file, "importing"},
      {"db clear --yes", "clearing"},
  };
  PtyOptions now;
  now.env = {"VIBEKIT_PROGRESS_AFTER_MS=0"};
  PtyOptions later;
  later.env = {"VIBEKIT_PROGRESS_AFTER_MS=60000"};
  for (const Case& c : cases) {
    const std::string cmd = c.command + Db();
    PtyRun tty = VibekitOnPty(cmd, now);
    ASSERT_EQ(tty.code, 0) << cmd << ": " << tty.output;
    const auto at = tty.output.find("\r" + c.label + " ");
    ASSERT_NE(at, std::string::npos) << cmd << ": " << tty.output;
    // Drawn in place and cleared again before the result is printed.
    EXPECT_NE(tty.output.find("\r\x1b[K", at), std::string::npos) << cmd;
    if (c.label == "importing") {
      EXPECT_NE(tty.output.find("/s", at), std::string::npos) << "a rate: " << tty.output;
    } else {
      // Work of unknown size: spinner, elapsed time, file sizes (PostgreSQL: no files of ours
      // to watch); no percentage.
      const std::string line = tty.output.substr(at + 1, tty.output.find('\x1b', at) - at - 1);
      if (pg()) {
        EXPECT_EQ(line, c.label + "  |  0:00") << line;
      } else {
        EXPECT_NE(line.find("  |  0:00  database "), std::string::npos) << line;
        EXPECT_NE(line.find(", WAL "), std::string::npos) << line;
      }
      EXPECT_EQ(line.find('%'), std::string::npos) << line;
    }

    PtyRun quiet = VibekitOnPty(cmd + " --quiet", now);
    ASSERT_EQ(quiet.code, 0) << cmd << ": " << quiet.output;
    EXPECT_EQ(quiet.output.find(c.label), std::string::npos) << cmd << ": " << quiet.output;
    EXPECT_EQ(quiet.output, "") << cmd;

    PtyRun slow = VibekitOnPty(cmd, later);
    ASSERT_EQ(slow.code, 0) << cmd << ": " << slow.output;
    EXPECT_EQ(slow.output.find(c.label + "  "), std::string::npos) << cmd << ": " << slow.output;

    // Through pipes (stdout a pipe, stderr a file): no progress, no escape codes.
    CliRun piped = Vibekit(cmd);
    ASSERT_EQ(piped.code, 0) << cmd << ": " << piped.err;
    EXPECT_EQ(piped.err, "") << cmd;
    EXPECT_FALSE(HasEscape(piped.out)) << cmd;
  }
}

// --- a database locked by another process ------------------------------------------------------

// Holds the write lock of `db` on its own connection, as another writer would: SQLite's
// BEGIN IMMEDIATE; PostgreSQL's writer lock (the advisory lock every write transaction of
// PgStore takes, store/postgres/pg_schema.h) in an open transaction.
class WriteLock {
 public:
  explicit WriteLock(const std::string& db) {
    if (testing::IsPgUrl(db)) {
      pg_ = PQconnectdb(db.c_str());
      EXPECT_EQ(PQstatus(pg_), CONNECTION_OK) << PQerrorMessage(pg_);
      const std::string sql = "BEGIN; SELECT pg_advisory_xact_lock(" +
                              std::to_string(store::postgres::kWriterLockKey) + ")";
      PGresult* r = PQexec(pg_, sql.c_str());
      EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r);
      PQclear(r);
      return;
    }
    EXPECT_EQ(sqlite3_open(db.c_str(), &db_), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  ~WriteLock() { Release(); }
  void Release() {
    if (pg_ != nullptr) {
      PQclear(PQexec(pg_, "ROLLBACK"));
      PQfinish(pg_);
      pg_ = nullptr;
    }
    if (db_ == nullptr) return;
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }

 private:
  sqlite3* db_ = nullptr;
  PGconn* pg_ = nullptr;
};

// PostgreSQL: a whole database of its own (advisory locks are per database: holding the writer
// lock in the shared test database would stall every other test's writes).
class CliLocked : public CliBackendTest {
 protected:
  CliLocked() {
    if (pg()) db_ = testing::PgCluster::Get().NewWholeDatabase();
  }
};
VK_CLI_BACKENDS(CliLocked);

TEST_P(CliLocked, WriteCommandsFailFastWithOneLineAndWriteNothing) {
  const TempDir& dir = dir_;
  const std::string& db = db_;
  MakeDb(db);
  const std::int64_t sessions = Sessions(db);
  const std::int64_t events = Events(db);
  const std::string file = WriteNdjson(dir, "in.ndjson", "imported");
  // PostgreSQL's VACUUM and ANALYZE/REINDEX do not wait for the writer lock (they run beside the
  // writers), so there only the writing commands are refused.
  std::vector<std::string> commands = {"telemetry cleanup --days 1", "db clear --yes",
                                       "telemetry import " + file};
  if (!pg()) {
    commands.push_back("db vacuum");
    commands.push_back("db optimize");
  }
  {
    WriteLock lock(db);
    for (const std::string& c : commands) {
      const auto t0 = std::chrono::steady_clock::now();
      CliRun r = Vibekit(c + " --busy-timeout 200" + Db());
      const double s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      EXPECT_EQ(r.code, 1) << c;
      EXPECT_EQ(r.out, "") << c;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c << ": " << r.err;
      EXPECT_EQ(r.err.rfind("vibekit: ", 0), 0u) << r.err;
      EXPECT_NE(r.err.find("is locked by another process"), std::string::npos) << c << ": " << r.err;
      EXPECT_NE(r.err.find("busy timeout 200 ms"), std::string::npos) << c << ": " << r.err;
      EXPECT_NE(r.err.find("retry when that process is done"), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("--busy-timeout"), std::string::npos) << r.err;
      EXPECT_LT(s, 5.0) << c << " waited for the default busy timeout or longer";
    }
    if (pg()) {
      for (const char* c : {"db vacuum", "db optimize"}) {
        CliRun r = Vibekit(std::string(c) + " --busy-timeout 200" + Db());
        EXPECT_EQ(r.code, 0) << c << ": " << r.err;
      }
    }
    const auto t0 = std::chrono::steady_clock::now();
    CliRun r = Vibekit(Db() + " db clear --yes");  // default: 5000 ms
    const double waited =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("busy timeout 5000 ms"), std::string::npos) << r.err;
    EXPECT_GE(waited, 4.5) << "the default busy timeout is 5 s";
  }
  // Nothing was written while the lock was held.
  EXPECT_EQ(Sessions(db), sessions);
  EXPECT_EQ(Events(db), events);

  // Once the other writer is done the same commands succeed.
  CliRun cleanup = Vibekit("telemetry cleanup --days 1 --format json --busy-timeout 200" + Db());
  ASSERT_EQ(cleanup.code, 0) << cleanup.err;
  EXPECT_EQ(json::parse(cleanup.out).as_object().at("sessionsRemoved").as_int64(), 1);
  CliRun import = Vibekit("telemetry import " + file + " --busy-timeout 200" + Db());
  ASSERT_EQ(import.code, 0) << import.err;
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events WHERE session_id = 'imported'"), 2);
  for (const char* c : {"db vacuum", "db optimize", "db clear --yes"}) {
    CliRun r = Vibekit(std::string(c) + " --busy-timeout 200" + Db());
    EXPECT_EQ(r.code, 0) << c << ": " << r.err;
  }
  EXPECT_EQ(Sessions(db), 0);
}

TEST_P(CliLocked, BusyTimeoutFromTheEnvironment) {
  const std::string& db = db_;
  MakeDb(db, 1);
  WriteLock lock(db);
  const auto t0 = std::chrono::steady_clock::now();
  CliRun r = Vibekit(Db() + " telemetry cleanup --days 1", "/dev/null",
                     {"VIBEKIT_BUSY_TIMEOUT_MS=300"});
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("busy timeout 300 ms"), std::string::npos) << r.err;
  EXPECT_LT(s, 4.0);
  // The flag wins over the environment.
  r = Vibekit(Db() + " --busy-timeout 100 telemetry cleanup --days 1", "/dev/null",
              {"VIBEKIT_BUSY_TIMEOUT_MS=300"});
  EXPECT_NE(r.err.find("busy timeout 100 ms"), std::string::npos) << r.err;
  // Not a number: a usage error.
  r = Vibekit(Db() + " --busy-timeout soon telemetry cleanup --days 1");
  EXPECT_EQ(r.code, 2) << r.err;
  lock.Release();
  r = Vibekit(Db() + " telemetry cleanup --days 1", "/dev/null",
              {"VIBEKIT_BUSY_TIMEOUT_MS=300"});
  EXPECT_EQ(r.code, 0) << r.err;
}

}  // namespace
}  // namespace vibekit
