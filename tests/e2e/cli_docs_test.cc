// docs/CLI.md is generated from the command tree (`vibekit help-all --markdown`); this test fails
// as soon as a command, option, description or example changes without regenerating it.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace vibekit {
namespace {

// Standard output only (stderr goes to the test log).
std::string Stdout(const std::string& args, int* code) {
  const std::string cmd = std::string("env -u TELEMETRY_DB_PATH ") + VIBEKIT_BIN + " " + args;
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = pclose(p);
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// The first line where `a` and `b` differ, for the failure message.
std::string FirstDifference(const std::string& a, const std::string& b) {
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool ga = static_cast<bool>(std::getline(sa, la));
    const bool gb = static_cast<bool>(std::getline(sb, lb));
    if (!ga && !gb) return "(only line endings differ)";
    if (!ga || !gb || la != lb) {
      return "line " + std::to_string(line) + ":\n  docs/CLI.md: " + (ga ? la : "<end>") +
             "\n  binary:      " + (gb ? lb : "<end>");
    }
  }
}

TEST(Docs, CliMarkdownIsUpToDate) {
  int code = -1;
  const std::string generated = Stdout("help-all --markdown", &code);
  ASSERT_EQ(code, 0);
  const std::string path = std::string(VIBEKIT_SOURCE_DIR) + "/docs/CLI.md";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << path << " is missing; generate it with\n"
                         << "  build/vibekit help-all --markdown > docs/CLI.md";
  std::stringstream file;
  file << in.rdbuf();
  EXPECT_TRUE(file.str() == generated)
      << "docs/CLI.md is out of date with the commands; regenerate it with\n"
      << "  build/vibekit help-all --markdown > docs/CLI.md\n"
      << "first difference at " << FirstDifference(file.str(), generated);
}

TEST(Docs, ReferenceCoversTheCommandTree) {
  int code = -1;
  const std::string md = Stdout("help-all --markdown", &code);
  ASSERT_EQ(code, 0);
  for (const char* heading : {"\n## vibekit\n", "\n## vibekit db\n", "\n## vibekit db init\n",
                              "\n## vibekit telemetry query\n", "\n## vibekit telemetry import\n",
                              "\n## vibekit completion\n"}) {
    EXPECT_NE(md.find(heading), std::string::npos) << heading;
  }
  EXPECT_NE(md.find("- `--format TEXT`: Output format. Choices: `table`, `json`, `ndjson`, `csv`. "
                    "Default: `table`."),
            std::string::npos);
  EXPECT_NE(md.find("vibekit telemetry import [OPTIONS] file"), std::string::npos) << "usage";
  EXPECT_NE(md.find("zcat events.ndjson.gz | vibekit telemetry import - --strict"),
            std::string::npos)
      << "examples footer";
  EXPECT_EQ(md.find("## vibekit help-all"), std::string::npos) << "hidden command";
  EXPECT_EQ(md.find("[help-all]"), std::string::npos) << "hidden command";

  const std::string help = Stdout("--help", &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(help.find("help-all"), std::string::npos) << "help-all is hidden from --help";
  const std::string plain = Stdout("help-all", &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(plain.find("==> vibekit telemetry query --help"), std::string::npos);
  EXPECT_NE(plain.find("--event-type"), std::string::npos);
}

}  // namespace
}  // namespace vibekit
