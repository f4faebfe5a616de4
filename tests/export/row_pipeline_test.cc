// RowPipeline: the two export stages hand rows over in chunks; every row arrives once, in
// order, under any bound; the first error of either stage ends the export.
#include "export/row_pipeline.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/privacy.h"
#include "store/sqlite/text_codec.h"
#include "testing/test_util.h"
#include "vibekit/config.h"

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
  bool gated = false;          // the first row waits for Release()

  void WaitUntilEntered() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return entered_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  Status Take(std::string row) {
    if (gated) {
      std::unique_lock lock(mu_);
      entered_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return released_; });
    }
    if (static_cast<std::int64_t>(rows.size()) == fail_at) {
      if (throw_instead) throw std::runtime_error("formatter broke");
      return Status::IoError("disk gone at row " + std::to_string(fail_at));
    }
    rows.push_back(std::move(row));
    return Status::Ok();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool released_ = false;
};

// Code-like text of `n` lines: stored compressed by the SQLite store.
std::string LongText(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "  line " + std::to_string(i) + ": const x = await f(y);\n";
  return s;
}

// An event delivered as the store does with ScanRequest::stored_texts.
Status FeedStored(store::ScanVisitor& v, int i, std::vector<std::string>* expected) {
  Event e;
  e.id = i;
  e.stream_data = LongText(20 + i % 40);
  e.metadata = "{}";
  expected->push_back("e:" + std::to_string(i) + ":" + *e.stream_data + ":{}");
  std::string stored;
  EXPECT_TRUE(store::sqlite::EncodeText(*e.stream_data, 512, &stored));
  e.stream_data = stored;
  return v.OnStoredEvent(e, {false, true});
}

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

// Stored texts are decoded by stage 2, or by stage 1 when stage 2 is behind (every other chunk
// queued); either way each row arrives decoded, once, in order.
TEST(RowPipeline, StoredTextsAreDecodedByWhicheverStageHasTime) {
  Recorder rec;
  rec.gated = true;  // stage 2 stops inside the first row until released
  std::vector<std::string> expected;
  RowPipeline pipeline(rec, {2, 3});
  ASSERT_OK(FeedStored(pipeline, 0, &expected));
  ASSERT_OK(FeedStored(pipeline, 1, &expected));  // chunk A handed over
  rec.WaitUntilEntered();                          // stage 2 holds A
  ASSERT_OK(FeedStored(pipeline, 2, &expected));
  EXPECT_EQ(pipeline.events_prepared_by_stage1(), 0);  // stage 2 was not behind yet
  ASSERT_OK(FeedStored(pipeline, 3, &expected));      // chunk B queued; C is the last free one
  ASSERT_OK(FeedStored(pipeline, 4, &expected));
  EXPECT_EQ(pipeline.events_prepared_by_stage1(), 1);  // B waits for stage 2: stage 1 decoded it
  rec.Release();
  for (int i = 5; i < 3000; ++i) ASSERT_OK(FeedStored(pipeline, i, &expected));
  ASSERT_OK(pipeline.Finish());
  EXPECT_EQ(rec.rows, expected);
}

// With Options::privacy every row arrives as ApplyOutgoing makes it, whichever stage prepared
// it: events with stored (compressed) and plain texts, sessions and errors; rows without
// anything to change arrive as they were.
TEST(RowPipeline, PrivacyIsAppliedToEveryRowByWhicheverStagePreparesIt) {
  TelemetryConfig config;
  config.privacy.redact_patterns = {"ACME-[0-9]{6}"};
  auto privacy = internal::Privacy::Create(config);
  ASSERT_TRUE(privacy.ok()) << privacy.status().ToString();
  Recorder rec;
  rec.gated = true;
  std::vector<std::string> expected;
  RowPipeline::Options options{2, 3};
  options.privacy = privacy->get();
  {
    RowPipeline pipeline(rec, options);
    for (int i = 0; i < 400; ++i) {
      if (i == 2) rec.WaitUntilEntered();  // stage 2 holds the first chunk: stage 1 falls behind
      if (i == 5) rec.Release();  // before the hand-over that would wait for a free chunk
      Event e;
      e.id = i;
      const bool secret = i % 2 == 0;
      const std::string text = LongText(20 + i % 7) + (secret ? "ticket ACME-123456 done" : "");
      e.metadata = secret ? R"({"ref":"ACME-654321"})" : "{}";
      const std::string out_text =
          LongText(20 + i % 7) + (secret ? "ticket [REDACTED:custom] done" : "");
      const std::string out_meta = secret ? R"({"ref":"[REDACTED:custom]"})" : "{}";
      expected.push_back("e:" + std::to_string(i) + ":" + out_text + ":" + out_meta);
      if (i % 3 == 0) {  // stored form: decoded first, then redacted
        std::string stored;
        ASSERT_TRUE(store::sqlite::EncodeText(text, 512, &stored));
        e.stream_data = stored;
        ASSERT_OK(pipeline.OnStoredEvent(e, {false, true}));
      } else {
        e.stream_data = text;
        ASSERT_OK(pipeline.OnEvent(e));
      }
    }
    EXPECT_GT(pipeline.events_prepared_by_stage1(), 0);
    EXPECT_LT(pipeline.events_prepared_by_stage1(), 400);
    ASSERT_OK(pipeline.Finish());
  }
  EXPECT_EQ(rec.rows, expected);

  // Sessions and errors (prepared by stage 2).
  class Texts final : public store::ScanVisitor {
   public:
    Status OnCounts(const store::ScanCounts&) override { return Status::Ok(); }
    Status OnSession(const Session& s) override {
      rows.push_back(s.repo_url.value_or("") + "|" + s.metadata.value_or(""));
      return Status::Ok();
    }
    Status OnEvent(const Event&) override { return Status::Ok(); }
    Status OnError(const ErrorRecord& r) override {
      rows.push_back(r.error_message + "|" + r.error_stack.value_or(""));
      return Status::Ok();
    }
    std::vector<std::string> rows;
  } texts;
  {
    RowPipeline pipeline(texts, options);
    Session s;
    s.id = "s";
    s.repo_url = "https://example.com/ACME-111111";
    s.metadata = R"({"a":"b"})";
    ASSERT_OK(pipeline.OnSession(s));
    ErrorRecord r;
    r.error_message = "failed on ACME-222222";
    r.error_stack = "at f (x.js:1)";
    ASSERT_OK(pipeline.OnError(r));
    ASSERT_OK(pipeline.Finish());
  }
  EXPECT_EQ(texts.rows, (std::vector<std::string>{
                            R"(https://example.com/[REDACTED:custom]|{"a":"b"})",
                            "failed on [REDACTED:custom]|at f (x.js:1)"}));
}

// TakeStoredEvent swaps the row into a chunk slot: the caller reads its next row into what it
// gets back (as the stores do), and every row still arrives once, in order, whole.
TEST(RowPipeline, TakenEventsArriveWhileTheCallerReusesItsEvent) {
  for (const RowPipeline::Options o : {RowPipeline::Options{3, 2}, RowPipeline::Options{}}) {
    Recorder rec;
    std::vector<std::string> expected;
    {
      RowPipeline pipeline(rec, o);
      Event scratch;  // one event for every row, like a store's scan
      for (int i = 0; i < 5000; ++i) {
        scratch.id = i;
        if (i % 4 == 0) {
          scratch.stream_data.reset();
        } else {
          scratch.stream_data = std::string(static_cast<std::size_t>(i % 97), 'a' + i % 26);
        }
        scratch.metadata = i % 3 == 0 ? std::optional<std::string>() : "{\"i\":" + std::to_string(i) + "}";
        expected.push_back("e:" + std::to_string(i) + ":" + scratch.stream_data.value_or("<null>") +
                           ":" + scratch.metadata.value_or("<null>"));
        ASSERT_OK(pipeline.TakeStoredEvent(scratch, {}));
      }
      ASSERT_OK(pipeline.Finish());
    }
    EXPECT_EQ(rec.rows, expected);
  }
}

// A stored text that does not decode fails the export whichever stage decodes it.
TEST(RowPipeline, UndecodableStoredTextIsCorruption) {
  for (const std::size_t chunks : {2u, 64u}) {
    Recorder rec;
    RowPipeline pipeline(rec, {1, chunks});
    Event e;
    e.stream_data = std::string("\x01not zstd", 10);
    Status st;
    for (int i = 0; i < 200 && st.ok(); ++i) st = pipeline.OnStoredEvent(e, {false, true});
    if (st.ok()) st = pipeline.Finish();
    EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
    EXPECT_TRUE(rec.rows.empty());
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

// The choice depends on the machine only, not on its load: the same export behaves the same
// however busy the machine is. Forced modes win over it.
TEST(RowPipeline, AutoModeUsesThePipelineOnTwoOrMoreHardwareThreads) {
  SetPipelineModeForTesting(PipelineMode::kAuto);
  EXPECT_EQ(UsePipeline(), std::thread::hardware_concurrency() >= 2);
  SetPipelineModeForTesting(PipelineMode::kOff);
  EXPECT_FALSE(UsePipeline());
  SetPipelineModeForTesting(PipelineMode::kOn);
  EXPECT_TRUE(UsePipeline());
  SetPipelineModeForTesting(PipelineMode::kAuto);
}

}  // namespace
}  // namespace vibekit::exporting
