// The query benchmark behind TelemetryService::BenchmarkQueries (`vibekit db performance`):
// times the standard queries through the service on this database and, when asked, explains the
// SQL they run (captured from the SQLite store, see SqliteStore::SqlCapture).
#pragma once

#include <string_view>

#include "vibekit/status.h"
#include "vibekit/telemetry_service.h"

#include "store/store.h"

namespace vibekit::service {

// FTS segments above this make BenchmarkQueries recommend `vibekit db optimize`.
inline constexpr std::int64_t kFtsSegmentsRecommendOptimize = 8;

// REQUIRES: `service` is initialized and runs on `store`.
Result<QueryBenchmarkReport> RunQueryBenchmark(const TelemetryService& service, store::Store& store,
                                               const QueryBenchmarkOptions& options);

// A plan row that reads telemetry_events without any index: SQLite's "SCAN telemetry_events"
// (it writes "SCAN t USING [COVERING] INDEX i" for an index walk, which stops at the LIMIT),
// PostgreSQL's "Seq Scan on telemetry_events" (also nested, after "->").
bool IsFullEventScan(std::string_view row);

}  // namespace vibekit::service
