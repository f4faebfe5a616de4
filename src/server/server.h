// TelemetryServer: the whole `vibekit serve` server in one object — routes (docs/API.md), the
// front door (token, rate limit, gzip, metrics) and the HTTP transport, over a running
// TelemetryService. Used by the `serve` and `dashboard` commands, the tests and the benchmark.
// No Beast in this header.
//
// Thread-safety: Start() and Stop() from one thread; the server runs on its own threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "server/app.h"
#include "vibekit/status.h"
#include "vibekit/telemetry_service.h"

namespace vibekit::server {

class TelemetryServer {
 public:
  // `service` must be initialized and outlive the server. Refuses (kInvalidArgument) a
  // non-loopback host without a token. kUnavailable when the address cannot be bound.
  static Result<std::unique_ptr<TelemetryServer>> Start(TelemetryService& service,
                                                        ServerOptions options) noexcept;
  ~TelemetryServer();  // Stop()
  TelemetryServer(const TelemetryServer&) = delete;
  TelemetryServer& operator=(const TelemetryServer&) = delete;

  std::uint16_t port() const noexcept;
  // "http://127.0.0.1:4000" (IPv6 hosts in brackets).
  std::string url() const;
  ServerMetrics& metrics() noexcept;
  // The dashboard listener (options.dashboard_port >= 0): its port, "http://host:port/", and
  // whether web assets were found in options.web_dir.
  std::uint16_t dashboard_port() const noexcept;
  std::string dashboard_url() const;
  bool has_web_assets() const noexcept;

  // Stops accepting, answers the requests in progress (their events are committed), closes the
  // connections. Does not shut the TelemetryService down (its owner does, flushing).
  void Stop() noexcept;

  class Impl;

 private:
  explicit TelemetryServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "http://host:port" with IPv6 literals in brackets.
std::string HostUrl(const std::string& host, std::uint16_t port);

}  // namespace vibekit::server
