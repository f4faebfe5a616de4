// A database made by the reference TypeScript implementation (its DDL, written here by SQL: REAL
// millisecond timestamps, created_at from unixepoch() in seconds or a constant frozen when the
// first migration was generated, empty prompts on stream events) is migrated in without loss.
// SQLite only, not parametrised over the backends: the reference's databases are SQLite files
// (on PostgreSQL there is nothing to convert; `db copy` moves a converted file there).
#include <gtest/gtest.h>

#include <string>

#include "integrity/integrity_test_util.h"
#include "vibekit/data_integrity.h"

namespace vibekit {
namespace {

using testing::ExecSql;
using testing::QueryInt;
using testing::QueryText;
using testing::TempDir;
using testing::TestConfig;

// The reference's eight tables (schema-reference.md), with its defects.
constexpr const char* kReferenceDdl = R"sql(
PRAGMA journal_mode = WAL;
CREATE TABLE telemetry_sessions (
  id TEXT PRIMARY KEY, agent_type TEXT, mode TEXT,
  status TEXT NOT NULL CHECK (status IN ('active','completed','failed','timeout')),
  start_time REAL NOT NULL, end_time REAL, duration REAL, event_count INTEGER DEFAULT 0,
  stream_event_count INTEGER DEFAULT 0, error_count INTEGER DEFAULT 0, sandbox_id TEXT,
  repo_url TEXT, metadata TEXT, created_at INTEGER DEFAULT (unixepoch()),
  updated_at INTEGER DEFAULT (unixepoch()), version INTEGER DEFAULT 1,
  schema_version TEXT DEFAULT '1.0.0');
CREATE TABLE telemetry_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL REFERENCES telemetry_sessions(id) ON DELETE CASCADE,
  event_type TEXT NOT NULL, agent_type TEXT NOT NULL, mode TEXT, prompt TEXT NOT NULL,
  stream_data TEXT, sandbox_id TEXT, repo_url TEXT, metadata TEXT, timestamp REAL NOT NULL,
  created_at INTEGER DEFAULT 1700000000, version INTEGER DEFAULT 1,
  schema_version TEXT DEFAULT '1.0.0');
CREATE TABLE telemetry_buffers (
  id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT, status TEXT DEFAULT 'pending',
  event_count INTEGER DEFAULT 0, buffer_data TEXT, max_size INTEGER,
  created_at INTEGER DEFAULT (unixepoch()), last_updated INTEGER, flushed_at INTEGER,
  flush_attempts INTEGER DEFAULT 0, version INTEGER DEFAULT 1,
  schema_version TEXT DEFAULT '1.0.0');
CREATE TABLE telemetry_stats (
  id INTEGER PRIMARY KEY AUTOINCREMENT, stat_type TEXT NOT NULL, stat_key TEXT NOT NULL,
  total_events INTEGER DEFAULT 0, start_events INTEGER DEFAULT 0, stream_events INTEGER DEFAULT 0,
  end_events INTEGER DEFAULT 0, error_events INTEGER DEFAULT 0, unique_sessions INTEGER DEFAULT 0,
  agent_breakdown TEXT, mode_breakdown TEXT, avg_session_duration REAL, min_timestamp REAL,
  max_timestamp REAL, computed_at INTEGER DEFAULT (unixepoch()),
  updated_at INTEGER DEFAULT (unixepoch()), version INTEGER DEFAULT 1,
  schema_version TEXT DEFAULT '1.0.0', UNIQUE (stat_type, stat_key));
CREATE TABLE telemetry_errors (
  id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT REFERENCES telemetry_sessions(id),
  event_id INTEGER REFERENCES telemetry_events(id), error_type TEXT NOT NULL,
  error_message TEXT NOT NULL, error_stack TEXT, context TEXT, severity TEXT DEFAULT 'medium',
  resolved INTEGER DEFAULT 0, metadata TEXT, timestamp REAL NOT NULL,
  created_at INTEGER DEFAULT (unixepoch()), resolved_at REAL, resolved_by TEXT,
  version INTEGER DEFAULT 1, schema_version TEXT DEFAULT '1.0.0');
CREATE TABLE telemetry_audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT, table_name TEXT NOT NULL, record_id TEXT,
  operation TEXT NOT NULL, old_values TEXT, new_values TEXT, changed_fields TEXT, user_id TEXT,
  session_id TEXT, reason TEXT, metadata TEXT, timestamp REAL NOT NULL,
  created_at INTEGER DEFAULT (unixepoch()));
CREATE TABLE telemetry_validation_rules (
  id INTEGER PRIMARY KEY AUTOINCREMENT, table_name TEXT NOT NULL, field_name TEXT NOT NULL,
  rule_type TEXT NOT NULL, rule_config TEXT, error_message TEXT, is_active INTEGER DEFAULT 1,
  priority INTEGER DEFAULT 0, created_at INTEGER DEFAULT (unixepoch()),
  updated_at INTEGER DEFAULT (unixepoch()));
CREATE TABLE telemetry_schema_versions (
  id INTEGER PRIMARY KEY AUTOINCREMENT, version TEXT NOT NULL UNIQUE, description TEXT,
  migration_script TEXT, rollback_script TEXT, applied_at INTEGER DEFAULT (unixepoch()),
  is_active INTEGER DEFAULT 1, metadata TEXT);
CREATE INDEX idx_events_session_time ON telemetry_events (session_id, timestamp);
CREATE INDEX idx_sessions_start ON telemetry_sessions (start_time);
INSERT INTO telemetry_schema_versions (version, description) VALUES
  ('1.0.0', 'initial'), ('1.1.0', 'created_at defaults to unixepoch()');
INSERT INTO telemetry_sessions (id, agent_type, mode, status, start_time, end_time, duration,
  event_count, metadata) VALUES
  ('ref-1', 'claude', 'code', 'completed', 1767225600000.0, 1767225660500.4, 60500.4, 4,
   '{"user":"ana"}'),
  ('ref-2', 'codex', NULL, 'failed', 1767225700000.7, 1767225710000.0, 9999.3, 2, NULL),
  ('ref-3', 'gemini', 'chat', 'active', 1767225800000.0, NULL, NULL, 1, NULL);
INSERT INTO telemetry_events (session_id, event_type, agent_type, mode, prompt, stream_data,
  metadata, timestamp) VALUES
  ('ref-1', 'start', 'claude', 'code', 'refactor the parser', NULL, '{"k":1}', 1767225600000.0),
  ('ref-1', 'stream', 'claude', 'code', '', 'rewriting parse_header', NULL, 1767225610000.25),
  ('ref-1', 'stream', 'claude', 'code', '', 'tests pass', NULL, 1767225650000.75),
  ('ref-1', 'end', 'claude', 'code', '', NULL, '{"status":"success"}', 1767225660500.4),
  ('ref-2', 'start', 'codex', NULL, 'add retries', NULL, NULL, 1767225700000.7),
  ('ref-2', 'error', 'codex', NULL, '', NULL, NULL, 1767225710000.0),
  ('ref-3', 'start', 'gemini', 'chat', 'explain the build', NULL, NULL, 1767225800000.0);
INSERT INTO telemetry_errors (session_id, event_id, error_type, error_message, severity,
  timestamp, resolved, resolved_at, resolved_by) VALUES
  ('ref-2', 6, 'tool', 'npm test failed', 'high', 1767225710000.0, 1, 1767225720000.0, 'ana');
INSERT INTO telemetry_audit_log (table_name, record_id, operation, new_values, timestamp) VALUES
  ('telemetry_sessions', 'ref-1', 'UPDATE', '{"status":"completed"}', 1767225660500.4);
INSERT INTO telemetry_validation_rules (table_name, field_name, rule_type, rule_config,
  error_message) VALUES ('telemetry_events', 'eventType', 'enum',
  '["start","stream","end","error"]', 'Invalid event type');
INSERT INTO telemetry_buffers (session_id, status, event_count, buffer_data) VALUES
  ('ref-3', 'pending', 1, '[{"type":"stream"}]');
INSERT INTO telemetry_stats (stat_type, stat_key, total_events) VALUES ('global', 'all', 999);
)sql";

void CheckImported(const std::string& db) {
  // Every row, no more, no fewer.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_sessions"), 3);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), 7);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_errors"), 1);
  // Its one rule (the description's eventType enum, which schema 1.7.0 does not add a second
  // time) and the six other defaults.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_validation_rules"), 7);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_buffers"), 1);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_audit_log WHERE record_id = 'ref-1'"), 1);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'vk_ref_%'"), 0);
  // Timestamps: INTEGER milliseconds, rounded.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events WHERE typeof(timestamp) <> "
                         "'integer'"), 0);
  EXPECT_EQ(QueryText(db, "SELECT group_concat(timestamp, ',') FROM (SELECT timestamp FROM "
                          "telemetry_events WHERE session_id = 'ref-1' ORDER BY id)"),
            "1767225600000,1767225610000,1767225650001,1767225660500");
  EXPECT_EQ(QueryText(db, "SELECT start_time || '/' || end_time || '/' || duration FROM "
                          "telemetry_sessions WHERE id = 'ref-2'"),
            "1767225700001/1767225710000/9999");
  EXPECT_EQ(QueryInt(db, "SELECT resolved_at FROM telemetry_errors"), 1767225720000);
  // created_at: seconds became ms; the frozen constant (1700000000 s, 2023) became the event's
  // own time; nothing left in seconds.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events WHERE created_at <> timestamp"),
            0);
  for (const char* t : {"telemetry_sessions", "telemetry_errors", "telemetry_validation_rules",
                        "telemetry_buffers", "telemetry_audit_log"}) {
    EXPECT_EQ(QueryInt(db, std::string("SELECT count(*) FROM ") + t +
                               " WHERE created_at < 100000000000"), 0) << t;
  }
  EXPECT_GT(QueryInt(db, "SELECT min(created_at) FROM telemetry_validation_rules"),
            1700000000000);
  // Empty prompts are no prompts; real ones kept.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events WHERE prompt = ''"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events WHERE prompt IS NOT NULL"), 3);
  EXPECT_EQ(QueryText(db, "SELECT metadata FROM telemetry_sessions WHERE id = 'ref-1'"),
            "{\"user\":\"ana\"}");
  // Counters and statistics from the events (the reference's 999 was wrong).
  EXPECT_EQ(QueryText(db, "SELECT event_count || '/' || stream_event_count || '/' || error_count "
                          "FROM telemetry_sessions WHERE id = 'ref-1'"), "4/2/0");
  EXPECT_EQ(QueryInt(db, "SELECT error_count FROM telemetry_sessions WHERE id = 'ref-2'"), 1);
  EXPECT_EQ(QueryInt(db, "SELECT total_events FROM telemetry_stats WHERE stat_type = 'global'"), 7);
  EXPECT_EQ(QueryInt(db, "SELECT sum(events) FROM telemetry_minute_rollups"), 7);
  // The text index (built from the imported rows by the first store that opens the database)
  // covers the imported events.
  {
    TelemetryService s(TestConfig(db));
    ASSERT_OK(s.Initialize());
    EventQueryFilter f;
    f.contains = "rewriting";
    auto hits = s.QueryEvents(f);
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    EXPECT_EQ(hits->size(), 1u);
    ASSERT_OK(s.Shutdown());
  }
  EXPECT_EQ(QueryInt(db + "-text", "SELECT count(*) FROM telemetry_events_fts WHERE "
                                  "telemetry_events_fts MATCH 'rewriting'"), 1);
  // The conversion is in the audit trail, with the reference's own versions.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_audit_log WHERE record_id = "
                         "'reference' AND old_values LIKE '%unixepoch%'"), 1);
}

TEST(ReferenceImport, DbMigrateConvertsEveryRowAndFixesTimestamps) {
  TempDir dir;
  const std::string db = dir.File("reference.db");
  ExecSql(db, kReferenceDdl);
  auto svc = DataIntegrityService::Open(TestConfig(db));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  auto r = (*svc)->MigrateTo(DataIntegrityService::LatestSchemaVersion());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->from_version, "reference");
  EXPECT_EQ(r->to_version, std::string(DataIntegrityService::LatestSchemaVersion()));
  CheckImported(db);
  auto v = (*svc)->Validate(true);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  for (const auto& f : v->findings) ADD_FAILURE() << FindingKindName(f.kind) << ": " << f.detail;
}

TEST(ReferenceImport, OpeningWithTheServiceMigratesItInAndItStaysQueryable) {
  TempDir dir;
  const std::string db = dir.File("reference2.db");
  ExecSql(db, kReferenceDdl);
  TelemetryService s(TestConfig(db));
  ASSERT_OK(s.Initialize());
  auto stats = s.GetSessionStats("ref-1");
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->event_count, 4);
  // New events land next to the imported ones.
  TrackStreamParams sp{"ref-3", "gemini"};
  sp.stream_data = "after the import";
  ASSERT_OK(s.TrackStream(sp));
  ASSERT_OK(s.FlushBuffers());
  ASSERT_OK(s.Shutdown());
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), 8);
  EXPECT_EQ(QueryInt(db, "SELECT max(id) FROM telemetry_events"), 8);  // ids continue
  EXPECT_EQ(QueryInt(db, "SELECT total_events FROM telemetry_stats WHERE stat_type = 'global'"), 8);
}

TEST(ReferenceImport, MigrateToAnOlderVersionEndsThere) {
  TempDir dir;
  const std::string db = dir.File("reference3.db");
  ExecSql(db, kReferenceDdl);
  auto svc = DataIntegrityService::Open(TestConfig(db));
  ASSERT_TRUE(svc.ok());
  auto r = (*svc)->MigrateTo("1.2.0");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*(*svc)->GetCurrentSchemaVersion(), "1.2.0");
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), 7);
}

}  // namespace
}  // namespace vibekit
