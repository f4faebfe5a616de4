// vibekit_redact_bench: CPU cost of the privacy pass alone, on the seeded workload's events held
// in memory (no store, no disk): the secret scanner over every text (Redactor::Redact on plain
// text, RedactJson on metadata), the export-side pass (Privacy::WithOutgoing, the defaults, as
// the export visitor calls it) and the ingest-side pass (Privacy::ApplyIncoming). Thread CPU
// time, median of --rounds. Uses only calls that older builds have too, so the same source built
// at an older commit gives the before/after ratio in one run (docs/BENCHMARKS.md).
//
//   vibekit_redact_bench --events 200000 --rounds 5
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/privacy.h"
#include "common/redact.h"
#include "workload/workload.h"

namespace vibekit::bench {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "vibekit_redact_bench: %s\n", what.c_str());
  std::exit(1);
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace
}  // namespace vibekit::bench

int main(int argc, char** argv) {
  using namespace vibekit;
  using namespace vibekit::bench;
  CLI::App app{"Privacy pass CPU benchmark"};
  std::int64_t events_n = 200000;
  int rounds = 5;
  app.add_option("--events", events_n, "Workload events held in memory");
  app.add_option("--rounds", rounds, "Rounds (the median is printed)");
  CLI11_PARSE(app, argc, argv);
  if (events_n <= 0 || rounds <= 0) Die("--events and --rounds must be positive");

  std::vector<Event> events;
  workload::WorkloadOptions wo;
  wo.total_events = events_n;
  workload::Generator gen(wo);
  Event e;
  while (gen.Next(&e)) events.push_back(e);
  std::vector<std::string> texts, metadata;
  std::size_t text_bytes = 0, metadata_bytes = 0;
  for (const Event& ev : events) {
    for (const auto* t : {&ev.prompt, &ev.stream_data}) {
      if (*t && !(*t)->empty()) {
        texts.push_back(**t);
        text_bytes += (*t)->size();
      }
    }
    if (ev.error) {
      texts.push_back(ev.error->message);
      text_bytes += ev.error->message.size();
    }
    if (ev.metadata) {
      metadata.push_back(*ev.metadata);
      metadata_bytes += ev.metadata->size();
    }
  }

  TelemetryConfig config;
  config.apply_environment = false;
  config.privacy.hash_key = "bench-key-0123456789abcdef0123456789";
  auto privacy = internal::Privacy::Create(config);
  if (!privacy.ok()) Die("privacy: " + privacy.status().ToString());
  const internal::Privacy& p = **privacy;
  const internal::Redactor& r = p.redactor();

  std::vector<double> scan_s, json_s, outgoing_s, incoming_s;
  long long replaced = 0, changed_rows = 0;
  for (int round = 0; round < rounds; ++round) {
    std::vector<std::string> t = texts;
    double t0 = ThreadCpuSeconds();
    for (std::string& x : t) replaced += r.Redact(x);
    scan_s.push_back(ThreadCpuSeconds() - t0);

    std::vector<std::string> m = metadata;
    t0 = ThreadCpuSeconds();
    for (std::string& x : m) replaced += r.RedactJson(x);
    json_s.push_back(ThreadCpuSeconds() - t0);

    t0 = ThreadCpuSeconds();
    for (const Event& ev : events) {
      changed_rows += p.WithOutgoing(ev, [&ev](const Event& out) { return &out != &ev ? 1 : 0; });
    }
    outgoing_s.push_back(ThreadCpuSeconds() - t0);

    std::vector<Event> copy = events;
    t0 = ThreadCpuSeconds();
    for (Event& ev : copy) p.ApplyIncoming(ev);
    incoming_s.push_back(ThreadCpuSeconds() - t0);
  }
  const double n = static_cast<double>(events.size());
  const double scan = Median(scan_s), json = Median(json_s), out = Median(outgoing_s),
               in = Median(incoming_s);
  std::printf(
      "{\"events\":%zu,\"rounds\":%d,\"text_bytes\":%zu,\"metadata_bytes\":%zu,"
      "\"scan_text_mb_per_cpu_s\":%.1f,\"scan_json_mb_per_cpu_s\":%.1f,"
      "\"scan_text_ns_per_byte\":%.3f,\"scan_json_ns_per_byte\":%.3f,"
      "\"outgoing_us_per_event\":%.3f,"
      "\"incoming_us_per_event\":%.3f,\"replaced_per_round\":%lld,"
      "\"rows_copied_per_round\":%lld}\n",
      events.size(), rounds, text_bytes, metadata_bytes,
      static_cast<double>(text_bytes) / 1e6 / scan,
      static_cast<double>(metadata_bytes) / 1e6 / json,
      scan * 1e9 / static_cast<double>(text_bytes),
      json * 1e9 / static_cast<double>(metadata_bytes),
      out * 1e6 / n, in * 1e6 / n, replaced / rounds, changed_rows / rounds);
  return 0;
}
