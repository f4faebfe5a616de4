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
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "testing/test_util.h"

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

// A CLI test on each storage backend with a fresh database (testing::FreshDatabase: a SQLite
// file, a PostgreSQL schema of the run's cluster). Db() is the --db flag, quoted for the shell
// Vibekit() goes through, with a space on each side. Instantiate with VK_CLI_BACKENDS(Suite).
class CliBackendTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  bool pg() const { return GetParam() == testing::Backend::kPostgres; }
  std::string Db() const { return " --db '" + db_ + "' "; }
  testing::TempDir dir_;
  std::string db_ = testing::FreshDatabase(GetParam(), dir_);
};
// A database on `backend` shared by the tests of `suite`, filled by `fill` on first use and kept
// to the end of the process.
inline const std::string& SuiteDatabase(const std::string& suite, testing::Backend backend,
                                        void (*fill)(const std::string& db)) {
  struct Shared {
    testing::TempDir dir;
    std::string db;
  };
  static std::map<std::pair<std::string, testing::Backend>, std::unique_ptr<Shared>> dbs;
  std::unique_ptr<Shared>& d = dbs[{suite, backend}];
  if (!d) {
    d = std::make_unique<Shared>();
    d->db = testing::FreshDatabase(backend, d->dir);
    fill(d->db);
  }
  return d->db;
}
#define VK_CLI_BACKENDS(suite)                                                        \
  INSTANTIATE_TEST_SUITE_P(Backends, suite,                                           \
                           ::testing::Values(::vibekit::testing::Backend::kSqlite,    \
                                             ::vibekit::testing::Backend::kPostgres), \
                           ::vibekit::testing::BackendName)

}  // namespace vibekit
