// The two stages of an export over two cores. Stage 1 is the thread that runs Store::Scan
// (SQLite stepping); it copies each row into a chunk and hands full chunks over. Stage 2 is a
// thread of this pipeline that delivers the chunks' rows, in order, to the downstream visitor
// (formatting, escaping, compressing, buffering, hashing, writing). Before delivery each event
// is prepared: its texts the store delivered in stored form (compressed; scan with
// ScanRequest::stored_texts) decoded, and, with Options::privacy, the privacy settings applied
// to it in place (the secret scan is the export's largest cost after formatting). Preparing
// moves to whichever stage has time: stage 1 prepares its events itself while every other chunk
// is queued for stage 2 (it would wait at the next hand-over anyway), otherwise it leaves them
// to stage 2. Sessions and errors (a few percent of the rows) are prepared by stage 2.
//
// Memory is bounded: at most `max_chunks` chunks of `chunk_rows` rows exist (being filled,
// queued, or being delivered), and their rows are reused (string capacity kept), so a scan of
// any length allocates almost nothing once the chunks have grown.
//
// The first error of either stage ends both: a downstream error is returned by the next
// hand-over (so the scan stops within a chunk) and by Finish(); a scan error is returned by
// Scan and the pipeline's destructor abandons the queued rows.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "vibekit/status.h"

#include "store/store.h"

namespace vibekit::internal {
class Privacy;
}

namespace vibekit::exporting {

class RowPipeline final : public store::ScanVisitor {
 public:
  struct Options {
    std::size_t chunk_rows = 256;  // rows per chunk (at least 1)
    std::size_t max_chunks = 8;    // chunks in existence (at least 2)
    // When set, every row reaches the downstream visitor as Privacy::ApplyOutgoing makes it
    // (rows it would not change untouched; events the store delivers with
    // StoredTexts::privacy_applied are not scanned again); the downstream then must not apply
    // it again. Must outlive the pipeline.
    const internal::Privacy* privacy = nullptr;
  };

  // `downstream` is called on the pipeline's thread only (OnCounts on the caller's, before any
  // row); it must outlive the pipeline.
  RowPipeline(store::ScanVisitor& downstream, Options options);
  ~RowPipeline() override;  // stops the thread; rows not yet delivered are dropped
  RowPipeline(const RowPipeline&) = delete;
  RowPipeline& operator=(const RowPipeline&) = delete;

  Status OnCounts(const store::ScanCounts& counts) override;
  Status OnSession(const Session& session) override;
  Status OnEvent(const Event& event) override;
  Status OnError(const ErrorRecord& error) override;
  Status OnStoredEvent(const Event& event, store::StoredTexts encoded) override;
  // Takes the row's contents by swapping them with a chunk slot's (no copy, no allocation).
  Status TakeStoredEvent(Event& event, store::StoredTexts encoded) override;

  // Hands over the last chunk and waits until every row was delivered. The first downstream
  // error, if any. Call once, after the scan succeeded.
  Status Finish();

  // Chunks handed to stage 2 so far (tests: a tiny chunk size really pipelines).
  std::int64_t chunks_handed_over() const { return handed_over_; }
  // Events stage 1 prepared (decoded, privacy applied) because stage 2 was behind; stage 2
  // prepared the rest.
  std::int64_t events_prepared_by_stage1() const { return stage1_prepared_events_; }

 private:
  enum class Kind : std::uint8_t { kSession, kEvent, kError };
  // Rows in arrival order. The row vectors only grow: slots past the used counts keep their
  // strings' capacity for the next use.
  struct Chunk {
    std::vector<Kind> order;
    std::vector<Session> sessions;
    std::vector<Event> events;
    std::vector<store::StoredTexts> encoded;  // per event: texts still in stored form
    std::vector<std::uint8_t> prepared;       // per event: 1 once prepared (by stage 1)
    std::vector<ErrorRecord> errors;
    std::size_t n_sessions = 0;
    std::size_t n_events = 0;
    std::size_t n_errors = 0;
    void Clear() {
      order.clear();
      n_sessions = n_events = n_errors = 0;
    }
  };

  // The next unused row of `rows` (a new one when all are used).
  template <typename Row>
  static Row& NextSlot(std::vector<Row>& rows, std::size_t& used);
  // The next event slot of the current chunk, its `encoded` flags recorded; then, once the
  // slot holds the row, EventAdded.
  Event& NextEventSlot(store::StoredTexts encoded);
  Status EventAdded(Event& slot, store::StoredTexts encoded);
  Status Added(Kind kind);      // records the row's kind; hands the chunk over when full
  Status HandOver();            // stage 1: queue current_ and take a free chunk
  void Run();                   // stage 2
  Status Deliver(Chunk& chunk);  // prepares what stage 1 did not, then delivers

  // Decodes `event`'s stored texts in place (through `buffer`, which swaps places with each, so
  // both stay allocated), then applies the privacy settings.
  Status Prepare(Event& event, const store::StoredTexts& encoded, std::string& buffer) const;
  template <typename Row>
  void ApplyPrivacy(Row& row) const;

  std::string decoded_;         // stage 2's decoding buffer
  std::string stage1_decoded_;  // stage 1's
  std::int64_t stage1_prepared_events_ = 0;  // stage 1 only
  std::atomic<std::size_t> queued_count_{0};  // queued_.size(), read by stage 1 without the lock

  store::ScanVisitor& downstream_;
  const Options options_;
  std::size_t resume_free_ = 1;     // a blocked stage 1 resumes when this many chunks are free
  std::unique_ptr<Chunk> current_;  // stage 1's chunk being filled
  std::int64_t handed_over_ = 0;    // stage 1 only

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Chunk>> queued_;  // guarded by mu_: full chunks, in order
  std::vector<std::unique_ptr<Chunk>> free_;   // guarded by mu_: delivered chunks for reuse
  bool busy_ = false;                          // guarded by mu_: stage 2 is delivering a chunk
  bool stop_ = false;                          // guarded by mu_: no more chunks will come
  Status error_;                               // guarded by mu_: stage 2's first error
  std::thread thread_;                         // started last, joined in the destructor
};

// Whether an export runs through a RowPipeline or formats on the scanning thread. kAuto: the
// pipeline whenever the machine has two or more hardware threads, whatever its load. Measured on
// the shared 2-core machine at load average 7.7-9.7 (docs/BENCHMARKS.md, Export): 10 of 11
// on/off pairs faster with it, median 1.5x the rows/s, for ~12 % more CPU.
enum class PipelineMode { kAuto, kOn, kOff };
bool UsePipeline() noexcept;
// Tests force one mode (kAuto restores the default).
void SetPipelineModeForTesting(PipelineMode mode) noexcept;

}  // namespace vibekit::exporting
