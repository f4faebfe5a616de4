// vibekit_delivery_child <db_path> <endpoint>
//
// The victim of Delivery.NothingIsLostOrSentTwiceWhenKilledBetweenRetries (delivery_test.cc):
// tracks 12 sessions (start, 6 streams, end) with live delivery to <endpoint>, flushes, prints
// "FLUSHED <events>" and then waits forever while the delivery worker sends and retries (small
// backoff). The parent kills it with SIGKILL. Any failure prints "ERR <what>" and exits 2.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "vibekit/config.h"
#include "vibekit/telemetry_service.h"

namespace {

[[noreturn]] void Fail(const std::string& what, const vibekit::Status& st) {
  std::printf("ERR %s: %s\n", what.c_str(), st.ToString().c_str());
  std::fflush(stdout);
  std::_Exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <db_path> <endpoint>\n", argv[0]);
    return 64;
  }
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  vibekit::TelemetryConfig config;
  config.apply_environment = false;
  config.local_store.db_path = argv[1];
  config.endpoint = argv[2];
  config.delivery.poll_interval_ms = 20;
  config.delivery.backoff_base_ms = 50;
  config.delivery.backoff_max_ms = 200;
  config.delivery.max_events_per_request = 16;

  vibekit::TelemetryService service(config);
  if (vibekit::Status st = service.Initialize(); !st.ok()) Fail("Initialize", st);
  long events = 0;
  for (int k = 0; k < 12; ++k) {
    const std::string sid = "k" + std::to_string(k);
    vibekit::TrackStartParams start;
    start.session_id = sid;
    start.agent_type = "codex";
    start.prompt = "prompt " + sid;
    if (auto st = service.TrackStart(start); !st.ok()) Fail("TrackStart", st);
    ++events;
    for (int i = 0; i < 6; ++i) {
      vibekit::TrackStreamParams s;
      s.session_id = sid;
      s.agent_type = "codex";
      s.stream_data = sid + " chunk " + std::to_string(i);
      if (auto st = service.TrackStream(s); !st.ok()) Fail("TrackStream", st);
      ++events;
    }
    vibekit::TrackEndParams end;
    end.session_id = sid;
    end.agent_type = "codex";
    if (auto st = service.TrackEnd(end); !st.ok()) Fail("TrackEnd", st);
    ++events;
  }
  if (auto st = service.FlushBuffers(); !st.ok()) Fail("FlushBuffers", st);
  std::printf("FLUSHED %ld\n", events);
  while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
}
