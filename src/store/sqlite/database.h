// A thin RAII layer over the SQLite C API: Database (one connection), Statement (one prepared
// statement) and Transaction (rolls back unless committed). <sqlite3.h> stays in the .cc file.
//
// Thread-safety: a Database and its Statements belong to one thread at a time; callers
// serialize access (the store keeps one writer connection and a pool of readers).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "vibekit/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace vibekit::store::sqlite {

// Maps an SQLite result code (and the connection's message) to our Status codes.
Status StatusFromSqlite(int rc, sqlite3* db, std::string_view context);

struct OpenOptions {
  bool read_only = false;
  bool create = true;
  int busy_timeout_ms = 5000;
};

class Database {
 public:
  // Opens `path` (created with mode 0600 if `create` and missing).
  static Result<std::unique_ptr<Database>> Open(const std::string& path, const OpenOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements without results.
  Status Exec(std::string_view sql);
  // Runs a pragma or query returning one value as text ("" when no row).
  Result<std::string> QueryText(std::string_view sql);
  Result<std::int64_t> QueryInt(std::string_view sql);

  std::int64_t LastInsertRowId() const noexcept;
  int Changes() const noexcept;
  // Interrupts any running statement when the deadline (steady clock ms) passes; 0 disables.
  void SetDeadline(std::int64_t steady_deadline_ms) noexcept;
  bool InTransaction() const noexcept;

  sqlite3* handle() const noexcept { return db_; }
  const std::string& path() const noexcept { return path_; }

 private:
  Database(sqlite3* db, std::string path);
  static int ProgressHandler(void* self) noexcept;

  sqlite3* db_;  // owned; closed in the destructor
  std::string path_;
  std::int64_t deadline_ms_ = 0;
};

class Statement {
 public:
  static Result<Statement> Prepare(Database& db, std::string_view sql);
  Statement() = default;  // empty; only assignable
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Bind by 1-based index.
  void BindNull(int index) noexcept;
  void Bind(int index, std::int64_t value) noexcept;
  void Bind(int index, int value) noexcept { Bind(index, static_cast<std::int64_t>(value)); }
  void Bind(int index, double value) noexcept;
  // The text must stay alive until the statement is reset (SQLITE_STATIC).
  void Bind(int index, std::string_view text) noexcept;
  void Bind(int index, const std::optional<std::string>& text) noexcept;
  void Bind(int index, const std::optional<std::int64_t>& value) noexcept;
  // The bytes must stay alive until the statement is reset.
  void BindBlob(int index, std::string_view bytes) noexcept;

  // Returns true when a row is available, false when done; an error Status otherwise.
  Result<bool> Step();
  // Step() expecting no row (INSERT/UPDATE/DELETE).
  Status Run();
  // Resets and clears bindings so the statement can be reused.
  void Reset() noexcept;

  bool IsNull(int col) const noexcept;
  bool IsBlob(int col) const noexcept;
  std::int64_t ColumnInt(int col) const noexcept;
  double ColumnDouble(int col) const noexcept;
  std::string ColumnText(int col) const;
  std::string_view ColumnTextView(int col) const noexcept;
  std::optional<std::string> ColumnOptText(int col) const;
  std::optional<std::int64_t> ColumnOptInt(int col) const noexcept;
  // TEXT as is; a BLOB written by EncodeText decoded back to its text (kCorruption otherwise).
  Result<std::optional<std::string>> ColumnStoredText(int col) const;
  // The same reads into an existing value, reusing its capacity (export scans read millions of
  // rows into one Event).
  void ColumnTextInto(int col, std::string* out) const;
  void ColumnOptTextInto(int col, std::optional<std::string>* out) const;
  Status ColumnStoredTextInto(int col, std::optional<std::string>* out) const;
  // Like ColumnOptTextInto, but a BLOB's bytes are copied as they are stored (still encoded);
  // true when they were.
  bool ColumnStoredFormInto(int col, std::optional<std::string>* out) const;

 private:
  Statement(sqlite3_stmt* stmt, Database* db) : stmt_(stmt), db_(db) {}
  sqlite3_stmt* stmt_ = nullptr;  // owned; finalized in the destructor
  Database* db_ = nullptr;        // not owned; outlives the statement
};

// BEGIN IMMEDIATE on construction via Begin(); ROLLBACK in the destructor unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Status Begin(bool immediate = true);
  Status Commit();

 private:
  Database& db_;
  bool active_ = false;
};

}  // namespace vibekit::store::sqlite
