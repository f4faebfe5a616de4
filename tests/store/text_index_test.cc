// The text index in its own file, filled by its own thread (store/sqlite/text_index.h): it must
// follow every insert, delete, update, clear and restore exactly, rebuild itself when the
// database is not the one it indexed, and never be held back by one unreadable text.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/text_codec.h"
#include "store/sqlite/text_index.h"
#include "testing/test_util.h"

namespace vibekit::store::sqlite {
namespace {

using vibekit::testing::QueryInt;
using vibekit::testing::TempDir;

Event Ev(const std::string& session, EventType type, std::string text, std::int64_t ts) {
  Event e;
  e.session_id = session;
  e.agent_type = "claude";
  e.event_type = type;
  if (type == EventType::kStart) {
    e.prompt = std::move(text);
  } else {
    e.stream_data = std::move(text);
  }
  e.timestamp = ts;
  return e;
}

// A text long enough to be stored compressed (LZ4), with `word` in it.
std::string Long(const std::string& word) {
  std::string s;
  for (int i = 0; i < 40; ++i) s += "const value" + std::to_string(i) + " = fetch(url); ";
  return s + word;
}

// The matching ids in ascending order.
std::vector<std::int64_t> Search(SqliteStore& store, const std::string& text) {
  std::vector<std::int64_t> ids = testing::SearchIds(store, text);
  std::sort(ids.begin(), ids.end());
  return ids;
}

class Raw {
 public:
  explicit Raw(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 10000);
    EXPECT_TRUE(RegisterTextFunctions(db_).ok());
  }
  ~Raw() { sqlite3_close(db_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;
  void Exec(const std::string& sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err != nullptr ? err : "");
    sqlite3_free(err);
  }
  std::string One(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      return std::string("error: ") + sqlite3_errmsg(db_);
    }
    std::string out = "none";
    if (sqlite3_step(st) == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(st, 0);
      out = t != nullptr ? reinterpret_cast<const char*>(t) : "NULL";
    }
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// The side file's index holds exactly the (term, event) pairs of the rows now in the database,
// and FTS5's own integrity check passes.
void ExpectIndexEqualsRows(const std::string& db) {
  Raw raw(db);
  raw.Exec("ATTACH DATABASE '" + TextIndexer::SidePath(db) + "' AS txt");
  EXPECT_EQ(raw.One("INSERT INTO txt.telemetry_events_fts(telemetry_events_fts) "
                    "VALUES('integrity-check')"),
            "none");
  raw.Exec(
      "CREATE VIRTUAL TABLE temp.rows_fts USING fts5(prompt, stream_data, content='', "
      "detail=none, columnsize=0, tokenize='unicode61 remove_diacritics 2');"
      "INSERT INTO temp.rows_fts (rowid, prompt, stream_data) SELECT id, vk_text(prompt), "
      "vk_text(stream_data) FROM telemetry_events WHERE prompt IS NOT NULL OR stream_data IS "
      "NOT NULL;"
      "CREATE VIRTUAL TABLE temp.rows_terms USING fts5vocab(temp, 'rows_fts', 'instance');"
      "CREATE VIRTUAL TABLE temp.index_terms USING fts5vocab(txt, 'telemetry_events_fts', "
      "'instance');");
  EXPECT_EQ(raw.One("SELECT count(*) FROM (SELECT term, doc FROM temp.index_terms EXCEPT "
                    "SELECT term, doc FROM temp.rows_terms)"),
            "0")
      << "terms in the index for rows that no longer hold them";
  EXPECT_EQ(raw.One("SELECT count(*) FROM (SELECT term, doc FROM temp.rows_terms EXCEPT "
                    "SELECT term, doc FROM temp.index_terms)"),
            "0")
      << "terms of stored rows missing from the index";
  EXPECT_EQ(raw.One("SELECT count(*) FROM temp.index_terms"),
            raw.One("SELECT count(*) FROM temp.rows_terms"))
      << "an event entered the index more than once";
}

class TextIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.db_path = dir_.File("t.db");
    Reopen();
  }
  void Reopen() {
    store_.reset();
    store_ = std::make_unique<SqliteStore>(config_, SystemClock());
    ASSERT_OK(store_->Open());
  }
  void Apply(std::vector<Event> events) { ASSERT_OK(store_->ApplyBatch(events, 5000)); }

  TempDir dir_;
  LocalStoreConfig config_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(TextIndexTest, TheThreadIndexesCommitsWithoutASearch) {
  Apply({Ev("a", EventType::kStart, "first prompt", 1), Ev("a", EventType::kStream, "chunk", 2)});
  Raw raw(config_.db_path);
  raw.Exec("ATTACH DATABASE '" + TextIndexer::SidePath(config_.db_path) + "' AS txt");
  std::string upto;
  for (int i = 0; i < 100 && upto != "2"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    upto = raw.One("SELECT indexed_upto FROM txt.vk_text_state");
  }
  EXPECT_EQ(upto, "2");
  // The database holds no text index of its own any more.
  EXPECT_EQ(QueryInt(config_.db_path,
                     "SELECT count(*) FROM sqlite_master WHERE name LIKE 'telemetry_events_fts%'"),
            0);
}

TEST_F(TextIndexTest, FollowsDeletesUpdatesAndRestoresExactly) {
  Apply({Ev("old", EventType::kStart, "zebra prompt", 1),
         Ev("old", EventType::kStream, Long("zebra"), 2),
         Ev("keep", EventType::kStart, "yak prompt", 3),
         Ev("keep", EventType::kStream, Long("yak quokka"), 4)});
  EXPECT_EQ(Search(*store_, "zebra"), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(Search(*store_, "quokka"), (std::vector<std::int64_t>{4}));

  // Retention deletes the oldest session: its texts leave the index, the log is settled.
  DeleteSelector oldest;
  oldest.kind = DeleteSelector::Kind::kOldest;
  oldest.limit = 1;
  oldest.reason = "test";
  auto removed = store_->DeleteSessions(oldest, 6000);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(removed->events_removed, 2);
  EXPECT_TRUE(Search(*store_, "zebra").empty());
  EXPECT_EQ(QueryInt(config_.db_path, "SELECT count(*) FROM telemetry_text_changes"), 0);

  // Texts changed in place (as a retroactive redaction would): old words out, new ones in, for
  // a compressed and a plain text, twice for one of them.
  {
    Raw raw(config_.db_path);
    raw.Exec("UPDATE telemetry_events SET stream_data = 'walrus replaced' WHERE id = 4");
    raw.Exec("UPDATE telemetry_events SET prompt = 'emu prompt' WHERE id = 3");
    raw.Exec("UPDATE telemetry_events SET prompt = 'ibis prompt' WHERE id = 3");
  }
  EXPECT_TRUE(Search(*store_, "quokka").empty());
  EXPECT_TRUE(Search(*store_, "emu").empty());
  EXPECT_EQ(Search(*store_, "walrus"), (std::vector<std::int64_t>{4}));
  EXPECT_EQ(Search(*store_, "ibis"), (std::vector<std::int64_t>{3}));

  // A restore puts the deleted session back under its old ids, below what the index has passed.
  {
    auto restore = store_->BeginRestore(7000);
    ASSERT_TRUE(restore.ok()) << restore.status().ToString();
    Session s;
    s.id = "old";
    s.agent_type = "claude";
    s.start_time = 1;
    s.last_event_time = 2;
    ASSERT_OK((*restore)->AddSession(s));
    for (Event e : {Ev("old", EventType::kStart, "zebra prompt", 1),
                    Ev("old", EventType::kStream, Long("zebra"), 2)}) {
      e.id = e.timestamp;
      e.created_at = e.timestamp;
      ASSERT_OK((*restore)->AddEvent(e));
    }
    ASSERT_OK((*restore)->Commit());
  }
  EXPECT_EQ(Search(*store_, "zebra"), (std::vector<std::int64_t>{1, 2}));
  // The next batch purges what the indexer applied.
  Apply({Ev("new", EventType::kStart, "kiwi", 10)});
  EXPECT_EQ(Search(*store_, "kiwi"), (std::vector<std::int64_t>{5}));
  Apply({Ev("new", EventType::kStream, "end", 11)});
  EXPECT_EQ(QueryInt(config_.db_path, "SELECT count(*) FROM telemetry_text_changes"), 0);
  store_->Close();
  ExpectIndexEqualsRows(config_.db_path);
}

TEST_F(TextIndexTest, ClearingStartsANewGenerationAndTheIndexEmpties) {
  Apply({Ev("a", EventType::kStart, "heron prompt", 1), Ev("a", EventType::kStream, Long("heron"), 2)});
  EXPECT_EQ(Search(*store_, "heron").size(), 2u);
  const std::string before = testing::QueryText(config_.db_path,
                                                "SELECT generation FROM telemetry_text_index");
  auto cleared = store_->DeleteAll("test", 6000);
  ASSERT_TRUE(cleared.ok()) << cleared.status().ToString();
  EXPECT_NE(testing::QueryText(config_.db_path, "SELECT generation FROM telemetry_text_index"),
            before);
  // The deleted texts were not logged one by one: the new generation empties the index.
  EXPECT_EQ(QueryInt(config_.db_path, "SELECT count(*) FROM telemetry_text_changes"), 0);
  EXPECT_TRUE(Search(*store_, "heron").empty());
  Apply({Ev("b", EventType::kStart, "heron again", 3)});
  EXPECT_EQ(Search(*store_, "heron"), (std::vector<std::int64_t>{3}));
  store_->Close();
  ExpectIndexEqualsRows(config_.db_path);
}

TEST_F(TextIndexTest, AnOlderCopyOfTheDatabaseIsReindexed) {
  Apply({Ev("a", EventType::kStart, "alpha", 1)});
  store_->Close();
  const std::string backup = dir_.File("backup.db");
  std::filesystem::copy_file(config_.db_path, backup);
  Reopen();
  Apply({Ev("b", EventType::kStart, "bravo", 2)});
  EXPECT_EQ(Search(*store_, "bravo"), (std::vector<std::int64_t>{2}));
  store_->Close();
  // The older file is put back (same generation, fewer events than the index has seen).
  std::filesystem::copy_file(backup, config_.db_path,
                             std::filesystem::copy_options::overwrite_existing);
  Reopen();
  EXPECT_TRUE(Search(*store_, "bravo").empty());
  EXPECT_EQ(Search(*store_, "alpha"), (std::vector<std::int64_t>{1}));
  store_->Close();
  ExpectIndexEqualsRows(config_.db_path);
}

TEST_F(TextIndexTest, AMissingOrDamagedIndexFileIsRebuilt) {
  Apply({Ev("a", EventType::kStart, "gecko", 1), Ev("a", EventType::kStream, Long("gecko"), 2)});
  store_->Close();
  const std::string side = TextIndexer::SidePath(config_.db_path);
  ASSERT_TRUE(std::filesystem::remove(side));
  Reopen();
  EXPECT_EQ(Search(*store_, "gecko"), (std::vector<std::int64_t>{1, 2}));
  store_->Close();
  {
    std::ofstream garbage(side, std::ios::binary | std::ios::trunc);
    garbage << std::string(8192, 'x');
  }
  Reopen();
  EXPECT_EQ(Search(*store_, "gecko"), (std::vector<std::int64_t>{1, 2}));
  store_->Close();
  ExpectIndexEqualsRows(config_.db_path);
  // Born private, like the database.
  EXPECT_EQ(std::filesystem::status(side).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(TextIndexTest, AnUnreadableTextIsLeftOutAndDoesNotHoldBackTheRest) {
  Apply({Ev("a", EventType::kStart, "before", 1)});
  EXPECT_EQ(Search(*store_, "before").size(), 1u);
  {
    // A damaged compressed text, written past the store (the index has not seen id 2 yet).
    Raw raw(config_.db_path);
    raw.Exec("INSERT INTO telemetry_events (session_id, event_type, agent_type, stream_data, "
             "timestamp, created_at) VALUES ('a', 'stream', 'claude', x'0228b52ffd0001', 2, 2)");
  }
  Apply({Ev("a", EventType::kStream, "after the damage", 3)});
  EXPECT_EQ(Search(*store_, "damage"), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(Search(*store_, "before"), (std::vector<std::int64_t>{1}));
}

// Another process's store indexes the same database (the CLI while the server runs) between
// this indexer's read of new texts and its write: the write finds the side file's state moved
// on and gives way, rather than entering texts older than the other indexer's (here: an
// update's old text, which would stay in the index for good).
TEST_F(TextIndexTest, AnotherIndexerBetweenReadAndWriteMakesTheStepGiveWay) {
  Apply({Ev("a", EventType::kStart, "heron prompt", 1), Ev("a", EventType::kStream, "ibis", 2)});
  store_.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(TextIndexer::SidePath(config_.db_path) + suffix);
  }
  Result<std::unique_ptr<TextIndexer>> mine = TextIndexer::Start(config_);
  ASSERT_OK(mine.status());
  Result<std::unique_ptr<TextIndexer>> other = TextIndexer::Start(config_);
  ASSERT_OK(other.status());
  std::atomic<int> calls{0};
  (*mine)->SetBetweenPhasesHookForTesting([&] {
    if (calls++ != 0) return;
    Raw raw(config_.db_path);
    raw.Exec("UPDATE telemetry_events SET prompt = 'stork prompt' WHERE id = 1");
    EXPECT_OK((*other)->CatchUp());
  });
  ASSERT_OK((*mine)->CatchUp());
  EXPECT_EQ(calls.load(), 1);  // the other indexer left nothing to read again
  (*mine)->Stop();
  (*other)->Stop();
  ExpectIndexEqualsRows(config_.db_path);
}

// An index that is already up to date stays as it is: opening the store again and searching
// change nothing in the side file (no rebuild, no re-entered rows).
TEST_F(TextIndexTest, ReopeningAnUpToDateIndexChangesNothing) {
  Apply({Ev("a", EventType::kStart, "plover prompt", 1)});
  EXPECT_EQ(Search(*store_, "plover").size(), 1u);
  // PRAGMA data_version changes when another connection commits to the file.
  Raw watcher(TextIndexer::SidePath(config_.db_path));
  const std::string version = watcher.One("PRAGMA data_version");
  Reopen();
  EXPECT_EQ(Search(*store_, "plover").size(), 1u);
  EXPECT_EQ(watcher.One("PRAGMA data_version"), version);
  Apply({Ev("a", EventType::kStream, "dunlin", 2)});
  EXPECT_EQ(Search(*store_, "dunlin").size(), 1u);
  // ... while a new event does (the watcher sees the other connection's commits).
  EXPECT_NE(watcher.One("PRAGMA data_version"), version);
}

// A step reads at most kBytesPerStep of text: larger texts take several steps, none left out.
TEST_F(TextIndexTest, TextsBeyondAStepsByteBudgetTakeSeveralSteps) {
  std::vector<Event> batch;
  const std::size_t size = TextIndexer::kBytesPerStep / 2 + 1;
  for (const char* word : {"alpha", "bravo", "charlie"}) {
    std::string text;
    text.reserve(size + 16);
    for (int i = 0; text.size() < size; ++i) text += "w" + std::to_string(i % 5000) + " ";
    batch.push_back(Ev("big", EventType::kStream, text + word, 1));
  }
  Apply(std::move(batch));
  EXPECT_EQ(Search(*store_, "alpha"), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(Search(*store_, "charlie"), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(Search(*store_, "w42").size(), 3u);
}

TEST(TextIndexMigration, TheInFileIndexMovesOutAndRollsBack) {
  TempDir dir;
  LocalStoreConfig config;
  config.db_path = dir.File("m.db");
  {
    SqliteStore store(config, SystemClock());
    ASSERT_OK(store.Open());
    std::vector<Event> events = {Ev("a", EventType::kStart, "osprey prompt", 1),
                                 Ev("a", EventType::kStream, Long("osprey"), 2)};
    ASSERT_OK(store.ApplyBatch(events, 5000));
    store.Close();
  }
  const Migration& last = Migrations().back();
  ASSERT_EQ(last.version, "1.9.0");
  {
    // Back to 1.8.0: the text index is inside the database again, built from the rows.
    Raw raw(config.db_path);
    raw.Exec("BEGIN; " + std::string(last.rollback_script) +
             " DELETE FROM telemetry_schema_versions WHERE version = '1.9.0'; COMMIT;");
    EXPECT_EQ(raw.One("SELECT count(*) FROM telemetry_events_fts WHERE telemetry_events_fts "
                      "MATCH 'osprey'"),
              "2");
    EXPECT_EQ(raw.One("SELECT count(*) FROM sqlite_master WHERE name LIKE 'telemetry_text%'"),
              "0");
    // A 1.8.0 program deletes through the in-file trigger.
    raw.Exec("DELETE FROM telemetry_events WHERE id = 1");
    EXPECT_EQ(raw.One("SELECT count(*) FROM telemetry_events_fts WHERE telemetry_events_fts "
                      "MATCH 'osprey'"),
              "1");
  }
  SqliteStore store(config, SystemClock());
  ASSERT_OK(store.Open());  // migrates to 1.9.0 again: a new generation, the index rebuilt
  EXPECT_EQ(QueryInt(config.db_path,
                     "SELECT count(*) FROM sqlite_master WHERE name LIKE 'telemetry_events_fts%'"),
            0);
  EXPECT_EQ(Search(store, "osprey"), (std::vector<std::int64_t>{2}));
  store.Close();
  ExpectIndexEqualsRows(config.db_path);
}

}  // namespace
}  // namespace vibekit::store::sqlite
