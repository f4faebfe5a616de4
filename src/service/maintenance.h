// The query benchmark behind TelemetryService::BenchmarkQueries (`vibekit db performance`):
// times the standard queries through the service on this database and, when asked, explains the
// SQL they run (captured from the SQLite store, see SqliteStore::SqlCapture).
#pragma once

#include "store/store.h"
#include "vibekit/status.h"
#include "vibekit/telemetry_service.h"

namespace vibekit::service {

// FTS segments above this make BenchmarkQueries recommend `vibekit db optimize`.
inline constexpr std::int64_t kFtsSegmentsRecommendOptimize = 8;

// REQUIRES: `service` is initialized and runs on `store`.
Result<QueryBenchmarkReport> RunQueryBenchmark(const TelemetryService& service, store::Store& store,
                                               const QueryBenchmarkOptions& options);

}  // namespace vibekit::service
