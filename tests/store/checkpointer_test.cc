// WAL checkpoints run on the store's background thread (store/sqlite/checkpointer.h): the pages
// reach the database file while the store stays open, the WAL stays near its threshold instead
// of holding everything written, and nothing is lost or damaged.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "store/sqlite/database.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/test_util.h"

namespace vibekit::store::sqlite {
namespace {

using vibekit::testing::QueryInt;
using vibekit::testing::FileSize;
using vibekit::testing::QueryText;
using vibekit::testing::TempDir;
using vibekit::testing::WaitFor;

// 10 events of ~600 bytes of text, different in every batch (so they do not compress away).
std::vector<Event> Batch(int b) {
  std::vector<Event> events;
  for (int i = 0; i < 10; ++i) {
    Event e;
    e.session_id = "s" + std::to_string(b % 7);
    e.event_type = EventType::kStream;
    e.agent_type = "claude";
    e.timestamp = 1'700'000'000'000 + b * 1000 + i;
    std::string& text = e.stream_data.emplace();
    for (int k = 0; text.size() < 600; ++k) {
      text += "chunk " + std::to_string(b) + "." + std::to_string(i) + "." +
              std::to_string(k * 7919 % 104729) + " ";
    }
    events.push_back(std::move(e));
  }
  return events;
}

TEST(Checkpointer, WalIsCheckpointedOffTheWriterWhileTheStoreIsOpen) {
  TempDir dir;
  LocalStoreConfig config;
  config.db_path = dir.File("c.db");
  config.wal_autocheckpoint_kib = 1024;  // 256 pages: ~20 commits
  SqliteStore store(config, SystemClock());
  ASSERT_OK(store.Open());
  const std::int64_t file_at_open = FileSize(config.db_path);
  constexpr int kBatches = 600;  // ~3.6 MB of text, ~25 MB of WAL frames without checkpoints
  for (int b = 0; b < kBatches; ++b) ASSERT_OK(store.ApplyBatch(Batch(b), 1'700'000'000'000 + b));

  ASSERT_TRUE(WaitFor([&] { return store.Checkpoints().background > 0; }))
      << "no background checkpoint ran";
  // The pages reached the file while the store is open, and the WAL was reused rather than
  // grown to hold everything: about Checkpointer::kInlineFactor thresholds at most (there the
  // writer waits for the thread) plus a few commits' frames.
  EXPECT_GT(FileSize(config.db_path), file_at_open + 2'000'000);
  EXPECT_LT(FileSize(config.db_path + "-wal"), 8 * 1024 * 1024);
  store.Close();

  EXPECT_EQ(QueryInt(config.db_path, "SELECT count(*) FROM telemetry_events"), kBatches * 10);
  EXPECT_EQ(QueryText(config.db_path, "PRAGMA integrity_check"), "ok");
}

// A reader that keeps its snapshot (a long export, say) keeps the WAL from being copied past it
// and from starting over. Past the fallback bound the writer copies itself and waits
// kRestartWaitMs for readers; after a wait the reader outlasted it does not wait again until the
// WAL has grown by twice as much as the last time, rather than in every commit.
TEST(Checkpointer, AReaderThatStaysCostsTheWriterFewWaitsNotOnePerCommit) {
  TempDir dir;
  LocalStoreConfig config;
  config.db_path = dir.File("r.db");
  config.page_size = 4096;
  config.wal_autocheckpoint_kib = 256;  // 64 pages: a few commits
  SqliteStore store(config, SystemClock());
  ASSERT_OK(store.Open());
  for (int b = 0; b < 5; ++b) ASSERT_OK(store.ApplyBatch(Batch(b), 1'700'000'000'000 + b));
  OpenOptions options;
  options.create = false;
  auto reader = Database::Open(config.db_path, options);
  ASSERT_OK(reader.status());
  ASSERT_OK((*reader)->Exec("BEGIN; SELECT count(*) FROM telemetry_events;"));  // holds a snapshot

  constexpr int kBatches = 200;
  for (int b = 5; b < 5 + kBatches; ++b) {
    ASSERT_OK(store.ApplyBatch(Batch(b), 1'700'000'000'000 + b));
  }
  const Checkpointer::Counts held = store.Checkpoints();
  const std::int64_t wal_pages = FileSize(config.db_path + "-wal") / (4096 + 24);
  // Nothing could be copied past the reader: the WAL holds the 200 commits.
  EXPECT_GT(wal_pages, 4 * 64);
  // After each wait that the reader outlasted, the WAL grows twice as much as before the next
  // one: about log2(its growth in thresholds) waits, not one per commit.
  EXPECT_GE(held.restart_busy, 1);
  EXPECT_LE(held.restart_busy, std::bit_width(static_cast<std::uint64_t>(wal_pages / 64)) + 1)
      << "fallbacks " << held.fallback << ", restart_busy " << held.restart_busy;

  // The reader gone, the next copies reach the WAL's end and it starts over: 200 more commits
  // add at most a few thresholds' worth to its file instead of as much again.
  ASSERT_OK((*reader)->Exec("COMMIT;"));
  for (int b = 5 + kBatches; b < 5 + 2 * kBatches; ++b) {
    ASSERT_OK(store.ApplyBatch(Batch(b), 1'700'000'000'000 + b));
  }
  EXPECT_LT(FileSize(config.db_path + "-wal") / (4096 + 24), wal_pages + 4 * 64);
  store.Close();
  EXPECT_EQ(QueryInt(config.db_path, "SELECT count(*) FROM telemetry_events"),
            (5 + 2 * kBatches) * 10);
}

TEST(Checkpointer, NoThreadWithoutWal) {
  TempDir dir;
  LocalStoreConfig config;
  config.db_path = dir.File("nowal.db");
  config.enable_wal = false;
  SqliteStore store(config, SystemClock());
  ASSERT_OK(store.Open());
  for (int b = 0; b < 3; ++b) ASSERT_OK(store.ApplyBatch(Batch(b), 1'700'000'000'000 + b));
  const Checkpointer::Counts counts = store.Checkpoints();
  EXPECT_EQ(counts.background + counts.finishing + counts.fallback, 0);
  store.Close();
  EXPECT_EQ(QueryInt(config.db_path, "SELECT count(*) FROM telemetry_events"), 30);
}

}  // namespace
}  // namespace vibekit::store::sqlite
