#include "store/sqlite/database.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>

#include "common/steady_ms.h"
#include "store/sqlite/fts_tokenizer.h"
#include "store/sqlite/text_codec.h"

namespace vibekit::store::sqlite {

Status StatusFromSqlite(int rc, sqlite3* db, std::string_view context) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::Ok();
  std::string msg(context);
  msg += ": ";
  msg += (db != nullptr) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  // What the operating system said, for the errors that come from it ("disk I/O error" alone
  // does not tell a full disk from a failing one).
  const int primary = rc & 0xff;
  if (db != nullptr && (primary == SQLITE_IOERR || primary == SQLITE_FULL ||
                        primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY)) {
    if (const int err = sqlite3_system_errno(db); err != 0) {
      msg += " (";
      msg += std::strerror(err);
      msg += ")";
    }
  }
  switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Busy(std::move(msg));
    case SQLITE_INTERRUPT:
      return Status::DeadlineExceeded(std::move(msg) + " (query timeout)");
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_NOLFS:
      return Status::Unavailable(std::move(msg));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(std::move(msg));
    case SQLITE_IOERR:
    case SQLITE_PROTOCOL:
      return Status::IoError(std::move(msg));
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return Status::InvalidArgument(std::move(msg));
    default:
      return Status::Internal(std::move(msg));
  }
}

Database::Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

Database::~Database() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

namespace {

// Process-wide settings that only take effect before SQLite initializes, applied by the first
// Open (before any connection exists). Memory statistics off: with them on, every allocation
// SQLite makes takes a global mutex to keep counts nobody here reads (sqlite3_status). Called
// later, sqlite3_config returns SQLITE_MISUSE and changes nothing, which is fine.
void ConfigureSqliteOnce() {
  static const bool configured = [] {
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
}

}  // namespace

Result<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                 const OpenOptions& options) {
  ConfigureSqliteOnce();
  const bool special = path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0;
  if (!special && options.create && !options.read_only && access(path.c_str(), F_OK) != 0) {
    // Create the file ourselves so it is born 0600, whatever the umask.
    const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::fchmod(fd, 0600);
      ::close(fd);
    }
  }
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  flags |= options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (options.create && !options.read_only) flags |= SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status st = StatusFromSqlite(rc, raw, "cannot open database \"" + path + "\"");
    if (raw != nullptr) sqlite3_close_v2(raw);
    return st;
  }
  sqlite3_extended_result_codes(raw, 1);
  // SQLite quietly falls back to read-only when the file is not writable; a writer must know
  // now, not at its first commit.
  if (!options.read_only && sqlite3_db_readonly(raw, "main") == 1) {
    sqlite3_close_v2(raw);
    return Status::FailedPrecondition("database \"" + path +
                                      "\" is read-only for this process (file or directory "
                                      "permissions, or a read-only file system)");
  }
  if (Status fn = RegisterTextFunctions(raw); !fn.ok()) {
    sqlite3_close_v2(raw);
    return fn;
  }
  // Before any FTS5 table is used on this connection: its tokenizer is created at first use.
  if (Status tok = RegisterFastUnicode61(raw); !tok.ok()) {
    sqlite3_close_v2(raw);
    return tok;
  }
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  std::unique_ptr<Database> db(new Database(raw, path));
  sqlite3_progress_handler(raw, 1000, &Database::ProgressHandler, db.get());
  return db;
}

int Database::ProgressHandler(void* self) noexcept {
  auto* db = static_cast<Database*>(self);
  return (db->deadline_ms_ != 0 && internal::SteadyMs() > db->deadline_ms_) ? 1 : 0;
}

void Database::SetDeadline(std::int64_t steady_deadline_ms) noexcept {
  deadline_ms_ = steady_deadline_ms;
}

Status Database::Exec(std::string_view sql) {
  std::string copy(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    Status st = StatusFromSqlite(rc, nullptr, "");
    return Status(st.code(), msg);
  }
  return Status::Ok();
}

Result<std::string> Database::QueryText(std::string_view sql) {
  VK_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(*this, sql));
  VK_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::string();
  return stmt.ColumnText(0);
}

Result<std::int64_t> Database::QueryInt(std::string_view sql) {
  VK_ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(*this, sql));
  VK_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::int64_t{0};
  return stmt.ColumnInt(0);
}

std::int64_t Database::LastInsertRowId() const noexcept { return sqlite3_last_insert_rowid(db_); }
int Database::Changes() const noexcept { return sqlite3_changes(db_); }
bool Database::InTransaction() const noexcept { return sqlite3_get_autocommit(db_) == 0; }

Result<Statement> Statement::Prepare(Database& db, std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return StatusFromSqlite(rc, db.handle(), "prepare \"" + std::string(sql.substr(0, 60)) + "\"");
  }
  return Statement(stmt, &db);
}

Statement::Statement(Statement&& other) noexcept : stmt_(other.stmt_), db_(other.db_) {
  other.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    db_ = other.db_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

void Statement::BindNull(int index) noexcept { sqlite3_bind_null(stmt_, index); }
void Statement::Bind(int index, std::int64_t value) noexcept {
  sqlite3_bind_int64(stmt_, index, value);
}
void Statement::Bind(int index, double value) noexcept { sqlite3_bind_double(stmt_, index, value); }
void Statement::Bind(int index, std::string_view text) noexcept {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
}
void Statement::Bind(int index, const std::optional<std::string>& text) noexcept {
  if (text) {
    Bind(index, std::string_view(*text));
  } else {
    BindNull(index);
  }
}
void Statement::Bind(int index, const std::optional<std::int64_t>& value) noexcept {
  if (value) {
    Bind(index, *value);
  } else {
    BindNull(index);
  }
}

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status st = StatusFromSqlite(rc, db_->handle(), "step");
  sqlite3_reset(stmt_);
  return st;
}

Status Statement::Run() {
  VK_ASSIGN_OR_RETURN(bool row, Step());
  (void)row;
  sqlite3_reset(stmt_);
  return Status::Ok();
}

void Statement::Reset() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::BindBlob(int index, std::string_view bytes) noexcept {
  sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_STATIC);
}

bool Statement::IsBlob(int col) const noexcept {
  return sqlite3_column_type(stmt_, col) == SQLITE_BLOB;
}

Result<std::optional<std::string>> Statement::ColumnStoredText(int col) const {
  std::optional<std::string> text;
  VK_RETURN_IF_ERROR(ColumnStoredTextInto(col, &text));
  return text;
}

Status Statement::ColumnStoredTextInto(int col, std::optional<std::string>* out) const {
  if (sqlite3_column_type(stmt_, col) != SQLITE_BLOB) {
    ColumnOptTextInto(col, out);
    return Status::Ok();
  }
  if (!out->has_value()) out->emplace();
  const void* p = sqlite3_column_blob(stmt_, col);
  return DecodeTextInto(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)), &**out);
}

bool Statement::ColumnStoredFormInto(int col, std::optional<std::string>* out) const {
  if (sqlite3_column_type(stmt_, col) != SQLITE_BLOB) {
    ColumnOptTextInto(col, out);
    return false;
  }
  if (!out->has_value()) out->emplace();
  const void* p = sqlite3_column_blob(stmt_, col);
  (*out)->assign(static_cast<const char*>(p),
                 static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
  return true;
}

void Statement::ColumnTextInto(int col, std::string* out) const {
  const std::string_view v = ColumnTextView(col);
  out->assign(v.data(), v.size());
}

void Statement::ColumnOptTextInto(int col, std::optional<std::string>* out) const {
  if (IsNull(col)) {
    out->reset();
    return;
  }
  if (!out->has_value()) out->emplace();
  ColumnTextInto(col, &**out);
}

bool Statement::IsNull(int col) const noexcept {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}
std::int64_t Statement::ColumnInt(int col) const noexcept {
  return sqlite3_column_int64(stmt_, col);
}
double Statement::ColumnDouble(int col) const noexcept { return sqlite3_column_double(stmt_, col); }
std::string_view Statement::ColumnTextView(int col) const noexcept {
  const auto* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return {};
  return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))};
}
std::string Statement::ColumnText(int col) const { return std::string(ColumnTextView(col)); }
std::optional<std::string> Statement::ColumnOptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return ColumnText(col);
}
std::optional<std::int64_t> Statement::ColumnOptInt(int col) const noexcept {
  if (IsNull(col)) return std::nullopt;
  return ColumnInt(col);
}

Transaction::~Transaction() {
  if (active_) (void)db_.Exec("ROLLBACK");
}

Status Transaction::Begin(bool immediate) {
  VK_RETURN_IF_ERROR(db_.Exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  active_ = true;
  return Status::Ok();
}

Status Transaction::Commit() {
  Status st = db_.Exec("COMMIT");
  if (st.ok()) active_ = false;
  return st;
}

}  // namespace vibekit::store::sqlite
