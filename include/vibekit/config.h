// TelemetryConfig: everything a TelemetryService is built from.
//
// The description's `DrizzleTelemetryConfig` keys live in `LocalStoreConfig` (the description's
// `localStore` block holds the same keys); `TelemetryConfig` adds `isEnabled` and `endpoint` on top.
// `DrizzleTelemetryConfig` is an alias of `LocalStoreConfig` for readers of the description.
//
// Environment overrides (applied by ApplyEnvironment, which the TelemetryService constructor calls
// unless `apply_environment` is false):
//   TELEMETRY_DB_PATH         -> local_store.db_path
//   TELEMETRY_BATCH_SIZE      -> local_store.stream_batch_size
//   TELEMETRY_FLUSH_INTERVAL  -> local_store.stream_flush_interval_ms
//   TELEMETRY_MAX_SIZE_MB     -> local_store.max_size_mb
//   TELEMETRY_RETENTION_DAYS  -> local_store.prune_days
//   VIBEKIT_TELEMETRY=off|0|false|disabled -> is_enabled = false (every call a cheap no-op)
//   TELEMETRY_ENDPOINT        -> endpoint (OTLP/HTTP traces URL, used as is)
// and, for live delivery, the OpenTelemetry SDK variables, which only fill in what the config
// (and TELEMETRY_ENDPOINT) left unset:
//   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT -> endpoint, used as is
//   OTEL_EXPORTER_OTLP_ENDPOINT        -> endpoint = value + "/v1/traces"
//   OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TRACES_HEADERS ("k=v,k2=v2", values
//       percent-decoded) -> headers not already set (the TRACES_ variable wins over the other)
// Privacy (docs/PRIVACY.md):
//   TELEMETRY_REDACT=off|0|false    -> privacy.redact_secrets = false (on|1|true turns it on)
//   TELEMETRY_REDACT_PATTERNS        -> privacy.redact_patterns (one regex per line)
//   TELEMETRY_HASH_KEYS              -> privacy.hash_metadata_keys (comma-separated; "" = none)
//   TELEMETRY_HASH_KEY               -> privacy.hash_key
//   TELEMETRY_STORE_CONTENT=off|0|false -> privacy.store_content = false (counts and sizes only)
//
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "vibekit/status.h"

namespace vibekit {

struct LocalStoreConfig {
  bool is_enabled = true;
  std::string db_path = ".vibekit/telemetry.db";  // the description's `path` / `dbPath`
  int prune_days = 30;                 // retention; 0 disables age-based retention
  int stream_batch_size = 100;         // stream events buffered per session before a flush
  int stream_flush_interval_ms = 1000;  // oldest buffered stream event waits at most this long
  int max_size_mb = 500;               // oldest whole sessions are removed above this; 0 = no cap
  bool enable_wal = true;
  bool enable_foreign_keys = true;
  bool enable_query_logging = false;   // log every query with its duration
  bool enable_metrics = true;          // flush timings for GetPerformanceMetrics
  int query_timeout_ms = 30000;        // queries running longer are interrupted
  bool enable_data_integrity = true;   // validation of every event before it is accepted
  bool enable_analytics = true;        // keep the telemetry_stats rollup current at ingest
  bool debug = false;                  // verbose internal logging

  // Beyond the description (documented in docs/ARCHITECTURE.md):
  std::int64_t session_timeout_ms = 30 * 60 * 1000;  // silent active sessions become "timeout"
  int timeout_check_interval_ms = 30000;    // how often the writer looks for silent sessions
  int max_pending_events = 100000;          // bound on buffered + queued events (memory bound)
  std::int64_t max_pending_bytes = 32LL << 20;  // bound on their bytes
  int enqueue_timeout_ms = 2000;   // a Track* call waits this long for room, then gets kBusy
  int max_write_batch = 5000;      // events per transaction at most
  std::int64_t max_field_bytes = 1LL << 20;  // per text field of an event; larger is rejected
  int busy_timeout_ms = 5000;      // SQLite busy_timeout per connection; PostgreSQL: lock_timeout
                                   // of write transactions (the writer lock of other processes)
  int cache_size_kib = 16384;      // SQLite page cache per connection
  int read_connections = 4;        // pooled read-only connections
  // WAL size that triggers an automatic checkpoint. Larger means fewer fsyncs while ingesting
  // (measured 1.4x faster at 40 MiB than SQLite's default of 1000 pages) and a larger -wal file.
  int wal_autocheckpoint_kib = 40960;
  // The writer waits up to this long for a batch to fill (max_write_batch / 2 events) before it
  // commits, unless a FlushBuffers() is waiting. Fewer, larger transactions write each hot index
  // page once instead of many times.
  int write_linger_ms = 20;
  // Page size of a new database file (existing files keep theirs). Rows of agent output are
  // 0.5-1 KiB; 16 KiB pages waste less per page than 4 KiB (measured 7 % fewer bytes per event).
  int page_size = 16384;
  // prompt / stream data of at least this many bytes are stored zstd-compressed (a BLOB; read it
  // back through the library or vk_text()). Measured: 493 -> 282 stored bytes per stream chunk
  // on the benchmark workload. 0 stores everything as plain TEXT.
  int compress_min_bytes = 512;
  // Validation rules (telemetry_validation_rules, managed by DataIntegrityService / `vibekit db
  // rules`) are re-read at most this often by the write paths: a rule added, disabled or removed
  // by another connection takes effect within this time. Read at Initialize too.
  int rules_refresh_ms = 1000;
};

using DrizzleTelemetryConfig = LocalStoreConfig;

// Live delivery of committed events to an OpenTelemetry collector (OTLP/HTTP, JSON, gzip) from a
// persistent outbox; only used when TelemetryConfig::endpoint is set. See docs/ARCHITECTURE.md.
struct DeliveryConfig {
  // false: this process keeps the outbox (and reports it) but does not send; the command line
  // sets it so a short `vibekit` command never pushes half a batch.
  bool run_worker = true;
  int max_events_per_request = 500;
  std::int64_t max_request_bytes = 4LL << 20;  // JSON before gzip; a single event may exceed it
  int poll_interval_ms = 500;      // how often an idle worker looks for newly committed events
  int request_timeout_ms = 10000;  // whole request, connection included
  int connect_timeout_ms = 5000;
  // Retries (connection errors, timeouts, HTTP 429/502/503/504): full jitter, a random wait in
  // [0, min(backoff_max_ms, backoff_base_ms * 2^attempt)]; a Retry-After header replaces it.
  int backoff_base_ms = 200;
  int backoff_max_ms = 30000;
  int max_retry_after_ms = 300000;  // a longer Retry-After is cut to this
  bool gzip = true;                 // Content-Encoding: gzip
};

// Alert notifications of AnalyticsService monitoring (docs/ANALYTICS.md).
struct AnalyticsConfig {
  // When set (http:// or https://), every alert firing and resolution is POSTed there as JSON
  // ({"type":"alert"|"resolved","alert":{...}}), retried with backoff on connection errors,
  // timeouts, 429 and 5xx.
  std::string webhook_url;
  std::map<std::string, std::string> webhook_headers;
  int webhook_timeout_ms = 5000;
  int webhook_max_attempts = 5;
  int webhook_backoff_base_ms = 500;
  int webhook_backoff_max_ms = 30000;
};

// Privacy of what is stored and exported (docs/PRIVACY.md). Applied by every write path after
// validation, and again by exports and OTLP encoding (rows stored before it was turned on).
struct PrivacyConfig {
  // Secrets (API keys, tokens, private keys, NAME=value secrets; the list is in docs/PRIVACY.md)
  // in prompt, stream data, error message/stack/context and every metadata string are replaced
  // by "[REDACTED:<kind>]".
  bool redact_secrets = true;
  // Further ECMAScript regexes; each match becomes "[REDACTED:custom]" (also when
  // redact_secrets is false).
  std::vector<std::string> redact_patterns;
  // Metadata values under these keys (a key at any depth, or a dotted path from the top such
  // as "user.email") are replaced by "hmac:" + HMAC-SHA-256(install key, value) in hex: equal
  // values stay equal (per install), the value itself is not stored.
  std::vector<std::string> hash_metadata_keys = {"userId", "user_id", "user.id", "user.email",
                                                 "userEmail", "user_email", "email"};
  // The HMAC key. Empty: the per-install key in `hash_key_file`, created on first use with 32
  // random bytes from getrandom (mode 0600).
  std::string hash_key;
  // Empty: "install.key" beside the SQLite file, ~/.vibekit/install.key for PostgreSQL.
  std::string hash_key_file;
  // false: prompt and stream text are not stored at all; the event keeps its type and times and
  // metadata gains "vibekit.prompt_bytes" / "vibekit.stream_bytes" (like the agents' own
  // OpenTelemetry settings that log prompt lengths only). Error messages are kept (redacted).
  bool store_content = true;
};

struct TelemetryConfig {
  bool is_enabled = true;
  std::string endpoint;  // OTLP/HTTP traces endpoint (http[s]://host/v1/traces); empty = none
  // Extra request headers for the collector, e.g. {"x-api-key", "..."} or authorization.
  std::map<std::string, std::string> headers;
  DeliveryConfig delivery;
  AnalyticsConfig analytics;
  LocalStoreConfig local_store;
  PrivacyConfig privacy;
  bool apply_environment = true;  // let the TELEMETRY_* variables override the values above
};

// Applies the environment overrides listed above to `config`. A variable holding something that
// is not a valid number returns kInvalidArgument naming it (and leaves `config` unchanged).
Status ApplyEnvironment(TelemetryConfig& config);

// Checks ranges (batch size >= 1, interval >= 1 ms, ...). Returns kInvalidArgument naming the key.
Status ValidateConfig(const TelemetryConfig& config);

}  // namespace vibekit
