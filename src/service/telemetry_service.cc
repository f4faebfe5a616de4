#include "vibekit/telemetry_service.h"

#include <algorithm>
#include <map>
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "common/log.h"
#include "common/privacy.h"
#include "common/steady_ms.h"
#include "common/sys.h"
#include "delivery/delivery_worker.h"
#include "ingest/ndjson_import.h"
#include "ingest/pipeline.h"
#include "ingest/validation.h"
#include "ingest/validation_rules.h"
#include "service/health.h"
#include "service/maintenance.h"
#include "service/service_internal.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"
#include "vibekit/clock.h"

namespace vibekit {

class TelemetryService::Impl {
 public:
  Impl(TelemetryConfig config, const Clock* clock)
      : config_(std::move(config)), clock_(clock != nullptr ? *clock : SystemClock()) {
    if (config_.apply_environment) env_status_ = ApplyEnvironment(config_);
    enabled_ = config_.is_enabled && config_.local_store.is_enabled;
    if (config_.local_store.debug) internal::SetLogLevel(internal::LogLevel::kDebug);
  }

  ~Impl() { (void)Shutdown(30000); }

  // Writer thread, after a commit: the listeners, with the batch's distinct session ids (in the
  // order of their first event).
  void NotifyCommit(std::span<const Event> events) {
    std::lock_guard lock(listeners_mu_);
    if (listeners_.empty()) return;
    std::vector<std::string> ids;
    std::unordered_set<std::string_view> seen;
    seen.reserve(events.size());
    for (const Event& e : events) {
      if (seen.insert(e.session_id).second) ids.push_back(e.session_id);
    }
    const CommitNotice notice{events, ids};
    for (const auto& [id, listener] : listeners_) {
      try {
        listener(notice);
      } catch (const std::exception& ex) {
        internal::LogError(std::string("commit listener failed: ") + ex.what());
      }
    }
  }

  std::mutex listeners_mu_;
  std::map<std::int64_t, CommitListener> listeners_;  // guarded by listeners_mu_
  std::int64_t next_listener_ = 1;                    // guarded by listeners_mu_

  Status Initialize() {
    if (!enabled_) return Status::Ok();
    std::lock_guard lock(init_mu_);
    if (state_ == State::kRunning) return Status::Ok();
    if (state_ == State::kShutDown) {
      return Status::FailedPrecondition("the telemetry service was shut down");
    }
    VK_RETURN_IF_ERROR(env_status_);
    VK_RETURN_IF_ERROR(ValidateConfig(config_));
    // A postgres:// or postgresql:// URL selects the shared PostgreSQL store; anything else is
    // the path of an embedded SQLite file.
    std::unique_ptr<store::Store> store;
    if (store::postgres::IsPostgresUrl(config_.local_store.db_path)) {
      store = std::make_unique<store::postgres::PgStore>(config_.local_store, clock_);
    } else {
      store = std::make_unique<store::sqlite::SqliteStore>(config_.local_store, clock_);
    }
    auto privacy = internal::Privacy::Create(config_);
    if (!privacy.ok()) return privacy.status().WithContext("privacy settings");
    privacy_ = std::move(*privacy);
    VK_RETURN_IF_ERROR(store->Open());
    // Every event reaches the store through ApplyIncoming with these settings (Track,
    // InsertBatch, ImportNdjson): the store records it per batch for the export's shortcut.
    store->SetIncomingPrivacy(privacy_->fingerprint());
    store_ = std::move(store);
    ReloadRules();
    pipeline_ = std::make_unique<ingest::IngestPipeline>(config_.local_store, *store_, clock_);
    if (!config_.endpoint.empty()) {
      // Before the writer starts: the outbox triggers need the state row from the first batch.
      Status st = store_->EnsureDeliveryState(clock_.NowMs());
      if (!st.ok()) {
        store_->Close();
        return st.WithContext("set up delivery");
      }
    }
    pipeline_->SetCommitHook([this](std::span<const Event> events) { NotifyCommit(events); });
    pipeline_->Start();
    if (!config_.endpoint.empty() && config_.delivery.run_worker) {
      ingest::IngestPipeline* pipeline = pipeline_.get();
      delivery_ = std::make_unique<delivery::DeliveryWorker>(
          config_, *store_,
          [pipeline](std::function<Status()> task) {
            return pipeline->RunMaintenance(std::move(task), 60000);
          },
          clock_, privacy_);
      Status st = delivery_->Start();
      if (!st.ok()) {
        delivery_.reset();
        (void)pipeline_->Stop(1000);
        store_->Close();
        return st.WithContext("start delivery");
      }
    }
    state_.store(State::kRunning, std::memory_order_release);
    return Status::Ok();
  }

  Status Running() const {
    switch (state_.load(std::memory_order_acquire)) {
      case State::kRunning: return Status::Ok();
      case State::kNew:
        return Status::FailedPrecondition("telemetry service is not initialized; call Initialize()");
      case State::kShutDown: return Status::FailedPrecondition("telemetry service is shut down");
    }
    return Status::Internal("bad state");
  }

  // --- validation rules: a compiled set, re-read at most every rules_refresh_ms ---
  // Reads the table and recompiles when it changed. A failed read keeps the rules in force.
  void ReloadRules() {
    rules_checked_ms_.store(internal::SteadyMs(), std::memory_order_relaxed);
    auto rows = store_->ReadValidationRules();
    if (!rows.ok()) {
      internal::LogWarn("validation rules not re-read: " + rows.status().message());
      return;
    }
    if (rules_loaded_once_ && *rows == rule_rows_) return;
    std::vector<std::string> skipped;
    std::shared_ptr<const ingest::RuleSet> set = ingest::RuleSet::Compile(*rows, &skipped);
    for (const std::string& why : skipped) internal::LogWarn(why);
    rule_rows_ = std::move(*rows);
    rules_loaded_once_ = true;
    std::lock_guard lock(rules_mu_);
    rules_ = set->empty() ? nullptr : std::move(set);
    rules_empty_.store(rules_ == nullptr, std::memory_order_release);
  }

  // The validation rules of the database (any thread); OK when there are none.
  // Like the built-in checks, off when local_store.enable_data_integrity is false.
  Status CheckRules(const Event& event) {
    if (!config_.local_store.enable_data_integrity) return Status::Ok();
    const std::int64_t now = internal::SteadyMs();
    if (now - rules_checked_ms_.load(std::memory_order_relaxed) >=
        config_.local_store.rules_refresh_ms) {
      std::unique_lock reload(rules_reload_mu_, std::try_to_lock);
      if (reload.owns_lock() && now - rules_checked_ms_.load(std::memory_order_relaxed) >=
                                    config_.local_store.rules_refresh_ms) {
        ReloadRules();
      }
    }
    if (rules_empty_.load(std::memory_order_acquire)) return Status::Ok();
    std::shared_ptr<const ingest::RuleSet> rules;
    {
      std::lock_guard lock(rules_mu_);
      rules = rules_;
    }
    return rules ? rules->Check(event) : Status::Ok();
  }

  // Built-in checks, then the database's rules: what every write path runs per event.
  Status Validate(Event& event, std::int64_t now_ms) {
    Status st = ingest::ValidateEvent(event, config_.local_store, now_ms);
    if (st.ok()) st = CheckRules(event);
    if (!st.ok()) rejected_invalid_.fetch_add(1, std::memory_order_relaxed);
    return st;
  }

  Status Track(Event event) {
    if (!enabled_) return Status::Ok();
    VK_RETURN_IF_ERROR(Running());
    VK_RETURN_IF_ERROR(Validate(event, clock_.NowMs()));
    privacy_->ApplyIncoming(event);
    return pipeline_->Submit(std::move(event));
  }

  Status InsertBatch(std::vector<Event> events, bool validated) {
    if (!enabled_) return Status::Ok();
    VK_RETURN_IF_ERROR(Running());
    const std::int64_t now = clock_.NowMs();
    for (std::size_t i = 0; i < events.size(); ++i) {
      events[i].id = 0;
      if (validated) continue;
      Status st = Validate(events[i], now);
      if (!st.ok()) return st.WithContext("event " + std::to_string(i));
    }
    for (Event& e : events) privacy_->ApplyIncoming(e);
    return pipeline_->SubmitBatch(events);
  }

  Status Shutdown(int timeout_ms) {
    std::lock_guard lock(init_mu_);
    if (state_ != State::kRunning) {
      state_ = State::kShutDown;
      return Status::Ok();
    }
    state_.store(State::kShutDown, std::memory_order_release);
    // Delivery first and promptly: what it has not sent stays in the outbox for the next start.
    if (delivery_) delivery_->Stop();
    Status st = pipeline_->Stop(timeout_ms);
    // Readers may still hold the store briefly; the pipeline is stopped, so no writes remain.
    store_->Close();
    return st;
  }

  TelemetryConfig config_;
  const Clock& clock_;
  Status env_status_;
  bool enabled_ = true;
  enum class State { kNew, kRunning, kShutDown };
  std::atomic<State> state_{State::kNew};
  std::mutex init_mu_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ingest::IngestPipeline> pipeline_;
  std::unique_ptr<delivery::DeliveryWorker> delivery_;  // null without an endpoint
  std::atomic<std::int64_t> rejected_invalid_{0};
  std::shared_ptr<const internal::Privacy> privacy_;  // set by Initialize
  // Validation rules: rows as last read and their compiled set (null when none is active).
  std::mutex rules_reload_mu_;                 // one reader of the table at a time
  std::vector<ValidationRule> rule_rows_;      // guarded by rules_reload_mu_ (or init_mu_)
  bool rules_loaded_once_ = false;             // guarded likewise
  std::mutex rules_mu_;
  std::shared_ptr<const ingest::RuleSet> rules_;  // guarded by rules_mu_
  std::atomic<bool> rules_empty_{true};
  std::atomic<std::int64_t> rules_checked_ms_{0};
};

namespace {

template <typename T>
Result<T> Guard(const auto& fn) noexcept {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("unexpected exception: ") + e.what());
  } catch (...) {
    return Status::Internal("unexpected exception");
  }
}

Status GuardStatus(const auto& fn) noexcept {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("unexpected exception: ") + e.what());
  } catch (...) {
    return Status::Internal("unexpected exception");
  }
}

Status ValidateLimit(std::int64_t limit, std::int64_t offset) {
  if (limit < 1 || limit > 100000) {
    return Status::InvalidArgument("limit must be between 1 and 100000 (got " +
                                   std::to_string(limit) + ")");
  }
  if (offset < 0) return Status::InvalidArgument("offset must not be negative");
  return Status::Ok();
}

}  // namespace

TelemetryService::TelemetryService(TelemetryConfig config, const Clock* clock)
    : impl_(std::make_unique<Impl>(std::move(config), clock)) {}

TelemetryService::~TelemetryService() = default;

Status TelemetryService::Initialize() noexcept {
  return GuardStatus([&] { return impl_->Initialize(); });
}

namespace {

// The fields every Track*Params shares go into the event here; `fill` adds the rest. Disabled
// telemetry returns before anything is copied.
template <typename Params, typename Fill>
Status TrackParams(TelemetryService::Impl& impl, EventType type, const Params& p,
                   const Fill& fill) noexcept {
  return GuardStatus([&] {
    if (!impl.enabled_) return Status::Ok();
    Event e;
    e.session_id = p.session_id;
    e.event_type = type;
    e.agent_type = p.agent_type;
    e.mode = p.mode;
    e.metadata = p.metadata;
    e.timestamp = p.timestamp;
    fill(e);
    return impl.Track(std::move(e));
  });
}

}  // namespace

Status TelemetryService::TrackStart(const TrackStartParams& p) noexcept {
  return TrackParams(*impl_, EventType::kStart, p, [&](Event& e) {
    e.prompt = p.prompt;
    e.sandbox_id = p.sandbox_id;
    e.repo_url = p.repo_url;
  });
}

Status TelemetryService::TrackStream(const TrackStreamParams& p) noexcept {
  return TrackParams(*impl_, EventType::kStream, p, [&](Event& e) { e.stream_data = p.stream_data; });
}

Status TelemetryService::TrackEnd(const TrackEndParams& p) noexcept {
  return TrackParams(*impl_, EventType::kEnd, p, [](Event&) {});
}

Status TelemetryService::TrackError(const TrackErrorParams& p) noexcept {
  // An empty message is caught by validation ("an error event needs a message").
  return TrackParams(*impl_, EventType::kError, p, [&](Event& e) {
    e.stream_data = p.error;
    e.error = ErrorDetails{p.error_type, p.error, p.stack, std::nullopt, p.severity};
  });
}

Status TelemetryService::Track(const Event& event) noexcept {
  return GuardStatus([&] {
    if (!impl_->enabled_) return Status::Ok();
    Event e = event;
    e.id = 0;
    e.created_at = 0;
    return impl_->Track(std::move(e));
  });
}

Status TelemetryService::InsertEventBatch(std::span<const Event> events) noexcept {
  return GuardStatus(
      [&] { return impl_->InsertBatch(std::vector<Event>(events.begin(), events.end()), false); });
}

Status TelemetryService::InsertValidatedBatch(std::vector<Event>&& events) noexcept {
  return GuardStatus([&] { return impl_->InsertBatch(std::move(events), true); });
}

Status TelemetryService::ValidateEvent(Event& event) noexcept {
  return GuardStatus([&]() -> Status {
    if (!impl_->enabled_) return Status::Ok();
    VK_RETURN_IF_ERROR(impl_->Running());
    return impl_->Validate(event, impl_->clock_.NowMs());
  });
}

Result<std::vector<Event>> TelemetryService::QueryEvents(const EventQueryFilter& filter) const noexcept {
  return Guard<std::vector<Event>>([&]() -> Result<std::vector<Event>> {
    if (!impl_->enabled_) return std::vector<Event>();
    VK_RETURN_IF_ERROR(impl_->Running());
    VK_RETURN_IF_ERROR(ValidateLimit(filter.limit, filter.offset));
    if (filter.contains && filter.contains->size() > 1024) {
      return Status::InvalidArgument("contains text is longer than 1024 bytes");
    }
    return impl_->store_->QueryEvents(filter);
  });
}

Result<std::vector<Session>> TelemetryService::QuerySessions(
    const SessionQueryFilter& filter) const noexcept {
  return Guard<std::vector<Session>>([&]() -> Result<std::vector<Session>> {
    if (!impl_->enabled_) return std::vector<Session>();
    VK_RETURN_IF_ERROR(impl_->Running());
    VK_RETURN_IF_ERROR(ValidateLimit(filter.limit, filter.offset));
    return impl_->store_->QuerySessions(filter);
  });
}

Result<std::vector<AgentModeCounts>> TelemetryService::GetAgentBreakdown() const noexcept {
  return Guard<std::vector<AgentModeCounts>>([&]() -> Result<std::vector<AgentModeCounts>> {
    if (!impl_->enabled_) return std::vector<AgentModeCounts>();
    VK_RETURN_IF_ERROR(impl_->Running());
    return impl_->store_->AgentBreakdown();
  });
}

Result<std::int64_t> TelemetryService::CountSessions(
    const SessionQueryFilter& filter) const noexcept {
  return Guard<std::int64_t>([&]() -> Result<std::int64_t> {
    if (!impl_->enabled_) return std::int64_t{0};
    VK_RETURN_IF_ERROR(impl_->Running());
    return impl_->store_->CountSessions(filter);
  });
}

Result<Session> TelemetryService::GetSession(std::string_view session_id) const noexcept {
  return Guard<Session>([&]() -> Result<Session> {
    if (!impl_->enabled_) return Status::NotFound("telemetry is disabled");
    VK_RETURN_IF_ERROR(impl_->Running());
    VK_ASSIGN_OR_RETURN(std::optional<Session> s, impl_->store_->GetSession(session_id));
    if (!s) return Status::NotFound("no session \"" + std::string(session_id) + "\"");
    return std::move(*s);
  });
}

Result<SessionStats> TelemetryService::GetSessionStats(std::string_view session_id) const noexcept {
  return Guard<SessionStats>([&]() -> Result<SessionStats> {
    if (!impl_->enabled_) return Status::NotFound("telemetry is disabled");
    VK_RETURN_IF_ERROR(impl_->Running());
    return impl_->store_->GetSessionStats(session_id);
  });
}

Result<std::vector<ErrorRecord>> TelemetryService::GetSessionErrors(
    std::string_view session_id) const noexcept {
  return Guard<std::vector<ErrorRecord>>([&]() -> Result<std::vector<ErrorRecord>> {
    if (!impl_->enabled_) return std::vector<ErrorRecord>();
    VK_RETURN_IF_ERROR(impl_->Running());
    return impl_->store_->GetSessionErrors(session_id);
  });
}

Result<AggregateStats> TelemetryService::GetAggregateStats() const noexcept {
  return Guard<AggregateStats>([&]() -> Result<AggregateStats> {
    if (!impl_->enabled_) return AggregateStats{};
    VK_RETURN_IF_ERROR(impl_->Running());
    return impl_->store_->GetAggregateStats();
  });
}

std::int64_t TelemetryService::SubscribeCommits(CommitListener listener) noexcept {
  try {
    if (!impl_->enabled_) return 0;
    std::lock_guard lock(impl_->listeners_mu_);
    const std::int64_t id = impl_->next_listener_++;
    impl_->listeners_.emplace(id, std::move(listener));
    return id;
  } catch (const std::exception&) {
    return 0;
  }
}

void TelemetryService::UnsubscribeCommits(std::int64_t id) noexcept {
  std::lock_guard lock(impl_->listeners_mu_);
  impl_->listeners_.erase(id);
}

Status TelemetryService::FlushBuffers(int timeout_ms) noexcept {
  return GuardStatus([&] {
    if (!impl_->enabled_) return Status::Ok();
    VK_RETURN_IF_ERROR(impl_->Running());
    return impl_->pipeline_->Flush(timeout_ms);
  });
}

Result<CleanupResult> TelemetryService::ClearOldDataDetailed(int days) noexcept {
  return Guard<CleanupResult>([&]() -> Result<CleanupResult> {
    if (!impl_->enabled_) return CleanupResult{};
    VK_RETURN_IF_ERROR(impl_->Running());
    if (days < 0) return Status::InvalidArgument("days must not be negative");
    const std::int64_t cutoff = impl_->clock_.NowMs() - static_cast<std::int64_t>(days) * 86400000LL;
    // Events accepted before the call take part: flush first (an error here is not fatal).
    (void)impl_->pipeline_->Flush(5000);
    return impl_->pipeline_->ClearOlderThan(cutoff, 10 * 60 * 1000);
  });
}

Result<std::int64_t> TelemetryService::ClearOldData(int days) noexcept {
  auto r = ClearOldDataDetailed(days);
  if (!r.ok()) return r.status();
  return r->sessions_removed;
}

Result<CleanupResult> TelemetryService::EnforceSizeLimit() noexcept {
  return Guard<CleanupResult>([&]() -> Result<CleanupResult> {
    if (!impl_->enabled_) return CleanupResult{};
    VK_RETURN_IF_ERROR(impl_->Running());
    const std::int64_t max_bytes = static_cast<std::int64_t>(impl_->config_.local_store.max_size_mb)
                                   << 20;
    return impl_->pipeline_->EnforceSizeLimit(max_bytes, 10 * 60 * 1000);
  });
}

Result<HealthStatus> TelemetryService::HealthCheck() const noexcept {
  return HealthCheck(HealthCheckOptions{});
}

Result<HealthStatus> TelemetryService::HealthCheck(HealthCheckOptions options) const noexcept {
  return Guard<HealthStatus>([&]() -> Result<HealthStatus> {
    HealthStatus h;
    const LocalStoreConfig& c = impl_->config_.local_store;
    h.db_path = c.db_path;
    h.backend = store::postgres::IsPostgresUrl(c.db_path) ? "postgres" : "sqlite";
    h.prune_days = c.prune_days;
    h.max_size_bytes = static_cast<std::int64_t>(c.max_size_mb) << 20;
    h.memory_rss_bytes = internal::ProcessRssBytes();
    // -1 (unknown) for PostgreSQL: its disk is the server's, not ours to measure.
    h.disk_free_bytes = store::postgres::IsPostgresUrl(c.db_path)
                            ? -1
                            : internal::DiskFreeBytes(c.db_path);
    if (!impl_->enabled_) {
      h.quick_check = "disabled";
      h.performance_grade = "disabled";
      return h;
    }
    VK_RETURN_IF_ERROR(impl_->Running());
    const ingest::PipelineCounters pc = impl_->pipeline_->Counters();
    h.buffered_events = pc.buffered_events;
    h.queued_events = pc.queued_events;
    h.writer_lag_ms = pc.writer_lag_ms;
    h.last_write_error = pc.last_error;
    h.last_cleanup_time = pc.last_cleanup_time;
    h.last_cleanup_sessions_removed = pc.last_cleanup_sessions_removed;
    auto sh = impl_->store_->CheckHealth(options.quick_check);
    if (sh.ok()) {
      h.quick_check = sh->quick_check;
      h.database = sh->quick_check == "ok" || sh->quick_check == "skipped";
      h.file_size_bytes = sh->file_size_bytes;
      h.wal_size_bytes = sh->wal_size_bytes;
      h.oldest_event_time = sh->oldest_event_time;
      h.dead_letter_batches = sh->dead_letter_batches;
      h.connections.active = sh->connections_active;
      h.connections.total = sh->connections_total;
      auto ds = impl_->store_->GetDeliveryState();
      if (ds.ok() && ds->configured) {
        DeliveryHealth& d = h.delivery;
        d.configured = true;
        d.event_cursor = ds->event_cursor;
        d.queued_events = ds->queued_events;
        d.queued_sessions = ds->queued_sessions;
        d.events_sent = ds->events_sent;
        d.spans_sent = ds->spans_sent;
        d.requests_sent = ds->requests_sent;
        d.events_failed = ds->events_failed;
        d.requests_failed = ds->requests_failed;
        d.retries = ds->retries;
        d.last_error = ds->last_error;
        d.last_error_time = ds->last_error_time;
        d.last_success_time = ds->last_success_time;
      } else if (!ds.ok()) {
        h.delivery.last_error = ds.status().ToString();
      }
    } else {
      h.database = false;
      h.quick_check = sh.status().ToString();
    }
    h.delivery.endpoint = impl_->config_.endpoint;
    h.delivery.worker_running = impl_->delivery_ && impl_->delivery_->Counters().running;
    GradeHealth(h, impl_->clock_.NowMs(), impl_->config_.local_store);
    return h;
  });
}

PerformanceMetrics TelemetryService::GetPerformanceMetrics() const noexcept {
  PerformanceMetrics m;
  try {
    m.rejected_invalid = impl_->rejected_invalid_.load(std::memory_order_relaxed);
    m.memory_rss_bytes = internal::ProcessRssBytes();
    if (!impl_->enabled_ || !impl_->Running().ok()) return m;
    const ingest::PipelineCounters pc = impl_->pipeline_->Counters();
    m.total_flushes = pc.total_flushes;
    m.events_written = pc.events_written;
    m.avg_flush_ms = pc.avg_flush_ms;
    m.p99_flush_ms = pc.p99_flush_ms;
    m.last_flush_time = pc.last_flush_time;
    m.active_buffers = pc.active_buffers;
    m.buffered_events = pc.buffered_events;
    m.queued_events = pc.queued_events;
    m.rejected_busy = pc.rejected_busy;
    m.failed_flushes = pc.failed_flushes;
    m.writer_cpu_seconds = pc.writer_cpu_seconds;
    const store::Store::TextIndexState text = impl_->store_->TextIndex();
    m.text_index_lag_events = text.lag_events;
    m.text_index_cpu_seconds = text.cpu_seconds;
    if (impl_->delivery_) {
      const delivery::DeliveryCounters dc = impl_->delivery_->Counters();
      m.delivery_requests_sent = dc.requests_sent;
      m.delivery_events_sent = dc.events_sent;
      m.delivery_spans_sent = dc.spans_sent;
      m.delivery_requests_failed = dc.requests_failed;
      m.delivery_events_failed = dc.events_failed;
      m.delivery_retries = dc.retries;
      m.delivery_queued_events = dc.queued_events;
      m.delivery_queued_sessions = dc.queued_sessions;
      m.delivery_last_error = dc.last_error;
    }
  } catch (...) {
  }
  return m;
}

Result<std::vector<SchemaVersion>> TelemetryService::GetSchemaVersions() const noexcept {
  return Guard<std::vector<SchemaVersion>>([&]() -> Result<std::vector<SchemaVersion>> {
    if (!impl_->enabled_) return std::vector<SchemaVersion>();
    VK_RETURN_IF_ERROR(impl_->Running());
    return impl_->store_->SchemaVersions();
  });
}

Status TelemetryService::ScheduleBackgroundCleanup(std::int64_t interval_ms) noexcept {
  return GuardStatus([&] {
    if (!impl_->enabled_) return Status::Ok();
    VK_RETURN_IF_ERROR(impl_->Running());
    if (interval_ms < 1) return Status::InvalidArgument("interval_ms must be at least 1");
    impl_->pipeline_->ScheduleCleanup(interval_ms);
    return Status::Ok();
  });
}

Result<ImportResult> TelemetryService::ImportNdjson(const std::string& path,
                                                   const ImportOptions& options) noexcept {
  return Guard<ImportResult>([&]() -> Result<ImportResult> {
    if (!impl_->enabled_) return ImportResult{};
    VK_RETURN_IF_ERROR(impl_->Running());
    ingest::IngestPipeline& pipeline = *impl_->pipeline_;
    // kBusy when another process has kept the write lock longer than options.lock_wait_ms.
    auto locked_out = [&pipeline, &options]() -> Status {
      if (options.lock_wait_ms < 0) return Status::Ok();
      const ingest::PipelineCounters c = pipeline.Counters();
      if (c.locked_for_ms == 0 || c.locked_for_ms < options.lock_wait_ms) return Status::Ok();
      return Status::Busy("the database is locked by another process (no write lock for " +
                          std::to_string(c.locked_for_ms) + " ms)");
    };
    // Backpressure: a full queue means "wait", never "drop" or "fail the import" (unless the
    // wait is for a lock held elsewhere and the caller set a limit on that).
    const internal::Privacy& privacy = *impl_->privacy_;
    ingest::BatchSink sink = [&pipeline, &locked_out, &privacy](std::vector<Event> batch) -> Status {
      for (Event& e : batch) privacy.ApplyIncoming(e);
      while (true) {
        Status st = pipeline.SubmitBatch(batch);
        if (st.code() != StatusCode::kBusy) return st;
        VK_RETURN_IF_ERROR(locked_out());
      }
    };
    const Clock& clock = impl_->clock_;
    VK_ASSIGN_OR_RETURN(ImportResult result,
                        ingest::RunImport(path, options, impl_->config_.local_store,
                                          [&clock] { return clock.NowMs(); }, sink,
                                          [this](Event& e) { return impl_->CheckRules(e); }));
    // The final flush, in slices so a lock held elsewhere can end it early.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
    while (true) {
      Status st = pipeline.Flush(100);
      if (st.ok()) break;
      if (st.code() != StatusCode::kDeadlineExceeded ||
          std::chrono::steady_clock::now() >= deadline) {
        return st.WithContext("import flush");
      }
      VK_RETURN_IF_ERROR(locked_out());
    }
    return result;
  });
}

Status TelemetryService::Shutdown(int timeout_ms) noexcept {
  return GuardStatus([&] { return impl_->Shutdown(timeout_ms); });
}

bool TelemetryService::enabled() const noexcept { return impl_->enabled_; }

const TelemetryConfig& TelemetryService::config() const noexcept { return impl_->config_; }

// --- Maintenance -------------------------------------------------------------------------------

namespace {
constexpr int kMaintenanceTimeoutMs = 10 * 60 * 1000;
}  // namespace

Result<MaintenanceReport> TelemetryService::Optimize(bool rebuild_indexes) noexcept {
  return Guard<MaintenanceReport>([&]() -> Result<MaintenanceReport> {
    if (!impl_->enabled_) return MaintenanceReport{};
    VK_RETURN_IF_ERROR(impl_->Running());
    (void)impl_->pipeline_->Flush(5000);  // index what was accepted before the call too
    // Shared: on a timeout the task still runs to completion on the writer thread.
    auto out = std::make_shared<Result<MaintenanceReport>>(Status::Internal("optimize did not run"));
    store::Store* store = impl_->store_.get();
    VK_RETURN_IF_ERROR(impl_->pipeline_->RunMaintenance(
        [out, store, rebuild_indexes] {
          *out = store->Optimize(rebuild_indexes);
          return out->status();
        },
        kMaintenanceTimeoutMs));
    return *out;
  });
}

Result<MaintenanceReport> TelemetryService::Vacuum(bool analyze) noexcept {
  return Guard<MaintenanceReport>([&]() -> Result<MaintenanceReport> {
    if (!impl_->enabled_) return MaintenanceReport{};
    VK_RETURN_IF_ERROR(impl_->Running());
    (void)impl_->pipeline_->Flush(5000);
    auto out = std::make_shared<Result<MaintenanceReport>>(Status::Internal("vacuum did not run"));
    store::Store* store = impl_->store_.get();
    VK_RETURN_IF_ERROR(impl_->pipeline_->RunMaintenance(
        [out, store, analyze] {
          *out = store->Vacuum(analyze);
          return out->status();
        },
        kMaintenanceTimeoutMs));
    return *out;
  });
}

Result<CleanupResult> TelemetryService::ClearAll() noexcept {
  return Guard<CleanupResult>([&]() -> Result<CleanupResult> {
    if (!impl_->enabled_) return CleanupResult{};
    VK_RETURN_IF_ERROR(impl_->Running());
    (void)impl_->pipeline_->Flush(5000);  // events accepted before the call are cleared too
    auto out = std::make_shared<Result<CleanupResult>>(Status::Internal("clear did not run"));
    store::Store* store = impl_->store_.get();
    const std::int64_t now = impl_->clock_.NowMs();
    VK_RETURN_IF_ERROR(impl_->pipeline_->RunMaintenance(
        [out, store, now] {
          *out = store->DeleteAll("clear: all telemetry removed (db clear)", now);
          if (!out->ok()) return out->status();
          (void)store->ReclaimSpace();  // give the pages back; the data is gone either way
          return Status::Ok();
        },
        kMaintenanceTimeoutMs));
    return *out;
  });
}

Result<QueryBenchmarkReport> TelemetryService::BenchmarkQueries(
    const QueryBenchmarkOptions& options) const noexcept {
  return Guard<QueryBenchmarkReport>([&]() -> Result<QueryBenchmarkReport> {
    if (!impl_->enabled_) return QueryBenchmarkReport{};
    VK_RETURN_IF_ERROR(impl_->Running());
    return service::RunQueryBenchmark(*this, *impl_->store_, options);
  });
}

Result<AggregateStats> TelemetryService::GetAggregateStatsBetween(std::int64_t from_ms,
                                                                  std::int64_t to_ms) const
    noexcept {
  return Guard<AggregateStats>([&]() -> Result<AggregateStats> {
    if (!impl_->enabled_) return AggregateStats{};
    VK_RETURN_IF_ERROR(impl_->Running());
    if (from_ms > to_ms) {
      return Status::InvalidArgument("the range starts after it ends (from > to)");
    }
    return impl_->store_->AggregateStatsBetween(from_ms, to_ms);
  });
}

Result<SessionPercentiles> TelemetryService::GetSessionPercentiles(
    std::optional<std::int64_t> from_ms, std::optional<std::int64_t> to_ms) const noexcept {
  return Guard<SessionPercentiles>([&]() -> Result<SessionPercentiles> {
    if (!impl_->enabled_) return SessionPercentiles{};
    VK_RETURN_IF_ERROR(impl_->Running());
    const std::int64_t from = from_ms.value_or(std::numeric_limits<std::int64_t>::min());
    const std::int64_t to = to_ms.value_or(std::numeric_limits<std::int64_t>::max());
    if (from > to) return Status::InvalidArgument("the range starts after it ends (from > to)");
    return impl_->store_->SessionPercentilesBetween(from, to);
  });
}

// --- The export subsystem's access --------------------------------------------------------------

namespace service {

Result<store::Store*> ServiceInternals::StoreOf(TelemetryService& service) {
  if (!service.impl_->enabled_) {
    return Status::FailedPrecondition("telemetry is disabled; there is no database to use");
  }
  VK_RETURN_IF_ERROR(service.impl_->Running());
  return service.impl_->store_.get();
}

Result<const internal::Privacy*> ServiceInternals::PrivacyOf(TelemetryService& service) {
  if (!service.impl_->enabled_) {
    return Status::FailedPrecondition("telemetry is disabled; there is no database to use");
  }
  VK_RETURN_IF_ERROR(service.impl_->Running());
  return service.impl_->privacy_.get();
}

Status ServiceInternals::RunOnWriter(TelemetryService& service, std::function<Status()> fn,
                                     int timeout_ms) {
  if (!service.impl_->enabled_) {
    return Status::FailedPrecondition("telemetry is disabled; there is no database to use");
  }
  VK_RETURN_IF_ERROR(service.impl_->Running());
  return service.impl_->pipeline_->RunMaintenance(std::move(fn), timeout_ms);
}

}  // namespace service
}  // namespace vibekit
