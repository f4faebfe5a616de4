// Faults around the database file (issue 7, resilience): a file system that fills up, a second
// process holding the write lock (then killed), a truncated file, a read-only file, the file
// deleted under a running process. In each: a clear error, accepted events kept in memory within
// the configured bounds and retried, nothing acknowledged (FlushBuffers OK) lost, no crash, and
// `PRAGMA integrity_check` ok afterwards. The crash loops (kill -9 during ingest and during
// migration) are in crash_test.cc.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "vibekit/telemetry_service.h"

#include "testing/test_util.h"

namespace vibekit {
namespace {

namespace fs = std::filesystem;
using testing::QueryInt;
using testing::FileSize;
using testing::QueryText;
using testing::TempDir;

TrackStreamParams Stream(const std::string& sid, int i, std::size_t bytes = 64) {
  TrackStreamParams s;
  s.session_id = sid;
  s.agent_type = "fault-agent";
  std::string text = sid + " chunk " + std::to_string(i) + " ";
  text.resize(std::max(text.size(), bytes), 'x');
  s.stream_data = std::move(text);
  return s;
}

void Start(TelemetryService& service, const std::string& sid) {
  TrackStartParams start;
  start.session_id = sid;
  start.agent_type = "fault-agent";
  start.prompt = "prompt of " + sid;
  ASSERT_OK(service.TrackStart(start));
}

void ExpectIntact(const std::string& db_path) {
  EXPECT_EQ(QueryText(db_path, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
}

// Restores RLIMIT_FSIZE and SIGXFSZ's disposition when the test ends, however it ends.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGXFSZ, &ignore, &old_action_);  // writes past the limit fail with EFBIG instead
    getrlimit(RLIMIT_FSIZE, &old_);
    rlimit low = old_;
    low.rlim_cur = bytes;
    ok_ = setrlimit(RLIMIT_FSIZE, &low) == 0;
  }
  ~FileSizeLimit() { Lift(); }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;
  bool ok() const { return ok_; }
  void Lift() {
    if (lifted_) return;
    setrlimit(RLIMIT_FSIZE, &old_);
    sigaction(SIGXFSZ, &old_action_, nullptr);
    lifted_ = true;
  }

 private:
  rlimit old_{};
  struct sigaction old_action_ {};
  bool ok_ = false;
  bool lifted_ = false;
};

// The file system fills up (RLIMIT_FSIZE: every file of the process may not grow past a few KB
// more than the database has now). Writes fail; FlushBuffers says why instead of OK; Track*
// calls keep being accepted until the memory bound, then answer kBusy; nothing is dropped. When
// space returns, everything accepted arrives exactly once.
TEST(Faults, FullDiskIsReportedEventsWaitInMemoryAndArriveWhenSpaceReturns) {
  TempDir dir;
  const std::string db_path = dir.File("full.db");
  TelemetryConfig config = testing::TestConfig(db_path);
  config.local_store.max_pending_events = 3000;
  config.local_store.enqueue_timeout_ms = 50;
  config.local_store.stream_batch_size = 16;
  TelemetryService service(config);
  ASSERT_OK(service.Initialize());
  Start(service, "before");
  for (int i = 0; i < 50; ++i) ASSERT_OK(service.TrackStream(Stream("before", i)));
  ASSERT_OK(service.FlushBuffers());
  const std::int64_t before = QueryInt(db_path, "SELECT count(*) FROM telemetry_events");
  ASSERT_EQ(before, 51);

  const std::int64_t biggest =
      std::max({FileSize(db_path), FileSize(db_path + "-wal"), FileSize(db_path + "-shm")});
  FileSizeLimit limit(static_cast<rlim_t>(biggest + 8192));
  ASSERT_TRUE(limit.ok());

  Start(service, "during");
  std::int64_t accepted = 1;  // the start
  Status refused;
  Status flushed;
  for (int i = 0; i < 20000; ++i) {
    const Status st = service.TrackStream(Stream("during", i, 1024));
    if (!st.ok()) {
      refused = st;
      break;
    }
    ++accepted;
    if (i % 200 == 199 && flushed.ok()) flushed = service.FlushBuffers(2000);
  }
  // Writes failed and were reported, not acknowledged.
  if (flushed.ok()) flushed = service.FlushBuffers(2000);
  EXPECT_FALSE(flushed.ok()) << "FlushBuffers acknowledged events the disk could not hold";
  EXPECT_NE(flushed.code(), StatusCode::kInvalidArgument) << flushed.ToString();
  EXPECT_FALSE(flushed.message().empty());
  // Memory stayed bounded: once the queue was full, callers were told (kBusy), not buffered.
  EXPECT_EQ(refused.code(), StatusCode::kBusy) << refused.ToString();
  EXPECT_LE(accepted, config.local_store.max_pending_events + 1);
  EXPECT_GE(service.GetPerformanceMetrics().failed_flushes, 1);
  auto health = service.HealthCheck();
  ASSERT_OK(health.status());
  EXPECT_FALSE(health->last_write_error.empty());
  EXPECT_GT(health->queued_events + health->buffered_events, 0);

  // Space returns: the writer's retry commits everything that was accepted, exactly once.
  limit.Lift();
  ASSERT_OK(service.FlushBuffers(30000));
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_events"), before + accepted);
  EXPECT_EQ(QueryInt(db_path, "SELECT count(DISTINCT stream_data) FROM telemetry_events "
                              "WHERE session_id = 'during' AND event_type = 'stream'"),
            accepted - 1);
  auto session = service.GetSession("during");
  ASSERT_OK(session.status());
  EXPECT_EQ(session->event_count, accepted);
  ASSERT_OK(service.Shutdown());
  ExpectIntact(db_path);
}

// Another process (the sqlite3 shell) holds the write lock with BEGIN IMMEDIATE, then is killed
// with SIGKILL. Meanwhile events queue (FlushBuffers says busy); after the kill they arrive.
TEST(Faults, SecondProcessHoldingTheWriteLockDelaysButLosesNothing) {
  TempDir dir;
  const std::string db_path = dir.File("locked.db");
  TelemetryConfig config = testing::TestConfig(db_path);
  config.local_store.busy_timeout_ms = 100;
  TelemetryService service(config);
  ASSERT_OK(service.Initialize());
  Start(service, "s");
  ASSERT_OK(service.FlushBuffers());

  int to_child[2];
  int from_child[2];
  ASSERT_EQ(pipe(to_child), 0);
  ASSERT_EQ(pipe(from_child), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(to_child[0], STDIN_FILENO);
    dup2(from_child[1], STDOUT_FILENO);
    close(to_child[1]);
    close(from_child[0]);
    execlp("sqlite3", "sqlite3", db_path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  const std::string script = "BEGIN IMMEDIATE;\nSELECT 'holding';\n";
  ASSERT_EQ(write(to_child[1], script.data(), script.size()),
            static_cast<ssize_t>(script.size()));
  std::string said;
  char buf[64];
  while (said.find("holding") == std::string::npos) {
    const ssize_t n = read(from_child[0], buf, sizeof buf);
    ASSERT_GT(n, 0) << "the sqlite3 shell did not take the lock: " << said;
    said.append(buf, static_cast<std::size_t>(n));
  }

  for (int i = 0; i < 300; ++i) ASSERT_OK(service.TrackStream(Stream("s", i)));
  const Status blocked = service.FlushBuffers(500);
  EXPECT_FALSE(blocked.ok());
  EXPECT_TRUE(blocked.code() == StatusCode::kBusy ||
              blocked.code() == StatusCode::kDeadlineExceeded)
      << blocked.ToString();

  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  close(to_child[1]);
  close(from_child[0]);

  ASSERT_OK(service.FlushBuffers(30000));
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_events"), 301);
  ASSERT_OK(service.Shutdown());
  ExpectIntact(db_path);
}

// A database file cut in half (a copy interrupted, a bad disk): opening it is a clear error
// naming the file, not a crash, and the file is left as it was for the user to inspect.
TEST(Faults, TruncatedDatabaseIsAClearErrorAndIsLeftUntouched) {
  TempDir dir;
  const std::string db_path = dir.File("cut.db");
  {
    TelemetryService service(testing::TestConfig(db_path));
    ASSERT_OK(service.Initialize());
    Start(service, "s");
    for (int i = 0; i < 2000; ++i) ASSERT_OK(service.TrackStream(Stream("s", i, 512)));
    ASSERT_OK(service.Shutdown());  // checkpoints: everything is in the main file
  }
  fs::remove(db_path + "-wal");
  fs::remove(db_path + "-shm");
  const std::int64_t full = FileSize(db_path);
  ASSERT_GT(full, 100000);
  fs::resize_file(db_path, static_cast<std::uintmax_t>(full / 2));
  std::ifstream in(db_path, std::ios::binary);
  const std::string cut((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  TelemetryService service(testing::TestConfig(db_path));
  Status st = service.Initialize();
  if (st.ok()) {
    // SQLite opens a file whose first pages are fine; the damage shows on the first full read.
    auto report = service.HealthCheck({.quick_check = false});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_FALSE(report->database);
    EXPECT_NE(report->quick_check, "ok");
    (void)service.Shutdown();
  } else {
    EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
    EXPECT_NE(st.message().find("cut.db"), std::string::npos) << st.ToString();
  }
  std::ifstream again(db_path, std::ios::binary);
  const std::string after((std::istreambuf_iterator<char>(again)),
                          std::istreambuf_iterator<char>());
  EXPECT_EQ(after.size(), cut.size());
  EXPECT_TRUE(after == cut) << "the damaged file was modified";
}

// A read-only database file (chmod 0444, directory not writable, opened by an unprivileged
// user: root ignores file modes). Initialize fails with a clear error; nothing is accepted
// silently. Runs in a child process that drops to the "nobody" user.
TEST(Faults, ReadOnlyDatabaseIsAClearErrorForAnUnprivilegedUser) {
  TempDir dir;
  const std::string ro_dir = dir.File("ro");
  fs::create_directory(ro_dir);
  const std::string db_path = ro_dir + "/ro.db";
  {
    TelemetryService service(testing::TestConfig(db_path));
    ASSERT_OK(service.Initialize());
    Start(service, "s");
    ASSERT_OK(service.Shutdown());
  }
  fs::remove(db_path + "-wal");
  fs::remove(db_path + "-shm");
  ASSERT_EQ(chmod(db_path.c_str(), 0444), 0);
  ASSERT_EQ(chmod(ro_dir.c_str(), 0555), 0);
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);

  int out[2];
  ASSERT_EQ(pipe(out), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(out[0]);
    auto say = [&](const std::string& s) {
      (void)!write(out[1], s.data(), s.size());
      _exit(0);
    };
    if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) say("SETUID-FAILED");
    TelemetryService service(testing::TestConfig(db_path));
    const Status st = service.Initialize();
    if (st.ok()) {
      TrackStartParams start;
      start.session_id = "late";
      start.agent_type = "fault-agent";
      const Status tracked = service.TrackStart(start);
      const Status flushed = service.FlushBuffers(2000);
      say("OPENED track=" + tracked.ToString() + " flush=" + flushed.ToString());
    }
    say("ERROR " + std::to_string(static_cast<int>(st.code())) + " " + st.ToString());
  }
  close(out[1]);
  std::string said;
  char buf[512];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) said.append(buf, static_cast<std::size_t>(n));
  close(out[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child ended badly: " << said;
  ASSERT_EQ(said.rfind("ERROR ", 0), 0u) << "a read-only database was opened for writing: "
                                         << said;
  EXPECT_NE(said.find("read-only"), std::string::npos) << said;
  EXPECT_NE(said.find("ro.db"), std::string::npos) << said;
  chmod(ro_dir.c_str(), 0755);
  chmod(db_path.c_str(), 0644);
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_events"), 1);
}

// The database file is deleted (rm, a cleanup script) while the service runs. SQLite would go
// on writing into the unlinked file, and everything "committed" after that would vanish at
// exit. The store notices before each commit: nothing is acknowledged into the deleted file;
// FlushBuffers names the problem; the events stay queued; a new database is created at the path
// and they are written there.
TEST(Faults, DatabaseDeletedUnderARunningServiceIsRecreatedAndNothingAcknowledgedIsLost) {
  TempDir dir;
  const std::string db_path = dir.File("gone.db");
  TelemetryConfig config = testing::TestConfig(db_path);
  TelemetryService service(config);
  ASSERT_OK(service.Initialize());
  Start(service, "s");
  for (int i = 0; i < 10; ++i) ASSERT_OK(service.TrackStream(Stream("s", i)));
  ASSERT_OK(service.FlushBuffers());

  fs::remove(db_path);
  fs::remove(db_path + "-wal");
  fs::remove(db_path + "-shm");
  for (int i = 10; i < 30; ++i) ASSERT_OK(service.TrackStream(Stream("s", i)));
  ASSERT_OK(service.FlushBuffers(30000));
  // Acknowledged means on the disk at the path the user configured.
  ASSERT_TRUE(fs::exists(db_path));
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_events"), 20);
  EXPECT_EQ(QueryInt(db_path, "SELECT count(*) FROM telemetry_sessions WHERE id = 's'"), 1);
  ASSERT_OK(service.Shutdown());
  ExpectIntact(db_path);
}

}  // namespace
}  // namespace vibekit
