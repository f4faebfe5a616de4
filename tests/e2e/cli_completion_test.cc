// `vibekit completion`: the scripts load in the shell and complete what the command tree has.
// Completion is emulated the way bash runs it: COMP_WORDS / COMP_CWORD set, the function called,
// COMPREPLY read back.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "testing/test_util.h"

namespace vibekit {
namespace {

using testing::TempDir;

struct ShellRun {
  int code = -1;
  std::string out;  // stdout and stderr together
};

ShellRun RunShell(const std::string& shell, const std::string& script) {
  TempDir dir;
  const std::string file = dir.File("script.sh");
  const std::string bin = VIBEKIT_BIN;
  std::ofstream(file) << "export PATH=\"" << bin.substr(0, bin.rfind('/')) << ":$PATH\"\n"
                      << script;
  ShellRun r;
  const std::string cmd = "env -u TELEMETRY_DB_PATH " + shell + " " + file + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The sorted candidates bash offers for `words` (the last one is the word under the cursor).
std::string Complete(const std::vector<std::string>& words) {
  std::string array;
  for (const std::string& w : words) array += " '" + w + "'";
  const ShellRun r = RunShell("bash",
                              "source <(vibekit completion bash) || exit 3\n"
                              "COMP_WORDS=(" + array + ")\n"
                              "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
                              "COMPREPLY=()\n"
                              "_vibekit || exit 4\n"
                              "printf '%s\\n' \"${COMPREPLY[@]}\" | sort | paste -sd ' '\n");
  EXPECT_EQ(r.code, 0) << r.out;
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

TEST(Completion, BashScriptLoadsAndRegisters) {
  const ShellRun r = RunShell("bash", "source <(vibekit completion bash) && complete -p vibekit\n");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("-F _vibekit vibekit"), std::string::npos) << r.out;
}

TEST(Completion, BashCompletesSubcommandsAtEveryLevel) {
  EXPECT_EQ(Complete({"vibekit", "tel"}), "telemetry");
  EXPECT_EQ(Complete({"vibekit", "telemetry", "q"}), "query");
  EXPECT_EQ(Complete({"vibekit", "db", "in"}), "init");
  // Options and their values before the subcommand are skipped when finding the command.
  EXPECT_EQ(Complete({"vibekit", "--db", "x.db", "-q", "telemetry", "q"}), "query");
  const std::string top = Complete({"vibekit", ""});
  for (const char* sub : {"completion", "db", "demo", "telemetry"}) {
    EXPECT_NE((" " + top + " ").find(std::string(" ") + sub + " "), std::string::npos)
        << sub << " missing from: " << top;
  }
  EXPECT_EQ(top.find("help-all"), std::string::npos) << "hidden commands are not offered";
}

TEST(Completion, BashCompletesOptionNamesAndChoices) {
  EXPECT_EQ(Complete({"vibekit", "telemetry", "query", "--format", ""}), "csv json ndjson table");
  EXPECT_EQ(Complete({"vibekit", "telemetry", "query", "--format", "nd"}), "ndjson");
  EXPECT_EQ(Complete({"vibekit", "telemetry", "query", "--format", "=", ""}),
            "csv json ndjson table");
  EXPECT_EQ(Complete({"vibekit", "telemetry", "query", "--event-type", ""}),
            "end error start stream");
  EXPECT_EQ(Complete({"vibekit", "telemetry", "query", "--order", ""}), "asc desc");
  EXPECT_EQ(Complete({"vibekit", "telemetry", "sessions", "--status", ""}),
            "active completed failed timeout");
  EXPECT_EQ(Complete({"vibekit", "completion", ""}), "bash zsh");
  // Own options and the global ones that fall through from `vibekit`.
  EXPECT_EQ(Complete({"vibekit", "telemetry", "query", "--ev"}), "--event-type");
  EXPECT_EQ(Complete({"vibekit", "telemetry", "query", "--fo"}), "--format");
  EXPECT_EQ(Complete({"vibekit", "telemetry", "import", "--st"}), "--strict");
  EXPECT_EQ(Complete({"vibekit", "telemetry", "import", "--ev"}), "") << "not an import option";
}

TEST(Completion, ZshScriptParses) {
  if (RunShell("sh", "command -v zsh\n").code != 0) GTEST_SKIP() << "zsh is not installed";
  const ShellRun r = RunShell("sh", "vibekit completion zsh > \"$0.zsh\" && zsh -n \"$0.zsh\"\n");
  EXPECT_EQ(r.code, 0) << r.out;
}

TEST(Completion, ScriptsAreGeneratedNotCanned) {
  const ShellRun zsh = RunShell("sh", "vibekit completion zsh\n");
  EXPECT_EQ(zsh.code, 0);
  EXPECT_EQ(zsh.out.rfind("#compdef vibekit\n", 0), 0U) << zsh.out.substr(0, 200);
  EXPECT_NE(zsh.out.find("'vibekit telemetry query|--format') echo 'table json ndjson csv'"),
            std::string::npos);
  const ShellRun bad = RunShell("sh", "vibekit completion fish\n");
  EXPECT_EQ(bad.code, 2) << bad.out;
}

}  // namespace
}  // namespace vibekit
