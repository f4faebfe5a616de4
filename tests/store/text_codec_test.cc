#include "store/sqlite/text_codec.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"

namespace vibekit::store::sqlite {
namespace {

using vibekit::testing::QueryInt;
using vibekit::testing::QueryText;
using vibekit::testing::TempDir;
using vibekit::testing::TestConfig;

std::string CodeChunk(int lines) {
  std::string s;
  for (int i = 0; i < lines; ++i) {
    s += "  const result" + std::to_string(i) + " = await fetchSession(sessionId, { retry: " +
         std::to_string(i % 3) + " }); // ECONNREFUSED handling\n";
  }
  return s;
}

TEST(TextCodec, CompressesLargeTextAndRoundTrips) {
  const std::string text = CodeChunk(40);
  std::string packed;
  ASSERT_TRUE(EncodeText(text, 512, &packed));
  EXPECT_EQ(static_cast<unsigned char>(packed[0]), kZstdV1);
  EXPECT_LT(packed.size() * 2, text.size());
  auto back = DecodeText(packed.data(), packed.size());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, text);
}

TEST(TextCodec, LeavesShortOrIncompressibleTextAlone) {
  std::string packed = "untouched";
  EXPECT_FALSE(EncodeText("short text", 512, &packed));
  EXPECT_FALSE(EncodeText(CodeChunk(40), 0, &packed));  // disabled
  std::string noise;  // full-entropy bytes do not shrink: stored as they are
  std::uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 2000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    noise += static_cast<char>(x & 0xFF);
  }
  EXPECT_FALSE(EncodeText(noise, 512, &packed));
  EXPECT_EQ(packed, "untouched");
}

TEST(TextCodec, CorruptBlobIsCorruptionNotACrash) {
  const unsigned char bad[] = {kZstdV1, 0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x01};
  EXPECT_EQ(DecodeText(bad, sizeof bad).status().code(), StatusCode::kCorruption);
  const unsigned char other[] = {0x7F, 0x00, 0x01};
  EXPECT_EQ(DecodeText(other, sizeof other).status().code(), StatusCode::kCorruption);
}

TEST(TextCodec, ServiceStoresLargeChunksCompressedAndReadsThemBack) {
  TempDir dir;
  const std::string db = dir.File("c.db");
  TelemetryService s(TestConfig(db));
  ASSERT_OK(s.Initialize());
  const std::string big = CodeChunk(60);
  TrackStartParams p{"c", "claude"};
  p.prompt = "Investigate " + CodeChunk(20);
  p.timestamp = 10;
  ASSERT_OK(s.TrackStart(p));
  TrackStreamParams small{"c", "claude"};
  small.stream_data = "a short chunk";
  small.timestamp = 11;
  ASSERT_OK(s.TrackStream(small));
  TrackStreamParams large{"c", "claude"};
  large.stream_data = big;
  large.timestamp = 12;
  ASSERT_OK(s.TrackStream(large));
  ASSERT_OK(s.FlushBuffers());
  EXPECT_EQ(QueryText(db, "SELECT typeof(stream_data) FROM telemetry_events WHERE timestamp=12"), "blob");
  EXPECT_EQ(QueryText(db, "SELECT typeof(stream_data) FROM telemetry_events WHERE timestamp=11"), "text");
  EXPECT_EQ(QueryText(db, "SELECT typeof(prompt) FROM telemetry_events WHERE timestamp=10"), "blob");
  EventQueryFilter f;
  f.session_id = "c";
  auto events = s.QueryEvents(f);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ(*(*events)[0].prompt, p.prompt);
  EXPECT_EQ(*(*events)[2].stream_data, big);
  // Search sees the plain text of compressed rows, in prompt and stream.
  f = {};
  f.contains = "fetchSession(sessionId";
  auto hits = s.QueryEvents(f);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  EXPECT_EQ(hits->size(), 2u);
  auto stats = s.GetSessionStats("c");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->stream_bytes, static_cast<std::int64_t>(big.size() + small.stream_data.size()));
  // Deleting compressed rows keeps the text index exact.
  ASSERT_TRUE(s.ClearOldData(0).ok());
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), 0);
  ASSERT_OK(s.Shutdown());
  // FTS5's own consistency check against the (now empty) content.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events_fts WHERE telemetry_events_fts MATCH 'fetchsession'"), 0);
}

// Runs `sql` (one row, one column) on `db` and returns the text, "NULL" or the error.
std::string One(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return sqlite3_errmsg(db);
  std::string out;
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    const auto* t = sqlite3_column_text(st, 0);
    out = t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(st, 0)) : "NULL";
  } else {
    out = std::string("error: ") + sqlite3_errmsg(db);
  }
  sqlite3_finalize(st);
  return out;
}

TEST(TextCodec, BatchTextReadsTheBatchByIdAndDecodesAnythingElse) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  BatchTexts batch;
  ASSERT_OK(RegisterTextFunctions(db));
  ASSERT_OK(RegisterBatchTextFunction(db, &batch));
  std::vector<Event> events(2);
  events[0].prompt = "prompt of event 5";
  events[1].stream_data = "stream of event 6";
  std::string packed;
  ASSERT_TRUE(EncodeText(CodeChunk(40), 512, &packed));
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "CREATE TABLE t AS SELECT ?1 AS b", -1, &st, nullptr), SQLITE_OK);
  sqlite3_bind_blob(st, 1, packed.data(), static_cast<int>(packed.size()), SQLITE_STATIC);
  ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  // No batch: every id decodes the stored value (BLOB decoded, TEXT and NULL as they are).
  EXPECT_EQ(One(db, "SELECT vk_batch_text(5, 0, b) FROM t"), CodeChunk(40));
  EXPECT_EQ(One(db, "SELECT vk_batch_text(5, 0, 'stored')"), "stored");
  batch = {5, events};
  EXPECT_EQ(One(db, "SELECT vk_batch_text(5, 0, b) FROM t"), "prompt of event 5");
  EXPECT_EQ(One(db, "SELECT vk_batch_text(5, 1, 'x')"), "NULL");  // event 5 has no stream data
  EXPECT_EQ(One(db, "SELECT vk_batch_text(6, 1, NULL)"), "stream of event 6");
  EXPECT_EQ(One(db, "SELECT vk_batch_text(7, 0, b) FROM t"), CodeChunk(40));  // outside: stored
  EXPECT_EQ(One(db, "SELECT vk_batch_text(4, 0, 'before')"), "before");
  // A damaged stored value is an SQL error, not a crash.
  EXPECT_EQ(One(db, "SELECT vk_batch_text(9, 0, x'0128b52ffd0001')").rfind("error: ", 0), 0u);
  EXPECT_EQ(One(db, "SELECT vk_text(x'7f0001')"), "error: stored text has an unknown encoding");
  sqlite3_close(db);
}

// The text index is filled from the batch in memory; it must hold exactly what indexing the
// stored (partly compressed) rows would: same terms, same document counts.
TEST(TextCodec, TextIndexFilledFromMemoryEqualsTheIndexOfTheStoredText) {
  TempDir dir;
  const std::string db = dir.File("fts.db");
  TelemetryService s(TestConfig(db));
  ASSERT_OK(s.Initialize());
  for (int i = 0; i < 30; ++i) {
    const std::string id = "s" + std::to_string(i % 4);
    TrackStreamParams p{id, "claude"};
    // Large compressed chunks, short plain ones, non-ASCII words, and events without text.
    if (i % 3 == 0) p.stream_data = CodeChunk(10 + i) + " Überprüfung naïve café " + id;
    if (i % 3 == 1) p.stream_data = "short chunk " + std::to_string(i) + " Ölkännchen";
    p.timestamp = 100 + i;
    ASSERT_OK(s.TrackStream(p));
    if (i % 10 == 9) ASSERT_OK(s.FlushBuffers());  // several batches
  }
  TrackStartParams start{"s9", "codex"};
  start.prompt = "Investigate " + CodeChunk(25);
  start.timestamp = 200;
  ASSERT_OK(s.TrackStart(start));
  ASSERT_OK(s.Shutdown());
  EXPECT_GT(QueryInt(db, "SELECT count(*) FROM telemetry_events WHERE typeof(stream_data) = 'blob' "
                         "OR typeof(prompt) = 'blob'"), 0);
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_OK(RegisterTextFunctions(h));
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(h,
      "CREATE VIRTUAL TABLE temp.check_fts USING fts5(prompt, stream_data, detail=none, columnsize=0, "
      "tokenize='unicode61 remove_diacritics 2');"
      "INSERT INTO check_fts (rowid, prompt, stream_data) SELECT id, vk_text(prompt), "
      "vk_text(stream_data) FROM telemetry_events WHERE prompt IS NOT NULL OR stream_data IS NOT NULL;"
      "CREATE VIRTUAL TABLE temp.check_terms USING fts5vocab(temp, 'check_fts', 'instance');"
      "CREATE VIRTUAL TABLE temp.stored_terms USING fts5vocab(main, 'telemetry_events_fts', "
      "'instance');",
      nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  // (term, event id) pairs: the same words indexed for the same events, both ways.
  EXPECT_EQ(One(h, "SELECT count(*) FROM (SELECT term, doc FROM temp.stored_terms EXCEPT "
                   "SELECT term, doc FROM temp.check_terms)"), "0");
  EXPECT_EQ(One(h, "SELECT count(*) FROM (SELECT term, doc FROM temp.check_terms EXCEPT "
                   "SELECT term, doc FROM temp.stored_terms)"), "0");
  EXPECT_EQ(One(h, "SELECT count(*) > 50 FROM telemetry_events_fts_vocab"), "1");
  EXPECT_EQ(One(h, "SELECT doc FROM telemetry_events_fts_vocab WHERE term = 'uberprufung'"), "10");
  sqlite3_close(h);
}

}  // namespace
}  // namespace vibekit::store::sqlite
