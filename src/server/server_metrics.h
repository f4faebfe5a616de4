// The server's own counters and histograms for GET /metrics (Prometheus text format 0.0.4):
// HTTP requests by route and status code, request durations by route, the commit wait of
// POST /api/events ("flush latency"), events accepted / rejected over HTTP, WebSocket clients and
// the messages dropped for slow ones. No Beast here.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "vibekit/telemetry_service.h"

namespace vibekit::server {

// Cumulative-bucket histogram with fixed upper bounds in seconds.
class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
  void Observe(double seconds) noexcept;
  // Appends the _bucket/_sum/_count lines of `name` with `labels` ("" or `route="x"`).
  void Render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::array<std::int64_t, kBounds.size() + 1> counts_{};  // last = +Inf
  double sum_ = 0;
  std::int64_t count_ = 0;
};

class ServerMetrics {
 public:
  void RecordRequest(const std::string& route, int status, double seconds);
  void RecordIngest(std::int64_t accepted, std::int64_t rejected, double commit_wait_seconds);
  void SetWebSocketClients(std::int64_t n) noexcept { ws_clients_.store(n); }
  void AddWebSocketClients(std::int64_t delta) noexcept { ws_clients_.fetch_add(delta); }
  void AddDroppedMessages(std::int64_t n) noexcept { ws_dropped_.fetch_add(n); }
  // The WebSocket hub's coalescing window now, and its thread's CPU time so far.
  void SetWebSocketWindowMs(std::int64_t ms) noexcept { ws_window_ms_.store(ms); }
  void SetWebSocketCpuSeconds(double s) noexcept { ws_cpu_seconds_.store(s); }
  std::int64_t websocket_clients() const noexcept { return ws_clients_.load(); }
  std::int64_t dropped_messages() const noexcept { return ws_dropped_.load(); }
  std::int64_t events_accepted() const noexcept { return accepted_.load(); }

  // The whole exposition, with the library's figures (`perf`) for the ingest gauges.
  std::string RenderPrometheus(const PerformanceMetrics& perf) const;

 private:
  std::atomic<std::int64_t> accepted_{0};
  std::atomic<std::int64_t> rejected_{0};
  std::atomic<std::int64_t> ws_clients_{0};
  std::atomic<std::int64_t> ws_dropped_{0};
  std::atomic<std::int64_t> ws_window_ms_{0};
  std::atomic<double> ws_cpu_seconds_{0};
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::int64_t> requests_;  // guarded by mu_
  std::map<std::string, Histogram> durations_;                    // guarded by mu_
  Histogram flush_latency_;                                       // guarded by mu_
};

}  // namespace vibekit::server
