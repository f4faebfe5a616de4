#include "store/sqlite/sqlite_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>

#include "common/event_json.h"
#include "common/json.h"
#include "common/log.h"
#include "common/steady_ms.h"
#include "common/sys.h"
#include "store/privacy_ranges.h"
#include "store/sqlite/minute_rollup_sql.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/text_codec.h"
#include "store/validation_rules_sql.h"

namespace vibekit::store::sqlite {
namespace {

using BindValue = SqliteStore::BindValue;

constexpr std::string_view kEventColumns =
    "id, session_id, event_type, agent_type, mode, prompt, stream_data, sandbox_id, repo_url, "
    "metadata, timestamp, created_at";

constexpr std::string_view kSessionColumns =
    "id, agent_type, mode, status, start_time, end_time, duration, event_count, "
    "stream_event_count, error_count, sandbox_id, repo_url, metadata, last_event_time, "
    "created_at, updated_at";

constexpr std::string_view kStatColumns =
    "stat_type, stat_key, total_events, start_events, stream_events, end_events, error_events, "
    "unique_sessions, active_sessions, completed_sessions, failed_sessions, timeout_sessions, "
    "sessions_with_errors, duration_sum, duration_count, min_timestamp, max_timestamp";

// Reads a row into `e`, reusing its strings' capacity (the export scan reads every row into
// one Event). With `stored` set, BLOB-stored texts are left encoded and flagged there.
Status ReadEventInto(const Statement& s, Event& e, StoredTexts* stored = nullptr) {
  e.id = s.ColumnInt(0);
  s.ColumnTextInto(1, &e.session_id);
  auto type = ParseEventType(s.ColumnTextView(2));
  e.event_type = type.ok() ? *type : EventType::kStream;
  s.ColumnTextInto(3, &e.agent_type);
  s.ColumnOptTextInto(4, &e.mode);
  if (stored != nullptr) {
    stored->prompt = s.ColumnStoredFormInto(5, &e.prompt);
    stored->stream_data = s.ColumnStoredFormInto(6, &e.stream_data);
  } else {
    VK_RETURN_IF_ERROR(s.ColumnStoredTextInto(5, &e.prompt));
    VK_RETURN_IF_ERROR(s.ColumnStoredTextInto(6, &e.stream_data));
  }
  s.ColumnOptTextInto(7, &e.sandbox_id);
  s.ColumnOptTextInto(8, &e.repo_url);
  s.ColumnOptTextInto(9, &e.metadata);
  e.timestamp = s.ColumnInt(10);
  e.created_at = s.ColumnInt(11);
  e.error.reset();  // (`e` may hold what a visitor left in it: TakeStoredEvent)
  return Status::Ok();
}

Result<Event> ReadEvent(const Statement& s) {
  Event e;
  VK_RETURN_IF_ERROR(ReadEventInto(s, e));
  return e;
}

Session ReadSession(const Statement& s) {
  Session r;
  r.id = s.ColumnText(0);
  r.agent_type = s.ColumnText(1);
  r.mode = s.ColumnOptText(2);
  auto status = ParseSessionStatus(s.ColumnTextView(3));
  r.status = status.ok() ? *status : SessionStatus::kActive;
  r.start_time = s.ColumnInt(4);
  r.end_time = s.ColumnOptInt(5);
  r.duration = s.ColumnOptInt(6);
  r.event_count = s.ColumnInt(7);
  r.stream_event_count = s.ColumnInt(8);
  r.error_count = s.ColumnInt(9);
  r.sandbox_id = s.ColumnOptText(10);
  r.repo_url = s.ColumnOptText(11);
  r.metadata = s.ColumnOptText(12);
  r.last_event_time = s.IsNull(13) ? r.start_time : s.ColumnInt(13);
  r.created_at = s.ColumnInt(14);
  r.updated_at = s.ColumnInt(15);
  return r;
}

RollupCounts ReadCounts(const Statement& s) {
  RollupCounts c;
  c.total_events = s.ColumnInt(2);
  c.start_events = s.ColumnInt(3);
  c.stream_events = s.ColumnInt(4);
  c.end_events = s.ColumnInt(5);
  c.error_events = s.ColumnInt(6);
  c.sessions = s.ColumnInt(7);
  c.active_sessions = s.ColumnInt(8);
  c.completed_sessions = s.ColumnInt(9);
  c.failed_sessions = s.ColumnInt(10);
  c.timeout_sessions = s.ColumnInt(11);
  c.sessions_with_errors = s.ColumnInt(12);
  c.duration_sum_ms = s.ColumnInt(13);
  c.duration_count = s.ColumnInt(14);
  if (c.duration_count > 0) {
    c.avg_session_duration_ms =
        static_cast<double>(c.duration_sum_ms) / static_cast<double>(c.duration_count);
  }
  c.min_timestamp = s.ColumnOptInt(15);
  c.max_timestamp = s.ColumnOptInt(16);
  return c;
}

void BindAll(Statement& stmt, const std::vector<BindValue>& values) {
  int i = 1;
  for (const auto& v : values) {
    if (const auto* n = std::get_if<std::int64_t>(&v)) {
      stmt.Bind(i++, *n);
    } else {
      stmt.Bind(i++, std::string_view(std::get<std::string>(v)));
    }
  }
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The indexable words of a `contains` text, ASCII-lowercased like the tokenizer folds them:
// every word but the last must be a whole token, the last (when the text ends inside it) a token
// prefix. Words with non-ASCII bytes are left to the exact check (the tokenizer could split them
// into a phrase, which detail=none cannot match).
struct FtsWords {
  std::vector<std::string> exact;
  std::string prefix;  // empty when the text ends with a separator
  bool empty() const { return exact.empty() && prefix.empty(); }
};

FtsWords SplitFtsWords(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  bool cur_ascii = true;
  auto finish = [&] {
    if (!cur.empty()) words.push_back(cur_ascii ? cur : std::string());
    cur.clear();
    cur_ascii = true;
  };
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      cur += ch;
      cur_ascii = false;
    } else if (std::isalnum(c)) {
      cur += static_cast<char>(std::tolower(c));
    } else {
      finish();
    }
  }
  const bool ends_in_word = !text.empty() && (std::isalnum(static_cast<unsigned char>(text.back())) ||
                                              static_cast<unsigned char>(text.back()) >= 0x80);
  finish();
  FtsWords out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i].empty()) continue;
    if (i + 1 == words.size() && ends_in_word) {
      out.prefix = words[i];
    } else {
      out.exact.push_back(words[i]);
    }
  }
  return out;
}

// The percentages of an AggregateStats, from its totals.
void FillRates(AggregateStats& out) {
  if (out.total.total_events > 0) {
    out.error_event_rate_pct = 100.0 * static_cast<double>(out.total.error_events) /
                               static_cast<double>(out.total.total_events);
  }
  if (out.total.sessions > 0) {
    out.session_error_rate_pct = 100.0 * static_cast<double>(out.total.sessions_with_errors) /
                                 static_cast<double>(out.total.sessions);
  }
}

constexpr std::string_view kErrorColumns =
    "id, session_id, event_id, error_type, error_message, error_stack, context, severity, "
    "resolved, metadata, timestamp, created_at";

ErrorRecord ReadErrorRecord(const Statement& s) {
  ErrorRecord r;
  r.id = s.ColumnInt(0);
  r.session_id = s.ColumnText(1);
  r.event_id = s.ColumnOptInt(2);
  r.error_type = s.ColumnText(3);
  r.error_message = s.ColumnText(4);
  r.error_stack = s.ColumnOptText(5);
  r.context = s.ColumnOptText(6);
  auto sev = ParseErrorSeverity(s.ColumnTextView(7));
  r.severity = sev.ok() ? *sev : ErrorSeverity::kMedium;
  r.resolved = s.ColumnInt(8) != 0;
  r.metadata = s.ColumnOptText(9);
  r.timestamp = s.ColumnInt(10);
  r.created_at = s.ColumnInt(11);
  return r;
}

}  // namespace

struct SqliteStore::Reader {
  std::unique_ptr<Database> db;
  std::unordered_map<std::string, Statement> cache;
  std::uint64_t generation = 0;  // reader_generation_ when opened: older ones are not reused
};

class SqliteStore::ReaderLease {
 public:
  ReaderLease(SqliteStore* store, std::unique_ptr<Reader> reader)
      : store_(store), reader_(std::move(reader)) {}
  ReaderLease(ReaderLease&& other) noexcept = default;
  ReaderLease& operator=(ReaderLease&&) = delete;
  ~ReaderLease() {
    if (reader_) store_->ReleaseReader(std::move(reader_));
  }
  Reader& operator*() { return *reader_; }
  Reader* operator->() { return reader_.get(); }

 private:
  SqliteStore* store_;
  std::unique_ptr<Reader> reader_;
};

// Rows per multi-row event INSERT, and the parameters of one row.
constexpr std::size_t kEventsPerInsert = 8;
constexpr int kEventParams = 11;

struct SqliteStore::WriterStatements {
  Statement select_session;
  Statement insert_session;
  Statement update_session;
  Statement update_session_activity;  // what most events change alone: OnlyActivityChanged
  Statement insert_event;
  Statement insert_events;  // kEventsPerInsert rows
  Statement insert_error;
  Statement upsert_stat;
  Statement update_breakdowns;
  Statement purge_text_changes;  // the text index's applied change log, up to ?1
  std::optional<Statement> record_privacy_range;  // prepared at the first batch (1.8.0+)
  std::optional<MinuteRollupWriter> minutes;  // the per-minute analytics rollups
};

SqliteStore::SqliteStore(LocalStoreConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock) {}

SqliteStore::~SqliteStore() { Close(); }

Status SqliteStore::Open() {
  std::lock_guard lock(writer_mu_);
  if (open_) return Status::Ok();
  Status st = OpenLocked();
  // Every failure names the file (a damaged one may fail on any statement of the opening).
  if (!st.ok() && st.message().find(config_.db_path) == std::string::npos) {
    st = st.WithContext("opening \"" + config_.db_path + "\"");
  }
  return st;
}

Status SqliteStore::OpenLocked() {
  VK_RETURN_IF_ERROR(internal::CreatePrivateDirectories(internal::DirName(config_.db_path)));
  OpenOptions options;
  options.busy_timeout_ms = config_.busy_timeout_ms;
  VK_ASSIGN_OR_RETURN(auto db, Database::Open(config_.db_path, options));
  VK_RETURN_IF_ERROR(ConfigureConnection(*db, /*writer=*/true, config_));
  // A file that is not a database fails here with kCorruption rather than later.
  VK_RETURN_IF_ERROR(db->Exec("SELECT count(*) FROM sqlite_master").WithContext(
      "\"" + config_.db_path + "\" is not a usable SQLite database"));
  VK_RETURN_IF_ERROR(Migrate(*db, clock_.NowMs()));
  VK_RETURN_IF_ERROR(RebuildMissingRollups(*db));

  auto ws = std::make_unique<WriterStatements>();
  auto prep = [&](Statement& out, std::string_view sql) -> Status {
    VK_ASSIGN_OR_RETURN(out, Statement::Prepare(*db, sql));
    return Status::Ok();
  };
  VK_RETURN_IF_ERROR(prep(ws->select_session, "SELECT " + std::string(kSessionColumns) +
                                                  " FROM telemetry_sessions WHERE id = ?"));
  VK_RETURN_IF_ERROR(prep(ws->insert_session,
      "INSERT INTO telemetry_sessions (id, agent_type, mode, status, start_time, end_time, "
      "duration, event_count, stream_event_count, error_count, sandbox_id, repo_url, metadata, "
      "last_event_time, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  VK_RETURN_IF_ERROR(prep(ws->update_session,
      "UPDATE telemetry_sessions SET agent_type=?2, mode=?3, status=?4, start_time=?5, "
      "end_time=?6, duration=?7, event_count=?8, stream_event_count=?9, error_count=?10, "
      "sandbox_id=?11, repo_url=?12, metadata=?13, last_event_time=?14, updated_at=?16 "
      "WHERE id=?1"));
  // Sets no column that a trigger (audit, delivery) watches and leaves three of the five
  // secondary indexes alone: a full UPDATE rewrites every index entry of the columns it sets and
  // runs the triggers' programs even when nothing they watch changed.
  VK_RETURN_IF_ERROR(prep(ws->update_session_activity,
      "UPDATE telemetry_sessions SET event_count=?2, stream_event_count=?3, error_count=?4, "
      "last_event_time=?5, updated_at=?6 WHERE id=?1"));
  // OR FAIL: a constraint failure stops the statement keeping its earlier rows instead of
  // undoing them, so a multi-row INSERT needs no statement journal (the batch's transaction is
  // rolled back on any failure anyway).
  const std::string insert_event_sql =
      "INSERT OR FAIL INTO telemetry_events (session_id, event_type, agent_type, mode, prompt, "
      "stream_data, sandbox_id, repo_url, metadata, timestamp, created_at) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?)";
  VK_RETURN_IF_ERROR(prep(ws->insert_event, insert_event_sql));
  std::string insert_events_sql = insert_event_sql;
  for (std::size_t i = 1; i < kEventsPerInsert; ++i) insert_events_sql += ",(?,?,?,?,?,?,?,?,?,?,?)";
  VK_RETURN_IF_ERROR(prep(ws->insert_events, insert_events_sql));
  VK_RETURN_IF_ERROR(prep(ws->insert_error,
      "INSERT INTO telemetry_errors (session_id, event_id, error_type, error_message, "
      "error_stack, context, severity, metadata, timestamp, created_at) "
      "VALUES (?,?,?,?,?,?,?,?,?,?)"));
  VK_RETURN_IF_ERROR(prep(ws->upsert_stat,
      "INSERT INTO telemetry_stats (stat_type, stat_key, total_events, start_events, "
      "stream_events, end_events, error_events, unique_sessions, active_sessions, "
      "completed_sessions, failed_sessions, timeout_sessions, sessions_with_errors, "
      "duration_sum, duration_count, avg_session_duration, min_timestamp, max_timestamp, "
      "computed_at, updated_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15, "
      "CASE WHEN ?15 > 0 THEN ?14 * 1.0 / ?15 END, ?16, ?17, ?18, ?18) "
      "ON CONFLICT (stat_type, stat_key) DO UPDATE SET "
      "total_events = total_events + excluded.total_events, "
      "start_events = start_events + excluded.start_events, "
      "stream_events = stream_events + excluded.stream_events, "
      "end_events = end_events + excluded.end_events, "
      "error_events = error_events + excluded.error_events, "
      "unique_sessions = unique_sessions + excluded.unique_sessions, "
      "active_sessions = active_sessions + excluded.active_sessions, "
      "completed_sessions = completed_sessions + excluded.completed_sessions, "
      "failed_sessions = failed_sessions + excluded.failed_sessions, "
      "timeout_sessions = timeout_sessions + excluded.timeout_sessions, "
      "sessions_with_errors = sessions_with_errors + excluded.sessions_with_errors, "
      "duration_sum = duration_sum + excluded.duration_sum, "
      "duration_count = duration_count + excluded.duration_count, "
      "avg_session_duration = CASE WHEN duration_count + excluded.duration_count > 0 THEN "
      "(duration_sum + excluded.duration_sum) * 1.0 / (duration_count + excluded.duration_count) "
      "END, "
      "min_timestamp = CASE WHEN excluded.min_timestamp IS NULL THEN min_timestamp "
      "WHEN min_timestamp IS NULL THEN excluded.min_timestamp "
      "ELSE min(min_timestamp, excluded.min_timestamp) END, "
      "max_timestamp = CASE WHEN excluded.max_timestamp IS NULL THEN max_timestamp "
      "WHEN max_timestamp IS NULL THEN excluded.max_timestamp "
      "ELSE max(max_timestamp, excluded.max_timestamp) END, "
      "updated_at = excluded.updated_at"));
  VK_RETURN_IF_ERROR(prep(ws->update_breakdowns,
      "UPDATE telemetry_stats SET "
      "agent_breakdown = (SELECT json_group_object(stat_key, total_events) FROM telemetry_stats "
      "WHERE stat_type = 'agent'), "
      "mode_breakdown = (SELECT json_group_object(stat_key, total_events) FROM telemetry_stats "
      "WHERE stat_type = 'mode'), computed_at = ?1 "
      "WHERE stat_type = 'global' AND stat_key = 'all'"));
  VK_RETURN_IF_ERROR(prep(ws->purge_text_changes,
      "DELETE FROM telemetry_text_changes WHERE seq <= ?1"));
  VK_ASSIGN_OR_RETURN(MinuteRollupWriter minutes, MinuteRollupWriter::Prepare(*db));
  ws->minutes.emplace(std::move(minutes));
  struct stat st {};
  if (::stat(config_.db_path.c_str(), &st) != 0) {
    return Status::IoError("cannot stat \"" + config_.db_path + "\": " + std::strerror(errno));
  }
  file_dev_ = st.st_dev;
  file_ino_ = st.st_ino;
  writer_ = std::move(db);
  ws_ = std::move(ws);
  writer_batch_mode_ = false;  // ConfigureConnection set foreign keys as configured, checks on
  text_changes_purged_ = 0;
  VK_ASSIGN_OR_RETURN(std::int64_t last_id, writer_->QueryInt(
      TextIndexer::kEventsCounterSql));
  last_event_id_.store(last_id, std::memory_order_release);
  {
    VK_ASSIGN_OR_RETURN(std::unique_ptr<TextIndexer> indexer,
                        TextIndexer::Start(config_));
    std::lock_guard text_lock(text_mu_);
    text_indexer_ = std::move(indexer);
  }
  if (config_.enable_wal) {
    VK_ASSIGN_OR_RETURN(std::int64_t pages, writer_->QueryInt("PRAGMA wal_autocheckpoint"));
    auto started = Checkpointer::Start(config_, *writer_, static_cast<int>(pages));
    if (started.ok()) {
      checkpointer_ = std::move(*started);
    } else {  // SQLite's automatic checkpoint stays in place
      internal::LogWarn("checkpoints stay in the writer's commits: " + started.status().message());
    }
  }
  open_ = true;
  return Status::Ok();
}

Status SqliteStore::CheckFileIdentityLocked() const {
  struct stat st {};
  if (::stat(config_.db_path.c_str(), &st) != 0) {
    return Status::Unavailable("the database file \"" + config_.db_path +
                               "\" was deleted while in use (" + std::strerror(errno) + ")");
  }
  if (st.st_dev != file_dev_ || st.st_ino != file_ino_) {
    return Status::Unavailable("the database file \"" + config_.db_path +
                               "\" was replaced by another file while in use");
  }
  return Status::Ok();
}

Status SqliteStore::RecreateIfGoneLocked() {
  const Status gone = CheckFileIdentityLocked();
  if (gone.ok()) return gone;
  // SQLite would keep writing into the unlinked file and every commit would vanish with this
  // process. Start over at the configured path; the caller's events go there.
  internal::LogError(gone.message() + "; creating a new database there");
  ResetTextIndexer();
  checkpointer_.reset();  // before the writer it hooks
  ws_.reset();
  writer_.reset();
  open_ = false;
  {
    std::lock_guard lock(pool_mu_);
    readers_total_ -= static_cast<int>(idle_readers_.size());
    idle_readers_.clear();
    ++reader_generation_;
  }
  return OpenLocked().WithContext("recreating the deleted database");
}

void SqliteStore::Close() noexcept {
  {
    std::lock_guard lock(pool_mu_);
    idle_readers_.clear();
  }
  std::lock_guard lock(writer_mu_);
  if (text_indexer_ && data_version_.load(std::memory_order_acquire) > 0) {
    // What this store committed leaves indexed (derived data: a failure here is only logged,
    // the next open or search indexes the rest). A store that only read leaves it to the
    // writers and their threads.
    Status indexed = text_indexer_->CatchUp();
    if (!indexed.ok()) internal::LogWarn("text index at close: " + indexed.message());
  }
  ResetTextIndexer();
  checkpointer_.reset();  // before the writer it hooks
  ws_.reset();
  if (writer_) {
    // Leave a small WAL behind; errors here are harmless (another process may be reading).
    (void)writer_->Exec("PRAGMA wal_checkpoint(PASSIVE)");
  }
  writer_.reset();
  open_ = false;
}

Status SqliteStore::NewTextGenerationLocked() {
  return writer_->Exec(
      "DELETE FROM telemetry_text_changes; "
      "UPDATE telemetry_text_index SET generation = lower(hex(randomblob(16))) WHERE id = 1")
      .WithContext("start a new text index generation");
}

Store::TextIndexState SqliteStore::TextIndex() noexcept {
  std::shared_ptr<TextIndexer> indexer = TextIndexerRef();
  if (!indexer) return {};
  const std::int64_t last = last_event_id_.load(std::memory_order_acquire);
  return {std::max<std::int64_t>(0, last - indexer->IndexedUptoNow()), indexer->CpuSeconds()};
}

std::shared_ptr<TextIndexer> SqliteStore::TextIndexerRef() {
  std::lock_guard lock(text_mu_);
  return text_indexer_;
}

void SqliteStore::ResetTextIndexer() {
  std::shared_ptr<TextIndexer> old;
  {
    std::lock_guard lock(text_mu_);
    old.swap(text_indexer_);
  }
  if (old) old->Stop();  // a search still holding it finishes on a stopped indexer
}

Result<SqliteStore::ReaderLease> SqliteStore::AcquireReader() {
  {
    std::lock_guard lock(pool_mu_);
    if (!idle_readers_.empty()) {
      auto r = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      ++readers_active_;
      return ReaderLease(this, std::move(r));
    }
  }
  OpenOptions options;
  options.read_only = true;
  options.create = false;
  options.busy_timeout_ms = config_.busy_timeout_ms;
  VK_ASSIGN_OR_RETURN(auto db, Database::Open(config_.db_path, options));
  VK_RETURN_IF_ERROR(ConfigureConnection(*db, /*writer=*/false, config_));
  {
    // The text index (read-only, as the connection), for searches.
    VK_ASSIGN_OR_RETURN(Statement attach, Statement::Prepare(*db, "ATTACH DATABASE ? AS txt"));
    const std::string side = TextIndexer::SidePath(config_.db_path);
    attach.Bind(1, std::string_view(side));
    VK_RETURN_IF_ERROR(attach.Run().WithContext("attach the text index \"" + side + "\""));
  }
  auto reader = std::make_unique<Reader>();
  reader->db = std::move(db);
  std::lock_guard lock(pool_mu_);
  reader->generation = reader_generation_;
  ++readers_total_;
  ++readers_active_;
  return ReaderLease(this, std::move(reader));
}

void SqliteStore::ReleaseReader(std::unique_ptr<Reader> reader) {
  reader->db->SetDeadline(0);
  std::lock_guard lock(pool_mu_);
  --readers_active_;
  if (reader->generation == reader_generation_ &&
      static_cast<int>(idle_readers_.size()) < std::max(1, config_.read_connections)) {
    idle_readers_.push_back(std::move(reader));
  } else {
    --readers_total_;
  }
}

namespace {
// The SqlCapture of this thread, if any (see sqlite_store.h).
thread_local SqliteStore::SqlCapture* tls_sql_capture = nullptr;
}  // namespace

Result<Statement*> SqliteStore::Cached(Reader& reader, const std::string& sql) {
  if (tls_sql_capture != nullptr) tls_sql_capture->Add(sql);
  auto it = reader.cache.find(sql);
  if (it == reader.cache.end()) {
    if (reader.cache.size() > 64) reader.cache.clear();
    VK_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(*reader.db, sql));
    it = reader.cache.emplace(sql, std::move(stmt)).first;
  }
  it->second.Reset();
  const std::int64_t now_ms = internal::SteadyMicros() / 1000;
  reader.db->SetDeadline(config_.query_timeout_ms > 0 ? now_ms + config_.query_timeout_ms : 0);
  return &it->second;
}

void SqliteStore::LogQuery(const std::string& sql, std::int64_t micros) const {
  if (!config_.enable_query_logging) return;
  internal::LogInfo("query " + std::to_string(micros) + " us: " + sql);
}

Status SqliteStore::ApplyRollup(const RollupDelta& delta, std::int64_t now_ms) {
  Statement& up = ws_->upsert_stat;
  for (const auto& [key, c] : delta.rows()) {
    up.Reset();
    up.Bind(1, std::string_view(key.first));
    up.Bind(2, std::string_view(key.second));
    up.Bind(3, c.total_events);
    up.Bind(4, c.start_events);
    up.Bind(5, c.stream_events);
    up.Bind(6, c.end_events);
    up.Bind(7, c.error_events);
    up.Bind(8, c.sessions);
    up.Bind(9, c.active_sessions);
    up.Bind(10, c.completed_sessions);
    up.Bind(11, c.failed_sessions);
    up.Bind(12, c.timeout_sessions);
    up.Bind(13, c.sessions_with_errors);
    up.Bind(14, c.duration_sum_ms);
    up.Bind(15, c.duration_count);
    up.Bind(16, c.min_timestamp);
    up.Bind(17, c.max_timestamp);
    up.Bind(18, now_ms);
    VK_RETURN_IF_ERROR(up.Run().WithContext("update rollup"));
  }
  ws_->update_breakdowns.Reset();
  ws_->update_breakdowns.Bind(1, now_ms);
  return ws_->update_breakdowns.Run().WithContext("update rollup breakdowns");
}

namespace {

Result<bool> PrivacyRangesExist(Database& db) {
  VK_ASSIGN_OR_RETURN(std::int64_t n,
                      db.QueryInt("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                  "name = 'telemetry_privacy_ranges'"));
  return n > 0;
}

// telemetry_privacy_ranges after a batch of event ids [ids.first, ids.second] written under
// `fingerprint`: extended when the recorded range has the same fingerprint and no event lies
// between its end and the batch, restarted at the batch otherwise. Runs in the batch's
// transaction; `cached` keeps the statement prepared from one batch to the next.
Status RecordPrivacyRange(Database& db, std::optional<Statement>& cached,
                          std::string_view fingerprint, std::pair<std::int64_t, std::int64_t> ids) {
  const auto record = [&]() -> Status {
    if (!cached) {
      VK_ASSIGN_OR_RETURN(Statement prepared, Statement::Prepare(db, store::kRecordPrivacyRangeSql));
      cached.emplace(std::move(prepared));
    }
    Statement& st = *cached;
    st.Reset();
    st.Bind(1, fingerprint);
    st.Bind(2, ids.first);
    st.Bind(3, ids.second);
    Status ran = st.Run().WithContext("record privacy range");
    st.Reset();
    return ran;
  };
  const Status recorded = record();
  if (recorded.ok()) return recorded;
  // Rolled back below 1.8.0 by another process while this one writes (before the statement was
  // prepared, or since): nothing to record.
  cached.reset();
  VK_ASSIGN_OR_RETURN(bool exists, PrivacyRangesExist(db));
  return exists ? recorded : Status::Ok();
}

}  // namespace

void SqliteStore::SetIncomingPrivacy(std::string fingerprint) {
  std::lock_guard lock(writer_mu_);
  incoming_privacy_ = std::move(fingerprint);
}

Checkpointer::Counts SqliteStore::Checkpoints() {
  std::lock_guard lock(writer_mu_);
  return checkpointer_ ? checkpointer_->counts() : Checkpointer::Counts{};
}

Status SqliteStore::SetWriterBatchModeLocked(bool batch) {
  if (batch == writer_batch_mode_) return Status::Ok();
  const bool foreign_keys = !batch && config_.enable_foreign_keys;
  std::string sql = foreign_keys ? "PRAGMA foreign_keys=ON;" : "PRAGMA foreign_keys=OFF;";
  sql += batch ? "PRAGMA ignore_check_constraints=ON;" : "PRAGMA ignore_check_constraints=OFF;";
  VK_RETURN_IF_ERROR(writer_->Exec(sql));
  writer_batch_mode_ = batch;
  return Status::Ok();
}

Status SqliteStore::ApplyBatch(std::span<const Event> events, std::int64_t now_ms) {
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  VK_RETURN_IF_ERROR(RecreateIfGoneLocked());
  VK_RETURN_IF_ERROR(SetWriterBatchModeLocked(true));
  Transaction txn(*writer_);
  last_batch_ids_ = {0, 0};
  pending_batch_ids_ = {0, 0};
  VK_RETURN_IF_ERROR(txn.Begin().WithContext("begin batch"));
  VK_RETURN_IF_ERROR(ApplyBatchLocked(events, now_ms));
  if (pending_batch_ids_.first != 0) {
    VK_RETURN_IF_ERROR(RecordPrivacyRange(*writer_, ws_->record_privacy_range, incoming_privacy_,
                                          pending_batch_ids_));
  }
  VK_RETURN_IF_ERROR(txn.Commit().WithContext("commit batch"));
  // Deleted between the check and the commit: the batch went into the unlinked file. Not
  // acknowledged; the writer's retry puts it into the new file.
  VK_RETURN_IF_ERROR(CheckFileIdentityLocked());
  last_batch_ids_ = pending_batch_ids_;
  if (last_batch_ids_.second > last_event_id_.load(std::memory_order_relaxed)) {
    last_event_id_.store(last_batch_ids_.second, std::memory_order_release);
  }
  data_version_.fetch_add(1, std::memory_order_release);
  if (text_indexer_) text_indexer_->Notify();
  return Status::Ok();
}

namespace {

// True when the full update_session would write the same values as update_session_activity:
// `merged` differs from the stored row at most in the counts, the last event time and
// updated_at, which is what a stream event of an open session changes.
bool OnlyActivityChanged(const Session& existing, const Session& merged) {
  return existing.agent_type == merged.agent_type && existing.mode == merged.mode &&
         existing.status == merged.status && existing.start_time == merged.start_time &&
         existing.end_time == merged.end_time && existing.duration == merged.duration &&
         existing.sandbox_id == merged.sandbox_id && existing.repo_url == merged.repo_url &&
         existing.metadata == merged.metadata;
}

// Binds every column of a session row, in the order of the writer's insert_session and
// update_session and of the restore writer's insert (id first; ?15 created_at, which the
// UPDATE leaves as it is).
void BindSessionRow(Statement& st, const Session& s) {
  st.Bind(1, std::string_view(s.id));
  st.Bind(2, std::string_view(s.agent_type));
  st.Bind(3, s.mode);
  st.Bind(4, SessionStatusName(s.status));
  st.Bind(5, s.start_time);
  st.Bind(6, s.end_time);
  st.Bind(7, s.duration);
  st.Bind(8, s.event_count);
  st.Bind(9, s.stream_event_count);
  st.Bind(10, s.error_count);
  st.Bind(11, s.sandbox_id);
  st.Bind(12, s.repo_url);
  st.Bind(13, s.metadata);
  st.Bind(14, s.last_event_time);
  st.Bind(15, s.created_at);
  st.Bind(16, s.updated_at);
}

}  // namespace

Status SqliteStore::ApplyBatchLocked(std::span<const Event> events, std::int64_t now_ms) {
  // Group by session, keeping first-appearance order so sessions are written before events.
  std::vector<std::string_view> order;
  std::unordered_map<std::string_view, std::vector<const Event*>> by_session;
  for (const Event& e : events) {
    auto [it, inserted] = by_session.try_emplace(e.session_id);
    if (inserted) order.push_back(e.session_id);
    it->second.push_back(&e);
  }
  RollupDelta delta;
  MinuteRollupDelta minutes;
  WriterStatements& w = *ws_;
  for (std::string_view id : order) {
    std::optional<Session> existing;
    w.select_session.Reset();
    w.select_session.Bind(1, id);
    VK_ASSIGN_OR_RETURN(bool found, w.select_session.Step());
    if (found) existing = ReadSession(w.select_session);
    w.select_session.Reset();
    const auto& list = by_session[id];
    Session merged = MergeSessionEvents(existing, list, now_ms);
    SessionBefore before{existing, std::nullopt};
    if (existing && existing->stream_event_count > 0 &&
        std::any_of(list.begin(), list.end(),
                    [](const Event* e) { return e->event_type == EventType::kStream; })) {
      VK_ASSIGN_OR_RETURN(before.last_stream_time, w.minutes->LastStreamTime(id));
    }
    minutes.AddSessionEvents(before, list, merged);
    const bool activity_only = existing && OnlyActivityChanged(*existing, merged);
    Statement& st = activity_only ? w.update_session_activity
                    : existing    ? w.update_session
                                  : w.insert_session;
    st.Reset();
    if (activity_only) {
      st.Bind(1, std::string_view(merged.id));
      st.Bind(2, merged.event_count);
      st.Bind(3, merged.stream_event_count);
      st.Bind(4, merged.error_count);
      st.Bind(5, merged.last_event_time);
      st.Bind(6, merged.updated_at);
    } else {
      BindSessionRow(st, merged);
    }
    VK_RETURN_IF_ERROR(st.Run().WithContext("write session " + merged.id));
    delta.ReplaceSession(existing, merged);
  }
  std::int64_t first_id = 0;
  std::int64_t last_id = 0;
  std::array<std::string, 2 * kEventsPerInsert> packed;  // stored forms of one statement's texts
  // Binds a text column in its stored form: compressed BLOB when that pays off, TEXT otherwise.
  auto bind_text = [this](Statement& st, int index, const std::optional<std::string>& text,
                          std::string* out) {
    if (text && EncodeText(*text, config_.compress_min_bytes, out)) {
      st.BindBlob(index, *out);
    } else {
      st.Bind(index, text);
    }
  };
  auto bind_event = [&](Statement& st, int row, const Event& e) {
    const int b = row * kEventParams;
    st.Bind(b + 1, std::string_view(e.session_id));
    st.Bind(b + 2, EventTypeName(e.event_type));
    st.Bind(b + 3, std::string_view(e.agent_type));
    st.Bind(b + 4, e.mode);
    bind_text(st, b + 5, e.prompt, &packed[static_cast<std::size_t>(2 * row)]);
    bind_text(st, b + 6, e.stream_data, &packed[static_cast<std::size_t>(2 * row + 1)]);
    st.Bind(b + 7, e.sandbox_id);
    st.Bind(b + 8, e.repo_url);
    st.Bind(b + 9, e.metadata);
    st.Bind(b + 10, e.timestamp);
    st.Bind(b + 11, now_ms);
  };
  // kEventsPerInsert rows per INSERT while that many remain, then one by one: one statement run
  // per 8 events opens the table's and its indexes' cursors once and writes the AUTOINCREMENT
  // counter once (docs/BENCHMARKS.md, "Where the insert's time goes"). The rows of one statement
  // get consecutive ids (AUTOINCREMENT: each row one above the largest id so far), ending at the
  // last insert rowid.
  for (std::size_t i = 0; i < events.size();) {
    const std::size_t rows = events.size() - i >= kEventsPerInsert ? kEventsPerInsert : 1;
    Statement& ins = rows > 1 ? w.insert_events : w.insert_event;
    ins.Reset();
    for (std::size_t j = 0; j < rows; ++j) bind_event(ins, static_cast<int>(j), events[i + j]);
    VK_RETURN_IF_ERROR(ins.Run().WithContext("insert event"));
    last_id = writer_->LastInsertRowId();
    const std::int64_t statement_first = last_id - static_cast<std::int64_t>(rows) + 1;
    if (first_id == 0) first_id = statement_first;
    for (std::size_t j = 0; j < rows; ++j) {
      const Event& e = events[i + j];
      delta.AddEvent(e);
      if (e.event_type != EventType::kError) continue;
      const std::int64_t event_id = statement_first + static_cast<std::int64_t>(j);
      ErrorDetails d = e.error.value_or(ErrorDetails{});
      if (d.message.empty()) d.message = e.stream_data.value_or("error");
      if (d.error_type.empty()) d.error_type = "error";
      Statement& er = w.insert_error;
      er.Reset();
      er.Bind(1, std::string_view(e.session_id));
      er.Bind(2, event_id);
      er.Bind(3, std::string_view(d.error_type));
      er.Bind(4, std::string_view(d.message));
      er.Bind(5, d.stack);
      er.Bind(6, d.context);
      er.Bind(7, ErrorSeverityName(d.severity));
      er.Bind(8, e.metadata);
      er.Bind(9, e.timestamp);
      er.Bind(10, now_ms);
      VK_RETURN_IF_ERROR(er.Run().WithContext("insert error"));
    }
    i += rows;
  }
  pending_batch_ids_ = {first_id, last_id};
  // The text index is filled by its own thread from the committed rows (text_index.h); what it
  // has applied of the change log (deletes, updates, restores) goes here, in the same commit.
  VK_RETURN_IF_ERROR(PurgeAppliedTextChangesLocked());
  VK_RETURN_IF_ERROR(ws_->minutes->Apply(minutes));
  return ApplyRollup(delta, now_ms);
}

Result<std::int64_t> SqliteStore::MarkTimedOutSessions(std::int64_t silent_before_ms,
                                                       std::int64_t now_ms) {
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  Transaction txn(*writer_);
  VK_RETURN_IF_ERROR(txn.Begin().WithContext("begin timeout sweep"));
  VK_ASSIGN_OR_RETURN(Statement sel, Statement::Prepare(*writer_,
      "SELECT " + std::string(kSessionColumns) + " FROM telemetry_sessions "
      "WHERE status = 'active' AND last_event_time < ? LIMIT 5000"));
  sel.Bind(1, silent_before_ms);
  std::vector<Session> stale;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, sel.Step());
    if (!row) break;
    stale.push_back(ReadSession(sel));
  }
  VK_ASSIGN_OR_RETURN(Statement upd, Statement::Prepare(*writer_,
      "UPDATE telemetry_sessions SET status = 'timeout', duration = ?2, updated_at = ?3 "
      "WHERE id = ?1"));
  RollupDelta delta;
  MinuteRollupDelta minutes;
  for (const Session& s : stale) {
    const Session t = TimedOut(s, now_ms);
    minutes.ReplaceSession(s, t);
    upd.Reset();
    upd.Bind(1, std::string_view(t.id));
    upd.Bind(2, t.duration);
    upd.Bind(3, now_ms);
    VK_RETURN_IF_ERROR(upd.Run());
    delta.ReplaceSession(s, t);
  }
  if (!delta.empty()) VK_RETURN_IF_ERROR(ApplyRollup(delta, now_ms));
  VK_RETURN_IF_ERROR(ws_->minutes->Apply(minutes));
  VK_RETURN_IF_ERROR(txn.Commit().WithContext("commit timeout sweep"));
  data_version_.fetch_add(1, std::memory_order_release);
  return static_cast<std::int64_t>(stale.size());
}

Status SqliteStore::RefreshRollupBounds(const std::vector<std::string>& agents,
                                        std::int64_t now_ms) {
  VK_ASSIGN_OR_RETURN(Statement g, Statement::Prepare(*writer_,
      "UPDATE telemetry_stats SET min_timestamp = (SELECT min(timestamp) FROM telemetry_events), "
      "max_timestamp = (SELECT max(timestamp) FROM telemetry_events), updated_at = ?1 "
      "WHERE stat_type = 'global'"));
  g.Bind(1, now_ms);
  VK_RETURN_IF_ERROR(g.Run());
  VK_ASSIGN_OR_RETURN(Statement a, Statement::Prepare(*writer_,
      "UPDATE telemetry_stats SET "
      "min_timestamp = (SELECT min(timestamp) FROM telemetry_events WHERE agent_type = ?1), "
      "max_timestamp = (SELECT max(timestamp) FROM telemetry_events WHERE agent_type = ?1), "
      "updated_at = ?2 WHERE stat_type = 'agent' AND stat_key = ?1"));
  for (const std::string& agent : agents) {
    a.Reset();
    a.Bind(1, std::string_view(agent));
    a.Bind(2, now_ms);
    VK_RETURN_IF_ERROR(a.Run());
  }
  // Rows left with nothing in them disappear rather than linger as zeros.
  return writer_->Exec(
      "DELETE FROM telemetry_stats WHERE stat_type <> 'global' AND total_events = 0 AND "
      "unique_sessions = 0");
}

Result<CleanupResult> SqliteStore::DeleteSessions(const DeleteSelector& selector,
                                                  std::int64_t now_ms) {
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  VK_RETURN_IF_ERROR(SetWriterBatchModeLocked(false));
  Transaction txn(*writer_);
  VK_RETURN_IF_ERROR(txn.Begin().WithContext("begin retention"));
  std::string sql = "SELECT " + std::string(kSessionColumns) + " FROM telemetry_sessions ";
  if (selector.kind == DeleteSelector::Kind::kInactiveBefore) {
    sql += "WHERE coalesce(last_event_time, start_time) < ?1 ORDER BY last_event_time LIMIT ?2";
  } else {
    sql += "ORDER BY start_time, id LIMIT ?2";
  }
  VK_ASSIGN_OR_RETURN(Statement sel, Statement::Prepare(*writer_, sql));
  if (selector.kind == DeleteSelector::Kind::kInactiveBefore) sel.Bind(1, selector.cutoff_ms);
  sel.Bind(2, selector.limit);
  std::vector<Session> victims;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, sel.Step());
    if (!row) break;
    victims.push_back(ReadSession(sel));
  }
  CleanupResult result;
  if (victims.empty()) return result;

  VK_ASSIGN_OR_RETURN(Statement counts, Statement::Prepare(*writer_,
      "SELECT agent_type, coalesce(mode, ''), event_type, count(*) FROM telemetry_events "
      "WHERE session_id = ? GROUP BY 1, 2, 3"));
  VK_ASSIGN_OR_RETURN(Statement del_errors, Statement::Prepare(*writer_,
      "DELETE FROM telemetry_errors WHERE session_id = ?"));
  VK_ASSIGN_OR_RETURN(Statement del_events, Statement::Prepare(*writer_,
      "DELETE FROM telemetry_events WHERE session_id = ?"));
  VK_ASSIGN_OR_RETURN(Statement del_session, Statement::Prepare(*writer_,
      "DELETE FROM telemetry_sessions WHERE id = ?"));
  RollupDelta delta;
  MinuteRollupDelta minutes;  // the sessions' contributions; their events' minutes are trimmed
  std::vector<std::string> agents;
  std::string ids_json = "[";
  for (const Session& s : victims) {
    counts.Reset();
    counts.Bind(1, std::string_view(s.id));
    while (true) {
      VK_ASSIGN_OR_RETURN(bool row, counts.Step());
      if (!row) break;
      auto type = ParseEventType(counts.ColumnTextView(2));
      const std::string agent = counts.ColumnText(0);
      delta.RemoveEvents(agent, counts.ColumnText(1), type.ok() ? *type : EventType::kStream,
                         counts.ColumnInt(3));
      result.events_removed += counts.ColumnInt(3);
      if (std::find(agents.begin(), agents.end(), agent) == agents.end()) agents.push_back(agent);
    }
    counts.Reset();
    delta.AddSession(s, -1);
    minutes.AddSession(s, -1);
    for (Statement* d : {&del_errors, &del_events, &del_session}) {
      d->Reset();
      d->Bind(1, std::string_view(s.id));
      VK_RETURN_IF_ERROR(d->Run().WithContext("delete session " + s.id));
    }
    if (ids_json.size() > 1) ids_json += ',';
    internal::AppendJsonString(ids_json, s.id);
    ++result.sessions_removed;
  }
  ids_json += ']';
  VK_RETURN_IF_ERROR(ApplyRollup(delta, now_ms));
  VK_RETURN_IF_ERROR(RefreshRollupBounds(agents, now_ms));
  VK_RETURN_IF_ERROR(ws_->minutes->Apply(minutes));
  VK_RETURN_IF_ERROR(TrimMinuteRollups(*writer_));
  VK_ASSIGN_OR_RETURN(Statement audit, Statement::Prepare(*writer_,
      "INSERT INTO telemetry_audit_log (table_name, record_id, operation, old_values, "
      "changed_fields, reason, metadata, timestamp, created_at) "
      "VALUES ('telemetry_sessions', NULL, 'DELETE', ?1, NULL, ?2, ?3, ?4, ?4)"));
  const std::string meta = "{\"sessions\":" + std::to_string(result.sessions_removed) +
                           ",\"events\":" + std::to_string(result.events_removed) +
                           ",\"cutoff\":" + std::to_string(selector.cutoff_ms) + "}";
  audit.Bind(1, std::string_view(ids_json));
  audit.Bind(2, std::string_view(selector.reason));
  audit.Bind(3, std::string_view(meta));
  audit.Bind(4, now_ms);
  VK_RETURN_IF_ERROR(audit.Run().WithContext("audit retention"));
  VK_RETURN_IF_ERROR(txn.Commit().WithContext("commit retention"));
  data_version_.fetch_add(1, std::memory_order_release);
  // The deleted texts wait in the change log until the text index has forgotten them; settle
  // that now, so that the space retention measures (and then frees) is what remains.
  VK_RETURN_IF_ERROR(SettleTextChangesLocked());
  return result;
}

Status SqliteStore::SettleTextChangesLocked() {
  if (!text_indexer_) return Status::Ok();
  VK_RETURN_IF_ERROR(text_indexer_->CatchUp().WithContext("text index after retention"));
  return PurgeAppliedTextChangesLocked();
}

Status SqliteStore::PurgeAppliedTextChangesLocked() {
  const std::int64_t applied = text_indexer_ ? text_indexer_->ChangesApplied() : 0;
  if (applied <= text_changes_purged_) return Status::Ok();
  Statement& purge = ws_->purge_text_changes;
  purge.Reset();
  purge.Bind(1, applied);
  Status st = purge.Run().WithContext("purge the text change log");
  purge.Reset();
  if (st.ok()) text_changes_purged_ = applied;
  return st;
}

Status SqliteStore::RecordDeadLetter(std::span<const Event> events, const Status& error,
                                     std::int64_t now_ms) {
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  std::string data = "{\"error\":";
  internal::AppendJsonString(data, error.ToString());
  data += ",\"events\":[";
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i > 0) data += ',';
    data += internal::EventToJson(events[i]);
  }
  data += "]}";
  VK_ASSIGN_OR_RETURN(Statement ins, Statement::Prepare(*writer_,
      "INSERT INTO telemetry_buffers (session_id, status, event_count, buffer_data, max_size, "
      "created_at, last_updated, flush_attempts) VALUES (?1, 'failed', ?2, ?3, ?2, ?4, ?4, 1)"));
  ins.Bind(1, std::string_view(events.empty() ? std::string_view() : events[0].session_id));
  ins.Bind(2, static_cast<std::int64_t>(events.size()));
  ins.Bind(3, std::string_view(data));
  ins.Bind(4, now_ms);
  return ins.Run().WithContext("record dead letter");
}

Status SqliteStore::ReclaimSpace() {
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  VK_RETURN_IF_ERROR(writer_->Exec("PRAGMA incremental_vacuum"));
  auto ck = writer_->QueryText("PRAGMA wal_checkpoint(TRUNCATE)");
  return ck.ok() ? Status::Ok() : ck.status();
}

Result<std::int64_t> SqliteStore::UsedBytes() {
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  VK_ASSIGN_OR_RETURN(std::int64_t pages, writer_->QueryInt("PRAGMA page_count"));
  VK_ASSIGN_OR_RETURN(std::int64_t free_pages, writer_->QueryInt("PRAGMA freelist_count"));
  VK_ASSIGN_OR_RETURN(std::int64_t page_size, writer_->QueryInt("PRAGMA page_size"));
  return (pages - free_pages) * page_size;
}

Result<std::vector<Event>> SqliteStore::RunEventQuery(Reader& reader, const std::string& sql,
                                                      const std::vector<BindValue>& binds) {
  const std::int64_t t0 = internal::SteadyMicros();
  VK_ASSIGN_OR_RETURN(Statement * stmt, Cached(reader, sql));
  BindAll(*stmt, binds);
  std::vector<Event> out;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    VK_ASSIGN_OR_RETURN(Event e, ReadEvent(*stmt));
    out.push_back(std::move(e));
  }
  stmt->Reset();
  LogQuery(sql, internal::SteadyMicros() - t0);
  return out;
}

Result<std::vector<Event>> SqliteStore::QueryEvents(const EventQueryFilter& f) {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  const bool desc = f.order == SortOrder::kDesc;
  const std::string order_by =
      desc ? " ORDER BY timestamp DESC, id DESC" : " ORDER BY timestamp ASC, id ASC";
  const std::string select = "SELECT " + std::string(kEventColumns) + " FROM telemetry_events";
  // Filters shared by every plan below.
  std::string filters;
  std::vector<BindValue> filter_binds;
  if (f.contains && !f.contains->empty()) {
    // The exact (ASCII case-insensitive) substring check; FTS only narrows the candidates.
    filters += " AND (instr(lower(vk_text(prompt)), ?) > 0 OR "
               "instr(lower(vk_text(stream_data)), ?) > 0)";
    filter_binds.emplace_back(AsciiLower(*f.contains));
    filter_binds.emplace_back(AsciiLower(*f.contains));
  }
  if (f.session_id) {
    filters += " AND session_id = ?";
    filter_binds.emplace_back(*f.session_id);
  }
  if (f.event_type) {
    filters += " AND event_type = ?";
    filter_binds.emplace_back(std::string(EventTypeName(*f.event_type)));
  }
  if (f.agent_type) {
    filters += " AND agent_type = ?";
    filter_binds.emplace_back(*f.agent_type);
  }
  if (f.mode) {
    filters += " AND mode = ?";
    filter_binds.emplace_back(*f.mode);
  }
  if (f.from_time) {
    filters += " AND timestamp >= ?";
    filter_binds.emplace_back(*f.from_time);
  }
  if (f.to_time) {
    filters += " AND timestamp <= ?";
    filter_binds.emplace_back(*f.to_time);
  }
  if (f.after_id) {
    filters += " AND id > ?";
    filter_binds.emplace_back(*f.after_id);
  }
  auto with = [](std::vector<BindValue> head, const std::vector<BindValue>& tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
  };

  // Up to this many text candidates, fetching and sorting them all beats walking an index.
  constexpr std::int64_t kSortCandidatesUpTo = 1000;  // measured crossover on 1M events
  const FtsWords words = f.contains ? SplitFtsWords(*f.contains) : FtsWords{};
  if (words.empty()) {
    // No text, or text without a word to index (punctuation only): filters alone.
    auto binds = filter_binds;
    binds.emplace_back(f.limit);
    binds.emplace_back(f.offset);
    return RunEventQuery(*reader, select + " WHERE 1=1" + filters + order_by + " LIMIT ? OFFSET ?",
                         binds);
  }

  // Everything committed before this search is in the text index first.
  if (std::shared_ptr<TextIndexer> indexer = TextIndexerRef()) {
    VK_RETURN_IF_ERROR(indexer->CatchUp().WithContext("bring the text index up to date"));
  }
  // Build the FTS expression from the vocabulary: whole words must exist; the prefix becomes an
  // OR of the (few) terms it stands for, which FTS5 can seek by rowid, unlike a prefix query
  // that merges every matching doclist in full. The document counts estimate the candidates.
  std::int64_t candidates = INT64_MAX;
  std::string expr;
  for (const std::string& w : words.exact) {
    VK_ASSIGN_OR_RETURN(Statement * doc, Cached(*reader,
        "SELECT doc FROM txt.telemetry_events_fts_vocab WHERE term = ?"));
    doc->Bind(1, std::string_view(w));
    VK_ASSIGN_OR_RETURN(bool row, doc->Step());
    const std::int64_t n = row ? doc->ColumnInt(0) : 0;
    doc->Reset();
    if (n == 0) return std::vector<Event>();
    candidates = std::min(candidates, n);
    expr += (expr.empty() ? "\"" : " AND \"") + w + "\"";
  }
  if (!words.prefix.empty()) {
    constexpr int kMaxExpansion = 64;
    std::string upper = words.prefix;
    upper.back() = static_cast<char>(upper.back() + 1);
    VK_ASSIGN_OR_RETURN(Statement * terms, Cached(*reader,
        "SELECT term, doc FROM txt.telemetry_events_fts_vocab WHERE term >= ? AND term < ? LIMIT " +
            std::to_string(kMaxExpansion + 1)));
    terms->Bind(1, std::string_view(words.prefix));
    terms->Bind(2, std::string_view(upper));
    std::vector<std::string> expansion;
    std::int64_t docs = 0;
    while (true) {
      VK_ASSIGN_OR_RETURN(bool row, terms->Step());
      if (!row) break;
      expansion.push_back(terms->ColumnText(0));
      docs += terms->ColumnInt(1);
    }
    terms->Reset();
    if (expansion.empty()) return std::vector<Event>();
    if (!expr.empty()) expr += " AND ";  // FTS5 has no implicit AND before a group
    if (expansion.size() > kMaxExpansion) {
      expr += "\"" + words.prefix + "\"*";  // a very short prefix: let FTS5 expand it
    } else {
      candidates = std::min(candidates, docs);
      expr += '(';
      for (std::size_t i = 0; i < expansion.size(); ++i) {
        expr += (i == 0 ? "\"" : " OR \"") + expansion[i] + "\"";
      }
      expr += ')';
    }
  }
  if (candidates == INT64_MAX) candidates = kSortCandidatesUpTo + 1;  // unexpanded prefix only

  // Few candidates (or one session): fetch them all by id and sort.
  if (f.session_id || candidates <= kSortCandidatesUpTo) {
    auto binds = with({expr}, filter_binds);
    binds.emplace_back(f.limit);
    binds.emplace_back(f.offset);
    return RunEventQuery(
        *reader,
        select + (f.session_id ? " INDEXED BY idx_events_session_time" : "") +
            " WHERE id IN (SELECT rowid FROM txt.telemetry_events_fts WHERE telemetry_events_fts "
            "MATCH ?)" + filters + order_by + " LIMIT ? OFFSET ?",
        binds);
  }

  // Many candidates: search a window of the newest (or oldest) ids, widening it until it holds
  // `limit + offset` matches. Ids follow commit order, timestamps need not: rows outside the
  // window that still sort inside the result are then found through the time index (rows at
  // least as recent as the k-th match) and checked one by one against the text index.
  VK_ASSIGN_OR_RETURN(Statement * bounds,
                      Cached(*reader,
                             // Two subqueries: min() and max() in one SELECT scan the table.
                             "SELECT (SELECT min(id) FROM telemetry_events), "
                             "(SELECT max(id) FROM telemetry_events)"));
  VK_ASSIGN_OR_RETURN(bool b_row, bounds->Step());
  const std::int64_t min_id = b_row ? bounds->ColumnInt(0) : 0;
  const std::int64_t max_id = b_row ? bounds->ColumnInt(1) : 0;
  bounds->Reset();
  const std::int64_t k = f.limit + f.offset;
  auto slice = [&](std::vector<Event> all) {
    std::sort(all.begin(), all.end(), [desc](const Event& a, const Event& b) {
      if (a.timestamp != b.timestamp) return desc ? a.timestamp > b.timestamp : a.timestamp < b.timestamp;
      return desc ? a.id > b.id : a.id < b.id;
    });
    std::vector<Event> out;
    for (std::size_t i = static_cast<std::size_t>(f.offset);
         i < all.size() && out.size() < static_cast<std::size_t>(f.limit); ++i) {
      out.push_back(std::move(all[i]));
    }
    return out;
  };
  for (std::int64_t window = 4096;; window *= 8) {
    const std::int64_t lo = desc ? std::max(min_id, max_id - window + 1) : min_id;
    const std::int64_t hi = desc ? max_id : std::min(max_id, min_id + window - 1);
    auto binds = with({expr, lo, hi}, filter_binds);
    binds.emplace_back(k);
    VK_ASSIGN_OR_RETURN(
        std::vector<Event> in_window,
        RunEventQuery(*reader,
                      select + " WHERE id IN (SELECT rowid FROM txt.telemetry_events_fts WHERE "
                               "telemetry_events_fts MATCH ? AND rowid BETWEEN ? AND ?)" +
                          filters + order_by + " LIMIT ?",
                      binds));
    const bool whole_table = lo <= min_id && hi >= max_id;
    if (whole_table) return slice(std::move(in_window));
    if (static_cast<std::int64_t>(in_window.size()) < k) continue;
    const std::int64_t threshold = in_window.back().timestamp;
    // Rows outside the window that sort at or before the k-th match: read their id range off the
    // time index (no table access), then check only that id range against the text index.
    VK_ASSIGN_OR_RETURN(Statement * range, Cached(*reader, desc
        ? "SELECT min(id), max(id) FROM telemetry_events INDEXED BY idx_events_time "
          "WHERE timestamp >= ? AND id < ?"
        : "SELECT min(id), max(id) FROM telemetry_events INDEXED BY idx_events_time "
          "WHERE timestamp <= ? AND id > ?"));
    range->Bind(1, threshold);
    range->Bind(2, desc ? lo : hi);
    VK_ASSIGN_OR_RETURN(bool r_row, range->Step());
    const bool any_outside = r_row && !range->IsNull(0);
    const std::int64_t out_min = any_outside ? range->ColumnInt(0) : 0;
    const std::int64_t out_max = any_outside ? range->ColumnInt(1) : 0;
    range->Reset();
    if (!any_outside) return slice(std::move(in_window));
    auto xbinds = with({expr, out_min, out_max, threshold, desc ? lo : hi}, filter_binds);
    xbinds.emplace_back(k);
    VK_ASSIGN_OR_RETURN(
        std::vector<Event> outside,
        RunEventQuery(*reader,
                      select + " WHERE id IN (SELECT rowid FROM txt.telemetry_events_fts WHERE "
                               "telemetry_events_fts MATCH ? AND rowid BETWEEN ? AND ?) AND " +
                          (desc ? "timestamp >= ? AND id < ?" : "timestamp <= ? AND id > ?") +
                          filters + order_by + " LIMIT ?",
                      xbinds));
    for (Event& e : outside) in_window.push_back(std::move(e));
    return slice(std::move(in_window));
  }
}

namespace {

// The WHERE conditions of a session filter (" AND ..."), with their values appended to `binds`.
std::string SessionConditions(const SessionQueryFilter& f, std::vector<BindValue>& binds) {
  std::string sql;
  if (f.status) {
    sql += " AND status = ?";
    binds.emplace_back(std::string(SessionStatusName(*f.status)));
  }
  if (f.agent_type) {
    sql += " AND agent_type = ?";
    binds.emplace_back(*f.agent_type);
  }
  if (f.mode) {
    sql += " AND mode = ?";
    binds.emplace_back(*f.mode);
  }
  if (f.from_time) {
    sql += " AND start_time >= ?";
    binds.emplace_back(*f.from_time);
  }
  if (f.to_time) {
    sql += " AND start_time <= ?";
    binds.emplace_back(*f.to_time);
  }
  if (f.search && !f.search->empty()) {
    // instr over lower(): a plain substring (LIKE would give '%' and '_' a meaning).
    sql += " AND (instr(lower(id), lower(?)) > 0 OR instr(lower(coalesce(repo_url, '')),"
           " lower(?)) > 0 OR instr(lower(coalesce(sandbox_id, '')), lower(?)) > 0)";
    for (int i = 0; i < 3; ++i) binds.emplace_back(*f.search);
  }
  return sql;
}

}  // namespace

Result<std::int64_t> SqliteStore::CountSessions(const SessionQueryFilter& f) {
  std::vector<BindValue> binds;
  const std::string sql =
      "SELECT count(*) FROM telemetry_sessions WHERE 1=1" + SessionConditions(f, binds);
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  VK_ASSIGN_OR_RETURN(Statement * stmt, Cached(*reader, sql));
  BindAll(*stmt, binds);
  VK_ASSIGN_OR_RETURN(bool row, stmt->Step());
  const std::int64_t n = row ? stmt->ColumnInt(0) : 0;
  stmt->Reset();
  return n;
}

Result<std::vector<AgentModeCounts>> SqliteStore::AgentBreakdown() {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  VK_ASSIGN_OR_RETURN(
      Statement * stmt,
      Cached(*reader,
             "SELECT agent_type, mode, count(*), sum(event_count), sum(error_count) FROM "
             "telemetry_sessions GROUP BY agent_type, mode ORDER BY count(*) DESC, agent_type, "
             "mode"));
  std::vector<AgentModeCounts> out;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    AgentModeCounts c;
    c.agent_type = stmt->ColumnText(0);
    c.mode = stmt->ColumnOptText(1);
    c.sessions = stmt->ColumnInt(2);
    c.events = stmt->ColumnInt(3);
    c.errors = stmt->ColumnInt(4);
    out.push_back(std::move(c));
  }
  stmt->Reset();
  return out;
}

Result<std::vector<Session>> SqliteStore::QuerySessions(const SessionQueryFilter& f) {
  std::vector<BindValue> binds;
  std::string sql = "SELECT " + std::string(kSessionColumns) +
                    " FROM telemetry_sessions WHERE 1=1" + SessionConditions(f, binds);
  sql += f.order == SortOrder::kAsc ? " ORDER BY start_time ASC, id ASC"
                                    : " ORDER BY start_time DESC, id DESC";
  sql += " LIMIT ? OFFSET ?";
  binds.emplace_back(f.limit);
  binds.emplace_back(f.offset);
  const std::int64_t t0 = internal::SteadyMicros();
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  VK_ASSIGN_OR_RETURN(Statement * stmt, Cached(*reader, sql));
  BindAll(*stmt, binds);
  std::vector<Session> out;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ReadSession(*stmt));
  }
  stmt->Reset();
  LogQuery(sql, internal::SteadyMicros() - t0);
  return out;
}

Result<std::optional<Session>> SqliteStore::GetSession(std::string_view id) {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  VK_ASSIGN_OR_RETURN(Statement * stmt,
                      Cached(*reader, "SELECT " + std::string(kSessionColumns) +
                                          " FROM telemetry_sessions WHERE id = ?"));
  stmt->Bind(1, id);
  VK_ASSIGN_OR_RETURN(bool row, stmt->Step());
  std::optional<Session> out;
  if (row) out = ReadSession(*stmt);
  stmt->Reset();
  return out;
}

Result<SessionStats> SqliteStore::GetSessionStats(std::string_view id) {
  VK_ASSIGN_OR_RETURN(std::optional<Session> session, GetSession(id));
  if (!session) return Status::NotFound("no session \"" + std::string(id) + "\"");
  SessionStats st;
  st.session_id = session->id;
  st.agent_type = session->agent_type;
  st.mode = session->mode;
  st.status = session->status;
  st.start_time = session->start_time;
  st.end_time = session->end_time;
  st.duration = session->duration;
  st.event_count = session->event_count;
  st.stream_event_count = session->stream_event_count;
  st.error_count = session->error_count;
  st.last_event_time = session->last_event_time;
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  VK_ASSIGN_OR_RETURN(Statement * stmt, Cached(*reader,
      "SELECT min(CASE WHEN event_type = 'stream' THEN timestamp END), "
      "coalesce(sum(length(CAST(vk_text(stream_data) AS BLOB))), 0) "
      "FROM telemetry_events WHERE session_id = ?"));
  stmt->Bind(1, id);
  VK_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (row) {
    if (auto first = stmt->ColumnOptInt(0)) st.time_to_first_stream_ms = *first - st.start_time;
    st.stream_bytes = stmt->ColumnInt(1);
  }
  stmt->Reset();
  return st;
}

Result<std::vector<ErrorRecord>> SqliteStore::GetSessionErrors(std::string_view id) {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  VK_ASSIGN_OR_RETURN(Statement * stmt, Cached(*reader,
      "SELECT " + std::string(kErrorColumns) +
          " FROM telemetry_errors WHERE session_id = ? ORDER BY timestamp, id"));
  stmt->Bind(1, id);
  std::vector<ErrorRecord> out;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ReadErrorRecord(*stmt));
  }
  stmt->Reset();
  return out;
}

Result<AggregateStats> SqliteStore::GetAggregateStats() {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  VK_ASSIGN_OR_RETURN(Statement * stmt,
                      Cached(*reader, "SELECT " + std::string(kStatColumns) +
                                          ", computed_at FROM telemetry_stats"));
  AggregateStats out;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    const std::string_view type = stmt->ColumnTextView(0);
    RollupCounts c = ReadCounts(*stmt);
    if (type == "global") {
      out.total = c;
      out.computed_at = stmt->ColumnInt(17);
    } else if (type == "agent") {
      out.by_agent[stmt->ColumnText(1)] = c;
    } else if (type == "mode") {
      out.by_mode[stmt->ColumnText(1)] = c;
    }
  }
  stmt->Reset();
  FillRates(out);
  return out;
}

Result<std::vector<ValidationRule>> SqliteStore::ReadValidationRules() {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  VK_ASSIGN_OR_RETURN(Statement * stmt, Cached(*reader, kValidationRulesQuery));
  std::vector<ValidationRule> out;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ValidationRuleFromRow(stmt->ColumnInt(0), stmt->ColumnText(1),
                                        stmt->ColumnText(2), stmt->ColumnText(3),
                                        stmt->ColumnText(4), stmt->ColumnText(5),
                                        stmt->ColumnInt(6) != 0, stmt->ColumnInt(7),
                                        stmt->ColumnInt(8), stmt->ColumnInt(9)));
  }
  stmt->Reset();
  return out;
}

Result<std::vector<SchemaVersion>> SqliteStore::SchemaVersions() {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  VK_ASSIGN_OR_RETURN(Statement * stmt, Cached(*reader,
      "SELECT version, coalesce(description, ''), applied_at, is_active "
      "FROM telemetry_schema_versions ORDER BY id"));
  std::vector<SchemaVersion> out;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back({stmt->ColumnText(0), stmt->ColumnText(1), stmt->ColumnInt(2),
                   stmt->ColumnInt(3) != 0});
  }
  stmt->Reset();
  return out;
}

Result<StoreHealth> SqliteStore::CheckHealth(bool quick_check) {
  StoreHealth h;
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  Database& db = *reader->db;
  if (quick_check) {
    db.SetDeadline(0);  // a whole-file check may legitimately take longer than a query
    VK_ASSIGN_OR_RETURN(h.quick_check, db.QueryText("PRAGMA quick_check(1)"));
  } else {
    h.quick_check = "skipped";
  }
  VK_ASSIGN_OR_RETURN(std::int64_t pages, db.QueryInt("PRAGMA page_count"));
  VK_ASSIGN_OR_RETURN(std::int64_t free_pages, db.QueryInt("PRAGMA freelist_count"));
  VK_ASSIGN_OR_RETURN(std::int64_t page_size, db.QueryInt("PRAGMA page_size"));
  h.used_bytes = (pages - free_pages) * page_size;
  h.wal_size_bytes = internal::FileSizeBytes(config_.db_path + "-wal");
  h.file_size_bytes = internal::FileSizeBytes(config_.db_path) + h.wal_size_bytes;
  VK_ASSIGN_OR_RETURN(h.oldest_event_time,
                      db.QueryInt("SELECT coalesce(min(timestamp), 0) FROM telemetry_events"));
  VK_ASSIGN_OR_RETURN(h.dead_letter_batches,
                      db.QueryInt("SELECT count(*) FROM telemetry_buffers WHERE status='failed'"));
  std::lock_guard lock(pool_mu_);
  h.connections_active = readers_active_ + 1;  // this reader and the writer
  h.connections_total = readers_total_ + 1;
  return h;
}

// --- Maintenance: optimize, vacuum, delete-all, planner diagnostics -----------------------------

namespace {

double MsSinceMicros(std::int64_t t0_us) {
  return static_cast<double>(internal::SteadyMicros() - t0_us) / 1000.0;
}

// FTS5 keeps the list of its segments in one "structure" record (rowid 10 of the %_data table):
// a 4-byte cookie, the 4-byte marker FF 00 00 01 on SQLite >= 3.44, then the varints nLevel and
// nSegment (SQLite's big-endian varint: 7 bits a byte, high bit = more, the 9th byte whole).
std::int64_t DecodeFtsSegmentCount(std::string_view rec) {
  std::size_t i = 4;
  if (rec.size() < 6) return -1;
  if (rec.size() >= 8 && rec.substr(4, 4) == std::string_view("\xFF\x00\x00\x01", 4)) i = 8;
  auto varint = [&](std::int64_t* out) {
    std::uint64_t v = 0;
    for (int n = 0; n < 9 && i < rec.size(); ++n) {
      const auto b = static_cast<unsigned char>(rec[i++]);
      if (n == 8) {
        *out = static_cast<std::int64_t>((v << 8) | b);
        return true;
      }
      v = (v << 7) | (b & 0x7fU);
      if ((b & 0x80U) == 0) {
        *out = static_cast<std::int64_t>(v);
        return true;
      }
    }
    return false;
  };
  std::int64_t levels = 0;
  std::int64_t segments = 0;
  if (!varint(&levels) || !varint(&segments)) return -1;
  return segments;
}

// On a connection with the text index attached (a reader).
Result<std::int64_t> FtsSegmentCount(Database& db) {
  VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db,
      "SELECT block FROM txt.telemetry_events_fts_data WHERE id = 10"));
  VK_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::int64_t{0};  // an index never written to has no structure record yet
  return DecodeFtsSegmentCount(st.ColumnTextView(0));
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (const char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

SqliteStore::SqlCapture::SqlCapture() : previous_(tls_sql_capture) { tls_sql_capture = this; }

SqliteStore::SqlCapture::~SqlCapture() { tls_sql_capture = previous_; }

void SqliteStore::SqlCapture::Add(const std::string& sql) {
  if (std::find(statements_.begin(), statements_.end(), sql) == statements_.end()) {
    statements_.push_back(sql);
  }
}

Result<MaintenanceReport> SqliteStore::Optimize(bool rebuild_indexes) {
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  const std::int64_t start = internal::SteadyMicros();
  MaintenanceReport r;
  r.file_size_before_bytes = internal::FileSizeBytes(config_.db_path);
  r.wal_size_before_bytes = internal::FileSizeBytes(config_.db_path + "-wal");
  auto segments = [this]() -> Result<std::int64_t> {
    VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
    return FtsSegmentCount(*reader->db);
  };
  VK_ASSIGN_OR_RETURN(r.fts_segments_before, segments());
  auto step = [&](std::string name, std::string detail, const std::string& sql) -> Status {
    const std::int64_t t0 = internal::SteadyMicros();
    VK_RETURN_IF_ERROR(writer_->Exec(sql).WithContext(name));
    r.steps.push_back({std::move(name), std::move(detail), MsSinceMicros(t0)});
    return Status::Ok();
  };
  VK_RETURN_IF_ERROR(step("pragma_optimize", "PRAGMA optimize", "PRAGMA optimize"));
  VK_RETURN_IF_ERROR(step("analyze", "ANALYZE: planner statistics of every table and index",
                          "ANALYZE"));
  if (text_indexer_) {
    // In the text index's own file, on its own connection (text_index.h).
    const std::int64_t t0 = internal::SteadyMicros();
    VK_RETURN_IF_ERROR(text_indexer_->Optimize().WithContext("fts_optimize"));
    r.steps.push_back({"fts_optimize",
                       "telemetry_events_fts (" + TextIndexer::SidePath(config_.db_path) +
                           "): " + std::to_string(r.fts_segments_before) +
                           " segments merged into one",
                       MsSinceMicros(t0)});
  }
  if (rebuild_indexes) {
    // Our tables that have indexes.
    VK_ASSIGN_OR_RETURN(Statement tables, Statement::Prepare(*writer_,
        "SELECT tbl_name, count(*) FROM sqlite_master WHERE type = 'index' "
        "AND tbl_name LIKE 'telemetry\\_%' ESCAPE '\\' "
        "GROUP BY tbl_name ORDER BY tbl_name"));
    std::vector<std::pair<std::string, std::int64_t>> list;
    while (true) {
      VK_ASSIGN_OR_RETURN(bool row, tables.Step());
      if (!row) break;
      list.emplace_back(tables.ColumnText(0), tables.ColumnInt(1));
    }
    tables.Reset();
    for (const auto& [table, n] : list) {
      VK_RETURN_IF_ERROR(step("reindex",
                              table + " (" + std::to_string(n) + (n == 1 ? " index)" : " indexes)"),
                              "REINDEX " + QuoteIdentifier(table)));
    }
  }
  VK_ASSIGN_OR_RETURN(r.fts_segments_after, segments());
  r.file_size_after_bytes = internal::FileSizeBytes(config_.db_path);
  r.wal_size_after_bytes = internal::FileSizeBytes(config_.db_path + "-wal");
  r.total_ms = MsSinceMicros(start);
  return r;
}

Result<MaintenanceReport> SqliteStore::Vacuum(bool analyze) {
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  const std::int64_t start = internal::SteadyMicros();
  MaintenanceReport r;
  r.file_size_before_bytes = internal::FileSizeBytes(config_.db_path);
  r.wal_size_before_bytes = internal::FileSizeBytes(config_.db_path + "-wal");
  VK_ASSIGN_OR_RETURN(std::int64_t free_pages, writer_->QueryInt("PRAGMA freelist_count"));
  VK_ASSIGN_OR_RETURN(std::int64_t page_size, writer_->QueryInt("PRAGMA page_size"));
  std::int64_t t0 = internal::SteadyMicros();
  VK_RETURN_IF_ERROR(writer_->Exec("VACUUM").WithContext("vacuum"));
  r.steps.push_back({"vacuum",
                     "VACUUM: file rewritten, " + std::to_string(free_pages) + " free pages (" +
                         std::to_string(free_pages * page_size) + " bytes) dropped",
                     MsSinceMicros(t0)});
  if (analyze) {
    t0 = internal::SteadyMicros();
    VK_RETURN_IF_ERROR(writer_->Exec("ANALYZE").WithContext("analyze"));
    r.steps.push_back({"analyze", "ANALYZE: planner statistics of every table and index",
                       MsSinceMicros(t0)});
  }
  // In WAL mode VACUUM writes the new pages to the log; the checkpoint moves them into the file
  // and truncates both, so the "after" sizes are the real result.
  t0 = internal::SteadyMicros();
  VK_ASSIGN_OR_RETURN(std::string busy, writer_->QueryText("PRAGMA wal_checkpoint(TRUNCATE)"));
  r.steps.push_back({"wal_checkpoint",
                     busy == "0" ? "PRAGMA wal_checkpoint(TRUNCATE)"
                                 : "PRAGMA wal_checkpoint(TRUNCATE): incomplete, readers active",
                     MsSinceMicros(t0)});
  r.file_size_after_bytes = internal::FileSizeBytes(config_.db_path);
  r.wal_size_after_bytes = internal::FileSizeBytes(config_.db_path + "-wal");
  r.total_ms = MsSinceMicros(start);
  return r;
}

Result<CleanupResult> SqliteStore::DeleteAll(std::string_view reason, std::int64_t now_ms) {
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  VK_RETURN_IF_ERROR(SetWriterBatchModeLocked(false));
  Transaction txn(*writer_);
  VK_RETURN_IF_ERROR(txn.Begin().WithContext("begin clear"));
  CleanupResult result;
  VK_ASSIGN_OR_RETURN(result.sessions_removed,
                      writer_->QueryInt("SELECT count(*) FROM telemetry_sessions"));
  VK_ASSIGN_OR_RETURN(result.events_removed,
                      writer_->QueryInt("SELECT count(*) FROM telemetry_events"));
  VK_ASSIGN_OR_RETURN(std::int64_t errors,
                      writer_->QueryInt("SELECT count(*) FROM telemetry_errors"));
  VK_ASSIGN_OR_RETURN(std::int64_t buffers,
                      writer_->QueryInt("SELECT count(*) FROM telemetry_buffers"));
  // The text index starts again from nothing (a new generation, text_index.h), so the deleted
  // texts need no entry in its change log: the delete trigger is set aside meanwhile (same
  // transaction; its SQL is read back from the schema).
  VK_ASSIGN_OR_RETURN(std::string trigger, writer_->QueryText(
      "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'telemetry_events_text_ad'"));
  if (!trigger.empty()) {
    VK_RETURN_IF_ERROR(writer_->Exec("DROP TRIGGER telemetry_events_text_ad"));
  }
  VK_RETURN_IF_ERROR(writer_->Exec(
      "DELETE FROM telemetry_errors; DELETE FROM telemetry_events; "
      "DELETE FROM telemetry_sessions; DELETE FROM telemetry_buffers; "
      "DELETE FROM telemetry_stats; DELETE FROM telemetry_minute_rollups; "
      "DELETE FROM telemetry_period_rollups;")
      .WithContext("clear telemetry"));
  if (!trigger.empty()) VK_RETURN_IF_ERROR(writer_->Exec(trigger));
  VK_RETURN_IF_ERROR(NewTextGenerationLocked());
  VK_ASSIGN_OR_RETURN(Statement audit, Statement::Prepare(*writer_,
      "INSERT INTO telemetry_audit_log (table_name, record_id, operation, old_values, "
      "changed_fields, reason, metadata, timestamp, created_at) "
      "VALUES ('telemetry_sessions', NULL, 'DELETE', NULL, NULL, ?1, ?2, ?3, ?3)"));
  const std::string meta = "{\"all\":true,\"sessions\":" + std::to_string(result.sessions_removed) +
                           ",\"events\":" + std::to_string(result.events_removed) +
                           ",\"errors\":" + std::to_string(errors) +
                           ",\"buffers\":" + std::to_string(buffers) + "}";
  audit.Bind(1, reason);
  audit.Bind(2, std::string_view(meta));
  audit.Bind(3, now_ms);
  VK_RETURN_IF_ERROR(audit.Run().WithContext("audit clear"));
  VK_RETURN_IF_ERROR(txn.Commit().WithContext("commit clear"));
  data_version_.fetch_add(1, std::memory_order_release);
  if (text_indexer_) text_indexer_->Notify();
  return result;
}

Result<std::vector<MinuteRow>> SqliteStore::ReadMinuteRollups(std::int64_t from_ms,
                                                              std::int64_t to_ms) {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return sqlite::ReadMinuteRollups(*reader->db, from_ms, to_ms);
}

Result<std::int64_t> SqliteStore::InsertAlert(const AlertRecord& alert) {
  if (alert.direction != "above" && alert.direction != "below") {
    return Status::InvalidArgument("alert direction must be above or below");
  }
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  VK_RETURN_IF_ERROR(SetWriterBatchModeLocked(false));  // the severity is text from a rule
  VK_ASSIGN_OR_RETURN(Statement ins, Statement::Prepare(*writer_,
      "INSERT INTO telemetry_alerts (metric, value, threshold, direction, severity, message, "
      "fired_at, resolved_at, resolved_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  ins.Bind(1, std::string_view(alert.metric));
  ins.Bind(2, alert.value);
  ins.Bind(3, alert.threshold);
  ins.Bind(4, std::string_view(alert.direction));
  ins.Bind(5, std::string_view(alert.severity));
  ins.Bind(6, std::string_view(alert.message));
  ins.Bind(7, alert.fired_at);
  if (alert.resolved_at) {
    ins.Bind(8, *alert.resolved_at);
  } else {
    ins.BindNull(8);
  }
  if (alert.resolved_value) {
    ins.Bind(9, *alert.resolved_value);
  } else {
    ins.BindNull(9);
  }
  VK_RETURN_IF_ERROR(ins.Run().WithContext("record alert"));
  return writer_->LastInsertRowId();
}

Status SqliteStore::ResolveAlert(std::int64_t id, std::int64_t resolved_at,
                                 double resolved_value) {
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  VK_ASSIGN_OR_RETURN(Statement upd, Statement::Prepare(*writer_,
      "UPDATE telemetry_alerts SET resolved_at = ?2, resolved_value = ?3 WHERE id = ?1"));
  upd.Bind(1, id);
  upd.Bind(2, resolved_at);
  upd.Bind(3, resolved_value);
  VK_RETURN_IF_ERROR(upd.Run().WithContext("resolve alert"));
  if (writer_->Changes() == 0) return Status::NotFound("no alert " + std::to_string(id));
  return Status::Ok();
}

Result<std::vector<AlertRecord>> SqliteStore::ReadAlerts(int limit) {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(*reader->db,
      "SELECT id, metric, value, threshold, direction, severity, message, fired_at, resolved_at, "
      "resolved_value FROM (SELECT * FROM telemetry_alerts ORDER BY id DESC LIMIT ?1) ORDER BY id"));
  st.Bind(1, static_cast<std::int64_t>(limit));
  std::vector<AlertRecord> out;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    AlertRecord a;
    a.id = st.ColumnInt(0);
    a.metric = st.ColumnText(1);
    a.value = st.ColumnDouble(2);
    a.threshold = st.ColumnDouble(3);
    a.direction = st.ColumnText(4);
    a.severity = st.ColumnText(5);
    a.message = st.ColumnText(6);
    a.fired_at = st.ColumnInt(7);
    a.resolved_at = st.ColumnOptInt(8);
    if (!st.IsNull(9)) a.resolved_value = st.ColumnDouble(9);
    out.push_back(std::move(a));
  }
  return out;
}

Result<std::vector<MinuteRow>> SqliteStore::ReadPeriodRollups(std::int64_t period_ms,
                                                              std::int64_t from_ms,
                                                              std::int64_t to_ms) {
  if (period_ms != kHourMs && period_ms != kDayMs) {
    return Status::InvalidArgument("rollup periods are hours and days");
  }
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return sqlite::ReadPeriodRollups(*reader->db, period_ms, from_ms, to_ms);
}

Result<std::array<std::int64_t, 24>> SqliteStore::EventsByHourOfDay(std::int64_t from_ms,
                                                                    std::int64_t to_ms) {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(*reader->db,
      "SELECT (start / 3600000) % 24, sum(events) FROM telemetry_period_rollups "
      "WHERE period_ms = 3600000 AND start >= ?1 AND start < ?2 GROUP BY 1"));
  st.Bind(1, from_ms);
  st.Bind(2, to_ms);
  std::array<std::int64_t, 24> out{};
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    const std::int64_t h = st.ColumnInt(0);
    if (h >= 0 && h < 24) out[static_cast<std::size_t>(h)] += st.ColumnInt(1);
  }
  return out;
}

Result<Store::PlannerState> SqliteStore::GetPlannerState() {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  Database& db = *reader->db;
  PlannerState p;
  VK_ASSIGN_OR_RETURN(std::int64_t has_stat1, db.QueryInt(
      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"));
  if (has_stat1 > 0) {
    VK_ASSIGN_OR_RETURN(std::int64_t rows, db.QueryInt("SELECT count(*) FROM sqlite_stat1"));
    p.statistics = rows > 0;
  }
  VK_ASSIGN_OR_RETURN(p.fts_data_rows,
                      db.QueryInt("SELECT count(*) FROM txt.telemetry_events_fts_data"));
  VK_ASSIGN_OR_RETURN(p.fts_segments, FtsSegmentCount(db));
  return p;
}

Result<std::vector<std::string>> SqliteStore::ExplainQueryPlan(const std::string& sql) {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(*reader->db, "EXPLAIN QUERY PLAN " + sql));
  std::unordered_map<std::int64_t, int> depth;  // plan row id -> nesting level
  std::vector<std::string> rows;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    const std::int64_t id = st.ColumnInt(0);
    const std::int64_t parent = st.ColumnInt(1);
    const auto it = depth.find(parent);
    const int level = it == depth.end() ? 0 : it->second + 1;
    depth[id] = level;
    rows.push_back(std::string(static_cast<std::size_t>(level) * 2, ' ') + st.ColumnText(3));
  }
  return rows;
}

// --- range statistics ---------------------------------------------------------------------------

Result<AggregateStats> SqliteStore::AggregateStatsBetween(std::int64_t from_ms,
                                                          std::int64_t to_ms) {
  const std::int64_t t0 = internal::SteadyMicros();
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  // Both aggregations read one snapshot.
  Transaction snapshot(*reader->db);
  VK_RETURN_IF_ERROR(snapshot.Begin(/*immediate=*/false));
  AggregateStats out;
  out.computed_at = clock_.NowMs();
  auto rows_for = [&out](const std::string& agent, const std::string& mode) {
    return std::array<RollupCounts*, 3>{&out.total, &out.by_agent[agent], &out.by_mode[mode]};
  };
  auto widen = [](RollupCounts& c, std::int64_t lo, std::int64_t hi) {
    c.min_timestamp = c.min_timestamp ? std::min(*c.min_timestamp, lo) : lo;
    c.max_timestamp = c.max_timestamp ? std::max(*c.max_timestamp, hi) : hi;
  };
  // Events: a range scan of idx_events_time, grouped.
  const std::string events_sql =
      "SELECT agent_type, coalesce(mode, ''), event_type, count(*), min(timestamp), "
      "max(timestamp) FROM telemetry_events INDEXED BY idx_events_time "
      "WHERE timestamp >= ?1 AND timestamp <= ?2 GROUP BY 1, 2, 3";
  VK_ASSIGN_OR_RETURN(Statement * ev, Cached(*reader, events_sql));
  ev->Bind(1, from_ms);
  ev->Bind(2, to_ms);
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, ev->Step());
    if (!row) break;
    const std::string agent = ev->ColumnText(0);
    const std::string mode = ev->ColumnText(1);
    auto type = ParseEventType(ev->ColumnTextView(2));
    const std::int64_t n = ev->ColumnInt(3);
    const std::int64_t lo = ev->ColumnInt(4);
    const std::int64_t hi = ev->ColumnInt(5);
    for (RollupCounts* c : rows_for(agent, mode)) {
      c->total_events += n;
      switch (type.ok() ? *type : EventType::kStream) {
        case EventType::kStart: c->start_events += n; break;
        case EventType::kStream: c->stream_events += n; break;
        case EventType::kEnd: c->end_events += n; break;
        case EventType::kError: c->error_events += n; break;
      }
      widen(*c, lo, hi);
    }
  }
  ev->Reset();
  LogQuery(events_sql, internal::SteadyMicros() - t0);
  // Sessions: a range scan of idx_sessions_start, grouped.
  const std::string sessions_sql =
      "SELECT agent_type, coalesce(mode, ''), status, count(*), "
      "coalesce(sum(error_count > 0), 0), coalesce(sum(duration), 0), count(duration) "
      "FROM telemetry_sessions INDEXED BY idx_sessions_start "
      "WHERE start_time >= ?1 AND start_time <= ?2 GROUP BY 1, 2, 3";
  VK_ASSIGN_OR_RETURN(Statement * ss, Cached(*reader, sessions_sql));
  ss->Bind(1, from_ms);
  ss->Bind(2, to_ms);
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, ss->Step());
    if (!row) break;
    const std::string agent = ss->ColumnText(0);
    const std::string mode = ss->ColumnText(1);
    auto status = ParseSessionStatus(ss->ColumnTextView(2));
    const std::int64_t n = ss->ColumnInt(3);
    for (RollupCounts* c : rows_for(agent, mode)) {
      c->sessions += n;
      switch (status.ok() ? *status : SessionStatus::kActive) {
        case SessionStatus::kActive: c->active_sessions += n; break;
        case SessionStatus::kCompleted: c->completed_sessions += n; break;
        case SessionStatus::kFailed: c->failed_sessions += n; break;
        case SessionStatus::kTimeout: c->timeout_sessions += n; break;
      }
      c->sessions_with_errors += ss->ColumnInt(4);
      c->duration_sum_ms += ss->ColumnInt(5);
      c->duration_count += ss->ColumnInt(6);
    }
  }
  ss->Reset();
  VK_RETURN_IF_ERROR(snapshot.Commit());
  LogQuery(sessions_sql, internal::SteadyMicros() - t0);
  auto finish = [](RollupCounts& c) {
    if (c.duration_count > 0) {
      c.avg_session_duration_ms =
          static_cast<double>(c.duration_sum_ms) / static_cast<double>(c.duration_count);
    }
  };
  finish(out.total);
  for (auto& [k, c] : out.by_agent) finish(c);
  for (auto& [k, c] : out.by_mode) finish(c);
  FillRates(out);
  return out;
}

Result<SessionPercentiles> SqliteStore::SessionPercentilesBetween(std::int64_t from_ms,
                                                                  std::int64_t to_ms) {
  const std::int64_t t0 = internal::SteadyMicros();
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  // The count and the rank lookups must see the same rows.
  Transaction snapshot(*reader->db);
  VK_RETURN_IF_ERROR(snapshot.Begin(/*immediate=*/false));
  // Nearest rank: with n values ascending, pP is the value at 1-based rank ceil(P * n / 100),
  // read exactly with ORDER BY value LIMIT 1 OFFSET rank - 1 (no approximation, no sampling).
  auto compute = [&](const std::string& where, const std::string& column,
                     PercentileSet* out) -> Status {
    const std::string count_sql = "SELECT count(*) FROM telemetry_sessions WHERE " + where;
    VK_ASSIGN_OR_RETURN(Statement * count, Cached(*reader, count_sql));
    count->Bind(1, from_ms);
    count->Bind(2, to_ms);
    VK_ASSIGN_OR_RETURN(bool c_row, count->Step());
    out->count = c_row ? count->ColumnInt(0) : 0;
    count->Reset();
    if (out->count == 0) return Status::Ok();
    const std::string rank_sql = "SELECT " + column + " FROM telemetry_sessions WHERE " + where +
                                 " ORDER BY " + column + " LIMIT 1 OFFSET ?3";
    for (auto [p, slot] : {std::pair{50, &out->p50}, std::pair{90, &out->p90},
                           std::pair{95, &out->p95}, std::pair{99, &out->p99}}) {
      const std::int64_t rank = (p * out->count + 99) / 100;  // ceil(p * n / 100), >= 1
      VK_ASSIGN_OR_RETURN(Statement * at, Cached(*reader, rank_sql));
      at->Bind(1, from_ms);
      at->Bind(2, to_ms);
      at->Bind(3, rank - 1);
      VK_ASSIGN_OR_RETURN(bool row, at->Step());
      if (row) *slot = at->ColumnInt(0);
      at->Reset();
    }
    return Status::Ok();
  };
  SessionPercentiles out;
  VK_RETURN_IF_ERROR(compute(
      "start_time >= ?1 AND start_time <= ?2 AND status IN ('completed', 'failed') "
      "AND duration IS NOT NULL",
      "duration", &out.duration_ms));
  VK_RETURN_IF_ERROR(compute("start_time >= ?1 AND start_time <= ?2", "event_count",
                             &out.events_per_session));
  VK_RETURN_IF_ERROR(snapshot.Commit());
  LogQuery("session percentiles", internal::SteadyMicros() - t0);
  return out;
}

// --- live delivery outbox ---------------------------------------------------------------------

Status SqliteStore::EnsureDeliveryState(std::int64_t now_ms) {
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  VK_ASSIGN_OR_RETURN(Statement ins, Statement::Prepare(*writer_,
      "INSERT OR IGNORE INTO telemetry_delivery_state (id, event_cursor, created_at, updated_at) "
      "VALUES (1, (SELECT coalesce(max(id), 0) FROM telemetry_events), ?1, ?1)"));
  ins.Bind(1, now_ms);
  return ins.Run().WithContext("create delivery state");
}

Result<DeliveryState> SqliteStore::GetDeliveryState() {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  DeliveryState d;
  VK_ASSIGN_OR_RETURN(Statement * st, Cached(*reader,
      "SELECT event_cursor, events_sent, spans_sent, requests_sent, events_failed, "
      "requests_failed, retries, last_error, last_error_time, last_success_time, "
      "(SELECT count(*) FROM telemetry_delivery_sessions), "
      "(SELECT count(*) FROM telemetry_delivery_failures) "
      "FROM telemetry_delivery_state WHERE id = 1"));
  VK_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return d;
  d.configured = true;
  d.event_cursor = st->ColumnInt(0);
  d.events_sent = st->ColumnInt(1);
  d.spans_sent = st->ColumnInt(2);
  d.requests_sent = st->ColumnInt(3);
  d.events_failed = st->ColumnInt(4);
  d.requests_failed = st->ColumnInt(5);
  d.retries = st->ColumnInt(6);
  d.last_error = st->ColumnOptText(7).value_or("");
  d.last_error_time = st->ColumnOptInt(8).value_or(0);
  d.last_success_time = st->ColumnOptInt(9).value_or(0);
  d.queued_sessions = st->ColumnInt(10);
  d.failed_requests_recorded = st->ColumnInt(11);
  st->Reset();
  // A range count over the rowid: proportional to the backlog, not to the table.
  VK_ASSIGN_OR_RETURN(Statement * q,
                      Cached(*reader, "SELECT count(*) FROM telemetry_events WHERE id > ?"));
  q->Bind(1, d.event_cursor);
  VK_ASSIGN_OR_RETURN(bool counted, q->Step());
  d.queued_events = counted ? q->ColumnInt(0) : 0;
  q->Reset();
  return d;
}

Result<std::vector<Event>> SqliteStore::EventsAfter(std::int64_t after_id, int limit) {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  return RunEventQuery(*reader,
                       "SELECT " + std::string(kEventColumns) +
                           " FROM telemetry_events WHERE id > ? ORDER BY id LIMIT ?",
                       {after_id, static_cast<std::int64_t>(limit)});
}

Result<std::vector<ErrorRecord>> SqliteStore::ErrorsForEvents(std::int64_t first_id,
                                                              std::int64_t last_id) {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  VK_ASSIGN_OR_RETURN(Statement * stmt, Cached(*reader,
      "SELECT " + std::string(kErrorColumns) +
          " FROM telemetry_errors WHERE event_id BETWEEN ? AND ? ORDER BY event_id, id"));
  stmt->Bind(1, first_id);
  stmt->Bind(2, last_id);
  std::vector<ErrorRecord> out;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(ReadErrorRecord(*stmt));
  }
  stmt->Reset();
  return out;
}

Result<std::vector<PendingRootSpan>> SqliteStore::PendingRootSpans(int limit) {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  VK_ASSIGN_OR_RETURN(Statement * stmt, Cached(*reader,
      "SELECT seq, session_id FROM telemetry_delivery_sessions ORDER BY seq LIMIT ?"));
  stmt->Bind(1, static_cast<std::int64_t>(limit));
  std::vector<PendingRootSpan> out;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back({stmt->ColumnInt(0), stmt->ColumnText(1)});
  }
  stmt->Reset();
  return out;
}

Status SqliteStore::RecordDelivery(const DeliveryRecord& r, std::int64_t now_ms) {
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  Transaction txn(*writer_);
  VK_RETURN_IF_ERROR(txn.Begin().WithContext("begin delivery record"));
  using Kind = DeliveryRecord::Kind;
  if (r.kind == Kind::kRetry) {
    VK_ASSIGN_OR_RETURN(Statement up, Statement::Prepare(*writer_,
        "UPDATE telemetry_delivery_state SET retries = retries + 1, last_error = ?1, "
        "last_error_time = ?2, updated_at = ?2 WHERE id = 1"));
    up.Bind(1, std::string_view(r.error));
    up.Bind(2, now_ms);
    VK_RETURN_IF_ERROR(up.Run());
    return txn.Commit().WithContext("commit delivery record");
  }
  const bool accepted = r.kind == Kind::kAccepted;
  VK_ASSIGN_OR_RETURN(Statement up, Statement::Prepare(*writer_, accepted
      ? "UPDATE telemetry_delivery_state SET event_cursor = max(event_cursor, ?1), "
        "events_sent = events_sent + ?2, spans_sent = spans_sent + ?3, "
        "requests_sent = requests_sent + (?3 > 0), last_success_time = ?4, updated_at = ?4 "
        "WHERE id = 1"
      : "UPDATE telemetry_delivery_state SET event_cursor = max(event_cursor, ?1), "
        "events_failed = events_failed + ?2, requests_failed = requests_failed + 1, "
        "last_error = ?5, last_error_time = ?4, updated_at = ?4 WHERE id = 1"));
  up.Bind(1, r.new_cursor);
  up.Bind(2, r.events);
  up.Bind(3, r.spans);
  up.Bind(4, now_ms);
  if (!accepted) up.Bind(5, std::string_view(r.error));
  VK_RETURN_IF_ERROR(up.Run().WithContext("advance delivery cursor"));
  if (writer_->Changes() != 1) {
    return Status::FailedPrecondition("delivery state row missing (EnsureDeliveryState not run)");
  }
  VK_ASSIGN_OR_RETURN(Statement del, Statement::Prepare(*writer_,
      "DELETE FROM telemetry_delivery_sessions WHERE session_id = ?1 AND seq = ?2"));
  std::string session_ids = "[";
  for (const PendingRootSpan& root : r.roots) {
    del.Reset();
    del.Bind(1, std::string_view(root.session_id));
    del.Bind(2, root.seq);
    VK_RETURN_IF_ERROR(del.Run().WithContext("remove sent root span"));
    if (session_ids.size() > 1) session_ids += ',';
    internal::AppendJsonString(session_ids, root.session_id);
  }
  session_ids += ']';
  if (!accepted) {
    VK_ASSIGN_OR_RETURN(Statement ins, Statement::Prepare(*writer_,
        "INSERT INTO telemetry_delivery_failures (first_event_id, last_event_id, event_count, "
        "span_count, session_ids, http_status, error, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    if (r.events > 0) {
      ins.Bind(1, r.first_event_id);
      ins.Bind(2, r.new_cursor);
    } else {
      ins.BindNull(1);
      ins.BindNull(2);
    }
    ins.Bind(3, r.events);
    ins.Bind(4, r.spans);
    ins.Bind(5, std::string_view(session_ids));
    if (r.http_status > 0) {
      ins.Bind(6, static_cast<std::int64_t>(r.http_status));
    } else {
      ins.BindNull(6);
    }
    ins.Bind(7, std::string_view(r.error));
    ins.Bind(8, now_ms);
    VK_RETURN_IF_ERROR(ins.Run().WithContext("record rejected delivery"));
  }
  return txn.Commit().WithContext("commit delivery record");
}

// --- Export scans and verbatim restore ---------------------------------------------------------

namespace {

// " AND <column> IN (?,?,...)" with the values appended to `binds`; nothing for an empty list.
void AppendIn(std::string& sql, std::vector<BindValue>& binds, std::string_view column,
              const std::vector<std::string>& values) {
  if (values.empty()) return;
  sql += " AND ";
  sql += column;
  sql += " IN (";
  for (std::size_t i = 0; i < values.size(); ++i) {
    sql += i == 0 ? "?" : ",?";
    binds.emplace_back(values[i]);
  }
  sql += ')';
}

// One table's SELECT for a scan: "<select> WHERE <filters> ORDER BY ... LIMIT ? OFFSET ?".
struct TableQuery {
  std::string where;  // " WHERE <filters>"
  std::vector<BindValue> where_binds;
  std::string sql;
  std::vector<BindValue> binds;
  std::string count_sql;  // count(*) of the filtered table, without order, limit and offset
  std::vector<BindValue> count_binds;
};

TableQuery BuildScanQuery(std::string_view table, const ExportFilter& f) {
  TableQuery q;
  std::string where = " WHERE 1=1";
  const std::string_view time_column = table == "sessions" ? "start_time" : "timestamp";
  if (f.from_time) {
    where += " AND " + std::string(time_column) + " >= ?";
    q.binds.emplace_back(*f.from_time);
  }
  if (f.to_time) {
    where += " AND " + std::string(time_column) + " <= ?";
    q.binds.emplace_back(*f.to_time);
  }
  if (table == "sessions") {
    AppendIn(where, q.binds, "id", f.session_ids);
    AppendIn(where, q.binds, "agent_type", f.agent_types);
    q.sql = "SELECT " + std::string(kSessionColumns) + " FROM telemetry_sessions" + where +
            " ORDER BY start_time, id";
  } else if (table == "events") {
    AppendIn(where, q.binds, "session_id", f.session_ids);
    AppendIn(where, q.binds, "agent_type", f.agent_types);
    AppendIn(where, q.binds, "event_type", f.event_types);
    q.sql = "SELECT " + std::string(kEventColumns) + " FROM telemetry_events" + where +
            " ORDER BY id";
  } else {
    AppendIn(where, q.binds, "session_id", f.session_ids);
    if (!f.agent_types.empty()) {
      std::string sub = "SELECT id FROM telemetry_sessions WHERE 1=1";
      AppendIn(sub, q.binds, "agent_type", f.agent_types);
      where += " AND session_id IN (" + sub + ")";
    }
    q.sql = "SELECT " + std::string(kErrorColumns) + " FROM telemetry_errors" + where +
            " ORDER BY id";
  }
  q.where = where;
  q.where_binds = q.binds;
  const std::string_view from = table == "sessions" ? " FROM telemetry_sessions"
                                : table == "events" ? " FROM telemetry_events"
                                                    : " FROM telemetry_errors";
  q.count_sql = "SELECT count(*)" + std::string(from) + where;
  q.count_binds = q.binds;
  q.sql += " LIMIT ? OFFSET ?";
  q.binds.emplace_back(f.limit.value_or(-1));  // -1: no limit
  q.binds.emplace_back(f.offset);
  return q;
}

// Ends a read transaction however the scan ends.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Database& db) : db_(db) {}
  ~ReadSnapshot() {
    if (open_) (void)db_.Exec("COMMIT");
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  Status Begin() {
    VK_RETURN_IF_ERROR(db_.Exec("BEGIN"));
    open_ = true;
    return Status::Ok();
  }

 private:
  Database& db_;
  bool open_ = false;
};

// UNIQUE / FOREIGN KEY failures of a restore, in the user's terms.
Status RestoreError(const Status& st, const std::string& what) {
  const std::string& m = st.message();
  if (m.find("UNIQUE") != std::string::npos || m.find("PRIMARY KEY") != std::string::npos) {
    return Status::InvalidArgument(what + " already exists in the database (restore into an "
                                          "empty database, or one without these rows)");
  }
  if (m.find("FOREIGN KEY") != std::string::npos) {
    return Status::InvalidArgument(what + " references a session or event that is in neither "
                                          "the input nor the database");
  }
  return st.WithContext("restore " + what);
}

}  // namespace

namespace {

// count(*) of one statement.
Result<std::int64_t> CountRows(Database& db, const std::string& sql,
                               const std::vector<BindValue>& binds) {
  VK_ASSIGN_OR_RETURN(Statement count, Statement::Prepare(db, sql));
  BindAll(count, binds);
  VK_ASSIGN_OR_RETURN(bool row, count.Step());
  return row ? count.ColumnInt(0) : 0;
}

// One event row to the visitor: decoded here, or left encoded for it (ScanRequest::stored_texts).
Status VisitEvent(const Statement& s, const ScanRequest& request, const PrivacyRange& privacy,
                  Event& e, ScanVisitor& visitor) {
  if (!request.stored_texts) {
    VK_RETURN_IF_ERROR(ReadEventInto(s, e));
    return visitor.OnEvent(e);
  }
  StoredTexts stored;
  VK_RETURN_IF_ERROR(ReadEventInto(s, e, &stored));
  stored.privacy_applied = privacy.Contains(e.id);
  return visitor.TakeStoredEvent(e, stored);
}

// The events of the snapshot recorded as stored under ScanRequest::privacy_fingerprint.
Result<PrivacyRange> ReadPrivacyRange(Database& db, const ScanRequest& request) {
  PrivacyRange range;
  if (!request.stored_texts || request.privacy_fingerprint.empty()) return range;
  // Rolled back below 1.8.0 by another process: no table, no range.
  VK_ASSIGN_OR_RETURN(bool exists, PrivacyRangesExist(db));
  if (!exists) return range;
  VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db, kReadPrivacyRangeSql));
  st.Bind(1, std::string_view(request.privacy_fingerprint));
  VK_ASSIGN_OR_RETURN(bool row, st.Step());
  if (row) range = {st.ColumnInt(0), st.ColumnInt(1)};
  return range;
}

// ScanRequest::by_session: each session, then its events, then its errors, all from the
// snapshot the caller opened. One session's rows at a time (two statements re-bound per session).
Status ScanBySession(Database& db, const ScanRequest& request, const PrivacyRange& privacy,
                     ScanVisitor& visitor) {
  const ExportFilter& f = request.filter;
  const TableQuery sessions = BuildScanQuery("sessions", f);
  ExportFilter row_filter;  // what applies to a session's events and errors
  row_filter.from_time = f.from_time;
  row_filter.to_time = f.to_time;
  row_filter.event_types = f.event_types;
  const TableQuery events = BuildScanQuery("events", row_filter);
  row_filter.event_types.clear();
  const TableQuery errors = BuildScanQuery("errors", row_filter);

  // The chosen sessions' ids, as a subquery for the counts.
  const std::string chosen = " AND session_id IN (SELECT id FROM telemetry_sessions" +
                             sessions.where + " ORDER BY start_time, id LIMIT ? OFFSET ?)";
  std::vector<BindValue> chosen_binds = sessions.where_binds;
  chosen_binds.emplace_back(f.limit.value_or(-1));
  chosen_binds.emplace_back(f.offset);
  auto with_chosen = [&chosen_binds](std::vector<BindValue> binds) {
    binds.insert(binds.end(), chosen_binds.begin(), chosen_binds.end());
    return binds;
  };
  ScanCounts counts;
  VK_ASSIGN_OR_RETURN(std::int64_t n, CountRows(db, sessions.count_sql, sessions.count_binds));
  counts.sessions = std::max<std::int64_t>(0, n - f.offset);
  if (f.limit) counts.sessions = std::min(counts.sessions, *f.limit);
  VK_ASSIGN_OR_RETURN(counts.events,
                      CountRows(db, "SELECT count(*) FROM telemetry_events" + events.where + chosen,
                                with_chosen(events.where_binds)));
  VK_ASSIGN_OR_RETURN(counts.errors,
                      CountRows(db, "SELECT count(*) FROM telemetry_errors" + errors.where + chosen,
                                with_chosen(errors.where_binds)));
  VK_RETURN_IF_ERROR(visitor.OnCounts(counts));
  if (request.counts_only) return Status::Ok();

  VK_ASSIGN_OR_RETURN(Statement session_rows, Statement::Prepare(db, sessions.sql));
  BindAll(session_rows, sessions.binds);
  VK_ASSIGN_OR_RETURN(
      Statement event_rows,
      Statement::Prepare(db, "SELECT " + std::string(kEventColumns) + " FROM telemetry_events" +
                                 events.where + " AND session_id = ? ORDER BY timestamp, id"));
  VK_ASSIGN_OR_RETURN(
      Statement error_rows,
      Statement::Prepare(db, "SELECT " + std::string(kErrorColumns) + " FROM telemetry_errors" +
                                 errors.where + " AND session_id = ? ORDER BY id"));
  const int session_param_events = static_cast<int>(events.where_binds.size()) + 1;
  const int session_param_errors = static_cast<int>(errors.where_binds.size()) + 1;
  Session session;  // outlives its bindings (bound without copying)
  Event event;      // every row read into it
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, session_rows.Step());
    if (!row) break;
    session = ReadSession(session_rows);
    VK_RETURN_IF_ERROR(visitor.OnSession(session));
    event_rows.Reset();
    BindAll(event_rows, events.where_binds);
    event_rows.Bind(session_param_events, std::string_view(session.id));
    while (true) {
      VK_ASSIGN_OR_RETURN(bool more, event_rows.Step());
      if (!more) break;
      VK_RETURN_IF_ERROR(VisitEvent(event_rows, request, privacy, event, visitor));
    }
    error_rows.Reset();
    BindAll(error_rows, errors.where_binds);
    error_rows.Bind(session_param_errors, std::string_view(session.id));
    while (true) {
      VK_ASSIGN_OR_RETURN(bool more, error_rows.Step());
      if (!more) break;
      VK_RETURN_IF_ERROR(visitor.OnError(ReadErrorRecord(error_rows)));
    }
  }
  return Status::Ok();
}

}  // namespace

Status SqliteStore::Scan(const ScanRequest& request, ScanVisitor& visitor) {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  Database& db = *reader->db;
  db.SetDeadline(0);  // an export of millions of rows may legitimately take minutes
  ReadSnapshot snapshot(db);
  VK_RETURN_IF_ERROR(snapshot.Begin().WithContext("begin export snapshot"));
  VK_ASSIGN_OR_RETURN(const PrivacyRange privacy, ReadPrivacyRange(db, request));
  if (request.by_session) {
    const std::int64_t t0 = internal::SteadyMicros();
    Status st = ScanBySession(db, request, privacy, visitor);
    LogQuery("export scan by session", internal::SteadyMicros() - t0);
    return st;
  }
  struct Table {
    std::string_view name;
    bool wanted;
  };
  const std::array<Table, 3> tables = {Table{"sessions", request.sessions},
                                       Table{"events", request.events},
                                       Table{"errors", request.errors}};
  ScanCounts counts;
  for (const Table& t : tables) {
    if (!t.wanted) continue;
    TableQuery q = BuildScanQuery(t.name, request.filter);
    // Counted without reading the rows (an index suffices), then offset and limit applied.
    VK_ASSIGN_OR_RETURN(Statement count, Statement::Prepare(db, q.count_sql));
    BindAll(count, q.count_binds);
    VK_ASSIGN_OR_RETURN(bool row, count.Step());
    std::int64_t n = std::max<std::int64_t>(0, (row ? count.ColumnInt(0) : 0) -
                                                   request.filter.offset);
    if (request.filter.limit) n = std::min(n, *request.filter.limit);
    (t.name == "sessions" ? counts.sessions : t.name == "events" ? counts.events : counts.errors) =
        n;
  }
  VK_RETURN_IF_ERROR(visitor.OnCounts(counts));
  if (request.counts_only) return Status::Ok();
  for (const Table& t : tables) {
    if (!t.wanted) continue;
    TableQuery q = BuildScanQuery(t.name, request.filter);
    const std::int64_t t0 = internal::SteadyMicros();
    VK_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(db, q.sql));
    BindAll(stmt, q.binds);
    Event event;  // every row read into it
    while (true) {
      VK_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      if (t.name == "sessions") {
        VK_RETURN_IF_ERROR(visitor.OnSession(ReadSession(stmt)));
      } else if (t.name == "events") {
        VK_RETURN_IF_ERROR(VisitEvent(stmt, request, privacy, event, visitor));
      } else {
        VK_RETURN_IF_ERROR(visitor.OnError(ReadErrorRecord(stmt)));
      }
    }
    LogQuery(q.sql, internal::SteadyMicros() - t0);
  }
  return Status::Ok();
}

class SqliteStore::SqliteRestoreWriter final : public RestoreWriter {
 public:
  SqliteRestoreWriter(SqliteStore& store, std::unique_lock<std::mutex> lock, std::int64_t now_ms)
      : store_(store), lock_(std::move(lock)), txn_(*store.writer_), now_ms_(now_ms) {}

  Status Begin() {
    Database& db = *store_.writer_;
    VK_RETURN_IF_ERROR(txn_.Begin().WithContext("begin restore"));
    // Restored rows keep their ids, which may fall inside the recorded privacy range.
    VK_ASSIGN_OR_RETURN(bool ranges, PrivacyRangesExist(db));
    if (ranges) VK_RETURN_IF_ERROR(db.Exec(kClearPrivacyRangeSql).WithContext("clear privacy range"));
    // Ids restored below the events' counter as it is now, which the text index may already
    // have passed (text_index.h): the change log tells it to index them. Ids above it are
    // indexed as any new row.
    VK_RETURN_IF_ERROR(db.Exec(
        "CREATE TEMP TABLE IF NOT EXISTS vk_restored_ids (id INTEGER PRIMARY KEY); "
        "DELETE FROM temp.vk_restored_ids;"));
    VK_ASSIGN_OR_RETURN(events_seq_before_, db.QueryInt(
        TextIndexer::kEventsCounterSql));
    auto prep = [&db](Statement& out, std::string_view sql) -> Status {
      VK_ASSIGN_OR_RETURN(out, Statement::Prepare(db, sql));
      return Status::Ok();
    };
    VK_RETURN_IF_ERROR(prep(session_,
        "INSERT INTO telemetry_sessions (id, agent_type, mode, status, start_time, end_time, "
        "duration, event_count, stream_event_count, error_count, sandbox_id, repo_url, metadata, "
        "last_event_time, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    VK_RETURN_IF_ERROR(prep(event_,
        "INSERT INTO telemetry_events (id, session_id, event_type, agent_type, mode, prompt, "
        "stream_data, sandbox_id, repo_url, metadata, timestamp, created_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"));
    VK_RETURN_IF_ERROR(prep(error_,
        "INSERT INTO telemetry_errors (id, session_id, event_id, error_type, error_message, "
        "error_stack, context, severity, resolved, metadata, timestamp, created_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"));
    VK_RETURN_IF_ERROR(prep(restored_id_, "INSERT INTO temp.vk_restored_ids (id) VALUES (?)"));
    return Status::Ok();
  }

  Status AddSession(const Session& s) override {
    Statement& st = session_;
    st.Reset();
    BindSessionRow(st, s);
    Status run = st.Run();
    st.Reset();
    if (!run.ok()) return RestoreError(run, "session \"" + s.id + "\"");
    delta_.AddSession(s, +1);
    return Status::Ok();
  }

  Status AddEvent(const Event& e) override {
    Statement& st = event_;
    st.Reset();
    st.Bind(1, e.id);
    st.Bind(2, std::string_view(e.session_id));
    st.Bind(3, EventTypeName(e.event_type));
    st.Bind(4, std::string_view(e.agent_type));
    st.Bind(5, e.mode);
    BindText(st, 6, e.prompt, &packed_prompt_);
    BindText(st, 7, e.stream_data, &packed_stream_);
    st.Bind(8, e.sandbox_id);
    st.Bind(9, e.repo_url);
    st.Bind(10, e.metadata);
    st.Bind(11, e.timestamp);
    st.Bind(12, e.created_at);
    Status run = st.Run();
    st.Reset();
    if (!run.ok()) return RestoreError(run, "event id " + std::to_string(e.id));
    if (e.prompt || e.stream_data) {
      restored_id_.Reset();
      restored_id_.Bind(1, e.id);
      VK_RETURN_IF_ERROR(restored_id_.Run());
    }
    delta_.AddEvent(e);
    return Status::Ok();
  }

  Status AddError(const ErrorRecord& r) override {
    Statement& st = error_;
    st.Reset();
    st.Bind(1, r.id);
    st.Bind(2, std::string_view(r.session_id));
    st.Bind(3, r.event_id);
    st.Bind(4, std::string_view(r.error_type));
    st.Bind(5, std::string_view(r.error_message));
    st.Bind(6, r.error_stack);
    st.Bind(7, r.context);
    st.Bind(8, ErrorSeverityName(r.severity));
    st.Bind(9, static_cast<std::int64_t>(r.resolved ? 1 : 0));
    st.Bind(10, r.metadata);
    st.Bind(11, r.timestamp);
    st.Bind(12, r.created_at);
    Status run = st.Run();
    st.Reset();
    if (!run.ok()) return RestoreError(run, "error id " + std::to_string(r.id));
    return Status::Ok();
  }

  Status Commit() override {
    Database& db = *store_.writer_;
    VK_ASSIGN_OR_RETURN(Statement log, Statement::Prepare(db,
        "INSERT INTO telemetry_text_changes (event_id, op) "
        "SELECT id, 'a' FROM temp.vk_restored_ids WHERE id <= ?"));
    log.Bind(1, events_seq_before_);
    VK_RETURN_IF_ERROR(log.Run().WithContext("log restored text"));
    log.Reset();
    VK_RETURN_IF_ERROR(db.Exec("DELETE FROM temp.vk_restored_ids;"));
    if (!delta_.empty()) VK_RETURN_IF_ERROR(store_.ApplyRollup(delta_, now_ms_));
    // The minute rollups need the sessions' event sequences; restored rows can interleave with
    // stored ones, so they are recomputed from all events (restores are rare and bulk).
    VK_RETURN_IF_ERROR(RebuildMinuteRollups(db).WithContext("roll up restored events"));
    VK_RETURN_IF_ERROR(txn_.Commit().WithContext("commit restore"));
    store_.data_version_.fetch_add(1, std::memory_order_release);
    if (store_.text_indexer_) store_.text_indexer_->Notify();
    return Status::Ok();
  }

 private:
  void BindText(Statement& st, int index, const std::optional<std::string>& text,
                std::string* packed) {
    if (text && EncodeText(*text, store_.config_.compress_min_bytes, packed)) {
      st.BindBlob(index, *packed);
    } else {
      st.Bind(index, text);
    }
  }

  SqliteStore& store_;
  std::unique_lock<std::mutex> lock_;  // writer_mu_, held for the whole restore
  // Declared after lock_ so it rolls back (destructor) before the lock is released.
  Transaction txn_;
  const std::int64_t now_ms_;  // rollup rows' updated_at
  std::int64_t events_seq_before_ = 0;  // the events' AUTOINCREMENT counter at Begin
  Statement session_;
  Statement event_;
  Statement error_;
  Statement restored_id_;
  RollupDelta delta_;
  std::string packed_prompt_;
  std::string packed_stream_;
};

Result<std::unique_ptr<RestoreWriter>> SqliteStore::BeginRestore(std::int64_t now_ms) {
  std::unique_lock lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  VK_RETURN_IF_ERROR(SetWriterBatchModeLocked(false));
  auto writer = std::make_unique<SqliteRestoreWriter>(*this, std::move(lock), now_ms);
  VK_RETURN_IF_ERROR(writer->Begin());
  return std::unique_ptr<RestoreWriter>(std::move(writer));
}

}  // namespace vibekit::store::sqlite
