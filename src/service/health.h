// How a HealthStatus is graded. Separate so the thresholds are tested on their own.
#pragma once

#include <cstdint>

#include "vibekit/config.h"
#include "vibekit/telemetry_service.h"

namespace vibekit {

// Fills performance_grade and issues from the measured fields of `h`:
//   critical: database unreachable or quick_check failed, or under 64 MiB of disk left;
//   poor:     writer lag over 30 s, last write failed, or the file over max_size_mb;
//   fair:     writer lag over 5 s, file over 90 % of max_size_mb, under 1 GiB of disk,
//             or dead-letter batches present;
//   good:     writer lag over 1 s or data older than prune_days waiting for cleanup;
//   excellent otherwise.
void GradeHealth(HealthStatus& h, std::int64_t now_ms, const LocalStoreConfig& config);

}  // namespace vibekit
