#include "vibekit/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace vibekit {
namespace {

class ConfigEnvTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const char* v : {"TELEMETRY_DB_PATH", "TELEMETRY_BATCH_SIZE", "TELEMETRY_FLUSH_INTERVAL",
                          "TELEMETRY_MAX_SIZE_MB", "TELEMETRY_RETENTION_DAYS", "VIBEKIT_TELEMETRY",
                          "TELEMETRY_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                          "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS",
                          "OTEL_EXPORTER_OTLP_TRACES_HEADERS"}) {
      unsetenv(v);
    }
  }
};

TEST_F(ConfigEnvTest, DefaultsMatchTheDescription) {
  TelemetryConfig c;
  EXPECT_EQ(c.local_store.db_path, ".vibekit/telemetry.db");
  EXPECT_EQ(c.local_store.prune_days, 30);
  EXPECT_EQ(c.local_store.stream_batch_size, 100);
  EXPECT_EQ(c.local_store.stream_flush_interval_ms, 1000);
  EXPECT_EQ(c.local_store.max_size_mb, 500);
  EXPECT_EQ(c.local_store.query_timeout_ms, 30000);
  EXPECT_TRUE(c.local_store.enable_wal);
  EXPECT_TRUE(c.local_store.enable_foreign_keys);
  EXPECT_FALSE(c.local_store.enable_query_logging);
  EXPECT_TRUE(c.is_enabled);
  EXPECT_TRUE(ValidateConfig(c).ok());
}

TEST_F(ConfigEnvTest, EnvironmentOverridesEveryDocumentedKey) {
  setenv("TELEMETRY_DB_PATH", "/tmp/x.db", 1);
  setenv("TELEMETRY_BATCH_SIZE", "7", 1);
  setenv("TELEMETRY_FLUSH_INTERVAL", "250", 1);
  setenv("TELEMETRY_MAX_SIZE_MB", "12", 1);
  setenv("TELEMETRY_RETENTION_DAYS", "3", 1);
  TelemetryConfig c;
  ASSERT_TRUE(ApplyEnvironment(c).ok());
  EXPECT_EQ(c.local_store.db_path, "/tmp/x.db");
  EXPECT_EQ(c.local_store.stream_batch_size, 7);
  EXPECT_EQ(c.local_store.stream_flush_interval_ms, 250);
  EXPECT_EQ(c.local_store.max_size_mb, 12);
  EXPECT_EQ(c.local_store.prune_days, 3);
  EXPECT_TRUE(c.is_enabled);
}

TEST_F(ConfigEnvTest, EndpointFromOurVariableOverridesTheConfig) {
  setenv("TELEMETRY_ENDPOINT", "http://collector:4318/v1/traces", 1);
  setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://other/v1/traces", 1);
  TelemetryConfig c;
  c.endpoint = "http://configured/v1/traces";
  ASSERT_TRUE(ApplyEnvironment(c).ok());
  EXPECT_EQ(c.endpoint, "http://collector:4318/v1/traces");
}

TEST_F(ConfigEnvTest, OtelEndpointVariablesOnlyFillAnUnsetEndpoint) {
  setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318/", 1);
  TelemetryConfig c;
  ASSERT_TRUE(ApplyEnvironment(c).ok());
  EXPECT_EQ(c.endpoint, "http://base:4318/v1/traces");  // the signal path is appended

  setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:9999/custom", 1);
  TelemetryConfig t;
  ASSERT_TRUE(ApplyEnvironment(t).ok());
  EXPECT_EQ(t.endpoint, "http://traces:9999/custom");  // used as is, and wins over the base

  TelemetryConfig configured;
  configured.endpoint = "http://configured/v1/traces";
  ASSERT_TRUE(ApplyEnvironment(configured).ok());
  EXPECT_EQ(configured.endpoint, "http://configured/v1/traces");
}

TEST_F(ConfigEnvTest, OtelHeadersAreParsedDecodedAndDoNotOverrideTheConfig) {
  setenv("OTEL_EXPORTER_OTLP_HEADERS", " api-key = s%20ecret ,x-team=a%3Db, keep=env", 1);
  setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-team=traces", 1);
  TelemetryConfig c;
  c.headers["keep"] = "config";
  ASSERT_TRUE(ApplyEnvironment(c).ok());
  EXPECT_EQ(c.headers["api-key"], "s ecret");
  EXPECT_EQ(c.headers["x-team"], "traces");
  EXPECT_EQ(c.headers["keep"], "config");
  EXPECT_EQ(c.headers.size(), 3u);

  setenv("OTEL_EXPORTER_OTLP_HEADERS", "novalue", 1);
  TelemetryConfig bad;
  const Status st = ApplyEnvironment(bad);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("OTEL_EXPORTER_OTLP_HEADERS"), std::string::npos) << st.ToString();
  EXPECT_TRUE(bad.headers.empty());
  setenv("OTEL_EXPORTER_OTLP_HEADERS", "k=%4", 1);
  EXPECT_EQ(ApplyEnvironment(bad).code(), StatusCode::kInvalidArgument);
}

TEST(ConfigValidation, RejectsBadEndpointsHeadersAndDeliverySettings) {
  TelemetryConfig c;
  c.endpoint = "collector:4318";
  EXPECT_EQ(ValidateConfig(c).code(), StatusCode::kInvalidArgument);
  c.endpoint = "https://collector:4318/v1/traces";
  EXPECT_TRUE(ValidateConfig(c).ok());
  c.headers["bad\r\nkey"] = "v";
  EXPECT_EQ(ValidateConfig(c).code(), StatusCode::kInvalidArgument);
  c.headers.clear();
  c.headers["x-api-key"] = "v\r\nInjected: 1";
  EXPECT_EQ(ValidateConfig(c).code(), StatusCode::kInvalidArgument);
  c.headers.clear();
  c.delivery.backoff_max_ms = c.delivery.backoff_base_ms - 1;
  EXPECT_EQ(ValidateConfig(c).code(), StatusCode::kInvalidArgument);
  c.delivery = DeliveryConfig{};
  c.delivery.max_events_per_request = 0;
  EXPECT_EQ(ValidateConfig(c).code(), StatusCode::kInvalidArgument);
}

TEST_F(ConfigEnvTest, OptOutVariableDisables) {
  for (const char* v : {"off", "0", "false", "disabled"}) {
    setenv("VIBEKIT_TELEMETRY", v, 1);
    TelemetryConfig c;
    ASSERT_TRUE(ApplyEnvironment(c).ok());
    EXPECT_FALSE(c.is_enabled) << v;
  }
  setenv("VIBEKIT_TELEMETRY", "on", 1);
  TelemetryConfig c;
  ASSERT_TRUE(ApplyEnvironment(c).ok());
  EXPECT_TRUE(c.is_enabled);
}

TEST_F(ConfigEnvTest, GarbageInVariableIsAnErrorNamingIt) {
  setenv("TELEMETRY_BATCH_SIZE", "12abc", 1);
  TelemetryConfig c;
  Status st = ApplyEnvironment(c);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("TELEMETRY_BATCH_SIZE"), std::string::npos);
  EXPECT_EQ(c.local_store.stream_batch_size, 100) << "config must stay unchanged";
}

TEST_F(ConfigEnvTest, ValidateConfigNamesTheBadKey) {
  TelemetryConfig c;
  c.local_store.stream_batch_size = 0;
  Status st = ValidateConfig(c);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("streamBatchSize"), std::string::npos);
}

}  // namespace
}  // namespace vibekit
