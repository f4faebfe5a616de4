// vibekit_export_bench: export throughput and memory. Builds (or reuses) a database of N
// generated events, then runs each export in a fresh process (this binary re-executed with
// --run FORMAT) so that the peak RSS (getrusage ru_maxrss) belongs to that export alone.
// Prints one JSON document: per run rows/s, MB/s, output bytes, peak RSS and RSS at start, CPU
// seconds of the process (all threads; comparable on a loaded machine) and the start of each
// output file's SHA-256 (same database, same output: an A/B of two builds must match).
//
//   vibekit_export_bench --events 1000000 --dir /tmp/vk-export-bench
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vibekit/export.h"
#include "vibekit/telemetry_service.h"

#include "common/sys.h"
#include "export/row_pipeline.h"
#include "workload/workload.h"

namespace vibekit::bench {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "vibekit_export_bench: %s\n", what.c_str());
  std::exit(1);
}

TelemetryConfig Config(const std::string& db) {
  TelemetryConfig c;
  c.apply_environment = false;
  c.local_store.db_path = db;
  c.local_store.max_size_mb = 0;
  c.local_store.prune_days = 0;
  return c;
}

void Build(const std::string& db, std::int64_t events) {
  TelemetryService s(Config(db));
  if (!s.Initialize().ok()) Die("initialize");
  workload::WorkloadOptions wo;
  wo.total_events = events;
  workload::Generator gen(wo);
  std::vector<Event> batch;
  Event e;
  while (gen.Next(&e)) {
    batch.push_back(e);
    if (batch.size() == 5000) {
      Status st;
      while ((st = s.InsertEventBatch(batch)).code() == StatusCode::kBusy) {
      }
      if (!st.ok()) Die("insert: " + st.ToString());
      batch.clear();
    }
  }
  if (!s.InsertEventBatch(batch).ok() || !s.Shutdown(600000).ok()) Die("flush");
}

// One export in this process; prints one JSON object.
int RunOne(const std::string& db, const std::string& out_dir, const std::string& format,
           const std::string& compression, const std::string& pipeline) {
  const std::int64_t rss_start = internal::ProcessRssBytes();
  if (pipeline == "on") exporting::SetPipelineModeForTesting(exporting::PipelineMode::kOn);
  if (pipeline == "off") exporting::SetPipelineModeForTesting(exporting::PipelineMode::kOff);
  TelemetryService s(Config(db));
  if (!s.Initialize().ok()) Die("initialize");
  TelemetryExportService ex(s);
  ExportConfig c;
  c.format = format;
  c.compression = compression;
  c.output_path = out_dir + "/out." + format;
  ExportFilter f;
  f.tables = {"sessions", "events", "errors"};
  const auto t0 = std::chrono::steady_clock::now();
  auto r = ex.Export(f, c);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!r.ok()) Die("export: " + r.status().ToString());
  std::int64_t bytes = 0;
  std::string sha256;
  for (const ExportedFile& file : r->files) {
    bytes += file.size_bytes;
    sha256 += (sha256.empty() ? "" : ",") + file.sha256.substr(0, 16);
    std::filesystem::remove(file.path);
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                             static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::printf(
      "{\"format\":\"%s\",\"compression\":\"%s\",\"rows\":%lld,\"events\":%lld,\"seconds\":%.3f,"
      "\"rows_per_s\":%.0f,\"output_bytes\":%lld,\"output_mb_per_s\":%.1f,"
      "\"peak_rss_bytes\":%lld,\"rss_at_start_bytes\":%lld,\"cpu_seconds\":%.2f,"
      "\"pipeline\":\"%s\",\"sha256_prefix\":\"%s\"}",
      format.c_str(), compression.c_str(), static_cast<long long>(r->record_count),
      static_cast<long long>(r->event_count), seconds,
      static_cast<double>(r->record_count) / seconds, static_cast<long long>(bytes),
      static_cast<double>(bytes) / 1e6 / seconds, static_cast<long long>(ru.ru_maxrss) * 1024,
      static_cast<long long>(rss_start), cpu_seconds, pipeline.c_str(), sha256.c_str());
  (void)s.Shutdown();
  return 0;
}

std::string RunChild(const std::string& self, const std::vector<std::string>& args) {
  std::string cmd = self;
  for (const std::string& a : args) cmd += " '" + a + "'";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) Die("popen");
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (pclose(p) != 0) Die("child failed: " + cmd);
  return out;
}

}  // namespace
}  // namespace vibekit::bench

int main(int argc, char** argv) {
  using namespace vibekit::bench;
  CLI::App app{"Export benchmark"};
  std::int64_t events = 1000000;
  std::string dir = "/tmp/vk-export-bench";
  std::string run_format, run_compression = "none";
  bool rebuild = false;
  std::string out_dir;
  std::string pipeline = "auto";
  app.add_option("--events", events, "Events in the database");
  app.add_option("--pipeline", pipeline,
                 "auto: the export's own choice (load average); on / off: force the two-stage "
                 "pipeline or one stage")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  app.add_option("--dir", dir, "Working directory (database kept for reuse)");
  app.add_flag("--rebuild", rebuild, "Rebuild the database even if it exists");
  app.add_option("--out-dir", out_dir,
                 "Where the export files go (default: --dir); e.g. /dev/shm to leave the disk out");
  app.add_option("--run", run_format, "Internal: run one export in this process");
  app.add_option("--compression", run_compression, "Internal: with --run");
  CLI11_PARSE(app, argc, argv);
  const std::string db = dir + "/bench-" + std::to_string(events) + ".db";
  if (out_dir.empty()) out_dir = dir;
  if (!run_format.empty()) return RunOne(db, out_dir, run_format, run_compression, pipeline);

  std::filesystem::create_directories(dir);
  double build_s = 0;
  if (rebuild || !std::filesystem::exists(db)) {
    std::filesystem::remove(db);
    const auto t0 = std::chrono::steady_clock::now();
    Build(db, events);
    build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::printf("{\"events\":%lld,\"out_dir\":\"%s\",\"db_bytes\":%lld,\"build_seconds\":%.1f,"
              "\"runs\":[",
              static_cast<long long>(events), out_dir.c_str(),
              static_cast<long long>(vibekit::internal::FileSizeBytes(db)), build_s);
  const std::vector<std::pair<std::string, std::string>> runs = {
      {"json", "none"}, {"ndjson", "none"}, {"csv", "none"},
      {"json", "gzip"}, {"ndjson", "zstd"}, {"csv", "gzip"}};
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::string out =
        RunChild(self, {"--events", std::to_string(events), "--dir", dir, "--out-dir", out_dir,
                        "--pipeline", pipeline, "--run", runs[i].first, "--compression",
                        runs[i].second});
    std::printf("%s%s\n", i == 0 ? "\n" : ",\n", out.c_str());
    std::fflush(stdout);
  }
  std::printf("]}\n");
  return 0;
}
