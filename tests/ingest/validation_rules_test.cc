// Validation rules compiled and checked against events: every rule type accepts and rejects,
// metadata paths, error-table rules, priorities, bad configs, the failure message, and the
// defaults that repeat the built-in checks being skipped.
#include "ingest/validation_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vibekit::ingest {
namespace {

ValidationRule Rule(std::string field, ValidationRuleType type, std::string config,
                    std::string table = "telemetry_events") {
  ValidationRule r;
  r.id = 7;
  r.table_name = std::move(table);
  r.field_name = std::move(field);
  r.rule_type = type;
  r.rule_config = std::move(config);
  r.error_message = "custom message";
  return r;
}

Event Ev(EventType type = EventType::kStart) {
  Event e;
  e.session_id = "sess-1";
  e.agent_type = "claude";
  e.event_type = type;
  e.prompt = "fix the build";
  e.mode = "code";
  e.metadata = R"({"userId":"u-42","user":{"email":"a@b.c","age":31},"tags":["x"]})";
  e.timestamp = 1700000000000;
  return e;
}

std::shared_ptr<const RuleSet> Compile(const std::vector<ValidationRule>& rules) {
  std::vector<std::string> skipped;
  auto set = RuleSet::Compile(rules, &skipped);
  EXPECT_TRUE(skipped.empty()) << skipped.front();
  return set;
}

Status CheckOne(const ValidationRule& rule, const Event& e) {
  return Compile({rule})->Check(e);
}

TEST(ValidationRules, EnumAcceptsListedValuesAndRejectsOthers) {
  ValidationRule r = Rule("agentType", ValidationRuleType::kEnum, R"(["claude","codex"])");
  EXPECT_TRUE(CheckOne(r, Ev()).ok());
  Event e = Ev();
  e.agent_type = "gemini";
  Status st = CheckOne(r, e);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "validation rule 7 failed: table=telemetry_events field=agentType rule=enum "
            "value=\"gemini\": custom message");
}

TEST(ValidationRules, EventTypeEnumOfTheDescriptionRejectsTypesLeftOut) {
  ValidationRule r = Rule("eventType", ValidationRuleType::kEnum, R"(["start","end"])");
  EXPECT_TRUE(CheckOne(r, Ev(EventType::kStart)).ok());
  EXPECT_FALSE(CheckOne(r, Ev(EventType::kStream)).ok());
}

TEST(ValidationRules, RegexSearchesTheValue) {
  ValidationRule r = Rule("sessionId", ValidationRuleType::kRegex, R"("^sess-[0-9]+$")");
  EXPECT_TRUE(CheckOne(r, Ev()).ok());
  Event e = Ev();
  e.session_id = "session one";
  EXPECT_FALSE(CheckOne(r, e).ok());
  // {"pattern": ...} form, unanchored: a search.
  ValidationRule obj = Rule("prompt", ValidationRuleType::kRegex, R"({"pattern":"build"})");
  EXPECT_TRUE(CheckOne(obj, Ev()).ok());
  e = Ev();
  e.prompt = "write docs";
  EXPECT_FALSE(CheckOne(obj, e).ok());
}

TEST(ValidationRules, RangeOnNumbersAndOnTextLength) {
  ValidationRule ts = Rule("timestamp", ValidationRuleType::kRange,
                           R"({"min":1600000000000,"max":1800000000000})");
  EXPECT_TRUE(CheckOne(ts, Ev()).ok());
  Event e = Ev();
  e.timestamp = 1500000000000;
  Status st = CheckOne(ts, e);
  EXPECT_NE(st.message().find("rule=range value=1500000000000"), std::string::npos)
      << st.message();
  ValidationRule age = Rule("metadata.user.age", ValidationRuleType::kRange, R"({"min":18})");
  EXPECT_TRUE(CheckOne(age, Ev()).ok());
  e = Ev();
  e.metadata = R"({"user":{"age":12}})";
  EXPECT_FALSE(CheckOne(age, e).ok());
  ValidationRule len = Rule("prompt", ValidationRuleType::kRange, R"({"min":5,"max":20})");
  EXPECT_TRUE(CheckOne(len, Ev()).ok());
  e = Ev();
  e.prompt = "hi";
  EXPECT_FALSE(CheckOne(len, e).ok());
}

TEST(ValidationRules, RequiredFailsOnMissingOrEmptyOnly) {
  ValidationRule r = Rule("repoUrl", ValidationRuleType::kRequired, "");
  Event e = Ev();
  Status st = CheckOne(r, e);
  EXPECT_NE(st.message().find("field=repoUrl rule=required value=<missing>"), std::string::npos)
      << st.message();
  e.repo_url = "";
  EXPECT_FALSE(CheckOne(r, e).ok());
  e.repo_url = "https://github.com/acme/app";
  EXPECT_TRUE(CheckOne(r, e).ok());
  ValidationRule user = Rule("metadata.userId", ValidationRuleType::kRequired, "{}");
  EXPECT_TRUE(CheckOne(user, Ev()).ok());
  e = Ev();
  e.metadata = R"({"other":1})";
  EXPECT_FALSE(CheckOne(user, e).ok());
  e.metadata.reset();
  EXPECT_FALSE(CheckOne(user, e).ok());
}

TEST(ValidationRules, AnAbsentFieldPassesEveryRuleButRequired) {
  Event e = Ev();
  e.repo_url.reset();
  for (const ValidationRule& r :
       {Rule("repoUrl", ValidationRuleType::kEnum, R"(["x"])"),
        Rule("repoUrl", ValidationRuleType::kRegex, R"("^https://")"),
        Rule("repoUrl", ValidationRuleType::kMaxLength, "3"),
        Rule("metadata.missing", ValidationRuleType::kJsonType, R"("number")")}) {
    EXPECT_TRUE(CheckOne(r, e).ok()) << r.field_name;
  }
}

TEST(ValidationRules, MaxLengthOfTextAndOfJson) {
  ValidationRule r = Rule("prompt", ValidationRuleType::kMaxLength, "13");
  EXPECT_TRUE(CheckOne(r, Ev()).ok());  // "fix the build" = 13 bytes
  Event e = Ev();
  e.prompt = "fix the build!";
  EXPECT_FALSE(CheckOne(r, e).ok());
  ValidationRule meta = Rule("metadata", ValidationRuleType::kMaxLength, R"({"max":20})");
  EXPECT_FALSE(CheckOne(meta, Ev()).ok());
  e.metadata = R"({"a":1})";
  EXPECT_TRUE(CheckOne(meta, e).ok());
}

TEST(ValidationRules, JsonTypeOfMetadataValues) {
  ValidationRule tags = Rule("metadata.tags", ValidationRuleType::kJsonType, R"("array")");
  EXPECT_TRUE(CheckOne(tags, Ev()).ok());
  Event e = Ev();
  e.metadata = R"({"tags":"x"})";
  Status st = CheckOne(tags, e);
  EXPECT_NE(st.message().find("field=metadata.tags rule=json_type value=\"x\""),
            std::string::npos)
      << st.message();
  ValidationRule integer = Rule("metadata.n", ValidationRuleType::kJsonType,
                                R"(["integer","null"])");
  e.metadata = R"({"n":3})";
  EXPECT_TRUE(CheckOne(integer, e).ok());
  e.metadata = R"({"n":3.0})";
  EXPECT_TRUE(CheckOne(integer, e).ok());
  e.metadata = R"({"n":null})";
  EXPECT_TRUE(CheckOne(integer, e).ok());
  e.metadata = R"({"n":3.5})";
  EXPECT_FALSE(CheckOne(integer, e).ok());
}

TEST(ValidationRules, ErrorTableRulesApplyToErrorEventsOnly) {
  ValidationRule r = Rule("message", ValidationRuleType::kMaxLength, "10", "telemetry_errors");
  Event start = Ev();
  EXPECT_TRUE(CheckOne(r, start).ok());
  Event err = Ev(EventType::kError);
  err.error = ErrorDetails{};
  err.error->message = "a very long error message";
  Status st = CheckOne(r, err);
  EXPECT_NE(st.message().find("table=telemetry_errors field=message"), std::string::npos);
  err.error->message = "short";
  EXPECT_TRUE(CheckOne(r, err).ok());
}

TEST(ValidationRules, HigherPriorityRunsFirstAndInactiveRulesAreLeftOut) {
  ValidationRule low = Rule("agentType", ValidationRuleType::kEnum, R"(["x"])");
  low.id = 1;
  low.error_message = "low";
  ValidationRule high = Rule("mode", ValidationRuleType::kEnum, R"(["y"])");
  high.id = 2;
  high.priority = 10;
  high.error_message = "high";
  Status st = Compile({low, high})->Check(Ev());
  EXPECT_TRUE(st.message().ends_with(": high")) << st.message();
  high.is_active = false;
  auto set = Compile({low, high});
  EXPECT_EQ(set->size(), 1u);
  EXPECT_TRUE(set->Check(Ev()).message().ends_with(": low"));
}

TEST(ValidationRules, LongValuesAreCutInTheMessage) {
  ValidationRule r = Rule("prompt", ValidationRuleType::kMaxLength, "5");
  Event e = Ev();
  e.prompt = std::string(500, 'a');
  Status st = CheckOne(r, e);
  EXPECT_NE(st.message().find("value=\"" + std::string(79, 'a') + "...: custom message"),
            std::string::npos)
      << st.message();
  EXPECT_LT(st.message().size(), 250u);
}

TEST(ValidationRules, BadConfigsAreRefusedWithAReason) {
  struct Case {
    ValidationRule rule;
    const char* says;
  };
  const std::vector<Case> cases = {
      {Rule("agentType", ValidationRuleType::kEnum, "[]"), "non-empty JSON array"},
      {Rule("agentType", ValidationRuleType::kEnum, R"("claude")"), "non-empty JSON array"},
      {Rule("agentType", ValidationRuleType::kRegex, R"("([a-z")"), "does not compile"},
      {Rule("agentType", ValidationRuleType::kRegex, "42"), "regex as a JSON string"},
      {Rule("timestamp", ValidationRuleType::kRange, R"({"min":5,"max":1})"), "min greater"},
      {Rule("timestamp", ValidationRuleType::kRange, "{}"), "needs min or max"},
      {Rule("timestamp", ValidationRuleType::kRange, R"({"low":1})"), "unknown key"},
      {Rule("prompt", ValidationRuleType::kMaxLength, "-1"), "non-negative integer"},
      {Rule("prompt", ValidationRuleType::kRequired, "[1]"), "must be empty"},
      {Rule("metadata", ValidationRuleType::kJsonType, R"("date")"), "unknown type"},
      {Rule("agentType", ValidationRuleType::kEnum, "[not json"), "not valid JSON"},
      {Rule("nope", ValidationRuleType::kRequired, ""), "unknown field 'nope'"},
      {Rule("prompt", ValidationRuleType::kRequired, "", "telemetry_sessions"), "unknown field"},
      {Rule("agentType", ValidationRuleType::kRequired, "", "users"), "unknown table"},
      {Rule("metadata.", ValidationRuleType::kRequired, ""), "unknown field"},
  };
  for (const Case& c : cases) {
    Status st = CheckValidationRule(c.rule);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.says;
    EXPECT_NE(st.message().find(c.says), std::string::npos) << st.message();
  }
}

TEST(ValidationRules, ARuleThatDoesNotCompileIsSkippedWithAReason) {
  ValidationRule bad = Rule("agentType", ValidationRuleType::kRegex, R"("(")");
  ValidationRule good = Rule("agentType", ValidationRuleType::kEnum, R"(["codex"])");
  std::vector<std::string> skipped;
  auto set = RuleSet::Compile({bad, good}, &skipped);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("validation rule 7 is ignored"), std::string::npos);
  EXPECT_EQ(set->size(), 1u);
  EXPECT_FALSE(set->Check(Ev()).ok());
}

TEST(ValidationRules, RulesTheBuiltInChecksGuaranteeAreNotEvaluatedAgain) {
  // The seeded defaults (store/default_rules.h).
  std::vector<ValidationRule> defaults = {
      Rule("eventType", ValidationRuleType::kEnum, R"(["start","stream","end","error"])"),
      Rule("sessionId", ValidationRuleType::kRequired, ""),
      Rule("sessionId", ValidationRuleType::kMaxLength, "256"),
      Rule("agentType", ValidationRuleType::kRequired, ""),
      Rule("agentType", ValidationRuleType::kMaxLength, "256"),
      Rule("timestamp", ValidationRuleType::kRange, R"({"min":0,"max":253402300799999})"),
      Rule("metadata", ValidationRuleType::kJsonType, R"("object")"),
  };
  EXPECT_TRUE(Compile(defaults)->empty());
  // Narrowed, they are evaluated.
  EXPECT_EQ(Compile({Rule("agentType", ValidationRuleType::kMaxLength, "4")})->size(), 1u);
  EXPECT_EQ(Compile({Rule("timestamp", ValidationRuleType::kRange, R"({"min":1})")})->size(), 1u);
}

TEST(ValidationRules, TypeNamesRoundTrip) {
  for (ValidationRuleType t : {ValidationRuleType::kEnum, ValidationRuleType::kRegex,
                               ValidationRuleType::kRange, ValidationRuleType::kRequired,
                               ValidationRuleType::kMaxLength, ValidationRuleType::kJsonType}) {
    auto parsed = ParseValidationRuleType(ValidationRuleTypeName(t));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, t);
  }
  EXPECT_EQ(ParseValidationRuleType("maxLength").value(), ValidationRuleType::kMaxLength);
  EXPECT_FALSE(ParseValidationRuleType("between").ok());
}

}  // namespace
}  // namespace vibekit::ingest
