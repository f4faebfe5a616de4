#include "service/health.h"

#include <string>

namespace vibekit {

void GradeHealth(HealthStatus& h, std::int64_t now_ms, const LocalStoreConfig& config) {
  int level = 4;  // 4 excellent .. 0 critical
  auto note = [&](int at_most, std::string why) {
    if (at_most < level) level = at_most;
    h.issues.push_back(std::move(why));
  };
  constexpr std::int64_t kMiB = 1 << 20;
  if (!h.database) note(0, "database check failed: " + h.quick_check);
  if (h.disk_free_bytes >= 0 && h.disk_free_bytes < 64 * kMiB) {
    note(0, "less than 64 MiB of disk left");
  } else if (h.disk_free_bytes >= 0 && h.disk_free_bytes < 1024 * kMiB) {
    note(2, "less than 1 GiB of disk left");
  }
  if (h.writer_lag_ms > 30000) {
    note(1, "writer lag " + std::to_string(h.writer_lag_ms) + " ms");
  } else if (h.writer_lag_ms > 5000) {
    note(2, "writer lag " + std::to_string(h.writer_lag_ms) + " ms");
  } else if (h.writer_lag_ms > 1000) {
    note(3, "writer lag " + std::to_string(h.writer_lag_ms) + " ms");
  }
  if (!h.last_write_error.empty()) note(1, "last write failed: " + h.last_write_error);
  if (h.max_size_bytes > 0) {
    if (h.file_size_bytes > h.max_size_bytes) {
      note(1, "database larger than max_size_mb");
    } else if (h.file_size_bytes * 10 > h.max_size_bytes * 9) {
      note(2, "database above 90% of max_size_mb");
    }
  }
  if (h.dead_letter_batches > 0) {
    note(2, std::to_string(h.dead_letter_batches) + " batches parked in telemetry_buffers");
  }
  if (config.prune_days > 0 && h.oldest_event_time > 0 &&
      h.oldest_event_time < now_ms - static_cast<std::int64_t>(config.prune_days) * 86400000LL) {
    note(3, "data older than prune_days awaits cleanup");
  }
  const DeliveryHealth& d = h.delivery;
  if (d.configured && d.queued_events + d.queued_sessions > 0 && !d.last_error.empty() &&
      d.last_error_time > d.last_success_time) {
    note(2, "live delivery failing (" + std::to_string(d.queued_events) +
                " events queued): " + d.last_error);
  }
  if (d.requests_failed > 0) {
    note(3, std::to_string(d.requests_failed) + " delivery requests (" +
                std::to_string(d.events_failed) +
                " events) rejected by the collector, see telemetry_delivery_failures");
  }
  static constexpr const char* kGrades[] = {"critical", "poor", "fair", "good", "excellent"};
  h.performance_grade = kGrades[level];
}

}  // namespace vibekit
