// A seeded, streaming generator of realistic AI coding-agent telemetry, for benchmarks (1M-10M
// events), the demo and tests.
//
// Events are produced one at a time: only the sessions currently in flight are kept, so memory is
// O(concurrent_sessions) whatever total_events is. The same seed and options always give exactly
// the same event sequence: randomness comes from our own xoshiro256** (seeded through
// splitmix64), never from std::*_distribution, whose output differs between standard libraries.
// (Heavy-tailed draws go through std::exp / std::log, which IEEE libms agree on in practice; the
// values are then rounded to whole milliseconds or characters.)
//
// Shape of the workload with default options (measured over 1M events):
//   - ~23k sessions, 48 in flight at once and interleaved; each is a start event, a lognormal
//     number of stream chunks (events per session: mean ~44, median 26, p99 ~275), for ~3% of
//     sessions 1-3 error events, and usually an end event whose metadata carries status,
//     duration and token usage.
//   - Stream chunks are 20..1500 characters (median ~250, p10 ~55, p90 ~1490): prose, code in
//     the repository's language, tool-call JSON, and tool output (test runs, builds, stack
//     traces, grep hits, file reads). Mean NDJSON line: ~690 bytes.
//   - Events come out in timestamp order (the in-flight session with the smallest next timestamp
//     goes first), so timestamps never decrease, globally or within a session.
//   - ~10% of events contain some non-ASCII UTF-8; all text is valid UTF-8.
//
// Thread-safety: a Generator is not thread-safe; distinct Generators may be used from any thread.
// The free functions are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vibekit/event.h"

namespace vibekit::workload {

struct WorkloadOptions {
  std::uint64_t seed = 42;
  std::int64_t total_events = 1'000'000;       // generator stops after exactly this many events
  int concurrent_sessions = 48;                // sessions in flight at once, interleaved (>= 1)
  std::int64_t start_time_ms = 1767225600000;  // 2026-01-01T00:00:00Z; simulated clock start
  double error_session_fraction = 0.03;        // sessions that get 1-3 error events
  // Sessions that end with metadata status "failed", always right after an error event. They are
  // counted inside error_session_fraction (when it is smaller, it is raised to this).
  double failed_fraction = 0.02;
  double never_end_fraction = 0.03;  // sessions that stop without an end event
};

struct WorkloadStats {
  std::int64_t events = 0;
  std::int64_t sessions = 0;  // sessions started (== start_events)
  std::int64_t start_events = 0;
  std::int64_t stream_events = 0;
  std::int64_t end_events = 0;
  std::int64_t error_events = 0;
  std::int64_t bytes_text = 0;  // bytes of prompt + stream_data over all events produced
};

class Generator {
 public:
  // Out-of-range options are clamped (negative counts to 0, fractions to [0, 1],
  // concurrent_sessions to >= 1) rather than rejected: this is a test/benchmark tool.
  explicit Generator(WorkloadOptions options);
  ~Generator();
  Generator(Generator&&) noexcept;
  Generator& operator=(Generator&&) noexcept;
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // Fills *out with the next event and returns true; false once total_events were produced.
  // Every field of *out is overwritten (id and created_at are set to 0). Reusing the same Event
  // across calls lets its strings keep their capacity, which is what makes this allocation-free
  // in the steady state.
  bool Next(vibekit::Event* out);

  const WorkloadStats& stats() const;
  const WorkloadOptions& options() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The event as one NDJSON line (no trailing newline) in the import shape:
// {"sessionId":..,"eventType":"start|stream|end|error","agentType":..,"mode":..,"prompt":..,
//  "streamData":..,"sandboxId":..,"repoUrl":..,"metadata":{...},"timestamp":<int ms>}
// Optional fields that are std::nullopt are omitted. metadata is embedded as a JSON object; if it
// is not valid JSON object text it is emitted as a JSON string instead, so the line stays valid.
// Error events with `error` set also get
// "error":{"type":..,"message":..,"severity":"low|medium|high|critical"} (+ "stack" if present;
// ErrorDetails::context is not part of the import shape and is not written).
// Invalid UTF-8 in strings is replaced by U+FFFD so the output is always valid JSON.
std::string ToNdjsonLine(const vibekit::Event& event);
// Same, appended to *out (no newline), so writers can reuse one buffer.
void AppendNdjsonLine(const vibekit::Event& event, std::string* out);

// Words that the generated text (prompt + stream_data) contains with known rough frequency, for
// text-search benchmarks, ordered from rare to common. Each is a single alphanumeric token, so it
// matches the same events as a word-prefix full-text query would.
std::vector<std::string> SearchTerms();

struct SearchTermFrequency {
  std::string term;
  // Approximate fraction of all events (default options, any seed) whose prompt or stream_data
  // contains a word starting with `term`, case-insensitively.
  double event_fraction = 0;
};
// SearchTerms() with the measured fraction of events each one matches.
std::vector<SearchTermFrequency> SearchTermFrequencies();

}  // namespace vibekit::workload
