// SmartBatchProcessor against fixed batch sizes on the real store: the workload's events are
// submitted as fast as they are generated and committed through Store::ApplyBatch (one
// transaction per batch, as the ingest writer does). JSON per configuration: events/s, batches,
// p50/p95 commit latency, the batch size reached.
//   vibekit_smart_batch_bench --events 200000 [--dir D]
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "ingest/smart_batch.h"
#include "store/sqlite/sqlite_store.h"
#include "vibekit/clock.h"
#include "workload/workload.h"

int main(int argc, char** argv) {
  CLI::App app{"SmartBatchProcessor vs fixed batches (JSON)"};
  std::int64_t events = 200000;
  std::string dir = "/tmp/vibekit-smart-batch-bench";
  app.add_option("--events", events, "Events per configuration");
  app.add_option("--dir", dir, "Where the databases go");
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(dir);
  vibekit::workload::WorkloadOptions wo;
  wo.total_events = events;
  std::vector<vibekit::Event> all;
  {
    vibekit::workload::Generator gen(wo);
    vibekit::Event e;
    while (gen.Next(&e)) all.push_back(e);
  }
  struct Config {
    const char* name;
    std::size_t min, max, initial;
  };
  const Config configs[] = {{"fixed_50", 50, 50, 50},
                            {"fixed_500", 500, 500, 500},
                            {"fixed_5000", 5000, 5000, 5000},
                            {"auto_50_5000", 50, 5000, 50}};
  std::printf("[");
  bool firstc = true;
  for (const Config& c : configs) {
    const std::string db = dir + "/" + c.name + ".db";
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
    vibekit::LocalStoreConfig cfg;
    cfg.db_path = db;
    vibekit::store::sqlite::SqliteStore store(cfg, vibekit::SystemClock());
    if (!store.Open().ok()) return 1;
    std::vector<double> latencies;
    vibekit::ingest::SmartBatchOptions o;
    o.min_batch_size = c.min;
    o.max_batch_size = c.max;
    o.initial_batch_size = c.initial;
    o.target_latency_ms = 50;
    o.backpressure_threshold = 1u << 30;
    const auto t0 = std::chrono::steady_clock::now();
    vibekit::ingest::SmartBatchStats stats;
    bool ok = true;
    {
      vibekit::ingest::SmartBatchProcessor<vibekit::Event> p(
          [&](std::span<const vibekit::Event> b) {
            const auto s0 = std::chrono::steady_clock::now();
            vibekit::Status st = store.ApplyBatch(b, b.back().timestamp);
            latencies.push_back(std::chrono::duration<double, std::milli>(
                                    std::chrono::steady_clock::now() - s0)
                                    .count());
            if (!st.ok()) ok = false;
            return st;
          },
          o);
      for (std::size_t i = 0; i < all.size(); i += 1000) {
        const std::size_t n = std::min<std::size_t>(1000, all.size() - i);
        if (!p.Submit(std::span<const vibekit::Event>(all.data() + i, n)).ok()) return 1;
      }
      p.Flush();
      stats = p.stats();
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    store.Close();
    if (!ok) return 1;
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double q) {
      return latencies[static_cast<std::size_t>(q * static_cast<double>(latencies.size() - 1))];
    };
    std::printf("%s\n {\"config\": \"%s\", \"events_per_s\": %.0f, \"batches\": %lld, "
                "\"commit_p50_ms\": %.2f, \"commit_p95_ms\": %.2f, \"final_batch_size\": %zu}",
                firstc ? "" : ",", c.name, static_cast<double>(all.size()) / secs,
                static_cast<long long>(stats.batches), pct(0.5), pct(0.95), stats.batch_size);
    firstc = false;
  }
  std::printf("]\n");
  return 0;
}
