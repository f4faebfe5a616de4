// IngestPipeline: the in-memory path from an accepted event to a committed transaction.
//
//   Track* --(validated Event)--> per-session stream buffers --(batch size | interval)--+
//   start/end/error/batches ---------------------------------------------------------->+-> queue
//   queue --(writer thread: up to max_write_batch events, one transaction)--> Store::ApplyBatch
//
// Order: a session's buffer is moved into the queue before any non-stream event of that session,
// and the queue is FIFO, so events of a session commit in the order they were accepted.
// Bound: buffered + queued + in-flight events never exceed max_pending_events / bytes; a caller
// waits up to enqueue_timeout_ms for room, then gets kBusy. Failed commits are retried with
// backoff (the events stay in memory, within the bound); a batch the store rejects as invalid
// is parked in telemetry_buffers (dead letter) instead of being dropped.
// The writer thread also runs the timeout sweep and retention, so one connection does all writes.
//
// Thread-safety: all public methods may be called concurrently.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/store.h"
#include "vibekit/clock.h"
#include "vibekit/config.h"
#include "vibekit/event.h"
#include "vibekit/telemetry_service.h"

namespace vibekit::ingest {

struct PipelineCounters {
  std::int64_t total_flushes = 0;
  std::int64_t events_written = 0;
  std::int64_t failed_flushes = 0;
  std::int64_t rejected_busy = 0;
  double avg_flush_ms = 0;
  double p99_flush_ms = 0;
  std::int64_t last_flush_time = 0;
  std::int64_t active_buffers = 0;
  std::int64_t buffered_events = 0;
  std::int64_t queued_events = 0;  // queued + in flight
  std::int64_t writer_lag_ms = 0;
  // CPU time of the writer thread (commits, retention, sweeps), as of its last commit or task:
  // its rate over wall time is how busy the writer is (near 1: ingest is bound by the writer).
  double writer_cpu_seconds = 0;
  std::string last_error;  // empty when the last commit succeeded
  // How long the writer has been failing to commit because another connection holds the write
  // lock (kBusy), counted from the start of the first failed attempt; 0 when the last commit
  // attempt did not fail with kBusy.
  std::int64_t locked_for_ms = 0;
  std::int64_t last_cleanup_time = 0;
  std::int64_t last_cleanup_sessions_removed = 0;
};

class IngestPipeline {
 public:
  IngestPipeline(const LocalStoreConfig& config, store::Store& store, const Clock& clock);
  ~IngestPipeline();  // Stop(0) if still running
  IngestPipeline(const IngestPipeline&) = delete;
  IngestPipeline& operator=(const IngestPipeline&) = delete;

  // Called on the writer thread after every committed batch, outside the pipeline's lock, with
  // the batch's events (ids assigned). Must be cheap. REQUIRES: set before Start().
  void SetCommitHook(std::function<void(std::span<const Event>)> hook);
  void Start();
  // REQUIRES: the event passed validation. Stream events are buffered; others are queued after
  // their session's buffer.
  Status Submit(Event event);
  // All or nothing: waits for room for the whole batch, then moves the events out of `events`
  // (left untouched on error, so kBusy can be retried). kInvalidArgument when the batch alone
  // exceeds the bounds.
  Status SubmitBatch(std::vector<Event>& events);
  // Waits until everything accepted before the call is committed (see TelemetryService).
  Status Flush(int timeout_ms);
  // Retention on the writer thread; waits for the result.
  Result<CleanupResult> ClearOlderThan(std::int64_t cutoff_ms, int timeout_ms);
  Result<CleanupResult> EnforceSizeLimit(std::int64_t max_bytes, int timeout_ms);
  void ScheduleCleanup(std::int64_t interval_ms);
  // Flushes (up to timeout_ms), then stops the writer. Returns the flush status; events that
  // could not be committed by then are reported in the message.
  Status Stop(int timeout_ms);

  PipelineCounters Counters() const;

  // Runs `fn` (maintenance: optimize, vacuum, clear) on the writer thread between batches and
  // waits up to `timeout_ms` for it; kDeadlineExceeded then (it still runs to completion, so
  // `fn` must own what it uses).
  Status RunMaintenance(std::function<Status()> fn, int timeout_ms);

 private:
  struct Item {
    Event event;
    std::uint64_t seq = 0;
    std::int64_t accepted_ms = 0;  // steady clock, when Track* accepted it
    std::int64_t queued_ms = 0;    // steady clock, when it entered the queue
    std::int64_t bytes = 0;
  };
  struct Buffer {
    std::vector<Item> items;
    std::int64_t first_ms = 0;  // steady time the oldest buffered item was accepted
  };

  Status WaitForRoomLocked(std::unique_lock<std::mutex>& lock, std::int64_t events,
                           std::int64_t bytes);
  void EnqueueLocked(Item item);
  void MoveBufferLocked(std::unordered_map<std::string, Buffer>::iterator it);
  void MoveExpiredBuffersLocked(std::int64_t now_ms, std::int64_t* next_deadline);
  std::uint64_t MoveAllBuffersLocked();
  void WriterLoop();
  // Takes one batch off the queue and commits it (retrying); false when the queue was empty.
  bool ProcessOneBatch();
  void RecordFlush(double ms, std::int64_t events);
  Result<CleanupResult> RunOnWriter(std::function<Result<CleanupResult>()> fn, int timeout_ms);
  Result<CleanupResult> DeleteInChunks(store::DeleteSelector selector);
  Result<CleanupResult> ShrinkTo(std::int64_t max_bytes);
  void RunScheduledCleanup();

  const LocalStoreConfig config_;
  store::Store& store_;  // outlives the pipeline
  const Clock& clock_;   // outlives the pipeline

  mutable std::mutex mu_;
  std::condition_variable writer_cv_;  // wakes the writer
  std::condition_variable space_cv_;   // room in the bound
  std::condition_variable done_cv_;    // commits and failures, for Flush
  // Everything below is guarded by mu_.
  std::unordered_map<std::string, Buffer> buffers_;
  std::deque<Item> queue_;
  std::deque<std::function<void()>> tasks_;
  std::function<void(std::span<const Event>)> commit_hook_;  // set before Start()
  std::int64_t pending_events_ = 0;  // buffered + queued + in flight
  std::int64_t pending_bytes_ = 0;
  std::int64_t buffered_events_ = 0;
  std::int64_t inflight_events_ = 0;
  std::int64_t inflight_oldest_ms_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t committed_seq_ = 0;
  std::uint64_t error_generation_ = 0;
  int flush_waiters_ = 0;  // FlushBuffers calls waiting: the writer must not linger
  Status last_error_;
  bool accepting_ = false;
  bool exit_ = false;
  std::int64_t cleanup_interval_ms_ = 0;
  std::int64_t next_cleanup_ms_ = 0;
  std::int64_t next_timeout_sweep_ms_ = 0;
  PipelineCounters counters_;
  std::vector<double> flush_ms_ring_;  // last 4096 commit durations
  std::size_t ring_pos_ = 0;
  double flush_ms_sum_ = 0;
  std::int64_t lost_events_ = 0;
  std::int64_t busy_since_ms_ = 0;  // steady ms: start of the first attempt of a kBusy streak

  std::thread writer_;
};

}  // namespace vibekit::ingest
