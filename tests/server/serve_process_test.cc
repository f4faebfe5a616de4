// The `vibekit serve` process: start-up line with the real port, requests, clean SIGTERM/SIGINT
// shutdown with everything acknowledged on disk, refusal of a public address without a token.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "e2e/cli_runner.h"
#include "server/http_test_client.h"
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

TEST(ServeProcess, PrintsRealPortServesAndStopsCleanlyOnSigterm) {
  TempDir dir;
  ServeProcess p = StartServe(dir.path(), {"serve", "--port", "0", "--db", dir.File("s.db")});
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
  EXPECT_EQ(QueryInt(dir.File("s.db"), "SELECT count(*) FROM telemetry_events"), 100);
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

TEST(ServeProcess, RefusesPublicHostWithoutToken) {
  TempDir dir;
  CliRun run = Vibekit("serve --host 0.0.0.0 --port 0 --db " + dir.File("x.db"));
  EXPECT_NE(run.code, 0);
  EXPECT_NE(run.err.find("--token"), std::string::npos) << run.err;
  EXPECT_EQ(run.out.find("VibeKit server"), std::string::npos);
}

}  // namespace
}  // namespace vibekit::testing
