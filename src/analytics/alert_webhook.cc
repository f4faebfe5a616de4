#include "analytics/alert_webhook.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "common/log.h"
#include "common/sys.h"
#include "delivery/http_client.h"

namespace vibekit::analytics {

namespace {
constexpr std::size_t kMaxQueued = 1000;

bool Retryable(long status) { return status == 429 || (status >= 500 && status <= 599); }
}  // namespace

Result<std::unique_ptr<AlertWebhook>> AlertWebhook::Start(WebhookOptions options) {
  if (options.url.rfind("http://", 0) != 0 && options.url.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("webhook_url must start with http:// or https:// (got \"" +
                                   options.url + "\")");
  }
  if (options.max_attempts < 1 || options.timeout_ms < 1 || options.backoff_base_ms < 0 ||
      options.backoff_max_ms < options.backoff_base_ms) {
    return Status::InvalidArgument(
        "webhook options: max_attempts and timeout_ms must be >= 1, 0 <= backoff_base_ms <= "
        "backoff_max_ms");
  }
  VK_ASSIGN_OR_RETURN(std::unique_ptr<delivery::HttpClient> client, delivery::HttpClient::Create());
  std::unique_ptr<AlertWebhook> hook(new AlertWebhook(std::move(options), std::move(client)));
  hook->thread_ = std::thread([h = hook.get()] {
    internal::NameThisThread("vk-alert-hook");
    h->Run();
  });
  return hook;
}

AlertWebhook::AlertWebhook(WebhookOptions options, std::unique_ptr<delivery::HttpClient> client)
    : options_(std::move(options)), client_(std::move(client)) {}

AlertWebhook::~AlertWebhook() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  client_->Cancel();
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AlertWebhook::Enqueue(std::string json) {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    if (queue_.size() >= kMaxQueued) {
      queue_.pop_front();
      ++stats_.dropped;
    }
    queue_.push_back(std::move(json));
  }
  cv_.notify_all();
}

WebhookStats AlertWebhook::stats() const {
  std::lock_guard lock(mu_);
  WebhookStats s = stats_;
  s.pending = static_cast<std::int64_t>(queue_.size()) + (in_flight_ ? 1 : 0);
  return s;
}

bool AlertWebhook::WaitIdle(std::int64_t timeout_ms) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [this] { return queue_.empty() && !in_flight_; });
}

void AlertWebhook::Run() {
  std::mt19937_64 rng(std::random_device{}());
  delivery::HttpRequestOptions req;
  req.timeout_ms = options_.timeout_ms;
  req.connect_timeout_ms = std::min(options_.timeout_ms, 5000);
  req.headers = options_.headers;
  req.headers.push_back("Content-Type: application/json");
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) break;
    std::string body = std::move(queue_.front());
    queue_.pop_front();
    in_flight_ = true;
    bool done = false;
    for (int attempt = 0; attempt < options_.max_attempts && !stop_ && !done; ++attempt) {
      if (attempt > 0) {
        ++stats_.retries;
        const std::int64_t cap = std::min<std::int64_t>(
            options_.backoff_max_ms,
            static_cast<std::int64_t>(options_.backoff_base_ms) << std::min(attempt - 1, 20));
        std::uniform_int_distribution<std::int64_t> wait(cap / 2, cap);
        if (cv_.wait_for(lock, std::chrono::milliseconds(wait(rng)), [this] { return stop_; })) {
          break;
        }
      }
      lock.unlock();
      Result<delivery::HttpResponse> r = client_->Post(options_.url, body, req);
      lock.lock();
      if (r.ok() && r->status >= 200 && r->status < 300) {
        ++stats_.delivered;
        done = true;
      } else if (r.ok() && !Retryable(r->status)) {
        stats_.last_error = "HTTP " + std::to_string(r->status);
        ++stats_.failed;
        internal::LogWarn("alert webhook rejected the notification: " + stats_.last_error);
        done = true;
      } else {
        stats_.last_error = r.ok() ? "HTTP " + std::to_string(r->status) : r.status().ToString();
        if (attempt + 1 == options_.max_attempts) {
          ++stats_.failed;
          internal::LogWarn("alert webhook gave up after " + std::to_string(options_.max_attempts) +
                  " attempts: " + stats_.last_error);
          done = true;
        }
      }
    }
    if (!done) ++stats_.dropped;  // stopped while retrying
    in_flight_ = false;
    cv_.notify_all();
  }
  stats_.dropped += static_cast<std::int64_t>(queue_.size());
  queue_.clear();
  in_flight_ = false;
  cv_.notify_all();
}

}  // namespace vibekit::analytics
