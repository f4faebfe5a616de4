// Validation rules through DataIntegrityService (add, list, disable, enable, remove; audited;
// the seeded defaults) and their effect on a TelemetryService's write paths: Track*,
// InsertEventBatch, ImportNdjson and ValidateEvent, also for rules added while it runs; on both
// backends.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "integrity/integrity_test_util.h"
#include "vibekit/data_integrity.h"

namespace vibekit {
namespace {

using testing::OpenIntegrityService;
using testing::QueryInt;
using testing::TestConfig;
using testing::WaitFor;

void InitDb(const std::string& db) {
  TelemetryService s(TestConfig(db));
  ASSERT_OK(s.Initialize());
  ASSERT_OK(s.Shutdown());
}

ValidationRule AgentEnum() {
  ValidationRule r;
  r.table_name = "telemetry_events";
  r.field_name = "agentType";
  r.rule_type = ValidationRuleType::kEnum;
  r.rule_config = R"(["claude","codex"])";
  r.error_message = "Unknown agent";
  return r;
}

class ValidationRulesService : public testing::BackendTest {};
INSTANTIATE_TEST_SUITE_P(Backends, ValidationRulesService, testing::IntegrityBackends(),
                         testing::BackendName);

TEST_P(ValidationRulesService, DefaultRulesAreSeededAndListed) {
  const std::string db = Db();
  InitDb(db);
  auto svc = OpenIntegrityService(db);
  ASSERT_TRUE(svc);
  auto list = svc->ListValidationRules();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 7u);
  const ValidationRule& first = list->front();
  EXPECT_EQ(first.table_name, "telemetry_events");
  EXPECT_EQ(first.field_name, "eventType");
  EXPECT_EQ(first.rule_type, ValidationRuleType::kEnum);
  EXPECT_EQ(first.rule_config, R"(["start","stream","end","error"])");
  EXPECT_EQ(first.error_message, "Invalid event type");
  EXPECT_TRUE(first.is_active);
  EXPECT_EQ(first.priority, 100);
  EXPECT_GT(first.created_at, 0);
  // Opening again (a second service) does not seed them twice.
  InitDb(db);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_validation_rules"), 7);
}

TEST_P(ValidationRulesService, AddListDisableEnableRemoveAreAudited) {
  const std::string db = Db();
  InitDb(db);
  auto svc = OpenIntegrityService(db);
  ASSERT_TRUE(svc);
  auto id = svc->AddValidationRule(AgentEnum());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto list = svc->ListValidationRules();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->back().id, *id);
  EXPECT_EQ(list->back().rule_config, R"(["claude","codex"])");
  ASSERT_OK(svc->SetValidationRuleActive(*id, false));
  EXPECT_FALSE(svc->ListValidationRules()->back().is_active);
  ASSERT_OK(svc->SetValidationRuleActive(*id, true));
  ASSERT_OK(svc->RemoveValidationRule(*id));
  EXPECT_EQ(svc->ListValidationRules()->size(), 7u);
  EXPECT_EQ(svc->RemoveValidationRule(*id).code(), StatusCode::kNotFound);
  EXPECT_EQ(svc->SetValidationRuleActive(9999, false).code(), StatusCode::kNotFound);
  auto history = svc->GetAuditHistory("telemetry_validation_rules", std::to_string(*id));
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 4u);
  // In the order written (the rows of one millisecond may carry clock readings of the library
  // and of SQLite that differ by one).
  std::sort(history->begin(), history->end(),
            [](const AuditEntry& a, const AuditEntry& b) { return a.id < b.id; });
  EXPECT_EQ((*history)[0].operation, "INSERT");
  EXPECT_EQ((*history)[1].operation, "UPDATE");
  EXPECT_EQ((*history)[1].reason, "validation rule disabled");
  EXPECT_EQ((*history)[2].reason, "validation rule enabled");
  EXPECT_EQ((*history)[3].operation, "DELETE");
}

TEST_P(ValidationRulesService, BadRulesAreRefusedAndNothingIsStored) {
  const std::string db = Db();
  InitDb(db);
  auto svc = OpenIntegrityService(db);
  ASSERT_TRUE(svc);
  ValidationRule bad = AgentEnum();
  bad.rule_type = ValidationRuleType::kRegex;
  bad.rule_config = R"("[unclosed")";
  auto id = svc->AddValidationRule(bad);
  EXPECT_EQ(id.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(id.status().message().find("does not compile"), std::string::npos);
  ValidationRule range = AgentEnum();
  range.field_name = "timestamp";
  range.rule_type = ValidationRuleType::kRange;
  range.rule_config = R"({"min":10,"max":1})";
  EXPECT_EQ(svc->AddValidationRule(range).status().code(), StatusCode::kInvalidArgument);
  ValidationRule field = AgentEnum();
  field.field_name = "agent";
  EXPECT_NE(svc->AddValidationRule(field).status().message().find("unknown field 'agent'"),
            std::string::npos);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_validation_rules"), 7);
}

TEST_P(ValidationRulesService, EveryLibraryWritePathAppliesTheRules) {
  const std::string db = Db();
  InitDb(db);
  {
    auto svc = OpenIntegrityService(db);
    ASSERT_TRUE(svc);
    ASSERT_TRUE(svc->AddValidationRule(AgentEnum()).ok());
    ValidationRule user;
    user.field_name = "metadata.userId";
    user.rule_type = ValidationRuleType::kRegex;
    user.rule_config = R"("^u-[0-9]+$")";
    user.error_message = "userId must look like u-<digits>";
    ASSERT_TRUE(svc->AddValidationRule(user).ok());
  }
  TelemetryService s(TestConfig(db));
  ASSERT_OK(s.Initialize());
  // Track*
  ASSERT_OK(s.TrackStart({"ok-1", "claude"}));
  Status st = s.TrackStart({"bad-1", "gemini"});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("table=telemetry_events field=agentType rule=enum "
                              "value=\"gemini\": Unknown agent"),
            std::string::npos)
      << st.message();
  TrackStartParams p{"bad-2", "codex"};
  p.metadata = R"({"userId":"bob"})";
  st = s.TrackStart(p);
  EXPECT_NE(st.message().find("field=metadata.userId rule=regex value=\"bob\""),
            std::string::npos)
      << st.message();
  p.metadata = R"({"userId":"u-7"})";
  p.session_id = "ok-2";
  ASSERT_OK(s.TrackStart(p));
  // InsertEventBatch: one bad event refuses the batch and names it.
  Event good;
  good.session_id = "ok-3";
  good.agent_type = "codex";
  good.event_type = EventType::kStart;
  Event bad = good;
  bad.agent_type = "aider";
  const std::vector<Event> batch = {good, bad};
  st = s.InsertEventBatch(batch);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("event 1"), std::string::npos) << st.message();
  // ValidateEvent says the same without recording anything.
  EXPECT_EQ(s.ValidateEvent(bad).code(), StatusCode::kInvalidArgument);
  EXPECT_OK(s.ValidateEvent(good));
  // ImportNdjson: the bad line is skipped with the rule's message, the others imported.
  const std::string file = dir_.File("in.ndjson");
  {
    std::ofstream out(file);
    out << R"({"sessionId":"imp-1","eventType":"start","agentType":"claude","timestamp":1000})"
        << "\n"
        << R"({"sessionId":"imp-2","eventType":"start","agentType":"cursor","timestamp":1000})"
        << "\n";
  }
  auto imported = s.ImportNdjson(file, ImportOptions{});
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->imported, 1);
  EXPECT_EQ(imported->skipped, 1);
  ASSERT_EQ(imported->errors.size(), 1u);
  EXPECT_NE(imported->errors[0].message.find("Unknown agent"), std::string::npos);
  ASSERT_OK(s.FlushBuffers());
  ASSERT_OK(s.Shutdown());
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_sessions"), 3);  // ok-1, ok-2, imp-1
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_sessions WHERE agent_type "
                         "NOT IN ('claude','codex')"), 0);
}

TEST_P(ValidationRulesService, ARunningServiceSeesRuleChangesWithinTheRefreshInterval) {
  const std::string db = Db();
  TelemetryConfig config = TestConfig(db);
  config.local_store.rules_refresh_ms = 50;
  TelemetryService s(config);
  ASSERT_OK(s.Initialize());
  ASSERT_OK(s.TrackStart({"before", "gemini"}));
  auto svc = OpenIntegrityService(db);
  ASSERT_TRUE(svc);
  auto id = svc->AddValidationRule(AgentEnum());
  ASSERT_TRUE(id.ok());
  int n = 0;
  auto refused = [&] {
    return s.TrackStart({"s" + std::to_string(++n), "gemini"}).code() ==
           StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(WaitFor(refused, 5000));
  ASSERT_OK(svc->SetValidationRuleActive(*id, false));
  EXPECT_TRUE(WaitFor([&] { return !refused(); }, 5000));
  ASSERT_OK(svc->SetValidationRuleActive(*id, true));
  EXPECT_TRUE(WaitFor(refused, 5000));
  ASSERT_OK(svc->RemoveValidationRule(*id));
  EXPECT_TRUE(WaitFor([&] { return !refused(); }, 5000));
  ASSERT_OK(s.Shutdown());
}

TEST_P(ValidationRulesService, RulesAreOffWithDataIntegrityOff) {
  const std::string db = Db();
  InitDb(db);
  ASSERT_TRUE(OpenIntegrityService(db)->AddValidationRule(AgentEnum()).ok());
  TelemetryConfig config = TestConfig(db);
  config.local_store.enable_data_integrity = false;
  TelemetryService s(config);
  ASSERT_OK(s.Initialize());
  EXPECT_OK(s.TrackStart({"x", "gemini"}));
  ASSERT_OK(s.Shutdown());
}

}  // namespace
}  // namespace vibekit
