// The `contains` text filter: FTS5 candidates, exact case-insensitive check.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"

namespace vibekit {
namespace {

using testing::TempDir;
using testing::TestConfig;

class SearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ = std::make_unique<TelemetryService>(TestConfig(dir_.File("s.db")));
    ASSERT_OK(service_->Initialize());
    TrackStartParams p{"s1", "claude"};
    p.prompt = "Please fix the flaky useEffect hook in Dashboard.tsx";
    p.timestamp = 100;
    ASSERT_OK(service_->TrackStart(p));
    Add("s1", "Error: connect ECONNREFUSED 127.0.0.1:5432 (Connection refused)", 110);
    Add("s1", "All 42 tests passed; the naïve retry loop is gone", 120);
    Add("s2", "Refactoring the connection pool; no errors here", 130, "codex");
    Add("s2", "{\"tool\":\"bash\",\"input\":{\"command\":\"npm test\"}}", 140, "codex");
    ASSERT_OK(service_->FlushBuffers());
  }
  void Add(const std::string& sid, const std::string& text, std::int64_t ts,
           const std::string& agent = "claude") {
    TrackStreamParams p{sid, agent};
    p.stream_data = text;
    p.timestamp = ts;
    ASSERT_OK(service_->TrackStream(p));
  }
  std::vector<std::int64_t> Find(const std::string& text, std::optional<std::string> agent = {}) {
    EventQueryFilter f;
    f.contains = text;
    f.agent_type = std::move(agent);
    auto r = service_->QueryEvents(f);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::int64_t> ts;
    if (r.ok()) {
      for (const auto& e : *r) ts.push_back(e.timestamp);
    }
    return ts;
  }
  TempDir dir_;
  std::unique_ptr<TelemetryService> service_;
};

TEST_F(SearchTest, FindsWordsCaseInsensitivelyInStreamAndPrompt) {
  EXPECT_EQ(Find("econnrefused"), (std::vector<std::int64_t>{110}));
  EXPECT_EQ(Find("useEffect"), (std::vector<std::int64_t>{100}));
  EXPECT_EQ(Find("CONNECTION"), (std::vector<std::int64_t>{110, 130}));
}

TEST_F(SearchTest, MatchesPhrasesAndWordPrefixesExactly) {
  EXPECT_EQ(Find("connection refused"), (std::vector<std::int64_t>{110}));
  EXPECT_EQ(Find("(connection refused)"), (std::vector<std::int64_t>{110}));
  EXPECT_EQ(Find("Connection ref"), (std::vector<std::int64_t>{110}));
  EXPECT_EQ(Find("conn"), (std::vector<std::int64_t>{110, 130}));
  EXPECT_EQ(Find("npm test"), (std::vector<std::int64_t>{140}));
  EXPECT_EQ(Find("test npm"), (std::vector<std::int64_t>{}));  // words in order only
  EXPECT_EQ(Find("nnection"), (std::vector<std::int64_t>{}));  // anchored at word starts
  EXPECT_EQ(Find("kubernetes"), (std::vector<std::int64_t>{}));
}

TEST_F(SearchTest, CombinesWithOtherFiltersAndHandlesOddQueries) {
  EXPECT_EQ(Find("conn", "codex"), (std::vector<std::int64_t>{130}));
  EXPECT_EQ(Find("naïve"), (std::vector<std::int64_t>{120}));
  EXPECT_EQ(Find("\":{\""), (std::vector<std::int64_t>{140}));  // punctuation only: exact scan
  EXPECT_EQ(Find("\"quoted* OR NEAR("), (std::vector<std::int64_t>{}));  // no FTS syntax leaks
}

}  // namespace
}  // namespace vibekit

namespace vibekit {
namespace {

// Thousands of matches, timestamps deliberately out of id order: the windowed plan must return
// exactly what a brute-force sort of all matches returns.
TEST(SearchManyMatches, WindowedPlanIsExactWhenTimestampsDisagreeWithIds) {
  testing::TempDir dir;
  TelemetryService s(testing::TestConfig(dir.File("many.db")));
  ASSERT_OK(s.Initialize());
  std::uint64_t x = 12345;
  auto next = [&x] {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x;
  };
  std::vector<Event> batch;
  for (int i = 0; i < 12000; ++i) {
    Event e;
    e.session_id = "w" + std::to_string(i % 37);
    e.agent_type = i % 3 == 0 ? "codex" : "claude";
    e.event_type = EventType::kStream;
    const bool match = next() % 4 == 0;
    e.stream_data = std::string(match ? "found the Needle here " : "plain hay ") + std::to_string(i);
    // Mostly increasing with ids, with early rows carrying the newest timestamps.
    e.timestamp = i < 40 ? 9000000 + i : 1000000 + i * 10 + static_cast<std::int64_t>(next() % 50);
    batch.push_back(std::move(e));
    if (batch.size() == 1000) {
      ASSERT_OK(s.InsertEventBatch(batch));
      batch.clear();
    }
  }
  ASSERT_OK(s.FlushBuffers());
  EventQueryFilter all;
  all.limit = 100000;
  auto everything = s.QueryEvents(all);
  ASSERT_TRUE(everything.ok());
  for (const SortOrder order : {SortOrder::kDesc, SortOrder::kAsc}) {
    for (const std::optional<std::string>& agent : {std::optional<std::string>(), std::optional<std::string>("codex")}) {
      std::vector<const Event*> expected;
      for (const Event& e : *everything) {
        if (e.stream_data->find("Needle") != std::string::npos && (!agent || e.agent_type == *agent)) {
          expected.push_back(&e);
        }
      }
      ASSERT_GT(expected.size(), 1000u);
      std::sort(expected.begin(), expected.end(), [order](const Event* a, const Event* b) {
        if (a->timestamp != b->timestamp) {
          return order == SortOrder::kDesc ? a->timestamp > b->timestamp : a->timestamp < b->timestamp;
        }
        return order == SortOrder::kDesc ? a->id > b->id : a->id < b->id;
      });
      EventQueryFilter f;
      f.contains = "needle";
      f.agent_type = agent;
      f.order = order;
      f.limit = 50;
      f.offset = 20;
      auto got = s.QueryEvents(f);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(got->size(), 50u);
      for (std::size_t i = 0; i < 50; ++i) {
        EXPECT_EQ((*got)[i].id, expected[20 + i]->id) << "position " << i;
      }
    }
  }
}

}  // namespace
}  // namespace vibekit

namespace vibekit {
namespace {

TEST(SearchPrefix, ShortPrefixWithManyWordsFallsBackToFtsExpansion) {
  testing::TempDir dir;
  TelemetryService s(testing::TestConfig(dir.File("p.db")));
  ASSERT_OK(s.Initialize());
  std::vector<Event> batch;
  for (int i = 0; i < 90; ++i) {
    Event e;
    e.session_id = "p";
    e.agent_type = "claude";
    e.event_type = EventType::kStream;
    e.stream_data = "token zq" + std::to_string(i * 7) + "x end";  // 90 distinct words
    e.timestamp = 100 + i;
    batch.push_back(e);
  }
  ASSERT_OK(s.InsertEventBatch(batch));
  ASSERT_OK(s.FlushBuffers());
  EventQueryFilter f;
  f.contains = "zq";
  f.limit = 1000;
  auto r = s.QueryEvents(f);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 90u);
  f.contains = "token zq1";  // zq14x, zq119x, ... : an expansion of a few words after a whole word
  r = s.QueryEvents(f);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::size_t expected = 0;
  for (const Event& e : batch) expected += e.stream_data->find("token zq1") != std::string::npos;
  EXPECT_EQ(r->size(), expected);
  f.contains = "absentword zq";
  r = s.QueryEvents(f);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

}  // namespace
}  // namespace vibekit
