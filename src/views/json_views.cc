#include "views/json_views.h"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <optional>
#include <string_view>
#include <utility>

#include "common/json_parse.h"
#include "common/utf8.h"

namespace vibekit::views {
namespace {

namespace json = boost::json;

void AppendInt(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

void AppendUint(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

void AppendJsonDouble(std::string& out, double v) {
  if (!std::isfinite(v)) {  // JSON has no NaN or infinity
    out.append("null");
    return;
  }
  const std::size_t start = out.size();
  AppendDoubleText(out, v);
  // Keep the value a double when parsed back ("2.0", not "2").
  if (out.find_first_of(".e", start) == std::string::npos) out.append(".0");
}

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const internal::Utf8CodePoint cp = internal::DecodeUtf8At(s, i);
      if (cp.valid) {
        out.append(s.substr(i, cp.length));
      } else {
        out.append("\\ufffd");
      }
      i += cp.length;
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

void AppendIndent(std::string& out, int indent, int depth) {
  out.push_back('\n');
  out.append(static_cast<std::size_t>(indent) * static_cast<std::size_t>(depth), ' ');
}

// Metadata is stored as JSON object text; emitting it as an object keeps consumers from
// parsing twice. Anything else (a legacy or damaged value) is kept verbatim as a string.
json::value MetadataValue(const std::optional<std::string>& metadata) {
  if (!metadata) return nullptr;
  boost::system::error_code ec;
  json::value parsed = vibekit::internal::ParseJson(*metadata, ec);
  if (!ec && parsed.is_object()) return parsed;
  return json::value(json::string(*metadata));
}

json::value Optional(const std::optional<std::string>& v) {
  if (!v) return nullptr;
  return json::value(json::string(*v));
}

json::value Optional(const std::optional<std::int64_t>& v) {
  if (!v) return nullptr;
  return json::value(*v);
}

json::value Optional(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::object Quantiles(const QuantileSummary& q) {
  return {{"count", q.count},       {"mean", Optional(q.mean)}, {"p50", Optional(q.p50)},
          {"p90", Optional(q.p90)}, {"p95", Optional(q.p95)},   {"p99", Optional(q.p99)}};
}

json::object Counts(const std::map<std::string, std::int64_t>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k.empty() ? "(none)" : k] = v;
  return o;
}

std::string_view AlertSeverityName(AlertSeverity s) {
  switch (s) {
    case AlertSeverity::kLow:
      return "low";
    case AlertSeverity::kMedium:
      return "medium";
    case AlertSeverity::kHigh:
      return "high";
    case AlertSeverity::kCritical:
      return "critical";
  }
  return "medium";
}

}  // namespace

void AppendDoubleText(std::string& out, double v) {
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

void AppendJsonText(std::string& out, const json::value& v, int indent, int depth) {
  switch (v.kind()) {
    case json::kind::null:
      out.append("null");
      break;
    case json::kind::bool_:
      out.append(v.get_bool() ? "true" : "false");
      break;
    case json::kind::int64:
      AppendInt(out, v.get_int64());
      break;
    case json::kind::uint64:
      AppendUint(out, v.get_uint64());
      break;
    case json::kind::double_:
      AppendJsonDouble(out, v.get_double());
      break;
    case json::kind::string:
      AppendJsonString(out, v.get_string());
      break;
    case json::kind::array: {
      const json::array& a = v.get_array();
      if (a.empty()) {
        out.append("[]");
        break;
      }
      out.push_back('[');
      bool first = true;
      for (const json::value& item : a) {
        if (!first) out.push_back(',');
        first = false;
        if (indent >= 0) AppendIndent(out, indent, depth + 1);
        AppendJsonText(out, item, indent, depth + 1);
      }
      if (indent >= 0) AppendIndent(out, indent, depth);
      out.push_back(']');
      break;
    }
    case json::kind::object: {
      const json::object& o = v.get_object();
      if (o.empty()) {
        out.append("{}");
        break;
      }
      out.push_back('{');
      bool first = true;
      for (const json::key_value_pair& kv : o) {
        if (!first) out.push_back(',');
        first = false;
        if (indent >= 0) AppendIndent(out, indent, depth + 1);
        AppendJsonString(out, kv.key());
        out.append(indent >= 0 ? ": " : ":");
        AppendJsonText(out, kv.value(), indent, depth + 1);
      }
      if (indent >= 0) AppendIndent(out, indent, depth);
      out.push_back('}');
      break;
    }
  }
}

std::string JsonText(const json::value& v, int indent) {
  std::string out;
  AppendJsonText(out, v, indent, 0);
  return out;
}

json::object EventToJsonObject(const Event& event) {
  json::object o;
  try {
    o["id"] = event.id;
    o["sessionId"] = event.session_id;
    o["eventType"] = EventTypeName(event.event_type);
    o["agentType"] = event.agent_type;
    o["mode"] = Optional(event.mode);
    o["prompt"] = Optional(event.prompt);
    o["streamData"] = Optional(event.stream_data);
    o["sandboxId"] = Optional(event.sandbox_id);
    o["repoUrl"] = Optional(event.repo_url);
    o["metadata"] = MetadataValue(event.metadata);
    o["timestamp"] = event.timestamp;
    o["createdAt"] = event.created_at;
    if (event.event_type == EventType::kError && event.error) {
      const ErrorDetails& e = *event.error;
      json::object error;
      error["type"] = e.error_type.empty() ? std::string_view("error") : e.error_type;
      error["message"] = e.message;
      error["stack"] = Optional(e.stack);
      error["severity"] = ErrorSeverityName(e.severity);
      o["error"] = std::move(error);
    }
  } catch (const std::exception&) {
    // Only allocation can fail here; the partial object is still valid JSON.
  }
  return o;
}

json::object SessionToJsonObject(const Session& session) {
  json::object o;
  try {
    o["id"] = session.id;
    o["agentType"] = session.agent_type;
    o["mode"] = Optional(session.mode);
    o["status"] = SessionStatusName(session.status);
    o["startTime"] = session.start_time;
    o["endTime"] = Optional(session.end_time);
    o["duration"] = Optional(session.duration);
    o["eventCount"] = session.event_count;
    o["streamEventCount"] = session.stream_event_count;
    o["errorCount"] = session.error_count;
    o["sandboxId"] = Optional(session.sandbox_id);
    o["repoUrl"] = Optional(session.repo_url);
    o["metadata"] = MetadataValue(session.metadata);
    o["lastEventTime"] = session.last_event_time;
    o["createdAt"] = session.created_at;
    o["updatedAt"] = session.updated_at;
  } catch (const std::exception&) {
  }
  return o;
}

json::object ErrorRecordToJsonObject(const ErrorRecord& error) {
  json::object o;
  try {
    o["id"] = error.id;
    o["sessionId"] = error.session_id;
    o["eventId"] = Optional(error.event_id);
    o["errorType"] = error.error_type;
    o["errorMessage"] = error.error_message;
    o["errorStack"] = Optional(error.error_stack);
    o["context"] = Optional(error.context);
    o["severity"] = ErrorSeverityName(error.severity);
    o["resolved"] = error.resolved;
    o["metadata"] = MetadataValue(error.metadata);
    o["timestamp"] = error.timestamp;
    o["createdAt"] = error.created_at;
  } catch (const std::exception&) {
  }
  return o;
}

json::object HealthToJsonObject(const HealthStatus& health) {
  json::object o;
  try {
    o["database"] = health.database;
    o["quickCheck"] = health.quick_check;
    o["dbPath"] = health.db_path;
    o["backend"] = health.backend;
    if (health.backend == "postgres") {
      // No file, WAL or disk of ours: the database's size (its tables) under its own name.
      o["databaseSizeBytes"] = health.file_size_bytes;
    } else {
      o["fileSizeBytes"] = health.file_size_bytes;
      o["walSizeBytes"] = health.wal_size_bytes;
      o["diskFreeBytes"] = health.disk_free_bytes;
    }
    o["memoryRssBytes"] = health.memory_rss_bytes;
    o["bufferedEvents"] = health.buffered_events;
    o["queuedEvents"] = health.queued_events;
    o["writerLagMs"] = health.writer_lag_ms;
    o["lastWriteError"] = health.last_write_error;
    o["pruneDays"] = health.prune_days;
    o["maxSizeBytes"] = health.max_size_bytes;
    o["oldestEventTime"] = health.oldest_event_time;
    o["lastCleanupTime"] = health.last_cleanup_time;
    o["lastCleanupSessionsRemoved"] = health.last_cleanup_sessions_removed;
    o["deadLetterBatches"] = health.dead_letter_batches;
    json::object connections;
    connections["active"] = health.connections.active;
    connections["total"] = health.connections.total;
    o["connections"] = std::move(connections);
    const DeliveryHealth& d = health.delivery;
    json::object delivery;
    delivery["configured"] = d.configured;
    delivery["endpoint"] = d.endpoint;
    delivery["workerRunning"] = d.worker_running;
    delivery["eventCursor"] = d.event_cursor;
    delivery["queuedEvents"] = d.queued_events;
    delivery["queuedSessions"] = d.queued_sessions;
    delivery["eventsSent"] = d.events_sent;
    delivery["spansSent"] = d.spans_sent;
    delivery["requestsSent"] = d.requests_sent;
    delivery["eventsFailed"] = d.events_failed;
    delivery["requestsFailed"] = d.requests_failed;
    delivery["retries"] = d.retries;
    delivery["lastError"] = d.last_error;
    delivery["lastErrorTime"] = d.last_error_time;
    delivery["lastSuccessTime"] = d.last_success_time;
    o["delivery"] = std::move(delivery);
    o["performanceGrade"] = health.performance_grade;
    json::array issues;
    for (const std::string& issue : health.issues) issues.emplace_back(issue);
    o["issues"] = std::move(issues);
  } catch (const std::exception&) {
  }
  return o;
}

json::object RollupToJsonObject(const RollupCounts& counts) {
  json::object o;
  try {
    o["totalEvents"] = counts.total_events;
    o["startEvents"] = counts.start_events;
    o["streamEvents"] = counts.stream_events;
    o["endEvents"] = counts.end_events;
    o["errorEvents"] = counts.error_events;
    o["sessions"] = counts.sessions;
    o["activeSessions"] = counts.active_sessions;
    o["completedSessions"] = counts.completed_sessions;
    o["failedSessions"] = counts.failed_sessions;
    o["timeoutSessions"] = counts.timeout_sessions;
    o["sessionsWithErrors"] = counts.sessions_with_errors;
    o["avgSessionDurationMs"] = Optional(counts.avg_session_duration_ms);
    o["minTimestamp"] = Optional(counts.min_timestamp);
    o["maxTimestamp"] = Optional(counts.max_timestamp);
  } catch (const std::exception&) {
  }
  return o;
}

json::object AnalyticsReportToJson(const AnalyticsReport& r) {
  json::object o;
  o["from"] = r.from_ms;
  o["to"] = r.to_ms;
  o["generatedAt"] = r.generated_at;
  o["performance"] = {{"responseTimeMs", Quantiles(r.performance.response_time_ms)},
                      {"streamGapMs", Quantiles(r.performance.stream_gap_ms)},
                      {"throughputPerMin", r.performance.throughput_per_min},
                      {"errorRatePct", r.performance.error_rate_pct}};
  o["usage"] = {
      {"events", r.usage.events},
      {"sessionsStarted", r.usage.sessions_started},
      {"activeSessions", r.usage.active_sessions},
      {"topAgent", r.usage.top_agent ? json::value(*r.usage.top_agent) : json::value(nullptr)},
      {"peakHourUtc",
       r.usage.peak_hour_utc ? json::value(*r.usage.peak_hour_utc) : json::value(nullptr)},
      {"peakHourEvents", r.usage.peak_hour_events},
      {"sessionsByAgent", Counts(r.usage.sessions_by_agent)},
      {"sessionsByMode", Counts(r.usage.sessions_by_mode)},
      {"eventsByType", Counts(r.usage.events_by_type)}};
  o["quality"] = {{"sessionDurationMs", Quantiles(r.quality.session_duration_ms)},
                  {"active", r.quality.active},
                  {"completed", r.quality.completed},
                  {"failed", r.quality.failed},
                  {"timedOut", r.quality.timed_out},
                  {"successRatePct", Optional(r.quality.success_rate_pct)},
                  {"inputTokens", r.quality.input_tokens},
                  {"outputTokens", r.quality.output_tokens},
                  {"costUsd", r.quality.cost_usd}};
  return o;
}

json::object AnomalyToJsonObject(const Anomaly& x) {
  return {{"peak", x.peak_ms},
          {"metric", x.metric},
          {"kind", x.kind},
          {"severity", x.severity},
          {"observed", x.observed},
          {"expected", x.expected},
          {"confidencePct", x.confidence_pct},
          {"zScore", x.z_score},
          {"windowStart", x.window_start_ms},
          {"windowEnd", x.window_end_ms},
          {"title", x.title},
          {"description", x.description}};
}

json::object PredictionToJsonObject(const Prediction& f) {
  json::array points;
  for (const PredictionPoint& pt : f.points) {
    points.push_back(
        {{"minute", pt.minute}, {"value", pt.value}, {"lower", pt.lower}, {"upper", pt.upper}});
  }
  return {{"metric", f.metric},
          {"method", f.method},
          {"backtestMae", Optional(f.backtest_mae)},
          {"naiveMae", Optional(f.naive_mae)},
          {"points", std::move(points)}};
}

json::object DashboardToJsonObject(const DashboardMetrics& m) {
  return {{"generatedAt", m.generated_at},
          {"windowMinutes", m.window_minutes},
          {"events", m.events},
          {"activeSessions", m.active_sessions},
          {"throughputPerMin", m.throughput_per_min},
          {"errorRatePct", m.error_rate_pct},
          {"responseTimeP50Ms", Optional(m.response_time_p50_ms)},
          {"responseTimeP95Ms", Optional(m.response_time_p95_ms)}};
}

json::object AlertToJsonObject(const AlertEvent& a) {
  return {{"id", a.id},
          {"metric", a.metric},
          {"value", a.value},
          {"threshold", a.threshold},
          {"direction", a.direction == AlertDirection::kAbove ? "above" : "below"},
          {"severity", AlertSeverityName(a.severity)},
          {"firedAt", a.fired_at_ms},
          {"resolvedAt", Optional(a.resolved_at_ms)},
          {"message", a.message}};
}

json::object AlertThresholdToJsonObject(const AlertThreshold& t) {
  return {{"metric", t.metric},
          {"threshold", t.threshold},
          {"direction", t.direction == AlertDirection::kAbove ? "above" : "below"},
          {"severity", AlertSeverityName(t.severity)},
          {"cooldownMs", t.cooldown_ms}};
}

}  // namespace vibekit::views
