#include "store/postgres/pg_conn.h"

#include <libpq-fe.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

namespace vibekit::store::postgres {

void PgConnDeleter::operator()(pg_conn* c) const noexcept { PQfinish(c); }
void PgResultDeleter::operator()(pg_result* r) const noexcept { PQclear(r); }

int PgResult::rows() const noexcept { return r_ ? PQntuples(r_.get()) : 0; }
bool PgResult::IsNull(int row, int col) const noexcept {
  return PQgetisnull(r_.get(), row, col) != 0;
}
std::string_view PgResult::TextView(int row, int col) const noexcept {
  return {PQgetvalue(r_.get(), row, col),
          static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
}
std::optional<std::string> PgResult::OptText(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Text(row, col);
}
std::int64_t PgResult::Int(int row, int col) const noexcept {
  if (IsNull(row, col)) return 0;
  const std::string_view s = TextView(row, col);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    // numeric results (sum over bigint): parse as a double and round.
    return static_cast<std::int64_t>(std::strtod(std::string(s).c_str(), nullptr));
  }
  return v;
}
std::optional<std::int64_t> PgResult::OptInt(int row, int col) const noexcept {
  if (IsNull(row, col)) return std::nullopt;
  return Int(row, col);
}
double PgResult::Double(int row, int col) const noexcept {
  if (IsNull(row, col)) return 0;
  return std::strtod(PQgetvalue(r_.get(), row, col), nullptr);
}
std::optional<double> PgResult::OptDouble(int row, int col) const noexcept {
  if (IsNull(row, col)) return std::nullopt;
  return Double(row, col);
}
std::string PgResult::Bytes(int row, int col) const {
  if (IsNull(row, col)) return {};
  std::size_t n = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_.get(), row, col)), &n);
  if (raw == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(raw), n);
  PQfreemem(raw);
  return out;
}
std::int64_t PgResult::affected() const noexcept {
  const char* n = PQcmdTuples(r_.get());
  return (n == nullptr || *n == '\0') ? 0 : std::strtoll(n, nullptr, 10);
}

PgParams& PgParams::Add(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  values_.emplace_back(std::string(buf, ec == std::errc() ? p : buf));
  return *this;
}

PgParams& PgParams::AddBytes(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "\\x";
  s.reserve(2 + bytes.size() * 2);
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    s += kHex[c >> 4];
    s += kHex[c & 15];
  }
  values_.emplace_back(std::move(s));
  return *this;
}

PgConn::PgConn(pg_conn* c) : c_(c) {
  const char* db = PQdb(c);
  database_ = db != nullptr ? db : "";
}

Result<std::unique_ptr<PgConn>> PgConn::Connect(const std::string& conninfo) {
  // postgres:// with nothing else means "libpq's defaults" (PGHOST, PGDATABASE, ...).
  pg_conn* c = PQconnectdb(conninfo.c_str());
  if (c == nullptr) return Status::Unavailable("PostgreSQL: out of memory connecting");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    PQfinish(c);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Status::Unavailable("cannot connect to PostgreSQL: " + msg);
  }
  // Quiet NOTICEs (e.g. "word is too long to be indexed") instead of printing them to stderr.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  std::unique_ptr<PgConn> conn(new PgConn(c));
  VK_RETURN_IF_ERROR(conn->Exec("SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'"));
  return conn;
}

bool PgConn::healthy() const noexcept { return c_ && PQstatus(c_.get()) == CONNECTION_OK; }

Status PgConn::Reset() {
  prepared_.clear();
  PQreset(c_.get());
  if (PQstatus(c_.get()) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c_.get());
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Status::Unavailable("cannot reconnect to PostgreSQL: " + msg);
  }
  PQsetNoticeProcessor(c_.get(), [](void*, const char*) {}, nullptr);
  return Exec("SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'");
}

Status PgConn::ResultStatus(pg_result* r, std::string_view what) {
  const ExecStatusType st = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_IN) return Status::Ok();
  std::string msg = r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(c_.get());
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (msg.empty()) msg = PQerrorMessage(c_.get());
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string code = state != nullptr ? state : "";
  std::string text = "PostgreSQL " + std::string(what) + ": " + msg;
  // lock_not_available: a lock (the other processes' writer lock) was not granted within
  // lock_timeout, the busy timeout; like SQLite's SQLITE_BUSY.
  if (healthy() && code == "55P03") return Status::Busy(text);
  if (!healthy() || code.rfind("08", 0) == 0 || code.rfind("57P", 0) == 0 || code == "40001" ||
      code == "40P01") {
    return Status::Unavailable(text);
  }
  if (code.rfind("23", 0) == 0 || code.rfind("22", 0) == 0) {
    return Status::InvalidArgument(text);
  }
  return Status::Internal(text);
}

Status PgConn::Exec(std::string_view sql) {
  std::unique_ptr<pg_result, PgResultDeleter> r(PQexec(c_.get(), std::string(sql).c_str()));
  return ResultStatus(r.get(), "statement failed");
}

Result<PgResult> PgConn::Query(const std::string& sql, const PgParams& params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    const std::string name = "vk" + std::to_string(prepared_.size() + 1);
    std::unique_ptr<pg_result, PgResultDeleter> r(
        PQprepare(c_.get(), name.c_str(), sql.c_str(), 0, nullptr));
    VK_RETURN_IF_ERROR(ResultStatus(r.get(), "prepare failed").WithContext(sql));
    it = prepared_.emplace(sql, name).first;
  }
  const auto& values = params.values();
  std::vector<const char*> ptrs(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    ptrs[i] = values[i] ? values[i]->c_str() : nullptr;
  }
  pg_result* r = PQexecPrepared(c_.get(), it->second.c_str(), static_cast<int>(values.size()),
                                ptrs.data(), nullptr, nullptr, 0);
  PgResult out(r);
  VK_RETURN_IF_ERROR(ResultStatus(r, "query failed"));
  return out;
}

Result<PgResult> PgConn::QueryOnce(const std::string& sql, const PgParams& params) {
  const auto& values = params.values();
  std::vector<const char*> ptrs(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    ptrs[i] = values[i] ? values[i]->c_str() : nullptr;
  }
  pg_result* r = PQexecParams(c_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                              ptrs.data(), nullptr, nullptr, 0);
  PgResult out(r);
  VK_RETURN_IF_ERROR(ResultStatus(r, "query failed"));
  return out;
}

Status PgConn::CopyIn(const std::string& copy_sql, std::string_view data) {
  std::unique_ptr<pg_result, PgResultDeleter> r(PQexec(c_.get(), copy_sql.c_str()));
  if (r == nullptr || PQresultStatus(r.get()) != PGRES_COPY_IN) {
    return ResultStatus(r.get(), "COPY failed");
  }
  constexpr std::size_t kChunk = 1 << 20;
  for (std::size_t off = 0; off < data.size(); off += kChunk) {
    const std::size_t n = std::min(kChunk, data.size() - off);
    if (PQputCopyData(c_.get(), data.data() + off, static_cast<int>(n)) != 1) {
      return Status::Unavailable("PostgreSQL COPY: " + std::string(PQerrorMessage(c_.get())));
    }
  }
  if (PQputCopyEnd(c_.get(), nullptr) != 1) {
    return Status::Unavailable("PostgreSQL COPY end: " + std::string(PQerrorMessage(c_.get())));
  }
  Status result = Status::Ok();
  while (pg_result* res = PQgetResult(c_.get())) {
    std::unique_ptr<pg_result, PgResultDeleter> owned(res);
    if (result.ok()) result = ResultStatus(res, "COPY failed");
  }
  return result;
}

void AppendCopyText(std::string& out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
}

std::string SqlLiteral(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

}  // namespace vibekit::store::postgres
