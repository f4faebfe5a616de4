#include "service/maintenance.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"

namespace vibekit::service {
namespace {

double NowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Nearest-rank percentile of sorted values.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double exact = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const auto rank = static_cast<std::size_t>(std::max(1.0, exact));
  return sorted[std::min(sorted.size(), rank) - 1];
}

// The most frequent word (>= 5 ASCII letters) in the texts, "" when none.
std::string FrequentWord(const std::vector<Event>& events) {
  std::map<std::string, int> counts;
  auto scan = [&](const std::optional<std::string>& text) {
    if (!text) return;
    std::string word;
    auto finish = [&] {
      if (word.size() >= 5) ++counts[word];
      word.clear();
    };
    for (const char ch : *text) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x80 && std::isalpha(c)) {
        word += static_cast<char>(std::tolower(c));
      } else {
        finish();
      }
    }
    finish();
  };
  for (const Event& e : events) {
    scan(e.prompt);
    scan(e.stream_data);
  }
  std::string best;
  int best_n = 0;
  for (const auto& [w, n] : counts) {
    if (n > best_n) {
      best = w;
      best_n = n;
    }
  }
  return best;
}

struct StandardQuery {
  std::string name;
  std::string description;
  std::function<Result<std::int64_t>()> run;  // returns the row count
};

}  // namespace

Result<QueryBenchmarkReport> RunQueryBenchmark(const TelemetryService& service, store::Store& store,
                                               const QueryBenchmarkOptions& options) {
  if (options.runs < 1 || options.runs > 100000) {
    return Status::InvalidArgument("runs must be between 1 and 100000 (got " +
                                   std::to_string(options.runs) + ")");
  }
  QueryBenchmarkReport rep;
  VK_ASSIGN_OR_RETURN(AggregateStats stats, service.GetAggregateStats());
  rep.events = stats.total.total_events;
  rep.sessions = stats.total.sessions;

  // Arguments taken from this database.
  std::string agent;
  std::int64_t agent_events = -1;
  for (const auto& [name, c] : stats.by_agent) {
    if (c.total_events > agent_events) {
      agent = name;
      agent_events = c.total_events;
    }
  }
  SessionStatus status = SessionStatus::kActive;
  std::int64_t status_n = stats.total.active_sessions;
  for (const auto& [s, n] : {std::pair{SessionStatus::kCompleted, stats.total.completed_sessions},
                             std::pair{SessionStatus::kFailed, stats.total.failed_sessions},
                             std::pair{SessionStatus::kTimeout, stats.total.timeout_sessions}}) {
    if (n > status_n) {
      status = s;
      status_n = n;
    }
  }
  SessionQueryFilter latest;
  latest.limit = 1;
  VK_ASSIGN_OR_RETURN(std::vector<Session> newest, service.QuerySessions(latest));
  const std::string session_id = newest.empty() ? std::string() : newest.front().id;
  EventQueryFilter agent_filter;
  agent_filter.agent_type = agent;
  agent_filter.limit = 100;
  agent_filter.order = SortOrder::kDesc;
  std::string word;
  if (!agent.empty()) {
    VK_ASSIGN_OR_RETURN(std::vector<Event> sample, service.QueryEvents(agent_filter));
    word = FrequentWord(sample);
  }

  std::vector<StandardQuery> queries;
  auto count_events = [&service](EventQueryFilter f) {
    return [&service, f]() -> Result<std::int64_t> {
      VK_ASSIGN_OR_RETURN(std::vector<Event> v, service.QueryEvents(f));
      return static_cast<std::int64_t>(v.size());
    };
  };
  if (!session_id.empty()) {
    EventQueryFilter f;
    f.session_id = session_id;
    f.limit = 1000;
    queries.push_back(
        {"session_events", "events of session " + session_id + " (up to 1000)", count_events(f)});
  }
  if (!agent.empty()) {
    queries.push_back(
        {"agent_latest_100", "latest 100 events of agent " + agent, count_events(agent_filter)});
  }
  {
    SessionQueryFilter f;
    f.status = status;
    f.limit = 50;
    queries.push_back(
        {"sessions_by_status",
         "a page of 50 sessions with status " + std::string(SessionStatusName(status)),
         [&service, f]() -> Result<std::int64_t> {
           VK_ASSIGN_OR_RETURN(std::vector<Session> v, service.QuerySessions(f));
           return static_cast<std::int64_t>(v.size());
         }});
  }
  queries.push_back(
      {"aggregate_stats", "statistics aggregate (rollup)", [&service]() -> Result<std::int64_t> {
         VK_ASSIGN_OR_RETURN(AggregateStats a, service.GetAggregateStats());
         return static_cast<std::int64_t>(1 + a.by_agent.size() + a.by_mode.size());
       }});
  if (!word.empty()) {
    EventQueryFilter f;
    f.contains = word;
    f.limit = 50;
    f.order = SortOrder::kDesc;
    queries.push_back(
        {"text_search", "latest 50 events containing \"" + word + "\"", count_events(f)});
  }

  auto* sqlite = dynamic_cast<store::sqlite::SqliteStore*>(&store);
  auto* pg = dynamic_cast<store::postgres::PgStore*>(&store);
  for (StandardQuery& q : queries) {
    QueryTiming t;
    t.name = q.name;
    t.description = q.description;
    t.runs = options.runs;
    if (options.explain && sqlite != nullptr) {
      // One run under capture: the statements it ran, then their plans.
      store::sqlite::SqliteStore::SqlCapture capture;
      VK_RETURN_IF_ERROR(q.run().status());
      for (const std::string& sql : capture.statements()) {
        VK_ASSIGN_OR_RETURN(std::vector<std::string> rows, sqlite->ExplainQueryPlan(sql));
        for (const std::string& row : rows) t.full_scan = t.full_scan || IsFullEventScan(row);
        t.plans.push_back({sql, std::move(rows)});
      }
    } else if (options.explain && pg != nullptr) {
      // The same on PostgreSQL: EXPLAIN of each statement with the parameters it ran with.
      store::postgres::PgStore::SqlCapture capture;
      VK_RETURN_IF_ERROR(q.run().status());
      for (const auto& [sql, params] : capture.statements()) {
        VK_ASSIGN_OR_RETURN(std::vector<std::string> rows, pg->ExplainQueryPlan(sql, params));
        for (const std::string& row : rows) t.full_scan = t.full_scan || IsFullEventScan(row);
        t.plans.push_back({sql, std::move(rows)});
      }
    } else {
      VK_RETURN_IF_ERROR(q.run().status());  // warm-up: caches and prepared statements
    }
    std::vector<double> ms;
    ms.reserve(static_cast<std::size_t>(options.runs));
    for (int i = 0; i < options.runs; ++i) {
      const double t0 = NowMs();
      VK_ASSIGN_OR_RETURN(t.rows, q.run());
      ms.push_back(NowMs() - t0);
    }
    std::sort(ms.begin(), ms.end());
    t.p50_ms = Percentile(ms, 50);
    t.p95_ms = Percentile(ms, 95);
    t.min_ms = ms.front();
    t.max_ms = ms.back();
    if (t.full_scan) {
      rep.findings.push_back("full scan: " + t.name + " (" + t.description +
                             ") reads telemetry_events without an index");
    }
    rep.queries.push_back(std::move(t));
  }

  VK_ASSIGN_OR_RETURN(store::Store::PlannerState ps, store.GetPlannerState());
  rep.planner_statistics = ps.statistics;
  rep.fts_segments = ps.fts_segments;
  rep.fts_data_rows = ps.fts_data_rows;
  if (rep.events == 0) {
    rep.findings.push_back("the database holds no events: the timings say little");
  }
  if (!ps.statistics) {
    rep.findings.push_back(
        "no planner statistics (sqlite_stat1 is missing or empty: ANALYZE "
        "never ran)");
    rep.recommendations.push_back("run `vibekit db optimize` to gather planner statistics");
  }
  if (ps.fts_segments > kFtsSegmentsRecommendOptimize) {
    rep.findings.push_back("the text index has " + std::to_string(ps.fts_segments) +
                           " segments (more than " + std::to_string(kFtsSegmentsRecommendOptimize) +
                           ")");
    rep.recommendations.push_back("run `vibekit db optimize` to merge the text index segments");
  }
  if (std::any_of(rep.queries.begin(), rep.queries.end(),
                  [](const QueryTiming& t) { return t.full_scan; })) {
    rep.recommendations.push_back(
        "run `vibekit db optimize --rebuild-indexes`; if the full scan stays, report it");
  }
  return rep;
}

bool IsFullEventScan(std::string_view row) {
  while (!row.empty() && row.front() == ' ') row.remove_prefix(1);
  // PostgreSQL's EXPLAIN: "Seq Scan on telemetry_events  (cost=...)", nested rows after "->".
  if (row.substr(0, 2) == "->") {
    row.remove_prefix(2);
    while (!row.empty() && row.front() == ' ') row.remove_prefix(1);
  }
  constexpr std::string_view kSeqScan = "Seq Scan on telemetry_events";
  if (row.substr(0, kSeqScan.size()) == kSeqScan) {
    const std::string_view rest = row.substr(kSeqScan.size());
    return rest.empty() || rest.front() == ' ';
  }
  constexpr std::string_view kScan = "SCAN telemetry_events";
  if (row.substr(0, kScan.size()) != kScan) return false;
  const std::string_view rest = row.substr(kScan.size());
  if (!rest.empty() && rest.front() != ' ') return false;  // telemetry_events_fts, ...
  return rest.find("USING") == std::string_view::npos;
}

}  // namespace vibekit::service
