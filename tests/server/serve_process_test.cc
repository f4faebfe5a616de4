// The `vibekit serve` process: start-up line with the real port, requests, clean SIGTERM/SIGINT
// shutdown with everything acknowledged on disk, refusal of a public address without a token.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "e2e/cli_runner.h"
#include "server/http_test_client.h"
#include "testing/pg_cluster.h"
#include "testing/test_util.h"

namespace vibekit::testing {
namespace {

struct ServeProcess {
  pid_t pid = -1;
  FILE* out = nullptr;
  std::string url;
};

// Starts `vibekit serve <args>` in `cwd` and reads its start-up line.
ServeProcess StartServe(const std::string& cwd, const std::vector<std::string>& args) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  ServeProcess p;
  p.pid = fork();
  if (p.pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    if (chdir(cwd.c_str()) != 0) _exit(127);
    unsetenv("TELEMETRY_DB_PATH");
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(VIBEKIT_BIN));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(VIBEKIT_BIN, argv.data());
    _exit(127);
  }
  close(fds[1]);
  p.out = fdopen(fds[0], "r");
  char line[512];
  if (std::fgets(line, sizeof(line), p.out) != nullptr) {
    std::string text(line);
    const std::string prefix = "VibeKit server: ";
    if (text.rfind(prefix, 0) == 0) {
      p.url = text.substr(prefix.size());
      while (!p.url.empty() && (p.url.back() == '\n' || p.url.back() == '\r')) p.url.pop_back();
    }
  }
  return p;
}

int StopServe(ServeProcess& p, int sig) {
  kill(p.pid, sig);
  int status = 0;
  waitpid(p.pid, &status, 0);
  if (p.out != nullptr) std::fclose(p.out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// On both backends (a SQLite file, a PostgreSQL schema of the run's cluster).
class ServeBackend : public ::testing::TestWithParam<Backend> {};
INSTANTIATE_TEST_SUITE_P(Backends, ServeBackend,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

TEST_P(ServeBackend, PrintsRealPortServesAndStopsCleanlyOnSigterm) {
  TempDir dir;
  const std::string db = FreshDatabase(GetParam(), dir);
  ServeProcess p = StartServe(dir.path(), {"serve", "--port", "0", "--db", db});
  ASSERT_FALSE(p.url.empty());
  EXPECT_EQ(p.url.rfind("http://127.0.0.1:", 0), 0u) << p.url;
  EXPECT_NE(p.url, "http://127.0.0.1:0");
  std::string body = "[";
  for (int i = 0; i < 100; ++i) {
    body += std::string(i ? "," : "") + R"({"sessionId":"proc","eventType":")" +
            (i == 0 ? "start" : "stream") +
            R"(","agentType":"codex","streamData":"chunk","timestamp":)" +
            std::to_string(1764000000000 + i) + "}";
  }
  body += "]";
  HttpResult r = HttpPost(p.url + "/api/events", body);
  ASSERT_EQ(r.status, 200) << r.body << r.error;
  EXPECT_EQ(StopServe(p, SIGTERM), 0);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), 100);
  EXPECT_EQ(QueryInt(db, "SELECT event_count FROM telemetry_sessions WHERE id = 'proc'"), 100);
}

TEST(ServeProcess, WorksFromAnyDirectoryWithTheDefaultDatabaseAndStopsOnSigint) {
  TempDir dir;
  ServeProcess p = StartServe(dir.path(), {"serve", "--port", "0"});
  ASSERT_FALSE(p.url.empty());
  HttpResult r = HttpPost(p.url + "/api/events",
                          R"([{"sessionId":"cwd","eventType":"start","agentType":"a","timestamp":1764000000000}])");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(StopServe(p, SIGINT), 0);
  EXPECT_EQ(QueryInt(dir.File(".vibekit/telemetry.db"), "SELECT count(*) FROM telemetry_events"),
            1);
}

// Upgrading while the server runs: the schema is rolled back one step (1.6.0, the audit
// triggers) and migrated again by `vibekit db rollback/migrate` while a client keeps posting;
// every acknowledged event is on disk afterwards and the audit triggers work again.
TEST(ServeProcess, MigrateWhileServingLosesNoAcknowledgedEvent) {
  TempDir dir;
  const std::string db = dir.File("m.db");
  ServeProcess p = StartServe(dir.path(), {"serve", "--port", "0", "--db", db});
  ASSERT_FALSE(p.url.empty());
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::atomic<int> failed{0};
  constexpr int kPerBatch = 20;
  std::thread client([&] {
    for (int batch = 0; batch < 400 && !stop.load(); ++batch) {
      const std::string sid = "live-" + std::to_string(batch);
      std::string body = "[";
      for (int i = 0; i < kPerBatch; ++i) {
        const char* type = i == 0 ? "start" : (i == kPerBatch - 1 ? "end" : "stream");
        body += std::string(i ? "," : "") + R"({"sessionId":")" + sid + R"(","eventType":")" +
                type + R"(","agentType":"codex","streamData":"chunk )" + std::to_string(i) +
                R"(","timestamp":)" + std::to_string(1764000000000 + batch * 100 + i) + "}";
      }
      body += "]";
      HttpResult r = HttpPost(p.url + "/api/events", body);
      if (r.status == 200) {
        acked.fetch_add(1);
      } else {
        failed.fetch_add(1);
      }
    }
  });
  ASSERT_TRUE(WaitFor([&] { return acked.load() >= 3; }));
  CliRun down = Vibekit("--db " + db + " db rollback --to-version 1.5.0");
  EXPECT_EQ(down.code, 0) << down.all();
  const int acked_at_rollback = acked.load();
  ASSERT_TRUE(WaitFor([&] { return acked.load() >= acked_at_rollback + 3; }));
  CliRun up = Vibekit("--db " + db + " db migrate");
  EXPECT_EQ(up.code, 0) << up.all();
  const int acked_at_migrate = acked.load();
  ASSERT_TRUE(WaitFor([&] { return acked.load() >= acked_at_migrate + 3; }));
  stop.store(true);
  client.join();
  // A session ended after the migrate is audited again (start and end in separate requests, so
  // the end updates the stored row).
  ASSERT_EQ(HttpPost(p.url + "/api/events", R"([{"sessionId":"after","eventType":"start",)"
                     R"("agentType":"codex","timestamp":1764100000000}])").status, 200);
  ASSERT_EQ(HttpPost(p.url + "/api/events", R"([{"sessionId":"after","eventType":"end",)"
                     R"("agentType":"codex","timestamp":1764100005000}])").status, 200);
  EXPECT_EQ(StopServe(p, SIGTERM), 0);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events WHERE session_id LIKE 'live-%'"),
            acked.load() * kPerBatch);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_sessions WHERE status = 'completed' "
                         "AND id LIKE 'live-%'"),
            acked.load());
  EXPECT_EQ(QueryText(db, "SELECT max(version) FROM telemetry_schema_versions"), "1.9.0");
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_audit_log WHERE table_name = "
                         "'telemetry_sessions' AND record_id = 'after'"),
            1);
}

TEST(ServeProcess, RefusesPublicHostWithoutToken) {
  TempDir dir;
  CliRun run = Vibekit("serve --host 0.0.0.0 --port 0 --db " + dir.File("x.db"));
  EXPECT_NE(run.code, 0);
  EXPECT_NE(run.err.find("--token"), std::string::npos) << run.err;
  EXPECT_EQ(run.out.find("VibeKit server"), std::string::npos);
}

// A PostgreSQL array literal of session ids (ids made of [a-z0-9-] only).
std::string PgIdArray(const std::vector<std::vector<std::string>>& lists) {
  std::string out = "ARRAY[";
  bool first = true;
  for (const auto& list : lists) {
    for (const std::string& sid : list) {
      out += (first ? "'" : ",'") + sid + "'";
      first = false;
    }
  }
  return out + "]::text[]";
}

// Two `vibekit serve` processes on different ports write one PostgreSQL database, 8 client
// threads posting to both; one server is killed (SIGKILL) mid-run. Every batch a server
// acknowledged is there exactly once; nothing is duplicated; the session counters and the
// statistics agree with the rows. The default size (9,600 events) runs in every `make test`;
// VIBEKIT_TWO_SERVER_EVENTS=1000000 runs the issue's 1M-event version of the same test
// (docs/BENCHMARKS.md quotes that run).
TEST(ServeProcess, TwoServersShareOnePostgresDatabaseAndAKilledOneLosesNothingItAcknowledged) {
  TempDir dir;
  const std::string pg = PgCluster::Get().NewDatabase();
  ServeProcess a = StartServe(dir.path(), {"serve", "--port", "0", "--db", pg});
  ServeProcess b = StartServe(dir.path(), {"serve", "--port", "0", "--db", pg});
  ASSERT_FALSE(a.url.empty());
  ASSERT_FALSE(b.url.empty());
  constexpr int kThreads = 8;
  constexpr int kPerBatch = 40;  // start, 38 streams, end: one whole session per batch
  std::int64_t total_events = 9600;
  if (const char* env = std::getenv("VIBEKIT_TWO_SERVER_EVENTS"); env != nullptr) {
    total_events = std::max<std::int64_t>(kThreads * kPerBatch, std::atoll(env));
  }
  const int kBatches = static_cast<int>(total_events / (kThreads * kPerBatch));
  const auto started = std::chrono::steady_clock::now();
  std::atomic<int> acked_total{0};
  std::atomic<bool> b_alive{true};
  std::vector<std::vector<std::string>> acked(kThreads);
  std::vector<std::vector<std::string>> lost_answer(kThreads);  // sent to B, no answer
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      for (int k = 0; k < kBatches; ++k) {
        const std::string sid = "c" + std::to_string(t) + "-" + std::to_string(k);
        std::string body = "[";
        for (int i = 0; i < kPerBatch; ++i) {
          const char* type = i == 0 ? "start" : i + 1 == kPerBatch ? "end" : "stream";
          body += std::string(i ? "," : "") + R"({"sessionId":")" + sid +
                  R"(","eventType":")" + type +
                  R"(","agentType":"codex","streamData":"chunk","timestamp":)" +
                  std::to_string(1764000000000 + k * 1000 + i) + "}";
        }
        body += "]";
        const bool to_b = (t + k) % 2 == 1 && b_alive.load();
        HttpResult r = HttpPost((to_b ? b.url : a.url) + "/api/events", body);
        if (r.status == 200) {
          acked[static_cast<std::size_t>(t)].push_back(sid);
          acked_total.fetch_add(1);
        } else {
          // Only the killed server may fail to answer.
          EXPECT_TRUE(to_b) << r.status << " " << r.error;
          lost_answer[static_cast<std::size_t>(t)].push_back(sid);
        }
      }
    });
  }
  // The kill comes once a third of the batches are acknowledged (generous deadline: ~1 ms per
  // event covers a loaded machine).
  ASSERT_TRUE(WaitFor([&] { return acked_total.load() >= kThreads * kBatches / 3; },
                      60000 + static_cast<int>(total_events / 3)));
  kill(b.pid, SIGKILL);
  b_alive.store(false);
  int status = 0;
  waitpid(b.pid, &status, 0);
  if (b.out != nullptr) std::fclose(b.out);
  for (auto& c : clients) c.join();
  EXPECT_EQ(StopServe(a, SIGTERM), 0);

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::int64_t acked_sessions = 0;
  for (const auto& list : acked) acked_sessions += static_cast<std::int64_t>(list.size());
  std::printf("two servers: %d batches acknowledged (%lld events) in %.1f s, %.0f events/s\n",
              acked_total.load(), static_cast<long long>(acked_sessions * kPerBatch), seconds,
              static_cast<double>(acked_sessions * kPerBatch) / seconds);
  EXPECT_GT(acked_sessions, kThreads * kBatches / 2);
  // Every acknowledged batch is there whole: its session has exactly its events.
  EXPECT_EQ(QueryInt(pg, "SELECT count(*) FROM (SELECT session_id FROM telemetry_events WHERE "
                         "session_id = ANY(" + PgIdArray(acked) + ") GROUP BY session_id "
                         "HAVING count(*) = " + std::to_string(kPerBatch) + ") whole"),
            acked_sessions);
  // Unanswered batches are all or nothing (one transaction), never half.
  std::int64_t unanswered = 0;
  for (const auto& list : lost_answer) unanswered += static_cast<std::int64_t>(list.size());
  if (unanswered > 0) {
    EXPECT_EQ(QueryInt(pg, "SELECT count(*) FROM (SELECT session_id FROM telemetry_events WHERE "
                           "session_id = ANY(" + PgIdArray(lost_answer) + ") GROUP BY "
                           "session_id HAVING count(*) <> " + std::to_string(kPerBatch) + ") half"),
              0);
  }
  const std::int64_t sessions = QueryInt(pg, "SELECT count(*) FROM telemetry_sessions");
  EXPECT_GE(sessions, acked_sessions);
  EXPECT_EQ(QueryInt(pg, "SELECT count(*) FROM telemetry_events"), sessions * kPerBatch);
  EXPECT_EQ(QueryInt(pg, "SELECT count(*) FROM (SELECT session_id, timestamp FROM "
                         "telemetry_events GROUP BY 1, 2 HAVING count(*) > 1) d"),
            0);  // no duplicates
  EXPECT_EQ(QueryInt(pg, "SELECT count(*) FROM telemetry_sessions WHERE event_count <> " +
                             std::to_string(kPerBatch) + " OR status <> 'completed'"),
            0);
  EXPECT_EQ(QueryInt(pg, "SELECT total_events FROM telemetry_stats WHERE stat_type = 'global'"),
            sessions * kPerBatch);
  EXPECT_EQ(QueryInt(pg, "SELECT unique_sessions FROM telemetry_stats WHERE "
                         "stat_type = 'global'"),
            sessions);
}

}  // namespace
}  // namespace vibekit::testing
