// DeliveryWorker: the live OTLP delivery thread. It reads committed events after the delivery
// cursor and the pending root spans from the store (the persistent outbox, schema 1.2.0), sends
// them to the collector as one OTLP/HTTP JSON request at a time (gzip), and records the outcome
// on the writer thread: the cursor moves only after a 2xx (or a definitive rejection, which is
// recorded in telemetry_delivery_failures and counted as failed).
//
// Request content: the events of the batch grouped per session, one EventBatchSpan (child of
// the session's root span) per session; plus the root spans (SessionSpan, without events: those
// travel in the child spans) of sessions that reached a final status (completed, failed,
// timeout).
//
// Retries: connection errors, timeouts and HTTP 429/502/503/504 are retried with exponential
// backoff and full jitter (or the Retry-After header's wait), the same request body each time;
// any other status (other 4xx, 500, 501, 3xx) is not retried. Stop() interrupts waits and the
// request in flight; what was not acknowledged stays in the outbox for the next start.
//
// Thread-safety: Start/Stop from one thread; Counters from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "delivery/http_client.h"
#include "store/store.h"
#include "vibekit/clock.h"
#include "vibekit/config.h"

namespace vibekit::internal {
class Privacy;
}

namespace vibekit::delivery {

// What this process did since Start() (the store keeps the totals over the database's life).
struct DeliveryCounters {
  bool running = false;
  std::int64_t requests_sent = 0;  // accepted (2xx)
  std::int64_t events_sent = 0;
  std::int64_t spans_sent = 0;
  std::int64_t requests_failed = 0;  // rejected for good (not retried)
  std::int64_t events_failed = 0;
  std::int64_t retries = 0;  // attempts that failed and were retried
  std::int64_t queued_events = 0;  // events after the cursor, as of the worker's last look
  std::int64_t queued_sessions = 0;
  std::string last_error;  // empty until something failed
  std::int64_t last_success_time = 0;
};

// Full jitter: a uniform wait in [0, min(cap_ms, base_ms * 2^attempt)].
std::int64_t BackoffMs(int attempt, int base_ms, int cap_ms, std::mt19937_64& rng);
// 429, 502, 503, 504: the statuses the OTLP specification lets a client retry.
bool IsRetryableStatus(long status);

class DeliveryWorker {
 public:
  // Runs `task` on the store's writer thread and waits for its status.
  using WriterRunner = std::function<Status(std::function<Status()> task)>;

  // Every event, error and session sent goes through `privacy` (redaction, hashing; may be
  // null = none).
  DeliveryWorker(const TelemetryConfig& config, store::Store& store, WriterRunner run_on_writer,
                 const Clock& clock, std::shared_ptr<const internal::Privacy> privacy = nullptr);
  ~DeliveryWorker();  // Stop()
  DeliveryWorker(const DeliveryWorker&) = delete;
  DeliveryWorker& operator=(const DeliveryWorker&) = delete;

  // Reads the cursor and starts the thread. kInternal when libcurl cannot be set up.
  Status Start();
  // Interrupts any wait or request and joins the thread. Idempotent.
  void Stop() noexcept;

  DeliveryCounters Counters() const;

 private:
  struct Batch;

  void Loop();
  // Reads the next request from the outbox; empty when there is nothing to send.
  Result<Batch> BuildBatch();
  // Sends until accepted, rejected or stopped.
  void Send(Batch& batch);
  Status Record(const store::DeliveryRecord& record);
  void RefreshQueue();
  void SetLastError(const std::string& error);
  // Waits up to `ms` unless Stop() is called; false when stopping.
  bool Sleep(std::int64_t ms);

  const TelemetryConfig config_;
  store::Store& store_;  // outlives the worker
  WriterRunner run_on_writer_;
  const Clock& clock_;  // outlives the worker
  std::shared_ptr<const internal::Privacy> privacy_;
  std::vector<std::string> headers_;  // "Name: value" lines of every request
  std::unique_ptr<HttpClient> client_;
  std::int64_t cursor_ = 0;  // worker thread only
  std::mt19937_64 rng_;      // worker thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;         // guarded by mu_
  DeliveryCounters counters_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace vibekit::delivery
