// Runs the real `vibekit` binary (VIBEKIT_BIN, set by the e2e target) as a user would, with the
// environment cleared of the variables that would redirect it.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace vibekit {

struct CliRun {
  int code = -1;     // exit code, -1 when it did not exit normally
  std::string out;   // standard output
  std::string err;   // standard error
  std::string all() const { return out + err; }
};

// Standard input comes from `stdin_file` (/dev/null by default: never a terminal). `env` adds
// "NAME=value" assignments (no shell quoting: keep values plain).
inline CliRun Vibekit(const std::string& args, const std::string& stdin_file = "/dev/null",
                      const std::vector<std::string>& env = {}) {
  static int n = 0;
  const std::string err_file = ::testing::TempDir() + "/vk_err_" + std::to_string(getpid()) + "_" +
                               std::to_string(n++);
  std::string assignments;
  for (const std::string& kv : env) assignments += kv + " ";
  const std::string cmd = std::string("env -u TELEMETRY_DB_PATH -u VIBEKIT_TELEMETRY ") +
                          "-u VIBEKIT_BUSY_TIMEOUT_MS -u VIBEKIT_PROGRESS_AFTER_MS " + assignments +
                          VIBEKIT_BIN + " " + args + " <" + stdin_file + " 2>" + err_file;
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 65536> buf{};
  std::size_t got;
  while ((got = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), got);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(err_file);
  r.err.assign(std::istreambuf_iterator<char>(e), std::istreambuf_iterator<char>());
  std::remove(err_file.c_str());
  return r;
}

}  // namespace vibekit
