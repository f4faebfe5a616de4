// vibekit_crash_child <db_path> <seed>
//
// The victim of the crash test (crash_test.cc): tracks sessions into <db_path> forever, calling
// FlushBuffers() about every 50 events; after each successful flush it prints "ACK <n>" on
// standard output, n being the number of events tracked (and now acknowledged as durable) by
// this process. The parent kills it with SIGKILL at a moment of its choosing.
//
// The content is deterministic, so the parent can regenerate the exact sequence of events:
//   session k (k = 0, 1, ...) has id "r<seed>-s<k>" and consists of
//     start  (prompt "r<seed> s<k> prompt")
//     StreamCount(seed, k) streams, stream i carrying "r<seed> s<k> chunk <i>"
//     end    (metadata {"status":"success"})
//   StreamCount(seed, k) = 3 + (7 * k + seed) % 9
// crash_test.cc holds a copy of this description; keep them in sync.
//
// Any failure prints "ERR <what>" on standard output and exits with status 2.
//
// vibekit_crash_child --migrate <db_path> opens (and so migrates) the database, prints
// "MIGRATED" and exits: the victim of the migration crash loop.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "vibekit/config.h"
#include "vibekit/event.h"
#include "vibekit/status.h"
#include "vibekit/telemetry_service.h"

namespace {

constexpr int kFlushEvery = 50;
constexpr const char* kAgent = "crash-agent";

int StreamCount(long seed, long k) { return static_cast<int>(3 + (7 * k + seed) % 9); }

[[noreturn]] void Fail(const std::string& what, const vibekit::Status& st) {
  std::printf("ERR %s: %s\n", what.c_str(), st.ToString().c_str());
  std::fflush(stdout);
  std::_Exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--migrate") {
    // The victim of the migration crash loop: opening the database migrates it.
    vibekit::TelemetryConfig config;
    config.apply_environment = false;
    config.local_store.db_path = argv[2];
    vibekit::TelemetryService service(config);
    if (vibekit::Status st = service.Initialize(); !st.ok()) Fail("Initialize", st);
    std::printf("MIGRATED\n");
    std::fflush(stdout);
    return 0;
  }
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <db_path> <seed> | --migrate <db_path>\n", argv[0]);
    return 64;
  }
  const std::string db_path = argv[1];
  const long seed = std::strtol(argv[2], nullptr, 10);
  std::setvbuf(stdout, nullptr, _IONBF, 0);

  vibekit::TelemetryConfig config;
  config.apply_environment = false;
  config.local_store.db_path = db_path;
  config.local_store.stream_batch_size = 7;
  config.local_store.stream_flush_interval_ms = 50;
  config.local_store.enqueue_timeout_ms = 10000;

  vibekit::TelemetryService service(config);
  if (vibekit::Status st = service.Initialize(); !st.ok()) Fail("Initialize", st);

  long tracked = 0;
  long since_flush = 0;
  auto after_event = [&](const vibekit::Status& st, const std::string& what) {
    if (!st.ok()) Fail(what, st);
    ++tracked;
    if (++since_flush >= kFlushEvery) {
      since_flush = 0;
      const vibekit::Status flushed = service.FlushBuffers(30000);
      if (!flushed.ok()) Fail("FlushBuffers after " + std::to_string(tracked) + " events", flushed);
      std::printf("ACK %ld\n", tracked);
      std::fflush(stdout);
    }
  };

  const std::string round = "r" + std::to_string(seed);
  for (long k = 0;; ++k) {
    const std::string sid = round + "-s" + std::to_string(k);
    const std::string tag = round + " s" + std::to_string(k);

    vibekit::TrackStartParams start;
    start.session_id = sid;
    start.agent_type = kAgent;
    start.mode = "crash";
    start.prompt = tag + " prompt";
    after_event(service.TrackStart(start), "TrackStart " + sid);

    const int streams = StreamCount(seed, k);
    for (int i = 0; i < streams; ++i) {
      vibekit::TrackStreamParams stream;
      stream.session_id = sid;
      stream.agent_type = kAgent;
      stream.mode = "crash";
      stream.stream_data = tag + " chunk " + std::to_string(i);
      after_event(service.TrackStream(stream), "TrackStream " + sid);
    }

    vibekit::TrackEndParams end;
    end.session_id = sid;
    end.agent_type = kAgent;
    end.mode = "crash";
    end.metadata = R"({"status":"success"})";
    after_event(service.TrackEnd(end), "TrackEnd " + sid);
  }
}
