// libFuzzer target: the hand-written OTLP protobuf wire decoder (application/x-protobuf bodies).
// What it accepts must be JSON the OTLP/JSON receiver reads without a top-level error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "otlp/otlp_protobuf.h"
#include "otlp/otlp_receive.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vibekit;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (otlp::OtlpSignal signal :
       {otlp::OtlpSignal::kTraces, otlp::OtlpSignal::kLogs, otlp::OtlpSignal::kMetrics}) {
    Result<std::string> json = otlp::OtlpProtobufToJson(signal, bytes);
    if (!json.ok()) {
      if (json.status().code() != StatusCode::kInvalidArgument) {
        fuzz::Fail("a bad protobuf body must be kInvalidArgument (HTTP 400)",
                   json.status().ToString());
      }
      continue;
    }
    Result<otlp::ReceivedBatch> batch =
        otlp::ReceiveOtlpJson(signal, *json, [](std::string_view) { return false; });
    if (!batch.ok()) {
      fuzz::Fail("decoded protobuf is not a request the JSON receiver reads",
                 *json + "\n" + batch.status().ToString());
    }
  }
  return 0;
}
