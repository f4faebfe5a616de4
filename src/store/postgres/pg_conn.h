// RAII over libpq: one connection (PgConn) with prepared statements cached by SQL text, query
// results (PgResult) and text-format parameters (PgParams). libpq's headers stay in pg_conn.cc.
//
// Errors become Status by SQLSTATE: integrity and data exceptions (classes 23, 22) are
// kInvalidArgument (the batch can never be written); a lock not granted within lock_timeout
// (55P03) is kBusy; a lost connection, admin shutdown, serialization failure or deadlock are
// kUnavailable (retry may help; the connection is reset on next use); the rest kInternal.
//
// Thread-safety: a PgConn is used by one thread at a time (the store's pool hands them out).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vibekit/status.h"

struct pg_conn;
struct pg_result;

namespace vibekit::store::postgres {

struct PgConnDeleter {
  void operator()(pg_conn* c) const noexcept;
};
struct PgResultDeleter {
  void operator()(pg_result* r) const noexcept;
};

class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* r) : r_(r) {}
  int rows() const noexcept;
  bool IsNull(int row, int col) const noexcept;
  std::string_view TextView(int row, int col) const noexcept;
  std::string Text(int row, int col) const { return std::string(TextView(row, col)); }
  std::optional<std::string> OptText(int row, int col) const;
  std::int64_t Int(int row, int col) const noexcept;  // 0 for NULL
  std::optional<std::int64_t> OptInt(int row, int col) const noexcept;
  double Double(int row, int col) const noexcept;
  std::optional<double> OptDouble(int row, int col) const noexcept;
  // A bytea column (hex text format) decoded to bytes.
  std::string Bytes(int row, int col) const;
  std::int64_t affected() const noexcept;  // rows changed by INSERT/UPDATE/DELETE

 private:
  std::unique_ptr<pg_result, PgResultDeleter> r_;
};

// Parameters in text format; std::nullopt is SQL NULL.
class PgParams {
 public:
  PgParams& Add(std::int64_t v) { values_.emplace_back(std::to_string(v)); return *this; }
  PgParams& Add(int v) { return Add(static_cast<std::int64_t>(v)); }
  PgParams& Add(double v);
  PgParams& Add(bool v) { values_.emplace_back(v ? "t" : "f"); return *this; }
  PgParams& Add(std::string_view v) { values_.emplace_back(std::string(v)); return *this; }
  PgParams& Add(const std::string& v) { values_.emplace_back(v); return *this; }
  PgParams& Add(const char* v) { values_.emplace_back(std::string(v)); return *this; }
  PgParams& Add(const std::optional<std::string>& v) { values_.push_back(v); return *this; }
  PgParams& Add(const std::optional<std::int64_t>& v) {
    values_.push_back(v ? std::optional<std::string>(std::to_string(*v)) : std::nullopt);
    return *this;
  }
  PgParams& AddNull() { values_.emplace_back(std::nullopt); return *this; }
  // Bytes as a bytea literal (hex format).
  PgParams& AddBytes(std::string_view bytes);
  const std::vector<std::optional<std::string>>& values() const { return values_; }

 private:
  std::vector<std::optional<std::string>> values_;
};

class PgConn {
 public:
  // Connects with libpq's rules (URL or key=value string; PGHOST, PGUSER... fill the rest).
  // kUnavailable when the server cannot be reached.
  static Result<std::unique_ptr<PgConn>> Connect(const std::string& conninfo);

  // Runs one or more statements without parameters (simple query protocol).
  Status Exec(std::string_view sql);
  // Runs `sql` with parameters through a prepared statement cached on this connection.
  Result<PgResult> Query(const std::string& sql, const PgParams& params = PgParams());
  // Runs `sql` with parameters without preparing it (for statements that cannot be prepared,
  // e.g. DECLARE ... CURSOR).
  Result<PgResult> QueryOnce(const std::string& sql, const PgParams& params = PgParams());
  // COPY ... FROM STDIN with `data` in COPY's text format.
  Status CopyIn(const std::string& copy_sql, std::string_view data);

  // False after the connection was lost; Reset() reconnects (prepared statements are re-made).
  bool healthy() const noexcept;
  Status Reset();
  // The server's error of the last failure, "" when none.
  const std::string& database() const { return database_; }

 private:
  explicit PgConn(pg_conn* c);
  Status ResultStatus(pg_result* r, std::string_view what);

  std::unique_ptr<pg_conn, PgConnDeleter> c_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name
  std::string database_;
};

// Appends `text` to COPY text-format data, escaping backslash, tab, newline and CR.
void AppendCopyText(std::string& out, std::string_view text);
// Quotes an SQL literal ('...' with quotes doubled) for statements built as text.
std::string SqlLiteral(std::string_view text);

}  // namespace vibekit::store::postgres
