// AlertWebhook: delivers alert notifications as JSON POSTs to one URL from its own thread, so a
// slow or unreachable receiver never holds up monitoring. Connection errors, timeouts, HTTP 429
// and 5xx are retried with exponential backoff (equal jitter: a random wait in [d/2, d] with
// d = min(backoff_max_ms, backoff_base_ms · 2^attempt)) up to max_attempts; any other non-2xx
// answer is a definitive failure (logged, counted). At most 1000 notifications wait; beyond that
// the oldest is dropped (counted).
//
// Thread-safety: all methods may be called from any thread. The destructor interrupts the wait
// and the request in flight and joins the thread; what was not delivered by then is dropped.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vibekit/status.h"

namespace vibekit::delivery {
class HttpClient;
}

namespace vibekit::analytics {

struct WebhookOptions {
  std::string url;                   // http:// or https://
  std::vector<std::string> headers;  // extra "Name: value" lines
  int timeout_ms = 5000;
  int max_attempts = 5;
  int backoff_base_ms = 500;
  int backoff_max_ms = 30000;
};

struct WebhookStats {
  std::int64_t delivered = 0;  // answered 2xx
  std::int64_t failed = 0;     // rejected (non-retryable status) or out of attempts
  std::int64_t retries = 0;    // attempts after the first
  std::int64_t dropped = 0;    // queue full, or still queued at shutdown
  std::int64_t pending = 0;    // queued or in flight
  std::string last_error;
};

class AlertWebhook {
 public:
  // kInvalidArgument for a URL that is not http(s) or bad options; kInternal when the HTTP
  // client cannot be set up.
  static Result<std::unique_ptr<AlertWebhook>> Start(WebhookOptions options);
  ~AlertWebhook();
  AlertWebhook(const AlertWebhook&) = delete;
  AlertWebhook& operator=(const AlertWebhook&) = delete;

  // Queues one JSON body.
  void Enqueue(std::string json);
  WebhookStats stats() const;
  // Waits until nothing is queued or in flight; false after `timeout_ms`.
  bool WaitIdle(std::int64_t timeout_ms);

 private:
  AlertWebhook(WebhookOptions options, std::unique_ptr<delivery::HttpClient> client);
  void Run();

  const WebhookOptions options_;
  std::unique_ptr<delivery::HttpClient> client_;  // used by the thread only (Cancel: any)
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;  // guarded by mu_
  bool in_flight_ = false;         // guarded by mu_
  bool stop_ = false;              // guarded by mu_
  WebhookStats stats_;             // guarded by mu_ (pending computed on read)
  std::thread thread_;
};

}  // namespace vibekit::analytics
