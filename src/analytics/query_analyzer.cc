#include "vibekit/query_analyzer.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <variant>

#include <fmt/format.h>

#include "vibekit/clock.h"

#include "common/guard.h"
#include "service/maintenance.h"
#include "service/service_internal.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"

namespace vibekit {
namespace {

using internal::Guard;  // common/guard.h

template <typename T>
std::string Opt(const std::optional<T>& v) {
  if (!v) return "-";
  if constexpr (std::is_same_v<T, std::string>) {
    return std::to_string(v->size()) + ":" + *v;  // length-prefixed: no ambiguity
  } else {
    return std::to_string(static_cast<std::int64_t>(*v));
  }
}

// What identifies a query's answer besides its key: every filter field.
std::string Signature(const EventQueryFilter& f) {
  return "events|" + Opt(f.session_id) + "|" + Opt(f.event_type) + "|" + Opt(f.agent_type) + "|" +
         Opt(f.from_time) + "|" + Opt(f.to_time) + "|" + Opt(f.contains) + "|" +
         std::to_string(f.limit) + "|" + std::to_string(f.offset) + "|" +
         std::to_string(static_cast<int>(f.order)) + "|" + Opt(f.after_id);
}

std::string Signature(const SessionQueryFilter& f) {
  return "sessions|" + Opt(f.status) + "|" + Opt(f.agent_type) + "|" + Opt(f.mode) + "|" +
         Opt(f.from_time) + "|" + Opt(f.to_time) + "|" + std::to_string(f.limit) + "|" +
         std::to_string(f.offset) + "|" + std::to_string(static_cast<int>(f.order));
}

using service::IsFullEventScan;  // service/maintenance.h

bool IsTempBTree(std::string_view row) { return row.find("USE TEMP B-TREE") != row.npos; }

}  // namespace

class QueryPerformanceAnalyzer::Impl {
 public:
  Impl(TelemetryService& service, QueryAnalyzerOptions options, const Clock* clock)
      : service_(service), options_(options), clock_(clock != nullptr ? *clock : SystemClock()) {}

  template <typename Row, typename Filter, typename Run>
  Result<std::vector<Row>> Execute(const Filter& filter, const std::string& key,
                                   std::int64_t ttl_ms, Run run) {
    if (key.empty()) return Status::InvalidArgument("the cache key must not be empty");
    if (ttl_ms < 0) return Status::InvalidArgument("the TTL must not be negative");
    VK_ASSIGN_OR_RETURN(store::Store * store, service::ServiceInternals::StoreOf(service_));
    const std::uint64_t version = store->DataVersion();
    const std::string signature = Signature(filter);
    {
      std::lock_guard lock(mu_);
      ++lookups_;
      auto it = cache_.find(key);
      if (ttl_ms > 0 && it != cache_.end() && it->second.signature == signature &&
          it->second.version == version && clock_.NowMs() - it->second.at_ms < ttl_ms &&
          std::holds_alternative<std::vector<Row>>(it->second.rows)) {
        ++hits_;
        ++keys_[key].cache_hits;
        return std::get<std::vector<Row>>(it->second.rows);
      }
    }
    auto* sqlite = dynamic_cast<store::sqlite::SqliteStore*>(store);
    auto* pg = dynamic_cast<store::postgres::PgStore*>(store);
    std::vector<std::string> statements;
    std::vector<store::postgres::PgParams> pg_params;  // PostgreSQL: each statement's parameters
    Result<std::vector<Row>> rows = Status::Internal("not run");
    const auto t0 = std::chrono::steady_clock::now();
    if (sqlite != nullptr) {
      store::sqlite::SqliteStore::SqlCapture capture;  // the SQL this thread runs
      rows = run();
      statements = capture.statements();
    } else if (pg != nullptr) {
      store::postgres::PgStore::SqlCapture capture;
      rows = run();
      for (const auto& [sql, params] : capture.statements()) {
        statements.push_back(sql);
        pg_params.push_back(params);
      }
    } else {
      rows = run();
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!rows.ok()) return rows.status();
    // Plans: explained once per distinct SQL text.
    std::vector<QueryTiming::Plan> plans;
    for (std::size_t i = 0; i < statements.size(); ++i) {
      const std::string& sql = statements[i];
      std::vector<std::string> plan_rows;
      {
        std::lock_guard lock(mu_);
        auto it = plans_.find(sql);
        if (it != plans_.end()) plan_rows = it->second;
      }
      if (plan_rows.empty()) {
        // PostgreSQL plans for the parameters of the first run of the statement.
        auto explained = sqlite != nullptr ? sqlite->ExplainQueryPlan(sql)
                                           : pg->ExplainQueryPlan(sql, pg_params[i]);
        if (explained.ok()) {
          plan_rows = *explained;
          std::lock_guard lock(mu_);
          plans_[sql] = plan_rows;
        }
      }
      plans.push_back({sql, std::move(plan_rows)});
    }
    std::lock_guard lock(mu_);
    QueryKeyStats& k = keys_[key];
    k.key = key;
    ++k.executions;
    k.total_ms += ms;
    k.max_ms = std::max(k.max_ms, ms);
    for (const QueryTiming::Plan& p : plans) {
      for (const std::string& r : p.rows) {
        k.full_scan = k.full_scan || IsFullEventScan(r);
        k.temp_b_tree = k.temp_b_tree || IsTempBTree(r);
      }
    }
    if (options_.enable_query_logging && ms >= options_.slow_query_ms) {
      ++slow_count_;
      slow_.push_back({key, clock_.NowMs(), ms, static_cast<std::int64_t>(rows->size()), plans});
      while (slow_.size() > options_.max_log_entries) slow_.pop_front();
    }
    if (ttl_ms > 0) {
      if (cache_.size() >= options_.max_cache_entries && cache_.find(key) == cache_.end()) {
        auto oldest = std::min_element(
            cache_.begin(), cache_.end(),
            [](const auto& a, const auto& b) { return a.second.at_ms < b.second.at_ms; });
        if (oldest != cache_.end()) cache_.erase(oldest);
      }
      if (options_.max_cache_entries > 0) {
        cache_[key] = Entry{signature, version, clock_.NowMs(), *rows};
      }
    }
    return rows;
  }

  Result<QueryRecommendations> Recommendations() {
    VK_ASSIGN_OR_RETURN(store::Store * store, service::ServiceInternals::StoreOf(service_));
    VK_ASSIGN_OR_RETURN(store::Store::PlannerState planner, store->GetPlannerState());
    std::lock_guard lock(mu_);
    QueryRecommendations r;
    r.lookups = lookups_;
    r.cache_hit_rate_pct =
        lookups_ == 0 ? 0.0 : 100.0 * static_cast<double>(hits_) / static_cast<double>(lookups_);
    r.slow_queries = slow_count_;
    for (const auto& [key, k] : keys_) r.keys.push_back(k);
    std::sort(r.keys.begin(), r.keys.end(), [](const QueryKeyStats& a, const QueryKeyStats& b) {
      return a.total_ms > b.total_ms;
    });
    for (const QueryKeyStats& k : r.keys) {
      const double mean = k.executions == 0 ? 0 : k.total_ms / static_cast<double>(k.executions);
      if (k.full_scan) {
        r.recommendations.push_back(fmt::format(
            "\"{}\" scans telemetry_events without an index (mean {:.1f} ms over {} runs): "
            "filter by session, agent or time range so an index applies",
            k.key, mean, k.executions));
      }
      if (k.temp_b_tree) {
        r.recommendations.push_back(fmt::format(
            "\"{}\" sorts its rows in a temporary B-tree (mean {:.1f} ms): order by the indexed "
            "columns (timestamp) or narrow the filter",
            k.key, mean));
      }
      if (k.executions >= 3 && k.cache_hits == 0 && mean >= options_.slow_query_ms / 10) {
        r.recommendations.push_back(fmt::format(
            "\"{}\" ran {} times without a cache hit (mean {:.1f} ms): give it a TTL longer than "
            "the time between calls",
            k.key, k.executions, mean));
      }
    }
    if (!planner.statistics && !r.keys.empty()) {
      r.recommendations.push_back(
          "the query planner has no statistics (sqlite_stat1 is empty): run `vibekit db "
          "optimize` (ANALYZE)");
    }
    return r;
  }

  std::vector<SlowQuery> Slow() const {
    std::lock_guard lock(mu_);
    return {slow_.begin(), slow_.end()};
  }

  void Clear() {
    std::lock_guard lock(mu_);
    cache_.clear();
  }

  TelemetryService& service_;

 private:
  struct Entry {
    std::string signature;
    std::uint64_t version = 0;
    std::int64_t at_ms = 0;
    std::variant<std::vector<Event>, std::vector<Session>> rows;
  };
  const QueryAnalyzerOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> cache_;                     // guarded by mu_
  std::map<std::string, QueryKeyStats> keys_;              // guarded by mu_
  std::map<std::string, std::vector<std::string>> plans_;  // guarded by mu_; SQL -> plan rows
  std::deque<SlowQuery> slow_;                             // guarded by mu_
  std::int64_t lookups_ = 0, hits_ = 0, slow_count_ = 0;   // guarded by mu_
};

QueryPerformanceAnalyzer::QueryPerformanceAnalyzer(TelemetryService& service,
                                                   QueryAnalyzerOptions options, const Clock* clock)
    : impl_(std::make_unique<Impl>(service, options, clock)) {}

QueryPerformanceAnalyzer::~QueryPerformanceAnalyzer() = default;

Result<std::vector<Event>> QueryPerformanceAnalyzer::ExecuteQuery(const EventQueryFilter& filter,
                                                                  const std::string& cache_key,
                                                                  std::int64_t ttl_ms) noexcept {
  return Guard([&] {
    return impl_->Execute<Event>(filter, cache_key, ttl_ms,
                                 [&] { return impl_->service_.QueryEvents(filter); });
  });
}

Result<std::vector<Session>> QueryPerformanceAnalyzer::ExecuteQuery(
    const SessionQueryFilter& filter, const std::string& cache_key, std::int64_t ttl_ms) noexcept {
  return Guard([&] {
    return impl_->Execute<Session>(filter, cache_key, ttl_ms,
                                   [&] { return impl_->service_.QuerySessions(filter); });
  });
}

std::vector<SlowQuery> QueryPerformanceAnalyzer::SlowQueryLog() const { return impl_->Slow(); }

Result<QueryRecommendations> QueryPerformanceAnalyzer::GetRecommendations() noexcept {
  return Guard([&] { return impl_->Recommendations(); });
}

void QueryPerformanceAnalyzer::ClearCache() noexcept { impl_->Clear(); }

}  // namespace vibekit
