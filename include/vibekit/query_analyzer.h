// QueryPerformanceAnalyzer (the description's analyzer): runs event and session queries through a
// TelemetryService with a per-key answer cache (TTL, dropped as soon as new data is committed),
// times every query that reaches the database, keeps a slow-query log with the SQL and its
// EXPLAIN QUERY PLAN when enable_query_logging is set, and derives recommendations from those
// plans and timings (full scans of telemetry_events, temporary sort trees, missing planner
// statistics, keys whose cache never hits).
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vibekit/status.h"
#include "vibekit/telemetry_service.h"

namespace vibekit {

class Clock;

struct QueryAnalyzerOptions {
  bool enable_query_logging = false;  // keep the slow-query log
  double slow_query_ms = 100;         // a query at least this slow is logged
  std::size_t max_log_entries = 1000;  // the oldest are dropped
  std::size_t max_cache_entries = 256;
};

struct SlowQuery {
  std::string key;
  std::int64_t at_ms = 0;
  double duration_ms = 0;
  std::int64_t rows = 0;
  // The SQL statements the query ran with their EXPLAIN QUERY PLAN rows.
  std::vector<QueryTiming::Plan> plans;
};

struct QueryKeyStats {
  std::string key;
  std::int64_t executions = 0;  // reached the database
  std::int64_t cache_hits = 0;
  double total_ms = 0;
  double max_ms = 0;
  bool full_scan = false;    // a plan scans telemetry_events without an index
  bool temp_b_tree = false;  // a plan sorts in a temporary B-tree
};

struct QueryRecommendations {
  double cache_hit_rate_pct = 0;  // hits / lookups × 100
  std::int64_t lookups = 0;
  std::int64_t slow_queries = 0;
  std::vector<QueryKeyStats> keys;          // by total time, slowest first
  std::vector<std::string> recommendations;  // each names the key and the evidence
};

class QueryPerformanceAnalyzer {
 public:
  // `service` must be initialized and outlive this object; `clock` may be null (system clock).
  QueryPerformanceAnalyzer(TelemetryService& service, QueryAnalyzerOptions options = {},
                           const Clock* clock = nullptr);
  ~QueryPerformanceAnalyzer();
  QueryPerformanceAnalyzer(const QueryPerformanceAnalyzer&) = delete;
  QueryPerformanceAnalyzer& operator=(const QueryPerformanceAnalyzer&) = delete;

  // The query's answer, from the cache when `cache_key` was answered less than `ttl_ms` ago by
  // the same filter and no data was committed since (ttl_ms 0: always run). kInvalidArgument
  // for an empty key or a negative TTL; otherwise the query's own errors.
  Result<std::vector<Event>> ExecuteQuery(const EventQueryFilter& filter,
                                          const std::string& cache_key,
                                          std::int64_t ttl_ms) noexcept;
  Result<std::vector<Session>> ExecuteQuery(const SessionQueryFilter& filter,
                                            const std::string& cache_key,
                                            std::int64_t ttl_ms) noexcept;

  std::vector<SlowQuery> SlowQueryLog() const;
  Result<QueryRecommendations> GetRecommendations() noexcept;
  void ClearCache() noexcept;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vibekit
