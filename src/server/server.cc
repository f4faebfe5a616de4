#include "server/server.h"

#include <chrono>
#include <filesystem>
#include <utility>

#include "server/api_routes.h"
#include "server/http_server.h"
#include "server/router.h"
#include "server/server_metrics.h"
#include "vibekit/analytics.h"

namespace vibekit::server {

class TelemetryServer::Impl {
 public:
  Impl(TelemetryService& service, ServerOptions options)
      : options_(std::move(options)),
        service_(service),
        analytics_(service),
        app_(options_, router_, metrics_),
        started_(std::chrono::steady_clock::now()) {
    context_.service = &service_;
    context_.analytics = &analytics_;
    context_.metrics = &metrics_;
    context_.export_dir = (std::filesystem::temp_directory_path() / "vibekit-export").string();
    context_.server_info = [this] {
      const auto up = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started_)
                          .count();
      return boost::json::object{{"uptimeMs", static_cast<std::int64_t>(up)},
                                 {"websocketClients", metrics_.websocket_clients()},
                                 {"version", kServerVersion}};
    };
    // Every route of the server; one line per route family.
    AddApiRoutes(router_, context_);
  }

  Status Start() {
    VK_ASSIGN_OR_RETURN(http_, HttpServer::Start(options_, app_));
    return Status::Ok();
  }

  void Stop() {
    if (http_) http_->Stop();
  }

  std::uint16_t port() const { return http_ ? http_->port() : 0; }
  const ServerOptions& options() const { return options_; }
  ServerMetrics& metrics() { return metrics_; }

 private:
  ServerOptions options_;
  TelemetryService& service_;
  AnalyticsService analytics_;
  ServerMetrics metrics_;
  Router router_;
  ServerApp app_;
  ApiContext context_;
  std::chrono::steady_clock::time_point started_;
  std::unique_ptr<HttpServer> http_;  // last: stopped and destroyed first
};

TelemetryServer::TelemetryServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TelemetryServer::~TelemetryServer() { Stop(); }

Result<std::unique_ptr<TelemetryServer>> TelemetryServer::Start(TelemetryService& service,
                                                                ServerOptions options) noexcept {
  try {
    if (options.token.empty() && !IsLoopbackHost(options.host)) {
      return Status::InvalidArgument(
          "refusing to listen on " + options.host +
          " without a token: anyone who can reach it could read and write the telemetry; pass "
          "--token T (clients send Authorization: Bearer T) or use --host 127.0.0.1");
    }
    if (options.port < 0 || options.port > 65535) {
      return Status::InvalidArgument("port must be between 0 and 65535");
    }
    auto impl = std::make_unique<Impl>(service, std::move(options));
    VK_RETURN_IF_ERROR(impl->Start());
    return std::unique_ptr<TelemetryServer>(new TelemetryServer(std::move(impl)));
  } catch (const std::exception& e) {
    return Status::Internal(std::string("cannot start the server: ") + e.what());
  }
}

std::uint16_t TelemetryServer::port() const noexcept { return impl_->port(); }

std::string TelemetryServer::url() const { return HostUrl(impl_->options().host, port()); }

ServerMetrics& TelemetryServer::metrics() noexcept { return impl_->metrics(); }

void TelemetryServer::Stop() noexcept {
  if (impl_) impl_->Stop();
}

std::string HostUrl(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace vibekit::server
