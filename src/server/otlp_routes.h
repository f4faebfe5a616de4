// The OTLP/HTTP receiver routes: POST /v1/traces, /v1/logs, /v1/metrics (OTLP/JSON or
// protobuf; gzip bodies are inflated by the app like every route's; the bearer token applies). The mapping is
// otlp::ReceiveOtlpJson (docs/OTLP_RECEIVER.md); this file only checks the content type, asks the
// store which sessions exist, validates, submits, waits for the commit and answers per the
// OTLP/HTTP specification: 200 with {} or {"partialSuccess":{...}} (protobuf answers to protobuf
// requests), 400 with a JSON error for an unparseable body, 415 for other content types.
//
// Thread-safety: the handlers run on the server's worker threads, many at once.
#pragma once

#include "server/api_routes.h"
#include "server/router.h"

namespace vibekit::server {

// `context` must outlive the router.
void AddOtlpRoutes(Router& router, const ApiContext& context);

}  // namespace vibekit::server
