// `vibekit telemetry sessions`: sessions matching filters, newest first; --with-events and
// --with-errors nest each session's events / errors (JSON and NDJSON) or list them (table, CSV
// show the session rows).
#include <cstdio>

#include "cli/commands.h"
#include "views/time_arg.h"

namespace vibekit::cli {

void RegisterSessionsCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run) {
  struct Args {
    std::string status, agent, mode, since, until;
    std::int64_t limit = 50;
    std::int64_t offset = 0;
    bool with_events = false;
    bool with_errors = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = telemetry.add_subcommand("sessions", "Agent sessions matching filters");
  cmd->add_option("--status", a->status, "active, completed, failed or timeout")
      ->check(CLI::IsMember({"active", "completed", "failed", "timeout"}));
  cmd->add_option("--agent", a->agent, "Only this agent");
  cmd->add_option("--mode", a->mode, "Only this mode (code, ask, ...)");
  cmd->add_option("--since", a->since, "Started from: 30m, 24h, 7d, ISO 8601 or epoch ms");
  cmd->add_option("--until", a->until, "Started until: same forms as --since");
  cmd->add_option("--limit", a->limit, "Sessions at most")->check(CLI::Range(1, 100000));
  cmd->add_option("--offset", a->offset, "Sessions to skip")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--with-events", a->with_events, "Include each session's events (JSON)");
  cmd->add_flag("--with-errors", a->with_errors, "Include each session's errors (JSON)");
  cmd->footer(
      "Examples:\n  vibekit telemetry sessions --status active --since 24h\n"
      "  vibekit telemetry sessions --agent claude --with-errors --format json");
  cmd->callback([&global, &run, a] {
    run = [&global, a]() -> int {
      SessionQueryFilter f;
      if (!ParseTimeFlag("--since", a->since, &f.from_time)) return kExitUsage;
      if (!ParseTimeFlag("--until", a->until, &f.to_time)) return kExitUsage;
      if (!a->status.empty()) f.status = *ParseSessionStatus(a->status);
      if (!a->agent.empty()) f.agent_type = a->agent;
      if (!a->mode.empty()) f.mode = a->mode;
      f.limit = a->limit;
      f.offset = a->offset;
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      auto sessions = service->QuerySessions(f);
      if (!sessions.ok()) return Fail(sessions.status().message());
      Records r;
      r.columns = SessionColumns();
      const OutputOptions out = MakeOutput(global);
      for (const Session& s : *sessions) {
        boost::json::object o = SessionToJsonObject(s);
        if (out.format == Format::kTable) o["startTime"] = FormatTimestamp(s.start_time);
        if (a->with_events) {
          EventQueryFilter ef;
          ef.session_id = s.id;
          ef.limit = 100000;
          auto events = service->QueryEvents(ef);
          if (!events.ok()) return Fail(events.status().message());
          boost::json::array arr;
          for (const Event& e : *events) arr.push_back(EventToJsonObject(e));
          o["events"] = std::move(arr);
        }
        if (a->with_errors) {
          auto errors = service->GetSessionErrors(s.id);
          if (!errors.ok()) return Fail(errors.status().message());
          boost::json::array arr;
          for (const ErrorRecord& e : *errors) {
            boost::json::object eo;
            eo["id"] = e.id;
            eo["eventId"] = e.event_id ? boost::json::value(*e.event_id) : boost::json::value(nullptr);
            eo["errorType"] = e.error_type;
            eo["errorMessage"] = e.error_message;
            eo["severity"] = std::string(ErrorSeverityName(e.severity));
            eo["timestamp"] = e.timestamp;
            arr.push_back(std::move(eo));
          }
          o["errors"] = std::move(arr);
        }
        r.rows.push_back(std::move(o));
      }
      (void)service->Shutdown();
      Print(r, out, stdout);
      return kExitOk;
    };
  });
}

}  // namespace vibekit::cli
