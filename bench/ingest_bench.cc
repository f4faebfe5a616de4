// vibekit_bench: ingest, import and query benchmarks on a generated agent workload. Prints one
// JSON document. Every figure is measured in this run; ratios compare paths measured together.
//
//   ingest.service   Track* through TelemetryService (validation, buffering, writer, rollups)
//   ingest.import    the same events as NDJSON through ImportNdjson
//   ingest.bare      the same rows through one prepared INSERT into the same schema, indexes
//                    and triggers (the physical limit), same transaction size
//   queries          p50/p95 on the service-built database
//   disk             bytes per event on disk against the NDJSON input's bytes per event
//   --decompose N    only the bare insert with parts of the schema removed, and the service:
//                    CPU microseconds per event per part (docs/BENCHMARKS.md)
#include <sqlite3.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/privacy.h"
#include "common/steady_ms.h"
#include "common/sys.h"
#include "ingest/validation_rules.h"
#include "store/sqlite/fts_tokenizer.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/text_codec.h"
#include "vibekit/telemetry_service.h"
#include "workload/workload.h"

namespace vibekit::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

double Seconds(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "vibekit_bench: %s\n", what.c_str());
  std::exit(1);
}

void Check(const Status& st, const std::string& what) {
  if (!st.ok()) Die(what + ": " + st.ToString());
}

int g_page_size = 16384;

TelemetryConfig BenchConfig(const std::string& path) {
  TelemetryConfig c;
  c.local_store.page_size = g_page_size;
  c.apply_environment = false;
  c.local_store.db_path = path;
  c.local_store.max_size_mb = 0;  // no cap while measuring
  c.local_store.prune_days = 0;
  c.local_store.enqueue_timeout_ms = 600000;  // a slow (shared) machine waits, never fails
  return c;
}

std::int64_t DbBytes(const std::string& path) {
  return internal::FileSizeBytes(path) + internal::FileSizeBytes(path + "-wal");
}

struct IngestFigures {
  double seconds = 0;
  double events_per_s = 0;
  std::int64_t peak_rss = 0;
  std::int64_t db_bytes = 0;
  PerformanceMetrics perf;
};

// Creates the database at `path` with `sql` run on it afterwards (raw SQL, as a tool would).
void CreateThenRun(const std::string& path, const char* sql, const char* what) {
  {
    TelemetryService s(BenchConfig(path));
    Check(s.Initialize(), what);
    Check(s.Shutdown(), what);
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die(std::string("open: ") + what);
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    Die(std::string(what) + ": " + (err ? err : "?"));
  }
  sqlite3_close(db);
}

// Creates the database at `path` and drops the audit triggers of schema 1.6.0 (they are not
// put back: the version is recorded), so an ingest into it measures the path without auditing.
void CreateWithoutAuditTriggers(const std::string& path) {
  CreateThenRun(path,
                "DROP TRIGGER telemetry_audit_sessions_au; DROP TRIGGER telemetry_audit_errors_au;",
                "drop audit triggers");
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// CPU time per event of the privacy transform (the defaults) and of one custom regex rule, on
// the workload's events held in memory: the costs without the noise of the writer and the disk.
struct CpuCosts {
  double privacy_us = 0;
  double rule_us = 0;
};

CpuCosts MeasureCpuCosts(const workload::WorkloadOptions& wo, const std::string& dir) {
  std::vector<Event> events;
  workload::Generator gen(wo);
  Event e;
  while (gen.Next(&e)) events.push_back(e);
  TelemetryConfig config = BenchConfig(dir + "/cpu.db");
  config.privacy.hash_key = "bench-key";
  auto privacy = internal::Privacy::Create(config);
  if (!privacy.ok()) Die("privacy: " + privacy.status().ToString());
  ValidationRule rule;
  rule.field_name = "sessionId";
  rule.rule_type = ValidationRuleType::kRegex;
  rule.rule_config = R"("^[A-Za-z0-9_.:-]+$")";
  auto rules = ingest::RuleSet::Compile({rule}, nullptr);
  CpuCosts c;
  std::vector<Event> copy = events;
  auto t0 = SteadyClock::now();
  for (Event& ev : copy) (*privacy)->ApplyIncoming(ev);
  c.privacy_us = Seconds(t0) * 1e6 / static_cast<double>(events.size());
  std::size_t failed = 0;
  t0 = SteadyClock::now();
  for (const Event& ev : events) failed += rules->Check(ev).ok() ? 0 : 1;
  c.rule_us = Seconds(t0) * 1e6 / static_cast<double>(events.size());
  if (failed != 0) Die("the bench rule refused workload events");
  return c;
}

// How the service ingest is set up (the A/B modes compare them).
struct ServiceVariant {
  bool privacy = true;  // PrivacyConfig defaults (redaction, keyed hashes); false = all off
};

IngestFigures IngestService(const std::string& path, const workload::WorkloadOptions& wo,
                            ServiceVariant variant = {}) {
  TelemetryConfig config = BenchConfig(path);
  if (!variant.privacy) {
    config.privacy.redact_secrets = false;
    config.privacy.hash_metadata_keys.clear();
  }
  TelemetryService s(config);
  Check(s.Initialize(), "initialize");
  workload::Generator gen(wo);
  Event e;
  const auto t0 = SteadyClock::now();
  while (gen.Next(&e)) Check(s.Track(e), "track");
  Check(s.FlushBuffers(600000), "flush");
  IngestFigures f;
  f.seconds = Seconds(t0);
  f.events_per_s = static_cast<double>(wo.total_events) / f.seconds;
  f.peak_rss = internal::PeakRssBytes();
  f.perf = s.GetPerformanceMetrics();
  Check(s.Shutdown(), "shutdown");
  f.db_bytes = DbBytes(path);
  return f;
}

// --decompose: where the time of a bare INSERT into our schema goes. The same rows (held in
// memory, generated once) go through one prepared INSERT per row into the real schema with parts
// of it removed: no secondary index, each event index alone, the foreign key, the FTS5 fill (per
// transaction, as the store does it; other tokenizers and chunk sizes), zstd for long texts, and
// everything together; then through the service. Each variant writes a fresh database.
struct BareVariant {
  std::string name;
  bool fk = false;                 // PRAGMA foreign_keys (session_id references a session row)
  std::vector<std::string> keep;   // event indexes kept (the rest are dropped before the run)
  bool fts = false;                // fill the text index once per `fts_every` rows
  std::string tokenizer;           // non-empty: the FTS table is re-created with this tokenizer
  bool builtin_unicode61 = false;  // SQLite's own unicode61, not the store's (fts_tokenizer.h)
  int fts_every = 0;               // 0 = at every commit
  std::string fts_setting;         // "name=value": an FTS5 configuration option set first
  bool zstd = false;               // texts of `zstd_min_bytes`+ bytes stored compressed
  store::sqlite::TextCodec codec = store::sqlite::kStoredTextCodec;  // how (`zstd_level` for zstd)
  int zstd_level = store::sqlite::kZstdTextLevel;
  int zstd_min_bytes = LocalStoreConfig{}.compress_min_bytes;
  int txn_rows = 5000;             // rows per transaction
  int rows_per_insert = 1;         // rows per INSERT statement (multi-row VALUES)
};

const std::vector<std::string> kEventIndexes = {"idx_events_session_time", "idx_events_agent_time",
                                                "idx_events_time"};

struct Rate {
  double events_per_s = 0;
  double cpu_us_per_event = 0;
  double db_bytes_per_event = 0;
};

Rate IngestBareVariant(const std::string& path, const std::vector<Event>& events,
                       const BareVariant& v) {
  {
    LocalStoreConfig lc;
    lc.db_path = path;
    lc.page_size = g_page_size;
    store::sqlite::SqliteStore schema(lc, SystemClock());
    Check(schema.Open(), "create schema");
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die("open bare");
  auto exec = [&](const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      Die(v.name + ": " + sql + ": " + (err ? err : "?"));
    }
  };
  exec(std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=OFF; "
                   "PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY; "
                   "PRAGMA wal_autocheckpoint=2560; PRAGMA foreign_keys=") +
       (v.fk ? "ON;" : "OFF;"));
  Check(store::sqlite::RegisterTextFunctions(db), "register vk_text");
  if (!v.builtin_unicode61) {
    Check(store::sqlite::RegisterFastUnicode61(db), "register the unicode61 tokenizer");
  }
  for (const std::string& index : kEventIndexes) {
    if (std::find(v.keep.begin(), v.keep.end(), index) == v.keep.end()) {
      exec("DROP INDEX " + index);
    }
  }
  // The text index inside the database, filled on this connection as schemas before 1.9.0
  // did (the store now fills it in a file of its own, on its own thread: text_index.h).
  exec("CREATE VIRTUAL TABLE telemetry_events_fts USING fts5(prompt, stream_data, "
       "content='telemetry_events', content_rowid='id', detail=none, columnsize=0, "
       "tokenize='" + (v.tokenizer.empty() ? std::string("unicode61 remove_diacritics 2")
                                            : v.tokenizer) + "');");
  if (const auto eq = v.fts_setting.find('='); eq != std::string::npos) {
    exec("INSERT INTO telemetry_events_fts(telemetry_events_fts, rank) VALUES ('" +
         v.fts_setting.substr(0, eq) + "', " + v.fts_setting.substr(eq + 1) + ")");
  }
  sqlite3_stmt* ins = nullptr;
  sqlite3_stmt* ses = nullptr;
  sqlite3_stmt* fts = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO telemetry_events_fts (rowid, prompt, stream_data) SELECT id, "
                     "vk_text(prompt), vk_text(stream_data) FROM telemetry_events WHERE id > ?1 AND "
                     "(prompt IS NOT NULL OR stream_data IS NOT NULL)",
                     -1, &fts, nullptr);
  sqlite3_prepare_v2(db,
                     "INSERT INTO telemetry_events (session_id, event_type, agent_type, mode, "
                     "prompt, stream_data, sandbox_id, repo_url, metadata, timestamp, created_at) "
                     "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                     -1, &ins, nullptr);
  sqlite3_prepare_v2(db,
                     "INSERT OR IGNORE INTO telemetry_sessions (id, agent_type, status, start_time) "
                     "VALUES (?,?,'active',?)",
                     -1, &ses, nullptr);
  std::int64_t indexed_up_to = 0;
  std::int64_t last_id = 0;
  auto index_text = [&] {
    if (!v.fts || last_id == indexed_up_to) return;
    sqlite3_bind_int64(fts, 1, indexed_up_to);
    if (sqlite3_step(fts) != SQLITE_DONE) Die(v.name + " fts: " + sqlite3_errmsg(db));
    sqlite3_reset(fts);
    indexed_up_to = last_id;
  };
  const int min_bytes = v.zstd ? v.zstd_min_bytes : 0;
  const int k = std::max(1, v.rows_per_insert);
  sqlite3_stmt* ins_k = ins;
  if (k > 1) {
    std::string sql =
        "INSERT INTO telemetry_events (session_id, event_type, agent_type, mode, prompt, "
        "stream_data, sandbox_id, repo_url, metadata, timestamp, created_at) VALUES ";
    for (int j = 0; j < k; ++j) sql += j == 0 ? "(?,?,?,?,?,?,?,?,?,?,?)" : ",(?,?,?,?,?,?,?,?,?,?,?)";
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &ins_k, nullptr) != SQLITE_OK) Die("prepare k");
  }
  std::vector<std::string> packed(2 * static_cast<std::size_t>(k));
  auto bind_row = [&](sqlite3_stmt* st, int row, const Event& e) {
    const int b = 11 * row;
    auto text = [&](int i, const std::optional<std::string>& s) {
      std::string& buf = packed[2 * static_cast<std::size_t>(row) + (i % 2)];
      if (s && (i == 5 || i == 6) &&
          store::sqlite::EncodeText(*s, min_bytes, &buf, v.codec, v.zstd_level)) {
        sqlite3_bind_blob(st, b + i, buf.data(), static_cast<int>(buf.size()), SQLITE_STATIC);
      } else if (s) {
        sqlite3_bind_text(st, b + i, s->data(), static_cast<int>(s->size()), SQLITE_STATIC);
      } else {
        sqlite3_bind_null(st, b + i);
      }
    };
    sqlite3_bind_text(st, b + 1, e.session_id.data(), static_cast<int>(e.session_id.size()),
                      SQLITE_STATIC);
    const std::string_view type = EventTypeName(e.event_type);
    sqlite3_bind_text(st, b + 2, type.data(), static_cast<int>(type.size()), SQLITE_STATIC);
    sqlite3_bind_text(st, b + 3, e.agent_type.data(), static_cast<int>(e.agent_type.size()),
                      SQLITE_STATIC);
    text(4, e.mode);
    text(5, e.prompt);
    text(6, e.stream_data);
    text(7, e.sandbox_id);
    text(8, e.repo_url);
    text(9, e.metadata);
    sqlite3_bind_int64(st, b + 10, e.timestamp);
    sqlite3_bind_int64(st, b + 11, e.timestamp);
  };
  auto step = [&](sqlite3_stmt* st) {
    if (sqlite3_step(st) != SQLITE_DONE) Die(v.name + " insert: " + sqlite3_errmsg(db));
    sqlite3_reset(st);
    last_id = sqlite3_last_insert_rowid(db);
  };
  std::vector<const Event*> pending;  // rows of the next multi-row INSERT
  auto write_pending = [&] {
    if (static_cast<int>(pending.size()) == k) {
      for (int j = 0; j < k; ++j) bind_row(ins_k, j, *pending[static_cast<std::size_t>(j)]);
      step(ins_k);
    } else {
      for (const Event* e : pending) {
        bind_row(ins, 0, *e);
        step(ins);
      }
    }
    pending.clear();
  };
  std::unordered_set<std::string_view> seen;
  std::int64_t n = 0;
  const auto t0 = SteadyClock::now();
  const double cpu0 = internal::ProcessCpuSeconds();
  exec("BEGIN");
  for (const Event& e : events) {
    if (seen.insert(e.session_id).second) {
      sqlite3_bind_text(ses, 1, e.session_id.data(), -1, SQLITE_STATIC);
      sqlite3_bind_text(ses, 2, e.agent_type.data(), -1, SQLITE_STATIC);
      sqlite3_bind_int64(ses, 3, e.timestamp);
      sqlite3_step(ses);
      sqlite3_reset(ses);
    }
    pending.push_back(&e);
    ++n;
    const bool commit = n % v.txn_rows == 0;
    const bool index = v.fts_every > 0 && n % v.fts_every == 0;
    if (static_cast<int>(pending.size()) == k || commit || index) write_pending();
    if (index) index_text();
    if (commit) {
      if (v.fts_every == 0) index_text();
      exec("COMMIT");
      exec("BEGIN");
    }
  }
  write_pending();
  index_text();
  exec("COMMIT");
  Rate rate{static_cast<double>(n) / Seconds(t0),
            (internal::ProcessCpuSeconds() - cpu0) * 1e6 / static_cast<double>(n)};
  if (ins_k != ins) sqlite3_finalize(ins_k);
  sqlite3_finalize(ins);
  sqlite3_finalize(ses);
  sqlite3_finalize(fts);
  sqlite3_close(db);
  rate.db_bytes_per_event = static_cast<double>(DbBytes(path)) / static_cast<double>(n);
  return rate;
}

std::vector<BareVariant> DecomposeVariants() {
  const std::vector<std::string>& all = kEventIndexes;
  std::vector<BareVariant> v;
  constexpr auto kZstd = store::sqlite::TextCodec::kZstd;
  v.push_back({.name = "table_only"});
  v.push_back({.name = "+foreign_key", .fk = true});
  for (const std::string& index : all) v.push_back({.name = "+" + index, .keep = {index}});
  v.push_back({.name = "+3_event_indexes", .keep = all});
  v.push_back({.name = "+fts5", .fts = true});
  v.push_back({.name = "+fts5_builtin_unicode61", .fts = true, .builtin_unicode61 = true});
  v.push_back({.name = "+fts5_ascii", .fts = true, .tokenizer = "ascii"});
  v.push_back({.name = "+fts5_unicode61_keep_diacritics", .fts = true,
               .tokenizer = "unicode61 remove_diacritics 0"});
  v.push_back({.name = "+fts5_every_800", .fts = true, .fts_every = 800});
  v.push_back({.name = "+fts5_every_50000", .fts = true, .fts_every = 50000, .txn_rows = 50000});
  v.push_back({.name = "+fts5_automerge_16", .fts = true, .fts_setting = "automerge=16"});
  v.push_back({.name = "+fts5_pgsz_4000", .fts = true, .fts_setting = "pgsz=4000"});
  v.push_back({.name = "+compressed", .zstd = true});  // the store's codec (LZ4)
  v.push_back({.name = "+zstd_level_1", .zstd = true, .codec = kZstd, .zstd_level = 1});
  v.push_back({.name = "+zstd_level_-3", .zstd = true, .codec = kZstd, .zstd_level = -3});
  v.push_back({.name = "+zstd_level_3", .zstd = true, .codec = kZstd, .zstd_level = 3});
  v.push_back({.name = "+zstd_from_2048_bytes", .zstd = true, .zstd_min_bytes = 2048});
  v.push_back({.name = "full_schema", .fk = true, .keep = all, .fts = true, .zstd = true});
  v.push_back({.name = "full_schema_txn_800", .fk = true, .keep = all, .fts = true, .zstd = true,
               .txn_rows = 800});
  v.push_back({.name = "full_schema_without_fts5", .fk = true, .keep = all, .zstd = true});
  v.push_back({.name = "table_only_8_rows_per_insert", .rows_per_insert = 8});
  v.push_back({.name = "full_schema_8_rows_per_insert", .fk = true, .keep = all, .fts = true,
               .zstd = true, .rows_per_insert = 8});
  v.push_back({.name = "full_schema_8_rows_per_insert_builtin_unicode61", .fk = true, .keep = all,
               .fts = true, .builtin_unicode61 = true, .zstd = true, .rows_per_insert = 8});
  return v;
}

// The service with the same rows: Track from one thread, then FlushBuffers.
Rate IngestServiceEvents(const std::string& path, const std::vector<Event>& events,
                         std::int64_t* transactions) {
  TelemetryService s(BenchConfig(path));
  Check(s.Initialize(), "initialize");
  const auto t0 = SteadyClock::now();
  const double cpu0 = internal::ProcessCpuSeconds();
  for (const Event& e : events) Check(s.Track(e), "track");
  Check(s.FlushBuffers(600000), "flush");
  const auto n = static_cast<double>(events.size());
  Rate rate{n / Seconds(t0), (internal::ProcessCpuSeconds() - cpu0) * 1e6 / n};
  *transactions = s.GetPerformanceMetrics().total_flushes;
  Check(s.Shutdown(), "shutdown");
  rate.db_bytes_per_event = static_cast<double>(DbBytes(path)) / n;
  return rate;
}

void RemoveDatabase(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

// Every variant once per round, rounds interleaved; medians per variant (this machine is shared,
// so a variant's neighbours in time change between rounds).
void RunDecompose(const std::string& dir, const workload::WorkloadOptions& wo, int rounds,
                  const std::vector<std::string>& only) {
  std::vector<Event> events;
  workload::Generator gen(wo);
  for (Event e; gen.Next(&e);) events.push_back(e);
  std::vector<BareVariant> variants = DecomposeVariants();
  const bool with_service =
      only.empty() || std::find(only.begin(), only.end(), "service") != only.end();
  if (!only.empty()) {
    std::erase_if(variants, [&](const BareVariant& v) {
      return v.name != "table_only" && std::find(only.begin(), only.end(), v.name) == only.end();
    });
  }
  std::vector<std::vector<double>> rate(variants.size() + 1), cpu(variants.size() + 1),
      bytes(variants.size() + 1);
  std::int64_t transactions = 0;
  const std::string path = dir + "/decompose.db";
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t i = 0; i < variants.size() + (with_service ? 1 : 0); ++i) {
      const bool service = i == variants.size();
      const Rate x = service ? IngestServiceEvents(path, events, &transactions)
                             : IngestBareVariant(path, events, variants[i]);
      RemoveDatabase(path);
      rate[i].push_back(x.events_per_s);
      cpu[i].push_back(x.cpu_us_per_event);
      bytes[i].push_back(x.db_bytes_per_event);
      std::fprintf(stderr, "round %d %-34s %8.0f events/s %7.1f us CPU/event\n", r + 1,
                   service ? "service" : variants[i].name.c_str(), x.events_per_s,
                   x.cpu_us_per_event);
    }
  }
  const double base_rate = Median(rate[0]);
  const double base_cpu = Median(cpu[0]);
  std::string rows;
  for (std::size_t i = 0; i < variants.size() + (with_service ? 1 : 0); ++i) {
    const bool service = i == variants.size();
    char buf[400];
    std::snprintf(buf, sizeof buf,
                  "%s    {\"variant\": \"%s\", \"events_per_s\": %.0f, \"cpu_us_per_event\": %.1f, "
                  "\"rate_vs_table_only\": %.3f, \"cpu_vs_table_only\": %.2f, "
                  "\"db_bytes_per_event\": %.0f}",
                  rows.empty() ? "" : ",\n", service ? "service" : variants[i].name.c_str(),
                  Median(rate[i]), Median(cpu[i]), Median(rate[i]) / base_rate,
                  Median(cpu[i]) / base_cpu, Median(bytes[i]));
    rows += buf;
  }
  std::printf("{\n  \"events\": %zu,\n  \"rounds\": %d,\n  \"page_size\": %d,\n"
              "  \"service_transactions\": %lld,\n  \"variants\": [\n%s\n  ]\n}\n",
              events.size(), rounds, g_page_size, static_cast<long long>(transactions),
              rows.c_str());
}

// The physical limit: the same rows (in memory) into the same schema (indexes, text index,
// foreign key) through one prepared INSERT per row, sessions inserted once, 5000 rows per
// transaction. With `compress`, large texts are stored in the same compressed form the store
// writes, so the bytes written match the service's; without it, every text is stored as it came.
IngestFigures IngestBare(const std::string& path, const std::vector<Event>& events, bool compress) {
  const BareVariant v{.name = compress ? "bare_compressed" : "bare", .fk = true,
                      .keep = kEventIndexes, .fts = true, .zstd = compress};
  IngestFigures f;
  f.events_per_s = IngestBareVariant(path, events, v).events_per_s;
  f.seconds = static_cast<double>(events.size()) / f.events_per_s;
  f.db_bytes = DbBytes(path);
  return f;
}

// --tokenizer-ab: the text index's tokenizer alone. Every prompt and stream text of the workload
// (in memory) through SQLite's built-in unicode61 and through the store's (fts_tokenizer.h), with
// the schema's arguments and a callback that only counts, alternated N times: CPU time of this
// thread per event. The rest of the text index's cost (FTS5's pending-term hash, segment writes)
// is the same for both: `--decompose` +fts5 against +fts5_builtin_unicode61.
struct TokenCount {
  std::int64_t tokens = 0;
  std::int64_t bytes = 0;
};

int CountToken(void* count, int /*flags*/, const char* /*token*/, int size, int /*start*/,
               int /*end*/) {
  auto* c = static_cast<TokenCount*>(count);
  ++c->tokens;
  c->bytes += size;
  return SQLITE_OK;
}

double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

void RunTokenizerAb(const workload::WorkloadOptions& wo, int rounds) {
  std::vector<std::string> texts;
  std::int64_t text_bytes = 0;
  {
    workload::Generator gen(wo);
    for (Event e; gen.Next(&e);) {
      for (const std::optional<std::string>* t : {&e.prompt, &e.stream_data}) {
        if (*t) {
          text_bytes += static_cast<std::int64_t>((*t)->size());
          texts.push_back(**t);
        }
      }
    }
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) Die("open :memory:");
  fts5_api* api = nullptr;
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, nullptr);
  sqlite3_bind_pointer(stmt, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
  sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  if (api == nullptr) Die("no fts5_api");
  struct Found {
    fts5_tokenizer functions{};
    void* context = nullptr;
    Fts5Tokenizer* instance = nullptr;
  } builtin, ours;
  const char* args[] = {"remove_diacritics", "2"};
  auto create = [&](Found* f) {
    if (api->xFindTokenizer(api, "unicode61", &f->context, &f->functions) != SQLITE_OK ||
        f->functions.xCreate(f->context, args, 2, &f->instance) != SQLITE_OK) {
      Die("unicode61 tokenizer");
    }
  };
  create(&builtin);
  Check(store::sqlite::RegisterFastUnicode61(db), "register the unicode61 tokenizer");
  create(&ours);
  auto run = [&](const Found& f, TokenCount* count) {
    const double t0 = ThreadCpuSeconds();
    for (const std::string& t : texts) {
      f.functions.xTokenize(f.instance, count, FTS5_TOKENIZE_DOCUMENT, t.data(),
                            static_cast<int>(t.size()), &CountToken);
    }
    return (ThreadCpuSeconds() - t0) * 1e9 / static_cast<double>(wo.total_events);
  };
  std::vector<double> ns_builtin, ns_ours;
  TokenCount count_builtin, count_ours;
  for (int r = 0; r < rounds; ++r) {
    TokenCount a, b;
    if (r % 2 == 0) {
      ns_builtin.push_back(run(builtin, &a));
      ns_ours.push_back(run(ours, &b));
    } else {
      ns_ours.push_back(run(ours, &b));
      ns_builtin.push_back(run(builtin, &a));
    }
    if (a.tokens != b.tokens || a.bytes != b.bytes) Die("the tokenizers disagree");
    count_builtin = a;
    count_ours = b;
    std::fprintf(stderr, "round %d built-in %.0f ns/event, ours %.0f ns/event\n", r + 1,
                 ns_builtin.back(), ns_ours.back());
  }
  builtin.functions.xDelete(builtin.instance);
  ours.functions.xDelete(ours.instance);
  sqlite3_close(db);
  const double b = Median(ns_builtin), o = Median(ns_ours);
  std::printf("{\n  \"events\": %lld,\n  \"rounds\": %d,\n  \"text_bytes_per_event\": %.0f,\n"
              "  \"tokens_per_event\": %.1f,\n  \"builtin_ns_per_event\": %.0f,\n"
              "  \"ours_ns_per_event\": %.0f,\n  \"ours_over_builtin\": %.3f\n}\n",
              static_cast<long long>(wo.total_events), rounds,
              static_cast<double>(text_bytes) / static_cast<double>(wo.total_events),
              static_cast<double>(count_ours.tokens) / static_cast<double>(wo.total_events), b, o,
              o / b);
}

// Writes the workload as NDJSON; returns bytes written.
std::int64_t WriteNdjson(const std::string& path, const workload::WorkloadOptions& wo) {
  std::ofstream out(path, std::ios::binary);
  workload::Generator gen(wo);
  Event e;
  std::string line;
  std::int64_t bytes = 0;
  while (gen.Next(&e)) {
    line.clear();
    workload::AppendNdjsonLine(e, &line);
    line += '\n';
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
    bytes += static_cast<std::int64_t>(line.size());
  }
  return bytes;
}

struct Latency {
  double p50_ms = 0;
  double p95_ms = 0;
  double mean_rows = 0;
};

Latency Measure(int iterations, const std::function<std::size_t(int)>& run) {
  std::vector<double> ms;
  double rows = 0;
  for (int i = 0; i < 3; ++i) run(i);  // warm the statement cache and the page cache
  for (int i = 0; i < iterations; ++i) {
    const auto t0 = SteadyClock::now();
    rows += static_cast<double>(run(i));
    ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  Latency l;
  l.p50_ms = ms[ms.size() / 2];
  l.p95_ms = ms[std::min(ms.size() - 1, ms.size() * 95 / 100)];
  l.mean_rows = rows / iterations;
  return l;
}

std::string LatencyJson(const Latency& l) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "{\"p50_ms\": %.4f, \"p95_ms\": %.4f, \"mean_rows\": %.1f}",
                l.p50_ms, l.p95_ms, l.mean_rows);
  return buf;
}

}  // namespace
}  // namespace vibekit::bench

int main(int argc, char** argv) {
  using namespace vibekit;
  using namespace vibekit::bench;
  CLI::App app{"VibeKit ingest/query benchmark (prints JSON)"};
  std::int64_t events = 1000000;
  std::string dir = "/tmp/vibekit-bench";
  std::uint64_t seed = 42;
  int iterations = 300;
  bool skip_import = false;
  bool skip_bare = false;
  app.add_option("--events", events, "Events in the workload");
  app.add_option("--dir", dir, "Scratch directory (wiped)");
  app.add_option("--seed", seed, "Workload seed");
  app.add_option("--iterations", iterations, "Iterations per query");
  app.add_option("--page-size", g_page_size, "SQLite page size of the new databases");
  app.add_flag("--skip-import", skip_import);
  app.add_flag("--skip-bare", skip_bare);
  int audit_ab = 0;
  app.add_option("--audit-ab", audit_ab,
                 "Only measure the audit triggers' cost: N alternating service ingests with and "
                 "without them; prints their medians and the ratio");
  int privacy_ab = 0;
  app.add_option("--privacy-ab", privacy_ab,
                 "Only measure privacy and validation rules: N rounds of four service ingests "
                 "(privacy on = the defaults; privacy off; off without the default rules; off "
                 "with one custom regex rule); prints their medians and ratios");
  int decompose = 0;
  app.add_option("--decompose", decompose,
                 "Only decompose the bare insert's cost, N rounds: the same rows into the schema "
                 "with parts of it removed (indexes, foreign key, FTS5 variants, zstd), then the "
                 "service; medians of wall rate and CPU per event");
  int tokenizer_ab = 0;
  app.add_option("--tokenizer-ab", tokenizer_ab,
                 "Only measure the text index's tokenizer: the workload's texts through SQLite's "
                 "unicode61 and the store's, N alternating rounds; CPU ns per event and the ratio");
  std::vector<std::string> only;
  app.add_option("--variants", only,
                 "With --decompose: only these variants (table_only is always run: the ratios' "
                 "base; 'service' = the service)")
      ->delimiter(',');
  CLI11_PARSE(app, argc, argv);

  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  workload::WorkloadOptions wo;
  wo.total_events = events;
  wo.seed = seed;

  if (tokenizer_ab > 0) {
    RunTokenizerAb(wo, tokenizer_ab);
    std::filesystem::remove_all(dir);
    return 0;
  }
  if (decompose > 0) {
    RunDecompose(dir, wo, decompose, only);
    std::filesystem::remove_all(dir);
    return 0;
  }

  if (audit_ab > 0) {
    std::vector<double> with, without;
    for (int i = 0; i < audit_ab; ++i) {
      const std::string a = dir + "/audit_on.db";
      const std::string b = dir + "/audit_off.db";
      with.push_back(IngestService(a, wo).events_per_s);
      CreateWithoutAuditTriggers(b);
      without.push_back(IngestService(b, wo).events_per_s);
      std::fprintf(stderr, "audit on %.0f, off %.0f events/s\n", with.back(), without.back());
      std::filesystem::remove_all(dir);
      std::filesystem::create_directories(dir);
    }
    const double on = Median(with);
    const double off = Median(without);
    std::printf("{\n  \"events\": %lld,\n  \"runs\": %d,\n"
                "  \"service_events_per_s_with_audit\": %.0f,\n"
                "  \"service_events_per_s_without_audit\": %.0f,\n"
                "  \"with_over_without\": %.3f\n}\n",
                static_cast<long long>(events), audit_ab, on, off, on / off);
    std::filesystem::remove_all(dir);
    return 0;
  }

  if (privacy_ab > 0) {
    std::vector<double> on, off, no_rules, custom;
    for (int i = 0; i < privacy_ab; ++i) {
      on.push_back(IngestService(dir + "/privacy_on.db", wo).events_per_s);
      off.push_back(IngestService(dir + "/privacy_off.db", wo, {.privacy = false}).events_per_s);
      CreateThenRun(dir + "/no_rules.db", "DELETE FROM telemetry_validation_rules;",
                    "remove the default rules");
      no_rules.push_back(
          IngestService(dir + "/no_rules.db", wo, {.privacy = false}).events_per_s);
      CreateThenRun(dir + "/custom.db",
                    "INSERT INTO telemetry_validation_rules (table_name, field_name, rule_type, "
                    "rule_config) VALUES ('telemetry_events', 'sessionId', 'regex', "
                    "'\"^[A-Za-z0-9_.:-]+$\"');",
                    "add a custom rule");
      custom.push_back(IngestService(dir + "/custom.db", wo, {.privacy = false}).events_per_s);
      std::fprintf(stderr, "privacy on %.0f, off %.0f, no rules %.0f, custom rule %.0f events/s\n",
                   on.back(), off.back(), no_rules.back(), custom.back());
      std::filesystem::remove_all(dir);
      std::filesystem::create_directories(dir);
    }
    const double m_on = Median(on), m_off = Median(off), m_none = Median(no_rules),
                 m_custom = Median(custom);
    const CpuCosts cpu = MeasureCpuCosts(wo, dir);
    const double service_us = 1e6 / m_off;
    std::printf("{\n  \"events\": %lld,\n  \"runs\": %d,\n"
                "  \"service_events_per_s_privacy_on\": %.0f,\n"
                "  \"service_events_per_s_privacy_off\": %.0f,\n"
                "  \"service_events_per_s_no_rules\": %.0f,\n"
                "  \"service_events_per_s_custom_rule\": %.0f,\n"
                "  \"privacy_on_over_off\": %.3f,\n"
                "  \"default_rules_over_no_rules\": %.3f,\n"
                "  \"custom_rule_over_no_rules\": %.3f,\n"
                "  \"privacy_cpu_us_per_event\": %.2f,\n"
                "  \"custom_rule_cpu_us_per_event\": %.2f,\n"
                "  \"service_us_per_event_privacy_off\": %.1f,\n"
                "  \"privacy_cpu_share_of_service_time\": %.4f,\n"
                "  \"custom_rule_cpu_share_of_service_time\": %.4f\n}\n",
                static_cast<long long>(events), privacy_ab, m_on, m_off, m_none, m_custom,
                m_on / m_off, m_off / m_none, m_custom / m_none, cpu.privacy_us, cpu.rule_us,
                service_us, cpu.privacy_us / service_us, cpu.rule_us / service_us);
    std::filesystem::remove_all(dir);
    return 0;
  }

  // Service first: the process's peak RSS is then the service's.
  const std::string service_db = dir + "/service.db";
  const IngestFigures svc = IngestService(service_db, wo);
  std::fprintf(stderr, "service: %.0f events/s\n", svc.events_per_s);
  IngestFigures bare;
  IngestFigures bare_packed;
  if (!skip_bare) {
    std::vector<Event> rows;  // generated once, outside the timed inserts
    workload::Generator gen(wo);
    for (Event e; gen.Next(&e);) rows.push_back(e);
    bare = IngestBare(dir + "/bare.db", rows, /*compress=*/false);
    std::fprintf(stderr, "bare:    %.0f events/s\n", bare.events_per_s);
    std::filesystem::remove(dir + "/bare.db");
    bare_packed = IngestBare(dir + "/bare_packed.db", rows, /*compress=*/true);
    std::fprintf(stderr, "bare, compressed: %.0f events/s\n", bare_packed.events_per_s);
    std::filesystem::remove(dir + "/bare_packed.db");
  }
  const std::string ndjson = dir + "/workload.ndjson";
  const std::int64_t json_bytes = WriteNdjson(ndjson, wo);
  IngestFigures imp;
  if (!skip_import) {
    TelemetryService s(BenchConfig(dir + "/import.db"));
    // (removed below: only the service-built database is kept for the queries)
    Check(s.Initialize(), "initialize import");
    const auto t0 = SteadyClock::now();
    auto r = s.ImportNdjson(ndjson);
    if (!r.ok()) Die("import: " + r.status().ToString());
    imp.seconds = Seconds(t0);
    imp.events_per_s = static_cast<double>(r->imported) / imp.seconds;
    Check(s.Shutdown(), "shutdown import");
    std::fprintf(stderr, "import:  %.0f events/s\n", imp.events_per_s);
  }
  std::filesystem::remove(ndjson);
  std::filesystem::remove(dir + "/import.db");

  // Queries on the service-built database.
  TelemetryService s(BenchConfig(service_db));
  Check(s.Initialize(), "reopen");
  std::vector<std::string> sessions;
  {
    SessionQueryFilter f;
    f.limit = 100000;
    auto all = s.QuerySessions(f);
    if (!all.ok()) Die(all.status().ToString());
    std::mt19937_64 rng(seed);
    for (int i = 0; i < iterations; ++i) sessions.push_back((*all)[rng() % all->size()].id);
  }
  const std::vector<std::string> agents = {"claude", "codex", "gemini", "opencode", "cursor"};
  const std::vector<SessionStatus> statuses = {SessionStatus::kCompleted, SessionStatus::kActive,
                                               SessionStatus::kFailed};
  const std::vector<std::string> terms = workload::SearchTerms();
  auto rows = [](const auto& r) -> std::size_t {
    if (!r.ok()) Die(r.status().ToString());
    return r->size();
  };
  const Latency q_session = Measure(iterations, [&](int i) {
    EventQueryFilter f;
    f.session_id = sessions[static_cast<std::size_t>(i) % sessions.size()];
    f.limit = 10000;
    return rows(s.QueryEvents(f));
  });
  const Latency q_agent = Measure(iterations, [&](int i) {
    EventQueryFilter f;
    f.agent_type = agents[static_cast<std::size_t>(i) % agents.size()];
    f.limit = 100;
    f.order = SortOrder::kDesc;
    return rows(s.QueryEvents(f));
  });
  const Latency q_page = Measure(iterations, [&](int i) {
    SessionQueryFilter f;
    f.status = statuses[static_cast<std::size_t>(i) % statuses.size()];
    f.limit = 50;
    f.offset = (i % 4) * 50;
    return rows(s.QuerySessions(f));
  });
  const Latency q_stats = Measure(iterations, [&](int) {
    auto r = s.GetAggregateStats();
    if (!r.ok()) Die(r.status().ToString());
    return static_cast<std::size_t>(r->by_agent.size());
  });
  const Latency q_search = Measure(iterations, [&](int i) {
    EventQueryFilter f;
    f.contains = terms[static_cast<std::size_t>(i) % terms.size()];
    f.limit = 50;
    f.order = SortOrder::kDesc;
    return rows(s.QueryEvents(f));
  });
  std::string per_term;
  for (const std::string& term : terms) {
    const Latency l = Measure(std::max(10, iterations / 10), [&](int) {
      EventQueryFilter f;
      f.contains = term;
      f.limit = 50;
      f.order = SortOrder::kDesc;
      return rows(s.QueryEvents(f));
    });
    per_term += (per_term.empty() ? "" : ", ") + std::string("\"") + term + "\": " + LatencyJson(l);
  }
  Check(s.Shutdown(), "shutdown");

  const double json_per_event = static_cast<double>(json_bytes) / static_cast<double>(events);
  const double disk_per_event = static_cast<double>(svc.db_bytes) / static_cast<double>(events);
  std::string terms_json;
  for (const auto& t : terms) terms_json += (terms_json.empty() ? "\"" : ", \"") + t + "\"";
  std::printf("{\n");
  std::printf("  \"events\": %lld,\n  \"seed\": %llu,\n  \"page_size\": %d,\n",
              static_cast<long long>(events), static_cast<unsigned long long>(seed), g_page_size);
  std::printf("  \"ingest\": {\n");
  std::printf("    \"service_events_per_s\": %.0f,\n", svc.events_per_s);
  std::printf("    \"import_events_per_s\": %.0f,\n", imp.events_per_s);
  std::printf("    \"bare_insert_events_per_s\": %.0f,\n", bare.events_per_s);
  std::printf("    \"bare_insert_compressed_events_per_s\": %.0f,\n", bare_packed.events_per_s);
  std::printf("    \"service_to_bare_ratio\": %.3f,\n",
              bare.events_per_s > 0 ? svc.events_per_s / bare.events_per_s : 0.0);
  std::printf("    \"service_to_bare_compressed_ratio\": %.3f,\n",
              bare_packed.events_per_s > 0 ? svc.events_per_s / bare_packed.events_per_s : 0.0);
  std::printf("    \"import_to_bare_ratio\": %.3f,\n",
              bare.events_per_s > 0 ? imp.events_per_s / bare.events_per_s : 0.0);
  std::printf("    \"service_transactions\": %lld,\n", static_cast<long long>(svc.perf.total_flushes));
  std::printf("    \"service_avg_commit_ms\": %.2f,\n", svc.perf.avg_flush_ms);
  std::printf("    \"service_p99_commit_ms\": %.2f,\n", svc.perf.p99_flush_ms);
  std::printf("    \"peak_rss_bytes\": %lld\n  },\n", static_cast<long long>(svc.peak_rss));
  std::printf("  \"disk\": {\n    \"json_bytes_per_event\": %.1f,\n", json_per_event);
  std::printf("    \"db_bytes_per_event\": %.1f,\n", disk_per_event);
  std::printf("    \"bare_db_bytes_per_event\": %.1f,\n",
              static_cast<double>(bare.db_bytes) / static_cast<double>(events));
  std::printf("    \"bare_compressed_db_bytes_per_event\": %.1f,\n",
              static_cast<double>(bare_packed.db_bytes) / static_cast<double>(events));
  std::printf("    \"db_to_json_ratio\": %.3f\n  },\n", disk_per_event / json_per_event);
  std::printf("  \"queries\": {\n");
  std::printf("    \"session_events\": %s,\n", LatencyJson(q_session).c_str());
  std::printf("    \"agent_latest_100\": %s,\n", LatencyJson(q_agent).c_str());
  std::printf("    \"sessions_page_50_by_status\": %s,\n", LatencyJson(q_page).c_str());
  std::printf("    \"stats_aggregate\": %s,\n", LatencyJson(q_stats).c_str());
  std::printf("    \"text_search_50\": %s,\n", LatencyJson(q_search).c_str());
  std::printf("    \"search_terms\": [%s],\n", terms_json.c_str());
  std::printf("    \"text_search_by_term\": {%s}\n  }\n}\n", per_term.c_str());
  return 0;
}
