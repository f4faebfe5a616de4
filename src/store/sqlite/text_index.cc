#include "store/sqlite/text_index.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include "common/log.h"
#include "common/steady_ms.h"
#include "common/sys.h"
#include "store/sqlite/schema.h"

namespace vibekit::store::sqlite {

namespace {

// The side file's schema. Contentless (the text lives once, in the database): rows leave it
// through FTS5's 'delete' command given their exact text, which the change log keeps.
constexpr std::string_view kSideSchema = R"sql(
CREATE VIRTUAL TABLE IF NOT EXISTS txt.telemetry_events_fts USING fts5(
  prompt, stream_data, content='', detail=none, columnsize=0,
  tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE IF NOT EXISTS txt.telemetry_events_fts_vocab
  USING fts5vocab('telemetry_events_fts', 'row');
CREATE TABLE IF NOT EXISTS txt.vk_text_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  generation TEXT NOT NULL,
  indexed_upto INTEGER NOT NULL,
  changes_upto INTEGER NOT NULL);
)sql";

Status CreateSideFile(const std::string& path) {
  if (::access(path.c_str(), F_OK) == 0) return Status::Ok();
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0 && errno != EEXIST) {
    return Status::IoError("cannot create the text index \"" + path + "\": " +
                           std::strerror(errno));
  }
  if (fd >= 0) ::close(fd);
  return Status::Ok();
}

Status AttachAndCreate(Database& db, const std::string& side) {
  VK_ASSIGN_OR_RETURN(Statement attach, Statement::Prepare(db, "ATTACH DATABASE ? AS txt"));
  attach.Bind(1, std::string_view(side));
  VK_RETURN_IF_ERROR(attach.Run().WithContext("attach the text index \"" + side + "\""));
  attach.Reset();
  VK_ASSIGN_OR_RETURN(std::string mode, db.QueryText("PRAGMA txt.journal_mode"));
  if (mode != "wal") VK_RETURN_IF_ERROR(db.Exec("PRAGMA txt.journal_mode=WAL"));
  VK_RETURN_IF_ERROR(db.Exec("PRAGMA txt.synchronous=NORMAL"));
  return db.Exec(kSideSchema).WithContext("create the text index \"" + side + "\"");
}

}  // namespace

std::string TextIndexer::SidePath(const std::string& db_path) { return db_path + "-text"; }

Result<std::unique_ptr<TextIndexer>> TextIndexer::Start(const LocalStoreConfig& config) {
  const std::string side = SidePath(config.db_path);
  VK_RETURN_IF_ERROR(CreateSideFile(side));
  OpenOptions options;
  options.create = false;
  options.busy_timeout_ms = config.busy_timeout_ms;
  VK_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(config.db_path, options));
  VK_RETURN_IF_ERROR(ConfigureConnection(*db, /*writer=*/false, config));
  Status attached = AttachAndCreate(*db, side);
  if (!attached.ok() && (attached.code() == StatusCode::kCorruption ||
                         attached.message().find("not a database") != std::string::npos)) {
    // Derived data: a damaged index file is replaced by a new one, filled from the database.
    internal::LogWarn(attached.message() + "; rebuilding the text index");
    (void)db->Exec("DETACH DATABASE txt");
    for (const char* suffix : {"", "-wal", "-shm"}) (void)::unlink((side + suffix).c_str());
    VK_RETURN_IF_ERROR(CreateSideFile(side));
    attached = AttachAndCreate(*db, side);
  }
  VK_RETURN_IF_ERROR(attached);
  VK_ASSIGN_OR_RETURN(std::int64_t upto, db->QueryInt(
      "SELECT coalesce((SELECT indexed_upto FROM txt.vk_text_state), 0)"));
  std::unique_ptr<TextIndexer> t(new TextIndexer(std::move(db)));
  t->indexed_upto_.store(upto, std::memory_order_release);
  t->thread_ = std::thread([p = t.get()] {
    internal::NameThisThread("vk-text-index");
    p->Run();
  });
  return t;
}

TextIndexer::TextIndexer(std::unique_ptr<Database> db) : db_(std::move(db)) {}

TextIndexer::~TextIndexer() { Stop(); }

void TextIndexer::Stop() noexcept {
  {
    std::lock_guard lock(wake_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    sqlite3_interrupt(db_->handle());  // a long step rolls back; its rows are indexed later
    thread_.join();
  }
}

void TextIndexer::Notify() {
  {
    std::lock_guard lock(wake_mu_);
    pending_ = true;
  }
  wake_.notify_one();
}

void TextIndexer::Run() {
  std::int64_t failures = 0;
  while (true) {
    {
      std::unique_lock lock(wake_mu_);
      // Also wakes by itself: other processes commit to the same database.
      wake_.wait_for(lock, std::chrono::seconds(1), [this] { return pending_ || stop_; });
      if (stop_) return;
      pending_ = false;
      // Gather: FTS5 writes a segment per transaction, so larger steps cost less per event.
      // Searches do not wait for this (CatchUp indexes at once).
      wake_.wait_for(lock, std::chrono::milliseconds(kGatherMs), [this] { return stop_; });
      if (stop_) return;
      pending_ = false;
    }
    bool more = true;
    while (more) {
      {
        std::lock_guard lock(wake_mu_);
        if (stop_) return;
      }
      std::lock_guard lock(mu_);
      std::int64_t upto = 0;
      std::int64_t events_seq = 0;
      Result<bool> done = UpToDateLocked(&events_seq);
      if (done.ok() && *done) break;  // an idle wake writes nothing
      Status st = StepLocked(&more, &upto);
      if (!st.ok()) {
        // Busy or interrupted: the next wake retries. Logged once per run of failures.
        if (failures++ == 0) internal::LogWarn("text index: " + st.message());
        more = false;
      } else {
        failures = 0;
      }
      cpu_seconds_.store(internal::ThreadCpuSeconds(), std::memory_order_release);
    }
  }
}

void TextIndexer::SetBetweenPhasesHookForTesting(std::function<void()> hook) {
  std::lock_guard lock(mu_);
  between_phases_ = std::move(hook);
}

Result<TextIndexer::DatabaseState> TextIndexer::ReadDatabaseStateLocked() {
  VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(*db_,
      "SELECT (SELECT generation FROM main.telemetry_text_index WHERE id = 1), "
      "coalesce((SELECT seq FROM main.sqlite_sequence WHERE name = 'telemetry_events'), 0), "
      "coalesce((SELECT seq FROM main.sqlite_sequence WHERE name = 'telemetry_text_changes'), 0)"));
  VK_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::Internal("text index: the database's state cannot be read");
  return DatabaseState{st.ColumnText(0), st.ColumnInt(1), st.ColumnInt(2)};
}

Result<bool> TextIndexer::UpToDateLocked(std::int64_t* events_seq) {
  VK_ASSIGN_OR_RETURN(DatabaseState d, ReadDatabaseStateLocked());
  *events_seq = d.events_seq;
  return d.generation == generation_ &&
         indexed_upto_.load(std::memory_order_relaxed) == d.events_seq &&
         changes_applied_.load(std::memory_order_relaxed) == d.changes_seq;
}

Status TextIndexer::CatchUp() {
  std::lock_guard lock(mu_);
  std::int64_t target = 0;
  VK_ASSIGN_OR_RETURN(bool done, UpToDateLocked(&target));
  if (done) return Status::Ok();  // no write transaction for a search that finds nothing new
  bool more = true;
  std::int64_t upto = 0;
  while (more) {
    VK_RETURN_IF_ERROR(StepLocked(&more, &upto));
    if (upto >= target) break;  // later commits: the thread's
  }
  return Status::Ok();
}

void TextIndexer::RememberLocked(const std::string& generation, std::int64_t indexed_upto,
                                 std::int64_t changes_upto) {
  generation_ = generation;
  indexed_upto_.store(indexed_upto, std::memory_order_release);
  changes_applied_.store(changes_upto, std::memory_order_release);
}

Result<TextIndexer::SideState> TextIndexer::ReadSideStateLocked() {
  VK_ASSIGN_OR_RETURN(Statement state, Statement::Prepare(*db_,
      "SELECT generation, indexed_upto, changes_upto FROM txt.vk_text_state WHERE id = 1"));
  VK_ASSIGN_OR_RETURN(bool has_state, state.Step());
  if (!has_state) return SideState{};  // a new file: what Reconcile finds, it creates
  return SideState{state.ColumnText(0), state.ColumnInt(1), state.ColumnInt(2)};
}

Result<TextIndexer::SideState> TextIndexer::LockSideStateLocked() {
  VK_RETURN_IF_ERROR(db_->Exec(
      "INSERT OR IGNORE INTO txt.vk_text_state (id, generation, indexed_upto, changes_upto) "
      "VALUES (1, '', 0, 0)"));
  return ReadSideStateLocked();
}

namespace {
bool NeedsReconcile(const TextIndexer::SideState& side, std::string_view generation,
                    std::int64_t events_seq, std::int64_t changes_seq) {
  return side.generation != generation || side.indexed_upto > events_seq ||
         side.changes_upto != changes_seq;
}
}  // namespace

Status TextIndexer::StepLocked(bool* more, std::int64_t* indexed_upto_out) {
  *more = false;
  Database& db = *db_;
  // 1. What to index, read from one snapshot of both files in a read transaction that ends
  //    before any tokenizing: while it lasts, SQLite can neither checkpoint the database's WAL
  //    past this snapshot nor start the WAL over (store/sqlite/checkpointer.h), so the writer's
  //    WAL would grow by what it commits meanwhile.
  SideState side;
  DatabaseState d;
  PendingTexts texts;
  std::int64_t hi = 0;
  {
    Transaction read(db);
    VK_RETURN_IF_ERROR(read.Begin(/*immediate=*/false));
    VK_ASSIGN_OR_RETURN(side, ReadSideStateLocked());
    VK_ASSIGN_OR_RETURN(d, ReadDatabaseStateLocked());
    if (NeedsReconcile(side, d.generation, d.events_seq, d.changes_seq)) {
      VK_RETURN_IF_ERROR(read.Commit());
      return ReconcileLocked(more, indexed_upto_out);
    }
    hi = std::min(d.events_seq, side.indexed_upto + kRowsPerStep);
    VK_RETURN_IF_ERROR(ReadTextsLocked(side.indexed_upto, &hi, &texts));
    VK_RETURN_IF_ERROR(read.Commit());
  }
  if (between_phases_) between_phases_();
  // 2. Into the side file, in a transaction of its own that does not read the database. What
  //    the database changed since the snapshot was logged above its change counter, and so is
  //    applied by the next step, on the texts entered here (those of the snapshot).
  Transaction write(db);
  VK_RETURN_IF_ERROR(write.Begin(/*immediate=*/false));
  VK_ASSIGN_OR_RETURN(const SideState now, LockSideStateLocked());
  if (now != side) {
    // Another indexer (another process) stepped in between: give way; the next step reads
    // again from where it left the index.
    *more = true;
    *indexed_upto_out = now.indexed_upto;
    return Status::Ok();
  }
  VK_ASSIGN_OR_RETURN(Statement ins, Statement::Prepare(db,
      "INSERT INTO txt.telemetry_events_fts (rowid, prompt, stream_data) VALUES (?1, ?2, ?3)"));
  auto text = [&texts](std::size_t at, std::ptrdiff_t size) {
    return std::string_view(texts.arena.data() + at, static_cast<std::size_t>(size));
  };
  for (const PendingTexts::Row& t : texts.rows) {
    ins.Reset();
    ins.Bind(1, t.id);
    if (t.prompt_size >= 0) ins.Bind(2, text(t.prompt_at, t.prompt_size));
    if (t.stream_size >= 0) ins.Bind(3, text(t.stream_at, t.stream_size));
    Status st = ins.Run();
    if (!st.ok()) return st.WithContext("index event " + std::to_string(t.id));
  }
  ins.Reset();
  VK_ASSIGN_OR_RETURN(Statement save, Statement::Prepare(db,
      "UPDATE txt.vk_text_state SET indexed_upto = ?1 WHERE id = 1"));
  save.Bind(1, hi);
  VK_RETURN_IF_ERROR(save.Run());
  VK_RETURN_IF_ERROR(write.Commit().WithContext("commit the text index"));
  RememberLocked(d.generation, hi, side.changes_upto);
  *more = hi < d.events_seq;
  *indexed_upto_out = hi;
  return Status::Ok();
}

namespace {
// Appends column `col`'s stored text (decoded) to *arena at *at, its size in *size (-1: NULL).
Status AppendStoredText(const Statement& rows, int col, std::string* arena,
                        std::optional<std::string>* scratch, std::size_t* at,
                        std::ptrdiff_t* size) {
  *at = arena->size();
  *size = -1;
  if (rows.IsNull(col)) return Status::Ok();
  if (rows.IsBlob(col)) {  // compressed: decoded into the scratch buffer first
    VK_RETURN_IF_ERROR(rows.ColumnStoredTextInto(col, scratch));
    arena->append(**scratch);
  } else {
    arena->append(rows.ColumnTextView(col));
  }
  *size = static_cast<std::ptrdiff_t>(arena->size() - *at);
  return Status::Ok();
}
}  // namespace

Status TextIndexer::ReadTextsLocked(std::int64_t lo, std::int64_t* hi, PendingTexts* out) {
  VK_ASSIGN_OR_RETURN(Statement rows, Statement::Prepare(*db_,
      "SELECT id, prompt, stream_data FROM main.telemetry_events "
      "WHERE id > ?1 AND id <= ?2 AND (prompt IS NOT NULL OR stream_data IS NOT NULL) "
      "ORDER BY id"));
  rows.Bind(1, lo);
  rows.Bind(2, *hi);
  std::optional<std::string> scratch;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) break;
    PendingTexts::Row t;
    t.id = rows.ColumnInt(0);
    const std::size_t start = out->arena.size();
    Status st = AppendStoredText(rows, 1, &out->arena, &scratch, &t.prompt_at, &t.prompt_size);
    if (st.ok()) {
      st = AppendStoredText(rows, 2, &out->arena, &scratch, &t.stream_at, &t.stream_size);
    }
    if (!st.ok()) {
      // One row's stored text does not decode: it is left out, the others go in.
      out->arena.resize(start);
      internal::LogWarn("text index: event " + std::to_string(t.id) +
                        " left out (its stored text cannot be read: " + st.message() + ")");
      continue;
    }
    out->rows.push_back(t);
    if (out->arena.size() >= kBytesPerStep) {
      *hi = t.id;  // the rest next step
      break;
    }
  }
  rows.Reset();
  return Status::Ok();
}

Status TextIndexer::ReconcileLocked(bool* more, std::int64_t* indexed_upto_out) {
  *more = false;
  Database& db = *db_;
  Transaction txn(db);
  VK_RETURN_IF_ERROR(txn.Begin(/*immediate=*/false));
  // The side file's write lock first (the database is only read, from one snapshot taken at
  // its first read below, after this lock: two indexers never apply the same changes twice).
  VK_ASSIGN_OR_RETURN(const SideState side, LockSideStateLocked());
  std::int64_t indexed_upto = side.indexed_upto;
  std::int64_t changes_upto = side.changes_upto;
  VK_ASSIGN_OR_RETURN(const DatabaseState d, ReadDatabaseStateLocked());
  if (d.generation != side.generation || indexed_upto > d.events_seq ||
      changes_upto > d.changes_seq) {
    // Another database than the one indexed (cleared, restored, or copied over this file):
    // start again. The changes logged so far concern rows the new pass reads as they are now.
    VK_RETURN_IF_ERROR(db.Exec(
        "INSERT INTO txt.telemetry_events_fts(telemetry_events_fts) VALUES ('delete-all')"));
    indexed_upto = 0;
    changes_upto = d.changes_seq;
  } else if (d.changes_seq > changes_upto) {
    VK_RETURN_IF_ERROR(ApplyChangesLocked(indexed_upto, changes_upto, d.changes_seq));
    changes_upto = d.changes_seq;
  }
  VK_ASSIGN_OR_RETURN(Statement save, Statement::Prepare(db,
      "UPDATE txt.vk_text_state SET generation = ?1, indexed_upto = ?2, changes_upto = ?3 "
      "WHERE id = 1"));
  save.Bind(1, std::string_view(d.generation));
  save.Bind(2, indexed_upto);
  save.Bind(3, changes_upto);
  VK_RETURN_IF_ERROR(save.Run());
  VK_RETURN_IF_ERROR(txn.Commit().WithContext("commit the text index"));
  RememberLocked(d.generation, indexed_upto, changes_upto);
  *more = indexed_upto < d.events_seq;
  *indexed_upto_out = indexed_upto;
  return Status::Ok();
}

namespace {
// A failure that concerns one row's stored text (it does not decode), not the connection or
// the files: the row is left out of the index, the others go in.
bool RowLevel(const Status& st) {
  return st.code() == StatusCode::kInternal || st.code() == StatusCode::kCorruption ||
         st.code() == StatusCode::kInvalidArgument;
}
}  // namespace

Status TextIndexer::EnterLocked(std::int64_t event_id) {
  VK_ASSIGN_OR_RETURN(Statement ins, Statement::Prepare(*db_,
      "INSERT INTO txt.telemetry_events_fts (rowid, prompt, stream_data) "
      "SELECT id, vk_text(prompt), vk_text(stream_data) FROM main.telemetry_events "
      "WHERE id = ?1 AND (prompt IS NOT NULL OR stream_data IS NOT NULL)"));
  ins.Bind(1, event_id);
  Status st = ins.Run();
  if (st.ok() || !RowLevel(st)) return st;
  internal::LogWarn("text index: event " + std::to_string(event_id) +
                    " left out (its stored text cannot be read: " + st.message() + ")");
  return Status::Ok();
}

Status TextIndexer::ApplyChangesLocked(std::int64_t indexed_upto, std::int64_t from_seq,
                                       std::int64_t to_seq) {
  Database& db = *db_;
  // Only events already in the index: the others enter it with their current text later.
  VK_ASSIGN_OR_RETURN(Statement changes, Statement::Prepare(db,
      "SELECT seq, event_id, op FROM main.telemetry_text_changes "
      "WHERE seq > ?1 AND seq <= ?2 AND event_id <= ?3 ORDER BY event_id, seq"));
  VK_ASSIGN_OR_RETURN(Statement remove, Statement::Prepare(db,
      "INSERT INTO txt.telemetry_events_fts (telemetry_events_fts, rowid, prompt, stream_data) "
      "SELECT 'delete', event_id, vk_text(prompt), vk_text(stream_data) "
      "FROM main.telemetry_text_changes WHERE seq = ?"));
  changes.Bind(1, from_seq);
  changes.Bind(2, to_seq);
  changes.Bind(3, indexed_upto);
  std::int64_t current = 0;  // the event whose changes are being read; 0 = none yet
  auto finish = [this](std::int64_t event_id) { return EnterLocked(event_id); };
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, changes.Step());
    if (!row) break;
    const std::int64_t seq = changes.ColumnInt(0);
    const std::int64_t event_id = changes.ColumnInt(1);
    if (event_id == current) continue;  // only an event's first change holds the indexed text
    if (current != 0) VK_RETURN_IF_ERROR(finish(current));
    current = event_id;
    if (changes.ColumnTextView(2) == "d") {
      remove.Reset();
      remove.Bind(1, seq);
      Status removed = remove.Run();
      if (!removed.ok() && !RowLevel(removed)) {
        return removed.WithContext("remove the old text of event " + std::to_string(event_id));
      }
      if (!removed.ok()) {
        // Its old text no longer decodes: its words stay behind as candidates the search's
        // exact check turns down, rather than the whole index stopping here.
        internal::LogWarn("text index: the old text of event " + std::to_string(event_id) +
                          " could not be removed: " + removed.message());
      }
    }
  }
  changes.Reset();
  if (current != 0) VK_RETURN_IF_ERROR(finish(current));
  return Status::Ok();
}

Status TextIndexer::Optimize() {
  std::lock_guard lock(mu_);
  VK_RETURN_IF_ERROR(db_->Exec(
      "INSERT INTO txt.telemetry_events_fts(telemetry_events_fts) VALUES ('optimize')"));
  return db_->Exec("VACUUM txt");
}

}  // namespace vibekit::store::sqlite
