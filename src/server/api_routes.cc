#include "server/api_routes.h"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>

#include "common/json_parse.h"
#include "ingest/event_body.h"
#include "vibekit/clock.h"
#include "vibekit/export.h"
#include "views/json_views.h"
#include "views/time_arg.h"

namespace vibekit::server {
namespace {

namespace json = boost::json;

constexpr std::int64_t kMinuteMs = 60000;

std::int64_t NowMs() { return SystemClock().NowMs(); }

Result<std::optional<std::int64_t>> IntParam(const Request& r, std::string_view name,
                                             std::int64_t min, std::int64_t max) {
  std::optional<std::string> text = r.Param(name);
  if (!text || text->empty()) return std::optional<std::int64_t>();
  std::int64_t v = 0;
  const auto res = std::from_chars(text->data(), text->data() + text->size(), v);
  if (res.ec != std::errc() || res.ptr != text->data() + text->size()) {
    return Status::InvalidArgument(std::string(name) + " must be an integer, got \"" + *text +
                                   "\"");
  }
  if (v < min || v > max) {
    return Status::InvalidArgument(std::string(name) + " must be between " +
                                   std::to_string(min) + " and " + std::to_string(max));
  }
  return std::optional<std::int64_t>(v);
}

std::optional<std::string> NonEmpty(const Request& r, std::string_view name) {
  std::optional<std::string> v = r.Param(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

// Keyset-like cursor over a list sorted newest first by a time column: the time of the last
// item shown ("the page ended at time T") and how many items at exactly T were shown already.
// Opaque to clients: "<T>.<skip>".
struct Cursor {
  std::int64_t time = 0;
  std::int64_t skip = 0;
};

Result<std::optional<Cursor>> ParseCursor(const Request& r) {
  std::optional<std::string> text = NonEmpty(r, "cursor");
  if (!text) return std::optional<Cursor>();
  const std::size_t dot = text->find('.');
  Cursor c;
  bool ok = dot != std::string::npos;
  if (ok) {
    const char* b = text->data();
    auto r1 = std::from_chars(b, b + dot, c.time);
    auto r2 = std::from_chars(b + dot + 1, b + text->size(), c.skip);
    ok = r1.ec == std::errc() && r1.ptr == b + dot && r2.ec == std::errc() &&
         r2.ptr == b + text->size() && c.skip >= 0;
  }
  if (!ok) return Status::InvalidArgument("cursor is not one this server handed out");
  return std::optional<Cursor>(c);
}

// The cursor after a page of `times` (newest first) that was read with `previous`.
std::string NextCursor(const std::vector<std::int64_t>& times, const std::optional<Cursor>& previous) {
  const std::int64_t last = times.back();
  std::int64_t skip = 0;
  for (std::int64_t t : times) skip += t == last ? 1 : 0;
  if (previous && previous->time == last) skip += previous->skip;
  return std::to_string(last) + "." + std::to_string(skip);
}

#define VK_HTTP_ASSIGN(lhs, expr)                       \
  auto VK_HTTP_TMP_##lhs = (expr);                      \
  if (!VK_HTTP_TMP_##lhs.ok()) return StatusResponse(VK_HTTP_TMP_##lhs.status()); \
  auto lhs = std::move(*VK_HTTP_TMP_##lhs)

// ---------------------------------------------------------------------------------------------
// POST /api/events

Response PostEvents(const ApiContext& ctx, Request& req) {
  const bool ndjson_type = req.Header("content-type").starts_with("application/x-ndjson");
  TelemetryService* service = ctx.service;
  VK_HTTP_ASSIGN(parsed, ingest::ParseEventBody(
                             req.body, ndjson_type, ctx.service->config().local_store, NowMs(),
                             [service](Event& e) { return service->ValidateEvent(e); }));
  std::vector<Event>& valid = parsed.valid;
  const auto rejected = static_cast<std::int64_t>(parsed.rejected.size());
  json::array errors;
  errors.reserve(parsed.rejected.size());
  for (const ingest::BodyRejection& r : parsed.rejected) {
    errors.push_back(json::object{{"index", r.index}, {"message", r.message}});
  }
  double wait_s = 0;
  const auto accepted = static_cast<std::int64_t>(valid.size());
  if (!valid.empty()) {
    // Each event passed ValidateEvent in ParseEventBody: not checked (nor copied) again.
    Status s = ctx.service->InsertValidatedBatch(std::move(valid));
    if (!s.ok()) return StatusResponse(s);
    // Answer only once the accepted events are committed (durable).
    const auto t0 = std::chrono::steady_clock::now();
    s = ctx.service->FlushBuffers();
    wait_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!s.ok()) return StatusResponse(s.WithContext("the events were not committed"));
  }
  ctx.metrics->RecordIngest(accepted, rejected, wait_s);
  return JsonResponse(json::object{{"accepted", accepted},
                                   {"rejected", rejected},
                                   {"errors", std::move(errors)}});
}

// ---------------------------------------------------------------------------------------------
// GET /api/events, /api/sessions, /api/sessions/{id}

Response GetEvents(const ApiContext& ctx, Request& req) {
  const std::int64_t now = NowMs();
  EventQueryFilter f;
  f.order = SortOrder::kDesc;
  f.session_id = NonEmpty(req, "sessionId");
  if (auto type = NonEmpty(req, "type")) {
    VK_HTTP_ASSIGN(t, ParseEventType(*type));
    f.event_type = t;
  }
  f.agent_type = NonEmpty(req, "agent");
  f.mode = NonEmpty(req, "mode");
  VK_HTTP_ASSIGN(since, TimeParam(req, "since", now));
  VK_HTTP_ASSIGN(until, TimeParam(req, "until", now));
  f.from_time = since;
  f.to_time = until;
  f.contains = NonEmpty(req, "contains");
  VK_HTTP_ASSIGN(limit, IntParam(req, "limit", 1, 1000));
  VK_HTTP_ASSIGN(cursor, ParseCursor(req));
  const std::int64_t page = limit.value_or(100);
  if (cursor) {
    f.to_time = f.to_time ? std::min(*f.to_time, cursor->time) : cursor->time;
    f.offset = cursor->time == f.to_time ? cursor->skip : 0;
  }
  f.limit = page + 1;
  VK_HTTP_ASSIGN(events, ctx.service->QueryEvents(f));
  const bool more = static_cast<std::int64_t>(events.size()) > page;
  if (more) events.resize(static_cast<std::size_t>(page));
  json::array out;
  std::vector<std::int64_t> times;
  for (const Event& e : events) {
    out.push_back(views::EventToJsonObject(e));
    times.push_back(e.timestamp);
  }
  std::optional<Cursor> used;
  if (cursor && cursor->time == f.to_time) used = cursor;
  json::value next = nullptr;
  if (more) next = json::string(NextCursor(times, used));
  return JsonResponse(json::object{{"events", std::move(out)}, {"nextCursor", std::move(next)}});
}

Response GetSessions(const ApiContext& ctx, Request& req) {
  const std::int64_t now = NowMs();
  SessionQueryFilter f;
  f.order = SortOrder::kDesc;
  if (auto status = NonEmpty(req, "status")) {
    VK_HTTP_ASSIGN(st, ParseSessionStatus(*status));
    f.status = st;
  }
  f.agent_type = NonEmpty(req, "agent");
  f.mode = NonEmpty(req, "mode");
  VK_HTTP_ASSIGN(since, TimeParam(req, "since", now));
  VK_HTTP_ASSIGN(until, TimeParam(req, "until", now));
  f.from_time = since;
  f.to_time = until;
  f.search = NonEmpty(req, "q");
  if (f.search && f.search->size() > 256) return ErrorResponse(400, "q is longer than 256 bytes");
  VK_HTTP_ASSIGN(limit, IntParam(req, "limit", 1, 1000));
  VK_HTTP_ASSIGN(cursor, ParseCursor(req));
  VK_HTTP_ASSIGN(total, ctx.service->CountSessions(f));
  const std::int64_t page = limit.value_or(50);
  std::optional<Cursor> used;
  if (cursor) {
    f.to_time = f.to_time ? std::min(*f.to_time, cursor->time) : cursor->time;
    if (cursor->time == f.to_time) {
      f.offset = cursor->skip;
      used = cursor;
    }
  }
  f.limit = page + 1;
  VK_HTTP_ASSIGN(sessions, ctx.service->QuerySessions(f));
  const bool more = static_cast<std::int64_t>(sessions.size()) > page;
  if (more) sessions.resize(static_cast<std::size_t>(page));
  json::array out;
  std::vector<std::int64_t> times;
  for (const Session& s : sessions) {
    out.push_back(views::SessionToJsonObject(s));
    times.push_back(s.start_time);
  }
  json::value next = nullptr;
  if (more) next = json::string(NextCursor(times, used));
  return JsonResponse(json::object{
      {"sessions", std::move(out)}, {"nextCursor", std::move(next)}, {"total", total}});
}

// Events of one session are returned whole up to this many (the rest is paged by
// GET /api/events?sessionId=...); "eventsTruncated" says so.
constexpr std::int64_t kSessionEventsMax = 20000;

Response GetSessionDetail(const ApiContext& ctx, Request& req) {
  const std::string id(req.PathParam("id"));
  VK_HTTP_ASSIGN(session, ctx.service->GetSession(id));
  EventQueryFilter f;
  f.session_id = id;
  f.order = SortOrder::kAsc;
  f.limit = kSessionEventsMax + 1;
  VK_HTTP_ASSIGN(events, ctx.service->QueryEvents(f));
  const bool truncated = static_cast<std::int64_t>(events.size()) > kSessionEventsMax;
  if (truncated) events.resize(static_cast<std::size_t>(kSessionEventsMax));
  VK_HTTP_ASSIGN(errors, ctx.service->GetSessionErrors(id));
  json::array ev;
  for (const Event& e : events) ev.push_back(views::EventToJsonObject(e));
  json::array er;
  for (const ErrorRecord& e : errors) er.push_back(views::ErrorRecordToJsonObject(e));
  return JsonResponse(json::object{{"session", views::SessionToJsonObject(session)},
                                   {"events", std::move(ev)},
                                   {"eventsTruncated", truncated},
                                   {"errors", std::move(er)}});
}

// ---------------------------------------------------------------------------------------------
// GET /api/health


Response GetHealth(const ApiContext& ctx, Request&) {
  TelemetryService::HealthCheckOptions options;
  options.quick_check = false;  // reads the whole file: `vibekit db health` does that
  Result<HealthStatus> h = ctx.service->HealthCheck(options);
  json::object o;
  if (!h.ok()) {
    o["status"] = "unhealthy";
    o["error"] = h.status().message();
  } else {
    o["status"] = HealthWord(*h);
    for (auto& kv : views::HealthToJsonObject(*h)) o[kv.key()] = kv.value();
  }
  if (ctx.server_info) o["server"] = ctx.server_info();
  const bool unhealthy = o["status"].as_string() == "unhealthy";
  return JsonResponse(o, unhealthy ? 503 : 200);
}

Response GetMetrics(const ApiContext& ctx, Request&) {
  Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = ctx.metrics->RenderPrometheus(ctx.service->GetPerformanceMetrics());
  return r;
}



std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(pos, end - pos);
    if (!item.empty()) out.push_back(std::move(item));
    pos = end + 1;
  }
  return out;
}

}  // namespace


Result<json::object> DashboardJson(AnalyticsService& analytics, std::int64_t minutes,
                                   std::int64_t now_ms, bool with_series) {
  VK_ASSIGN_OR_RETURN(DashboardMetrics m, analytics.GetCachedDashboardMetrics());
  // A range fixed within the current minute, so the cached report is reused until data is
  // committed (the cache drops entries on every commit) or the minute turns.
  const std::int64_t minute = now_ms - now_ms % kMinuteMs;
  AnalyticsRange range{minute - (minutes - 1) * kMinuteMs, minute + kMinuteMs - 1};
  VK_ASSIGN_OR_RETURN(AnalyticsReport report,
                      analytics.GetCachedAnalytics("dashboard-" + std::to_string(minutes), range));
  json::object o = views::DashboardToJsonObject(m);
  const QuantileSummary& d = report.quality.session_duration_ms;
  o["eventsPerMinute"] = m.throughput_per_min;
  o["errorRate"] = m.error_rate_pct;
  o["avgDurationMs"] = d.mean ? json::value(*d.mean) : json::value(nullptr);
  o["p95DurationMs"] = d.p95 ? json::value(*d.p95) : json::value(nullptr);
  o["inputTokens"] = report.quality.input_tokens;
  o["outputTokens"] = report.quality.output_tokens;
  o["tokens"] = report.quality.input_tokens + report.quality.output_tokens;
  o["costUsd"] = report.quality.cost_usd;
  o["sessionsStarted"] = report.usage.sessions_started;
  if (with_series) {
    VK_ASSIGN_OR_RETURN(auto throughput,
                        analytics.GetMetricSeries("throughput", *range.from_ms, *range.to_ms));
    VK_ASSIGN_OR_RETURN(auto error_rate,
                        analytics.GetMetricSeries("error_rate", *range.from_ms, *range.to_ms));
    VK_ASSIGN_OR_RETURN(auto sessions,
                        analytics.GetMetricSeries("sessions", *range.from_ms, *range.to_ms));
    json::array t, events, errors, started;
    for (std::size_t i = 0; i < throughput.size(); ++i) {
      t.push_back(throughput[i].minute);
      const double n = throughput[i].value.value_or(0);
      events.push_back(static_cast<std::int64_t>(std::llround(n)));
      const double rate = i < error_rate.size() ? error_rate[i].value.value_or(0) : 0;
      errors.push_back(static_cast<std::int64_t>(std::llround(n * rate / 100.0)));
      started.push_back(static_cast<std::int64_t>(
          std::llround(i < sessions.size() ? sessions[i].value.value_or(0) : 0)));
    }
    o["series"] = json::object{{"t", std::move(t)},
                               {"events", std::move(events)},
                               {"errors", std::move(errors)},
                               {"sessionsStarted", std::move(started)}};
  }
  return o;
}

std::string_view HealthWord(const HealthStatus& h) {
  if (!h.database || h.performance_grade == "critical") return "unhealthy";
  if (h.performance_grade == "poor" || h.performance_grade == "fair") return "degraded";
  return "healthy";
}

namespace {

Response GetDashboard(const ApiContext& ctx, Request& req) {
  VK_HTTP_ASSIGN(minutes, IntParam(req, "minutes", 1, 24 * 60));
  VK_HTTP_ASSIGN(o, DashboardJson(*ctx.analytics, minutes.value_or(60), NowMs(), true));
  return JsonResponse(o);
}

Response GetAnalyticsReport(const ApiContext& ctx, Request& req) {
  const std::int64_t now = NowMs();
  VK_HTTP_ASSIGN(since, TimeParam(req, "since", now));
  VK_HTTP_ASSIGN(until, TimeParam(req, "until", now));
  if (since && until && *since > *until) return ErrorResponse(400, "since is after until");
  VK_HTTP_ASSIGN(report, ctx.analytics->GetAnalytics({since, until}));
  return JsonResponse(views::AnalyticsReportToJson(report));
}

Response GetAnomalies(const ApiContext& ctx, Request& req) {
  const std::int64_t now = NowMs();
  std::vector<std::string> metrics = SplitList(req.Param("metrics").value_or(""));
  if (metrics.empty()) {
    metrics = {"throughput", "error_rate", "response_time", "session_duration", "token_usage"};
  }
  AnomalyOptions options;
  if (auto lookback = NonEmpty(req, "lookback")) {
    Result<std::int64_t> since = views::ParseTimeArg(*lookback, now);
    if (!since.ok() || *since >= now) {
      return ErrorResponse(400, "lookback must be a duration such as 24h");
    }
    options.lookback_minutes = std::max<std::int64_t>(1, (now - *since) / kMinuteMs);
  }
  VK_HTTP_ASSIGN(found, ctx.analytics->DetectAnomalies(metrics, options));
  json::array out;
  for (const Anomaly& a : found) out.push_back(views::AnomalyToJsonObject(a));
  return JsonResponse(json::object{{"anomalies", std::move(out)}});
}

Response GetPredictions(const ApiContext& ctx, Request& req) {
  std::vector<std::string> metrics = SplitList(req.Param("metric").value_or("throughput"));
  if (metrics.empty()) metrics = {"throughput"};
  VK_HTTP_ASSIGN(minutes, IntParam(req, "minutes", 1, 1440));
  VK_HTTP_ASSIGN(found,
                 ctx.analytics->GeneratePredictions(metrics, static_cast<int>(minutes.value_or(30))));
  json::array out;
  for (const Prediction& p : found) out.push_back(views::PredictionToJsonObject(p));
  return JsonResponse(json::object{{"predictions", std::move(out)}});
}

Response GetAlerts(const ApiContext& ctx, Request&) {
  json::array active, history, thresholds;
  for (const AlertEvent& a : ctx.analytics->ActiveAlerts()) active.push_back(views::AlertToJsonObject(a));
  const std::vector<AlertEvent> past = ctx.analytics->AlertHistory();
  for (auto it = past.rbegin(); it != past.rend(); ++it) {
    history.push_back(views::AlertToJsonObject(*it));  // newest first
  }
  for (const AlertThreshold& t : ctx.analytics->AlertThresholds()) {
    thresholds.push_back(views::AlertThresholdToJsonObject(t));
  }
  return JsonResponse(json::object{{"active", std::move(active)},
                                   {"history", std::move(history)},
                                   {"thresholds", std::move(thresholds)}});
}

Response GetAgents(const ApiContext& ctx, Request&) {
  VK_HTTP_ASSIGN(rows, ctx.service->GetAgentBreakdown());
  json::array out;
  for (const AgentModeCounts& r : rows) {
    out.push_back(json::object{{"agentType", r.agent_type},
                               {"mode", r.mode ? json::value(*r.mode) : json::value(nullptr)},
                               {"sessions", r.sessions},
                               {"events", r.events},
                               {"errors", r.errors}});
  }
  return JsonResponse(json::object{{"agents", std::move(out)}});
}

std::vector<std::string> StringList(const json::object& o, std::string_view key, Status* error) {
  std::vector<std::string> out;
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array()) {
    *error = Status::InvalidArgument(std::string(key) + " must be an array of strings");
    return out;
  }
  for (const json::value& item : v->as_array()) {
    if (!item.is_string()) {
      *error = Status::InvalidArgument(std::string(key) + " must be an array of strings");
      return out;
    }
    out.emplace_back(item.as_string());
  }
  return out;
}

std::optional<std::int64_t> OptionalInt(const json::object& o, std::string_view key, Status* error) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->as_uint64());
  }
  *error = Status::InvalidArgument(std::string(key) + " must be an integer");
  return std::nullopt;
}

std::string ContentTypeFor(const std::string& format, const std::string& compression) {
  if (compression == "gzip") return "application/gzip";
  if (compression == "brotli") return "application/x-brotli";
  if (compression == "zstd") return "application/zstd";
  if (format == "csv") return "text/csv; charset=utf-8";
  if (format == "ndjson") return "application/x-ndjson";
  return "application/json";
}

Response PostExport(const ApiContext& ctx, Request& req) {
  json::object body;
  if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    boost::system::error_code ec;
    json::value v = vibekit::internal::ParseJson(req.body, ec);
    if (ec || !v.is_object()) return ErrorResponse(400, "the body must be a JSON object");
    body = std::move(v.as_object());
  }
  Status error;
  auto str = [&](std::string_view key, std::string fallback) -> std::string {
    const json::value* v = body.if_contains(key);
    if (v == nullptr || v->is_null()) return fallback;
    if (!v->is_string()) {
      error = Status::InvalidArgument(std::string(key) + " must be a string");
      return fallback;
    }
    return std::string(v->as_string());
  };
  ExportConfig config;
  config.format = str("format", "json");
  config.compression = str("compression", "none");
  config.csv_delimiter = str("csvDelimiter", ",");
  if (const json::value* p = body.if_contains("prettyPrint"); p != nullptr && !p->is_null()) {
    if (!p->is_bool()) return ErrorResponse(400, "prettyPrint must be true or false");
    config.pretty_print = p->as_bool();
  }
  ExportFilter filter;
  filter.tables = StringList(body, "tables", &error);
  filter.session_ids = StringList(body, "sessionIds", &error);
  filter.agent_types = StringList(body, "agentTypes", &error);
  filter.event_types = StringList(body, "eventTypes", &error);
  filter.from_time = OptionalInt(body, "fromTime", &error);
  filter.to_time = OptionalInt(body, "toTime", &error);
  filter.limit = OptionalInt(body, "limit", &error);
  filter.offset = OptionalInt(body, "offset", &error).value_or(0);
  if (!error.ok()) return ErrorResponse(400, error.message());
  if (config.format == "csv" && filter.tables.size() != 1) {
    return ErrorResponse(400, "csv exports one table per request: set tables to one of "
                              "sessions, events, errors");
  }
  TelemetryExportService exporter(*ctx.service);
  std::error_code fs_error;
  std::filesystem::create_directories(ctx.export_dir, fs_error);
  static std::atomic<std::int64_t> counter{0};
  const std::string ext = config.format == "otlp" ? "json" : config.format;
  const std::string name = "vibekit-export-" + std::to_string(NowMs()) + "." + ext;
  config.output_path = ctx.export_dir + "/" + std::to_string(getpid()) + "-" +
                       std::to_string(counter.fetch_add(1)) + "-" + name;
  ValidationResult valid = exporter.ValidateConfiguration(config);
  if (!valid.valid) {
    std::string msg;
    for (const std::string& e : valid.errors) msg += (msg.empty() ? "" : "; ") + e;
    return ErrorResponse(400, msg);
  }
  VK_HTTP_ASSIGN(result, exporter.Export(filter, config));
  if (result.files.size() != 1) {
    for (const ExportedFile& f : result.files) std::filesystem::remove(f.path, fs_error);
    return ErrorResponse(500, "the export did not produce one file");
  }
  const ExportedFile& file = result.files.front();
  Response r;
  r.content_type = ContentTypeFor(config.format, config.compression);
  r.file_path = file.path;
  r.remove_file = true;
  std::string download = name;
  const std::size_t dot = file.path.rfind('.');
  if (config.compression != "none" && dot != std::string::npos) download += file.path.substr(dot);
  r.SetHeader("Content-Disposition", "attachment; filename=\"" + download + "\"");
  r.SetHeader("X-Vibekit-Sha256", file.sha256);
  r.SetHeader("X-Vibekit-Records", std::to_string(result.record_count));
  return r;
}

#undef VK_HTTP_ASSIGN

}  // namespace

Result<std::optional<std::int64_t>> TimeParam(const Request& request, std::string_view name,
                                              std::int64_t now_ms) {
  std::optional<std::string> text = NonEmpty(request, name);
  if (!text) return std::optional<std::int64_t>();
  Result<std::int64_t> t = views::ParseTimeArg(*text, now_ms);
  if (!t.ok()) return t.status().WithContext(std::string(name));
  return std::optional<std::int64_t>(*t);
}

void AddApiRoutes(Router& router, const ApiContext& context) {
  const ApiContext* ctx = &context;
  router.Add("POST", "/api/events", [ctx](Request& r) { return PostEvents(*ctx, r); });
  router.Add("GET", "/api/events", [ctx](Request& r) { return GetEvents(*ctx, r); });
  router.Add("GET", "/api/sessions", [ctx](Request& r) { return GetSessions(*ctx, r); });
  router.Add("GET", "/api/sessions/{id}", [ctx](Request& r) { return GetSessionDetail(*ctx, r); });
  router.Add("GET", "/api/health", [ctx](Request& r) { return GetHealth(*ctx, r); },
             RouteOptions{.public_access = true});
  router.Add("GET", "/metrics", [ctx](Request& r) { return GetMetrics(*ctx, r); });
  router.Add("GET", "/api/dashboard", [ctx](Request& r) { return GetDashboard(*ctx, r); });
  router.Add("GET", "/api/analytics", [ctx](Request& r) { return GetAnalyticsReport(*ctx, r); });
  router.Add("GET", "/api/anomalies", [ctx](Request& r) { return GetAnomalies(*ctx, r); });
  router.Add("GET", "/api/predictions", [ctx](Request& r) { return GetPredictions(*ctx, r); });
  router.Add("GET", "/api/alerts", [ctx](Request& r) { return GetAlerts(*ctx, r); });
  router.Add("GET", "/api/agents", [ctx](Request& r) { return GetAgents(*ctx, r); });
  router.Add("POST", "/api/export", [ctx](Request& r) { return PostExport(*ctx, r); });
}

}  // namespace vibekit::server
