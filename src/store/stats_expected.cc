#include "store/stats_expected.h"

namespace vibekit::store {
namespace {

// Expected telemetry_stats rows, computed from the events and sessions as the store keeps them
// (store/session_merge.cc: events counted under global, their agent and their mode; sessions
// under global, their agent and their mode; min/max timestamps on global and agent rows).
// Portable SQL (SQLite and PostgreSQL): temporary tables, no boolean sums.
constexpr std::string_view kExpectedStats = R"sql(
DROP TABLE IF EXISTS vk_ev; DROP TABLE IF EXISTS vk_ss; DROP TABLE IF EXISTS vk_expected_stats;
CREATE TEMP TABLE vk_ev AS SELECT agent_type AS agent, coalesce(mode, '') AS mode,
  event_type AS type, count(*) AS n, min(timestamp) AS lo, max(timestamp) AS hi
  FROM telemetry_events GROUP BY 1, 2, 3;
CREATE TEMP TABLE vk_ss AS SELECT coalesce(agent_type, '') AS agent, coalesce(mode, '') AS mode,
  status, count(*) AS n, sum(CASE WHEN error_count > 0 THEN 1 ELSE 0 END) AS with_errors,
  coalesce(sum(duration), 0) AS dsum, count(duration) AS dcount
  FROM telemetry_sessions GROUP BY 1, 2, 3;
CREATE TEMP TABLE vk_expected_stats AS
WITH keys(stat_type, stat_key) AS (
  SELECT 'global', 'all' WHERE EXISTS (SELECT 1 FROM vk_ev) OR EXISTS (SELECT 1 FROM vk_ss)
  UNION SELECT 'agent', agent FROM vk_ev UNION SELECT 'agent', agent FROM vk_ss
  UNION SELECT 'mode', mode FROM vk_ev UNION SELECT 'mode', mode FROM vk_ss)
SELECT k.stat_type, k.stat_key,
  (SELECT coalesce(sum(n), 0) FROM vk_ev x WHERE MATCH) AS total_events,
  (SELECT coalesce(sum(n), 0) FROM vk_ev x WHERE MATCH AND type = 'start') AS start_events,
  (SELECT coalesce(sum(n), 0) FROM vk_ev x WHERE MATCH AND type = 'stream') AS stream_events,
  (SELECT coalesce(sum(n), 0) FROM vk_ev x WHERE MATCH AND type = 'end') AS end_events,
  (SELECT coalesce(sum(n), 0) FROM vk_ev x WHERE MATCH AND type = 'error') AS error_events,
  (SELECT coalesce(sum(n), 0) FROM vk_ss x WHERE MATCH) AS unique_sessions,
  (SELECT coalesce(sum(n), 0) FROM vk_ss x WHERE MATCH AND status = 'active') AS active_sessions,
  (SELECT coalesce(sum(n), 0) FROM vk_ss x WHERE MATCH AND status = 'completed')
    AS completed_sessions,
  (SELECT coalesce(sum(n), 0) FROM vk_ss x WHERE MATCH AND status = 'failed') AS failed_sessions,
  (SELECT coalesce(sum(n), 0) FROM vk_ss x WHERE MATCH AND status = 'timeout')
    AS timeout_sessions,
  (SELECT coalesce(sum(with_errors), 0) FROM vk_ss x WHERE MATCH) AS sessions_with_errors,
  (SELECT coalesce(sum(dsum), 0) FROM vk_ss x WHERE MATCH) AS duration_sum,
  (SELECT coalesce(sum(dcount), 0) FROM vk_ss x WHERE MATCH) AS duration_count,
  CASE WHEN k.stat_type = 'mode' THEN NULL ELSE (SELECT min(lo) FROM vk_ev x WHERE MATCH) END
    AS min_timestamp,
  CASE WHEN k.stat_type = 'mode' THEN NULL ELSE (SELECT max(hi) FROM vk_ev x WHERE MATCH) END
    AS max_timestamp
FROM keys k;
)sql";

// <json_object>('c', coalesce(<prefix>.c, 0), ...) over the stats columns.
std::string StatsJson(std::string_view json_object, const std::string& prefix) {
  std::string out = std::string(json_object) + "(";
  for (std::string_view c : kStatsCountColumns) {
    out += "'" + std::string(c) + "', coalesce(" + prefix + "." + std::string(c) + ", 0), ";
  }
  out += "'min_timestamp', " + prefix + ".min_timestamp, 'max_timestamp', " + prefix +
         ".max_timestamp)";
  return out;
}

}  // namespace

std::string ExpectedStatsSql() {
  std::string sql(kExpectedStats);
  const std::string match =
      "(k.stat_type = 'global' OR (k.stat_type = 'agent' AND x.agent = k.stat_key) OR "
      "(k.stat_type = 'mode' AND x.mode = k.stat_key))";
  for (std::size_t pos; (pos = sql.find("MATCH")) != std::string::npos;) {
    sql.replace(pos, 5, match);
  }
  return sql;
}

std::string StatsDiffSql(std::string_view json_object) {
  std::string cond;
  for (std::string_view c : kStatsCountColumns) {
    if (!cond.empty()) cond += " OR ";
    cond += "coalesce(s." + std::string(c) + ", 0) <> coalesce(x." + std::string(c) + ", 0)";
  }
  cond += " OR s.min_timestamp IS DISTINCT FROM x.min_timestamp"
          " OR s.max_timestamp IS DISTINCT FROM x.max_timestamp";
  return "SELECT coalesce(x.stat_type, s.stat_type), coalesce(x.stat_key, s.stat_key), "
         "CASE WHEN s.stat_type IS NULL THEN NULL ELSE " + StatsJson(json_object, "s") +
         " END, CASE WHEN x.stat_type IS NULL THEN NULL ELSE " + StatsJson(json_object, "x") +
         " END FROM vk_expected_stats x FULL OUTER JOIN telemetry_stats s "
         "ON s.stat_type = x.stat_type AND s.stat_key = x.stat_key WHERE " + cond +
         " ORDER BY 1, 2";
}

std::string InsertExpectedStatsSql(std::string_view now) {
  std::string columns;
  for (std::string_view c : kStatsCountColumns) columns += std::string(c) + ", ";
  const std::string t(now);
  return "INSERT INTO telemetry_stats (stat_type, stat_key, " + columns +
         "avg_session_duration, min_timestamp, max_timestamp, computed_at, updated_at) "
         "SELECT stat_type, stat_key, " + columns +
         "CASE WHEN duration_count > 0 THEN duration_sum * 1.0 / duration_count END, "
         "min_timestamp, max_timestamp, " + t + ", " + t + " FROM vk_expected_stats";
}

}  // namespace vibekit::store
