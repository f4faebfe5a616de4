// vibekit_cli_bench: wall time of whole `vibekit` processes (spawn to exit), as a user sees it.
// Prints JSON: p50/p95 of `--help` and of `telemetry stats --format json` on a database (given
// with --db, or generated here with --events through the library).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "vibekit/telemetry_service.h"
#include "workload/workload.h"

extern char** environ;

namespace {

double RunOnceMs(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) {
    std::fprintf(stderr, "cannot run %s\n", args[0]);
    std::exit(1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  posix_spawn_file_actions_destroy(&fa);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "%s exited with failure\n", argv[1].c_str());
    std::exit(1);
  }
  return ms;
}

std::pair<double, double> Percentiles(const std::vector<std::string>& argv, int n) {
  std::vector<double> ms;
  RunOnceMs(argv);  // warm the page cache
  for (int i = 0; i < n; ++i) ms.push_back(RunOnceMs(argv));
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 95 / 100)]};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Process-level timings of the vibekit command (JSON)"};
  std::string bin = VIBEKIT_BIN;
  std::string db;
  std::int64_t events = 1000000;
  int runs = 50;
  app.add_option("--bin", bin, "The vibekit binary");
  app.add_option("--db", db, "An existing database (else one is generated)");
  app.add_option("--events", events, "Events to generate when --db is not given");
  app.add_option("--runs", runs, "Runs per command");
  CLI11_PARSE(app, argc, argv);
  if (db.empty()) {
    db = "/tmp/vibekit-cli-bench/telemetry.db";
    std::filesystem::remove_all("/tmp/vibekit-cli-bench");
    vibekit::TelemetryConfig c;
    c.apply_environment = false;
    c.local_store.db_path = db;
    vibekit::TelemetryService s(c);
    if (!s.Initialize().ok()) return 1;
    vibekit::workload::WorkloadOptions wo;
    wo.total_events = events;
    vibekit::workload::Generator gen(wo);
    vibekit::Event e;
    while (gen.Next(&e)) {
      if (!s.Track(e).ok()) return 1;
    }
    if (!s.Shutdown().ok()) return 1;
  }
  const auto help = Percentiles({bin, "--help"}, runs);
  const auto stats = Percentiles({bin, "--db", db, "telemetry", "stats", "--format", "json"}, runs);
  std::printf("{\n  \"database\": \"%s\",\n", db.c_str());
  std::printf("  \"help\": {\"p50_ms\": %.2f, \"p95_ms\": %.2f},\n", help.first, help.second);
  std::printf("  \"stats_json\": {\"p50_ms\": %.2f, \"p95_ms\": %.2f}\n}\n", stats.first, stats.second);
  return 0;
}
