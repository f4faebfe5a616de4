// `vibekit telemetry stats [--breakdown agent,mode,event_type,status]`: totals and breakdowns
// read from the rollup, so it answers in milliseconds at any database size.
#include <cstdio>
#include <algorithm>

#include "cli/commands.h"

namespace vibekit::cli {

void RegisterStatsCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run) {
  auto breakdown = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = telemetry.add_subcommand("stats", "Event and session statistics");
  cmd->add_option("--breakdown", *breakdown, "Sections: agent, mode, event_type, status")
      ->delimiter(',')
      ->check(CLI::IsMember({"agent", "mode", "event_type", "status"}));
  cmd->footer("Examples:\n  vibekit telemetry stats\n  vibekit telemetry stats --breakdown agent,mode --format json");
  cmd->callback([&global, &run, breakdown] {
    run = [&global, breakdown]() -> int {
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      auto stats = service->GetAggregateStats();
      (void)service->Shutdown();
      if (!stats.ok()) return Fail("cannot read statistics: " + stats.status().message());
      const RollupCounts& t = stats->total;
      boost::json::object o;
      o["total"] = RollupToJsonObject(t);
      o["errorEventRatePct"] = stats->error_event_rate_pct;
      o["sessionErrorRatePct"] = stats->session_error_rate_pct;
      auto wants = [&](const char* s) {
        return breakdown->empty() || std::find(breakdown->begin(), breakdown->end(), s) != breakdown->end();
      };
      if (wants("agent")) {
        boost::json::object by;
        for (const auto& [k, c] : stats->by_agent) by[k] = RollupToJsonObject(c);
        o["byAgent"] = std::move(by);
      }
      if (wants("mode")) {
        boost::json::object by;
        for (const auto& [k, c] : stats->by_mode) by[k.empty() ? "(none)" : k] = RollupToJsonObject(c);
        o["byMode"] = std::move(by);
      }
      if (wants("event_type")) {
        o["byEventType"] = {{"start", t.start_events}, {"stream", t.stream_events},
                            {"end", t.end_events}, {"error", t.error_events}};
      }
      if (wants("status")) {
        o["byStatus"] = {{"active", t.active_sessions}, {"completed", t.completed_sessions},
                         {"failed", t.failed_sessions}, {"timeout", t.timeout_sessions}};
      }
      PrintObject(o, MakeOutput(global), stdout);
      return kExitOk;
    };
  });
}

}  // namespace vibekit::cli
