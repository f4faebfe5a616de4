// A real TelemetryService on a temporary database with a TelemetryServer on a free loopback
// port, for the server tests; BackendServerFixture runs a suite on both storage backends.
#pragma once

#include <boost/json.hpp>

#include <memory>
#include <string>

#include "server/http_test_client.h"
#include "server/server.h"
#include "testing/test_util.h"

namespace vibekit::testing {

// The value of one unlabelled sample in a GET /metrics body (-1 when absent).
inline double MetricSample(const std::string& metrics_body, const std::string& name) {
  const std::size_t at = metrics_body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(metrics_body.substr(at + name.size() + 2));
}

class ServerFixture : public ::testing::Test {
 protected:
  void StartServer(server::ServerOptions options = {}) {
    service_ = std::make_unique<TelemetryService>(TestConfig(db()));
    ASSERT_OK(service_->Initialize());
    options.port = 0;
    auto s = server::TelemetryServer::Start(*service_, options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    url_ = server_->url();
  }
  void SetUp() override {}
  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    if (service_) EXPECT_OK(service_->Shutdown());
  }
  // The database: a file by default; fixtures parametrised over backends set db_ first.
  const std::string& db() const { return db_; }
  static boost::json::value Json(const HttpResult& r) { return boost::json::parse(r.body); }
  static std::string EventJson(const std::string& session, const std::string& type,
                               std::int64_t ts, const std::string& extra = "") {
    return R"({"sessionId":")" + session + R"(","eventType":")" + type +
           R"(","agentType":"claude","timestamp":)" + std::to_string(ts) + extra + "}";
  }

  TempDir dir_;
  std::string db_ = dir_.File("t.db");
  std::unique_ptr<TelemetryService> service_;
  std::unique_ptr<server::TelemetryServer> server_;
  std::string url_;
};

// The same fixture on each storage backend (a SQLite file, a PostgreSQL schema of the run's
// cluster): suites derive from it and INSTANTIATE_TEST_SUITE_P(Backends, Suite,
// ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName).
class BackendServerFixture : public ServerFixture, public ::testing::WithParamInterface<Backend> {
 protected:
  BackendServerFixture() { db_ = FreshDatabase(GetParam(), dir_); }
};

}  // namespace vibekit::testing
