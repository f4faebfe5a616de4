#include "store/sqlite/schema.h"

#include "store/default_rules.h"
#include "store/privacy_ranges.h"
#include "store/text_index_file.h"

#include "store/sqlite/minute_rollup_sql.h"
#include "store/sqlite/reference_import.h"

#include <algorithm>
#include <string>

namespace vibekit::store::sqlite {
namespace {

// Milliseconds since the epoch, as a column default for rows written by other tools. Our own
// code always binds the value. (unixepoch('subsec') needs SQLite 3.42; Debian 12 has 3.40.)
#define VK_NOW_MS "(CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))"

// 1.0.0: the reference design's eight tables, with its defects fixed: one time unit
// (milliseconds, INTEGER) everywhere, created_at defaults computed per row, prompt nullable,
// ON DELETE CASCADE on every foreign key, CHECK constraints on the enumerations.
constexpr std::string_view kSchema100 = R"sql(
CREATE TABLE IF NOT EXISTS telemetry_sessions (
  id TEXT PRIMARY KEY NOT NULL,
  agent_type TEXT,
  mode TEXT,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','completed','failed','timeout')),
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  duration INTEGER,
  event_count INTEGER NOT NULL DEFAULT 0,
  stream_event_count INTEGER NOT NULL DEFAULT 0,
  error_count INTEGER NOT NULL DEFAULT 0,
  sandbox_id TEXT,
  repo_url TEXT,
  metadata TEXT,
  created_at INTEGER NOT NULL DEFAULT )sql" VK_NOW_MS R"sql(,
  updated_at INTEGER NOT NULL DEFAULT )sql" VK_NOW_MS R"sql(,
  version INTEGER DEFAULT 1,
  schema_version TEXT DEFAULT '1.0.0'
);
CREATE TABLE IF NOT EXISTS telemetry_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL REFERENCES telemetry_sessions(id) ON DELETE CASCADE ON UPDATE CASCADE,
  event_type TEXT NOT NULL CHECK (event_type IN ('start','stream','end','error')),
  agent_type TEXT NOT NULL,
  mode TEXT,
  prompt TEXT,
  stream_data TEXT,
  sandbox_id TEXT,
  repo_url TEXT,
  metadata TEXT,
  timestamp INTEGER NOT NULL,
  created_at INTEGER NOT NULL DEFAULT )sql" VK_NOW_MS R"sql(,
  version INTEGER DEFAULT 1,
  schema_version TEXT DEFAULT '1.0.0'
);
CREATE TABLE IF NOT EXISTS telemetry_buffers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','flushed','failed')),
  event_count INTEGER NOT NULL DEFAULT 0,
  buffer_data TEXT,
  max_size INTEGER,
  created_at INTEGER NOT NULL DEFAULT )sql" VK_NOW_MS R"sql(,
  last_updated INTEGER,
  flushed_at INTEGER,
  flush_attempts INTEGER NOT NULL DEFAULT 0,
  version INTEGER DEFAULT 1,
  schema_version TEXT DEFAULT '1.0.0'
);
CREATE TABLE IF NOT EXISTS telemetry_stats (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  stat_type TEXT NOT NULL,
  stat_key TEXT NOT NULL,
  total_events INTEGER NOT NULL DEFAULT 0,
  start_events INTEGER NOT NULL DEFAULT 0,
  stream_events INTEGER NOT NULL DEFAULT 0,
  end_events INTEGER NOT NULL DEFAULT 0,
  error_events INTEGER NOT NULL DEFAULT 0,
  unique_sessions INTEGER NOT NULL DEFAULT 0,
  agent_breakdown TEXT,
  mode_breakdown TEXT,
  avg_session_duration REAL,
  min_timestamp INTEGER,
  max_timestamp INTEGER,
  computed_at INTEGER NOT NULL DEFAULT )sql" VK_NOW_MS R"sql(,
  updated_at INTEGER NOT NULL DEFAULT )sql" VK_NOW_MS R"sql(,
  version INTEGER DEFAULT 1,
  schema_version TEXT DEFAULT '1.0.0',
  UNIQUE (stat_type, stat_key)
);
CREATE TABLE IF NOT EXISTS telemetry_errors (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT REFERENCES telemetry_sessions(id) ON DELETE CASCADE ON UPDATE CASCADE,
  event_id INTEGER REFERENCES telemetry_events(id) ON DELETE CASCADE ON UPDATE CASCADE,
  error_type TEXT NOT NULL,
  error_message TEXT NOT NULL,
  error_stack TEXT,
  context TEXT,
  severity TEXT NOT NULL DEFAULT 'medium' CHECK (severity IN ('low','medium','high','critical')),
  resolved INTEGER NOT NULL DEFAULT 0,
  metadata TEXT,
  timestamp INTEGER NOT NULL,
  created_at INTEGER NOT NULL DEFAULT )sql" VK_NOW_MS R"sql(,
  resolved_at INTEGER,
  resolved_by TEXT,
  version INTEGER DEFAULT 1,
  schema_version TEXT DEFAULT '1.0.0'
);
CREATE TABLE IF NOT EXISTS telemetry_audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  table_name TEXT NOT NULL,
  record_id TEXT,
  operation TEXT NOT NULL CHECK (operation IN ('INSERT','UPDATE','DELETE')),
  old_values TEXT,
  new_values TEXT,
  changed_fields TEXT,
  user_id TEXT,
  session_id TEXT,
  reason TEXT,
  metadata TEXT,
  timestamp INTEGER NOT NULL,
  created_at INTEGER NOT NULL DEFAULT )sql" VK_NOW_MS R"sql(
);
CREATE TABLE IF NOT EXISTS telemetry_validation_rules (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  table_name TEXT NOT NULL,
  field_name TEXT NOT NULL,
  rule_type TEXT NOT NULL,
  rule_config TEXT,
  error_message TEXT,
  is_active INTEGER NOT NULL DEFAULT 1,
  priority INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL DEFAULT )sql" VK_NOW_MS R"sql(,
  updated_at INTEGER NOT NULL DEFAULT )sql" VK_NOW_MS R"sql(
);
CREATE TABLE IF NOT EXISTS telemetry_schema_versions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  version TEXT NOT NULL UNIQUE,
  description TEXT,
  migration_script TEXT,
  rollback_script TEXT,
  applied_at INTEGER NOT NULL DEFAULT )sql" VK_NOW_MS R"sql(,
  is_active INTEGER NOT NULL DEFAULT 1,
  metadata TEXT
);
CREATE INDEX IF NOT EXISTS idx_events_session_time ON telemetry_events (session_id, timestamp);
CREATE INDEX IF NOT EXISTS idx_events_agent_time ON telemetry_events (agent_type, timestamp);
CREATE INDEX IF NOT EXISTS idx_events_time ON telemetry_events (timestamp);
CREATE INDEX IF NOT EXISTS idx_sessions_status_start ON telemetry_sessions (status, start_time);
CREATE INDEX IF NOT EXISTS idx_sessions_agent_start ON telemetry_sessions (agent_type, start_time);
CREATE INDEX IF NOT EXISTS idx_sessions_start ON telemetry_sessions (start_time);
CREATE INDEX IF NOT EXISTS idx_errors_session ON telemetry_errors (session_id);
CREATE INDEX IF NOT EXISTS idx_errors_event ON telemetry_errors (event_id);
CREATE INDEX IF NOT EXISTS idx_errors_time ON telemetry_errors (timestamp);
CREATE INDEX IF NOT EXISTS idx_audit_table_record ON telemetry_audit_log (table_name, record_id);
CREATE INDEX IF NOT EXISTS idx_buffers_status ON telemetry_buffers (status);
)sql";

constexpr std::string_view kRollback100 = R"sql(
DROP TABLE IF EXISTS telemetry_errors; DROP TABLE IF EXISTS telemetry_events;
DROP TABLE IF EXISTS telemetry_sessions; DROP TABLE IF EXISTS telemetry_buffers;
DROP TABLE IF EXISTS telemetry_stats; DROP TABLE IF EXISTS telemetry_audit_log;
DROP TABLE IF EXISTS telemetry_validation_rules;
)sql";

// The text index as schemas 1.1.0 to 1.8.0 kept it, inside the database (1.9.0 moved it to a file
// of its own: text_index.h); the rollback of 1.9.0 builds it again from the stored rows.
constexpr std::string_view kFtsInDatabase110 = R"sql(
CREATE VIRTUAL TABLE telemetry_events_fts USING fts5(
  prompt, stream_data, content='telemetry_events', content_rowid='id',
  detail=none, columnsize=0, tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE telemetry_events_fts_vocab USING fts5vocab('telemetry_events_fts', 'row');
INSERT INTO telemetry_events_fts(rowid, prompt, stream_data)
  SELECT id, vk_text(prompt), vk_text(stream_data) FROM telemetry_events
  WHERE prompt IS NOT NULL OR stream_data IS NOT NULL;
CREATE TRIGGER telemetry_events_fts_ad AFTER DELETE ON telemetry_events
  WHEN old.prompt IS NOT NULL OR old.stream_data IS NOT NULL BEGIN
  INSERT INTO telemetry_events_fts(telemetry_events_fts, rowid, prompt, stream_data)
  VALUES ('delete', old.id, vk_text(old.prompt), vk_text(old.stream_data));
END;
CREATE TRIGGER telemetry_events_fts_au AFTER UPDATE OF prompt, stream_data ON telemetry_events BEGIN
  INSERT INTO telemetry_events_fts(telemetry_events_fts, rowid, prompt, stream_data)
  SELECT 'delete', old.id, vk_text(old.prompt), vk_text(old.stream_data)
  WHERE old.prompt IS NOT NULL OR old.stream_data IS NOT NULL;
  INSERT INTO telemetry_events_fts(rowid, prompt, stream_data)
  SELECT new.id, vk_text(new.prompt), vk_text(new.stream_data)
  WHERE new.prompt IS NOT NULL OR new.stream_data IS NOT NULL;
END;
)sql";

// 1.1.0: what this product adds. last_event_time drives session timeouts and age retention;
// the rollup gains the sums that keep averages and rates exact under updates and deletes;
// FTS5 over prompt and stream data (external content: the text is stored once; detail=none
// keeps the index small, phrase matching is done by the query on the candidate rows).
// New rows are indexed by the store once per batch (one INSERT ... SELECT over the batch's id
// range), not by a per-row trigger: FTS5 flushes its pending terms at every statement savepoint,
// so a per-row trigger writes one index segment per event and ingest runs 2-3x slower. Deletes
// and updates keep their triggers (retention cascades through them).
constexpr std::string_view kSchema110 = R"sql(
ALTER TABLE telemetry_sessions ADD COLUMN last_event_time INTEGER;
UPDATE telemetry_sessions SET last_event_time = coalesce(end_time, start_time);
CREATE INDEX idx_sessions_status_last ON telemetry_sessions (status, last_event_time);
CREATE INDEX idx_sessions_last ON telemetry_sessions (last_event_time);
ALTER TABLE telemetry_stats ADD COLUMN active_sessions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE telemetry_stats ADD COLUMN completed_sessions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE telemetry_stats ADD COLUMN failed_sessions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE telemetry_stats ADD COLUMN timeout_sessions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE telemetry_stats ADD COLUMN sessions_with_errors INTEGER NOT NULL DEFAULT 0;
ALTER TABLE telemetry_stats ADD COLUMN duration_sum INTEGER NOT NULL DEFAULT 0;
ALTER TABLE telemetry_stats ADD COLUMN duration_count INTEGER NOT NULL DEFAULT 0;
)sql";  // + kFtsInDatabase110 (Migrations())

// Rolling back keeps what cannot be recomputed in vk_stash_* tables, and migrating again puts
// it back (kRestore*), so rollback then migrate loses nothing. The rollup tables are kept aside
// too (restored exactly; should an older program have written events meanwhile, `vibekit db
// validate` sees the difference and `db repair` rebuilds them). The text index is dropped and
// rebuilt by the migration.
constexpr std::string_view kRollback110 = R"sql(
DROP TABLE IF EXISTS vk_stash_110_sessions; DROP TABLE IF EXISTS vk_stash_110_stats;
CREATE TABLE vk_stash_110_sessions AS SELECT id, last_event_time FROM telemetry_sessions;
CREATE TABLE vk_stash_110_stats AS SELECT id, active_sessions, completed_sessions,
  failed_sessions, timeout_sessions, sessions_with_errors, duration_sum, duration_count
  FROM telemetry_stats;
DROP TRIGGER IF EXISTS telemetry_events_fts_au; DROP TRIGGER IF EXISTS telemetry_events_fts_ad;
DROP TABLE IF EXISTS telemetry_events_fts_vocab; DROP TABLE IF EXISTS telemetry_events_fts;
DROP INDEX IF EXISTS idx_sessions_status_last; DROP INDEX IF EXISTS idx_sessions_last;
ALTER TABLE telemetry_sessions DROP COLUMN last_event_time;
ALTER TABLE telemetry_stats DROP COLUMN active_sessions;
ALTER TABLE telemetry_stats DROP COLUMN completed_sessions;
ALTER TABLE telemetry_stats DROP COLUMN failed_sessions;
ALTER TABLE telemetry_stats DROP COLUMN timeout_sessions;
ALTER TABLE telemetry_stats DROP COLUMN sessions_with_errors;
ALTER TABLE telemetry_stats DROP COLUMN duration_sum;
ALTER TABLE telemetry_stats DROP COLUMN duration_count;
)sql";

constexpr std::string_view kRestore110 = R"sql(
UPDATE telemetry_sessions SET last_event_time = (SELECT s.last_event_time
  FROM vk_stash_110_sessions s WHERE s.id = telemetry_sessions.id)
  WHERE id IN (SELECT id FROM vk_stash_110_sessions WHERE last_event_time IS NOT NULL);
UPDATE telemetry_stats SET (active_sessions, completed_sessions, failed_sessions,
  timeout_sessions, sessions_with_errors, duration_sum, duration_count) =
  (SELECT s.active_sessions, s.completed_sessions, s.failed_sessions, s.timeout_sessions,
   s.sessions_with_errors, s.duration_sum, s.duration_count FROM vk_stash_110_stats s
   WHERE s.id = telemetry_stats.id)
  WHERE id IN (SELECT id FROM vk_stash_110_stats);
DROP TABLE vk_stash_110_sessions; DROP TABLE vk_stash_110_stats;
)sql";

// 1.3.0: per-minute analytics rollups (store/minute_rollup.h), written with each batch. The
// sketches are QuantileSketch encodings. Existing events are rolled up by the store when it opens
// a database whose rollup table is empty but which has events.
constexpr std::string_view kSchema130 = R"sql(
CREATE TABLE telemetry_minute_rollups (
  minute INTEGER NOT NULL,
  agent_type TEXT NOT NULL,
  mode TEXT NOT NULL DEFAULT '',
  events INTEGER NOT NULL DEFAULT 0,
  start_events INTEGER NOT NULL DEFAULT 0,
  stream_events INTEGER NOT NULL DEFAULT 0,
  end_events INTEGER NOT NULL DEFAULT 0,
  error_events INTEGER NOT NULL DEFAULT 0,
  sessions_completed INTEGER NOT NULL DEFAULT 0,
  sessions_failed INTEGER NOT NULL DEFAULT 0,
  sessions_timeout INTEGER NOT NULL DEFAULT 0,
  response_count INTEGER NOT NULL DEFAULT 0,
  response_sum INTEGER NOT NULL DEFAULT 0,
  response_sketch BLOB,
  gap_count INTEGER NOT NULL DEFAULT 0,
  gap_sum INTEGER NOT NULL DEFAULT 0,
  gap_sketch BLOB,
  duration_count INTEGER NOT NULL DEFAULT 0,
  duration_sum INTEGER NOT NULL DEFAULT 0,
  duration_sketch BLOB,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0,
  stream_bytes INTEGER NOT NULL DEFAULT 0,
  sessions_active INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (minute, agent_type, mode)
) WITHOUT ROWID;
)sql";

constexpr std::string_view kRollback130 = R"sql(
DROP TABLE IF EXISTS vk_stash_130_minutes;
ALTER TABLE telemetry_minute_rollups RENAME TO vk_stash_130_minutes;
)sql";

constexpr std::string_view kRestore130 = R"sql(
INSERT INTO telemetry_minute_rollups SELECT * FROM vk_stash_130_minutes;
DROP TABLE vk_stash_130_minutes;
)sql";

// 1.2.0: the outbox of live OTLP delivery. Events need no copy: ids are assigned in commit order
// (AUTOINCREMENT, never reused), so "id > event_cursor" is exactly the unsent set, and the cursor
// moves only after the collector accepted (or definitively rejected) a request. Root spans of
// sessions that reached a final status wait in telemetry_delivery_sessions, filled by triggers so
// no write path (batches, the timeout sweep, imports) can forget one; the triggers only fire once
// delivery has been configured on the database (the state row exists). A session that changes
// final status again (completed -> failed) is queued again. Requests the collector rejected for
// good (4xx other than 429) are recorded in telemetry_delivery_failures.
constexpr std::string_view kSchema120 = R"sql(
CREATE TABLE telemetry_delivery_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  event_cursor INTEGER NOT NULL DEFAULT 0,
  events_sent INTEGER NOT NULL DEFAULT 0,
  spans_sent INTEGER NOT NULL DEFAULT 0,
  requests_sent INTEGER NOT NULL DEFAULT 0,
  events_failed INTEGER NOT NULL DEFAULT 0,
  requests_failed INTEGER NOT NULL DEFAULT 0,
  retries INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  last_error_time INTEGER,
  last_success_time INTEGER,
  created_at INTEGER NOT NULL DEFAULT )sql" VK_NOW_MS R"sql(,
  updated_at INTEGER NOT NULL DEFAULT )sql" VK_NOW_MS R"sql(
);
CREATE TABLE telemetry_delivery_sessions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL UNIQUE
    REFERENCES telemetry_sessions(id) ON DELETE CASCADE ON UPDATE CASCADE,
  status TEXT NOT NULL,
  queued_at INTEGER NOT NULL DEFAULT )sql" VK_NOW_MS R"sql(
);
CREATE TABLE telemetry_delivery_failures (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  first_event_id INTEGER,
  last_event_id INTEGER,
  event_count INTEGER NOT NULL DEFAULT 0,
  span_count INTEGER NOT NULL DEFAULT 0,
  session_ids TEXT,
  http_status INTEGER,
  error TEXT NOT NULL,
  created_at INTEGER NOT NULL DEFAULT )sql" VK_NOW_MS R"sql(
);
CREATE TRIGGER telemetry_delivery_session_final_ai AFTER INSERT ON telemetry_sessions
  WHEN new.status IN ('completed','failed','timeout')
   AND EXISTS (SELECT 1 FROM telemetry_delivery_state) BEGIN
  INSERT OR REPLACE INTO telemetry_delivery_sessions (session_id, status, queued_at)
  VALUES (new.id, new.status, new.updated_at);
END;
CREATE TRIGGER telemetry_delivery_session_final_au AFTER UPDATE OF status ON telemetry_sessions
  WHEN new.status IN ('completed','failed','timeout') AND old.status IS NOT new.status
   AND EXISTS (SELECT 1 FROM telemetry_delivery_state) BEGIN
  INSERT OR REPLACE INTO telemetry_delivery_sessions (session_id, status, queued_at)
  VALUES (new.id, new.status, new.updated_at);
END;
)sql";

constexpr std::string_view kRollback120 = R"sql(
DROP TRIGGER IF EXISTS telemetry_delivery_session_final_au;
DROP TRIGGER IF EXISTS telemetry_delivery_session_final_ai;
DROP TABLE IF EXISTS vk_stash_120_state; DROP TABLE IF EXISTS vk_stash_120_sessions;
DROP TABLE IF EXISTS vk_stash_120_failures;
ALTER TABLE telemetry_delivery_state RENAME TO vk_stash_120_state;
ALTER TABLE telemetry_delivery_sessions RENAME TO vk_stash_120_sessions;
ALTER TABLE telemetry_delivery_failures RENAME TO vk_stash_120_failures;
)sql";

constexpr std::string_view kRestore120 = R"sql(
INSERT INTO telemetry_delivery_state SELECT * FROM vk_stash_120_state;
INSERT INTO telemetry_delivery_sessions SELECT * FROM vk_stash_120_sessions
  WHERE session_id IN (SELECT id FROM telemetry_sessions);
INSERT INTO telemetry_delivery_failures SELECT * FROM vk_stash_120_failures;
DROP TABLE vk_stash_120_state; DROP TABLE vk_stash_120_sessions;
DROP TABLE vk_stash_120_failures;
)sql";

// 1.4.0: threshold alerts fired while monitoring (AnalyticsService), so the history, the alerts
// still open and the cooldowns survive a restart.
constexpr std::string_view kSchema140 = R"sql(
CREATE TABLE telemetry_alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  metric TEXT NOT NULL,
  value REAL NOT NULL,
  threshold REAL NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('above', 'below')),
  severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  message TEXT NOT NULL,
  fired_at INTEGER NOT NULL,
  resolved_at INTEGER,
  resolved_value REAL,
  created_at INTEGER NOT NULL DEFAULT )sql" VK_NOW_MS R"sql(
);
CREATE INDEX idx_telemetry_alerts_fired_at ON telemetry_alerts(fired_at);
)sql";

constexpr std::string_view kRollback140 = R"sql(
DROP INDEX IF EXISTS idx_telemetry_alerts_fired_at;
DROP TABLE IF EXISTS vk_stash_140_alerts;
ALTER TABLE telemetry_alerts RENAME TO vk_stash_140_alerts;
)sql";

constexpr std::string_view kRestore140 = R"sql(
INSERT INTO telemetry_alerts SELECT * FROM vk_stash_140_alerts;
DROP TABLE vk_stash_140_alerts;
)sql";

// 1.5.0: hour and day levels of the minute rollups (same columns; period_ms 3600000 or 86400000,
// start = the period's first ms), kept with every change of the minute rows, so a report over
// days reads O(days + hours + minutes at its edges) rows. Filled from the minute rows when a
// database without them is opened.
constexpr std::string_view kSchema150 = R"sql(
CREATE TABLE telemetry_period_rollups (
  period_ms INTEGER NOT NULL CHECK (period_ms IN (3600000, 86400000)),
  start INTEGER NOT NULL,
  agent_type TEXT NOT NULL,
  mode TEXT NOT NULL DEFAULT '',
  events INTEGER NOT NULL DEFAULT 0,
  start_events INTEGER NOT NULL DEFAULT 0,
  stream_events INTEGER NOT NULL DEFAULT 0,
  end_events INTEGER NOT NULL DEFAULT 0,
  error_events INTEGER NOT NULL DEFAULT 0,
  sessions_completed INTEGER NOT NULL DEFAULT 0,
  sessions_failed INTEGER NOT NULL DEFAULT 0,
  sessions_timeout INTEGER NOT NULL DEFAULT 0,
  response_count INTEGER NOT NULL DEFAULT 0,
  response_sum INTEGER NOT NULL DEFAULT 0,
  response_sketch BLOB,
  gap_count INTEGER NOT NULL DEFAULT 0,
  gap_sum INTEGER NOT NULL DEFAULT 0,
  gap_sketch BLOB,
  duration_count INTEGER NOT NULL DEFAULT 0,
  duration_sum INTEGER NOT NULL DEFAULT 0,
  duration_sketch BLOB,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0,
  stream_bytes INTEGER NOT NULL DEFAULT 0,
  sessions_active INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (period_ms, start, agent_type, mode)
) WITHOUT ROWID;
)sql";

constexpr std::string_view kRollback150 = R"sql(
DROP TABLE IF EXISTS vk_stash_150_periods;
ALTER TABLE telemetry_period_rollups RENAME TO vk_stash_150_periods;
)sql";

constexpr std::string_view kRestore150 = R"sql(
INSERT INTO telemetry_period_rollups SELECT * FROM vk_stash_150_periods;
DROP TABLE vk_stash_150_periods;
)sql";

// 1.6.0: the audit trail of user-visible changes, written by triggers so that no write path
// (batches, the timeout sweep, restores, repairs, other tools) can forget one. Sessions: a change
// of status or end time (one row per session end, timeout or revival, not one per streamed
// event: counters and last_event_time change with every batch and are derived from the events,
// so auditing them would double the writes of the hot path and say nothing the events do not).
// Errors: resolution. Validation rules: every insert, update and delete. Deletes of sessions are
// audited per purge (retention, clear, repair: one row listing the ids), not per row: a purge of
// a million sessions must not leave a million audit rows behind.
constexpr std::string_view kSchema160 = R"sql(
CREATE INDEX idx_audit_time ON telemetry_audit_log (timestamp);
CREATE TRIGGER telemetry_audit_sessions_au AFTER UPDATE OF status, end_time ON telemetry_sessions
  WHEN old.status IS NOT new.status OR old.end_time IS NOT new.end_time BEGIN
  INSERT INTO telemetry_audit_log (table_name, record_id, operation, old_values, new_values,
    changed_fields, reason, timestamp)
  VALUES ('telemetry_sessions', new.id, 'UPDATE',
    json_object('status', old.status, 'end_time', old.end_time, 'duration', old.duration),
    json_object('status', new.status, 'end_time', new.end_time, 'duration', new.duration),
    '[' || rtrim(CASE WHEN old.status IS NOT new.status THEN '"status",' ELSE '' END ||
      CASE WHEN old.end_time IS NOT new.end_time THEN '"end_time",' ELSE '' END ||
      CASE WHEN old.duration IS NOT new.duration THEN '"duration",' ELSE '' END, ',') || ']',
    CASE WHEN new.status = 'timeout' THEN 'session timed out (no event within the timeout)'
      WHEN old.status = 'timeout' AND new.status = 'active' THEN 'session revived by a new event'
      WHEN new.status = 'completed' THEN 'end event'
      WHEN new.status = 'failed' THEN 'error event or failed end event'
      ELSE 'session event' END,
    new.updated_at);
END;
CREATE TRIGGER telemetry_audit_errors_au
  AFTER UPDATE OF resolved, resolved_at, resolved_by ON telemetry_errors
  WHEN old.resolved IS NOT new.resolved OR old.resolved_at IS NOT new.resolved_at
    OR old.resolved_by IS NOT new.resolved_by BEGIN
  INSERT INTO telemetry_audit_log (table_name, record_id, operation, old_values, new_values,
    changed_fields, reason, timestamp)
  VALUES ('telemetry_errors', CAST(new.id AS TEXT), 'UPDATE',
    json_object('resolved', old.resolved, 'resolved_at', old.resolved_at,
                'resolved_by', old.resolved_by),
    json_object('resolved', new.resolved, 'resolved_at', new.resolved_at,
                'resolved_by', new.resolved_by),
    '[' || rtrim(CASE WHEN old.resolved IS NOT new.resolved THEN '"resolved",' ELSE '' END ||
      CASE WHEN old.resolved_at IS NOT new.resolved_at THEN '"resolved_at",' ELSE '' END ||
      CASE WHEN old.resolved_by IS NOT new.resolved_by THEN '"resolved_by",' ELSE '' END, ',')
      || ']',
    CASE WHEN new.resolved THEN 'error resolved' ELSE 'error reopened' END,
    coalesce(new.resolved_at, )sql" VK_NOW_MS R"sql());
END;
CREATE TRIGGER telemetry_audit_rules_ai AFTER INSERT ON telemetry_validation_rules BEGIN
  INSERT INTO telemetry_audit_log (table_name, record_id, operation, new_values, changed_fields,
    reason, timestamp)
  VALUES ('telemetry_validation_rules', CAST(new.id AS TEXT), 'INSERT',
    json_object('table_name', new.table_name, 'field_name', new.field_name,
      'rule_type', new.rule_type, 'rule_config', new.rule_config,
      'error_message', new.error_message, 'is_active', new.is_active, 'priority', new.priority),
    NULL, 'validation rule added', coalesce(new.created_at, )sql" VK_NOW_MS R"sql());
END;
CREATE TRIGGER telemetry_audit_rules_au AFTER UPDATE ON telemetry_validation_rules BEGIN
  INSERT INTO telemetry_audit_log (table_name, record_id, operation, old_values, new_values,
    changed_fields, reason, timestamp)
  VALUES ('telemetry_validation_rules', CAST(new.id AS TEXT), 'UPDATE',
    json_object('table_name', old.table_name, 'field_name', old.field_name,
      'rule_type', old.rule_type, 'rule_config', old.rule_config,
      'error_message', old.error_message, 'is_active', old.is_active, 'priority', old.priority),
    json_object('table_name', new.table_name, 'field_name', new.field_name,
      'rule_type', new.rule_type, 'rule_config', new.rule_config,
      'error_message', new.error_message, 'is_active', new.is_active, 'priority', new.priority),
    '[' || rtrim(
      CASE WHEN old.table_name IS NOT new.table_name THEN '"table_name",' ELSE '' END ||
      CASE WHEN old.field_name IS NOT new.field_name THEN '"field_name",' ELSE '' END ||
      CASE WHEN old.rule_type IS NOT new.rule_type THEN '"rule_type",' ELSE '' END ||
      CASE WHEN old.rule_config IS NOT new.rule_config THEN '"rule_config",' ELSE '' END ||
      CASE WHEN old.error_message IS NOT new.error_message THEN '"error_message",' ELSE '' END ||
      CASE WHEN old.is_active IS NOT new.is_active THEN '"is_active",' ELSE '' END ||
      CASE WHEN old.priority IS NOT new.priority THEN '"priority",' ELSE '' END, ',') || ']',
    CASE WHEN old.is_active AND NOT new.is_active THEN 'validation rule disabled'
      WHEN new.is_active AND NOT old.is_active THEN 'validation rule enabled'
      ELSE 'validation rule changed' END,
    coalesce(new.updated_at, )sql" VK_NOW_MS R"sql());
END;
CREATE TRIGGER telemetry_audit_rules_ad AFTER DELETE ON telemetry_validation_rules BEGIN
  INSERT INTO telemetry_audit_log (table_name, record_id, operation, old_values, changed_fields,
    reason, timestamp)
  VALUES ('telemetry_validation_rules', CAST(old.id AS TEXT), 'DELETE',
    json_object('table_name', old.table_name, 'field_name', old.field_name,
      'rule_type', old.rule_type, 'rule_config', old.rule_config,
      'error_message', old.error_message, 'is_active', old.is_active, 'priority', old.priority),
    NULL, 'validation rule removed', )sql" VK_NOW_MS R"sql();
END;
)sql";

constexpr std::string_view kRollback160 = R"sql(
DROP TRIGGER IF EXISTS telemetry_audit_rules_ad; DROP TRIGGER IF EXISTS telemetry_audit_rules_au;
DROP TRIGGER IF EXISTS telemetry_audit_rules_ai; DROP TRIGGER IF EXISTS telemetry_audit_errors_au;
DROP TRIGGER IF EXISTS telemetry_audit_sessions_au; DROP INDEX IF EXISTS idx_audit_time;
)sql";

// 1.9.0: the text index leaves the database for a file of its own, written by a thread of its own
// (text_index.h), so the single writer's commits no longer tokenize. What stays here is what that
// thread needs to follow the database exactly: its generation (a new one whenever the data is
// replaced, so a stale index is rebuilt) and a log of the texts deleted or changed (a contentless
// index forgets a row only given its exact text); the indexer applies and purges the log.
constexpr std::string_view kSchema190 = R"sql(
DROP TRIGGER IF EXISTS telemetry_events_fts_au; DROP TRIGGER IF EXISTS telemetry_events_fts_ad;
DROP TABLE IF EXISTS telemetry_events_fts_vocab; DROP TABLE IF EXISTS telemetry_events_fts;
CREATE TABLE telemetry_text_index (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  generation TEXT NOT NULL);
INSERT INTO telemetry_text_index (id, generation) VALUES (1, lower(hex(randomblob(16))));
CREATE TABLE telemetry_text_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id INTEGER NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('a', 'd')),
  prompt,
  stream_data);
CREATE TRIGGER telemetry_events_text_ad AFTER DELETE ON telemetry_events
  WHEN old.prompt IS NOT NULL OR old.stream_data IS NOT NULL BEGIN
  INSERT INTO telemetry_text_changes (event_id, op, prompt, stream_data)
  VALUES (old.id, 'd', old.prompt, old.stream_data);
END;
CREATE TRIGGER telemetry_events_text_au AFTER UPDATE OF prompt, stream_data ON telemetry_events
BEGIN
  INSERT INTO telemetry_text_changes (event_id, op, prompt, stream_data)
  SELECT old.id, 'd', old.prompt, old.stream_data
  WHERE old.prompt IS NOT NULL OR old.stream_data IS NOT NULL;
  INSERT INTO telemetry_text_changes (event_id, op) VALUES (new.id, 'a');
END;
)sql";

constexpr std::string_view kRollback190 = R"sql(
DROP TRIGGER IF EXISTS telemetry_events_text_au; DROP TRIGGER IF EXISTS telemetry_events_text_ad;
DROP TABLE IF EXISTS telemetry_text_changes; DROP TABLE IF EXISTS telemetry_text_index;
)sql";  // + kFtsInDatabase110 (Migrations())

#undef VK_NOW_MS

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::string schema110 = std::string(kSchema110) + std::string(kFtsInDatabase110);
  static const std::string rollback190 =
      std::string(kRollback190) + std::string(kFtsInDatabase110);
  static const std::vector<Migration> migrations = {
      {"1.0.0", "Reference schema: eight telemetry tables, millisecond timestamps, cascading keys",
       kSchema100, kRollback100},
      {"1.1.0", "Session activity time, exact rollup sums, FTS5 text index over prompt and stream",
       schema110, kRollback110, kRestore110, "vk_stash_110_sessions"},
      {"1.2.0", "Live OTLP delivery outbox: event cursor, pending root spans, rejected requests",
       kSchema120, kRollback120, kRestore120, "vk_stash_120_state"},
      {"1.3.0", "Per-minute analytics rollups with mergeable quantile sketches", kSchema130,
       kRollback130, kRestore130, "vk_stash_130_minutes"},
      {"1.4.0", "Threshold alert history (fired, resolved) kept across restarts", kSchema140,
       kRollback140, kRestore140, "vk_stash_140_alerts"},
      {"1.5.0", "Hour and day levels of the analytics rollups", kSchema150, kRollback150,
       kRestore150, "vk_stash_150_periods"},
      {"1.6.0", "Audit trail triggers: session status/end changes, error resolution, rule changes",
       kSchema160, kRollback160},
      {"1.7.0", kDefaultRulesDescription, kDefaultRulesScript, kDefaultRulesRollback},
      {"1.8.0", kPrivacyRangesDescription, kPrivacyRangesSchema, kPrivacyRangesRollback},
      {"1.9.0", kTextIndexFileDescription, kSchema190, rollback190},
  };
  return migrations;
}

std::string_view CurrentSchemaVersion() { return Migrations().back().version; }

Status ConfigureConnection(Database& db, bool writer, const LocalStoreConfig& config) {
  std::string sql;
  if (writer) {
    // Only what has to change: setting the journal mode (even to the current one) waits for the
    // write lock, and opening must succeed while another process writes.
    VK_ASSIGN_OR_RETURN(std::int64_t pages, db.QueryInt("PRAGMA page_count"));
    if (pages == 0) {
      // A new file: both only take effect before the first table exists.
      sql += "PRAGMA page_size=" + std::to_string(config.page_size) + ";";
      sql += "PRAGMA auto_vacuum=INCREMENTAL;";  // lets retention give space back
    }
    VK_ASSIGN_OR_RETURN(std::string mode, db.QueryText("PRAGMA journal_mode"));
    const std::string wanted = config.enable_wal ? "wal" : "delete";
    if (mode != wanted) sql += "PRAGMA journal_mode=" + wanted + ";";
    sql += "PRAGMA wal_autocheckpoint=" +
           std::to_string(std::max(1, config.wal_autocheckpoint_kib * 1024 / config.page_size)) +
           ";";
  }
  sql += "PRAGMA synchronous=NORMAL;";
  sql += "PRAGMA secure_delete=OFF;";
  sql += config.enable_foreign_keys ? "PRAGMA foreign_keys=ON;" : "PRAGMA foreign_keys=OFF;";
  sql += "PRAGMA cache_size=-" + std::to_string(config.cache_size_kib) + ";";
  sql += "PRAGMA temp_store=MEMORY;";
  return db.Exec(sql).WithContext("configure connection");
}

Status ApplyMigration(Database& db, const Migration& m, std::int64_t now_ms) {
  VK_RETURN_IF_ERROR(db.Exec(m.script).WithContext("migration " + std::string(m.version)));
  if (!m.restore_script.empty()) {
    VK_ASSIGN_OR_RETURN(Statement has, Statement::Prepare(db,
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"));
    has.Bind(1, m.stash_table);
    VK_ASSIGN_OR_RETURN(bool row, has.Step());
    const bool stashed = row && has.ColumnInt(0) > 0;
    has.Reset();  // a pending read of sqlite_master would lock the DROP TABLE below
    if (stashed) {
      VK_RETURN_IF_ERROR(db.Exec(m.restore_script)
                             .WithContext("restore data kept by the rollback of " +
                                          std::string(m.version)));
    }
  }
  VK_ASSIGN_OR_RETURN(Statement ins, Statement::Prepare(db,
      "INSERT INTO telemetry_schema_versions (version, description, migration_script, "
      "rollback_script, applied_at, is_active) VALUES (?, ?, ?, ?, ?, 1)"));
  ins.Bind(1, m.version);
  ins.Bind(2, m.description);
  ins.Bind(3, m.script);
  ins.Bind(4, m.rollback_script);
  ins.Bind(5, now_ms);
  return ins.Run();
}

Status RebuildMissingRollups(Database& db) {
  // Events stored before the minute rollups existed (schema < 1.3.0), or whose rollups a
  // rollback dropped, are rolled up once.
  VK_ASSIGN_OR_RETURN(std::int64_t has_minutes,
                      db.QueryInt("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                  "name = 'telemetry_minute_rollups'"));
  if (has_minutes == 0) return Status::Ok();
  VK_ASSIGN_OR_RETURN(std::int64_t rollups,
                      db.QueryInt("SELECT count(*) FROM (SELECT 1 FROM "
                                  "telemetry_minute_rollups LIMIT 1)"));
  VK_ASSIGN_OR_RETURN(std::int64_t events,
                      db.QueryInt("SELECT count(*) FROM (SELECT 1 FROM telemetry_events "
                                  "LIMIT 1)"));
  if (rollups == 0 && events > 0) {
    Transaction txn(db);
    VK_RETURN_IF_ERROR(txn.Begin().WithContext("roll up existing events"));
    VK_RETURN_IF_ERROR(RebuildMinuteRollups(db));
    return txn.Commit().WithContext("roll up existing events");
  }
  VK_ASSIGN_OR_RETURN(std::int64_t has_periods,
                      db.QueryInt("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                  "name = 'telemetry_period_rollups'"));
  if (rollups > 0 && has_periods > 0) {
    // Minute rollups from before the hour/day levels existed (schema < 1.5.0).
    VK_ASSIGN_OR_RETURN(std::int64_t periods,
                        db.QueryInt("SELECT count(*) FROM (SELECT 1 FROM "
                                    "telemetry_period_rollups LIMIT 1)"));
    if (periods == 0) {
      Transaction txn(db);
      VK_RETURN_IF_ERROR(txn.Begin().WithContext("roll up hours and days"));
      VK_RETURN_IF_ERROR(RebuildPeriodRollups(db));
      return txn.Commit().WithContext("roll up hours and days");
    }
  }
  return Status::Ok();
}

Status Migrate(Database& db, std::int64_t now_ms) {
  // Fast path: already current.
  {
    auto has = db.QueryInt(
        "SELECT count(*) FROM sqlite_master WHERE name='telemetry_schema_versions'");
    if (!has.ok()) return has.status().WithContext("read schema");
    if (*has > 0) {
      auto current = db.QueryInt("SELECT count(*) FROM telemetry_schema_versions WHERE version='" +
                                 std::string(CurrentSchemaVersion()) + "'");
      if (current.ok() && *current > 0) return Status::Ok();
    }
  }
  Transaction txn(db);
  VK_RETURN_IF_ERROR(txn.Begin().WithContext("migrate"));
  VK_ASSIGN_OR_RETURN(bool reference, IsReferenceDatabase(db));
  if (reference) VK_RETURN_IF_ERROR(ImportReferenceTables(db, now_ms));
  for (const Migration& m : Migrations()) {
    auto has_table = db.QueryInt(
        "SELECT count(*) FROM sqlite_master WHERE name='telemetry_schema_versions'");
    if (!has_table.ok()) return has_table.status();
    if (*has_table > 0) {
      VK_ASSIGN_OR_RETURN(Statement q, Statement::Prepare(
          db, "SELECT count(*) FROM telemetry_schema_versions WHERE version = ?"));
      q.Bind(1, m.version);
      VK_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row && q.ColumnInt(0) > 0) continue;
    }
    VK_RETURN_IF_ERROR(ApplyMigration(db, m, now_ms));
  }
  if (reference) VK_RETURN_IF_ERROR(FinishReferenceImport(db, now_ms));
  return txn.Commit().WithContext("migrate commit");
}

}  // namespace vibekit::store::sqlite
