// The dashboard listener: static files (and their path-traversal defences), /config.json, the
// same /api on the second port; and `vibekit dashboard` as a process.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "e2e/cli_runner.h"
#include "server/server_test_util.h"
#include "server/static_files.h"

namespace vibekit::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

void Write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

class DashboardTest : public BackendServerFixture {
 protected:
  void SetUp() override {
    web_ = dir_.File("web");
    Write(web_ + "/index.html", "<html>dashboard</html>");
    Write(web_ + "/app.js", "console.log(1)");
    Write(dir_.File("secret.txt"), "top secret");
    fs::create_symlink(dir_.File("secret.txt"), web_ + "/leak.txt");
    fs::create_symlink(dir_.path(), web_ + "/up");
    server::ServerOptions options;
    options.dashboard_port = 0;
    options.web_dir = web_;
    StartServer(options);
    dash_ = server_->dashboard_url();
    dash_.pop_back();  // no trailing slash
  }
  std::string web_;
  std::string dash_;
};

INSTANTIATE_TEST_SUITE_P(Backends, DashboardTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

TEST_P(DashboardTest, ServesFilesConfigAndTheSameApi) {
  HttpResult index = HttpGet(dash_ + "/");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<html>dashboard</html>");
  EXPECT_EQ(index.Header("content-type"), "text/html; charset=utf-8");
  HttpResult js = HttpGet(dash_ + "/app.js");
  EXPECT_EQ(js.Header("content-type"), "text/javascript; charset=utf-8");
  // A deep link of the page is the page; a missing asset is 404.
  EXPECT_EQ(HttpGet(dash_ + "/sessions/abc").body, "<html>dashboard</html>");
  EXPECT_EQ(HttpGet(dash_ + "/missing.js").status, 404);
  json::object config = Json(HttpGet(dash_ + "/config.json")).as_object();
  EXPECT_EQ(config["apiPort"].as_int64(), server_->port());
  EXPECT_FALSE(config["tokenRequired"].as_bool());
  EXPECT_EQ(HttpGet(dash_ + "/api/sessions").status, 200);
  // The API port has no static files nor config.
  EXPECT_EQ(HttpGet(url_ + "/config.json").status, 404);
  EXPECT_EQ(HttpGet(url_ + "/index.html").status, 404);
}

TEST_P(DashboardTest, PathTraversalIsRefused) {
  for (const std::string path :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/a/../../secret.txt",
        "//etc/passwd", "/leak.txt", "/up/secret.txt", "/..%2fsecret.txt", "/%00index.html",
        "/.%2e/secret.txt"}) {
    HttpResult r = HttpGet(dash_ + path);
    EXPECT_NE(r.status, 200) << path;
    EXPECT_EQ(r.body.find("top secret"), std::string::npos) << path;
  }
  EXPECT_EQ(Http({"POST", dash_ + "/index.html", "x"}).status, 405);
}

TEST(StaticFiles, MissingRootIsNotFound) {
  EXPECT_EQ(server::StaticFiles::Open("/nonexistent/dir").status().code(), StatusCode::kNotFound);
}

TEST(DashboardProcess, PrintsBothLinesAndServesTheAssets) {
  TempDir dir;
  Write(dir.File("web/index.html"), "<html>ok</html>");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(VIBEKIT_BIN, VIBEKIT_BIN, "--db", dir.File("d.db").c_str(), "dashboard", "--port", "0",
          "--dashboard-port", "0", "--no-open", "--no-build", "--web-dir",
          dir.File("web").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  FILE* out = fdopen(fds[0], "r");
  char line1[256] = {0}, line2[256] = {0};
  ASSERT_NE(std::fgets(line1, sizeof(line1), out), nullptr);
  ASSERT_NE(std::fgets(line2, sizeof(line2), out), nullptr);
  std::string server(line1), dash(line2);
  ASSERT_EQ(server.rfind("VibeKit server: http://127.0.0.1:", 0), 0u) << server;
  ASSERT_EQ(dash.rfind("VibeKit dashboard: http://127.0.0.1:", 0), 0u) << dash;
  dash = dash.substr(std::string("VibeKit dashboard: ").size());
  while (!dash.empty() && (dash.back() == '\n')) dash.pop_back();
  EXPECT_EQ(dash.back(), '/');
  EXPECT_EQ(HttpGet(dash).body, "<html>ok</html>");
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  std::fclose(out);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace vibekit::testing
