#include "server/server_metrics.h"

#include "views/json_views.h"

namespace vibekit::server {
namespace {

void AppendNumber(std::string& out, double v) { views::AppendDoubleText(out, v); }

// Label values escape backslash, quote and newline (exposition format).
std::string LabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out.append("\\n");
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void Metric(std::string& out, const char* name, const char* type, const char* help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void Sample(std::string& out, const std::string& name, std::int64_t v) {
  out.append(name).append(" ").append(std::to_string(v)).append("\n");
}

}  // namespace

void Histogram::Observe(double seconds) noexcept {
  std::size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  ++counts_[i];
  sum_ += seconds;
  ++count_;
}

void Histogram::Render(std::string& out, const std::string& name,
                       const std::string& labels) const {
  std::int64_t cumulative = 0;
  const std::string sep = labels.empty() ? "" : ",";
  for (std::size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += counts_[i];
    out.append(name).append("_bucket{").append(labels).append(sep).append("le=\"");
    if (i < kBounds.size()) {
      AppendNumber(out, kBounds[i]);
    } else {
      out.append("+Inf");
    }
    out.append("\"} ").append(std::to_string(cumulative)).append("\n");
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out.append(name).append("_sum").append(braces).append(" ");
  AppendNumber(out, sum_);
  out.append("\n");
  out.append(name).append("_count").append(braces).append(" ").append(std::to_string(count_));
  out.append("\n");
}

void ServerMetrics::RecordRequest(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{route, status}];
  durations_[route].Observe(seconds);
}

void ServerMetrics::RecordIngest(std::int64_t accepted, std::int64_t rejected,
                                 double commit_wait_seconds) {
  accepted_.fetch_add(accepted);
  rejected_.fetch_add(rejected);
  if (accepted > 0) {
    std::lock_guard lock(mu_);
    flush_latency_.Observe(commit_wait_seconds);
  }
}

std::string ServerMetrics::RenderPrometheus(const PerformanceMetrics& perf) const {
  std::string out;
  Metric(out, "vibekit_ingest_events_total", "counter",
         "Events accepted and committed through POST /api/events");
  Sample(out, "vibekit_ingest_events_total", accepted_.load());
  Metric(out, "vibekit_ingest_rejected_total", "counter",
         "Events rejected by validation in POST /api/events");
  Sample(out, "vibekit_ingest_rejected_total", rejected_.load());
  Metric(out, "vibekit_events_written_total", "counter",
         "Events committed by the writer of this process (every source)");
  Sample(out, "vibekit_events_written_total", perf.events_written);
  Metric(out, "vibekit_writer_cpu_seconds_total", "counter",
         "CPU time of the writer thread; its rate near 1 means ingest is bound by the writer");
  out.append("vibekit_writer_cpu_seconds_total ");
  AppendNumber(out, perf.writer_cpu_seconds);
  out.append("\n");
  Metric(out, "vibekit_text_index_cpu_seconds_total", "counter",
         "CPU time of the text index's own thread (SQLite; 0 on PostgreSQL)");
  out.append("vibekit_text_index_cpu_seconds_total ");
  AppendNumber(out, perf.text_index_cpu_seconds);
  out.append("\n");
  Metric(out, "vibekit_text_index_lag_events", "gauge",
         "Committed events the text index has not reached yet (a search indexes them first)");
  Sample(out, "vibekit_text_index_lag_events", perf.text_index_lag_events);
  Metric(out, "vibekit_queue_depth", "gauge", "Events accepted but not yet committed");
  Sample(out, "vibekit_queue_depth", perf.queued_events + perf.buffered_events);
  Metric(out, "vibekit_websocket_clients", "gauge", "Connected WebSocket clients");
  Sample(out, "vibekit_websocket_clients", ws_clients_.load());
  Metric(out, "vibekit_websocket_dropped_messages_total", "counter",
         "Messages not sent to WebSocket clients that read too slowly");
  Sample(out, "vibekit_websocket_dropped_messages_total", ws_dropped_.load());
  Metric(out, "vibekit_websocket_window_ms", "gauge",
         "The WebSocket pushes' coalescing window: longer while the previews are cut (load)");
  Sample(out, "vibekit_websocket_window_ms", ws_window_ms_.load());
  Metric(out, "vibekit_websocket_cpu_seconds_total", "counter",
         "CPU time of the WebSocket hub's thread, as of its last push");
  out.append("vibekit_websocket_cpu_seconds_total ");
  AppendNumber(out, ws_cpu_seconds_.load());
  out.append("\n");
  std::lock_guard lock(mu_);
  Metric(out, "vibekit_flush_latency_seconds", "histogram",
         "Time POST /api/events waited for its events to be committed");
  flush_latency_.Render(out, "vibekit_flush_latency_seconds", "");
  Metric(out, "vibekit_http_requests_total", "counter", "HTTP requests by route and status code");
  for (const auto& [key, n] : requests_) {
    out.append("vibekit_http_requests_total{route=\"").append(LabelValue(key.first));
    out.append("\",code=\"").append(std::to_string(key.second)).append("\"} ");
    out.append(std::to_string(n)).append("\n");
  }
  Metric(out, "vibekit_http_request_duration_seconds", "histogram",
         "HTTP request handling time by route");
  for (const auto& [route, h] : durations_) {
    h.Render(out, "vibekit_http_request_duration_seconds", "route=\"" + LabelValue(route) + "\"");
  }
  return out;
}

}  // namespace vibekit::server
