// Black-box tests of the `vibekit` binary: exit codes, messages, files.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

#include "e2e/cli_runner.h"
#include "testing/test_util.h"

namespace vibekit {
namespace {

using testing::QueryInt;
using testing::TempDir;


std::string Line(const std::string& sid, const std::string& type, int ts) {
  return R"({"sessionId":")" + sid + R"(","eventType":")" + type +
         R"(","agentType":"gemini","streamData":"hello","timestamp":)" + std::to_string(ts) + "}\n";
}

TEST(Cli, HelpAndVersionExitZero) {
  CliRun help = Vibekit("--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.all().find("telemetry"), std::string::npos);
  CliRun version = Vibekit("--version");
  EXPECT_EQ(version.code, 0);
  EXPECT_NE(version.all().find("vibekit"), std::string::npos);
  CliRun sub = Vibekit("telemetry import --help");
  EXPECT_EQ(sub.code, 0);
  EXPECT_NE(sub.all().find("Examples"), std::string::npos);
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(Vibekit("").code, 2);
  EXPECT_EQ(Vibekit("frobnicate").code, 2);
  EXPECT_EQ(Vibekit("telemetry import").code, 2);
  EXPECT_EQ(Vibekit("telemetry import x --batch-size 0").code, 2);
}

// The commands that write a database, on both backends (a SQLite file, a PostgreSQL schema of
// the run's cluster); `--db '...'` quoted for the shell.
class CliDbBackedTest : public CliBackendTest {};
VK_CLI_BACKENDS(CliDbBackedTest);

TEST_P(CliDbBackedTest, ImportFromFileAndStdin) {
  const TempDir& dir = dir_;
  const std::string& db = db_;
  std::ofstream(dir.File("in.ndjson")) << Line("a", "start", 10) << Line("a", "stream", 11)
                                       << Line("a", "end", 12);
  CliRun r = Vibekit(Db() + " telemetry import " + dir.File("in.ndjson"));
  EXPECT_EQ(r.code, 0) << r.all();
  EXPECT_NE(r.all().find("imported 3 events"), std::string::npos) << r.all();
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), 3);
  std::ofstream(dir.File("more.ndjson")) << Line("b", "start", 20) << Line("b", "stream", 21);
  CliRun s = Vibekit(Db() + " telemetry import - --strict", dir.File("more.ndjson"));
  EXPECT_EQ(s.code, 0) << s.all();
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), 5);
  EXPECT_EQ(
      QueryInt(db, "SELECT count(*) FROM telemetry_sessions WHERE id='a' AND status='completed'"),
      1);
}

TEST_P(CliDbBackedTest, BadLinesAreNamedAndStrictModeWritesNothing) {
  const TempDir& dir = dir_;
  const std::string& db = db_;
  std::ofstream(dir.File("bad.ndjson")) << Line("c", "start", 10) << "{oops\n" << Line("c", "stream", 11);
  CliRun strict = Vibekit(Db() + " telemetry import --strict " + dir.File("bad.ndjson"));
  EXPECT_EQ(strict.code, 1);
  EXPECT_NE(strict.all().find("line 2"), std::string::npos) << strict.all();
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), 0);
  CliRun lenient = Vibekit(Db() + " telemetry import " + dir.File("bad.ndjson"));
  EXPECT_EQ(lenient.code, 1) << "skipped lines make the exit code non-zero";
  EXPECT_NE(lenient.all().find("line 2:"), std::string::npos) << lenient.all();
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), 2);
}

TEST_P(CliDbBackedTest, MissingInputFailsWithOneLineMessage) {
  CliRun r = Vibekit(Db() + " telemetry import " + dir_.File("absent.ndjson"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.all().find("vibekit: import failed: cannot read"), std::string::npos) << r.all();
}

TEST_P(CliDbBackedTest, DemoFillsTheDatabaseThroughTheLibrary) {
  const std::string& db = db_;
  CliRun r = Vibekit(Db() + " demo --events 3000 --seed 7");
  ASSERT_EQ(r.code, 0) << r.all();
  EXPECT_NE(r.all().find("total events        3000"), std::string::npos) << r.all();
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), 3000);
  EXPECT_EQ(QueryInt(db, "SELECT total_events FROM telemetry_stats WHERE stat_type='global'"), 3000);
}

}  // namespace
}  // namespace vibekit
