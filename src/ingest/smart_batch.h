// SmartBatchProcessor: hands queued items to a processing function in batches whose size follows
// the measured latency of that function. After every batch the size moves toward the target
// latency: × 1.5 when the batch took under half the target, × 0.7 when it took over the target,
// always within [min_batch_size, max_batch_size]. Submit refuses (kBusy) once
// backpressure_threshold items wait, so a producer faster than the consumer is told to slow
// down instead of growing memory.
//
// Thread-safety: Submit, Flush and the accessors may be called from any thread; the processing
// function runs on the processor's own thread, one batch at a time, in submission order.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "common/sys.h"
#include "vibekit/status.h"

namespace vibekit::ingest {

struct SmartBatchOptions {
  std::size_t min_batch_size = 50;
  std::size_t max_batch_size = 5000;
  std::size_t initial_batch_size = 0;  // 0: min_batch_size
  double target_latency_ms = 50;
  std::size_t backpressure_threshold = 100000;
  // How long a partial batch waits for more items before it is processed anyway.
  std::chrono::milliseconds linger{10};
};

struct SmartBatchStats {
  std::int64_t batches = 0;
  std::int64_t items = 0;
  std::int64_t failed_batches = 0;  // the function returned an error (items are dropped)
  std::int64_t rejected = 0;        // Submit calls refused by backpressure
  std::size_t batch_size = 0;       // the current size
  double last_latency_ms = 0;
};

template <typename T>
class SmartBatchProcessor {
 public:
  using ProcessFn = std::function<Status(std::span<const T>)>;

  // kInvalidArgument for sizes that do not make sense (0, min > max, threshold < max).
  static Status Validate(const SmartBatchOptions& o) {
    if (o.min_batch_size < 1 || o.max_batch_size < o.min_batch_size) {
      return Status::InvalidArgument("batch sizes must satisfy 1 <= min <= max");
    }
    if (o.backpressure_threshold < o.max_batch_size) {
      return Status::InvalidArgument("backpressure_threshold must be at least max_batch_size");
    }
    if (!(o.target_latency_ms > 0)) return Status::InvalidArgument("target latency must be > 0");
    return Status::Ok();
  }

  // REQUIRES: Validate(options) is OK.
  SmartBatchProcessor(ProcessFn fn, SmartBatchOptions options)
      : fn_(std::move(fn)), options_(options) {
    size_ = std::clamp(options.initial_batch_size == 0 ? options.min_batch_size
                                                       : options.initial_batch_size,
                       options.min_batch_size, options.max_batch_size);
    thread_ = std::thread([this] {
      internal::NameThisThread("vk-batcher");
      Run();
    });
  }
  ~SmartBatchProcessor() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();  // processes what is queued first
  }
  SmartBatchProcessor(const SmartBatchProcessor&) = delete;
  SmartBatchProcessor& operator=(const SmartBatchProcessor&) = delete;

  // Queues `items` (all or none). kBusy when they would take the queue past the threshold.
  Status Submit(std::span<const T> items) {
    {
      std::lock_guard lock(mu_);
      if (queue_.size() + items.size() > options_.backpressure_threshold) {
        ++stats_.rejected;
        return Status::Busy("batch processor backlog is at its threshold");
      }
      queue_.insert(queue_.end(), items.begin(), items.end());
    }
    cv_.notify_all();
    return Status::Ok();
  }

  // Waits until everything submitted so far was processed.
  void Flush() {
    std::unique_lock lock(mu_);
    flush_waiters_++;
    cv_.notify_all();
    done_cv_.wait(lock, [this] { return queue_.empty() && !busy_; });
    flush_waiters_--;
  }

  SmartBatchStats stats() const {
    std::lock_guard lock(mu_);
    SmartBatchStats s = stats_;
    s.batch_size = size_;
    return s;
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty() && stop_) break;
      // A partial batch lingers for more unless someone flushes or we stop.
      if (queue_.size() < size_ && !stop_ && flush_waiters_ == 0) {
        cv_.wait_for(lock, options_.linger, [this] {
          return stop_ || flush_waiters_ > 0 || queue_.size() >= size_;
        });
      }
      const std::size_t n = std::min(size_, queue_.size());
      std::vector<T> batch(std::make_move_iterator(queue_.begin()),
                           std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      busy_ = true;
      lock.unlock();
      const auto t0 = std::chrono::steady_clock::now();
      const Status st = fn_(std::span<const T>(batch));
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      lock.lock();
      busy_ = false;
      ++stats_.batches;
      stats_.items += static_cast<std::int64_t>(n);
      if (!st.ok()) ++stats_.failed_batches;
      stats_.last_latency_ms = ms;
      // Only full batches say something about the size.
      if (n == size_) {
        if (ms < options_.target_latency_ms / 2) {
          size_ = std::min(options_.max_batch_size,
                           std::max(size_ + 1, static_cast<std::size_t>(static_cast<double>(size_) * 1.5)));
        } else if (ms > options_.target_latency_ms) {
          size_ = std::max(options_.min_batch_size,
                           static_cast<std::size_t>(static_cast<double>(size_) * 0.7));
        }
      }
      done_cv_.notify_all();
    }
    done_cv_.notify_all();
  }

  const ProcessFn fn_;
  const SmartBatchOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  std::deque<T> queue_;        // guarded by mu_
  std::size_t size_ = 0;       // guarded by mu_: the current batch size
  bool busy_ = false;          // guarded by mu_
  bool stop_ = false;          // guarded by mu_
  int flush_waiters_ = 0;      // guarded by mu_
  SmartBatchStats stats_;      // guarded by mu_
  std::thread thread_;
};

}  // namespace vibekit::ingest
