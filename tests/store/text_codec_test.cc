#include "store/sqlite/text_codec.h"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace vibekit::store::sqlite
