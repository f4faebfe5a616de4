// Crash safety: events acknowledged by FlushBuffers() survive kill -9, and whatever is on disk
// after a crash is consistent (integrity, foreign keys, session counters and the statistics
// rollup committed atomically with the events).
//
// The child (crash_child.cc, path in VIBEKIT_CRASH_CHILD) tracks a deterministic sequence of
// events and prints "ACK <n>" after each successful flush; we SIGKILL it after a varying number
// of ACKs, 100 times on the same database file, and check the file after each kill.
// The migration loop kills a process 100 times while it migrates an old database.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/sqlite/schema.h"
#include "store/sqlite/text_codec.h"
#include "vibekit/telemetry_service.h"

#include "testing/test_util.h"

#ifndef VIBEKIT_CRASH_CHILD
#error "VIBEKIT_CRASH_CHILD must name the crash child executable"
#endif

extern char** environ;

namespace vibekit {
namespace {

using testing::TempDir;
using Rows = std::vector<std::vector<std::string>>;

// --- the child's event sequence (mirrors crash_child.cc) ---

struct ExpectedEvent {
  std::string session_id;
  std::string type;
  std::string text;  // prompt for start, stream data for stream, "" for end
};

int StreamCount(long seed, long k) { return static_cast<int>(3 + (7 * k + seed) % 9); }

// The first `n` events the child tracks with `seed`.
std::vector<ExpectedEvent> ExpectedSequence(long seed, std::size_t n) {
  std::vector<ExpectedEvent> out;
  out.reserve(n);
  const std::string round = "r" + std::to_string(seed);
  for (long k = 0; out.size() < n; ++k) {
    const std::string sid = round + "-s" + std::to_string(k);
    const std::string tag = round + " s" + std::to_string(k);
    out.push_back({sid, "start", tag + " prompt"});
    for (int i = 0; i < StreamCount(seed, k); ++i) {
      out.push_back({sid, "stream", tag + " chunk " + std::to_string(i)});
    }
    out.push_back({sid, "end", ""});
  }
  out.resize(n);
  return out;
}

// --- direct SQLite access (read-write, so a crashed WAL is recovered like a real restart) ---

class Sql {
 public:
  explicit Sql(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db_);
    }
    sqlite3_busy_timeout(db_, 10000);
    // vk_text(), which rollback scripts that rebuild the in-file text index call.
    if (!store::sqlite::RegisterTextFunctions(db_).ok()) ADD_FAILURE() << "vk_text";
  }
  ~Sql() { sqlite3_close(db_); }
  Sql(const Sql&) = delete;
  Sql& operator=(const Sql&) = delete;

  Rows Query(const std::string& sql) {
    Rows rows;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "bad SQL " << sql << ": " << sqlite3_errmsg(db_);
      return rows;
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const auto* t = sqlite3_column_text(stmt, i);
        row.push_back(t != nullptr ? reinterpret_cast<const char*>(t) : "<null>");
      }
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) ADD_FAILURE() << "query failed " << sql << ": " << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    return rows;
  }

  // Runs a script of several statements.
  void Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      ADD_FAILURE() << "script failed: " << (err != nullptr ? err : "?") << "\n" << sql;
    }
    sqlite3_free(err);
  }

  std::int64_t Int(const std::string& sql) {
    Rows rows = Query(sql);
    if (rows.empty() || rows[0].empty()) return 0;
    return std::stoll(rows[0][0]);
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string Describe(const Rows& rows, std::size_t max = 5) {
  std::string out;
  for (std::size_t i = 0; i < rows.size() && i < max; ++i) {
    out += "\n  ";
    for (const std::string& c : rows[i]) out += c + " | ";
  }
  if (rows.size() > max) out += "\n  ... (" + std::to_string(rows.size()) + " rows)";
  return out;
}

// --- the child process ---

class ChildProcess {
 public:
  ChildProcess(const std::string& db_path, int seed)
      : ChildProcess({db_path, std::to_string(seed)}) {}

  explicit ChildProcess(std::vector<std::string> args) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2 failed";
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    std::string exe = VIBEKIT_CRASH_CHILD;
    std::vector<char*> argv = {exe.data()};
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, exe.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
      ADD_FAILURE() << "posix_spawn " << exe << " failed: " << rc;
      close(fds[0]);
      pid_ = -1;
      return;
    }
    fd_ = fds[0];
  }

  ~ChildProcess() {
    Kill();
    if (fd_ >= 0) close(fd_);
  }

  bool running() const { return pid_ > 0; }

  // The next line of the child's standard output; nullopt at end of file or after the deadline.
  std::optional<std::string> ReadLine(std::chrono::steady_clock::time_point deadline) {
    while (true) {
      const auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      if (fd_ < 0) return std::nullopt;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      const int ready = poll(&p, 1, static_cast<int>(left));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return std::nullopt;
      char chunk[4096];
      const ssize_t got = read(fd_, chunk, sizeof chunk);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {  // end of file: hand out a last unterminated line, if any
        close(fd_);
        fd_ = -1;
        if (buffer_.empty()) return std::nullopt;
        std::string rest = std::move(buffer_);
        buffer_.clear();
        return rest;
      }
      buffer_.append(chunk, static_cast<std::size_t>(got));
    }
  }

  // SIGKILL and reap; returns the wait status (or -1 when there was no child).
  int Kill() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
};

std::optional<long> ParseAck(const std::string& line) {
  if (line.rfind("ACK ", 0) != 0) return std::nullopt;
  try {
    return std::stol(line.substr(4));
  } catch (...) {
    return std::nullopt;
  }
}

TEST(CrashTest, AcknowledgedEventsSurviveKillNine) {
  TempDir dir;
  const std::string db_path = dir.File("crash.db");
  constexpr int kRounds = 100;
  const std::uint32_t seed = 20240611;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> acks_dist(1, 12);
  std::uniform_int_distribution<int> delay_us_dist(0, 20000);

  std::int64_t previous_total = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round) + " (rng seed " + std::to_string(seed) + ")");
    const int target_acks = acks_dist(rng);
    const int delay_us = delay_us_dist(rng);

    // 1. Run the child until it acknowledged `target_acks` flushes, then kill it mid-stream.
    long last_ack = 0;
    {
      ChildProcess child(db_path, round);
      ASSERT_TRUE(child.running());
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      int acks = 0;
      while (acks < target_acks) {
        std::optional<std::string> line = child.ReadLine(deadline);
        ASSERT_TRUE(line.has_value()) << "child stopped talking after " << acks << " of "
                                      << target_acks << " ACKs (exited or timed out)";
        std::optional<long> n = ParseAck(*line);
        ASSERT_TRUE(n.has_value()) << "unexpected output from the child: " << *line;
        ASSERT_GT(*n, last_ack) << "ACK counts must grow";
        last_ack = *n;
        ++acks;
      }
      // The child keeps tracking between ACKs: a short varying pause moves the kill around
      // within the stream (mid-buffer, mid-transaction, mid-flush).
      std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
      const int status = child.Kill();
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
          << "the child ended by itself before the kill (wait status " << status << ")";
      // ACKs printed just before the kill count too.
      const auto drain_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (std::optional<std::string> line = child.ReadLine(drain_deadline)) {
        std::optional<long> n = ParseAck(*line);
        ASSERT_TRUE(n.has_value()) << "unexpected output from the child: " << *line;
        ASSERT_GT(*n, last_ack);
        last_ack = *n;
      }
    }

    // 2. What is on disk must contain every acknowledged event and be consistent.
    Sql sql(db_path);
    const Rows integrity = sql.Query("PRAGMA integrity_check");
    ASSERT_FALSE(integrity.empty());
    EXPECT_EQ(integrity[0][0], "ok") << Describe(integrity);
    const Rows fk = sql.Query("PRAGMA foreign_key_check");
    EXPECT_TRUE(fk.empty()) << "foreign key violations:" << Describe(fk);
    Sql text(db_path + "-text");  // the text index, its own file (derived, may lag)
    const Rows fts = text.Query(
        "INSERT INTO telemetry_events_fts(telemetry_events_fts) VALUES('integrity-check')");
    EXPECT_TRUE(fts.empty());

    // This round's events, in commit order, are exactly a prefix of what the child tracked
    // (no gap, no duplicate, no reordering) at least as long as the last ACK.
    const std::string pattern = "r" + std::to_string(round) + "-s%";
    const Rows events = sql.Query(
        "SELECT session_id, event_type, coalesce(stream_data, prompt, '') FROM telemetry_events "
        "WHERE session_id LIKE '" +
        pattern + "' ORDER BY id");
    EXPECT_GE(static_cast<long>(events.size()), last_ack)
        << "acknowledged events were lost: " << events.size() << " on disk, " << last_ack
        << " acknowledged";
    const std::vector<ExpectedEvent> expected = ExpectedSequence(round, events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
      const ExpectedEvent& e = expected[i];
      if (events[i][0] != e.session_id || events[i][1] != e.type || events[i][2] != e.text) {
        ADD_FAILURE() << "event #" << i << " of the round is " << events[i][0] << " "
                      << events[i][1] << " \"" << events[i][2] << "\", expected " << e.session_id
                      << " " << e.type << " \"" << e.text << "\"";
        break;
      }
    }

    // Session counters were committed with their events.
    const Rows bad_sessions = sql.Query(
        "SELECT s.id, s.status, s.event_count, s.stream_event_count, "
        "  (SELECT count(*) FROM telemetry_events e WHERE e.session_id = s.id), "
        "  (SELECT count(*) FROM telemetry_events e WHERE e.session_id = s.id "
        "     AND e.event_type = 'stream') "
        "FROM telemetry_sessions s "
        "WHERE s.event_count <> (SELECT count(*) FROM telemetry_events e "
        "                        WHERE e.session_id = s.id) "
        "   OR s.stream_event_count <> (SELECT count(*) FROM telemetry_events e "
        "                               WHERE e.session_id = s.id AND e.event_type = 'stream') "
        "   OR s.status <> CASE WHEN EXISTS (SELECT 1 FROM telemetry_events e "
        "                                   WHERE e.session_id = s.id AND e.event_type = 'end') "
        "                       THEN 'completed' ELSE 'active' END");
    EXPECT_TRUE(bad_sessions.empty())
        << "sessions whose row disagrees with their events (id, status, event_count, "
           "stream_event_count, real events, real streams):"
        << Describe(bad_sessions);
    const Rows orphans = sql.Query(
        "SELECT count(*) FROM telemetry_events e "
        "WHERE NOT EXISTS (SELECT 1 FROM telemetry_sessions s WHERE s.id = e.session_id)");
    EXPECT_EQ(orphans[0][0], "0");

    // The rollup was committed with them too.
    const std::int64_t total = sql.Int("SELECT count(*) FROM telemetry_events");
    const Rows rollup = sql.Query(
        "SELECT total_events, start_events, stream_events, end_events, unique_sessions "
        "FROM telemetry_stats WHERE stat_type = 'global' AND stat_key = 'all'");
    ASSERT_EQ(rollup.size(), 1u);
    EXPECT_EQ(std::stoll(rollup[0][0]), total);
    EXPECT_EQ(std::stoll(rollup[0][1]),
              sql.Int("SELECT count(*) FROM telemetry_events WHERE event_type = 'start'"));
    EXPECT_EQ(std::stoll(rollup[0][2]),
              sql.Int("SELECT count(*) FROM telemetry_events WHERE event_type = 'stream'"));
    EXPECT_EQ(std::stoll(rollup[0][3]),
              sql.Int("SELECT count(*) FROM telemetry_events WHERE event_type = 'end'"));
    EXPECT_EQ(std::stoll(rollup[0][4]), sql.Int("SELECT count(*) FROM telemetry_sessions"));

    // Earlier rounds are untouched; the database keeps growing.
    EXPECT_GT(total, previous_total);
    EXPECT_GE(total, previous_total + last_ack);
    std::printf("round %2d: killed after %2d ACKs + %5d us; acknowledged %5ld, on disk %5zu\n",
                round, target_acks, delay_us, last_ack, events.size());
    previous_total = total;
    if (::testing::Test::HasFailure()) return;  // one broken round is enough to diagnose
  }

  // 3. After 100 crashes the database is still a working telemetry store.
  TelemetryService service(testing::TestConfig(db_path));
  ASSERT_OK(service.Initialize());
  auto stats = service.GetAggregateStats();
  ASSERT_OK(stats.status());
  EXPECT_EQ(stats->total.total_events, previous_total);
  TrackStartParams start;
  start.session_id = "after-the-crashes";
  start.agent_type = "crash-agent";
  ASSERT_OK(service.TrackStart(start));
  ASSERT_OK(service.FlushBuffers());
  EXPECT_EQ(testing::QueryInt(db_path, "SELECT count(*) FROM telemetry_events"),
            previous_total + 1);
}

// Kill -9 during migration, 100 times: a database made by schema 1.0.0 (a current one rolled
// back with the migrations' own rollback scripts) is opened by a child process, which migrates
// it to the current version, and killed at a random moment of that. Every time the file is
// intact, at exactly one of the two versions (the migrations commit as one transaction), with
// every event; and the next open finishes the migration with everything in place.
TEST(CrashTest, KillNineDuringMigrationLeavesTheOldOrTheNewSchemaWithEveryEvent) {
  TempDir dir;
  const std::string old_path = dir.File("old.db");
  constexpr int kSessions = 1500;
  {
    TelemetryService service(testing::TestConfig(old_path));
    ASSERT_OK(service.Initialize());
    std::vector<Event> batch;
    for (int k = 0; k < kSessions; ++k) {
      for (int i = 0; i < 10; ++i) {
        Event e;
        e.session_id = "m" + std::to_string(k);
        e.agent_type = k % 3 == 0 ? "claude" : "codex";
        e.event_type = i == 0 ? EventType::kStart : (i == 9 ? EventType::kEnd : EventType::kStream);
        e.stream_data = "migrating chunk " + std::to_string(k) + "/" + std::to_string(i);
        e.timestamp = 1764000000000 + k * 60000LL + i * 1000;
        batch.push_back(std::move(e));
      }
    }
    ASSERT_OK(service.InsertEventBatch(batch));
    ASSERT_OK(service.FlushBuffers(60000));
    ASSERT_OK(service.Shutdown());
  }
  const std::int64_t events = kSessions * 10;
  const std::string current(store::sqlite::CurrentSchemaVersion());
  {
    Sql sql(old_path);
    const auto& migrations = store::sqlite::Migrations();
    for (auto m = migrations.rbegin(); m != migrations.rend(); ++m) {
      if (m->version == "1.0.0") break;
      sql.Exec("BEGIN");
      sql.Exec(std::string(m->rollback_script));
      sql.Exec("DELETE FROM telemetry_schema_versions WHERE version = '" +
               std::string(m->version) + "'");
      sql.Exec("COMMIT");
    }
    sql.Query("PRAGMA wal_checkpoint(TRUNCATE)");
    ASSERT_EQ(sql.Int("SELECT count(*) FROM telemetry_schema_versions"), 1);
    ASSERT_EQ(sql.Int("SELECT count(*) FROM telemetry_events"), events);
  }
  const auto copy_old = [&](const std::string& to) {
    std::filesystem::remove(to + "-wal");
    std::filesystem::remove(to + "-shm");
    std::filesystem::copy_file(old_path, to, std::filesystem::copy_options::overwrite_existing);
  };

  // How long an uninterrupted migration takes here: the kills are spread over it.
  const std::string db_path = dir.File("migrating.db");
  copy_old(db_path);
  const auto t0 = std::chrono::steady_clock::now();
  {
    ChildProcess child(std::vector<std::string>{"--migrate", db_path});
    const auto line = child.ReadLine(t0 + std::chrono::seconds(120));
    ASSERT_TRUE(line.has_value() && *line == "MIGRATED") << line.value_or("(nothing)");
  }
  const auto full_us = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - t0)
                           .count();

  constexpr int kRounds = 100;
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::int64_t> delay_dist(0, full_us);
  int killed_before_done = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("migration round " + std::to_string(round));
    copy_old(db_path);
    bool finished = false;
    {
      ChildProcess child(std::vector<std::string>{"--migrate", db_path});
      std::this_thread::sleep_for(std::chrono::microseconds(delay_dist(rng)));
      const int status = child.Kill();
      const auto line = child.ReadLine(std::chrono::steady_clock::now());
      finished = !WIFSIGNALED(status) || (line && *line == "MIGRATED");
    }
    killed_before_done += finished ? 0 : 1;
    Sql sql(db_path);
    const Rows integrity = sql.Query("PRAGMA integrity_check");
    ASSERT_FALSE(integrity.empty());
    ASSERT_EQ(integrity[0][0], "ok") << Describe(integrity);
    EXPECT_TRUE(sql.Query("PRAGMA foreign_key_check").empty());
    const std::int64_t versions = sql.Int("SELECT count(*) FROM telemetry_schema_versions");
    const bool is_current = sql.Int("SELECT count(*) FROM telemetry_schema_versions WHERE "
                                    "version = '" + current + "'") == 1;
    if (is_current) {
      EXPECT_EQ(versions, static_cast<std::int64_t>(store::sqlite::Migrations().size()));
    } else {
      EXPECT_EQ(versions, 1) << "a migration was half applied";
    }
    if (finished) {
      EXPECT_TRUE(is_current);
    }
    ASSERT_EQ(sql.Int("SELECT count(*) FROM telemetry_events"), events);
    ASSERT_EQ(sql.Int("SELECT count(*) FROM telemetry_sessions"), kSessions);
    if (::testing::Test::HasFailure()) return;
  }
  std::printf("migration crash loop: %d of %d kills landed before the migration finished "
              "(an uninterrupted one takes %lld us)\n",
              killed_before_done, kRounds, static_cast<long long>(full_us));
  EXPECT_GE(killed_before_done, kRounds / 4) << "the kills did not hit the migration";

  // The last killed copy opens, migrates and answers like one that was never interrupted.
  TelemetryService service(testing::TestConfig(db_path));
  ASSERT_OK(service.Initialize());
  auto stats = service.GetAggregateStats();
  ASSERT_OK(stats.status());
  EXPECT_EQ(stats->total.total_events, events);
  EXPECT_EQ(stats->total.sessions, kSessions);
  EXPECT_EQ(testing::SearchIds(service, "chunk 77/3").size(), 1u);
}

}  // namespace
}  // namespace vibekit
