// `vibekit telemetry stats [--breakdown agent,mode,event_type,status]`: totals and breakdowns
// read from the rollup, so it answers in milliseconds at any database size.
// With --since/--until the same figures are computed by SQL aggregation over the events whose
// timestamp and the sessions whose start_time fall in the range (bounds inclusive); the output
// then has a "range" object. --percentiles adds exact nearest-rank p50/p90/p95/p99 of session
// duration (completed/failed sessions) and of events per session, over all sessions or those
// started in the range.
#include <cstdio>
#include <algorithm>

#include <limits>

#include "cli/commands.h"

namespace vibekit::cli {

void RegisterStatsCommand(CLI::App& telemetry, const GlobalOptions& global, Runner& run) {
  auto breakdown = std::make_shared<std::vector<std::string>>();
  struct RangeArgs {
    std::string since, until;
    bool percentiles = false;
  };
  auto range = std::make_shared<RangeArgs>();
  CLI::App* cmd = telemetry.add_subcommand("stats", "Event and session statistics");
  cmd->add_option("--breakdown", *breakdown, "Sections: agent, mode, event_type, status")
      ->delimiter(',')
      ->check(CLI::IsMember({"agent", "mode", "event_type", "status"}));
  cmd->add_option("--since", range->since,
                  "Only events (and sessions started) from: 30m, 24h, 7d, ISO 8601 or epoch ms");
  cmd->add_option("--until", range->until, "Until (inclusive): same forms as --since");
  cmd->add_flag("--percentiles", range->percentiles,
                "Add p50/p90/p95/p99 of session duration and events per session");
  cmd->footer("Examples:\n  vibekit telemetry stats\n  vibekit telemetry stats --breakdown agent,mode --format json"
              "\n  vibekit telemetry stats --since 24h --percentiles");
  cmd->callback([&global, &run, breakdown, range] {
    run = [&global, breakdown, range]() -> int {
      std::optional<std::int64_t> from;
      std::optional<std::int64_t> to;
      if (!ParseTimeFlag("--since", range->since, &from)) return kExitUsage;
      if (!ParseTimeFlag("--until", range->until, &to)) return kExitUsage;
      if (from && to && *from > *to) return UsageError("--since is after --until");
      const bool ranged = from.has_value() || to.has_value();
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      auto stats = ranged ? service->GetAggregateStatsBetween(
                                from.value_or(std::numeric_limits<std::int64_t>::min()),
                                to.value_or(std::numeric_limits<std::int64_t>::max()))
                          : service->GetAggregateStats();
      std::optional<Result<SessionPercentiles>> pct;
      if (range->percentiles) pct = service->GetSessionPercentiles(from, to);
      (void)service->Shutdown();
      if (!stats.ok()) return Fail("cannot read statistics: " + stats.status().message());
      if (pct && !pct->ok()) return Fail("cannot read percentiles: " + pct->status().message());
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
      if (ranged) {
        boost::json::object r;
        r["from"] = from ? boost::json::value(*from) : nullptr;
        r["until"] = to ? boost::json::value(*to) : nullptr;
        o["range"] = std::move(r);
      }
      if (pct) {
        auto set = [](const PercentileSet& p) {
          auto v = [](const std::optional<std::int64_t>& x) {
            return x ? boost::json::value(*x) : boost::json::value(nullptr);
          };
          return boost::json::object{{"count", p.count}, {"p50", v(p.p50)}, {"p90", v(p.p90)},
                                     {"p95", v(p.p95)}, {"p99", v(p.p99)}};
        };
        o["percentiles"] = {{"sessionDurationMs", set((*pct)->duration_ms)},
                            {"eventsPerSession", set((*pct)->events_per_session)}};
      }
      PrintObject(o, MakeOutput(global), stdout);
      return kExitOk;
    };
  });
}

}  // namespace vibekit::cli
