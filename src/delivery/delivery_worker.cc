#include "delivery/delivery_worker.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <unordered_map>
#include <utility>

#include "common/json_parse.h"
#include "common/privacy.h"
#include "common/log.h"
#include "common/sys.h"
#include "otlp/otlp_json.h"

namespace vibekit::delivery {
namespace {

constexpr int kMaxRootsPerRequest = 200;
constexpr int kWriterTimeoutMs = 60000;

std::int64_t UnixNowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t EventBytes(const Event& e) {
  auto len = [](const std::optional<std::string>& s) -> std::int64_t {
    return s ? static_cast<std::int64_t>(s->size()) : 0;
  };
  // Attribute keys and ids add a few hundred bytes per event.
  return 256 + len(e.prompt) + len(e.stream_data) + len(e.metadata) + len(e.sandbox_id) +
         len(e.repo_url) + static_cast<std::int64_t>(e.session_id.size() + e.agent_type.size());
}

std::string Excerpt(std::string_view body) {
  constexpr std::size_t kMax = 300;
  std::string out(body.substr(0, kMax));
  if (body.size() > kMax) out += "...";
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

// OTLP partial success ({"partialSuccess":{"rejectedSpans":"2","errorMessage":"..."}}): the
// request was accepted but some spans were dropped by the collector. Empty when none.
std::string PartialSuccess(const std::string& body) {
  if (body.find("partialSuccess") == std::string::npos) return {};
  boost::system::error_code ec;
  boost::json::value v = vibekit::internal::ParseJson(body, ec);
  if (ec || !v.is_object()) return {};
  const boost::json::value* ps = v.as_object().if_contains("partialSuccess");
  if (ps == nullptr || !ps->is_object()) return {};
  std::string rejected = "0";
  std::string message;
  if (const auto* r = ps->as_object().if_contains("rejectedSpans")) {
    if (r->is_string()) rejected = std::string(r->as_string());
    if (r->is_int64()) rejected = std::to_string(r->as_int64());
  }
  if (const auto* m = ps->as_object().if_contains("errorMessage"); m && m->is_string()) {
    message = std::string(m->as_string());
  }
  if (rejected == "0" && message.empty()) return {};
  return "collector accepted the request partially: " + rejected + " spans rejected" +
         (message.empty() ? "" : ": " + message);
}

}  // namespace

std::int64_t BackoffMs(int attempt, int base_ms, int cap_ms, std::mt19937_64& rng) {
  const int shift = std::clamp(attempt, 0, 30);
  const std::int64_t ceiling =
      std::min<std::int64_t>(cap_ms, static_cast<std::int64_t>(base_ms) << shift);
  std::uniform_int_distribution<std::int64_t> dist(0, std::max<std::int64_t>(0, ceiling));
  return dist(rng);
}

bool IsRetryableStatus(long status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

struct DeliveryWorker::Batch {
  std::string body;  // what is sent (gzip when configured)
  std::int64_t first_event_id = 0;
  std::int64_t last_event_id = 0;
  std::int64_t events = 0;
  std::int64_t spans = 0;
  std::vector<store::PendingRootSpan> roots;  // includes sessions gone meanwhile (no span)
  bool empty() const { return events == 0 && roots.empty(); }
};

DeliveryWorker::DeliveryWorker(const TelemetryConfig& config, store::Store& store,
                               WriterRunner run_on_writer, const Clock& clock,
                               std::shared_ptr<const internal::Privacy> privacy)
    : config_(config),
      store_(store),
      run_on_writer_(std::move(run_on_writer)),
      clock_(clock),
      privacy_(std::move(privacy)),
      rng_(std::random_device{}()) {
  headers_.push_back("Content-Type: application/json");
  if (config_.delivery.gzip) headers_.push_back("Content-Encoding: gzip");
  for (const auto& [key, value] : config_.headers) headers_.push_back(key + ": " + value);
}

DeliveryWorker::~DeliveryWorker() { Stop(); }

Status DeliveryWorker::Start() {
  if (thread_.joinable()) return Status::Ok();
  VK_ASSIGN_OR_RETURN(client_, HttpClient::Create());
  VK_ASSIGN_OR_RETURN(store::DeliveryState state, store_.GetDeliveryState());
  if (!state.configured) return Status::FailedPrecondition("delivery state is not set up");
  cursor_ = state.event_cursor;
  {
    std::lock_guard lock(mu_);
    stop_ = false;
    counters_.running = true;
    counters_.queued_events = state.queued_events;
    counters_.queued_sessions = state.queued_sessions;
  }
  thread_ = std::thread([this] {
    internal::NameThisThread("vk-delivery");
    Loop();
  });
  return Status::Ok();
}

void DeliveryWorker::Stop() noexcept {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    counters_.running = false;
  }
  cv_.notify_all();
  if (client_) client_->Cancel();
  if (thread_.joinable()) thread_.join();
}

DeliveryCounters DeliveryWorker::Counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

bool DeliveryWorker::Sleep(std::int64_t ms) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(std::max<std::int64_t>(0, ms)),
               [this] { return stop_; });
  return !stop_;
}

void DeliveryWorker::SetLastError(const std::string& error) {
  std::lock_guard lock(mu_);
  counters_.last_error = error;
}

void DeliveryWorker::RefreshQueue() {
  auto state = store_.GetDeliveryState();
  if (!state.ok()) return;
  std::lock_guard lock(mu_);
  counters_.queued_events = state->queued_events;
  counters_.queued_sessions = state->queued_sessions;
}

void DeliveryWorker::Loop() {
  int read_failures = 0;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    auto batch = BuildBatch();
    if (!batch.ok()) {
      // The outbox could not be read (database busy, closed under us): try again later.
      internal::LogWarn("delivery: reading the outbox failed: " + batch.status().ToString());
      SetLastError(batch.status().ToString());
      if (!Sleep(BackoffMs(read_failures++, config_.delivery.backoff_base_ms,
                           config_.delivery.backoff_max_ms, rng_))) {
        return;
      }
      continue;
    }
    read_failures = 0;
    if (batch->empty()) {
      RefreshQueue();
      if (!Sleep(config_.delivery.poll_interval_ms)) return;
      continue;
    }
    Send(*batch);
    RefreshQueue();
  }
}

Result<DeliveryWorker::Batch> DeliveryWorker::BuildBatch() {
  Batch batch;
  // The root spans first: a session's end is committed with (or after) its events, so every
  // event of a root read here is visible to the event read below. Read the other way round, a
  // commit landing between the two reads gave a request with the root but not its events.
  VK_ASSIGN_OR_RETURN(batch.roots, store_.PendingRootSpans(kMaxRootsPerRequest));
  VK_ASSIGN_OR_RETURN(std::vector<Event> events,
                      store_.EventsAfter(cursor_, config_.delivery.max_events_per_request));
  // Keep the request under max_request_bytes (at least one event, however large).
  std::int64_t bytes = 0;
  std::size_t keep = 0;
  for (; keep < events.size(); ++keep) {
    bytes += EventBytes(events[keep]);
    if (keep > 0 && bytes > config_.delivery.max_request_bytes) break;
  }
  events.resize(keep);
  if (events.empty() && batch.roots.empty()) return batch;

  std::string json;
  otlp::TraceRequestWriter writer(json);
  writer.Begin();
  if (!events.empty()) {
    batch.first_event_id = events.front().id;
    batch.last_event_id = events.back().id;
    batch.events = static_cast<std::int64_t>(events.size());
    std::vector<ErrorRecord> errors;
    const bool any_error = std::any_of(events.begin(), events.end(), [](const Event& e) {
      return e.event_type == EventType::kError;
    });
    if (any_error) {
      VK_ASSIGN_OR_RETURN(errors,
                          store_.ErrorsForEvents(batch.first_event_id, batch.last_event_id));
    }
    if (privacy_) {
      for (Event& e : events) privacy_->ApplyOutgoing(e);
      for (ErrorRecord& r : errors) privacy_->ApplyOutgoing(r);
    }
    // Per session, in order of first appearance; each group keeps id order.
    std::vector<std::string> order;
    std::unordered_map<std::string, std::vector<Event>> groups;
    for (Event& e : events) {
      auto [it, inserted] = groups.try_emplace(e.session_id);
      if (inserted) order.push_back(e.session_id);
      it->second.push_back(std::move(e));
    }
    for (const std::string& id : order) {
      const std::vector<Event>& group = groups[id];
      std::vector<ErrorRecord> group_errors;
      for (const ErrorRecord& r : errors) {
        if (r.session_id == id) group_errors.push_back(r);
      }
      writer.EventBatchSpan(id, group.front().agent_type, group, group_errors);
    }
  }
  for (const store::PendingRootSpan& root : batch.roots) {
    VK_ASSIGN_OR_RETURN(std::optional<Session> session, store_.GetSession(root.session_id));
    if (!session) continue;  // removed by retention meanwhile: nothing to send
    std::vector<ErrorRecord> errors;
    if (session->status == SessionStatus::kFailed) {
      VK_ASSIGN_OR_RETURN(errors, store_.GetSessionErrors(root.session_id));
    }
    if (privacy_) {
      privacy_->ApplyOutgoing(*session);
      for (ErrorRecord& r : errors) privacy_->ApplyOutgoing(r);
    }
    // The events travel in the child spans; the root carries the session's outcome.
    writer.SessionSpan(*session, {}, errors);
  }
  writer.Finish();
  batch.spans = writer.spans_written();
  if (config_.delivery.gzip) {
    VK_ASSIGN_OR_RETURN(batch.body, GzipCompress(json));
  } else {
    batch.body = std::move(json);
  }
  return batch;
}

Status DeliveryWorker::Record(const store::DeliveryRecord& record) {
  store::Store* store = &store_;
  const std::int64_t now = clock_.NowMs();
  return run_on_writer_([store, record, now] { return store->RecordDelivery(record, now); });
}

void DeliveryWorker::Send(Batch& batch) {
  store::DeliveryRecord record;
  record.new_cursor = batch.last_event_id;
  record.first_event_id = batch.first_event_id;
  record.events = batch.events;
  record.spans = batch.spans;
  record.roots = batch.roots;

  if (batch.spans > 0) {
    HttpRequestOptions options;
    options.timeout_ms = config_.delivery.request_timeout_ms;
    options.connect_timeout_ms = config_.delivery.connect_timeout_ms;
    options.headers = headers_;
    for (int attempt = 0;; ++attempt) {
      auto response = client_->Post(config_.endpoint, batch.body, options);
      if (!response.ok() && response.status().code() == StatusCode::kFailedPrecondition) {
        return;  // stopping: the batch stays in the outbox
      }
      std::string error;
      std::optional<std::int64_t> wait_ms;
      if (!response.ok()) {
        error = response.status().ToString();
      } else if (response->status >= 200 && response->status < 300) {
        record.kind = store::DeliveryRecord::Kind::kAccepted;
        record.http_status = static_cast<int>(response->status);
        if (std::string partial = PartialSuccess(response->body); !partial.empty()) {
          internal::LogWarn("delivery: " + partial);
          SetLastError(partial);
        }
        break;
      } else if (IsRetryableStatus(response->status)) {
        error = "HTTP " + std::to_string(response->status) + " from " + config_.endpoint;
        if (!response->body.empty()) error += ": " + Excerpt(response->body);
        wait_ms = ParseRetryAfterMs(response->retry_after, UnixNowSeconds());
      } else {
        // Not retryable: the collector will never take this request. Move past it, keep the
        // record (telemetry_delivery_failures names the event id range) and count it.
        record.kind = store::DeliveryRecord::Kind::kRejected;
        record.http_status = static_cast<int>(response->status);
        record.error = "HTTP " + std::to_string(response->status) + " from " + config_.endpoint +
                       " (not retried)";
        if (!response->body.empty()) record.error += ": " + Excerpt(response->body);
        internal::LogError("delivery: request with " + std::to_string(batch.events) +
                           " events (ids " + std::to_string(batch.first_event_id) + ".." +
                           std::to_string(batch.last_event_id) + ") and " +
                           std::to_string(batch.roots.size()) +
                           " session root spans rejected: " + record.error);
        break;
      }
      // Retry.
      std::int64_t delay = wait_ms
                               ? std::min<std::int64_t>(*wait_ms, config_.delivery.max_retry_after_ms)
                               : BackoffMs(attempt, config_.delivery.backoff_base_ms,
                                           config_.delivery.backoff_max_ms, rng_);
      internal::LogWarn("delivery: " + error + "; retrying in " + std::to_string(delay) + " ms");
      {
        std::lock_guard lock(mu_);
        ++counters_.retries;
        counters_.last_error = error;
      }
      store::DeliveryRecord retry;
      retry.kind = store::DeliveryRecord::Kind::kRetry;
      retry.error = error;
      if (Status st = Record(retry); !st.ok()) {
        internal::LogWarn("delivery: recording a retry failed: " + st.ToString());
      }
      RefreshQueue();  // events keep arriving while the collector is away
      if (!Sleep(delay)) return;
    }
  }

  // Record the outcome (cursor, counters, sent root spans) and only then move on: retried until
  // it commits or we stop. Stopping here leaves the cursor behind, so the next start sends the
  // request again (span ids are deterministic; see docs/ARCHITECTURE.md).
  for (int attempt = 0;; ++attempt) {
    Status st = Record(record);
    if (st.ok()) break;
    internal::LogWarn("delivery: recording the outcome failed: " + st.ToString());
    if (!Sleep(BackoffMs(attempt, config_.delivery.backoff_base_ms,
                         config_.delivery.backoff_max_ms, rng_))) {
      return;
    }
  }
  if (batch.last_event_id > cursor_) cursor_ = batch.last_event_id;
  std::lock_guard lock(mu_);
  if (record.kind == store::DeliveryRecord::Kind::kAccepted) {
    if (batch.spans > 0) ++counters_.requests_sent;
    counters_.events_sent += batch.events;
    counters_.spans_sent += batch.spans;
    counters_.last_success_time = clock_.NowMs();
  } else {
    ++counters_.requests_failed;
    counters_.events_failed += batch.events;
    counters_.last_error = record.error;
  }
}

}  // namespace vibekit::delivery
