#include "store/postgres/pg_store.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/event_json.h"
#include "common/json.h"
#include "common/steady_ms.h"
#include "store/postgres/pg_minute_rollup.h"
#include "store/postgres/pg_rules.h"
#include "store/postgres/pg_schema.h"
#include "store/privacy_ranges.h"
#include "store/validation_rules_sql.h"

namespace vibekit::store::postgres {
namespace {

double MsSinceMicros(std::int64_t t0_us) {
  return static_cast<double>(internal::SteadyMicros() - t0_us) / 1000.0;
}

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

constexpr std::string_view kErrorColumns =
    "id, session_id, event_id, error_type, error_message, error_stack, context, severity, "
    "resolved, metadata, timestamp, created_at";

Event ReadEvent(const PgResult& r, int i) {
  Event e;
  e.id = r.Int(i, 0);
  e.session_id = r.Text(i, 1);
  auto type = ParseEventType(r.TextView(i, 2));
  e.event_type = type.ok() ? *type : EventType::kStream;
  e.agent_type = r.Text(i, 3);
  e.mode = r.OptText(i, 4);
  e.prompt = r.OptText(i, 5);
  e.stream_data = r.OptText(i, 6);
  e.sandbox_id = r.OptText(i, 7);
  e.repo_url = r.OptText(i, 8);
  e.metadata = r.OptText(i, 9);
  e.timestamp = r.Int(i, 10);
  e.created_at = r.Int(i, 11);
  return e;
}

Session ReadSession(const PgResult& r, int i) {
  Session s;
  s.id = r.Text(i, 0);
  s.agent_type = r.Text(i, 1);
  s.mode = r.OptText(i, 2);
  auto status = ParseSessionStatus(r.TextView(i, 3));
  s.status = status.ok() ? *status : SessionStatus::kActive;
  s.start_time = r.Int(i, 4);
  s.end_time = r.OptInt(i, 5);
  s.duration = r.OptInt(i, 6);
  s.event_count = r.Int(i, 7);
  s.stream_event_count = r.Int(i, 8);
  s.error_count = r.Int(i, 9);
  s.sandbox_id = r.OptText(i, 10);
  s.repo_url = r.OptText(i, 11);
  s.metadata = r.OptText(i, 12);
  s.last_event_time = r.IsNull(i, 13) ? s.start_time : r.Int(i, 13);
  s.created_at = r.Int(i, 14);
  s.updated_at = r.Int(i, 15);
  return s;
}

ErrorRecord ReadErrorRecord(const PgResult& r, int i) {
  ErrorRecord e;
  e.id = r.Int(i, 0);
  e.session_id = r.Text(i, 1);
  e.event_id = r.OptInt(i, 2);
  e.error_type = r.Text(i, 3);
  e.error_message = r.Text(i, 4);
  e.error_stack = r.OptText(i, 5);
  e.context = r.OptText(i, 6);
  auto sev = ParseErrorSeverity(r.TextView(i, 7));
  e.severity = sev.ok() ? *sev : ErrorSeverity::kMedium;
  e.resolved = r.Int(i, 8) != 0;
  e.metadata = r.OptText(i, 9);
  e.timestamp = r.Int(i, 10);
  e.created_at = r.Int(i, 11);
  return e;
}

RollupCounts ReadCounts(const PgResult& r, int i) {
  RollupCounts c;
  c.total_events = r.Int(i, 2);
  c.start_events = r.Int(i, 3);
  c.stream_events = r.Int(i, 4);
  c.end_events = r.Int(i, 5);
  c.error_events = r.Int(i, 6);
  c.sessions = r.Int(i, 7);
  c.active_sessions = r.Int(i, 8);
  c.completed_sessions = r.Int(i, 9);
  c.failed_sessions = r.Int(i, 10);
  c.timeout_sessions = r.Int(i, 11);
  c.sessions_with_errors = r.Int(i, 12);
  c.duration_sum_ms = r.Int(i, 13);
  c.duration_count = r.Int(i, 14);
  if (c.duration_count > 0) {
    c.avg_session_duration_ms =
        static_cast<double>(c.duration_sum_ms) / static_cast<double>(c.duration_count);
  }
  c.min_timestamp = r.OptInt(i, 15);
  c.max_timestamp = r.OptInt(i, 16);
  return c;
}

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

// A PostgreSQL array literal ({"a","b",NULL}) of text values, for unnest($n::text[]).
class ArrayLiteral {
 public:
  void Add(std::string_view v) {
    Sep();
    s_ += '"';
    for (const char c : v) {
      if (c == '"' || c == '\\') s_ += '\\';
      s_ += c;
    }
    s_ += '"';
  }
  void Add(const std::optional<std::string>& v) {
    if (v) {
      Add(std::string_view(*v));
    } else {
      Sep();
      s_ += "NULL";
    }
  }
  void Add(std::int64_t v) {
    Sep();
    s_ += std::to_string(v);
  }
  void Add(const std::optional<std::int64_t>& v) {
    Sep();
    s_ += v ? std::to_string(*v) : std::string("NULL");
  }
  std::string str() const { return s_ + "}"; }

 private:
  void Sep() { s_ += s_.size() > 1 ? "," : ""; }
  std::string s_ = "{";
};

void CopyField(std::string& out, const std::optional<std::string>& v) {
  if (v) {
    AppendCopyText(out, *v);
  } else {
    out += "\\N";
  }
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The indexable words of a `contains` text, as on SQLite (sqlite_store.cc SplitFtsWords): ASCII
// letters and digits, lowercased; words with non-ASCII bytes are left to the exact check; every
// word but the last must be a whole word, the last (when the text ends inside it) a prefix.
std::string TsQuery(std::string_view text) {
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
  const bool ends_in_word =
      !text.empty() && (std::isalnum(static_cast<unsigned char>(text.back())) ||
                        static_cast<unsigned char>(text.back()) >= 0x80);
  finish();
  std::string q;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i].empty()) continue;
    if (!q.empty()) q += " & ";
    q += "'" + words[i] + "'";
    if (i + 1 == words.size() && ends_in_word) q += ":*";
  }
  return q;
}

// For the rows the text index does not hold (search IS NULL): a regular expression that finds
// the (lowercased) needle only where the text index would, at the start of a word, so those rows
// answer like indexed ones (and like SQLite's FTS5, whose tokens start after a separator). Empty
// when the needle does not start with an indexed (ASCII) word: then the exact check alone
// decides, on both backends.
std::string WordStartPattern(std::string_view needle) {
  if (needle.empty() || !std::isalnum(static_cast<unsigned char>(needle.front()))) return {};
  for (const char ch : needle) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) return {};
    if (!std::isalnum(c)) break;
  }
  // A word character: ASCII letter or digit, or any non-ASCII character (the tokenizers keep
  // those inside words). Every ASCII non-alphanumeric byte is escaped (a literal in an ARE).
  std::string re = "(^|[^0-9a-z\\u0080-\\U0010ffff])";
  for (const char ch : needle) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80 && !std::isalnum(c)) re += '\\';
    re += ch;
  }
  return re;
}

// The schema-qualified names of this store's tables (the telemetry_* tables of the schema its
// search_path selects), for statements that must not touch other schemas of the database.
constexpr std::string_view kOwnTables =
    "SELECT coalesce(string_agg(quote_ident(n.nspname) || '.' || quote_ident(c.relname), ', ' "
    "ORDER BY c.relname), '') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'r' AND n.nspname = current_schema() AND c.relname LIKE 'telemetry%'";

}  // namespace

bool IsPostgresUrl(std::string_view location) noexcept {
  return location.rfind("postgres://", 0) == 0 || location.rfind("postgresql://", 0) == 0;
}

// --- connections -------------------------------------------------------------------------------

class PgStore::ReaderLease {
 public:
  ReaderLease(PgStore* store, std::unique_ptr<PgConn> conn)
      : store_(store), conn_(std::move(conn)) {}
  ReaderLease(ReaderLease&& o) noexcept : store_(o.store_), conn_(std::move(o.conn_)) {}
  ReaderLease& operator=(ReaderLease&&) = delete;
  ~ReaderLease() {
    if (conn_) store_->ReleaseReader(std::move(conn_));
  }
  PgConn& operator*() { return *conn_; }
  PgConn* operator->() { return conn_.get(); }

 private:
  PgStore* store_;
  std::unique_ptr<PgConn> conn_;
};

PgStore::PgStore(LocalStoreConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock) {}

PgStore::~PgStore() { Close(); }

Status PgStore::Open() {
  std::lock_guard lock(writer_mu_);
  if (open_) return Status::Ok();
  VK_ASSIGN_OR_RETURN(auto conn, PgConn::Connect(config_.db_path));
  VK_RETURN_IF_ERROR(Migrate(*conn, clock_.NowMs()));
  writer_ = std::move(conn);
  open_ = true;
  // Events without rollups (written before this process could keep them): rolled up once.
  {
    VK_ASSIGN_OR_RETURN(PgResult r, writer_->Query(
        "SELECT EXISTS (SELECT 1 FROM telemetry_events), "
        "EXISTS (SELECT 1 FROM telemetry_minute_rollups)"));
    if (r.TextView(0, 0) == "t" && r.TextView(0, 1) == "f") {
      const Status txn_status = InWriteTransaction([](PgConn& db) {
        return RebuildMinuteRollups(db);
      });
      if (!txn_status.ok()) {
        writer_.reset();
        open_ = false;
        return txn_status.WithContext("roll up existing events");
      }
    }
  }
  return Status::Ok();
}

void PgStore::Close() noexcept {
  std::lock_guard lock(writer_mu_);
  writer_.reset();
  open_ = false;
  std::lock_guard pool(pool_mu_);
  idle_readers_.clear();
  readers_total_ = readers_active_;
}

Result<PgStore::ReaderLease> PgStore::AcquireReader() {
  {
    std::lock_guard lock(pool_mu_);
    if (!idle_readers_.empty()) {
      auto conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      ++readers_active_;
      return ReaderLease(this, std::move(conn));
    }
    ++readers_total_;
    ++readers_active_;
  }
  auto conn = PgConn::Connect(config_.db_path);
  if (!conn.ok()) {
    std::lock_guard lock(pool_mu_);
    --readers_total_;
    --readers_active_;
    return conn.status();
  }
  return ReaderLease(this, std::move(*conn));
}

void PgStore::ReleaseReader(std::unique_ptr<PgConn> conn) {
  std::lock_guard lock(pool_mu_);
  --readers_active_;
  // Keep up to read_connections idle; a lost connection is dropped, not pooled.
  if (conn->healthy() && static_cast<int>(idle_readers_.size()) < config_.read_connections) {
    idle_readers_.push_back(std::move(conn));
  } else {
    --readers_total_;
  }
}

namespace {
// The SqlCapture of this thread, if any (see pg_store.h).
thread_local PgStore::SqlCapture* tls_sql_capture = nullptr;
}  // namespace

PgStore::SqlCapture::SqlCapture() : previous_(tls_sql_capture) { tls_sql_capture = this; }

PgStore::SqlCapture::~SqlCapture() { tls_sql_capture = previous_; }

void PgStore::SqlCapture::Add(const std::string& sql, const PgParams& params) {
  for (const Captured& c : statements_) {
    if (c.sql == sql) return;
  }
  statements_.push_back({sql, params});
}

Result<std::vector<std::string>> PgStore::ExplainQueryPlan(const std::string& sql,
                                                           const PgParams& params) {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  VK_ASSIGN_OR_RETURN(PgResult r, reader->Query("EXPLAIN " + sql, params));
  std::vector<std::string> rows;
  for (int i = 0; i < r.rows(); ++i) rows.push_back(r.Text(i, 0));
  return rows;
}

Result<PgResult> PgStore::Read(const std::string& sql, const PgParams& params) {
  if (tls_sql_capture != nullptr) tls_sql_capture->Add(sql, params);
  for (int attempt = 0;; ++attempt) {
    VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
    auto r = reader->Query(sql, params);
    if (r.ok() || reader->healthy() || attempt > 0) return r;
    // The connection was lost (server restart, network): the lease drops it; try a new one.
  }
}

std::string PgStore::BeginWriteSql() const {
  // The writer lock of the other processes is waited for at most the busy timeout (as SQLite's
  // busy_timeout), then the transaction fails with kBusy (55P03) instead of waiting forever.
  // lock_timeout 0 would mean "no limit": a timeout of 0 gets 1 ms.
  return "BEGIN; SET LOCAL lock_timeout = " + std::to_string(std::max(1, config_.busy_timeout_ms));
}

Status PgStore::InWriteTransaction(const std::function<Status(PgConn&)>& body) {
  if (!open_) return Status::FailedPrecondition("store is not open");
  if (!writer_->healthy()) VK_RETURN_IF_ERROR(writer_->Reset());
  VK_RETURN_IF_ERROR(writer_->Exec(BeginWriteSql()));
  Status st = writer_->Query("SELECT pg_advisory_xact_lock($1)", PgParams().Add(kWriterLockKey))
                  .status();
  if (st.ok()) st = body(*writer_);
  if (st.ok()) st = writer_->Exec("COMMIT").WithContext("commit");
  if (!st.ok() && writer_->healthy()) (void)writer_->Exec("ROLLBACK");
  return st;
}

// --- writes ------------------------------------------------------------------------------------

namespace {

// `sql` (no parameters) as a PL/pgSQL block that runs it only while telemetry_privacy_ranges
// exists: `db rollback` below 1.8.0 by another process may drop it while this one writes, and a
// failed statement would abort the surrounding write transaction.
std::string WhenPrivacyRangesExist(std::string_view sql) {
  return "DO $vk$ BEGIN IF to_regclass('telemetry_privacy_ranges') IS NOT NULL THEN " +
         std::string(sql) + "; END IF; END $vk$";
}

}  // namespace

void PgStore::SetIncomingPrivacy(std::string fingerprint) {
  std::lock_guard lock(writer_mu_);
  incoming_privacy_ = std::move(fingerprint);
}

Status PgStore::ApplyBatch(std::span<const Event> events, std::int64_t now_ms) {
  std::lock_guard lock(writer_mu_);
  last_batch_ids_ = {0, 0};
  std::pair<std::int64_t, std::int64_t> ids{0, 0};
  const Status txn_status = (InWriteTransaction([&](PgConn& db) {
    VK_RETURN_IF_ERROR(ApplyBatchLocked(db, events, now_ms));
    ids = last_batch_ids_;
    if (ids.first == 0) return Status::Ok();
    const std::string record =
        RecordPrivacyRangeSqlWithValues(incoming_privacy_, ids.first, ids.second);
    if (record.empty()) return Status::Ok();
    return db.Exec(WhenPrivacyRangesExist(record)).WithContext("record privacy range");
  }));
  VK_RETURN_IF_ERROR(txn_status);
  last_batch_ids_ = ids;
  data_version_.fetch_add(1, std::memory_order_release);
  return Status::Ok();
}

Status PgStore::ApplyBatchLocked(PgConn& db, std::span<const Event> events,
                                 std::int64_t now_ms) {
  std::vector<std::string_view> order;
  std::unordered_map<std::string_view, std::vector<const Event*>> by_session;
  for (const Event& e : events) {
    auto [it, inserted] = by_session.try_emplace(e.session_id);
    if (inserted) order.push_back(e.session_id);
    it->second.push_back(&e);
  }
  // The batch's sessions as they are now: one query.
  ArrayLiteral ids;
  for (std::string_view id : order) ids.Add(id);
  VK_ASSIGN_OR_RETURN(PgResult rows,
                      db.Query("SELECT " + std::string(kSessionColumns) +
                                   " FROM telemetry_sessions WHERE id = ANY($1::text[])",
                               PgParams().Add(ids.str())));
  std::unordered_map<std::string, Session> existing;
  for (int i = 0; i < rows.rows(); ++i) {
    Session s = ReadSession(rows, i);
    std::string key = s.id;
    existing.emplace(std::move(key), std::move(s));
  }
  RollupDelta delta;
  MinuteRollupDelta minutes;
  ArrayLiteral c[16];
  for (std::string_view id : order) {
    std::optional<Session> before;
    if (auto it = existing.find(std::string(id)); it != existing.end()) before = it->second;
    const auto& list = by_session[id];
    const Session merged = MergeSessionEvents(before, list, now_ms);
    SessionBefore prior{before, std::nullopt};
    if (before && before->stream_event_count > 0 &&
        std::any_of(list.begin(), list.end(),
                    [](const Event* e) { return e->event_type == EventType::kStream; })) {
      VK_ASSIGN_OR_RETURN(prior.last_stream_time, LastStreamTime(db, id));
    }
    minutes.AddSessionEvents(prior, list, merged);
    c[0].Add(std::string_view(merged.id));
    c[1].Add(std::string_view(merged.agent_type));
    c[2].Add(merged.mode);
    c[3].Add(SessionStatusName(merged.status));
    c[4].Add(merged.start_time);
    c[5].Add(merged.end_time);
    c[6].Add(merged.duration);
    c[7].Add(merged.event_count);
    c[8].Add(merged.stream_event_count);
    c[9].Add(merged.error_count);
    c[10].Add(merged.sandbox_id);
    c[11].Add(merged.repo_url);
    c[12].Add(merged.metadata);
    c[13].Add(merged.last_event_time);
    c[14].Add(merged.created_at);
    c[15].Add(merged.updated_at);
    delta.ReplaceSession(before, merged);
  }
  PgParams sp;
  for (const auto& a : c) sp.Add(a.str());
  VK_RETURN_IF_ERROR(db.Query(
      "INSERT INTO telemetry_sessions (id, agent_type, mode, status, start_time, end_time, "
      "duration, event_count, stream_event_count, error_count, sandbox_id, repo_url, metadata, "
      "last_event_time, created_at, updated_at) SELECT * FROM unnest($1::text[], $2::text[], "
      "$3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], "
      "$9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::bigint[], "
      "$15::bigint[], $16::bigint[]) "
      "ON CONFLICT (id) DO UPDATE SET agent_type = excluded.agent_type, mode = excluded.mode, "
      "status = excluded.status, start_time = excluded.start_time, end_time = excluded.end_time, "
      "duration = excluded.duration, event_count = excluded.event_count, "
      "stream_event_count = excluded.stream_event_count, error_count = excluded.error_count, "
      "sandbox_id = excluded.sandbox_id, repo_url = excluded.repo_url, "
      "metadata = excluded.metadata, last_event_time = excluded.last_event_time, "
      "updated_at = excluded.updated_at",
      sp).status().WithContext("write sessions"));

  // A block of consecutive ids (the writer lock keeps other writers out of the sequence), then
  // the rows by COPY with those ids.
  const auto n = static_cast<std::int64_t>(events.size());
  VK_ASSIGN_OR_RETURN(PgResult block, db.Query(
      "SELECT setval(pg_get_serial_sequence('telemetry_events', 'id'), "
      "nextval(pg_get_serial_sequence('telemetry_events', 'id')) + $1 - 1)",
      PgParams().Add(n)));
  const std::int64_t last_id = block.Int(0, 0);
  const std::int64_t first_id = last_id - n + 1;
  std::string data;
  std::string errors;
  std::int64_t id = first_id;
  const std::string now = std::to_string(now_ms);
  for (const Event& e : events) {
    data += std::to_string(id);
    data += '\t';
    AppendCopyText(data, e.session_id);
    data += '\t';
    data += EventTypeName(e.event_type);
    data += '\t';
    AppendCopyText(data, e.agent_type);
    data += '\t';
    CopyField(data, e.mode);
    data += '\t';
    CopyField(data, e.prompt);
    data += '\t';
    CopyField(data, e.stream_data);
    data += '\t';
    CopyField(data, e.sandbox_id);
    data += '\t';
    CopyField(data, e.repo_url);
    data += '\t';
    CopyField(data, e.metadata);
    data += '\t';
    data += std::to_string(e.timestamp);
    data += '\t';
    data += now;
    data += '\t';
    AppendSearchVector(data, e.prompt, e.stream_data);
    data += '\n';
    delta.AddEvent(e);
    if (e.event_type == EventType::kError) {
      ErrorDetails d = e.error.value_or(ErrorDetails{});
      if (d.message.empty()) d.message = e.stream_data.value_or("error");
      if (d.error_type.empty()) d.error_type = "error";
      AppendCopyText(errors, e.session_id);
      errors += '\t';
      errors += std::to_string(id);
      errors += '\t';
      AppendCopyText(errors, d.error_type);
      errors += '\t';
      AppendCopyText(errors, d.message);
      errors += '\t';
      CopyField(errors, d.stack);
      errors += '\t';
      CopyField(errors, d.context);
      errors += '\t';
      errors += ErrorSeverityName(d.severity);
      errors += '\t';
      CopyField(errors, e.metadata);
      errors += '\t';
      errors += std::to_string(e.timestamp);
      errors += '\t';
      errors += now;
      errors += '\n';
    }
    ++id;
  }
  VK_RETURN_IF_ERROR(db.CopyIn("COPY telemetry_events (id, session_id, event_type, agent_type, "
                               "mode, prompt, stream_data, sandbox_id, repo_url, metadata, "
                               "timestamp, created_at, search) FROM STDIN",
                               data)
                         .WithContext("insert events"));
  if (!errors.empty()) {
    VK_RETURN_IF_ERROR(db.CopyIn("COPY telemetry_errors (session_id, event_id, error_type, "
                                 "error_message, error_stack, context, severity, metadata, "
                                 "timestamp, created_at) FROM STDIN",
                                 errors)
                           .WithContext("insert errors"));
  }
  last_batch_ids_ = {first_id, last_id};
  VK_RETURN_IF_ERROR(ApplyMinuteRollups(db, minutes));
  return ApplyRollup(db, delta, now_ms);
}

Status PgStore::ApplyRollup(PgConn& db, const RollupDelta& delta, std::int64_t now_ms) {
  for (const auto& [key, c] : delta.rows()) {
    PgParams p;
    p.Add(key.first).Add(key.second).Add(c.total_events).Add(c.start_events)
        .Add(c.stream_events).Add(c.end_events).Add(c.error_events).Add(c.sessions)
        .Add(c.active_sessions).Add(c.completed_sessions).Add(c.failed_sessions)
        .Add(c.timeout_sessions).Add(c.sessions_with_errors).Add(c.duration_sum_ms)
        .Add(c.duration_count).Add(c.min_timestamp).Add(c.max_timestamp).Add(now_ms);
    VK_RETURN_IF_ERROR(db.Query(
        "INSERT INTO telemetry_stats AS t (stat_type, stat_key, total_events, start_events, "
        "stream_events, end_events, error_events, unique_sessions, active_sessions, "
        "completed_sessions, failed_sessions, timeout_sessions, sessions_with_errors, "
        "duration_sum, duration_count, avg_session_duration, min_timestamp, max_timestamp, "
        "computed_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
        "$13, $14::bigint, $15::bigint, CASE WHEN $15::bigint > 0 THEN $14::bigint * 1.0 / "
        "$15::bigint END, $16, $17, $18, $18) "
        "ON CONFLICT (stat_type, stat_key) DO UPDATE SET "
        "total_events = t.total_events + excluded.total_events, "
        "start_events = t.start_events + excluded.start_events, "
        "stream_events = t.stream_events + excluded.stream_events, "
        "end_events = t.end_events + excluded.end_events, "
        "error_events = t.error_events + excluded.error_events, "
        "unique_sessions = t.unique_sessions + excluded.unique_sessions, "
        "active_sessions = t.active_sessions + excluded.active_sessions, "
        "completed_sessions = t.completed_sessions + excluded.completed_sessions, "
        "failed_sessions = t.failed_sessions + excluded.failed_sessions, "
        "timeout_sessions = t.timeout_sessions + excluded.timeout_sessions, "
        "sessions_with_errors = t.sessions_with_errors + excluded.sessions_with_errors, "
        "duration_sum = t.duration_sum + excluded.duration_sum, "
        "duration_count = t.duration_count + excluded.duration_count, "
        "avg_session_duration = CASE WHEN t.duration_count + excluded.duration_count > 0 THEN "
        "(t.duration_sum + excluded.duration_sum) * 1.0 / "
        "(t.duration_count + excluded.duration_count) END, "
        "min_timestamp = least(t.min_timestamp, excluded.min_timestamp), "
        "max_timestamp = greatest(t.max_timestamp, excluded.max_timestamp), "
        "updated_at = excluded.updated_at",
        p).status().WithContext("update rollup"));
  }
  return db.Query(
      "UPDATE telemetry_stats SET "
      "agent_breakdown = (SELECT jsonb_object_agg(stat_key, total_events) FROM telemetry_stats "
      "WHERE stat_type = 'agent'), "
      "mode_breakdown = (SELECT jsonb_object_agg(stat_key, total_events) FROM telemetry_stats "
      "WHERE stat_type = 'mode'), computed_at = $1 "
      "WHERE stat_type = 'global' AND stat_key = 'all'",
      PgParams().Add(now_ms)).status().WithContext("update rollup breakdowns");
}

Result<std::int64_t> PgStore::MarkTimedOutSessions(std::int64_t silent_before_ms,
                                                   std::int64_t now_ms) {
  std::lock_guard lock(writer_mu_);
  std::int64_t count = 0;
  const Status txn_status = (InWriteTransaction([&](PgConn& db) -> Status {
    VK_ASSIGN_OR_RETURN(PgResult r, db.Query(
        "SELECT " + std::string(kSessionColumns) + " FROM telemetry_sessions "
        "WHERE status = 'active' AND last_event_time < $1 LIMIT 5000",
        PgParams().Add(silent_before_ms)));
    RollupDelta delta;
    MinuteRollupDelta minutes;
    ArrayLiteral ids;
    ArrayLiteral durations;
    for (int i = 0; i < r.rows(); ++i) {
      const Session s = ReadSession(r, i);
      const Session t = TimedOut(s, now_ms);
      minutes.ReplaceSession(s, t);
      ids.Add(std::string_view(t.id));
      durations.Add(t.duration);
      delta.ReplaceSession(s, t);
    }
    count = r.rows();
    if (count == 0) return Status::Ok();
    VK_RETURN_IF_ERROR(db.Query(
        "UPDATE telemetry_sessions s SET status = 'timeout', duration = u.duration, "
        "updated_at = $3 FROM unnest($1::text[], $2::bigint[]) AS u(id, duration) "
        "WHERE s.id = u.id",
        PgParams().Add(ids.str()).Add(durations.str()).Add(now_ms)).status());
    VK_RETURN_IF_ERROR(ApplyRollup(db, delta, now_ms));
    return ApplyMinuteRollups(db, minutes);
  }).WithContext("timeout sweep"));
  VK_RETURN_IF_ERROR(txn_status);
  data_version_.fetch_add(1, std::memory_order_release);
  return count;
}

Status PgStore::RefreshRollupBounds(PgConn& db, const std::vector<std::string>& agents,
                                    std::int64_t now_ms) {
  VK_RETURN_IF_ERROR(db.Query(
      "UPDATE telemetry_stats SET min_timestamp = (SELECT min(timestamp) FROM telemetry_events), "
      "max_timestamp = (SELECT max(timestamp) FROM telemetry_events), updated_at = $1 "
      "WHERE stat_type = 'global'",
      PgParams().Add(now_ms)).status());
  for (const std::string& agent : agents) {
    VK_RETURN_IF_ERROR(db.Query(
        "UPDATE telemetry_stats SET "
        "min_timestamp = (SELECT min(timestamp) FROM telemetry_events WHERE agent_type = $1), "
        "max_timestamp = (SELECT max(timestamp) FROM telemetry_events WHERE agent_type = $1), "
        "updated_at = $2 WHERE stat_type = 'agent' AND stat_key = $1",
        PgParams().Add(agent).Add(now_ms)).status());
  }
  return db.Exec(
      "DELETE FROM telemetry_stats WHERE stat_type <> 'global' AND total_events = 0 AND "
      "unique_sessions = 0");
}

Result<CleanupResult> PgStore::DeleteSessions(const DeleteSelector& selector,
                                              std::int64_t now_ms) {
  std::lock_guard lock(writer_mu_);
  CleanupResult result;
  const Status txn_status = (InWriteTransaction([&](PgConn& db) -> Status {
    std::string sql = "SELECT " + std::string(kSessionColumns) + " FROM telemetry_sessions ";
    PgParams p;
    if (selector.kind == DeleteSelector::Kind::kInactiveBefore) {
      sql += "WHERE coalesce(last_event_time, start_time) < $1 ORDER BY last_event_time "
             "LIMIT $2";
      p.Add(selector.cutoff_ms);
    } else {
      sql += "ORDER BY start_time, id LIMIT $1";
    }
    p.Add(selector.limit);
    VK_ASSIGN_OR_RETURN(PgResult victims, db.Query(sql, p));
    if (victims.rows() == 0) return Status::Ok();
    RollupDelta delta;
    MinuteRollupDelta minutes;  // the sessions' contributions; their events' minutes are trimmed
    std::vector<std::string> agents;
    ArrayLiteral ids;
    std::string ids_json = "[";
    for (int i = 0; i < victims.rows(); ++i) {
      const Session s = ReadSession(victims, i);
      ids.Add(std::string_view(s.id));
      delta.AddSession(s, -1);
      minutes.AddSession(s, -1);
      if (ids_json.size() > 1) ids_json += ',';
      internal::AppendJsonString(ids_json, s.id);
      ++result.sessions_removed;
    }
    ids_json += ']';
    const std::string id_array = ids.str();
    VK_ASSIGN_OR_RETURN(PgResult counts, db.Query(
        "SELECT agent_type, coalesce(mode, ''), event_type, count(*) FROM telemetry_events "
        "WHERE session_id = ANY($1::text[]) GROUP BY 1, 2, 3",
        PgParams().Add(id_array)));
    for (int i = 0; i < counts.rows(); ++i) {
      auto type = ParseEventType(counts.TextView(i, 2));
      const std::string agent = counts.Text(i, 0);
      delta.RemoveEvents(agent, counts.Text(i, 1), type.ok() ? *type : EventType::kStream,
                         counts.Int(i, 3));
      result.events_removed += counts.Int(i, 3);
      if (std::find(agents.begin(), agents.end(), agent) == agents.end()) agents.push_back(agent);
    }
    for (const char* table : {"telemetry_errors", "telemetry_events"}) {
      VK_RETURN_IF_ERROR(db.Query("DELETE FROM " + std::string(table) +
                                      " WHERE session_id = ANY($1::text[])",
                                  PgParams().Add(id_array)).status());
    }
    VK_RETURN_IF_ERROR(db.Query("DELETE FROM telemetry_sessions WHERE id = ANY($1::text[])",
                                PgParams().Add(id_array)).status());
    VK_RETURN_IF_ERROR(ApplyRollup(db, delta, now_ms));
    VK_RETURN_IF_ERROR(RefreshRollupBounds(db, agents, now_ms));
    VK_RETURN_IF_ERROR(ApplyMinuteRollups(db, minutes));
    VK_RETURN_IF_ERROR(TrimMinuteRollups(db));
    const std::string meta = "{\"sessions\":" + std::to_string(result.sessions_removed) +
                             ",\"events\":" + std::to_string(result.events_removed) +
                             ",\"cutoff\":" + std::to_string(selector.cutoff_ms) + "}";
    return db.Query(
        "INSERT INTO telemetry_audit_log (table_name, record_id, operation, old_values, "
        "changed_fields, reason, metadata, timestamp, created_at) "
        "VALUES ('telemetry_sessions', NULL, 'DELETE', $1, NULL, $2, $3, $4, $4)",
        PgParams().Add(ids_json).Add(selector.reason).Add(meta).Add(now_ms))
        .status()
        .WithContext("audit retention");
  }).WithContext("retention"));
  VK_RETURN_IF_ERROR(txn_status);
  if (result.sessions_removed > 0) data_version_.fetch_add(1, std::memory_order_release);
  return result;
}

Status PgStore::RecordDeadLetter(std::span<const Event> events, const Status& error,
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
  if (!writer_->healthy()) VK_RETURN_IF_ERROR(writer_->Reset());
  return writer_->Query(
      "INSERT INTO telemetry_buffers (session_id, status, event_count, buffer_data, max_size, "
      "created_at, last_updated, flush_attempts) VALUES ($1, 'failed', $2, $3, $2, $4, $4, 1)",
      PgParams().Add(events.empty() ? std::string_view() : std::string_view(events[0].session_id))
          .Add(static_cast<std::int64_t>(events.size())).Add(data).Add(now_ms))
      .status()
      .WithContext("record dead letter");
}

Status PgStore::ReclaimSpace() {
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  if (!writer_->healthy()) VK_RETURN_IF_ERROR(writer_->Reset());
  // Plain VACUUM makes the space of deleted rows reusable and trims empty pages at the end of
  // each table (PostgreSQL has no write-ahead log of ours to truncate).
  return writer_->Exec(
      "VACUUM telemetry_events, telemetry_sessions, telemetry_errors, telemetry_audit_log")
      .WithContext("reclaim space");
}

namespace {
constexpr std::string_view kOwnTablesBytes =
    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'r' AND n.nspname = current_schema() AND c.relname LIKE 'telemetry%'";
}  // namespace

Result<std::int64_t> PgStore::OwnTablesBytes(PgConn& db) {
  VK_ASSIGN_OR_RETURN(PgResult r, db.Query(std::string(kOwnTablesBytes)));
  return r.Int(0, 0);
}

Result<std::int64_t> PgStore::UsedBytes() {
  VK_ASSIGN_OR_RETURN(PgResult r, Read(std::string(kOwnTablesBytes)));
  return r.Int(0, 0);
}

// --- reads -------------------------------------------------------------------------------------

Result<std::vector<Event>> PgStore::QueryEvents(const EventQueryFilter& f) {
  const bool desc = f.order == SortOrder::kDesc;
  std::string sql = "SELECT " + std::string(kEventColumns) + " FROM telemetry_events WHERE true";
  PgParams p;
  int n = 0;
  auto arg = [&n]() { return "$" + std::to_string(++n); };
  if (f.contains && !f.contains->empty()) {
    const std::string q = TsQuery(*f.contains);
    if (!q.empty()) {
      // The text index narrows (texts too long to index have no vector and are always checked).
      sql += " AND (search @@ to_tsquery('simple', " + arg() + ") OR search IS NULL)";
      p.Add(q);
    }
    // The exact check, ASCII case-insensitive like SQLite's lower().
    const std::string lowered = AsciiLower(*f.contains);
    const std::string needle = arg();
    sql += " AND (strpos(lower(prompt COLLATE \"C\"), " + needle +
           ") > 0 OR strpos(lower(stream_data COLLATE \"C\"), " + needle + ") > 0)";
    p.Add(lowered);
    // Texts without a vector: the match must start a word, as the index would require.
    if (const std::string re = WordStartPattern(lowered); !q.empty() && !re.empty()) {
      const std::string pattern = arg();
      sql += " AND (search IS NOT NULL OR lower(prompt COLLATE \"C\") ~ " + pattern +
             " OR lower(stream_data COLLATE \"C\") ~ " + pattern + ")";
      p.Add(re);
    }
  }
  if (f.session_id) {
    sql += " AND session_id = " + arg();
    p.Add(*f.session_id);
  }
  if (f.event_type) {
    sql += " AND event_type = " + arg();
    p.Add(EventTypeName(*f.event_type));
  }
  if (f.agent_type) {
    sql += " AND agent_type = " + arg();
    p.Add(*f.agent_type);
  }
  if (f.mode) {
    sql += " AND mode = " + arg();
    p.Add(*f.mode);
  }
  if (f.from_time) {
    sql += " AND timestamp >= " + arg();
    p.Add(*f.from_time);
  }
  if (f.to_time) {
    sql += " AND timestamp <= " + arg();
    p.Add(*f.to_time);
  }
  if (f.after_id) {
    sql += " AND id > " + arg();
    p.Add(*f.after_id);
  }
  sql += desc ? " ORDER BY timestamp DESC, id DESC" : " ORDER BY timestamp ASC, id ASC";
  sql += " LIMIT " + arg();
  p.Add(f.limit);
  sql += " OFFSET " + arg();
  p.Add(f.offset);
  VK_ASSIGN_OR_RETURN(PgResult r, Read(sql, p));
  std::vector<Event> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(ReadEvent(r, i));
  return out;
}

namespace {

std::string SessionConditions(const SessionQueryFilter& f, PgParams& p, int& n) {
  auto arg = [&n]() { return "$" + std::to_string(++n); };
  std::string sql;
  if (f.status) {
    sql += " AND status = " + arg();
    p.Add(SessionStatusName(*f.status));
  }
  if (f.agent_type) {
    sql += " AND agent_type = " + arg();
    p.Add(*f.agent_type);
  }
  if (f.mode) {
    sql += " AND mode = " + arg();
    p.Add(*f.mode);
  }
  if (f.from_time) {
    sql += " AND start_time >= " + arg();
    p.Add(*f.from_time);
  }
  if (f.to_time) {
    sql += " AND start_time <= " + arg();
    p.Add(*f.to_time);
  }
  if (f.search && !f.search->empty()) {
    // A plain substring, ASCII case-insensitive (LIKE would give '%' and '_' a meaning).
    const std::string a = arg();
    sql += " AND (strpos(lower(id COLLATE \"C\"), lower(" + a + " COLLATE \"C\")) > 0 OR "
           "strpos(lower(coalesce(repo_url, '') COLLATE \"C\"), lower(" + a +
           " COLLATE \"C\")) > 0 OR strpos(lower(coalesce(sandbox_id, '') COLLATE \"C\"), lower(" +
           a + " COLLATE \"C\")) > 0)";
    p.Add(*f.search);
  }
  return sql;
}

}  // namespace

Result<std::int64_t> PgStore::CountSessions(const SessionQueryFilter& f) {
  PgParams p;
  int n = 0;
  const std::string sql =
      "SELECT count(*) FROM telemetry_sessions WHERE true" + SessionConditions(f, p, n);
  VK_ASSIGN_OR_RETURN(PgResult r, Read(sql, p));
  return r.Int(0, 0);
}

Result<std::vector<AgentModeCounts>> PgStore::AgentBreakdown() {
  VK_ASSIGN_OR_RETURN(PgResult r, Read(
      "SELECT agent_type, mode, count(*), sum(event_count), sum(error_count) FROM "
      "telemetry_sessions GROUP BY agent_type, mode "
      "ORDER BY count(*) DESC, agent_type COLLATE \"C\", mode COLLATE \"C\" NULLS FIRST"));
  std::vector<AgentModeCounts> out;
  for (int i = 0; i < r.rows(); ++i) {
    AgentModeCounts c;
    c.agent_type = r.Text(i, 0);
    c.mode = r.OptText(i, 1);
    c.sessions = r.Int(i, 2);
    c.events = r.Int(i, 3);
    c.errors = r.Int(i, 4);
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<Session>> PgStore::QuerySessions(const SessionQueryFilter& f) {
  PgParams p;
  int n = 0;
  std::string sql = "SELECT " + std::string(kSessionColumns) +
                    " FROM telemetry_sessions WHERE true" + SessionConditions(f, p, n);
  sql += f.order == SortOrder::kAsc ? " ORDER BY start_time ASC, id COLLATE \"C\" ASC"
                                    : " ORDER BY start_time DESC, id COLLATE \"C\" DESC";
  sql += " LIMIT $" + std::to_string(n + 1) + " OFFSET $" + std::to_string(n + 2);
  p.Add(f.limit).Add(f.offset);
  VK_ASSIGN_OR_RETURN(PgResult r, Read(sql, p));
  std::vector<Session> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(ReadSession(r, i));
  return out;
}

Result<std::optional<Session>> PgStore::GetSession(std::string_view id) {
  VK_ASSIGN_OR_RETURN(PgResult r, Read("SELECT " + std::string(kSessionColumns) +
                                           " FROM telemetry_sessions WHERE id = $1",
                                       PgParams().Add(id)));
  std::optional<Session> out;
  if (r.rows() > 0) out = ReadSession(r, 0);
  return out;
}

Result<SessionStats> PgStore::GetSessionStats(std::string_view id) {
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
  VK_ASSIGN_OR_RETURN(PgResult r, Read(
      "SELECT min(CASE WHEN event_type = 'stream' THEN timestamp END), "
      "coalesce(sum(octet_length(stream_data)), 0) FROM telemetry_events WHERE session_id = $1",
      PgParams().Add(id)));
  if (r.rows() > 0) {
    if (auto first = r.OptInt(0, 0)) st.time_to_first_stream_ms = *first - st.start_time;
    st.stream_bytes = r.Int(0, 1);
  }
  return st;
}

Result<std::vector<ErrorRecord>> PgStore::GetSessionErrors(std::string_view id) {
  VK_ASSIGN_OR_RETURN(PgResult r, Read("SELECT " + std::string(kErrorColumns) +
                                           " FROM telemetry_errors WHERE session_id = $1 "
                                           "ORDER BY timestamp, id",
                                       PgParams().Add(id)));
  std::vector<ErrorRecord> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(ReadErrorRecord(r, i));
  return out;
}

Result<AggregateStats> PgStore::GetAggregateStats() {
  VK_ASSIGN_OR_RETURN(PgResult r, Read("SELECT " + std::string(kStatColumns) +
                                       ", computed_at FROM telemetry_stats"));
  AggregateStats out;
  for (int i = 0; i < r.rows(); ++i) {
    const std::string_view type = r.TextView(i, 0);
    RollupCounts c = ReadCounts(r, i);
    if (type == "global") {
      out.total = c;
      out.computed_at = r.Int(i, 17);
    } else if (type == "agent") {
      out.by_agent[r.Text(i, 1)] = c;
    } else if (type == "mode") {
      out.by_mode[r.Text(i, 1)] = c;
    }
  }
  FillRates(out);
  return out;
}

std::vector<ValidationRule> ValidationRulesFromResult(const PgResult& r) {
  std::vector<ValidationRule> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back(ValidationRuleFromRow(r.Int(i, 0), r.Text(i, 1), r.Text(i, 2), r.Text(i, 3),
                                        r.Text(i, 4), r.Text(i, 5), r.Int(i, 6) != 0,
                                        r.Int(i, 7), r.Int(i, 8), r.Int(i, 9)));
  }
  return out;
}

Result<std::vector<ValidationRule>> PgStore::ReadValidationRules() {
  VK_ASSIGN_OR_RETURN(PgResult r, Read(kValidationRulesQuery));
  return ValidationRulesFromResult(r);
}

Result<std::vector<SchemaVersion>> PgStore::SchemaVersions() {
  VK_ASSIGN_OR_RETURN(PgResult r, Read(
      "SELECT version, coalesce(description, ''), applied_at, is_active "
      "FROM telemetry_schema_versions ORDER BY id"));
  std::vector<SchemaVersion> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.Text(i, 0), r.Text(i, 1), r.Int(i, 2), r.Int(i, 3) != 0});
  }
  return out;
}

Result<StoreHealth> PgStore::CheckHealth(bool quick_check) {
  StoreHealth h;
  if (quick_check) {
    // PostgreSQL checks its pages itself (checksums, WAL); what can be asked cheaply is that
    // every table of ours answers and the indexes are valid.
    VK_ASSIGN_OR_RETURN(PgResult bad, Read(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE n.nspname = current_schema() AND t.relname LIKE 'telemetry%' "
        "AND NOT (i.indisvalid AND i.indisready) LIMIT 1"));
    h.quick_check = bad.rows() == 0 ? "ok" : "invalid index " + bad.Text(0, 0);
  } else {
    h.quick_check = "skipped";
  }
  // The database of this store is its tables (one PostgreSQL database may hold several
  // schemas, and its server's WAL and catalog are not ours): their total size, indexes and
  // TOAST included, is the size reported (labelled as the database's size, not a file's).
  VK_ASSIGN_OR_RETURN(h.used_bytes, UsedBytes());
  h.file_size_bytes = h.used_bytes;
  h.wal_size_bytes = 0;
  VK_ASSIGN_OR_RETURN(PgResult r, Read(
      "SELECT (SELECT coalesce(min(timestamp), 0) FROM telemetry_events), "
      "(SELECT count(*) FROM telemetry_buffers WHERE status = 'failed')"));
  h.oldest_event_time = r.Int(0, 0);
  h.dead_letter_batches = r.Int(0, 1);
  std::lock_guard lock(pool_mu_);
  h.connections_active = readers_active_ + 1;
  h.connections_total = readers_total_ + 1;
  return h;
}

// --- maintenance -------------------------------------------------------------------------------

Result<MaintenanceReport> PgStore::Optimize(bool rebuild_indexes) {
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  if (!writer_->healthy()) VK_RETURN_IF_ERROR(writer_->Reset());
  const std::int64_t start = internal::SteadyMicros();
  MaintenanceReport r;
  r.backend = "postgres";
  VK_ASSIGN_OR_RETURN(r.file_size_before_bytes, OwnTablesBytes(*writer_));
  VK_ASSIGN_OR_RETURN(PgResult own, writer_->Query(std::string(kOwnTables)));
  const std::string own_tables = own.Text(0, 0);
  auto step = [&](std::string name, std::string detail, const std::string& sql) -> Status {
    const std::int64_t t0 = internal::SteadyMicros();
    VK_RETURN_IF_ERROR(writer_->Exec(sql).WithContext(name));
    r.steps.push_back({std::move(name), std::move(detail), MsSinceMicros(t0)});
    return Status::Ok();
  };
  // Only this store's tables: the database may hold other schemas (other stores, other tools).
  VK_RETURN_IF_ERROR(step("analyze", "ANALYZE: planner statistics of every telemetry table",
                          "ANALYZE " + own_tables));
  if (rebuild_indexes) {
    VK_ASSIGN_OR_RETURN(PgResult tables, writer_->Query(
        "SELECT t.relname, count(*) FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = current_schema() "
        "AND t.relname LIKE 'telemetry%' GROUP BY 1 ORDER BY 1"));
    for (int i = 0; i < tables.rows(); ++i) {
      const std::string table = tables.Text(i, 0);
      const std::int64_t n = tables.Int(i, 1);
      VK_RETURN_IF_ERROR(step("reindex",
                              table + " (" + std::to_string(n) + (n == 1 ? " index)" : " indexes)"),
                              "REINDEX TABLE \"" + table + "\""));
    }
  }
  VK_ASSIGN_OR_RETURN(r.file_size_after_bytes, OwnTablesBytes(*writer_));
  r.total_ms = MsSinceMicros(start);
  return r;
}

Result<MaintenanceReport> PgStore::Vacuum(bool analyze) {
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  if (!writer_->healthy()) VK_RETURN_IF_ERROR(writer_->Reset());
  const std::int64_t start = internal::SteadyMicros();
  MaintenanceReport r;
  r.backend = "postgres";
  // Sizes: this store's tables with their indexes and TOAST (pg_total_relation_size); there is
  // no file or WAL of ours to measure.
  VK_ASSIGN_OR_RETURN(r.file_size_before_bytes, OwnTablesBytes(*writer_));
  VK_ASSIGN_OR_RETURN(PgResult own, writer_->Query(std::string(kOwnTables)));
  const std::string tables = own.Text(0, 0);
  // One statement over this store's tables only (a plain VACUUM would walk every table of the
  // database, other schemas included). Not VACUUM FULL: that rewrites each table under an
  // exclusive lock, blocking the other processes' reads and writes for the whole rewrite.
  const std::int64_t t0 = internal::SteadyMicros();
  VK_RETURN_IF_ERROR(
      writer_->Exec(std::string(analyze ? "VACUUM (ANALYZE) " : "VACUUM ") + tables)
          .WithContext("vacuum"));
  r.steps.push_back({"vacuum",
                     std::string(analyze ? "VACUUM (ANALYZE)" : "VACUUM") +
                         ": space of deleted rows made reusable, empty tail pages returned" +
                         (analyze ? ", planner statistics refreshed" : ""),
                     MsSinceMicros(t0)});
  VK_ASSIGN_OR_RETURN(r.file_size_after_bytes, OwnTablesBytes(*writer_));
  r.total_ms = MsSinceMicros(start);
  return r;
}

Result<CleanupResult> PgStore::DeleteAll(std::string_view reason, std::int64_t now_ms) {
  std::lock_guard lock(writer_mu_);
  CleanupResult result;
  const Status txn_status = (InWriteTransaction([&](PgConn& db) -> Status {
    VK_ASSIGN_OR_RETURN(PgResult c, db.Query(
        "SELECT (SELECT count(*) FROM telemetry_sessions), (SELECT count(*) FROM "
        "telemetry_events), (SELECT count(*) FROM telemetry_errors), (SELECT count(*) FROM "
        "telemetry_buffers)"));
    result.sessions_removed = c.Int(0, 0);
    result.events_removed = c.Int(0, 1);
    VK_RETURN_IF_ERROR(db.Exec(
        "DELETE FROM telemetry_errors; DELETE FROM telemetry_events; "
        "DELETE FROM telemetry_sessions; DELETE FROM telemetry_buffers; "
        "DELETE FROM telemetry_stats; DELETE FROM telemetry_minute_rollups; "
        "DELETE FROM telemetry_period_rollups;").WithContext("clear telemetry"));
    const std::string meta = "{\"all\":true,\"sessions\":" + std::to_string(c.Int(0, 0)) +
                             ",\"events\":" + std::to_string(c.Int(0, 1)) +
                             ",\"errors\":" + std::to_string(c.Int(0, 2)) +
                             ",\"buffers\":" + std::to_string(c.Int(0, 3)) + "}";
    return db.Query(
        "INSERT INTO telemetry_audit_log (table_name, record_id, operation, old_values, "
        "changed_fields, reason, metadata, timestamp, created_at) "
        "VALUES ('telemetry_sessions', NULL, 'DELETE', NULL, NULL, $1, $2, $3, $3)",
        PgParams().Add(reason).Add(meta).Add(now_ms)).status().WithContext("audit clear");
  }).WithContext("clear"));
  VK_RETURN_IF_ERROR(txn_status);
  data_version_.fetch_add(1, std::memory_order_release);
  return result;
}

Result<Store::PlannerState> PgStore::GetPlannerState() {
  VK_ASSIGN_OR_RETURN(PgResult r, Read(
      "SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = current_schema() AND "
      "relname LIKE 'telemetry%' AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)"));
  PlannerState p;
  p.statistics = r.Int(0, 0) > 0;
  p.fts_segments = -1;  // a GIN index has no segments to merge
  p.fts_data_rows = 0;
  return p;
}

// --- alerts ------------------------------------------------------------------------------------

Result<std::int64_t> PgStore::InsertAlert(const AlertRecord& alert) {
  if (alert.direction != "above" && alert.direction != "below") {
    return Status::InvalidArgument("alert direction must be above or below");
  }
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  if (!writer_->healthy()) VK_RETURN_IF_ERROR(writer_->Reset());
  PgParams p;
  p.Add(alert.metric).Add(alert.value).Add(alert.threshold).Add(alert.direction)
      .Add(alert.severity).Add(alert.message).Add(alert.fired_at).Add(alert.resolved_at);
  if (alert.resolved_value) {
    p.Add(*alert.resolved_value);
  } else {
    p.AddNull();
  }
  VK_ASSIGN_OR_RETURN(PgResult r, writer_->Query(
      "INSERT INTO telemetry_alerts (metric, value, threshold, direction, severity, message, "
      "fired_at, resolved_at, resolved_value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
      "RETURNING id", p));
  return r.Int(0, 0);
}

Status PgStore::ResolveAlert(std::int64_t id, std::int64_t resolved_at, double resolved_value) {
  std::lock_guard lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  if (!writer_->healthy()) VK_RETURN_IF_ERROR(writer_->Reset());
  VK_ASSIGN_OR_RETURN(PgResult r, writer_->Query(
      "UPDATE telemetry_alerts SET resolved_at = $2, resolved_value = $3 WHERE id = $1",
      PgParams().Add(id).Add(resolved_at).Add(resolved_value)));
  if (r.affected() == 0) return Status::NotFound("no alert " + std::to_string(id));
  return Status::Ok();
}

Result<std::vector<AlertRecord>> PgStore::ReadAlerts(int limit) {
  VK_ASSIGN_OR_RETURN(PgResult r, Read(
      "SELECT id, metric, value, threshold, direction, severity, message, fired_at, resolved_at, "
      "resolved_value FROM (SELECT * FROM telemetry_alerts ORDER BY id DESC LIMIT $1) a "
      "ORDER BY id",
      PgParams().Add(static_cast<std::int64_t>(limit))));
  std::vector<AlertRecord> out;
  for (int i = 0; i < r.rows(); ++i) {
    AlertRecord a;
    a.id = r.Int(i, 0);
    a.metric = r.Text(i, 1);
    a.value = r.Double(i, 2);
    a.threshold = r.Double(i, 3);
    a.direction = r.Text(i, 4);
    a.severity = r.Text(i, 5);
    a.message = r.Text(i, 6);
    a.fired_at = r.Int(i, 7);
    a.resolved_at = r.OptInt(i, 8);
    a.resolved_value = r.OptDouble(i, 9);
    out.push_back(std::move(a));
  }
  return out;
}

// --- analytics rollups -------------------------------------------------------------------------

Result<std::vector<MinuteRow>> PgStore::ReadMinuteRollups(std::int64_t from_ms,
                                                          std::int64_t to_ms) {
  for (int attempt = 0;; ++attempt) {
    VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
    auto rows = ReadMinuteRows(*reader, from_ms, to_ms);
    if (rows.ok() || reader->healthy() || attempt > 0) return rows;
  }
}

Result<std::vector<MinuteRow>> PgStore::ReadPeriodRollups(std::int64_t period_ms,
                                                          std::int64_t from_ms,
                                                          std::int64_t to_ms) {
  if (period_ms != kHourMs && period_ms != kDayMs) {
    return Status::InvalidArgument("rollup periods are hours and days");
  }
  for (int attempt = 0;; ++attempt) {
    VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
    auto rows = ReadPeriodRows(*reader, period_ms, from_ms, to_ms);
    if (rows.ok() || reader->healthy() || attempt > 0) return rows;
  }
}

Result<std::array<std::int64_t, 24>> PgStore::EventsByHourOfDay(std::int64_t from_ms,
                                                                std::int64_t to_ms) {
  VK_ASSIGN_OR_RETURN(PgResult r, Read(
      "SELECT ((start / 3600000) % 24)::bigint, sum(events) FROM telemetry_period_rollups "
      "WHERE period_ms = 3600000 AND start >= $1 AND start < $2 GROUP BY 1",
      PgParams().Add(from_ms).Add(to_ms)));
  std::array<std::int64_t, 24> out{};
  for (int i = 0; i < r.rows(); ++i) {
    const std::int64_t h = r.Int(i, 0);
    if (h >= 0 && h < 24) out[static_cast<std::size_t>(h)] += r.Int(i, 1);
  }
  return out;
}

// --- snapshots ---------------------------------------------------------------------------------

Status PgStore::InSnapshot(const std::function<Status(PgConn&)>& body) {
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  if (!reader->healthy()) VK_RETURN_IF_ERROR(reader->Reset());
  VK_RETURN_IF_ERROR(reader->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  Status st = body(*reader);
  if (reader->healthy()) {
    Status end = reader->Exec(st.ok() ? "COMMIT" : "ROLLBACK");
    if (st.ok()) st = end;
  }
  return st;
}

// --- range statistics --------------------------------------------------------------------------

Result<AggregateStats> PgStore::AggregateStatsBetween(std::int64_t from_ms, std::int64_t to_ms) {
  AggregateStats out;
  out.computed_at = clock_.NowMs();
  auto rows_for = [&out](const std::string& agent, const std::string& mode) {
    return std::array<RollupCounts*, 3>{&out.total, &out.by_agent[agent], &out.by_mode[mode]};
  };
  auto widen = [](RollupCounts& c, std::int64_t lo, std::int64_t hi) {
    c.min_timestamp = c.min_timestamp ? std::min(*c.min_timestamp, lo) : lo;
    c.max_timestamp = c.max_timestamp ? std::max(*c.max_timestamp, hi) : hi;
  };
  const Status snap = InSnapshot([&](PgConn& db) -> Status {
    VK_ASSIGN_OR_RETURN(PgResult ev, db.Query(
        "SELECT agent_type, coalesce(mode, ''), event_type, count(*), min(timestamp), "
        "max(timestamp) FROM telemetry_events WHERE timestamp >= $1 AND timestamp <= $2 "
        "GROUP BY 1, 2, 3",
        PgParams().Add(from_ms).Add(to_ms)));
    for (int i = 0; i < ev.rows(); ++i) {
      auto type = ParseEventType(ev.TextView(i, 2));
      const std::int64_t n = ev.Int(i, 3);
      for (RollupCounts* c : rows_for(ev.Text(i, 0), ev.Text(i, 1))) {
        c->total_events += n;
        switch (type.ok() ? *type : EventType::kStream) {
          case EventType::kStart: c->start_events += n; break;
          case EventType::kStream: c->stream_events += n; break;
          case EventType::kEnd: c->end_events += n; break;
          case EventType::kError: c->error_events += n; break;
        }
        widen(*c, ev.Int(i, 4), ev.Int(i, 5));
      }
    }
    VK_ASSIGN_OR_RETURN(PgResult ss, db.Query(
        "SELECT agent_type, coalesce(mode, ''), status, count(*), "
        "count(*) FILTER (WHERE error_count > 0), coalesce(sum(duration), 0), count(duration) "
        "FROM telemetry_sessions WHERE start_time >= $1 AND start_time <= $2 GROUP BY 1, 2, 3",
        PgParams().Add(from_ms).Add(to_ms)));
    for (int i = 0; i < ss.rows(); ++i) {
      auto status = ParseSessionStatus(ss.TextView(i, 2));
      const std::int64_t n = ss.Int(i, 3);
      for (RollupCounts* c : rows_for(ss.Text(i, 0), ss.Text(i, 1))) {
        c->sessions += n;
        switch (status.ok() ? *status : SessionStatus::kActive) {
          case SessionStatus::kActive: c->active_sessions += n; break;
          case SessionStatus::kCompleted: c->completed_sessions += n; break;
          case SessionStatus::kFailed: c->failed_sessions += n; break;
          case SessionStatus::kTimeout: c->timeout_sessions += n; break;
        }
        c->sessions_with_errors += ss.Int(i, 4);
        c->duration_sum_ms += ss.Int(i, 5);
        c->duration_count += ss.Int(i, 6);
      }
    }
    return Status::Ok();
  });
  VK_RETURN_IF_ERROR(snap);
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

Result<SessionPercentiles> PgStore::SessionPercentilesBetween(std::int64_t from_ms,
                                                              std::int64_t to_ms) {
  SessionPercentiles out;
  // Nearest rank, exact: the value at 1-based rank ceil(P * n / 100) in ascending order.
  auto compute = [&](PgConn& db, const std::string& where, const std::string& column,
                     PercentileSet* set) -> Status {
    VK_ASSIGN_OR_RETURN(PgResult count,
                        db.Query("SELECT count(*) FROM telemetry_sessions WHERE " + where,
                                 PgParams().Add(from_ms).Add(to_ms)));
    set->count = count.Int(0, 0);
    if (set->count == 0) return Status::Ok();
    for (auto [p, slot] : {std::pair{50, &set->p50}, std::pair{90, &set->p90},
                           std::pair{95, &set->p95}, std::pair{99, &set->p99}}) {
      const std::int64_t rank = (p * set->count + 99) / 100;
      VK_ASSIGN_OR_RETURN(PgResult at, db.Query(
          "SELECT " + column + " FROM telemetry_sessions WHERE " + where + " ORDER BY " + column +
              " LIMIT 1 OFFSET $3",
          PgParams().Add(from_ms).Add(to_ms).Add(rank - 1)));
      if (at.rows() > 0) *slot = at.Int(0, 0);
    }
    return Status::Ok();
  };
  const Status snap = InSnapshot([&](PgConn& db) -> Status {
    VK_RETURN_IF_ERROR(compute(db,
                               "start_time >= $1 AND start_time <= $2 AND status IN "
                               "('completed', 'failed') AND duration IS NOT NULL",
                               "duration", &out.duration_ms));
    return compute(db, "start_time >= $1 AND start_time <= $2", "event_count",
                   &out.events_per_session);
  });
  VK_RETURN_IF_ERROR(snap);
  return out;
}

// --- live delivery outbox ----------------------------------------------------------------------

Status PgStore::EnsureDeliveryState(std::int64_t now_ms) {
  std::lock_guard lock(writer_mu_);
  const Status txn_status = InWriteTransaction([&](PgConn& db) {
    return db.Query(
        "INSERT INTO telemetry_delivery_state (id, event_cursor, created_at, updated_at) "
        "VALUES (1, (SELECT coalesce(max(id), 0) FROM telemetry_events), $1, $1) "
        "ON CONFLICT (id) DO NOTHING",
        PgParams().Add(now_ms)).status();
  });
  return txn_status.WithContext("create delivery state");
}

Result<DeliveryState> PgStore::GetDeliveryState() {
  DeliveryState d;
  const Status snap = InSnapshot([&](PgConn& db) -> Status {
    VK_ASSIGN_OR_RETURN(PgResult r, db.Query(
        "SELECT event_cursor, events_sent, spans_sent, requests_sent, events_failed, "
        "requests_failed, retries, last_error, last_error_time, last_success_time, "
        "(SELECT count(*) FROM telemetry_delivery_sessions), "
        "(SELECT count(*) FROM telemetry_delivery_failures) "
        "FROM telemetry_delivery_state WHERE id = 1"));
    if (r.rows() == 0) return Status::Ok();
    d.configured = true;
    d.event_cursor = r.Int(0, 0);
    d.events_sent = r.Int(0, 1);
    d.spans_sent = r.Int(0, 2);
    d.requests_sent = r.Int(0, 3);
    d.events_failed = r.Int(0, 4);
    d.requests_failed = r.Int(0, 5);
    d.retries = r.Int(0, 6);
    d.last_error = r.OptText(0, 7).value_or("");
    d.last_error_time = r.OptInt(0, 8).value_or(0);
    d.last_success_time = r.OptInt(0, 9).value_or(0);
    d.queued_sessions = r.Int(0, 10);
    d.failed_requests_recorded = r.Int(0, 11);
    VK_ASSIGN_OR_RETURN(PgResult q, db.Query("SELECT count(*) FROM telemetry_events WHERE id > $1",
                                             PgParams().Add(d.event_cursor)));
    d.queued_events = q.Int(0, 0);
    return Status::Ok();
  });
  VK_RETURN_IF_ERROR(snap);
  return d;
}

Result<std::vector<Event>> PgStore::EventsAfter(std::int64_t after_id, int limit) {
  VK_ASSIGN_OR_RETURN(PgResult r, Read("SELECT " + std::string(kEventColumns) +
                                           " FROM telemetry_events WHERE id > $1 ORDER BY id "
                                           "LIMIT $2",
                                       PgParams().Add(after_id).Add(limit)));
  std::vector<Event> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(ReadEvent(r, i));
  return out;
}

Result<std::vector<ErrorRecord>> PgStore::ErrorsForEvents(std::int64_t first_id,
                                                          std::int64_t last_id) {
  VK_ASSIGN_OR_RETURN(PgResult r, Read("SELECT " + std::string(kErrorColumns) +
                                           " FROM telemetry_errors WHERE event_id BETWEEN $1 "
                                           "AND $2 ORDER BY event_id, id",
                                       PgParams().Add(first_id).Add(last_id)));
  std::vector<ErrorRecord> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(ReadErrorRecord(r, i));
  return out;
}

Result<std::vector<PendingRootSpan>> PgStore::PendingRootSpans(int limit) {
  VK_ASSIGN_OR_RETURN(PgResult r, Read(
      "SELECT seq, session_id FROM telemetry_delivery_sessions ORDER BY seq LIMIT $1",
      PgParams().Add(limit)));
  std::vector<PendingRootSpan> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back({r.Int(i, 0), r.Text(i, 1)});
  return out;
}

Status PgStore::RecordDelivery(const DeliveryRecord& r, std::int64_t now_ms) {
  std::lock_guard lock(writer_mu_);
  using Kind = DeliveryRecord::Kind;
  const Status txn_status = InWriteTransaction([&](PgConn& db) -> Status {
    if (r.kind == Kind::kRetry) {
      return db.Query(
          "UPDATE telemetry_delivery_state SET retries = retries + 1, last_error = $1, "
          "last_error_time = $2, updated_at = $2 WHERE id = 1",
          PgParams().Add(r.error).Add(now_ms)).status();
    }
    const bool accepted = r.kind == Kind::kAccepted;
    PgParams p;
    p.Add(r.new_cursor).Add(r.events).Add(r.spans).Add(now_ms);
    if (!accepted) p.Add(r.error);
    VK_ASSIGN_OR_RETURN(PgResult up, db.Query(accepted
        ? "UPDATE telemetry_delivery_state SET event_cursor = greatest(event_cursor, $1), "
          "events_sent = events_sent + $2, spans_sent = spans_sent + $3, "
          "requests_sent = requests_sent + CASE WHEN $3::bigint > 0 THEN 1 ELSE 0 END, "
          "last_success_time = $4, updated_at = $4 WHERE id = 1"
        : "UPDATE telemetry_delivery_state SET event_cursor = greatest(event_cursor, $1), "
          "events_failed = events_failed + $2, requests_failed = requests_failed + 1 "
          "+ 0 * $3::bigint, last_error = $5, last_error_time = $4, updated_at = $4 WHERE id = 1",
        p));
    if (up.affected() != 1) {
      return Status::FailedPrecondition(
          "delivery state row missing (EnsureDeliveryState not run)");
    }
    std::string session_ids = "[";
    for (const PendingRootSpan& root : r.roots) {
      VK_RETURN_IF_ERROR(db.Query(
          "DELETE FROM telemetry_delivery_sessions WHERE session_id = $1 AND seq = $2",
          PgParams().Add(root.session_id).Add(root.seq)).status());
      if (session_ids.size() > 1) session_ids += ',';
      internal::AppendJsonString(session_ids, root.session_id);
    }
    session_ids += ']';
    if (accepted) return Status::Ok();
    PgParams f;
    if (r.events > 0) {
      f.Add(r.first_event_id).Add(r.new_cursor);
    } else {
      f.AddNull().AddNull();
    }
    f.Add(r.events).Add(r.spans).Add(session_ids);
    if (r.http_status > 0) {
      f.Add(r.http_status);
    } else {
      f.AddNull();
    }
    f.Add(r.error).Add(now_ms);
    return db.Query(
        "INSERT INTO telemetry_delivery_failures (first_event_id, last_event_id, event_count, "
        "span_count, session_ids, http_status, error, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", f).status();
  });
  return txn_status.WithContext("record delivery");
}

// --- export scans and verbatim restore ---------------------------------------------------------

namespace {

// " AND <column> = ANY($n::text[])" for a non-empty list.
void AppendAny(std::string& sql, PgParams& p, int& n, std::string_view column,
               const std::vector<std::string>& values) {
  if (values.empty()) return;
  ArrayLiteral a;
  for (const auto& v : values) a.Add(std::string_view(v));
  sql += " AND " + std::string(column) + " = ANY($" + std::to_string(++n) + "::text[])";
  p.Add(a.str());
}

struct PgTableQuery {
  std::string where;  // " WHERE ..." with $1..$n
  PgParams params;
  int n = 0;
};

PgTableQuery ScanWhere(std::string_view table, const ExportFilter& f) {
  PgTableQuery q;
  q.where = " WHERE true";
  const std::string time_column = table == "sessions" ? "start_time" : "timestamp";
  if (f.from_time) {
    q.where += " AND " + time_column + " >= $" + std::to_string(++q.n);
    q.params.Add(*f.from_time);
  }
  if (f.to_time) {
    q.where += " AND " + time_column + " <= $" + std::to_string(++q.n);
    q.params.Add(*f.to_time);
  }
  if (table == "sessions") {
    AppendAny(q.where, q.params, q.n, "id", f.session_ids);
    AppendAny(q.where, q.params, q.n, "agent_type", f.agent_types);
  } else if (table == "events") {
    AppendAny(q.where, q.params, q.n, "session_id", f.session_ids);
    AppendAny(q.where, q.params, q.n, "agent_type", f.agent_types);
    AppendAny(q.where, q.params, q.n, "event_type", f.event_types);
  } else {
    AppendAny(q.where, q.params, q.n, "session_id", f.session_ids);
    if (!f.agent_types.empty()) {
      std::string sub = " WHERE true";
      AppendAny(sub, q.params, q.n, "agent_type", f.agent_types);
      q.where += " AND session_id IN (SELECT id FROM telemetry_sessions" + sub + ")";
    }
  }
  return q;
}

std::string TableName(std::string_view table) {
  return table == "sessions" ? "telemetry_sessions"
         : table == "events" ? "telemetry_events"
                             : "telemetry_errors";
}

std::string ColumnsOf(std::string_view table) {
  return std::string(table == "sessions" ? kSessionColumns
                     : table == "events" ? kEventColumns
                                         : kErrorColumns);
}

// Streams the rows of `sql` through a cursor, 2000 at a time (an export can be millions).
Status ForEachRow(PgConn& db, const std::string& sql, const PgParams& params,
                  const std::function<Status(const PgResult&, int)>& fn) {
  VK_RETURN_IF_ERROR(db.QueryOnce("DECLARE vk_scan NO SCROLL CURSOR FOR " + sql, params)
                         .status());
  Status st = Status::Ok();
  while (st.ok()) {
    auto batch = db.QueryOnce("FETCH 2000 FROM vk_scan");
    if (!batch.ok()) {
      st = batch.status();
      break;
    }
    if (batch->rows() == 0) break;
    for (int i = 0; i < batch->rows() && st.ok(); ++i) st = fn(*batch, i);
  }
  if (db.healthy()) {
    Status closed = db.Exec("CLOSE vk_scan");
    if (st.ok()) st = closed;
  }
  return st;
}

// The rows of `table`. Events go to OnStoredEvent (texts are plain here) with
// StoredTexts::privacy_applied when the request asks for stored texts.
Status ScanRows(PgConn& db, std::string_view table, const std::string& sql,
                const PgParams& params, const ScanRequest& request, const PrivacyRange& privacy,
                ScanVisitor& visitor) {
  return ForEachRow(db, sql, params, [&](const PgResult& r, int i) -> Status {
    if (table == "sessions") return visitor.OnSession(ReadSession(r, i));
    if (table == "events") {
      if (!request.stored_texts) return visitor.OnEvent(ReadEvent(r, i));
      Event e = ReadEvent(r, i);
      StoredTexts stored;
      stored.privacy_applied = privacy.Contains(e.id);
      return visitor.TakeStoredEvent(e, stored);
    }
    return visitor.OnError(ReadErrorRecord(r, i));
  });
}

// The events of the snapshot recorded as stored under ScanRequest::privacy_fingerprint.
Result<PrivacyRange> ReadPrivacyRange(PgConn& db, const ScanRequest& request) {
  PrivacyRange range;
  if (!request.stored_texts || request.privacy_fingerprint.empty()) return range;
  // Rolled back below 1.8.0 by another process: no table, no range.
  VK_ASSIGN_OR_RETURN(PgResult exists,
                      db.QueryOnce("SELECT to_regclass('telemetry_privacy_ranges') IS NOT NULL"));
  if (exists.rows() == 0 || exists.Text(0, 0) != "t") return range;
  VK_ASSIGN_OR_RETURN(PgResult r, db.QueryOnce(std::string(kReadPrivacyRangeSql),
                                               PgParams().Add(request.privacy_fingerprint)));
  if (r.rows() > 0) range = {r.Int(0, 0), r.Int(0, 1)};
  return range;
}

Status ScanBySession(PgConn& db, const ScanRequest& request, const PrivacyRange& privacy,
                     ScanVisitor& visitor) {
  const ExportFilter& f = request.filter;
  PgTableQuery sessions = ScanWhere("sessions", f);
  ExportFilter row_filter;
  row_filter.from_time = f.from_time;
  row_filter.to_time = f.to_time;
  row_filter.event_types = f.event_types;
  PgTableQuery events = ScanWhere("events", row_filter);
  row_filter.event_types.clear();
  PgTableQuery errors = ScanWhere("errors", row_filter);

  // The chosen sessions, once, in a temporary table (the counts and the rows agree).
  PgParams chosen_params = sessions.params;
  chosen_params.Add(f.limit).Add(f.offset);
  VK_RETURN_IF_ERROR(db.Exec("CREATE TEMP TABLE IF NOT EXISTS vk_scan_sessions "
                             "(ord bigint PRIMARY KEY, id text NOT NULL) ON COMMIT DELETE ROWS"));
  VK_RETURN_IF_ERROR(db.Exec("DELETE FROM vk_scan_sessions"));
  VK_RETURN_IF_ERROR(db.QueryOnce(
      "INSERT INTO vk_scan_sessions (ord, id) SELECT row_number() OVER (ORDER BY start_time, "
      "id COLLATE \"C\"), id FROM (SELECT id, start_time FROM telemetry_sessions" +
          sessions.where + " ORDER BY start_time, id COLLATE \"C\" LIMIT $" +
          std::to_string(sessions.n + 1) + " OFFSET $" + std::to_string(sessions.n + 2) + ") s",
      chosen_params).status());
  ScanCounts counts;
  VK_ASSIGN_OR_RETURN(PgResult c, db.QueryOnce("SELECT count(*) FROM vk_scan_sessions"));
  counts.sessions = c.Int(0, 0);
  VK_ASSIGN_OR_RETURN(PgResult ce, db.QueryOnce(
      "SELECT count(*) FROM telemetry_events" + events.where +
          " AND session_id IN (SELECT id FROM vk_scan_sessions)",
      events.params));
  counts.events = ce.Int(0, 0);
  VK_ASSIGN_OR_RETURN(PgResult cr, db.QueryOnce(
      "SELECT count(*) FROM telemetry_errors" + errors.where +
          " AND session_id IN (SELECT id FROM vk_scan_sessions)",
      errors.params));
  counts.errors = cr.Int(0, 0);
  VK_RETURN_IF_ERROR(visitor.OnCounts(counts));
  if (request.counts_only) return Status::Ok();
  // One pass over the chosen sessions; each one's events and errors read by their own query.
  std::vector<Session> chosen;
  std::int64_t after = 0;
  while (true) {
    VK_ASSIGN_OR_RETURN(PgResult page, db.QueryOnce(
        "SELECT v.ord, " + std::string("s.id, s.agent_type, s.mode, s.status, s.start_time, s.end_time, s.duration, s.event_count, s.stream_event_count, s.error_count, s.sandbox_id, s.repo_url, s.metadata, s.last_event_time, s.created_at, s.updated_at") +
            " FROM vk_scan_sessions v JOIN telemetry_sessions s USING (id) WHERE v.ord > $1 "
            "ORDER BY v.ord LIMIT 500",
        PgParams().Add(after)));
    if (page.rows() == 0) break;
    for (int i = 0; i < page.rows(); ++i) {
      after = page.Int(i, 0);
      PgResult& row = page;
      // Columns shifted by one (ord first): read through a view of the same result.
      Session s;
      s.id = row.Text(i, 1);
      s.agent_type = row.Text(i, 2);
      s.mode = row.OptText(i, 3);
      auto status = ParseSessionStatus(row.TextView(i, 4));
      s.status = status.ok() ? *status : SessionStatus::kActive;
      s.start_time = row.Int(i, 5);
      s.end_time = row.OptInt(i, 6);
      s.duration = row.OptInt(i, 7);
      s.event_count = row.Int(i, 8);
      s.stream_event_count = row.Int(i, 9);
      s.error_count = row.Int(i, 10);
      s.sandbox_id = row.OptText(i, 11);
      s.repo_url = row.OptText(i, 12);
      s.metadata = row.OptText(i, 13);
      s.last_event_time = row.IsNull(i, 14) ? s.start_time : row.Int(i, 14);
      s.created_at = row.Int(i, 15);
      s.updated_at = row.Int(i, 16);
      VK_RETURN_IF_ERROR(visitor.OnSession(s));
      PgParams ep = events.params;
      ep.Add(s.id);
      VK_RETURN_IF_ERROR(ScanRows(db, "events",
                                  "SELECT " + std::string(kEventColumns) +
                                      " FROM telemetry_events" + events.where +
                                      " AND session_id = $" + std::to_string(events.n + 1) +
                                      " ORDER BY timestamp, id",
                                  ep, request, privacy, visitor));
      PgParams rp = errors.params;
      rp.Add(s.id);
      VK_RETURN_IF_ERROR(ScanRows(db, "errors",
                                  "SELECT " + std::string(kErrorColumns) +
                                      " FROM telemetry_errors" + errors.where +
                                      " AND session_id = $" + std::to_string(errors.n + 1) +
                                      " ORDER BY id",
                                  rp, request, privacy, visitor));
    }
  }
  return Status::Ok();
}

}  // namespace

Status PgStore::Scan(const ScanRequest& request, ScanVisitor& visitor) {
  // Scans write a temporary table (by_session), so the snapshot is not READ ONLY.
  VK_ASSIGN_OR_RETURN(ReaderLease reader, AcquireReader());
  if (!reader->healthy()) VK_RETURN_IF_ERROR(reader->Reset());
  PgConn& db = *reader;
  VK_RETURN_IF_ERROR(db.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ"));
  auto body = [&]() -> Status {
    VK_ASSIGN_OR_RETURN(const PrivacyRange privacy, ReadPrivacyRange(db, request));
    if (request.by_session) return ScanBySession(db, request, privacy, visitor);
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
      PgTableQuery q = ScanWhere(t.name, request.filter);
      VK_ASSIGN_OR_RETURN(PgResult c, db.QueryOnce("SELECT count(*) FROM " + TableName(t.name) +
                                                       q.where,
                                                   q.params));
      std::int64_t n = std::max<std::int64_t>(0, c.Int(0, 0) - request.filter.offset);
      if (request.filter.limit) n = std::min(n, *request.filter.limit);
      (t.name == "sessions" ? counts.sessions
       : t.name == "events" ? counts.events
                            : counts.errors) = n;
    }
    VK_RETURN_IF_ERROR(visitor.OnCounts(counts));
    if (request.counts_only) return Status::Ok();
    for (const Table& t : tables) {
      if (!t.wanted) continue;
      PgTableQuery q = ScanWhere(t.name, request.filter);
      const std::string order = t.name == "sessions" ? " ORDER BY start_time, id COLLATE \"C\""
                                                     : " ORDER BY id";
      q.params.Add(request.filter.limit).Add(request.filter.offset);
      VK_RETURN_IF_ERROR(ScanRows(db, t.name,
                                  "SELECT " + ColumnsOf(t.name) + " FROM " + TableName(t.name) +
                                      q.where + order + " LIMIT $" + std::to_string(q.n + 1) +
                                      " OFFSET $" + std::to_string(q.n + 2),
                                  q.params, request, privacy, visitor));
    }
    return Status::Ok();
  };
  Status st = body();
  if (db.healthy()) {
    Status end = db.Exec(st.ok() ? "COMMIT" : "ROLLBACK");
    if (st.ok()) st = end;
  }
  return st;
}

namespace {

// Unique / foreign-key failures of a restore, in the user's terms (as on SQLite).
Status RestoreError(const Status& st, const std::string& what) {
  const std::string& m = st.message();
  if (m.find("duplicate key") != std::string::npos) {
    return Status::InvalidArgument(what + " already exists in the database (restore into an "
                                          "empty database, or one without these rows): " + m);
  }
  if (m.find("foreign key") != std::string::npos) {
    return Status::InvalidArgument(what + " references a session or event that is in neither "
                                          "the input nor the database: " + m);
  }
  return st.WithContext("restore " + what);
}

}  // namespace

// Rows are buffered and sent with COPY, kRestoreChunk at a time (one round trip per chunk
// instead of per row; a restore of a million rows is otherwise bound by latency). Sessions go
// before events and events before errors, so the keys they reference are there. A duplicate id
// or a dangling reference fails the chunk: the error names the row PostgreSQL reports, and
// arrives with the call that flushed it (or with Commit).
class PgStore::PgRestoreWriter final : public RestoreWriter {
 public:
  PgRestoreWriter(PgStore& store, std::unique_lock<std::mutex> lock, std::int64_t now_ms)
      : store_(store), lock_(std::move(lock)), now_ms_(now_ms) {}
  ~PgRestoreWriter() override {
    if (open_ && store_.writer_->healthy()) (void)store_.writer_->Exec("ROLLBACK");
  }

  Status Begin() {
    PgConn& db = *store_.writer_;
    if (!db.healthy()) VK_RETURN_IF_ERROR(db.Reset());
    VK_RETURN_IF_ERROR(db.Exec(store_.BeginWriteSql()).WithContext("begin restore"));
    open_ = true;
    VK_RETURN_IF_ERROR(
        db.Query("SELECT pg_advisory_xact_lock($1)", PgParams().Add(kWriterLockKey)).status());
    // Restored rows keep their ids, which may fall inside the recorded privacy range.
    return db.Exec(WhenPrivacyRangesExist(kClearPrivacyRangeSql))
        .WithContext("clear privacy range");
  }

  Status AddSession(const Session& s) override {
    VK_RETURN_IF_ERROR(failed_);
    std::string& o = sessions_;
    AppendCopyText(o, s.id);
    o += '\t';
    AppendCopyText(o, s.agent_type);
    o += '\t';
    CopyField(o, s.mode);
    o += '\t';
    o += SessionStatusName(s.status);
    o += '\t' + std::to_string(s.start_time) + '\t';
    CopyInt(o, s.end_time);
    o += '\t';
    CopyInt(o, s.duration);
    o += '\t' + std::to_string(s.event_count) + '\t' + std::to_string(s.stream_event_count) +
         '\t' + std::to_string(s.error_count) + '\t';
    CopyField(o, s.sandbox_id);
    o += '\t';
    CopyField(o, s.repo_url);
    o += '\t';
    CopyField(o, s.metadata);
    o += '\t' + std::to_string(s.last_event_time) + '\t' + std::to_string(s.created_at) + '\t' +
         std::to_string(s.updated_at) + '\n';
    delta_.AddSession(s, +1);
    return ++session_rows_ >= kRestoreChunk ? Flush() : Status::Ok();
  }

  Status AddEvent(const Event& e) override {
    VK_RETURN_IF_ERROR(failed_);
    std::string& o = events_;
    o += std::to_string(e.id) + '\t';
    AppendCopyText(o, e.session_id);
    o += '\t';
    o += EventTypeName(e.event_type);
    o += '\t';
    AppendCopyText(o, e.agent_type);
    o += '\t';
    CopyField(o, e.mode);
    o += '\t';
    CopyField(o, e.prompt);
    o += '\t';
    CopyField(o, e.stream_data);
    o += '\t';
    CopyField(o, e.sandbox_id);
    o += '\t';
    CopyField(o, e.repo_url);
    o += '\t';
    CopyField(o, e.metadata);
    o += '\t' + std::to_string(e.timestamp) + '\t' + std::to_string(e.created_at) + '\t';
    AppendSearchVector(o, e.prompt, e.stream_data);
    o += '\n';
    delta_.AddEvent(e);
    return ++event_rows_ >= kRestoreChunk ? Flush() : Status::Ok();
  }

  Status AddError(const ErrorRecord& r) override {
    VK_RETURN_IF_ERROR(failed_);
    std::string& o = errors_;
    o += std::to_string(r.id) + '\t';
    AppendCopyText(o, r.session_id);
    o += '\t';
    CopyInt(o, r.event_id);
    o += '\t';
    AppendCopyText(o, r.error_type);
    o += '\t';
    AppendCopyText(o, r.error_message);
    o += '\t';
    CopyField(o, r.error_stack);
    o += '\t';
    CopyField(o, r.context);
    o += '\t';
    o += ErrorSeverityName(r.severity);
    o += r.resolved ? "\t1\t" : "\t0\t";
    CopyField(o, r.metadata);
    o += '\t' + std::to_string(r.timestamp) + '\t' + std::to_string(r.created_at) + '\n';
    return ++error_rows_ >= kRestoreChunk ? Flush() : Status::Ok();
  }

  Status Commit() override {
    VK_RETURN_IF_ERROR(failed_);
    VK_RETURN_IF_ERROR(Flush());
    PgConn& db = *store_.writer_;
    // Identity sequences past the restored ids, so new batches never collide with them.
    VK_RETURN_IF_ERROR(db.Exec(
        "SELECT setval(pg_get_serial_sequence('telemetry_events', 'id'), "
        "greatest((SELECT max(id) FROM telemetry_events), 1)); "
        "SELECT setval(pg_get_serial_sequence('telemetry_errors', 'id'), "
        "greatest((SELECT max(id) FROM telemetry_errors), 1));"));
    if (!delta_.empty()) VK_RETURN_IF_ERROR(store_.ApplyRollup(db, delta_, now_ms_));
    VK_RETURN_IF_ERROR(RebuildMinuteRollups(db).WithContext("roll up restored events"));
    VK_RETURN_IF_ERROR(db.Exec("COMMIT").WithContext("commit restore"));
    open_ = false;
    store_.data_version_.fetch_add(1, std::memory_order_release);
    return Status::Ok();
  }

 private:
  static constexpr int kRestoreChunk = 2000;

  static void CopyInt(std::string& o, const std::optional<std::int64_t>& v) {
    o += v ? std::to_string(*v) : std::string("\\N");
  }

  // Sends what is buffered, sessions first. A failure is kept: the transaction is lost.
  Status Flush() {
    PgConn& db = *store_.writer_;
    struct Part {
      std::string* data;
      int* rows;
      const char* copy;
      const char* what;
    };
    const Part parts[] = {
        {&sessions_, &session_rows_,
         "COPY telemetry_sessions (id, agent_type, mode, status, start_time, end_time, duration, "
         "event_count, stream_event_count, error_count, sandbox_id, repo_url, metadata, "
         "last_event_time, created_at, updated_at) FROM STDIN",
         "a session"},
        {&events_, &event_rows_,
         "COPY telemetry_events (id, session_id, event_type, agent_type, mode, prompt, "
         "stream_data, sandbox_id, repo_url, metadata, timestamp, created_at, search) "
         "FROM STDIN",
         "an event"},
        {&errors_, &error_rows_,
         "COPY telemetry_errors (id, session_id, event_id, error_type, error_message, "
         "error_stack, context, severity, resolved, metadata, timestamp, created_at) FROM STDIN",
         "an error row"},
    };
    for (const Part& p : parts) {
      if (*p.rows == 0) continue;
      Status st = db.CopyIn(p.copy, *p.data);
      p.data->clear();
      *p.rows = 0;
      if (!st.ok()) {
        failed_ = RestoreError(st, p.what);
        return failed_;
      }
    }
    return Status::Ok();
  }

  PgStore& store_;
  std::unique_lock<std::mutex> lock_;  // writer_mu_, held for the whole restore
  const std::int64_t now_ms_;
  bool open_ = false;  // a transaction to roll back on destruction
  RollupDelta delta_;
  std::string sessions_, events_, errors_;  // COPY text of rows not yet sent
  int session_rows_ = 0, event_rows_ = 0, error_rows_ = 0;
  Status failed_;  // the first failure; everything after it fails the same way
};

Result<std::unique_ptr<RestoreWriter>> PgStore::BeginRestore(std::int64_t now_ms) {
  std::unique_lock lock(writer_mu_);
  if (!open_) return Status::FailedPrecondition("store is not open");
  auto writer = std::make_unique<PgRestoreWriter>(*this, std::move(lock), now_ms);
  VK_RETURN_IF_ERROR(writer->Begin());
  return std::unique_ptr<RestoreWriter>(std::move(writer));
}

}  // namespace vibekit::store::postgres
