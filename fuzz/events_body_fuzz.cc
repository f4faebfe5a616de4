// libFuzzer target: the body of POST /api/events (JSON array or NDJSON), parsed and validated
// exactly as the server does. The first byte picks the content type (odd: application/x-ndjson).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "ingest/event_body.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using namespace vibekit;
  const bool ndjson_type = (data[0] & 1) != 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  LocalStoreConfig config;
  constexpr std::int64_t kNow = 1764000000000;
  Result<ingest::ParsedEventBody> parsed = ingest::ParseEventBody(body, ndjson_type, config, kNow);
  if (!parsed.ok()) {
    if (parsed.status().code() != StatusCode::kInvalidArgument) {
      fuzz::Fail("a bad body must be kInvalidArgument (HTTP 400)", parsed.status().ToString());
    }
    return 0;
  }
  for (const ingest::BodyRejection& r : parsed->rejected) {
    if (r.message.empty()) fuzz::Fail("a rejection without a reason", std::to_string(r.index));
    if (r.index < 0) fuzz::Fail("a rejection with a negative index", std::to_string(r.index));
  }
  for (const Event& e : parsed->valid) fuzz::CheckRoundTrip(e, config);
  return 0;
}
