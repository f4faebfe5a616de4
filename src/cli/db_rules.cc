// `vibekit db rules list|add|enable|disable|remove`: the validation rules of
// DataIntegrityService (include/vibekit/validation_rule.h). Exit codes: 0 success, 1 a failure
// (unknown id, unreadable database), 2 a usage error (bad rule, bad config).
#include <boost/json.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "vibekit/data_integrity.h"

namespace vibekit::cli {
namespace {

// enable / disable / remove: one id, one call.
void AddIdCommand(CLI::App& rules, const GlobalOptions& global, Runner& run, const char* name,
                  const char* help, const char* done,
                  Status (*call)(DataIntegrityService&, std::int64_t)) {
  auto id = std::make_shared<std::int64_t>(0);
  CLI::App* cmd = rules.add_subcommand(name, help);
  cmd->add_option("id", *id, "Rule id (see `vibekit db rules list`)")->required();
  cmd->callback([&global, &run, id, name, done, call] {
    run = [&global, id, name, done, call]() -> int {
      auto svc = OpenIntegrity(global);
      if (!svc) return kExitFailure;
      Status st = call(*svc, *id);
      if (!st.ok()) return FailStatus(std::string("rules ") + name, st, global);
      if (!global.quiet) std::printf("validation rule %lld %s\n", static_cast<long long>(*id), done);
      return kExitOk;
    };
  });
}

}  // namespace

void RegisterDbRulesCommands(CLI::App& db, const GlobalOptions& global, Runner& run) {
  CLI::App* rules = db.add_subcommand(
      "rules", "Validation rules applied to every incoming event (list, add, enable, disable, remove)");
  rules->require_subcommand(1);
  // --- list ---
  {
    CLI::App* cmd = rules->add_subcommand("list", "List the validation rules, active or not");
    cmd->footer("Examples:\n  vibekit db rules list\n  vibekit db rules list --format json");
    cmd->callback([&global, &run] {
      run = [&global]() -> int {
        auto svc = OpenIntegrity(global);
        if (!svc) return kExitFailure;
        auto list = svc->ListValidationRules();
        if (!list.ok()) return FailStatus("rules list", list.status(), global);
        const OutputOptions out = MakeOutput(global);
        Records r;
        r.columns = {"id", "table", "field", "type", "config", "message", "active", "priority"};
        for (const ValidationRule& rule : *list) {
          boost::json::object row;
          row["id"] = rule.id;
          row["table"] = rule.table_name;
          row["field"] = rule.field_name;
          row["type"] = ValidationRuleTypeName(rule.rule_type);
          row["config"] = rule.rule_config;
          row["message"] = rule.error_message;
          row["active"] = rule.is_active;
          row["priority"] = rule.priority;
          r.rows.push_back(std::move(row));
        }
        if (!global.quiet) Print(r, out, stdout);
        return kExitOk;
      };
    });
  }
  // --- add ---
  {
    struct Opts {
      std::string table = "telemetry_events", field, type, config, message;
      int priority = 0;
      bool inactive = false;
    };
    auto o = std::make_shared<Opts>();
    CLI::App* cmd = rules->add_subcommand("add", "Add a validation rule");
    cmd->add_option("--table", o->table,
                    "telemetry_events (default), telemetry_sessions or telemetry_errors");
    cmd->add_option("--field", o->field,
                    "Field: sessionId, agentType, mode, eventType, prompt, streamData, sandboxId, "
                    "repoUrl, metadata, timestamp, metadata.<key>; errors: message, type, stack, "
                    "context")
        ->required();
    cmd->add_option("--type", o->type, "enum, regex, range, required, max_length or json_type")
        ->required();
    cmd->add_option("--config", o->config,
                    "JSON: enum [\"a\",\"b\"]; regex \"^x\"; range {\"min\":0,\"max\":9}; "
                    "max_length 100; json_type \"object\" or [\"string\",\"null\"]");
    cmd->add_option("--message", o->message, "Error message given with a rejection");
    cmd->add_option("--priority", o->priority, "Higher runs first (default 0)");
    cmd->add_flag("--inactive", o->inactive, "Store it disabled");
    cmd->footer(
        "A running service applies a new rule within localStore.rules_refresh_ms (1 s).\n"
        "Examples:\n"
        "  vibekit db rules add --field eventType --type enum "
        "--config '[\"start\",\"stream\",\"end\",\"error\"]' --message 'Invalid event type'\n"
        "  vibekit db rules add --field metadata.userId --type regex --config '\"^u-[0-9]+$\"'");
    cmd->callback([&global, &run, o] {
      run = [&global, o]() -> int {
        auto type = ParseValidationRuleType(o->type);
        if (!type.ok()) return UsageError(type.status().message());
        ValidationRule rule;
        rule.table_name = o->table;
        rule.field_name = o->field;
        rule.rule_type = *type;
        rule.rule_config = o->config;
        rule.error_message = o->message;
        rule.priority = o->priority;
        rule.is_active = !o->inactive;
        auto svc = OpenIntegrity(global);
        if (!svc) return kExitFailure;
        auto id = svc->AddValidationRule(rule);
        if (!id.ok()) {
          if (id.status().code() == StatusCode::kInvalidArgument) {
            return UsageError(id.status().message());
          }
          return FailStatus("rules add", id.status(), global);
        }
        if (global.quiet) return kExitOk;
        const OutputOptions out = MakeOutput(global);
        if (out.format == Format::kTable) {
          std::printf("added validation rule %lld\n", static_cast<long long>(*id));
        } else {
          PrintObject(boost::json::object{{"id", *id}}, out, stdout);
        }
        return kExitOk;
      };
    });
  }
  AddIdCommand(*rules, global, run, "enable", "Turn a validation rule on", "enabled",
               [](DataIntegrityService& s, std::int64_t id) { return s.SetValidationRuleActive(id, true); });
  AddIdCommand(*rules, global, run, "disable", "Turn a validation rule off (kept, listed)",
               "disabled",
               [](DataIntegrityService& s, std::int64_t id) { return s.SetValidationRuleActive(id, false); });
  AddIdCommand(*rules, global, run, "remove", "Delete a validation rule", "removed",
               [](DataIntegrityService& s, std::int64_t id) { return s.RemoveValidationRule(id); });
}

}  // namespace vibekit::cli
