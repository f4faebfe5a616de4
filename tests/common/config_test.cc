#include "vibekit/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace vibekit {
namespace {

class ConfigEnvTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const char* v : {"TELEMETRY_DB_PATH", "TELEMETRY_BATCH_SIZE", "TELEMETRY_FLUSH_INTERVAL",
                          "TELEMETRY_MAX_SIZE_MB", "TELEMETRY_RETENTION_DAYS", "VIBEKIT_TELEMETRY"}) {
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
