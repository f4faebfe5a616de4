// JSON views of the library's results: the one renderer of every record shape that the command
// line (`--format json|ndjson`, docs/CLI.md) and the HTTP server (docs/API.md) print. Keys are
// camelCase, times epoch milliseconds, absent optionals null, metadata an embedded object.
// Also the JSON text writer both use (pretty or compact; Boost 1.81's serializer has no pretty
// printer, writes doubles as "1.5E3" and passes invalid UTF-8 through unescaped).
//
// Thread-safety: free functions over values; callable from any thread.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <vector>

#include "vibekit/analytics.h"
#include "vibekit/event.h"
#include "vibekit/telemetry_service.h"

namespace vibekit::views {

boost::json::object EventToJsonObject(const Event& event);        // id, sessionId, eventType, ...
boost::json::object SessionToJsonObject(const Session& session);  // id, agentType, status, ...
boost::json::object ErrorRecordToJsonObject(const ErrorRecord& error);
boost::json::object HealthToJsonObject(const HealthStatus& health);
boost::json::object RollupToJsonObject(const RollupCounts& counts);

// `telemetry analytics report --format json` and GET /api/analytics.
boost::json::object AnalyticsReportToJson(const AnalyticsReport& report);
// One anomaly: metric, kind, severity, observed, expected, confidencePct, zScore, windowStart,
// windowEnd, peak (ms), title, description.
boost::json::object AnomalyToJsonObject(const Anomaly& anomaly);
// metric, method, backtestMae, naiveMae, points [{minute, value, lower, upper}].
boost::json::object PredictionToJsonObject(const Prediction& prediction);
// The headline figures of GetDashboardMetrics (no series): generatedAt, windowMinutes, events,
// activeSessions, throughputPerMin, errorRatePct, responseTimeP50Ms, responseTimeP95Ms.
boost::json::object DashboardToJsonObject(const DashboardMetrics& metrics);
// id, metric, value, threshold, direction, severity, firedAt, resolvedAt, message.
boost::json::object AlertToJsonObject(const AlertEvent& alert);
// metric, threshold, direction, severity, cooldownMs.
boost::json::object AlertThresholdToJsonObject(const AlertThreshold& threshold);

// JSON text of `v`: indent < 0 compact on one line, otherwise pretty with `indent` spaces per
// level starting at nesting `depth`. Non-finite doubles are null; invalid UTF-8 becomes U+FFFD;
// doubles keep a fraction or exponent ("2.0") so they read back as doubles.
void AppendJsonText(std::string& out, const boost::json::value& v, int indent = -1, int depth = 0);
std::string JsonText(const boost::json::value& v, int indent = -1);
// Shortest text that reads back as the same double ("1234.5", "1e+20").
void AppendDoubleText(std::string& out, double v);

}  // namespace vibekit::views
