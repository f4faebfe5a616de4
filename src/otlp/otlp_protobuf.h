// OTLP/HTTP protobuf bodies (application/x-protobuf) read by a small hand-written protobuf wire
// decoder for the messages of ExportTraceServiceRequest, ExportLogsServiceRequest and
// ExportMetricsServiceRequest (opentelemetry-proto v1), transcoded into the OTLP/JSON mapping
// (lowerCamelCase names, hex trace/span ids, 64-bit integers as decimal strings, bytes values as
// base64) so the receiver maps both encodings with one code path. Fields the receiver does not
// read (links, exemplars, bucket counts, ...) are skipped; unknown fields are skipped as the
// protobuf rules say.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "otlp/otlp_receive.h"
#include "vibekit/status.h"

namespace vibekit::otlp {

// kInvalidArgument naming the message and field when `bytes` is not a well-formed encoding
// (truncated, wrong wire type for a known field, groups, nesting deeper than 64).
Result<std::string> OtlpProtobufToJson(OtlpSignal signal, std::string_view bytes);

// The protobuf Export{Trace,Logs,Metrics}ServiceResponse (the three have the same shape:
// partial_success = 1 { int64 rejected_* = 1; string error_message = 2 }); empty when nothing
// was rejected.
std::string PartialSuccessProtobuf(std::int64_t rejected, std::string_view error_message);

}  // namespace vibekit::otlp
