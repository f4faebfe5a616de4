// What the fuzz targets share: a failed property aborts (libFuzzer saves the input as a crash).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/event_json.h"
#include "ingest/validation.h"
#include "vibekit/config.h"
#include "vibekit/event.h"

namespace vibekit::fuzz {

[[noreturn]] inline void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz property failed: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// An accepted event must survive our own JSON shape unchanged: written, read back, validated
// again and written again gives the same bytes. Import, export and the API rely on it.
// (The id is left out: it is the store's, and our JSON shape only writes it.)
inline void CheckRoundTrip(Event event, const LocalStoreConfig& config) {
  event.id = 0;
  const std::string json = internal::EventToJson(event);
  Result<Event> again = internal::EventFromJson(json);
  if (!again.ok()) Fail("an accepted event does not parse back", json + "\n" + again.status().ToString());
  if (Status s = ingest::ValidateEvent(*again, config, event.timestamp); !s.ok()) {
    Fail("an accepted event does not validate again", json + "\n" + s.ToString());
  }
  const std::string json2 = internal::EventToJson(*again);
  if (json2 != json) Fail("an accepted event changes on a round trip", json + "\n" + json2);
}

}  // namespace vibekit::fuzz
