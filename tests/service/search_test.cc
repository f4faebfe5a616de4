// The `contains` text filter: FTS5 candidates, exact case-insensitive check.
#include <gtest/gtest.h>

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
