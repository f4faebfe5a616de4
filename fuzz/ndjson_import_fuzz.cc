// libFuzzer target: `vibekit telemetry import` of an NDJSON file (plain or gzip, detected by its
// magic bytes), through the real reader and parser; the batches go to a sink that checks them.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.h"
#include "ingest/ndjson_import.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vibekit;
  // The input as a file without touching the disk.
  static const int fd = memfd_create("vibekit-fuzz-ndjson", 0);
  if (fd < 0) fuzz::Fail("memfd_create", "");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) {
    fuzz::Fail("writing the memfd", "");
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  LocalStoreConfig config;
  ImportOptions options;
  options.batch_size = 7;  // several batches from small inputs
  options.max_errors_reported = 3;
  constexpr std::int64_t kNow = 1764000000000;
  std::int64_t delivered = 0;
  Result<ImportResult> result = ingest::RunImport(
      path, options, config, [] { return kNow; }, [&](std::vector<Event> batch) {
        if (batch.empty()) fuzz::Fail("an empty batch", "");
        for (const Event& e : batch) fuzz::CheckRoundTrip(e, config);
        delivered += static_cast<std::int64_t>(batch.size());
        return Status::Ok();
      });
  if (!result.ok()) return 0;  // unreadable input (e.g. a truncated gzip stream): an error, fine
  if (result->imported != delivered) {
    fuzz::Fail("imported differs from what reached the sink",
               std::to_string(result->imported) + " vs " + std::to_string(delivered));
  }
  if (result->imported + result->skipped != result->lines) {
    fuzz::Fail("imported + skipped != lines", std::to_string(result->lines));
  }
  if (result->errors.size() > options.max_errors_reported) fuzz::Fail("too many errors kept", "");
  return 0;
}
