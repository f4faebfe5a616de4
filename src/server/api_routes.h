// The /api/* routes of docs/API.md: parse the request, call the library, render with the shared
// JSON views (src/views). No Beast here.
//
// Thread-safety: the handlers run on the server's worker threads, many at once; everything they
// touch (TelemetryService, AnalyticsService, ServerMetrics) is thread-safe.
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <string>

#include "server/router.h"
#include "server/server_metrics.h"
#include "vibekit/analytics.h"
#include "vibekit/telemetry_service.h"

namespace vibekit::server {

struct ApiContext {
  TelemetryService* service = nullptr;      // initialized; outlives the routes
  AnalyticsService* analytics = nullptr;    // over `service`
  ServerMetrics* metrics = nullptr;
  // Directory for export files while they are streamed (removed after sending).
  std::string export_dir;
  // The "server" block of GET /api/health (uptime, WebSocket clients, version).
  std::function<boost::json::object()> server_info;
};

// Adds POST/GET /api/events, GET /api/sessions, GET /api/sessions/{id}, GET /api/health,
// the analytics routes, POST /api/export and GET /metrics to `router`. `context` must outlive it.
void AddApiRoutes(Router& router, const ApiContext& context);

// GET /api/dashboard's object (and the WebSocket "metrics" message's, without series): the
// cached dashboard metrics plus duration, tokens and cost of the last `minutes` minutes, and
// with `with_series` per-minute series {t, events, errors, sessionsStarted}.
Result<boost::json::object> DashboardJson(AnalyticsService& analytics, std::int64_t minutes,
                                          std::int64_t now_ms, bool with_series);
// "healthy", "degraded" (grade fair/poor) or "unhealthy" (no database, grade critical).
std::string_view HealthWord(const HealthStatus& health);

// The time of a query parameter in the CLI's forms (ms, "30m", ISO 8601); kInvalidArgument
// naming the parameter.
Result<std::optional<std::int64_t>> TimeParam(const Request& request, std::string_view name,
                                              std::int64_t now_ms);

}  // namespace vibekit::server
