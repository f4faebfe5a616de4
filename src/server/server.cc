#include "server/server.h"

#include <chrono>
#include <filesystem>
#include <optional>
#include <vector>
#include <utility>

#include "server/api_routes.h"
#include "server/http_server.h"
#include "server/otlp_routes.h"
#include "server/router.h"
#include "server/server_metrics.h"
#include "server/static_files.h"
#include "common/log.h"
#include "server/websocket.h"
#include "vibekit/analytics.h"

namespace vibekit::server {

class TelemetryServer::Impl {
 public:
  Impl(TelemetryService& service, ServerOptions options)
      : options_(std::move(options)),
        service_(service),
        analytics_(service),
        app_(options_, router_, metrics_),
        hub_(service, analytics_, metrics_,
             WebSocketOptions{.max_queue_messages = options_.ws_max_queue_messages,
                              .max_queue_bytes = options_.ws_max_queue_bytes,
                              .max_events_per_message = options_.ws_max_events_per_message,
                              .coalesce_ms = options_.ws_coalesce_ms,
                              .max_coalesce_ms = options_.ws_max_coalesce_ms,
                              .preview_events = options_.ws_preview_events,
                              .preview_sessions = options_.ws_preview_sessions}),
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
    AddOtlpRoutes(router_, context_);
  }

  Status Start() {
    std::vector<HttpListenerSpec> listeners{{options_.host, options_.port, &app_}};
    if (options_.dashboard_port >= 0) {
      // The dashboard's origin: the same API and WebSocket, plus /config.json and the files.
      AddApiRoutes(dashboard_router_, context_);
      dashboard_router_.Add(
          "GET", "/config.json",
          [this](Request&) {
            return JsonResponse(boost::json::object{{"version", kServerVersion},
                                                    {"tokenRequired", !options_.token.empty()},
                                                    {"apiPort", static_cast<int>(port())}});
          },
          RouteOptions{.public_access = true});
      if (!options_.web_dir.empty()) {
        Result<StaticFiles> files = StaticFiles::Open(options_.web_dir);
        if (files.ok()) {
          static_files_.emplace(std::move(*files));
          dashboard_router_.SetFallback([this](Request& r) { return static_files_->Serve(r); });
        }
      }
      if (!static_files_) {
        dashboard_router_.SetFallback([this](Request&) {
          return ErrorResponse(404, "the dashboard's web assets were not found (" +
                                        (options_.web_dir.empty() ? std::string("no --web-dir")
                                                                  : options_.web_dir) +
                                        "); build them with `node web/build.mjs`");
        });
      }
      dashboard_app_.emplace(options_, dashboard_router_, metrics_);
      listeners.push_back({options_.host, options_.dashboard_port, &*dashboard_app_});
    }
    VK_ASSIGN_OR_RETURN(http_, HttpServer::Start(std::move(listeners), options_, &hub_));
    // Threshold alerts for /api/alerts and the WebSocket's alerts channel: checked every minute.
    Status monitoring = analytics_.StartMonitoring(60000);
    if (!monitoring.ok()) internal::LogWarn("alert monitoring: " + monitoring.message());
    return Status::Ok();
  }

  void Stop() {
    analytics_.StopMonitoring();
    if (http_) {
      http_->Stop();
      // The server closed the hub's clients; its thread ends and its sockets go.
      hub_.ReleaseIo();
      http_.reset();
    }
  }

  std::uint16_t port() const { return http_ ? http_->port(0) : 0; }
  std::uint16_t dashboard_port() const {
    return http_ && options_.dashboard_port >= 0 ? http_->port(1) : 0;
  }
  bool has_web_assets() const { return static_files_.has_value(); }
  const ServerOptions& options() const { return options_; }
  ServerMetrics& metrics() { return metrics_; }

 private:
  ServerOptions options_;
  TelemetryService& service_;
  AnalyticsService analytics_;
  ServerMetrics metrics_;
  Router router_;
  ServerApp app_;
  Router dashboard_router_;
  std::optional<StaticFiles> static_files_;
  std::optional<ServerApp> dashboard_app_;
  WebSocketHub hub_;
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

std::uint16_t TelemetryServer::dashboard_port() const noexcept { return impl_->dashboard_port(); }

std::string TelemetryServer::dashboard_url() const {
  return HostUrl(impl_->options().host, dashboard_port()) + "/";
}

bool TelemetryServer::has_web_assets() const noexcept { return impl_->has_web_assets(); }

ServerMetrics& TelemetryServer::metrics() noexcept { return impl_->metrics(); }

void TelemetryServer::Stop() noexcept {
  if (impl_) impl_->Stop();
}

std::string HostUrl(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace vibekit::server
