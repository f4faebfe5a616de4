#include "views/json_views.h"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace vibekit::views {
namespace {

namespace json = boost::json;

TEST(JsonViews, TextKeepsDoublesAsDoublesAndNullsNonFinite) {
  json::object o{{"a", 2.0}, {"b", std::numeric_limits<double>::infinity()}, {"c", 3}};
  EXPECT_EQ(JsonText(o), R"({"a":2.0,"b":null,"c":3})");
}

TEST(JsonViews, TextReplacesInvalidUtf8AndEscapesControls) {
  json::value v = json::string(std::string("ok\xff\x01", 4));
  EXPECT_EQ(JsonText(v), R"("ok\ufffd\u0001")");
}

TEST(JsonViews, PrettyTextIndents) {
  json::object o{{"a", json::array{1, 2}}};
  EXPECT_EQ(JsonText(o, 2), "{\n  \"a\": [\n    1,\n    2\n  ]\n}");
}

TEST(JsonViews, ErrorRecordHasCamelCaseFieldsAndMetadataObject) {
  ErrorRecord e;
  e.id = 7;
  e.session_id = "s1";
  e.event_id = 42;
  e.error_type = "RateLimitError";
  e.error_message = "slow down";
  e.severity = ErrorSeverity::kHigh;
  e.metadata = R"({"k":1})";
  e.timestamp = 1000;
  const json::object o = ErrorRecordToJsonObject(e);
  EXPECT_EQ(o.at("sessionId").as_string(), "s1");
  EXPECT_EQ(o.at("eventId").as_int64(), 42);
  EXPECT_EQ(o.at("errorType").as_string(), "RateLimitError");
  EXPECT_EQ(o.at("severity").as_string(), "high");
  EXPECT_TRUE(o.at("errorStack").is_null());
  EXPECT_EQ(o.at("metadata").as_object().at("k").as_int64(), 1);
}

TEST(JsonViews, AlertNamesDirectionAndSeverity) {
  AlertEvent a;
  a.id = 3;
  a.metric = "error_rate";
  a.value = 12.5;
  a.threshold = 5;
  a.direction = AlertDirection::kAbove;
  a.severity = AlertSeverity::kCritical;
  a.fired_at_ms = 60000;
  const json::object o = AlertToJsonObject(a);
  EXPECT_EQ(o.at("direction").as_string(), "above");
  EXPECT_EQ(o.at("severity").as_string(), "critical");
  EXPECT_TRUE(o.at("resolvedAt").is_null());
  EXPECT_DOUBLE_EQ(o.at("value").as_double(), 12.5);
}

TEST(JsonViews, PredictionListsPoints) {
  Prediction p;
  p.metric = "throughput";
  p.method = "holt";
  p.points.push_back({60000, 10.0, 8.0, 12.0});
  const json::object o = PredictionToJsonObject(p);
  ASSERT_EQ(o.at("points").as_array().size(), 1u);
  EXPECT_DOUBLE_EQ(o.at("points").as_array()[0].as_object().at("upper").as_double(), 12.0);
  EXPECT_TRUE(o.at("backtestMae").is_null());
}

}  // namespace
}  // namespace vibekit::views
