// libFuzzer target: the OTLP/JSON decoders. The receiver's mapping for each signal (traces, logs,
// metrics) and the reader of our own trace export; every event they produce must be one the
// ingest path accepts unchanged or rejects with a reason, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "otlp/otlp_decode.h"
#include "otlp/otlp_receive.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vibekit;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  LocalStoreConfig config;
  constexpr std::int64_t kNow = 1764000000000;
  for (otlp::OtlpSignal signal :
       {otlp::OtlpSignal::kTraces, otlp::OtlpSignal::kLogs, otlp::OtlpSignal::kMetrics}) {
    Result<otlp::ReceivedBatch> batch =
        otlp::ReceiveOtlpJson(signal, body, [](std::string_view id) { return id.size() % 2 == 0; });
    if (!batch.ok()) {
      if (batch.status().code() != StatusCode::kInvalidArgument) {
        fuzz::Fail("a bad OTLP body must be kInvalidArgument (HTTP 400)", batch.status().ToString());
      }
      continue;
    }
    if (batch->rejected < 0 || batch->ignored < 0 || batch->items < 0) {
      fuzz::Fail("negative counts", "");
    }
    if (batch->rejected > 0 && batch->error_message.empty()) {
      fuzz::Fail("rejected records without a reason", std::to_string(batch->rejected));
    }
    for (Event e : batch->events) {
      if (ingest::ValidateEvent(e, config, kNow).ok()) fuzz::CheckRoundTrip(e, config);
    }
  }
  Result<otlp::DecodedTrace> decoded = otlp::DecodeTraceRequest(body);
  if (decoded.ok()) {
    for (Event e : decoded->events) {
      if (ingest::ValidateEvent(e, config, kNow).ok()) fuzz::CheckRoundTrip(e, config);
    }
  } else if (decoded.status().code() != StatusCode::kInvalidArgument) {
    fuzz::Fail("a bad trace export must be kInvalidArgument", decoded.status().ToString());
  }
  return 0;
}
