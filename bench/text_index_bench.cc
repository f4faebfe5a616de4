// vibekit_text_index_bench: the text index's own cost (store/sqlite/text_index.h), per event.
//
// A database is filled once through the store (its side file then removed). Each round builds the
// index again from nothing with TextIndexer::CatchUp on this thread, in the indexer's steps, and
// measures that thread's CPU. The floor, in the same run: the same texts tokenized by one
// INSERT ... SELECT per 20,000 events into the same kind of table in a fresh file, on a plain
// connection (what the indexer did before it read its texts apart from writing them). Prints
// one JSON line per workload:
//   index_us_per_event   CPU of the indexer per event (median of the rounds)
//   floor_us_per_event   CPU of the floor per event (median of the rounds)
//   index_vs_floor       the first over the second
#include <sqlite3.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/steady_ms.h"
#include "store/sqlite/fts_tokenizer.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/text_codec.h"
#include "store/sqlite/text_index.h"
#include "workload/workload.h"

namespace vibekit::bench {
namespace {

using store::sqlite::TextIndexer;

struct Args {
  std::int64_t events = 200000;
  int rounds = 3;
  std::string workload = "both";
  std::string dir = "/tmp/vibekit-text-index-bench";
};

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "text_index_bench: %s\n", what.c_str());
  std::exit(1);
}

void Check(const Status& st, const char* what) {
  if (!st.ok()) Fail(std::string(what) + ": " + st.ToString());
}

// The server bench's small events: ~80 characters of text each.
void FillSmall(std::int64_t n, std::vector<Event>* batch, std::int64_t first) {
  batch->clear();
  for (std::int64_t i = first; i < first + n; ++i) {
    Event e;
    e.session_id = "bench-" + std::to_string(i / 100);
    e.agent_type = "claude";
    e.event_type = EventType::kStream;
    e.stream_data = "line " + std::to_string(i) +
                    ": the parser now handles nested quotes and escaped separators correctly";
    e.timestamp = 1764000000000 + i;
    batch->push_back(std::move(e));
  }
}

void Fill(const Args& a, const std::string& workload, const std::string& path) {
  LocalStoreConfig config;
  config.db_path = path;
  store::sqlite::SqliteStore store(config, SystemClock());
  Check(store.Open(), "open");
  std::vector<Event> batch;
  workload::WorkloadOptions o;
  o.total_events = a.events;
  workload::Generator g(o);
  for (std::int64_t done = 0; done < a.events;) {
    const std::int64_t n = std::min<std::int64_t>(1000, a.events - done);
    if (workload == "small") {
      FillSmall(n, &batch, done);
    } else {
      batch.resize(static_cast<std::size_t>(n));
      for (Event& e : batch) g.Next(&e);
    }
    Check(store.ApplyBatch(batch, 1764000000000 + done), "insert");
    done += n;
  }
  store.Close();
}

void RemoveSide(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(TextIndexer::SidePath(path) + suffix);
  }
}

double IndexOnce(const std::string& path) {
  RemoveSide(path);
  LocalStoreConfig config;
  config.db_path = path;
  auto indexer = TextIndexer::Start(config);
  Check(indexer.status(), "start the indexer");
  const double cpu0 = internal::ThreadCpuSeconds();
  Check((*indexer)->CatchUp(), "index");
  const double cpu = internal::ThreadCpuSeconds() - cpu0;
  (*indexer)->Stop();
  return cpu;
}

double FloorOnce(const std::string& path, std::int64_t events) {
  const std::string side = path + "-floor";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(side + suffix);
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Fail("open the floor's connection");
  Check(store::sqlite::RegisterTextFunctions(db), "register vk_text");
  Check(store::sqlite::RegisterFastUnicode61(db), "register the tokenizer");
  auto exec = [&](const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      Fail(sql + ": " + (err != nullptr ? err : ""));
    }
  };
  exec("ATTACH DATABASE '" + side + "' AS f; PRAGMA f.journal_mode=WAL; "
       "PRAGMA f.synchronous=NORMAL; CREATE VIRTUAL TABLE f.fts USING fts5(prompt, stream_data, "
       "content='', detail=none, columnsize=0, tokenize='unicode61 remove_diacritics 2')");
  const double cpu0 = internal::ThreadCpuSeconds();
  for (std::int64_t lo = 0; lo < events; lo += TextIndexer::kRowsPerStep) {
    exec("BEGIN; INSERT INTO f.fts (rowid, prompt, stream_data) SELECT id, vk_text(prompt), "
         "vk_text(stream_data) FROM main.telemetry_events WHERE id > " + std::to_string(lo) +
         " AND id <= " + std::to_string(lo + TextIndexer::kRowsPerStep) +
         " AND (prompt IS NOT NULL OR stream_data IS NOT NULL); COMMIT");
  }
  const double cpu = internal::ThreadCpuSeconds() - cpu0;
  sqlite3_close(db);
  return cpu;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void Run(const Args& a, const std::string& workload) {
  const std::string path = a.dir + "/" + workload + ".db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  Fill(a, workload, path);
  std::vector<double> index;
  std::vector<double> floor;
  for (int r = 0; r < a.rounds; ++r) {  // alternated, so drifts in the machine hit both
    index.push_back(IndexOnce(path) * 1e6 / static_cast<double>(a.events));
    floor.push_back(FloorOnce(path, a.events) * 1e6 / static_cast<double>(a.events));
  }
  const double i = Median(index);
  const double f = Median(floor);
  std::printf("{\"workload\":\"%s\",\"events\":%lld,\"rounds\":%d,\"index_us_per_event\":%.3f,"
              "\"floor_us_per_event\":%.3f,\"index_vs_floor\":%.3f}\n",
              workload.c_str(), static_cast<long long>(a.events), a.rounds, i, f, i / f);
  std::fflush(stdout);
}

}  // namespace
}  // namespace vibekit::bench

int main(int argc, char** argv) {
  vibekit::bench::Args a;
  CLI::App app{"The text index's CPU per event against a plain INSERT ... SELECT into FTS5"};
  app.add_option("--events", a.events, "events in the database")->check(CLI::PositiveNumber);
  app.add_option("--rounds", a.rounds, "rounds (the median is printed)")->check(CLI::PositiveNumber);
  app.add_option("--workload", a.workload, "seeded, small or both")
      ->check(CLI::IsMember({"seeded", "small", "both"}));
  app.add_option("--dir", a.dir, "directory for the databases");
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(a.dir);
  for (const char* w : {"small", "seeded"}) {
    if (a.workload == "both" || a.workload == w) vibekit::bench::Run(a, w);
  }
  return 0;
}
