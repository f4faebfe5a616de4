// The database's validation rules and redaction on the HTTP write paths: POST /api/events
// refuses the single events a rule rejects (naming the rule), the OTLP receiver counts them in
// its partial success, and what is accepted is redacted before it is stored.
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "server/server_test_util.h"
#include "vibekit/data_integrity.h"

namespace vibekit::testing {
namespace {

namespace json = boost::json;

class RulesRouteTest : public BackendServerFixture {
 protected:
  // A database with one rule: agentType must be one of `agents`.
  void AddAgentRule(const std::string& agents) {
    {
      TelemetryService s(TestConfig(db()));
      ASSERT_OK(s.Initialize());
      ASSERT_OK(s.Shutdown());
    }
    if (GetParam() == Backend::kPostgres) {
      // DataIntegrityService opens SQLite files only (yet): the same row, written directly.
      ExecSql(db(), "INSERT INTO telemetry_validation_rules (table_name, field_name, rule_type, "
                    "rule_config, error_message, is_active, priority, created_at, updated_at) "
                    "VALUES ('telemetry_events', 'agentType', 'enum', '" + agents +
                    "', 'Unknown agent', 1, 0, 1, 1)");
      return;
    }
    auto svc = DataIntegrityService::Open(TestConfig(db()));
    ASSERT_TRUE(svc.ok());
    ValidationRule r;
    r.field_name = "agentType";
    r.rule_type = ValidationRuleType::kEnum;
    r.rule_config = agents;
    r.error_message = "Unknown agent";
    ASSERT_TRUE((*svc)->AddValidationRule(r).ok());
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, RulesRouteTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

TEST_P(RulesRouteTest, PostEventsRefusesTheEventsARuleRejects) {
  AddAgentRule(R"(["claude"])");
  StartServer();
  const std::string body =
      "[" + EventJson("a", "start", 1700000000000) + "," +
      R"({"sessionId":"b","eventType":"start","agentType":"gemini","timestamp":1700000000000})" +
      "," +
      EventJson("a", "stream", 1700000000001,
                R"(,"streamData":"export GITHUB_TOKEN=ghp_FAKE0123456789abcdefghijklmnopqrstuv")") +
      "]";
  HttpResult r = HttpPost(url_ + "/api/events", body);
  ASSERT_EQ(r.status, 200) << r.body;
  json::object o = Json(r).as_object();
  EXPECT_EQ(o["accepted"].as_int64(), 2);
  EXPECT_EQ(o["rejected"].as_int64(), 1);
  json::object e = o["errors"].as_array().at(0).as_object();
  EXPECT_EQ(e["index"].as_int64(), 1);
  EXPECT_NE(std::string(e["message"].as_string()).find(
                "table=telemetry_events field=agentType rule=enum value=\"gemini\": Unknown agent"),
            std::string::npos)
      << e["message"];
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM telemetry_sessions WHERE id = 'b'"), 0);
  EXPECT_EQ(QueryText(db(), "SELECT stream_data FROM telemetry_events WHERE event_type = 'stream'"),
            "export GITHUB_TOKEN=[REDACTED:github_token]");
}

TEST_P(RulesRouteTest, OtlpReceiverCountsRefusedRecordsInItsPartialSuccess) {
  AddAgentRule(R"(["nobody"])");
  StartServer();
  std::ifstream in(VIBEKIT_TEST_DATA_DIR "/../otlp/receiver_cases/claude_code_logs.json");
  std::stringstream body;
  body << in.rdbuf();
  ASSERT_FALSE(body.str().empty());
  HttpResult r = HttpPost(url_ + "/v1/logs", body.str(), {"Content-Type: application/json"});
  ASSERT_EQ(r.status, 200) << r.body;
  json::object ps = Json(r).as_object()["partialSuccess"].as_object();
  // int64 as a string, as OTLP/JSON writes it.
  EXPECT_GT(std::stoll(std::string(ps["rejectedLogRecords"].as_string())), 0);
  EXPECT_NE(std::string(ps["errorMessage"].as_string()).find("rule=enum"), std::string::npos)
      << ps["errorMessage"];
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM telemetry_events"), 0);
}

}  // namespace
}  // namespace vibekit::testing
