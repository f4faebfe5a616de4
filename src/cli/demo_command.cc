// `vibekit demo`: fills the database through the library with a generated, realistic workload
// of agent sessions and prints what it measured and what the database now holds.
#include <chrono>
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "vibekit/telemetry_service.h"
#include "workload/workload.h"

namespace vibekit::cli {
void RegisterDemoCommand(CLI::App& app, const GlobalOptions& global, std::function<int()>& run) {
  struct Args {
    std::int64_t events = 200000;
    std::uint64_t seed = 42;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "Fill the database with a generated workload of agent sessions and print stats");
  cmd->add_option("--events", args->events, "How many events to generate")
      ->check(CLI::Range(1LL, 100000000LL));
  cmd->add_option("--seed", args->seed, "Workload seed (same seed, same data)");
  cmd->callback([&global, &run, args] {
    run = [&global, args]() -> int {
      auto opened = OpenService(global, /*must_exist=*/false);
      if (!opened) return kExitFailure;
      TelemetryService& service = *opened;
      Status st;
      workload::WorkloadOptions options;
      options.total_events = args->events;
      options.seed = args->seed;
      // Recent history, so the data looks live and retention keeps it.
      options.start_time_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count() -
          6LL * 3600 * 1000;
      workload::Generator gen(options);
      Event e;
      const auto t0 = std::chrono::steady_clock::now();
      std::int64_t accepted = 0;
      while (gen.Next(&e)) {
        st = service.Track(e);
        if (!st.ok()) return Fail("tracking failed: " + st.ToString());
        ++accepted;
      }
      st = service.FlushBuffers();
      if (!st.ok()) return Fail("flush failed: " + st.ToString());
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      auto stats = service.GetAggregateStats();
      auto health = service.HealthCheck();
      const PerformanceMetrics perf = service.GetPerformanceMetrics();
      if (!stats.ok()) return Fail(stats.status().ToString());
      std::printf("database            %s\n", service.config().local_store.db_path.c_str());
      std::printf("events written      %lld in %.2f s (%.0f events/s)\n",
                  static_cast<long long>(accepted), secs, static_cast<double>(accepted) / secs);
      std::printf("flushes             %lld (avg %.2f ms, p99 %.2f ms)\n",
                  static_cast<long long>(perf.total_flushes), perf.avg_flush_ms, perf.p99_flush_ms);
      const RollupCounts& t = stats->total;
      std::printf("total events        %lld (start %lld, stream %lld, end %lld, error %lld)\n",
                  static_cast<long long>(t.total_events), static_cast<long long>(t.start_events),
                  static_cast<long long>(t.stream_events), static_cast<long long>(t.end_events),
                  static_cast<long long>(t.error_events));
      std::printf("sessions            %lld (active %lld, completed %lld, failed %lld, timeout %lld)\n",
                  static_cast<long long>(t.sessions), static_cast<long long>(t.active_sessions),
                  static_cast<long long>(t.completed_sessions),
                  static_cast<long long>(t.failed_sessions),
                  static_cast<long long>(t.timeout_sessions));
      if (t.avg_session_duration_ms) {
        std::printf("avg session         %.1f s\n", *t.avg_session_duration_ms / 1000.0);
      }
      std::printf("error rate          %.2f %% of events, %.2f %% of sessions\n",
                  stats->error_event_rate_pct, stats->session_error_rate_pct);
      for (const auto& [agent, c] : stats->by_agent) {
        std::printf("  %-16s %9lld events %7lld sessions\n", agent.c_str(),
                    static_cast<long long>(c.total_events), static_cast<long long>(c.sessions));
      }
      if (health.ok()) {
        std::printf("file size           %.1f MiB, health %s (quick_check %s)\n",
                    static_cast<double>(health->file_size_bytes) / 1048576.0,
                    health->performance_grade.c_str(), health->quick_check.c_str());
      }
      st = service.Shutdown();
      if (!st.ok()) return Fail("shutdown: " + st.ToString());
      return kExitOk;
    };
  });
}

}  // namespace vibekit::cli
