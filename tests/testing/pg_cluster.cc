#include "testing/pg_cluster.h"

#include <libpq-fe.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

namespace vibekit::testing {
namespace {

constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin";

[[noreturn]] void Die(const std::string& why) {
  std::cerr << "FATAL (PostgreSQL test cluster): " << why << std::endl;
  std::abort();
}

// Runs a shell command, returning its exit code and its combined output.
int Run(const std::string& command, std::string* output) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
    if (output != nullptr) output->append(buf, n);
  }
  const int rc = pclose(p);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

bool IsPgUrl(const std::string& url) {
  return url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0;
}

PgCluster& PgCluster::Get() {
  // Destroyed at exit, which stops the server.
  static PgCluster cluster;
  return cluster;
}

PgCluster::PgCluster() : bin_(kPgBin) {
  // Under ctest, one cluster serves the whole run (fixture "postgres": pg_cluster.sh start).
  if (const char* shared = std::getenv("VIBEKIT_TEST_PG_DIR"); shared != nullptr && *shared) {
    if (access((std::string(shared) + "/data/postmaster.pid").c_str(), F_OK) != 0) {
      Die(std::string("VIBEKIT_TEST_PG_DIR=") + shared +
          " but no server runs there (the ctest fixture pg_cluster.start failed?)");
    }
    dir_ = shared;
    owned_ = false;
    test_db_ = true;  // the fixture created vk_tests
    return;
  }
  if (access((bin_ + "/initdb").c_str(), X_OK) != 0 ||
      access((bin_ + "/pg_ctl").c_str(), X_OK) != 0) {
    Die(bin_ + "/initdb or pg_ctl not found: install Debian's postgresql-15 package "
               "(scripts/install-deps.sh)");
  }
  char tmpl[] = "/tmp/vibekit-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) Die("mkdtemp failed");
  dir_ = tmpl;
  as_postgres_ = geteuid() == 0;
  if (as_postgres_) {
    chmod(dir_.c_str(), 0755);
    std::string out;
    if (Run("chown postgres " + Quote(dir_), &out) != 0) {
      Die("cannot give " + dir_ + " to the postgres user (is the postgres user there?): " + out);
    }
  }
  const std::string prefix = as_postgres_ ? "runuser -u postgres -- " : "";
  std::string out;
  // --no-sync: only initdb's own files; the server runs with fsync on.
  if (Run(prefix + bin_ + "/initdb -D " + Quote(dir_ + "/data") +
              " -A trust -U postgres -E UTF8 --locale=C --no-sync",
          &out) != 0) {
    Die("initdb failed: " + out);
  }
  out.clear();
  const std::string opts = "-k " + dir_ + " -c listen_addresses='' -c fsync=on "
                           "-c max_connections=200 -c shared_buffers=64MB";
  if (Run(prefix + bin_ + "/pg_ctl -D " + Quote(dir_ + "/data") + " -l " +
              Quote(dir_ + "/server.log") + " -w -t 60 -o " + Quote(opts) + " start",
          &out) != 0) {
    std::string log;
    Run("cat " + Quote(dir_ + "/server.log"), &log);
    Die("pg_ctl start failed: " + out + "\n" + log);
  }
}

PgCluster::~PgCluster() { Stop(); }

void PgCluster::Stop() noexcept {
  if (dir_.empty() || !owned_) return;
  const std::string prefix = as_postgres_ ? "runuser -u postgres -- " : "";
  Run(prefix + bin_ + "/pg_ctl -D " + Quote(dir_ + "/data") + " -m immediate -w stop", nullptr);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  dir_.clear();
}

std::string PgCluster::Url(const std::string& database) const {
  return "postgresql:///" + database + "?host=" + dir_ + "&user=postgres";
}

void PgCluster::Psql(const std::string& database, const std::string& sql) const {
  PGconn* c = PQconnectdb(Url(database).c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    const std::string why = PQerrorMessage(c);
    PQfinish(c);
    Die("cannot connect to " + Url(database) + ": " + why);
  }
  PGresult* r = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  const std::string why = ok ? "" : PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  if (!ok) Die("SQL failed on " + database + ": " + sql + "\n" + why);
}

std::string PgCluster::NewDatabase() {
  int n = 0;
  {
    std::lock_guard lock(mu_);
    n = ++next_db_;
    if (!test_db_) {
      Psql("postgres", "CREATE DATABASE vk_tests");
      test_db_ = true;
    }
  }
  const std::string schema = "t_" + std::to_string(getpid()) + "_" + std::to_string(n);
  Psql("vk_tests", "CREATE SCHEMA " + schema);
  return Url("vk_tests") + "&options=-csearch_path%3D" + schema;
}

std::string PgCluster::NewWholeDatabase() {
  int n = 0;
  {
    std::lock_guard lock(mu_);
    n = ++next_db_;
  }
  const std::string name = "vk_db_" + std::to_string(getpid()) + "_" + std::to_string(n);
  Psql("postgres", "CREATE DATABASE " + name);
  return Url(name);
}

}  // namespace vibekit::testing
