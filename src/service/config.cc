#include "vibekit/config.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

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

}  // namespace

Status ApplyEnvironment(TelemetryConfig& config) {
  TelemetryConfig next = config;
  LocalStoreConfig& ls = next.local_store;
  if (const char* p = std::getenv("TELEMETRY_DB_PATH"); p != nullptr && *p != '\0') ls.db_path = p;
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
  return Status::Ok();
}

}  // namespace vibekit
