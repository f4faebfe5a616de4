// DataIntegrityService: opening, the audit trail and schema versions (validation and repair
// are in integrity_checks.cc).
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <exception>

#include "common/json.h"
#include "integrity/integrity_impl.h"
#include "store/sqlite/reference_import.h"
#include "store/sqlite/schema.h"
#include "vibekit/clock.h"

namespace vibekit {

using store::sqlite::Database;
using store::sqlite::Migration;
using store::sqlite::Statement;
using store::sqlite::Transaction;

namespace integrity {
namespace {

std::vector<std::string> SplitDots(std::string_view v) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = v.find('.', start);
    parts.emplace_back(v.substr(start, dot == std::string_view::npos ? std::string_view::npos
                                                                      : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

bool AllDigits(const std::string& s) {
  return !s.empty() && s.size() <= 9 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// The first keyword of a statement, upper-cased, skipping blanks and comments.
std::string FirstKeyword(std::string_view sql) {
  std::size_t i = 0;
  while (i < sql.size()) {
    if (std::isspace(static_cast<unsigned char>(sql[i])) != 0) {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      const std::size_t nl = sql.find('\n', i);
      i = nl == std::string_view::npos ? sql.size() : nl + 1;
    } else if (sql.substr(i, 2) == "/*") {
      const std::size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      break;
    }
  }
  std::string word;
  while (i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i])) != 0) {
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i])));
    ++i;
  }
  return word;
}

}  // namespace

int CompareVersions(std::string_view a, std::string_view b) noexcept {
  const auto pa = SplitDots(a);
  const auto pb = SplitDots(b);
  for (std::size_t i = 0; i < std::max(pa.size(), pb.size()); ++i) {
    const std::string x = i < pa.size() ? pa[i] : "0";
    const std::string y = i < pb.size() ? pb[i] : "0";
    if (AllDigits(x) && AllDigits(y)) {
      const long long nx = std::stoll(x);
      const long long ny = std::stoll(y);
      if (nx != ny) return nx < ny ? -1 : 1;
    } else if (x != y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

bool IsValidVersion(std::string_view v) noexcept {
  if (v.empty() || v.size() > 64) return false;
  const auto parts = SplitDots(v);
  return parts.size() <= 8 && std::all_of(parts.begin(), parts.end(), AllDigits);
}

Status ExecScriptChecked(Database& db, std::string_view script) {
  const char* tail = script.data();
  const char* end = script.data() + script.size();
  while (tail < end) {
    sqlite3_stmt* raw = nullptr;
    const char* next = nullptr;
    const int rc = sqlite3_prepare_v2(db.handle(), tail, static_cast<int>(end - tail), &raw, &next);
    if (rc != SQLITE_OK) {
      return store::sqlite::StatusFromSqlite(rc, db.handle(), "script")
          .WithContext("statement \"" + std::string(tail, std::min<std::size_t>(end - tail, 80)) +
                       "\"");
    }
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, &sqlite3_finalize);
    const std::string_view text(tail, static_cast<std::size_t>(next - tail));
    tail = next;
    if (!stmt) continue;  // only blanks or comments
    const std::string kw = FirstKeyword(text);
    for (const char* banned : {"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE",
                               "ATTACH", "DETACH", "VACUUM"}) {
      if (kw == banned) {
        return Status::InvalidArgument("a schema script must not contain " + kw +
                                       ": each version is applied in one transaction");
      }
    }
    int step;
    while ((step = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    }
    if (step != SQLITE_DONE) {
      return store::sqlite::StatusFromSqlite(step, db.handle(), "script")
          .WithContext("statement \"" + std::string(text.substr(0, 120)) + "\"");
    }
  }
  return Status::Ok();
}

Status WriteAudit(Database& db, std::string_view table, std::string_view record_id,
                  std::string_view operation, std::string_view old_values,
                  std::string_view new_values, std::string_view changed_fields,
                  std::string_view reason, std::string_view metadata, std::int64_t now_ms) {
  VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db,
      "INSERT INTO telemetry_audit_log (table_name, record_id, operation, old_values, "
      "new_values, changed_fields, reason, metadata, timestamp, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"));
  auto bind_opt = [&st](int i, std::string_view v) {
    if (v.empty()) {
      st.BindNull(i);
    } else {
      st.Bind(i, v);
    }
  };
  st.Bind(1, table);
  bind_opt(2, record_id);
  st.Bind(3, operation);
  bind_opt(4, old_values);
  bind_opt(5, new_values);
  bind_opt(6, changed_fields);
  bind_opt(7, reason);
  bind_opt(8, metadata);
  st.Bind(9, now_ms);
  return st.Run().WithContext("write audit row");
}

}  // namespace integrity

namespace {

Result<bool> HasTable(Database& db, std::string_view name) {
  VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db,
      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"));
  st.Bind(1, name);
  VK_ASSIGN_OR_RETURN(bool row, st.Step());
  return row && st.ColumnInt(0) > 0;
}

// Versions recorded, highest first.
Result<std::vector<std::pair<std::string, std::string>>> RecordedVersions(Database& db) {
  std::vector<std::pair<std::string, std::string>> out;  // version, rollback script
  VK_ASSIGN_OR_RETURN(bool has, HasTable(db, "telemetry_schema_versions"));
  if (!has) return out;
  VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db,
      "SELECT version, coalesce(rollback_script, '') FROM telemetry_schema_versions"));
  while (true) {
    VK_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.emplace_back(st.ColumnText(0), st.ColumnText(1));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return integrity::CompareVersions(a.first, b.first) > 0;
  });
  return out;
}

const Migration* FindMigration(std::string_view version) {
  for (const Migration& m : store::sqlite::Migrations()) {
    if (m.version == version) return &m;
  }
  return nullptr;
}

std::string KnownVersions() {
  std::string out;
  for (const Migration& m : store::sqlite::Migrations()) {
    if (!out.empty()) out += ", ";
    out += m.version;
  }
  return out;
}

std::string VersionJson(std::string_view version, std::string_view description) {
  std::string out = "{\"version\":";
  internal::AppendJsonString(out, version);
  out += ",\"description\":";
  internal::AppendJsonString(out, description);
  out += '}';
  return out;
}

std::vector<std::string> ParseFieldList(const std::optional<std::string>& text) {
  std::vector<std::string> out;
  if (!text || text->empty()) return out;
  try {
    boost::json::value v = boost::json::parse(*text);
    if (v.is_array()) {
      for (const auto& f : v.as_array()) {
        if (f.is_string()) out.emplace_back(f.as_string().c_str());
      }
    }
  } catch (const std::exception&) {
    out.push_back(*text);  // not JSON: shown as written
  }
  return out;
}

}  // namespace

std::string_view FindingKindName(FindingKind kind) noexcept {
  switch (kind) {
    case FindingKind::kIntegrity: return "integrity";
    case FindingKind::kForeignKey: return "foreign_key";
    case FindingKind::kSessionCounters: return "session_counters";
    case FindingKind::kOrphanedEvents: return "orphaned_events";
    case FindingKind::kOrphanedErrorEvent: return "orphaned_error_event";
    case FindingKind::kOrphanedErrorSession: return "orphaned_error_session";
    case FindingKind::kStatsRollup: return "stats_rollup";
    case FindingKind::kMinuteRollups: return "minute_rollups";
  }
  return "unknown";
}

DataIntegrityService::DataIntegrityService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DataIntegrityService::~DataIntegrityService() = default;

Result<std::unique_ptr<DataIntegrityService>> DataIntegrityService::Open(
    const TelemetryConfig& config) noexcept {
  try {
    const std::string& path = config.local_store.db_path;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return Status::NotFound("no database at " + path + " (create one with `vibekit db init`)");
    }
    store::sqlite::OpenOptions options;
    options.create = false;
    options.busy_timeout_ms = config.local_store.busy_timeout_ms;
    VK_ASSIGN_OR_RETURN(auto db, Database::Open(path, options));
    VK_RETURN_IF_ERROR(
        store::sqlite::ConfigureConnection(*db, /*writer=*/true, config.local_store));
    VK_RETURN_IF_ERROR(db->Exec("SELECT count(*) FROM sqlite_master")
                           .WithContext("\"" + path + "\" is not a usable SQLite database"));
    auto impl = std::make_unique<Impl>();
    impl->config = config;
    impl->db = std::move(db);
    return std::unique_ptr<DataIntegrityService>(new DataIntegrityService(std::move(impl)));
  } catch (const std::exception& e) {
    return Status::Internal(std::string("open integrity service: ") + e.what());
  }
}

// --- audit trail ---

Result<std::vector<AuditEntry>> DataIntegrityService::QueryAudit(const AuditQuery& q) noexcept {
  try {
    if (q.limit < 1 || q.limit > 100000) {
      return Status::InvalidArgument("audit limit must be between 1 and 100000, got " +
                                     std::to_string(q.limit));
    }
    std::lock_guard lock(impl_->mu);
    Database& db = *impl_->db;
    if (!q.table.empty()) {
      VK_ASSIGN_OR_RETURN(bool has, HasTable(db, q.table));
      if (!has || q.table.rfind("telemetry_", 0) != 0) {
        return Status::InvalidArgument(
            "unknown table \"" + q.table +
            "\"; audited tables: telemetry_sessions, telemetry_errors, "
            "telemetry_validation_rules, telemetry_schema_versions, telemetry_stats, "
            "telemetry_events, telemetry_minute_rollups");
      }
    }
    VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db,
        "SELECT id, table_name, coalesce(record_id, ''), operation, old_values, new_values, "
        "changed_fields, coalesce(reason, ''), metadata, timestamp FROM telemetry_audit_log "
        "WHERE (?1 = '' OR table_name = ?1) "
        "AND (?2 IS NULL OR record_id = ?2 OR (record_id IS NULL AND json_valid(old_values) "
        "AND json_type(old_values) = 'array' AND EXISTS (SELECT 1 FROM json_each(old_values) j "
        "WHERE j.value = ?2))) "
        "AND (?3 IS NULL OR timestamp >= ?3) AND (?4 IS NULL OR timestamp <= ?4) "
        "ORDER BY timestamp, id LIMIT ?5"));
    st.Bind(1, std::string_view(q.table));
    st.Bind(2, q.record_id);
    st.Bind(3, q.since_ms);
    st.Bind(4, q.until_ms);
    st.Bind(5, q.limit);
    std::vector<AuditEntry> out;
    while (true) {
      VK_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      AuditEntry e;
      e.id = st.ColumnInt(0);
      e.table_name = st.ColumnText(1);
      e.record_id = st.ColumnText(2);
      e.operation = st.ColumnText(3);
      e.old_values = st.ColumnOptText(4);
      e.new_values = st.ColumnOptText(5);
      e.changed_fields = ParseFieldList(st.ColumnOptText(6));
      e.reason = st.ColumnText(7);
      e.metadata = st.ColumnOptText(8);
      e.timestamp = st.ColumnInt(9);
      out.push_back(std::move(e));
    }
    return out;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("audit query: ") + e.what());
  }
}

Result<std::vector<AuditEntry>> DataIntegrityService::GetAuditHistory(
    std::string_view table, std::string_view record_id) noexcept {
  if (table.empty()) return Status::InvalidArgument("GetAuditHistory needs a table name");
  if (record_id.empty()) return Status::InvalidArgument("GetAuditHistory needs a record id");
  AuditQuery q;
  q.table = std::string(table);
  q.record_id = std::string(record_id);
  q.limit = 100000;
  return QueryAudit(q);
}

// --- schema versions ---

std::string_view DataIntegrityService::LatestSchemaVersion() noexcept {
  return store::sqlite::CurrentSchemaVersion();
}

Result<std::string> DataIntegrityService::GetCurrentSchemaVersion() noexcept {
  try {
    std::lock_guard lock(impl_->mu);
    VK_ASSIGN_OR_RETURN(auto versions, RecordedVersions(*impl_->db));
    return versions.empty() ? std::string() : versions.front().first;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("schema version: ") + e.what());
  }
}

Result<std::vector<SchemaVersion>> DataIntegrityService::GetSchemaVersions() noexcept {
  try {
    std::lock_guard lock(impl_->mu);
    Database& db = *impl_->db;
    std::vector<SchemaVersion> out;
    VK_ASSIGN_OR_RETURN(bool has, HasTable(db, "telemetry_schema_versions"));
    if (!has) return out;
    VK_ASSIGN_OR_RETURN(Statement st, Statement::Prepare(db,
        "SELECT version, coalesce(description, ''), applied_at, is_active "
        "FROM telemetry_schema_versions"));
    while (true) {
      VK_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back({st.ColumnText(0), st.ColumnText(1), st.ColumnInt(2), st.ColumnInt(3) != 0});
    }
    std::sort(out.begin(), out.end(), [](const SchemaVersion& a, const SchemaVersion& b) {
      return integrity::CompareVersions(a.version, b.version) < 0;
    });
    return out;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("schema versions: ") + e.what());
  }
}

Status DataIntegrityService::ApplySchemaVersion(const SchemaVersionSpec& spec) noexcept {
  try {
    if (!integrity::IsValidVersion(spec.version)) {
      return Status::InvalidArgument("schema version \"" + spec.version +
                                     "\" is not dotted numbers like 2.0.0");
    }
    if (spec.migration_script.find_first_not_of(" \t\r\n;") == std::string::npos) {
      return Status::InvalidArgument("schema version " + spec.version +
                                     " has an empty migration script");
    }
    std::lock_guard lock(impl_->mu);
    Database& db = *impl_->db;
    const std::int64_t now = SystemClock().NowMs();
    Transaction txn(db);
    VK_RETURN_IF_ERROR(txn.Begin().WithContext("apply schema version"));
    VK_ASSIGN_OR_RETURN(auto versions, RecordedVersions(db));
    if (versions.empty()) {
      return Status::FailedPrecondition(
          "the database has no schema yet; run `vibekit db migrate` first");
    }
    if (integrity::CompareVersions(spec.version, versions.front().first) <= 0) {
      return Status::InvalidArgument("schema version " + spec.version +
                                     " is not above the current version " +
                                     versions.front().first);
    }
    VK_RETURN_IF_ERROR(integrity::ExecScriptChecked(db, spec.migration_script)
                           .WithContext("schema version " + spec.version));
    VK_ASSIGN_OR_RETURN(Statement ins, Statement::Prepare(db,
        "INSERT INTO telemetry_schema_versions (version, description, migration_script, "
        "rollback_script, applied_at, is_active) VALUES (?, ?, ?, ?, ?, 1)"));
    ins.Bind(1, std::string_view(spec.version));
    ins.Bind(2, std::string_view(spec.description));
    ins.Bind(3, std::string_view(spec.migration_script));
    ins.Bind(4, std::string_view(spec.rollback_script));
    ins.Bind(5, now);
    VK_RETURN_IF_ERROR(ins.Run().WithContext("record schema version"));
    VK_RETURN_IF_ERROR(integrity::WriteAudit(db, "telemetry_schema_versions", spec.version,
                                             "INSERT", "",
                                             VersionJson(spec.version, spec.description), "",
                                             "schema version applied", "", now));
    return txn.Commit().WithContext("apply schema version");
  } catch (const std::exception& e) {
    return Status::Internal(std::string("apply schema version: ") + e.what());
  }
}

Result<SchemaChangeReport> DataIntegrityService::MigrateTo(std::string_view version) noexcept {
  try {
    const Migration* target = FindMigration(version);
    if (target == nullptr) {
      return Status::InvalidArgument("unknown schema version \"" + std::string(version) +
                                     "\"; this build knows " + KnownVersions());
    }
    std::unique_lock lock(impl_->mu);
    Database& db = *impl_->db;
    SchemaChangeReport report;
    VK_ASSIGN_OR_RETURN(bool reference, store::sqlite::IsReferenceDatabase(db));
    if (reference) {
      // The reference's file is converted and brought to the newest schema in one transaction
      // (store::sqlite::Migrate); an older target is then reached by rolling back.
      report.from_version = "reference";
      VK_RETURN_IF_ERROR(store::sqlite::Migrate(db, SystemClock().NowMs())
                             .WithContext("migrate the reference implementation's database"));
      VK_RETURN_IF_ERROR(store::sqlite::RebuildMissingRollups(db));
      for (const Migration& m : store::sqlite::Migrations()) {
        report.steps.push_back({std::string(m.version), "migrate", std::string(m.description)});
      }
      lock.unlock();
      if (version != store::sqlite::CurrentSchemaVersion()) {
        VK_ASSIGN_OR_RETURN(SchemaChangeReport down, RollbackTo(version));
        for (auto& step : down.steps) report.steps.push_back(std::move(step));
      }
      report.to_version = std::string(version);
      return report;
    }
    VK_ASSIGN_OR_RETURN(auto versions, RecordedVersions(db));
    report.from_version = versions.empty() ? "" : versions.front().first;
    if (!versions.empty() && integrity::CompareVersions(version, versions.front().first) < 0) {
      return Status::InvalidArgument("the database is at " + versions.front().first +
                                     ", above " + std::string(version) +
                                     "; use `vibekit db rollback --to-version " +
                                     std::string(version) + "`");
    }
    for (const Migration& m : store::sqlite::Migrations()) {
      if (integrity::CompareVersions(m.version, version) > 0) break;
      const bool applied = std::any_of(versions.begin(), versions.end(),
                                       [&](const auto& v) { return v.first == m.version; });
      if (applied) continue;
      const std::int64_t now = SystemClock().NowMs();
      Transaction txn(db);
      VK_RETURN_IF_ERROR(txn.Begin().WithContext("migrate"));
      VK_RETURN_IF_ERROR(store::sqlite::ApplyMigration(db, m, now));
      VK_RETURN_IF_ERROR(integrity::WriteAudit(db, "telemetry_schema_versions", m.version,
                                               "INSERT", "", VersionJson(m.version, m.description),
                                               "", "db migrate", "", now));
      VK_RETURN_IF_ERROR(txn.Commit().WithContext("migrate to " + std::string(m.version)));
      report.steps.push_back({std::string(m.version), "migrate", std::string(m.description)});
    }
    VK_RETURN_IF_ERROR(store::sqlite::RebuildMissingRollups(db));
    VK_ASSIGN_OR_RETURN(auto after, RecordedVersions(db));
    report.to_version = after.empty() ? "" : after.front().first;
    return report;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("migrate: ") + e.what());
  }
}

Result<SchemaChangeReport> DataIntegrityService::RollbackTo(std::string_view version) noexcept {
  try {
    std::lock_guard lock(impl_->mu);
    Database& db = *impl_->db;
    SchemaChangeReport report;
    VK_ASSIGN_OR_RETURN(auto versions, RecordedVersions(db));
    const bool known = std::any_of(versions.begin(), versions.end(),
                                   [&](const auto& v) { return v.first == version; });
    if (!known) {
      std::string applied;
      for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
        if (!applied.empty()) applied += ", ";
        applied += it->first;
      }
      return Status::InvalidArgument("schema version \"" + std::string(version) +
                                     "\" is not applied to this database; applied: " +
                                     (applied.empty() ? "none" : applied));
    }
    report.from_version = versions.front().first;
    for (const auto& [v, stored_rollback] : versions) {
      if (integrity::CompareVersions(v, version) <= 0) break;
      const Migration* ours = FindMigration(v);
      const std::int64_t now = SystemClock().NowMs();
      Transaction txn(db);
      VK_RETURN_IF_ERROR(txn.Begin().WithContext("rollback"));
      std::string description;
      if (ours != nullptr) {
        VK_RETURN_IF_ERROR(db.Exec(ours->rollback_script).WithContext("rollback of " + v));
        description = std::string(ours->description);
      } else {
        if (stored_rollback.find_first_not_of(" \t\r\n;") == std::string::npos) {
          return Status::FailedPrecondition("schema version " + v +
                                            " has no rollback script; cannot roll back past it");
        }
        VK_RETURN_IF_ERROR(integrity::ExecScriptChecked(db, stored_rollback)
                               .WithContext("rollback of " + v));
      }
      VK_ASSIGN_OR_RETURN(Statement del, Statement::Prepare(db,
          "DELETE FROM telemetry_schema_versions WHERE version = ?"));
      del.Bind(1, std::string_view(v));
      VK_RETURN_IF_ERROR(del.Run());
      VK_RETURN_IF_ERROR(integrity::WriteAudit(db, "telemetry_schema_versions", v, "DELETE",
                                               VersionJson(v, description), "", "",
                                               "db rollback", "", now));
      VK_RETURN_IF_ERROR(txn.Commit().WithContext("rollback of " + v));
      report.steps.push_back({v, "rollback", description});
    }
    report.to_version = std::string(version);
    return report;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("rollback: ") + e.what());
  }
}

// --- validation and repair ---

Result<ValidationReport> DataIntegrityService::Validate(bool foreign_keys) noexcept {
  try {
    std::lock_guard lock(impl_->mu);
    Database& db = *impl_->db;
    ValidationReport report;
    VK_ASSIGN_OR_RETURN(auto versions, RecordedVersions(db));
    report.schema_version = versions.empty() ? "" : versions.front().first;
    const std::string latest(store::sqlite::CurrentSchemaVersion());
    if (!std::any_of(versions.begin(), versions.end(),
                     [&](const auto& v) { return v.first == latest; })) {
      return Status::FailedPrecondition(
          "the database schema is at " + (report.schema_version.empty() ? std::string("nothing")
                                                                        : report.schema_version) +
          ", not " + latest + "; run `vibekit db migrate --to-version " + latest + "` first");
    }
    report.foreign_keys_checked = foreign_keys;
    VK_ASSIGN_OR_RETURN(report.findings, integrity::RunChecks(db, foreign_keys));
    return report;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("validate: ") + e.what());
  }
}

Result<RepairReport> DataIntegrityService::Repair(const RepairOptions& options) noexcept {
  try {
    VK_ASSIGN_OR_RETURN(ValidationReport found, Validate(options.fix_constraints));
    RepairReport report;
    report.dry_run = options.dry_run;
    if (options.dry_run) {
      for (const IntegrityFinding& f : found.findings) {
        report.actions.push_back(
            {f, integrity::PlannedAction(f, options.fix_constraints), false});
      }
      return report;
    }
    {
      std::lock_guard lock(impl_->mu);
      Database& db = *impl_->db;
      Transaction txn(db);
      VK_RETURN_IF_ERROR(txn.Begin().WithContext("repair"));
      VK_ASSIGN_OR_RETURN(report.actions,
                          integrity::ApplyRepairs(db, found.findings, options,
                                                  SystemClock().NowMs(), &report.audit_rows));
      VK_RETURN_IF_ERROR(txn.Commit().WithContext("repair"));
    }
    VK_ASSIGN_OR_RETURN(ValidationReport after, Validate(options.fix_constraints));
    report.remaining = std::move(after.findings);
    return report;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("repair: ") + e.what());
  }
}

}  // namespace vibekit
