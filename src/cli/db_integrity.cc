// `vibekit db audit|migrate|rollback|validate|repair`: the DataIntegrityService on the command
// line. Exit codes: 0 success, 1 a failure (or, for validate, findings; for repair, findings
// left), 2 a usage error.
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "vibekit/data_integrity.h"

namespace vibekit::cli {
namespace {

// Stored JSON text as a JSON value (text that is not JSON stays a string).
boost::json::value JsonOrText(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(*text, ec);
  if (ec) return boost::json::string(*text);
  return v;
}

std::string Compact(const std::optional<std::string>& text) { return text.value_or(""); }

boost::json::object FindingJson(const IntegrityFinding& f) {
  boost::json::object o;
  o["kind"] = FindingKindName(f.kind);
  o["table"] = f.table;
  o["record"] = f.record_id;
  o["detail"] = f.detail;
  o["needsFixConstraints"] = f.needs_fix_constraints;
  return o;
}

void PrintSchemaReport(const SchemaChangeReport& r, const GlobalOptions& global) {
  if (global.quiet) return;
  const OutputOptions out = MakeOutput(global);
  if (out.format == Format::kTable) {
    for (const SchemaStep& s : r.steps) {
      std::printf("%s %s: %s\n", s.direction == "migrate" ? "applied" : "rolled back",
                  s.version.c_str(), s.description.c_str());
    }
    std::printf("schema %s -> %s (%zu step%s)\n", r.from_version.empty() ? "none" : r.from_version.c_str(),
                r.to_version.c_str(), r.steps.size(), r.steps.size() == 1 ? "" : "s");
    return;
  }
  boost::json::object o;
  o["fromVersion"] = r.from_version;
  o["toVersion"] = r.to_version;
  boost::json::array steps;
  for (const SchemaStep& s : r.steps) {
    steps.push_back(boost::json::object{{"version", s.version}, {"direction", s.direction},
                                        {"description", s.description}});
  }
  o["steps"] = std::move(steps);
  PrintObject(o, out, stdout);
}

}  // namespace

std::unique_ptr<DataIntegrityService> OpenIntegrity(const GlobalOptions& global) {
  auto r = DataIntegrityService::Open(MakeConfig(global));
  if (!r.ok()) {
    FailStatus("open", r.status(), global);
    return nullptr;
  }
  return std::move(*r);
}

void RegisterDbIntegrityCommands(CLI::App& db, const GlobalOptions& global, Runner& run) {
  // --- audit ---
  {
    struct Opts {
      std::string table, since, until, record;
      int limit = 1000;
    };
    auto o = std::make_shared<Opts>();
    CLI::App* cmd = db.add_subcommand("audit", "Show the audit trail of a table");
    cmd->add_option("--table", o->table,
                    "Table: telemetry_sessions, telemetry_errors, telemetry_validation_rules, "
                    "telemetry_schema_versions, telemetry_stats, ...")
        ->required();
    cmd->add_option("--since", o->since, "From this time: 30m, 24h, 7d, ISO 8601 or epoch ms")
        ->required();
    cmd->add_option("--until", o->until, "Up to this time (same forms as --since)");
    cmd->add_option("--record", o->record, "Only this record (a session id, an error id, ...)");
    cmd->add_option("--limit", o->limit, "At most this many rows (1-100000)")
        ->check(CLI::Range(1, 100000));
    cmd->footer(
        "Examples:\n  vibekit db audit --table telemetry_sessions --since 24h\n"
        "  vibekit db audit --table telemetry_sessions --since 7d --record sess-42 --format json");
    cmd->callback([&global, &run, o] {
      run = [&global, o]() -> int {
        AuditQuery q;
        q.table = o->table;
        q.limit = o->limit;
        if (!o->record.empty()) q.record_id = o->record;
        if (!ParseTimeFlag("--since", o->since, &q.since_ms)) return kExitUsage;
        if (!ParseTimeFlag("--until", o->until, &q.until_ms)) return kExitUsage;
        auto svc = OpenIntegrity(global);
        if (!svc) return kExitFailure;
        auto rows = svc->QueryAudit(q);
        if (!rows.ok()) {
          if (rows.status().code() == StatusCode::kInvalidArgument) {
            return UsageError(rows.status().message());
          }
          return FailStatus("audit", rows.status(), global);
        }
        const OutputOptions out = MakeOutput(global);
        const bool table = out.format == Format::kTable;
        Records r;
        r.columns = {"time", "table", "record", "operation", "changedFields", "reason",
                     "oldValues", "newValues"};
        if (!table) r.columns.push_back("metadata");
        for (const AuditEntry& e : *rows) {
          boost::json::object row;
          row["id"] = e.id;
          row["time"] = FormatTimestamp(e.timestamp);
          row["table"] = e.table_name;
          row["record"] = e.record_id;
          row["operation"] = e.operation;
          if (table) {
            std::string fields;
            for (const std::string& f : e.changed_fields) fields += (fields.empty() ? "" : ",") + f;
            row["changedFields"] = fields;
            row["oldValues"] = Compact(e.old_values);
            row["newValues"] = Compact(e.new_values);
          } else {
            boost::json::array fields;
            for (const std::string& f : e.changed_fields) fields.push_back(boost::json::string(f));
            row["changedFields"] = std::move(fields);
            row["oldValues"] = JsonOrText(e.old_values);
            row["newValues"] = JsonOrText(e.new_values);
            row["metadata"] = JsonOrText(e.metadata);
          }
          row["reason"] = e.reason;
          r.rows.push_back(std::move(row));
        }
        if (!global.quiet) Print(r, out, stdout);
        return kExitOk;
      };
    });
  }
  // --- migrate ---
  {
    auto version = std::make_shared<std::string>();
    CLI::App* cmd = db.add_subcommand("migrate", "Apply the schema migrations up to a version");
    cmd->add_option("--to-version", *version, "Target version (default: the newest this build knows)");
    cmd->footer("Examples:\n  vibekit db migrate\n  vibekit db migrate --to-version 1.4.0 --format json");
    cmd->callback([&global, &run, version] {
      run = [&global, version]() -> int {
        auto svc = OpenIntegrity(global);
        if (!svc) return kExitFailure;
        std::string target = *version;
        if (target.empty()) target = std::string(DataIntegrityService::LatestSchemaVersion());
        auto r = svc->MigrateTo(target);
        if (!r.ok()) {
          if (r.status().code() == StatusCode::kInvalidArgument) return UsageError(r.status().message());
          return FailStatus("migrate", r.status(), global);
        }
        PrintSchemaReport(*r, global);
        return kExitOk;
      };
    });
  }
  // --- rollback ---
  {
    auto version = std::make_shared<std::string>();
    CLI::App* cmd = db.add_subcommand(
        "rollback", "Roll the schema back to a version (data it cannot hold is kept aside)");
    cmd->add_option("--to-version", *version, "Version to end at (must be applied)")->required();
    cmd->footer("Examples:\n  vibekit db rollback --to-version 1.4.0\n"
                "  vibekit db migrate   # back to the newest, putting the kept data back");
    cmd->callback([&global, &run, version] {
      run = [&global, version]() -> int {
        auto svc = OpenIntegrity(global);
        if (!svc) return kExitFailure;
        auto r = svc->RollbackTo(*version);
        if (!r.ok()) {
          if (r.status().code() == StatusCode::kInvalidArgument) return UsageError(r.status().message());
          return FailStatus("rollback", r.status(), global);
        }
        PrintSchemaReport(*r, global);
        return kExitOk;
      };
    });
  }
  // --- validate ---
  {
    auto fk = std::make_shared<bool>(false);
    CLI::App* cmd = db.add_subcommand(
        "validate", "Check integrity, orphaned rows, session counters and rollups");
    cmd->add_flag("--foreign-keys", *fk,
                  "Also check every foreign key of every table (SQLite: PRAGMA "
                  "foreign_key_check; PostgreSQL: a query per key)");
    cmd->footer("Exit code 1 when anything is found.\nExamples:\n  vibekit db validate\n"
                "  vibekit db validate --foreign-keys --format json");
    cmd->callback([&global, &run, fk] {
      run = [&global, fk]() -> int {
        auto svc = OpenIntegrity(global);
        if (!svc) return kExitFailure;
        auto r = svc->Validate(*fk);
        if (!r.ok()) return FailStatus("validate", r.status(), global);
        const OutputOptions out = MakeOutput(global);
        if (!global.quiet) {
          if (out.format == Format::kTable) {
            for (const IntegrityFinding& f : r->findings) {
              std::printf("%-22s %s\n", std::string(FindingKindName(f.kind)).c_str(),
                          f.detail.c_str());
            }
            std::printf("%s: %zu finding%s (schema %s%s)\n", r->ok() ? "ok" : "problems",
                        r->findings.size(), r->findings.size() == 1 ? "" : "s",
                        r->schema_version.c_str(), *fk ? ", foreign keys checked" : "");
          } else {
            boost::json::object o;
            o["ok"] = r->ok();
            o["schemaVersion"] = r->schema_version;
            o["foreignKeysChecked"] = r->foreign_keys_checked;
            boost::json::array findings;
            for (const IntegrityFinding& f : r->findings) findings.push_back(FindingJson(f));
            o["findings"] = std::move(findings);
            PrintObject(o, out, stdout);
          }
        }
        return r->ok() ? kExitOk : kExitFailure;
      };
    });
  }
  // --- repair ---
  {
    struct Opts {
      bool fix_constraints = false, dry_run = false, yes = false;
    };
    auto o = std::make_shared<Opts>();
    CLI::App* cmd = db.add_subcommand("repair", "Fix what db validate finds (each fix audited)");
    cmd->add_flag("--fix-constraints", o->fix_constraints,
                  "Also fix orphaned rows and foreign-key violations");
    auto* dry = cmd->add_flag("--dry-run", o->dry_run, "Only list what would be done");
    auto* yes = cmd->add_flag("-y,--yes", o->yes,
                              "Apply without asking (required when not on a terminal)");
    dry->excludes(yes);
    cmd->footer("On a terminal it lists the fixes and asks; elsewhere pass --dry-run or --yes.\n"
                "Examples:\n  vibekit db repair --dry-run\n  vibekit db repair --fix-constraints --yes");
    cmd->callback([&global, &run, o] {
      run = [&global, o]() -> int {
        const bool tty = isatty(STDIN_FILENO) != 0;
        if (!o->dry_run && !o->yes && !tty) {
          return UsageError("db repair changes the database; standard input is not a terminal, "
                            "so pass --yes to apply or --dry-run to only list the fixes");
        }
        auto svc = OpenIntegrity(global);
        if (!svc) return kExitFailure;
        RepairOptions options;
        options.fix_constraints = o->fix_constraints;
        options.reason = "vibekit db repair";
        options.dry_run = true;
        auto plan = svc->Repair(options);
        if (!plan.ok()) return FailStatus("repair", plan.status(), global);
        const OutputOptions out = MakeOutput(global);
        auto print_actions = [&](const RepairReport& rep) {
          if (global.quiet) return;
          if (out.format == Format::kTable) {
            for (const RepairAction& a : rep.actions) {
              std::printf("%s %-22s %s\n    -> %s\n", a.applied ? "fixed" : (rep.dry_run ? "plan " : "kept "),
                          std::string(FindingKindName(a.finding.kind)).c_str(),
                          a.finding.detail.c_str(), a.action.c_str());
            }
            if (rep.dry_run) {
              std::printf("dry run: %zu finding%s, nothing changed\n", rep.actions.size(),
                          rep.actions.size() == 1 ? "" : "s");
            } else {
              std::printf("repaired: %zu action%s, %lld audit row%s, %zu finding%s left\n",
                          rep.actions.size(), rep.actions.size() == 1 ? "" : "s",
                          static_cast<long long>(rep.audit_rows), rep.audit_rows == 1 ? "" : "s",
                          rep.remaining.size(), rep.remaining.size() == 1 ? "" : "s");
            }
            return;
          }
          boost::json::object j;
          j["dryRun"] = rep.dry_run;
          boost::json::array actions;
          for (const RepairAction& a : rep.actions) {
            boost::json::object x = FindingJson(a.finding);
            x["action"] = a.action;
            x["applied"] = a.applied;
            actions.push_back(std::move(x));
          }
          j["actions"] = std::move(actions);
          j["auditRows"] = rep.audit_rows;
          boost::json::array left;
          for (const IntegrityFinding& f : rep.remaining) left.push_back(FindingJson(f));
          j["remaining"] = std::move(left);
          PrintObject(j, out, stdout);
        };
        if (plan->actions.empty()) {
          if (!global.quiet) {
            if (out.format == Format::kTable) {
              std::printf("nothing to repair\n");
            } else {
              print_actions(*plan);
            }
          }
          return kExitOk;
        }
        if (o->dry_run) {
          print_actions(*plan);
          return kExitOk;
        }
        if (!o->yes) {
          // On a terminal: show the plan, then ask.
          print_actions(*plan);
          std::fprintf(stderr, "Apply these fixes? [y/N] ");
          std::fflush(stderr);
          std::string answer;
          std::getline(std::cin, answer);
          if (answer != "y" && answer != "Y" && answer != "yes" && answer != "YES" &&
              answer != "Yes") {
            return Fail("cancelled; nothing was changed");
          }
        }
        options.dry_run = false;
        auto done = svc->Repair(options);
        if (!done.ok()) return FailStatus("repair", done.status(), global);
        print_actions(*done);
        return done->remaining.empty() ? kExitOk : kExitFailure;
      };
    });
  }
}

}  // namespace vibekit::cli
