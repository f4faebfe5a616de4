#include "vibekit/config.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

namespace vibekit {
namespace {

Result<long long> EnvInteger(const char* name, long long min, long long max) {
  const char* raw = std::getenv(name);
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(raw, &end, 10);
  if (errno != 0 || end == raw || *end != '\0' || v < min || v > max) {
    return Status::InvalidArgument(std::string(name) + "=\"" + raw + "\" is not a whole number in [" +
                                   std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return v;
}

bool IsOff(const char* v) {
  for (const char* off : {"off", "0", "false", "disabled", "no", "OFF", "FALSE", "Off"}) {
    if (std::strcmp(v, off) == 0) return true;
  }
  return false;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

Result<std::string> PercentDecode(std::string_view s, const char* name) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) {
      return Status::InvalidArgument(std::string(name) + ": truncated percent escape");
    }
    const int hi = HexDigit(s[i + 1]);
    const int lo = HexDigit(s[i + 2]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument(std::string(name) + ": bad percent escape");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// OTEL_EXPORTER_OTLP_HEADERS syntax: comma-separated key=value, values percent-encoded.
Status AddEnvHeaders(const char* name, std::map<std::string, std::string>& env_headers) {
  const char* raw = std::getenv(name);
  if (raw == nullptr || *raw == '\0') return Status::Ok();
  std::string_view rest(raw);
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (Trim(item).empty()) continue;
    const std::size_t eq = item.find('=');
    std::string key = eq == std::string_view::npos ? std::string() : Trim(item.substr(0, eq));
    if (key.empty()) {
      return Status::InvalidArgument(std::string(name) + ": \"" + std::string(item) +
                                     "\" is not key=value");
    }
    VK_ASSIGN_OR_RETURN(std::string value, PercentDecode(Trim(item.substr(eq + 1)), name));
    env_headers[std::move(key)] = std::move(value);
  }
  return Status::Ok();
}

}  // namespace

Status ApplyEnvironment(TelemetryConfig& config) {
  TelemetryConfig next = config;
  LocalStoreConfig& ls = next.local_store;
  if (const char* p = std::getenv("TELEMETRY_DB_PATH"); p != nullptr && *p != '\0') ls.db_path = p;
  // A PostgreSQL URL (postgres://...) takes precedence over the SQLite path.
  if (const char* p = std::getenv("TELEMETRY_DB_URL"); p != nullptr && *p != '\0') {
    const std::string_view url(p);
    if (url.rfind("postgres://", 0) != 0 && url.rfind("postgresql://", 0) != 0) {
      return Status::InvalidArgument(
          "TELEMETRY_DB_URL must be a postgres:// or postgresql:// URL");
    }
    ls.db_path = p;
  }
  if (std::getenv("TELEMETRY_BATCH_SIZE") != nullptr) {
    VK_ASSIGN_OR_RETURN(long long v, EnvInteger("TELEMETRY_BATCH_SIZE", 1, 1000000));
    ls.stream_batch_size = static_cast<int>(v);
  }
  if (std::getenv("TELEMETRY_FLUSH_INTERVAL") != nullptr) {
    VK_ASSIGN_OR_RETURN(long long v, EnvInteger("TELEMETRY_FLUSH_INTERVAL", 1, 86400000));
    ls.stream_flush_interval_ms = static_cast<int>(v);
  }
  if (std::getenv("TELEMETRY_MAX_SIZE_MB") != nullptr) {
    VK_ASSIGN_OR_RETURN(long long v, EnvInteger("TELEMETRY_MAX_SIZE_MB", 0, 16LL << 20));
    ls.max_size_mb = static_cast<int>(v);
  }
  if (std::getenv("TELEMETRY_RETENTION_DAYS") != nullptr) {
    VK_ASSIGN_OR_RETURN(long long v, EnvInteger("TELEMETRY_RETENTION_DAYS", 0, 36500));
    ls.prune_days = static_cast<int>(v);
  }
  if (const char* v = std::getenv("VIBEKIT_TELEMETRY"); v != nullptr && IsOff(v)) {
    next.is_enabled = false;
  }
  // Live delivery: our own variable overrides like the others; the OpenTelemetry SDK variables
  // only fill in what is unset (they may be meant for another SDK in the same process too).
  if (const char* p = std::getenv("TELEMETRY_ENDPOINT"); p != nullptr && *p != '\0') {
    next.endpoint = p;
  }
  if (next.endpoint.empty()) {
    if (const char* p = std::getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        p != nullptr && *p != '\0') {
      next.endpoint = p;
    } else if (const char* b = std::getenv("OTEL_EXPORTER_OTLP_ENDPOINT");
               b != nullptr && *b != '\0') {
      std::string base = b;
      while (!base.empty() && base.back() == '/') base.pop_back();
      next.endpoint = base + "/v1/traces";
    }
  }
  if (const char* v = std::getenv("TELEMETRY_REDACT"); v != nullptr && *v != '\0') {
    next.privacy.redact_secrets = !IsOff(v);
  }
  if (const char* v = std::getenv("TELEMETRY_REDACT_PATTERNS"); v != nullptr) {
    next.privacy.redact_patterns.clear();
    std::string_view rest(v);
    while (!rest.empty()) {
      const std::size_t nl = rest.find('\n');
      std::string line(rest.substr(0, nl));
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) next.privacy.redact_patterns.push_back(std::move(line));
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
  }
  if (const char* v = std::getenv("TELEMETRY_HASH_KEYS"); v != nullptr) {
    next.privacy.hash_metadata_keys.clear();
    std::string_view rest(v);
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      std::string key = Trim(rest.substr(0, comma));
      if (!key.empty()) next.privacy.hash_metadata_keys.push_back(std::move(key));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  if (const char* v = std::getenv("TELEMETRY_HASH_KEY"); v != nullptr && *v != '\0') {
    next.privacy.hash_key = v;
  }
  if (const char* v = std::getenv("TELEMETRY_STORE_CONTENT"); v != nullptr && *v != '\0') {
    next.privacy.store_content = !IsOff(v);
  }
  std::map<std::string, std::string> env_headers;
  VK_RETURN_IF_ERROR(AddEnvHeaders("OTEL_EXPORTER_OTLP_HEADERS", env_headers));
  VK_RETURN_IF_ERROR(AddEnvHeaders("OTEL_EXPORTER_OTLP_TRACES_HEADERS", env_headers));
  for (auto& [key, value] : env_headers) next.headers.try_emplace(key, std::move(value));
  config = std::move(next);
  return Status::Ok();
}

Status ValidateConfig(const TelemetryConfig& config) {
  const LocalStoreConfig& c = config.local_store;
  auto bad = [](const std::string& key, const std::string& why) {
    return Status::InvalidArgument("localStore." + key + " " + why);
  };
  if (c.db_path.empty()) return bad("dbPath", "must not be empty");
  if (c.stream_batch_size < 1) return bad("streamBatchSize", "must be at least 1");
  if (c.stream_flush_interval_ms < 1) return bad("streamFlushIntervalMs", "must be at least 1");
  if (c.prune_days < 0) return bad("pruneDays", "must not be negative");
  if (c.max_size_mb < 0) return bad("maxSizeMB", "must not be negative");
  if (c.query_timeout_ms < 0) return bad("queryTimeoutMs", "must not be negative");
  if (c.session_timeout_ms < 1) return bad("sessionTimeoutMs", "must be at least 1");
  if (c.timeout_check_interval_ms < 1) return bad("timeoutCheckIntervalMs", "must be at least 1");
  if (c.max_pending_events < 1) return bad("maxPendingEvents", "must be at least 1");
  if (c.max_pending_bytes < (1 << 20)) return bad("maxPendingBytes", "must be at least 1 MiB");
  if (c.max_write_batch < 1) return bad("maxWriteBatch", "must be at least 1");
  if (c.max_field_bytes < 1024) return bad("maxFieldBytes", "must be at least 1024");
  if (c.rules_refresh_ms < 1) return bad("rulesRefreshMs", "must be at least 1");
  if (c.max_field_bytes * 4 > c.max_pending_bytes) {
    return bad("maxFieldBytes", "times 4 must fit in maxPendingBytes");
  }
  if (c.enqueue_timeout_ms < 0) return bad("enqueueTimeoutMs", "must not be negative");
  if (c.read_connections < 1) return bad("readConnections", "must be at least 1");
  if (c.cache_size_kib < 64) return bad("cacheSizeKiB", "must be at least 64");
  if (c.page_size < 512 || c.page_size > 65536 || (c.page_size & (c.page_size - 1)) != 0) {
    return bad("pageSize", "must be a power of two between 512 and 65536");
  }
  if (c.wal_autocheckpoint_kib < 0) return bad("walAutocheckpointKiB", "must not be negative");
  if (c.write_linger_ms < 0) return bad("writeLingerMs", "must not be negative");

  if (!config.endpoint.empty() && config.endpoint.rfind("http://", 0) != 0 &&
      config.endpoint.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("endpoint \"" + config.endpoint +
                                   "\" must be an http:// or https:// URL");
  }
  for (const auto& [key, value] : config.headers) {
    const bool bad_key = key.empty() || key.find_first_of(":\r\n \t") != std::string::npos;
    if (bad_key || value.find_first_of("\r\n") != std::string::npos) {
      return Status::InvalidArgument("headers: \"" + key + "\" is not a valid header");
    }
  }
  const DeliveryConfig& d = config.delivery;
  auto bad_d = [](const std::string& key, const std::string& why) {
    return Status::InvalidArgument("delivery." + key + " " + why);
  };
  if (d.max_events_per_request < 1) return bad_d("maxEventsPerRequest", "must be at least 1");
  if (d.max_request_bytes < 1024) return bad_d("maxRequestBytes", "must be at least 1024");
  if (d.poll_interval_ms < 1) return bad_d("pollIntervalMs", "must be at least 1");
  if (d.request_timeout_ms < 1) return bad_d("requestTimeoutMs", "must be at least 1");
  if (d.connect_timeout_ms < 1) return bad_d("connectTimeoutMs", "must be at least 1");
  if (d.backoff_base_ms < 1) return bad_d("backoffBaseMs", "must be at least 1");
  if (d.backoff_max_ms < d.backoff_base_ms) {
    return bad_d("backoffMaxMs", "must not be below backoffBaseMs");
  }
  if (d.max_retry_after_ms < 0) return bad_d("maxRetryAfterMs", "must not be negative");
  const AnalyticsConfig& a = config.analytics;
  auto bad_a = [](const std::string& key, const std::string& why) {
    return Status::InvalidArgument("analytics." + key + " " + why);
  };
  if (!a.webhook_url.empty() && a.webhook_url.rfind("http://", 0) != 0 &&
      a.webhook_url.rfind("https://", 0) != 0) {
    return bad_a("webhookUrl", "must start with http:// or https://");
  }
  for (const auto& [key, value] : a.webhook_headers) {
    const bool bad_key = key.empty() || key.find_first_of(":\r\n \t") != std::string::npos;
    if (bad_key || value.find_first_of("\r\n") != std::string::npos) {
      return bad_a("webhookHeaders", "\"" + key + "\" is not a valid header");
    }
  }
  if (a.webhook_timeout_ms < 1) return bad_a("webhookTimeoutMs", "must be at least 1");
  if (a.webhook_max_attempts < 1) return bad_a("webhookMaxAttempts", "must be at least 1");
  if (a.webhook_backoff_base_ms < 0) return bad_a("webhookBackoffBaseMs", "must not be negative");
  if (a.webhook_backoff_max_ms < a.webhook_backoff_base_ms) {
    return bad_a("webhookBackoffMaxMs", "must not be below webhookBackoffBaseMs");
  }
  return Status::Ok();
}

}  // namespace vibekit
