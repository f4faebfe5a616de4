// A real PostgreSQL 15 server for the tests of one process: initdb into a fresh directory under
// /tmp (as the postgres user when the tests run as root: initdb refuses root), trust
// authentication, a unix socket in that directory and no TCP listener, fsync left on. Started on
// first use, stopped (and its directory removed) when the process exits. Each test asks for a
// fresh, empty namespace: a new schema in the process's test database, selected through the
// URL's search_path, so tests never see each other's rows. (A schema costs ~5 ms; CREATE DATABASE
// costs ~0.4 s here because it fsyncs a copy of the template's catalog.)
//
// Under ctest the cluster is shared by the run: the fixture test pg_cluster.start
// (testing/pg_cluster.sh) starts it and sets VIBEKIT_TEST_PG_DIR for every test; pg_cluster.stop
// stops it. Run directly, a test binary starts and stops its own.
//
// PostgreSQL missing or failing to start is a test failure, never a skip: the helper aborts the
// process with the reason (Debian's postgresql-15 package provides /usr/lib/postgresql/15/bin;
// scripts/install-deps.sh installs it).
//
// Thread-safety: Get() and NewDatabase() may be called from any thread.
#pragma once

#include <mutex>
#include <string>

namespace vibekit::testing {

class PgCluster {
 public:
  // The process's cluster, started on the first call.
  static PgCluster& Get();

  // Creates an empty schema and returns a URL whose connections use it
  // (postgresql:///vk_tests?host=DIR&user=postgres&options=-csearch_path%3DNAME).
  std::string NewDatabase();
  // A new empty database (CREATE DATABASE) and its URL, for tests about whole databases.
  std::string NewWholeDatabase();
  // The socket directory (libpq's host) and the URL of the maintenance database.
  const std::string& socket_dir() const { return dir_; }
  std::string Url(const std::string& database) const;
  // Runs `sql` on `database`; aborts the process with the server's error when it fails.
  void Psql(const std::string& database, const std::string& sql) const;

  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

 private:
  PgCluster();
  void Stop() noexcept;

  std::string dir_;  // socket directory; data directory is dir_/data
  std::string bin_;  // PostgreSQL's bin directory
  bool as_postgres_ = false;  // run server tools through runuser (we are root)
  bool owned_ = true;         // started by this process (stopped at exit); false under ctest
  std::mutex mu_;
  int next_db_ = 0;          // guarded by mu_
  bool test_db_ = false;     // guarded by mu_: vk_tests created
};

// True when `url` selects the PostgreSQL backend (postgres:// or postgresql://).
bool IsPgUrl(const std::string& url);

}  // namespace vibekit::testing
