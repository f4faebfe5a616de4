// `vibekit db performance [--benchmark] [--optimization-report] [--analyze] [--slow-queries]`:
// times the standard queries on this database (session events, latest 100 of the busiest agent,
// a page of sessions by status, the statistics aggregate, a text search for a word from the
// data) N times each (20, or 200 with --benchmark) and reports p50/p95. --analyze and
// --optimization-report add the query plans (EXPLAIN QUERY PLAN of every statement each query
// runs), full scans of telemetry_events, planner statistics and text-index segments, with
// recommendations; --slow-queries lists the queries whose median is above 10 ms.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/db_maintenance.h"

namespace vibekit::cli {
namespace {

constexpr double kSlowQueryMs = 10.0;

struct PerformanceFlags {
  bool benchmark = false;
  bool optimization_report = false;
  bool analyze = false;
  bool slow_queries = false;
};

boost::json::array Strings(const std::vector<std::string>& v) {
  boost::json::array a;
  for (const std::string& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

void RegisterDbPerformanceCommand(CLI::App& db, const GlobalOptions& global, Runner& run) {
  auto flags = std::make_shared<PerformanceFlags>();
  CLI::App* cmd = db.add_subcommand("performance", "Time the standard queries on this database");
  cmd->add_flag("--benchmark", flags->benchmark, "200 runs per query instead of 20");
  cmd->add_flag("--optimization-report", flags->optimization_report,
                "Query plans, findings and recommendations");
  cmd->add_flag("--analyze", flags->analyze, "Query plans (EXPLAIN QUERY PLAN) and findings");
  cmd->add_flag("--slow-queries", flags->slow_queries,
                "List the queries slower than 10 ms (median)");
  cmd->footer("Examples:\n  vibekit db performance\n  vibekit db performance --analyze\n"
              "  vibekit db performance --benchmark --slow-queries --format json");
  cmd->callback([&global, &run, flags] {
    run = [&global, flags]() -> int {
      const bool report = flags->analyze || flags->optimization_report;
      auto service = OpenService(global, /*must_exist=*/true);
      if (!service) return kExitFailure;
      QueryBenchmarkOptions options;
      options.runs = flags->benchmark ? 200 : 20;
      options.explain = report;
      auto r = service->BenchmarkQueries(options);
      Status st = service->Shutdown();
      if (!r.ok()) return Fail("performance measurement failed: " + r.status().message());
      if (!st.ok()) return Fail(st.ToString());

      boost::json::object o;
      o["dbPath"] = service->config().local_store.db_path;
      o["runs"] = options.runs;
      o["events"] = r->events;
      o["sessions"] = r->sessions;
      Records table;
      table.columns = {"name", "rows", "p50Ms", "p95Ms", "maxMs", "description"};
      if (report) table.columns.insert(table.columns.begin() + 5, "fullScan");
      boost::json::array queries;
      boost::json::array slow;
      for (const QueryTiming& t : r->queries) {
        boost::json::object q;
        q["name"] = t.name;
        q["description"] = t.description;
        q["runs"] = t.runs;
        q["rows"] = t.rows;
        q["p50Ms"] = RoundMs(t.p50_ms);
        q["p95Ms"] = RoundMs(t.p95_ms);
        q["minMs"] = RoundMs(t.min_ms);
        q["maxMs"] = RoundMs(t.max_ms);
        if (report) {
          q["fullScan"] = t.full_scan;
          boost::json::array plans;
          for (const QueryTiming::Plan& p : t.plans) {
            boost::json::object plan;
            plan["sql"] = p.sql;
            plan["plan"] = Strings(p.rows);
            plans.push_back(std::move(plan));
          }
          q["plans"] = std::move(plans);
        }
        if (t.p50_ms > kSlowQueryMs) {
          boost::json::object s;
          s["name"] = t.name;
          s["description"] = t.description;
          s["p50Ms"] = RoundMs(t.p50_ms);
          s["p95Ms"] = RoundMs(t.p95_ms);
          slow.push_back(std::move(s));
        }
        table.rows.push_back(q);
        queries.push_back(std::move(q));
      }
      o["queries"] = std::move(queries);
      if (report) {
        o["plannerStatistics"] = r->planner_statistics;
        o["ftsSegments"] = r->fts_segments;
        o["ftsDataRows"] = r->fts_data_rows;
        o["findings"] = Strings(r->findings);
        o["recommendations"] = Strings(r->recommendations);
      }
      if (flags->slow_queries) {
        o["slowQueryThresholdMs"] = kSlowQueryMs;
        o["slowQueries"] = std::move(slow);
      }
      if (global.quiet) return kExitOk;
      const OutputOptions out = MakeOutput(global);
      if (out.format != Format::kTable) {
        PrintObject(o, out, stdout);
        return kExitOk;
      }
      Print(table, out, stdout);
      if (report) {
        for (const QueryTiming& t : r->queries) {
          std::printf("\nplan of %s:\n", t.name.c_str());
          for (const QueryTiming::Plan& p : t.plans) {
            std::printf("  %s\n", p.sql.c_str());
            for (const std::string& row : p.rows) std::printf("    %s\n", row.c_str());
          }
        }
      }
      std::fputc('\n', stdout);
      boost::json::object summary = o;
      summary.erase("queries");
      PrintObject(summary, out, stdout);
      return kExitOk;
    };
  });
}

}  // namespace vibekit::cli
