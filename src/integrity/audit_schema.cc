// DataIntegrityService: opening, the audit trail and schema versions (validation and repair
// are in integrity_checks.cc). The SQL is the backend's (store/integrity_backend.h).
#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <exception>

#include "common/json.h"
#include "integrity/integrity_impl.h"
#include "store/sqlite/schema.h"
#include "vibekit/clock.h"

namespace vibekit {

using store::IntegrityBackend;

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

}  // namespace integrity

namespace {

// Versions recorded, highest first: version, stored rollback script.
Result<std::vector<std::pair<std::string, std::string>>> RecordedVersions(IntegrityBackend& db) {
  VK_ASSIGN_OR_RETURN(auto out, db.RecordedVersions());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return integrity::CompareVersions(a.first, b.first) > 0;
  });
  return out;
}

const store::MigrationInfo* FindMigration(const IntegrityBackend& db, std::string_view version) {
  for (const store::MigrationInfo& m : db.Migrations()) {
    if (m.version == version) return &m;
  }
  return nullptr;
}

std::string KnownVersions(const IntegrityBackend& db) {
  std::string out;
  for (const store::MigrationInfo& m : db.Migrations()) {
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
    VK_ASSIGN_OR_RETURN(auto db, store::OpenIntegrityBackend(config.local_store));
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
    IntegrityBackend& db = *impl_->db;
    if (!q.table.empty()) {
      VK_ASSIGN_OR_RETURN(bool has, db.HasTable(q.table));
      if (!has || q.table.rfind("telemetry_", 0) != 0) {
        return Status::InvalidArgument(
            "unknown table \"" + q.table +
            "\"; audited tables: telemetry_sessions, telemetry_errors, "
            "telemetry_validation_rules, telemetry_schema_versions, telemetry_stats, "
            "telemetry_events, telemetry_minute_rollups");
      }
    }
    VK_ASSIGN_OR_RETURN(auto rows, db.ReadAudit({q.table, q.record_id, q.since_ms, q.until_ms,
                                                 q.limit}));
    std::vector<AuditEntry> out;
    out.reserve(rows.size());
    for (store::AuditRow& r : rows) {
      AuditEntry e;
      e.id = r.id;
      e.table_name = std::move(r.table_name);
      e.record_id = std::move(r.record_id);
      e.operation = std::move(r.operation);
      e.old_values = std::move(r.old_values);
      e.new_values = std::move(r.new_values);
      e.changed_fields = ParseFieldList(r.changed_fields);
      e.reason = std::move(r.reason);
      e.metadata = std::move(r.metadata);
      e.timestamp = r.timestamp;
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
  // The same on both backends (store/sqlite/schema.cc, store/postgres/pg_schema.cc).
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
    VK_ASSIGN_OR_RETURN(std::vector<SchemaVersion> out, impl_->db->SchemaVersions());
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
    IntegrityBackend& db = *impl_->db;
    const std::int64_t now = SystemClock().NowMs();
    return db.InTransaction([&]() -> Status {
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
      VK_RETURN_IF_ERROR(db.ExecScriptChecked(spec.migration_script)
                             .WithContext("schema version " + spec.version));
      VK_RETURN_IF_ERROR(db.RecordVersion(spec.version, spec.description, spec.migration_script,
                                          spec.rollback_script, now)
                             .WithContext("record schema version"));
      return db.WriteAudit({"telemetry_schema_versions", spec.version, "INSERT", "",
                            VersionJson(spec.version, spec.description), "",
                            "schema version applied", "", now});
    }).WithContext("apply schema version");
  } catch (const std::exception& e) {
    return Status::Internal(std::string("apply schema version: ") + e.what());
  }
}

Result<SchemaChangeReport> DataIntegrityService::MigrateTo(std::string_view version) noexcept {
  try {
    std::unique_lock lock(impl_->mu);
    IntegrityBackend& db = *impl_->db;
    if (FindMigration(db, version) == nullptr) {
      return Status::InvalidArgument("unknown schema version \"" + std::string(version) +
                                     "\"; this build knows " + KnownVersions(db));
    }
    SchemaChangeReport report;
    VK_ASSIGN_OR_RETURN(bool reference, db.IsReferenceDatabase());
    if (reference) {
      // The reference's file is converted and brought to the newest schema in one transaction;
      // an older target is then reached by rolling back.
      report.from_version = "reference";
      VK_RETURN_IF_ERROR(db.MigrateReference(SystemClock().NowMs())
                             .WithContext("migrate the reference implementation's database"));
      for (const store::MigrationInfo& m : db.Migrations()) {
        report.steps.push_back({m.version, "migrate", m.description});
      }
      lock.unlock();
      if (version != db.Migrations().back().version) {
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
    for (const store::MigrationInfo& m : db.Migrations()) {
      if (integrity::CompareVersions(m.version, version) > 0) break;
      const bool applied = std::any_of(versions.begin(), versions.end(),
                                       [&](const auto& v) { return v.first == m.version; });
      if (applied) continue;
      const std::int64_t now = SystemClock().NowMs();
      const Status step = db.InTransaction([&]() -> Status {
        VK_RETURN_IF_ERROR(db.ApplyMigration(m.version, now));
        return db.WriteAudit({"telemetry_schema_versions", m.version, "INSERT", "",
                              VersionJson(m.version, m.description), "", "db migrate", "", now});
      });
      VK_RETURN_IF_ERROR(step.WithContext("migrate to " + m.version));
      report.steps.push_back({m.version, "migrate", m.description});
    }
    VK_RETURN_IF_ERROR(db.RebuildMissingRollups());
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
    IntegrityBackend& db = *impl_->db;
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
      const store::MigrationInfo* ours = FindMigration(db, v);
      const std::int64_t now = SystemClock().NowMs();
      const std::string description = ours != nullptr ? ours->description : std::string();
      if (ours == nullptr && stored_rollback.find_first_not_of(" \t\r\n;") == std::string::npos) {
        return Status::FailedPrecondition("schema version " + v +
                                          " has no rollback script; cannot roll back past it");
      }
      const Status step = db.InTransaction([&]() -> Status {
        if (ours != nullptr) {
          VK_RETURN_IF_ERROR(db.RollBackMigration(v).WithContext("rollback of " + v));
        } else {
          VK_RETURN_IF_ERROR(db.ExecScriptChecked(stored_rollback)
                                 .WithContext("rollback of " + v));
        }
        VK_RETURN_IF_ERROR(db.DeleteVersion(v));
        return db.WriteAudit({"telemetry_schema_versions", v, "DELETE",
                              VersionJson(v, description), "", "", "db rollback", "", now});
      });
      VK_RETURN_IF_ERROR(step.WithContext("rollback of " + v));
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
    IntegrityBackend& db = *impl_->db;
    ValidationReport report;
    VK_ASSIGN_OR_RETURN(auto versions, RecordedVersions(db));
    report.schema_version = versions.empty() ? "" : versions.front().first;
    const std::string latest(LatestSchemaVersion());
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
      IntegrityBackend& db = *impl_->db;
      std::int64_t audit_rows = 0;
      const Status applied = db.InTransaction([&]() -> Status {
        VK_ASSIGN_OR_RETURN(report.actions,
                            integrity::ApplyRepairs(db, found.findings, options,
                                                    SystemClock().NowMs(), &audit_rows));
        return Status::Ok();
      });
      VK_RETURN_IF_ERROR(applied.WithContext("repair"));
      report.audit_rows = audit_rows;
    }
    VK_ASSIGN_OR_RETURN(ValidationReport after, Validate(options.fix_constraints));
    report.remaining = std::move(after.findings);
    return report;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("repair: ") + e.what());
  }
}

}  // namespace vibekit
