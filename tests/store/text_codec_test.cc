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
  // The store writes LZ4: the format byte, the decoded length (4 bytes, little-endian), the block.
  ASSERT_GT(packed.size(), 5u);
  EXPECT_EQ(static_cast<unsigned char>(packed[0]), kLz4V1);
  EXPECT_EQ(static_cast<std::size_t>(static_cast<unsigned char>(packed[1])) |
                static_cast<std::size_t>(static_cast<unsigned char>(packed[2])) << 8,
            text.size());
  EXPECT_EQ(packed[3], 0);
  EXPECT_EQ(packed[4], 0);
  EXPECT_LT(packed.size() * 2, text.size());
  auto back = DecodeText(packed.data(), packed.size());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, text);
  // zstd, what earlier builds stored, still decodes (and can still be written for measurements).
  std::string zstd;
  ASSERT_TRUE(EncodeText(text, 512, &zstd, TextCodec::kZstd));
  EXPECT_EQ(static_cast<unsigned char>(zstd[0]), kZstdV1);
  auto from_zstd = DecodeText(zstd.data(), zstd.size());
  ASSERT_TRUE(from_zstd.ok());
  EXPECT_EQ(*from_zstd, text);
  // DecodeTextInto reuses its buffer across both forms and sizes.
  std::string buffer = "previous content that is longer than nothing";
  ASSERT_OK(DecodeTextInto(packed.data(), packed.size(), &buffer));
  EXPECT_EQ(buffer, text);
  ASSERT_OK(DecodeTextInto(zstd.data(), zstd.size(), &buffer));
  EXPECT_EQ(buffer, text);
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
  EXPECT_FALSE(EncodeText(noise, 512, &packed, TextCodec::kZstd));
  EXPECT_EQ(packed, "untouched");
}

TEST(TextCodec, CorruptBlobIsCorruptionNotACrash) {
  const unsigned char bad[] = {kZstdV1, 0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x01};
  EXPECT_EQ(DecodeText(bad, sizeof bad).status().code(), StatusCode::kCorruption);
  const unsigned char other[] = {0x7F, 0x00, 0x01};
  EXPECT_EQ(DecodeText(other, sizeof other).status().code(), StatusCode::kCorruption);
  // LZ4: a header cut short, a length the block does not decode to, a damaged or truncated
  // block, an absurd length. Every one is kCorruption, none reads or writes out of bounds (the
  // ASan build runs this).
  const unsigned char short_header[] = {kLz4V1, 0x10, 0x00};
  EXPECT_EQ(DecodeText(short_header, sizeof short_header).status().code(), StatusCode::kCorruption);
  const std::string text = CodeChunk(30);
  std::string packed;
  ASSERT_TRUE(EncodeText(text, 512, &packed));
  std::string wrong_length = packed;
  wrong_length[1] = static_cast<char>(static_cast<unsigned char>(wrong_length[1]) + 1);
  EXPECT_EQ(DecodeText(wrong_length.data(), wrong_length.size()).status().code(),
            StatusCode::kCorruption);
  std::string truncated = packed.substr(0, packed.size() / 2);
  EXPECT_EQ(DecodeText(truncated.data(), truncated.size()).status().code(),
            StatusCode::kCorruption);
  std::string huge = packed;
  huge[4] = static_cast<char>(0x7F);  // ~2 GiB
  EXPECT_EQ(DecodeText(huge.data(), huge.size()).status().code(), StatusCode::kCorruption);
  std::string large = packed;  // 16 MiB from a block of a few hundred bytes: more than LZ4 can
  large[3] = static_cast<char>(0x00);
  large[4] = static_cast<char>(0x01);
  auto refused = DecodeText(large.data(), large.size());
  // ... while the most compressible text there is (1 MiB of one letter, LZ4's best ratio, near
  // 255x) still decodes.
  const std::string same(1 << 20, 'a');
  std::string dense;
  ASSERT_TRUE(EncodeText(same, 512, &dense));
  EXPECT_GT(same.size() / dense.size(), 200u);
  auto back = DecodeText(dense.data(), dense.size());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, same);
  EXPECT_EQ(refused.status().code(), StatusCode::kCorruption);
  EXPECT_NE(refused.status().message().find("impossible length"), std::string::npos);
  // Every single-byte change of the block either decodes to something of the right length or is
  // kCorruption: never a crash.
  for (std::size_t i = 1 + kLz4HeaderBytes; i < packed.size(); ++i) {
    std::string damaged = packed;
    damaged[i] = static_cast<char>(static_cast<unsigned char>(damaged[i]) ^ 0xA5);
    auto r = DecodeText(damaged.data(), damaged.size());
    if (r.ok()) {
      EXPECT_EQ(r->size(), text.size());
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    }
  }
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
  // The text index (its own file) forgot the deleted rows.
  EXPECT_EQ(QueryInt(db + "-text", "SELECT count(*) FROM telemetry_events_fts WHERE telemetry_events_fts MATCH 'fetchsession'"), 0);
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

// A database written by an earlier build holds zstd texts; one written since, LZ4. Both live in
// one file after an upgrade: reads, search, the text index's delete trigger and vk_text all
// take either.
TEST(TextCodec, ZstdRowsOfEarlierBuildsAndLz4RowsLiveTogether) {
  TempDir dir;
  const std::string db = dir.File("mixed.db");
  const std::string big = CodeChunk(50);
  {
    TelemetryService s(TestConfig(db));
    ASSERT_OK(s.Initialize());
    for (int i = 0; i < 4; ++i) {
      TrackStreamParams p{"m", "claude"};
      p.stream_data = big + " part" + std::to_string(i);
      p.timestamp = 10 + i;
      ASSERT_OK(s.TrackStream(p));
    }
    ASSERT_OK(s.Shutdown());
  }
  // Rewrite two of the stored texts as an earlier build would have stored them (zstd), without
  // touching the text index (the trigger would re-index the same text anyway).
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    ASSERT_OK(RegisterTextFunctions(h));  // the text index's update trigger decodes
    for (int i : {0, 2}) {
      std::string z;
      ASSERT_TRUE(EncodeText(big + " part" + std::to_string(i), 512, &z, TextCodec::kZstd));
      sqlite3_stmt* st = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(h,
                    "UPDATE telemetry_events SET stream_data = ?1 WHERE timestamp = ?2", -1, &st,
                    nullptr),
                SQLITE_OK);
      sqlite3_bind_blob(st, 1, z.data(), static_cast<int>(z.size()), SQLITE_TRANSIENT);
      sqlite3_bind_int(st, 2, 10 + i);
      ASSERT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(h);
      sqlite3_finalize(st);
    }
    EXPECT_EQ(One(h, "SELECT group_concat(hex(substr(stream_data, 1, 1)), ',') FROM "
                     "(SELECT stream_data FROM telemetry_events ORDER BY timestamp)"),
              "01,02,01,02");
    sqlite3_close(h);
  }
  TelemetryService s(TestConfig(db));
  ASSERT_OK(s.Initialize());
  EventQueryFilter f;
  f.session_id = "m";
  auto events = s.QueryEvents(f);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 4u);
  for (const Event& e : *events) {
    EXPECT_EQ(*e.stream_data, big + " part" + std::to_string(e.timestamp - 10));
  }
  f = {};
  f.contains = "part2";
  auto hits = s.QueryEvents(f);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ(hits->front().timestamp, 12);
  // Deleting both kinds keeps the text index exact (the change log keeps the old stored texts,
  // which the indexer decodes).
  auto cleared = s.ClearOldData(0);
  ASSERT_TRUE(cleared.ok()) << cleared.status().ToString();
  EXPECT_EQ(*cleared, 1);  // the one session, with its four events
  ASSERT_OK(s.Shutdown());
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), 0);
  EXPECT_EQ(QueryInt(db + "-text", "SELECT count(*) FROM telemetry_events_fts WHERE "
                                  "telemetry_events_fts MATCH 'fetchsession'"), 0);
}

TEST(TextCodec, TextIndexInItsOwnFileEqualsTheIndexOfTheStoredText) {
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
  ASSERT_EQ(sqlite3_exec(h, ("ATTACH DATABASE '" + db + "-text' AS txt").c_str(), nullptr, nullptr,
                         &err), SQLITE_OK) << (err ? err : "");
  ASSERT_EQ(sqlite3_exec(h,
      "CREATE VIRTUAL TABLE temp.check_fts USING fts5(prompt, stream_data, detail=none, columnsize=0, "
      "tokenize='unicode61 remove_diacritics 2');"
      "INSERT INTO check_fts (rowid, prompt, stream_data) SELECT id, vk_text(prompt), "
      "vk_text(stream_data) FROM telemetry_events WHERE prompt IS NOT NULL OR stream_data IS NOT NULL;"
      "CREATE VIRTUAL TABLE temp.check_terms USING fts5vocab(temp, 'check_fts', 'instance');"
      "CREATE VIRTUAL TABLE temp.stored_terms USING fts5vocab(txt, 'telemetry_events_fts', "
      "'instance');",
      nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  // (term, event id) pairs: the same words indexed for the same events, both ways.
  EXPECT_EQ(One(h, "SELECT count(*) FROM (SELECT term, doc FROM temp.stored_terms EXCEPT "
                   "SELECT term, doc FROM temp.check_terms)"), "0");
  EXPECT_EQ(One(h, "SELECT count(*) FROM (SELECT term, doc FROM temp.check_terms EXCEPT "
                   "SELECT term, doc FROM temp.stored_terms)"), "0");
  EXPECT_EQ(One(h, "SELECT count(*) > 50 FROM txt.telemetry_events_fts_vocab"), "1");
  EXPECT_EQ(One(h, "SELECT doc FROM txt.telemetry_events_fts_vocab WHERE term = 'uberprufung'"),
            "10");
  sqlite3_close(h);
}

}  // namespace
}  // namespace vibekit::store::sqlite
