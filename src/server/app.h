// The server's front door, in front of the router and independent of the transport: request
// body decoding (gzip), bearer-token check, per-client rate limit, CORS, gzip responses and
// request metrics. http_server.cc hands every parsed request to Handle() (on a worker thread).
//
// Thread-safety: Handle() and AuthorizeWebSocket() from any number of threads at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "server/http_types.h"
#include "server/router.h"
#include "server/server_metrics.h"

namespace vibekit::server {

inline constexpr std::string_view kServerVersion = "0.1.0";

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 4000;                 // 0: any free port
  std::string token;               // empty: no authentication
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  double rate_limit_per_s = 2000;  // requests per second per client IP; 0 = no limit
  std::string cors_origin;         // empty: no CORS headers
  // Route handlers. A POST holds one while it waits for its commit, so there must be more than
  // concurrent POSTs or the GETs queue behind them (16 POST connections on 16 threads gave
  // GET /api/dashboard a p99 of 22.8 ms; on 64, 4.5-8.4 ms: docs/BENCHMARKS.md).
  int worker_threads = 64;
  // The dashboard listener (`vibekit dashboard`): -1 none, 0 any free port. It serves the
  // static files of `web_dir` (if set and present), /config.json and the same /api and /ws.
  std::size_t ws_max_queue_messages = 256;  // per WebSocket client; beyond: dropped
  int ws_coalesce_ms = 250;  // commits within this window go out in one push (docs/API.md)
  int ws_max_coalesce_ms = 1000;  // the window's length under load (docs/API.md)
  std::size_t ws_max_events_per_message = 1000;  // a window's events split into messages of this
  std::size_t ws_max_queue_bytes = 8 * 1024 * 1024;  // per WebSocket client; beyond: dropped
  std::size_t ws_preview_events = 50;     // "events" channel (preview feed): newest per window
  std::size_t ws_preview_sessions = 100;  // "sessions" channel: newest changed rows per window
  int dashboard_port = -1;
  std::string web_dir;
};

// Token bucket per client IP: `rate` tokens per second, bursts up to 2 s worth.
class RateLimiter {
 public:
  explicit RateLimiter(double rate_per_s) : rate_(rate_per_s) {}
  // True when a request from `ip` may go ahead now; otherwise *retry_after_s says when.
  bool Allow(const std::string& ip, int* retry_after_s);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };
  double rate_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
};

class ServerApp {
 public:
  ServerApp(ServerOptions options, const Router& router, ServerMetrics& metrics);
  ServerApp(const ServerApp&) = delete;
  ServerApp& operator=(const ServerApp&) = delete;

  Response Handle(Request& request) noexcept;
  // For a WebSocket upgrade on /ws: nullopt when allowed; otherwise the refusal (401/403 for
  // the token, 403 for a foreign Origin, 429). `expected_host` is the Host the client used.
  std::optional<Response> AuthorizeWebSocket(const Request& request);

  const ServerOptions& options() const noexcept { return options_; }
  ServerMetrics& metrics() noexcept { return metrics_; }

 private:
  std::optional<Response> CheckToken(const Request& request, bool allow_query_token) const;

  ServerOptions options_;
  const Router& router_;
  ServerMetrics& metrics_;
  RateLimiter limiter_;
};

}  // namespace vibekit::server
