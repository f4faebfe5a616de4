#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>
#include <span>
#include <string>
#include <vector>

#include "store/sqlite/database.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/test_util.h"

namespace vibekit::store::sqlite {
namespace {

using vibekit::testing::QueryInt;
using vibekit::testing::QueryText;
using vibekit::testing::TempDir;

std::set<std::string> Columns(const std::string& db, const std::string& table) {
  std::set<std::string> out;
  const std::string list = QueryText(
      db, "SELECT group_concat(name, ',') FROM pragma_table_info('" + table + "')");
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = list.find(',', start);
    out.insert(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

class SchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.db_path = dir_.File("sub/dir/t.db");
    store_ = std::make_unique<SqliteStore>(config_, SystemClock());
    ASSERT_OK(store_->Open());
  }
  TempDir dir_;
  LocalStoreConfig config_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SchemaTest, HasAllEightReferenceTablesWithTheirColumns) {
  const std::string db = config_.db_path;
  const std::map<std::string, std::vector<std::string>> expected = {
      {"telemetry_sessions", {"id", "agent_type", "mode", "status", "start_time", "end_time",
                              "duration", "event_count", "stream_event_count", "error_count",
                              "sandbox_id", "repo_url", "metadata", "created_at", "updated_at",
                              "version", "schema_version"}},
      {"telemetry_events", {"id", "session_id", "event_type", "agent_type", "mode", "prompt",
                            "stream_data", "sandbox_id", "repo_url", "metadata", "timestamp",
                            "created_at", "version", "schema_version"}},
      {"telemetry_buffers", {"id", "session_id", "status", "event_count", "buffer_data",
                             "max_size", "created_at", "last_updated", "flushed_at",
                             "flush_attempts", "version", "schema_version"}},
      {"telemetry_stats", {"id", "stat_type", "stat_key", "total_events", "start_events",
                           "stream_events", "end_events", "error_events", "unique_sessions",
                           "agent_breakdown", "mode_breakdown", "avg_session_duration",
                           "min_timestamp", "max_timestamp", "computed_at", "updated_at",
                           "version", "schema_version"}},
      {"telemetry_errors", {"id", "session_id", "event_id", "error_type", "error_message",
                            "error_stack", "context", "severity", "resolved", "metadata",
                            "timestamp", "created_at", "resolved_at", "resolved_by", "version",
                            "schema_version"}},
      {"telemetry_audit_log", {"id", "table_name", "record_id", "operation", "old_values",
                               "new_values", "changed_fields", "user_id", "session_id", "reason",
                               "metadata", "timestamp", "created_at"}},
      {"telemetry_validation_rules", {"id", "table_name", "field_name", "rule_type",
                                      "rule_config", "error_message", "is_active", "priority",
                                      "created_at", "updated_at"}},
      {"telemetry_schema_versions", {"id", "version", "description", "migration_script",
                                     "rollback_script", "applied_at", "is_active", "metadata"}},
  };
  for (const auto& [table, cols] : expected) {
    const auto have = Columns(db, table);
    for (const auto& c : cols) EXPECT_TRUE(have.count(c)) << table << "." << c << " missing";
  }
}

TEST_F(SchemaTest, PromptIsNullableAndTimestampsAreMilliseconds) {
  EXPECT_EQ(QueryInt(config_.db_path,
                     "SELECT \"notnull\" FROM pragma_table_info('telemetry_events') "
                     "WHERE name='prompt'"),
            0);
  // The created_at default is computed per row, in milliseconds (not a frozen constant, not s).
  const std::string dflt = QueryText(
      config_.db_path,
      "SELECT dflt_value FROM pragma_table_info('telemetry_events') WHERE name='created_at'");
  EXPECT_NE(dflt.find("julianday('now')"), std::string::npos) << dflt;
  EXPECT_NE(dflt.find("86400000"), std::string::npos) << dflt;
}

TEST_F(SchemaTest, ForeignKeysCascadeOnDelete) {
  for (const char* table : {"telemetry_events", "telemetry_errors"}) {
    EXPECT_GE(QueryInt(config_.db_path, std::string("SELECT count(*) FROM pragma_foreign_key_list('") +
                                            table + "') WHERE on_delete='CASCADE'"),
              1)
        << table;
  }
}

TEST_F(SchemaTest, MigrationsAreRecordedOnceAndReopenIsIdempotent) {
  EXPECT_EQ(QueryInt(config_.db_path, "SELECT count(*) FROM telemetry_schema_versions"),
            static_cast<std::int64_t>(Migrations().size()));
  store_->Close();
  store_ = std::make_unique<SqliteStore>(config_, SystemClock());
  ASSERT_OK(store_->Open());
  EXPECT_EQ(QueryInt(config_.db_path, "SELECT count(*) FROM telemetry_schema_versions"),
            static_cast<std::int64_t>(Migrations().size()));
  EXPECT_EQ(QueryText(config_.db_path,
                      "SELECT version FROM telemetry_schema_versions ORDER BY id DESC LIMIT 1"),
            std::string(CurrentSchemaVersion()));
  EXPECT_FALSE(QueryText(config_.db_path,
                         "SELECT rollback_script FROM telemetry_schema_versions LIMIT 1").empty());
}

TEST_F(SchemaTest, SchemaVersionsListEveryMigrationInOrder) {
  auto versions = store_->SchemaVersions();
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), Migrations().size());
  for (std::size_t i = 0; i < versions->size(); ++i) {
    EXPECT_EQ((*versions)[i].version, std::string(Migrations()[i].version));
    EXPECT_GT((*versions)[i].applied_at, 0);
    EXPECT_TRUE((*versions)[i].is_active);
  }
}

TEST_F(SchemaTest, FileIsPrivateAndInWal) {
  struct stat st {};
  ASSERT_EQ(stat(config_.db_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(dir_.File("sub/dir").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(stat(dir_.File("sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(QueryText(config_.db_path, "PRAGMA journal_mode"), "wal");
}

TEST(SchemaPragmas, EveryConnectionGetsNormalSyncAndNoSecureDelete) {
  TempDir dir;
  auto db = Database::Open(dir.File("p.db"), OpenOptions{});
  ASSERT_TRUE(db.ok());
  LocalStoreConfig config;
  config.cache_size_kib = 2048;
  ASSERT_OK(ConfigureConnection(**db, true, config));
  EXPECT_EQ(*(*db)->QueryInt("PRAGMA synchronous"), 1);  // NORMAL (Debian's default is FULL)
  EXPECT_EQ(*(*db)->QueryInt("PRAGMA secure_delete"), 0);  // Debian's default is ON
  EXPECT_EQ(*(*db)->QueryInt("PRAGMA foreign_keys"), 1);
  EXPECT_EQ(*(*db)->QueryText("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(*(*db)->QueryInt("PRAGMA cache_size"), -2048);
}

TEST(SchemaOpen, NotADatabaseIsReportedAsCorruption) {
  TempDir dir;
  const std::string path = dir.File("garbage.db");
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  for (int i = 0; i < 200; ++i) fputs("this is not an sqlite database at all\n", f);
  fclose(f);
  LocalStoreConfig config;
  config.db_path = path;
  SqliteStore store(config, SystemClock());
  Status st = store.Open();
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
}

// Events are inserted 8 rows per statement, the remainder one by one: every event keeps its
// acceptance order in the ids, error rows point at their own event, the text index covers them.
TEST(SqliteStoreBatch, MultiRowInsertsKeepOrderIdsAndErrorLinks) {
  TempDir dir;
  LocalStoreConfig config;
  config.db_path = dir.File("rows.db");
  SqliteStore store(config, SystemClock());
  ASSERT_OK(store.Open());
  std::vector<Event> events;
  for (int i = 0; i < 21; ++i) {  // two statements of 8, then 5 single rows
    Event e;
    e.session_id = "s" + std::to_string(i % 3);
    e.agent_type = "claude";
    e.event_type = i % 4 == 3 ? EventType::kError : EventType::kStream;
    e.stream_data = "chunk" + std::to_string(i) + (i % 5 == 0 ? std::string(600, 'x') : "");
    e.timestamp = 1000 + i;
    if (e.event_type == EventType::kError) e.error = ErrorDetails{.message = "boom" + std::to_string(i)};
    events.push_back(e);
  }
  ASSERT_OK(store.ApplyBatch(std::span<const Event>(events).first(3), 5000));  // ids 1..3
  ASSERT_OK(store.ApplyBatch(std::span<const Event>(events).subspan(3), 5000));
  EXPECT_EQ(store.LastBatchIds(), std::make_pair(std::int64_t{4}, std::int64_t{21}));
  store.Close();
  const std::string db = config.db_path;
  // Ids follow the events' order: id i+1 holds event i.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events WHERE timestamp = 999 + id"), 21);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_errors"), 5);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_errors r JOIN telemetry_events e "
                         "ON e.id = r.event_id WHERE e.event_type = 'error' AND "
                         "r.error_message = 'boom' || (e.id - 1) AND r.timestamp = e.timestamp"),
            5);
  // Each event's own text is indexed under its id (chunk<i> is event i's only).
  for (int i : {0, 7, 8, 15, 16, 20}) {
    EXPECT_EQ(QueryInt(db + "-text", "SELECT rowid FROM telemetry_events_fts WHERE telemetry_events_fts "
                           "MATCH 'chunk" + std::to_string(i) + "*'") - 1,
              i);
  }
}

// The writer keeps the privacy-range statement prepared between batches; when another process
// rolls the schema back below 1.8.0 (the table gone), batches keep committing without a range.
TEST_F(SchemaTest, BatchesKeepCommittingWhenAnotherProcessDropsThePrivacyRanges) {
  Event e;
  e.session_id = "p";
  e.event_type = EventType::kStart;
  e.agent_type = "claude";
  e.timestamp = 1'700'000'000'000;
  store_->SetIncomingPrivacy(std::string(64, 'a'));
  ASSERT_OK(store_->ApplyBatch(std::vector<Event>{e}, e.timestamp));
  EXPECT_EQ(QueryInt(config_.db_path, "SELECT count(*) FROM telemetry_privacy_ranges"), 1);
  vibekit::testing::ExecSql(config_.db_path, "DROP TABLE telemetry_privacy_ranges");
  e.event_type = EventType::kStream;
  e.stream_data = "after the drop";
  ASSERT_OK(store_->ApplyBatch(std::vector<Event>{e}, e.timestamp + 1));
  ASSERT_OK(store_->ApplyBatch(std::vector<Event>{e}, e.timestamp + 2));
  EXPECT_EQ(QueryInt(config_.db_path, "SELECT count(*) FROM telemetry_events"), 3);
}

}  // namespace
}  // namespace vibekit::store::sqlite
