// vibekit_export_bench: export throughput and memory. Builds (or reuses) a database of N
// generated events, then runs each export in a fresh process (this binary re-executed with
// --run FORMAT) so that the peak RSS (getrusage ru_maxrss) belongs to that export alone.
// Prints one JSON document: per run rows/s, MB/s, output bytes, peak RSS and RSS at start, CPU
// seconds of the process (all threads; comparable on a loaded machine) and the start of each
// output file's SHA-256 (same database, same output: an A/B of two builds must match).
//
//   vibekit_export_bench --events 1000000 --dir /tmp/vk-export-bench
//
// --codecs N: instead, the stored-text codecs on the database's own long texts (the first N
// compressed prompt/stream texts, decoded once): CPU per text to encode and to decode with LZ4
// (what the store writes) and zstd level 1 (what earlier builds wrote), and the bytes each
// keeps; the codecs alternate for --rounds rounds, medians printed.
#include <sqlite3.h>

#include <algorithm>
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
#include "store/sqlite/text_codec.h"
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

// --codecs: see the top of the file.
int RunCodecs(const std::string& db, int limit, int rounds) {
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) Die("open");
  sqlite3_stmt* st = nullptr;
  const std::string sql =
      "SELECT t FROM (SELECT stream_data AS t FROM telemetry_events UNION ALL SELECT prompt FROM "
      "telemetry_events) WHERE typeof(t) = 'blob' LIMIT " + std::to_string(limit);
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) Die(sqlite3_errmsg(h));
  std::vector<std::string> texts;
  std::size_t plain_bytes = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::string text;
    Status s = store::sqlite::DecodeTextInto(sqlite3_column_blob(st, 0),
                                             static_cast<std::size_t>(sqlite3_column_bytes(st, 0)),
                                             &text);
    if (!s.ok()) Die(s.ToString());
    plain_bytes += text.size();
    texts.push_back(std::move(text));
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  if (texts.empty()) Die("no compressed texts in " + db);
  struct Codec {
    const char* name;
    store::sqlite::TextCodec codec;
    std::vector<double> encode_ns, decode_ns;
    std::size_t stored_bytes = 0;
  };
  std::vector<Codec> codecs = {{"lz4", store::sqlite::TextCodec::kLz4, {}, {}},
                               {"zstd_level_1", store::sqlite::TextCodec::kZstd, {}, {}}};
  std::vector<std::string> stored(texts.size());
  std::string decoded;
  const auto ns_per_text = [&texts](auto t0) {
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0)
               .count() /
           static_cast<double>(texts.size());
  };
  for (int r = 0; r < rounds; ++r) {
    for (Codec& c : codecs) {
      auto t0 = std::chrono::steady_clock::now();
      for (std::size_t i = 0; i < texts.size(); ++i) {
        if (!store::sqlite::EncodeText(texts[i], 1, &stored[i], c.codec)) stored[i] = texts[i];
      }
      c.encode_ns.push_back(ns_per_text(t0));
      c.stored_bytes = 0;
      for (const std::string& s : stored) c.stored_bytes += s.size();
      t0 = std::chrono::steady_clock::now();
      for (const std::string& s : stored) {
        if (!store::sqlite::DecodeTextInto(s.data(), s.size(), &decoded).ok()) Die("decode");
      }
      c.decode_ns.push_back(ns_per_text(t0));
    }
  }
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("{\"texts\":%zu,\"plain_bytes_per_text\":%.0f,\"rounds\":%d,\"codecs\":[",
              texts.size(), static_cast<double>(plain_bytes) / texts.size(), rounds);
  for (std::size_t i = 0; i < codecs.size(); ++i) {
    const Codec& c = codecs[i];
    std::printf("%s{\"codec\":\"%s\",\"encode_ns_per_text\":%.0f,\"decode_ns_per_text\":%.0f,"
                "\"decode_mb_per_s\":%.0f,\"stored_bytes_per_text\":%.0f,\"ratio\":%.2f}",
                i == 0 ? "" : ",", c.name, median(c.encode_ns), median(c.decode_ns),
                static_cast<double>(plain_bytes) / texts.size() / median(c.decode_ns) * 1e3,
                static_cast<double>(c.stored_bytes) / texts.size(),
                static_cast<double>(plain_bytes) / static_cast<double>(c.stored_bytes));
  }
  std::printf("]}\n");
  return 0;
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
  int codecs = 0;
  int rounds = 5;
  app.add_option("--codecs", codecs,
                 "Instead: LZ4 against zstd on the first N compressed texts of the database");
  app.add_option("--rounds", rounds, "With --codecs: alternated rounds (medians printed)");
  CLI11_PARSE(app, argc, argv);
  const std::string db = dir + "/bench-" + std::to_string(events) + ".db";
  if (out_dir.empty()) out_dir = dir;
  if (!run_format.empty()) return RunOne(db, out_dir, run_format, run_compression, pipeline);
  if (codecs > 0) {
    if (!std::filesystem::exists(db)) Build(db, events);
    return RunCodecs(db, codecs, std::max(1, rounds));
  }

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
