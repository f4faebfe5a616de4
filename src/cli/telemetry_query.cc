// `vibekit telemetry query`: events matching filters, newest or oldest first.
#include <cstdio>

#include "cli/commands.h"
#include "views/time_arg.h"

namespace vibekit::cli {
namespace {

// First line of the event's text, for the table view.
std::string Summary(const Event& e) {
  const std::optional<std::string>& text = e.prompt ? e.prompt : e.stream_data;
  if (!text) return "";
  const auto nl = text->find('\n');
  return nl == std::string::npos ? *text : text->substr(0, nl) + " …";
}

}  // namespace

void RegisterQueryCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run) {
  struct Args {
    std::string session, agent, type, contains, since, until, order = "desc";
    std::int64_t limit = 50;
    std::int64_t offset = 0;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = telemetry.add_subcommand("query", "Events matching filters");
  cmd->add_option("--session", a->session, "Only this session id");
  cmd->add_option("--agent-type", a->agent, "Only this agent (claude, codex, ...)");
  cmd->add_option("--event-type", a->type, "start, stream, end or error")
      ->check(CLI::IsMember({"start", "stream", "end", "error"}));
  cmd->add_option("--contains", a->contains, "Text in the prompt or output (word starts)");
  cmd->add_option("--since", a->since, "From: 30m, 24h, 7d, ISO 8601 or epoch ms");
  cmd->add_option("--until", a->until, "Until: same forms as --since");
  cmd->add_option("--limit", a->limit, "Rows at most")->check(CLI::Range(1, 100000));
  cmd->add_option("--offset", a->offset, "Rows to skip")->check(CLI::NonNegativeNumber);
  cmd->add_option("--order", a->order, "By timestamp")->check(CLI::IsMember({"asc", "desc"}));
  cmd->footer(
      "Examples:\n  vibekit telemetry query --agent-type claude --event-type stream --since 1h\n"
      "  vibekit telemetry query --contains \"ECONNREFUSED\" --limit 20 --format json");
  cmd->callback([&global, &run, a] {
    run = [&global, a]() -> int {
      EventQueryFilter f;
      if (!ParseTimeFlag("--since", a->since, &f.from_time)) return kExitUsage;
      if (!ParseTimeFlag("--until", a->until, &f.to_time)) return kExitUsage;
      if (!a->session.empty()) f.session_id = a->session;
      if (!a->agent.empty()) f.agent_type = a->agent;
      if (!a->type.empty()) f.event_type = *ParseEventType(a->type);
      if (!a->contains.empty()) f.contains = a->contains;
      f.limit = a->limit;
      f.offset = a->offset;
      f.order = a->order == "asc" ? SortOrder::kAsc : SortOrder::kDesc;
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      auto events = service->QueryEvents(f);
      (void)service->Shutdown();
      if (!events.ok()) {
        return events.status().IsValidationError() ? UsageError(events.status().message())
                                                    : Fail(events.status().message());
      }
      Records r;
      r.columns = EventColumns();
      const OutputOptions out = MakeOutput(global);
      for (const Event& e : *events) {
        boost::json::object o = EventToJsonObject(e);
        if (out.format == Format::kTable) {
          o["text"] = Summary(e);
          o["timestamp"] = FormatTimestamp(e.timestamp);
        }
        r.rows.push_back(std::move(o));
      }
      Print(r, out, stdout);
      return kExitOk;
    };
  });
}

}  // namespace vibekit::cli
