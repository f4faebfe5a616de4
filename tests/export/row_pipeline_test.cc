// RowPipeline: the two export stages hand rows over in chunks; every row arrives once, in
// order, under any bound; the first error of either stage ends the export.
#include "export/row_pipeline.h"

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing/test_util.h"

namespace vibekit::exporting {
namespace {

// Records what it receives as "s:<id>", "e:<id>:<stream data>", "x:<id>".
class Recorder final : public store::ScanVisitor {
 public:
  Status OnCounts(const store::ScanCounts& c) override {
    counts = c;
    return Status::Ok();
  }
  Status OnSession(const Session& s) override { return Take("s:" + s.id); }
  Status OnEvent(const Event& e) override {
    return Take("e:" + std::to_string(e.id) + ":" + e.stream_data.value_or("<null>") + ":" +
                e.metadata.value_or("<null>"));
  }
  Status OnError(const ErrorRecord& r) override { return Take("x:" + std::to_string(r.id)); }

  std::vector<std::string> rows;
  store::ScanCounts counts;
  std::int64_t fail_at = -1;   // the row (0-based) whose delivery fails
  bool throw_instead = false;  // ... by throwing

 private:
  Status Take(std::string row) {
    if (static_cast<std::int64_t>(rows.size()) == fail_at) {
      if (throw_instead) throw std::runtime_error("formatter broke");
      return Status::IoError("disk gone at row " + std::to_string(fail_at));
    }
    rows.push_back(std::move(row));
    return Status::Ok();
  }
};

// Row i of a mixed scan: mostly events (with and without stream data and metadata, so reused
// slots switch between null and text), a session every 7th, an error every 13th.
Status Feed(store::ScanVisitor& v, int i, std::vector<std::string>* expected) {
  if (i % 7 == 0) {
    Session s;
    s.id = "session-" + std::to_string(i);
    if (expected) expected->push_back("s:" + s.id);
    return v.OnSession(s);
  }
  if (i % 13 == 0) {
    ErrorRecord r;
    r.id = i;
    if (expected) expected->push_back("x:" + std::to_string(i));
    return v.OnError(r);
  }
  Event e;
  e.id = i;
  if (i % 3 != 0) e.stream_data = std::string(static_cast<std::size_t>(i % 50) * 20, 'a' + i % 26);
  if (i % 5 == 0) e.metadata = "{\"n\":" + std::to_string(i) + "}";
  if (expected) {
    expected->push_back("e:" + std::to_string(i) + ":" + e.stream_data.value_or("<null>") + ":" +
                        e.metadata.value_or("<null>"));
  }
  return v.OnEvent(e);
}

TEST(RowPipeline, DeliversEveryRowOnceInOrderUnderATinyBound) {
  for (const RowPipeline::Options o : {RowPipeline::Options{1, 2}, RowPipeline::Options{3, 2},
                                       RowPipeline::Options{256, 4}, RowPipeline::Options{0, 0}}) {
    SCOPED_TRACE(std::to_string(o.chunk_rows) + " rows x " + std::to_string(o.max_chunks));
    Recorder rec;
    std::vector<std::string> expected;
    constexpr int kRows = 20000;
    {
      RowPipeline pipeline(rec, o);
      ASSERT_OK(pipeline.OnCounts({1, 2, 3}));
      for (int i = 0; i < kRows; ++i) ASSERT_OK(Feed(pipeline, i, &expected));
      ASSERT_OK(pipeline.Finish());
      // Chunks really went through the queue (the last one by Finish).
      const std::size_t rows_per_chunk = std::max<std::size_t>(o.chunk_rows, 1);
      EXPECT_EQ(pipeline.chunks_handed_over(),
                static_cast<std::int64_t>((kRows + rows_per_chunk - 1) / rows_per_chunk));
    }
    EXPECT_EQ(rec.counts.events, 2);
    ASSERT_EQ(rec.rows.size(), expected.size());
    EXPECT_EQ(rec.rows, expected);
  }
}

TEST(RowPipeline, EmptyScanDeliversNothingAndFinishes) {
  Recorder rec;
  RowPipeline pipeline(rec, {});
  ASSERT_OK(pipeline.Finish());
  EXPECT_TRUE(rec.rows.empty());
  EXPECT_EQ(pipeline.chunks_handed_over(), 0);
}

// A stage 2 failure (a write error) stops stage 1 within the bound and is what Finish returns;
// no row after the failed one is delivered.
TEST(RowPipeline, Stage2ErrorStopsTheScanAndIsReturned) {
  for (const bool throws : {false, true}) {
    SCOPED_TRACE(throws ? "exception" : "status");
    Recorder rec;
    rec.fail_at = 100;
    rec.throw_instead = throws;
    const RowPipeline::Options o{4, 3};
    RowPipeline pipeline(rec, o);
    int fed = 0;
    Status st;
    for (; fed < 100000 && st.ok(); ++fed) st = Feed(pipeline, fed, nullptr);
    ASSERT_FALSE(st.ok());
    // Stage 1 learns of the failure at a hand-over: at most the chunks in existence later.
    EXPECT_LE(fed, 100 + static_cast<int>((o.max_chunks + 1) * o.chunk_rows) + 1);
    const Status fin = pipeline.Finish();
    EXPECT_EQ(fin.code(), throws ? StatusCode::kInternal : StatusCode::kIoError);
    EXPECT_EQ(st.code(), fin.code());
    EXPECT_NE(fin.message().find(throws ? "formatter broke" : "disk gone at row 100"),
              std::string::npos)
        << fin.ToString();
    EXPECT_EQ(rec.rows.size(), 100u);
  }
}

// A stage 1 failure (the scan returns an error): the pipeline is destroyed without Finish; it
// stops promptly, and what was delivered is an in-order prefix.
TEST(RowPipeline, DestroyedMidScanStopsAndDeliversOnlyAPrefix) {
  Recorder rec;
  std::vector<std::string> expected;
  {
    RowPipeline pipeline(rec, {2, 2});
    for (int i = 0; i < 1001; ++i) ASSERT_OK(Feed(pipeline, i, &expected));
  }
  ASSERT_LE(rec.rows.size(), expected.size());
  EXPECT_TRUE(std::equal(rec.rows.begin(), rec.rows.end(), expected.begin()));
}

}  // namespace
}  // namespace vibekit::exporting
