#include "ingest/pipeline.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <utility>

#include "common/log.h"
#include "common/steady_ms.h"
#include "common/sys.h"
#include "ingest/validation.h"

namespace vibekit::ingest {
namespace {

constexpr std::size_t kFlushRing = 4096;
constexpr std::int64_t kRetentionChunk = 500;

using internal::AtSteadyMs;
using internal::SteadyMs;

}  // namespace

IngestPipeline::IngestPipeline(const LocalStoreConfig& config, store::Store& store,
                               const Clock& clock)
    : config_(config), store_(store), clock_(clock) {
  flush_ms_ring_.reserve(kFlushRing);
}

IngestPipeline::~IngestPipeline() {
  if (writer_.joinable()) (void)Stop(0);
}

void IngestPipeline::SetCommitHook(std::function<void(std::span<const Event>)> hook) {
  commit_hook_ = std::move(hook);
}

void IngestPipeline::Start() {
  std::lock_guard lock(mu_);
  if (writer_.joinable()) return;
  accepting_ = true;
  exit_ = false;
  next_timeout_sweep_ms_ = SteadyMs() + std::max(1, config_.timeout_check_interval_ms);
  writer_ = std::thread([this] {
    internal::NameThisThread("vk-writer");
    WriterLoop();
  });
}

Status IngestPipeline::WaitForRoomLocked(std::unique_lock<std::mutex>& lock, std::int64_t events,
                                         std::int64_t bytes) {
  if (events > config_.max_pending_events || bytes > config_.max_pending_bytes) {
    return Status::InvalidArgument(
        "batch of " + std::to_string(events) + " events / " + std::to_string(bytes) +
        " bytes exceeds the ingest bound (max_pending_events " +
        std::to_string(config_.max_pending_events) + ", max_pending_bytes " +
        std::to_string(config_.max_pending_bytes) + "); split it");
  }
  auto room = [&] {
    return !accepting_ || (pending_events_ + events <= config_.max_pending_events &&
                           pending_bytes_ + bytes <= config_.max_pending_bytes);
  };
  if (!room()) {
    writer_cv_.notify_one();
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(std::max(0, config_.enqueue_timeout_ms));
    if (!space_cv_.wait_until(lock, deadline, room)) {
      ++counters_.rejected_busy;
      std::string msg = "ingest queue full (" + std::to_string(pending_events_) + " events, " +
                        std::to_string(pending_bytes_) + " bytes pending)";
      if (!last_error_.ok()) msg += "; last write error: " + last_error_.ToString();
      return Status::Busy(std::move(msg));
    }
  }
  if (!accepting_) return Status::FailedPrecondition("telemetry service is shut down");
  pending_events_ += events;
  pending_bytes_ += bytes;
  return Status::Ok();
}

void IngestPipeline::EnqueueLocked(Item item) {
  item.seq = next_seq_++;
  item.queued_ms = SteadyMs();
  queue_.push_back(std::move(item));
}

void IngestPipeline::MoveBufferLocked(std::unordered_map<std::string, Buffer>::iterator it) {
  buffered_events_ -= static_cast<std::int64_t>(it->second.items.size());
  for (Item& item : it->second.items) EnqueueLocked(std::move(item));
  buffers_.erase(it);
}

void IngestPipeline::MoveExpiredBuffersLocked(std::int64_t now_ms, std::int64_t* next_deadline) {
  for (auto it = buffers_.begin(); it != buffers_.end();) {
    const std::int64_t due = it->second.first_ms + config_.stream_flush_interval_ms;
    if (due <= now_ms) {
      auto victim = it++;
      MoveBufferLocked(victim);
    } else {
      *next_deadline = std::min(*next_deadline, due);
      ++it;
    }
  }
}

std::uint64_t IngestPipeline::MoveAllBuffersLocked() {
  while (!buffers_.empty()) MoveBufferLocked(buffers_.begin());
  return next_seq_ - 1;
}

Status IngestPipeline::Submit(Event event) {
  Item item;
  item.bytes = EventBytes(event);
  item.accepted_ms = SteadyMs();
  item.event = std::move(event);
  std::unique_lock lock(mu_);
  if (!accepting_) return Status::FailedPrecondition("telemetry service is shut down");
  VK_RETURN_IF_ERROR(WaitForRoomLocked(lock, 1, item.bytes));
  auto it = buffers_.find(item.event.session_id);
  if (item.event.event_type == EventType::kStream) {
    if (it == buffers_.end()) {
      it = buffers_.try_emplace(item.event.session_id).first;
      it->second.first_ms = item.accepted_ms;
      it->second.items.reserve(static_cast<std::size_t>(std::min(config_.stream_batch_size, 1024)));
    }
    it->second.items.push_back(std::move(item));
    ++buffered_events_;
    if (static_cast<int>(it->second.items.size()) >= config_.stream_batch_size) {
      MoveBufferLocked(it);
      writer_cv_.notify_one();
    } else if (it->second.items.size() == 1) {
      writer_cv_.notify_one();  // the writer must learn the new deadline
    }
    return Status::Ok();
  }
  if (it != buffers_.end()) MoveBufferLocked(it);
  EnqueueLocked(std::move(item));
  writer_cv_.notify_one();
  return Status::Ok();
}

Status IngestPipeline::SubmitBatch(std::vector<Event>& events) {
  if (events.empty()) return Status::Ok();
  std::vector<std::int64_t> sizes(events.size());
  std::int64_t bytes = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    sizes[i] = EventBytes(events[i]);
    bytes += sizes[i];
  }
  const std::int64_t now = SteadyMs();
  std::unique_lock lock(mu_);
  if (!accepting_) return Status::FailedPrecondition("telemetry service is shut down");
  VK_RETURN_IF_ERROR(WaitForRoomLocked(lock, static_cast<std::int64_t>(events.size()), bytes));
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!buffers_.empty()) {
      auto it = buffers_.find(events[i].session_id);
      if (it != buffers_.end()) MoveBufferLocked(it);
    }
    Item item;
    item.event = std::move(events[i]);
    item.accepted_ms = now;
    item.bytes = sizes[i];
    EnqueueLocked(std::move(item));
  }
  events.clear();
  writer_cv_.notify_one();
  return Status::Ok();
}

Status IngestPipeline::Flush(int timeout_ms) {
  std::unique_lock lock(mu_);
  const std::uint64_t target = MoveAllBuffersLocked();
  const std::uint64_t generation = error_generation_;
  writer_cv_.notify_one();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(0, timeout_ms));
  // A lock held by someone else may clear up: keep waiting on kBusy. Other failures (disk full,
  // read-only, I/O) are reported at once; the events stay queued and are retried.
  auto done = [&] {
    return committed_seq_ >= target ||
           (error_generation_ != generation && last_error_.code() != StatusCode::kBusy) ||
           (exit_ && !writer_.joinable());
  };
  space_cv_.notify_all();
  ++flush_waiters_;
  const bool finished = done_cv_.wait_until(lock, deadline, done);
  --flush_waiters_;
  if (!finished) {
    std::string msg = "flush did not complete within " + std::to_string(timeout_ms) + " ms";
    if (!last_error_.ok()) msg += " (last write error: " + last_error_.ToString() + ")";
    return Status::DeadlineExceeded(std::move(msg));
  }
  if (committed_seq_ >= target) return Status::Ok();
  if (!last_error_.ok()) return last_error_;
  return Status::FailedPrecondition("telemetry writer has stopped");
}

void IngestPipeline::RecordFlush(double ms, std::int64_t events) {
  // REQUIRES: mu_ held.
  ++counters_.total_flushes;
  counters_.events_written += events;
  counters_.last_flush_time = clock_.NowMs();
  counters_.writer_cpu_seconds = internal::ThreadCpuSeconds();
  if (flush_ms_ring_.size() < kFlushRing) {
    flush_ms_ring_.push_back(ms);
  } else {
    flush_ms_ring_[ring_pos_] = ms;
    ring_pos_ = (ring_pos_ + 1) % kFlushRing;
  }
  flush_ms_sum_ += ms;
}

bool IngestPipeline::ProcessOneBatch() {
  std::vector<Event> events;
  std::uint64_t last_seq = 0;
  std::int64_t bytes = 0;
  {
    std::lock_guard lock(mu_);
    if (queue_.empty()) return false;
    const std::size_t n =
        std::min(queue_.size(), static_cast<std::size_t>(std::max(1, config_.max_write_batch)));
    events.reserve(n);
    inflight_oldest_ms_ = queue_.front().accepted_ms;
    for (std::size_t i = 0; i < n; ++i) {
      Item& item = queue_.front();
      last_seq = item.seq;
      bytes += item.bytes;
      events.push_back(std::move(item.event));
      queue_.pop_front();
    }
    inflight_events_ = static_cast<std::int64_t>(n);
  }
  const auto n = static_cast<std::int64_t>(events.size());
  int attempt = 0;
  while (true) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::int64_t attempt_start_ms = SteadyMs();
    Status st = store_.ApplyBatch(events, clock_.NowMs());
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    bool parked = false;
    if (!st.ok() && st.code() == StatusCode::kInvalidArgument) {
      // The store refused the content (a constraint validation did not foresee). Retrying cannot
      // help; keep the events where an operator can see and replay them.
      Status dl = store_.RecordDeadLetter(events, st, clock_.NowMs());
      if (dl.ok()) {
        parked = true;
        internal::LogError("batch of " + std::to_string(n) +
                           " events parked in telemetry_buffers: " + st.ToString());
      } else {
        st = dl;
      }
    }
    std::unique_lock lock(mu_);
    if (st.code() == StatusCode::kBusy) {
      if (busy_since_ms_ == 0) busy_since_ms_ = attempt_start_ms;
    } else {
      busy_since_ms_ = 0;
    }
    if (st.ok() || parked) {
      committed_seq_ = last_seq;
      pending_events_ -= n;
      pending_bytes_ -= bytes;
      inflight_events_ = 0;
      if (st.ok()) {
        RecordFlush(ms, n);
        last_error_ = Status::Ok();
      } else {
        last_error_ = st;
        ++error_generation_;
      }
      space_cv_.notify_all();
      done_cv_.notify_all();
      if (st.ok() && commit_hook_) {
        lock.unlock();
        const auto [first, last] = store_.LastBatchIds();
        if (first > 0 && last - first + 1 == n) {
          for (std::int64_t i = 0; i < n; ++i) events[static_cast<std::size_t>(i)].id = first + i;
        }
        commit_hook_(events);
      }
      return true;
    }
    ++counters_.failed_flushes;
    last_error_ = st;
    ++error_generation_;
    done_cv_.notify_all();
    if (exit_) {
      lost_events_ += n;
      pending_events_ -= n;
      pending_bytes_ -= bytes;
      inflight_events_ = 0;
      internal::LogError("shutdown: " + std::to_string(n) +
                         " events could not be written: " + st.ToString());
      return true;
    }
    const int backoff = std::min(1000, 10 << std::min(attempt, 7));
    ++attempt;
    internal::LogWarn("write failed, retrying in " + std::to_string(backoff) +
                      " ms: " + st.ToString());
    writer_cv_.wait_for(lock, std::chrono::milliseconds(backoff), [&] { return exit_; });
  }
}

void IngestPipeline::WriterLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    const std::int64_t now = SteadyMs();
    std::int64_t next = now + 60000;
    MoveExpiredBuffersLocked(now, &next);
    // Tasks (retention) are rare and interleave batches themselves, so they go first and
    // cannot starve under a continuous stream of events.
    if (!tasks_.empty()) {
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
      counters_.writer_cpu_seconds = internal::ThreadCpuSeconds();
      continue;
    }
    // Periodic work is due-time driven, checked before the queue so a continuous stream of
    // events cannot postpone it.
    if (!exit_ && now >= next_timeout_sweep_ms_) {
      next_timeout_sweep_ms_ = now + std::max(1, config_.timeout_check_interval_ms);
      lock.unlock();
      const std::int64_t wall = clock_.NowMs();
      auto r = store_.MarkTimedOutSessions(wall - config_.session_timeout_ms, wall);
      if (!r.ok()) internal::LogWarn("timeout sweep failed: " + r.status().ToString());
      lock.lock();
      continue;
    }
    if (!exit_ && cleanup_interval_ms_ > 0 && now >= next_cleanup_ms_) {
      next_cleanup_ms_ = now + cleanup_interval_ms_;
      lock.unlock();
      RunScheduledCleanup();
      lock.lock();
      continue;
    }
    if (!queue_.empty()) {
      // Linger briefly while the batch is small, so a steady trickle commits in larger
      // transactions; never while someone waits in FlushBuffers or during shutdown.
      const std::int64_t linger_until = queue_.front().queued_ms + config_.write_linger_ms;
      const bool small =
          static_cast<std::int64_t>(queue_.size()) < std::max(1, config_.max_write_batch / 2);
      if (small && flush_waiters_ == 0 && !exit_ && now < linger_until) {
        writer_cv_.wait_until(lock, AtSteadyMs(linger_until));
        continue;
      }
      lock.unlock();
      ProcessOneBatch();
      lock.lock();
      continue;
    }
    if (exit_) break;
    next = std::min(next, next_timeout_sweep_ms_);
    if (cleanup_interval_ms_ > 0) next = std::min(next, next_cleanup_ms_);
    writer_cv_.wait_until(lock, AtSteadyMs(next));
  }
}

Result<CleanupResult> IngestPipeline::RunOnWriter(std::function<Result<CleanupResult>()> fn,
                                                  int timeout_ms) {
  auto promise = std::make_shared<std::promise<Result<CleanupResult>>>();
  auto future = promise->get_future();
  {
    std::lock_guard lock(mu_);
    if (!writer_.joinable() || exit_) {
      return Status::FailedPrecondition("telemetry writer is not running");
    }
    tasks_.emplace_back([promise, fn = std::move(fn)] { promise->set_value(fn()); });
  }
  writer_cv_.notify_one();
  if (future.wait_for(std::chrono::milliseconds(timeout_ms)) != std::future_status::ready) {
    return Status::DeadlineExceeded("cleanup still running after " + std::to_string(timeout_ms) +
                                    " ms; it continues in the background");
  }
  return future.get();
}

Result<CleanupResult> IngestPipeline::DeleteInChunks(store::DeleteSelector selector) {
  CleanupResult total;
  while (true) {
    VK_ASSIGN_OR_RETURN(CleanupResult r, store_.DeleteSessions(selector, clock_.NowMs()));
    total.sessions_removed += r.sessions_removed;
    total.events_removed += r.events_removed;
    if (r.sessions_removed < selector.limit) break;
    // Let live events through between chunks so a large purge does not stall ingest.
    while (ProcessOneBatch()) {
    }
  }
  return total;
}

Result<CleanupResult> IngestPipeline::ShrinkTo(std::int64_t max_bytes) {
  CleanupResult total;
  if (max_bytes <= 0) return total;
  while (true) {
    VK_ASSIGN_OR_RETURN(std::int64_t used, store_.UsedBytes());
    if (used <= max_bytes) break;
    VK_ASSIGN_OR_RETURN(AggregateStats stats, store_.GetAggregateStats());
    const std::int64_t sessions = std::max<std::int64_t>(1, stats.total.sessions);
    const std::int64_t per_session = std::max<std::int64_t>(1, used / sessions);
    store::DeleteSelector sel;
    sel.kind = store::DeleteSelector::Kind::kOldest;
    sel.limit = std::clamp<std::int64_t>((used - max_bytes) / per_session + 1, 1, kRetentionChunk);
    sel.reason = "retention: database above max_size_mb (" + std::to_string(used) + " > " +
                 std::to_string(max_bytes) + " bytes)";
    VK_ASSIGN_OR_RETURN(CleanupResult r, store_.DeleteSessions(sel, clock_.NowMs()));
    total.sessions_removed += r.sessions_removed;
    total.events_removed += r.events_removed;
    if (r.sessions_removed == 0) break;
    while (ProcessOneBatch()) {
    }
  }
  if (total.sessions_removed > 0) VK_RETURN_IF_ERROR(store_.ReclaimSpace());
  return total;
}

Result<CleanupResult> IngestPipeline::ClearOlderThan(std::int64_t cutoff_ms, int timeout_ms) {
  return RunOnWriter(
      [this, cutoff_ms]() -> Result<CleanupResult> {
        store::DeleteSelector sel;
        sel.kind = store::DeleteSelector::Kind::kInactiveBefore;
        sel.cutoff_ms = cutoff_ms;
        sel.limit = kRetentionChunk;
        sel.reason = "retention: sessions inactive since before " + std::to_string(cutoff_ms);
        auto r = DeleteInChunks(sel);
        if (r.ok()) {
          if (r->sessions_removed > 0) (void)store_.ReclaimSpace();
          std::lock_guard lock(mu_);
          counters_.last_cleanup_time = clock_.NowMs();
          counters_.last_cleanup_sessions_removed = r->sessions_removed;
        }
        return r;
      },
      timeout_ms);
}

Result<CleanupResult> IngestPipeline::EnforceSizeLimit(std::int64_t max_bytes, int timeout_ms) {
  return RunOnWriter([this, max_bytes] { return ShrinkTo(max_bytes); }, timeout_ms);
}

void IngestPipeline::RunScheduledCleanup() {
  CleanupResult total;
  if (config_.prune_days > 0) {
    store::DeleteSelector sel;
    sel.cutoff_ms = clock_.NowMs() - static_cast<std::int64_t>(config_.prune_days) * 86400000LL;
    sel.limit = kRetentionChunk;
    sel.reason = "retention: older than prune_days=" + std::to_string(config_.prune_days);
    auto r = DeleteInChunks(sel);
    if (r.ok()) {
      total.sessions_removed += r->sessions_removed;
      if (r->sessions_removed > 0) (void)store_.ReclaimSpace();
    } else {
      internal::LogWarn("scheduled retention failed: " + r.status().ToString());
    }
  }
  if (config_.max_size_mb > 0) {
    auto r = ShrinkTo(static_cast<std::int64_t>(config_.max_size_mb) << 20);
    if (r.ok()) {
      total.sessions_removed += r->sessions_removed;
    } else {
      internal::LogWarn("scheduled size limit failed: " + r.status().ToString());
    }
  }
  std::lock_guard lock(mu_);
  counters_.last_cleanup_time = clock_.NowMs();
  counters_.last_cleanup_sessions_removed = total.sessions_removed;
}

void IngestPipeline::ScheduleCleanup(std::int64_t interval_ms) {
  std::lock_guard lock(mu_);
  cleanup_interval_ms_ = std::max<std::int64_t>(1, interval_ms);
  next_cleanup_ms_ = SteadyMs();
  writer_cv_.notify_one();
}

Status IngestPipeline::Stop(int timeout_ms) {
  // Keep trying until the deadline: a full disk or a lock may clear up meanwhile.
  const std::int64_t deadline = SteadyMs() + std::max(0, timeout_ms);
  Status flushed = Flush(timeout_ms);
  while (!flushed.ok() && SteadyMs() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    flushed = Flush(static_cast<int>(std::max<std::int64_t>(0, deadline - SteadyMs())));
  }
  {
    std::lock_guard lock(mu_);
    accepting_ = false;
    MoveAllBuffersLocked();
    exit_ = true;
  }
  writer_cv_.notify_all();
  space_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  std::lock_guard lock(mu_);
  done_cv_.notify_all();
  if (lost_events_ > 0 && flushed.ok()) {
    flushed = Status::Unavailable(std::to_string(lost_events_) +
                                  " events could not be written before shutdown: " +
                                  last_error_.ToString());
  }
  return flushed;
}

PipelineCounters IngestPipeline::Counters() const {
  std::lock_guard lock(mu_);
  PipelineCounters c = counters_;
  c.active_buffers = static_cast<std::int64_t>(buffers_.size());
  c.buffered_events = buffered_events_;
  c.queued_events = static_cast<std::int64_t>(queue_.size()) + inflight_events_;
  if (!flush_ms_ring_.empty()) {
    c.avg_flush_ms = flush_ms_sum_ / static_cast<double>(counters_.total_flushes);
    std::vector<double> sorted = flush_ms_ring_;
    const std::size_t idx = std::min(sorted.size() - 1, (sorted.size() * 99) / 100);
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(idx),
                     sorted.end());
    c.p99_flush_ms = sorted[idx];
  }
  std::int64_t oldest = 0;
  if (inflight_events_ > 0) oldest = inflight_oldest_ms_;
  if (!queue_.empty() && (oldest == 0 || queue_.front().accepted_ms < oldest)) {
    oldest = queue_.front().accepted_ms;
  }
  for (const auto& [id, buffer] : buffers_) {
    if (oldest == 0 || buffer.first_ms < oldest) oldest = buffer.first_ms;
  }
  c.writer_lag_ms = oldest == 0 ? 0 : std::max<std::int64_t>(0, SteadyMs() - oldest);
  c.last_error = last_error_.ok() ? std::string() : last_error_.ToString();
  c.locked_for_ms = busy_since_ms_ == 0 ? 0 : std::max<std::int64_t>(1, SteadyMs() - busy_since_ms_);
  return c;
}

Status IngestPipeline::RunMaintenance(std::function<Status()> fn, int timeout_ms) {
  auto r = RunOnWriter(
      [fn = std::move(fn)]() -> Result<CleanupResult> {
        Status st = fn();
        if (!st.ok()) return st;
        return CleanupResult{};
      },
      timeout_ms);
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace vibekit::ingest
