#include "store/sqlite/checkpointer.h"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "common/sys.h"
#include "store/sqlite/schema.h"

namespace vibekit::store::sqlite {

Result<std::unique_ptr<Checkpointer>> Checkpointer::Start(const LocalStoreConfig& config,
                                                          Database& writer,
                                                          int threshold_pages) {
  OpenOptions options;
  options.create = false;
  options.busy_timeout_ms = config.busy_timeout_ms;
  VK_ASSIGN_OR_RETURN(std::unique_ptr<Database> own, Database::Open(config.db_path, options));
  // synchronous=NORMAL: the checkpoint syncs the WAL before copying and the file after.
  VK_RETURN_IF_ERROR(ConfigureConnection(*own, /*writer=*/false, config));
  std::unique_ptr<Checkpointer> c(
      new Checkpointer(std::move(own), writer, threshold_pages, config.busy_timeout_ms));
  c->thread_ = std::thread([p = c.get()] {
    internal::NameThisThread("vk-checkpoint");
    p->Run();
  });
  // Replaces the hook PRAGMA wal_autocheckpoint installed (one hook per connection).
  sqlite3_wal_hook(writer.handle(), &Checkpointer::WalHook, c.get());
  return c;
}

Checkpointer::Checkpointer(std::unique_ptr<Database> own, Database& writer, int threshold_pages,
                           int busy_timeout_ms)
    : own_(std::move(own)),
      writer_(writer),
      threshold_pages_(std::max(1, threshold_pages)),
      finish_pages_(std::max(64, threshold_pages_ / 16)),
      busy_timeout_ms_(busy_timeout_ms),
      restart_skip_pages_(threshold_pages_) {}

Checkpointer::~Checkpointer() { Stop(); }

void Checkpointer::Stop() noexcept {
  if (stopped_) return;
  stopped_ = true;
  sqlite3_wal_autocheckpoint(writer_.handle(), threshold_pages_);  // SQLite's own hook again
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  own_.reset();
}

// On the writer's thread, after each commit; `pages` is the WAL's size in frames.
int Checkpointer::WalHook(void* arg, sqlite3* db, const char* name, int pages) {
  auto* self = static_cast<Checkpointer*>(arg);
  if (pages < self->last_pages_) {
    // The WAL restarted from its beginning: what the thread copied was of the previous one, and
    // no reader holds it back any more.
    self->restart_busy_pages_ = 0;
    self->restart_skip_pages_ = self->threshold_pages_;
    std::lock_guard lock(self->mu_);
    self->backfilled_ = 0;
  }
  self->last_pages_ = pages;
  if (pages < self->threshold_pages_) return SQLITE_OK;
  bool fallback = false;
  {
    std::unique_lock lock(self->mu_);
    if (pages >= kInlineFactor * self->threshold_pages_) {
      // The thread is behind, or its copies stop short of the WAL's end (a reader's snapshot):
      // wait for its copy to end (the checkpoint lock is its meanwhile), then copy the rest
      // here, as SQLite's automatic checkpoint would have. This bounds the WAL at about
      // kInlineFactor thresholds, at the price of this commit's latency.
      self->cv_.wait(lock, [self] { return !self->running_ && !self->wanted_; });
      self->fallback_.fetch_add(1, std::memory_order_relaxed);
      fallback = true;
    } else if (!self->wanted_ && !self->running_) {
      // SQLite starts the WAL over (instead of appending) only when a write transaction begins
      // with every frame copied. The thread copies what was committed when it started; while
      // the writer keeps committing, the copy ends a few commits behind. When the rest is small,
      // the writer copies it itself, and the next transaction reuses the file.
      if (self->backfilled_ == 0 || pages - self->backfilled_ > self->finish_pages_) {
        self->wanted_ = true;
        self->cv_.notify_one();
        return SQLITE_OK;
      }
      self->finishing_.fetch_add(1, std::memory_order_relaxed);
    } else {
      return SQLITE_OK;
    }
    self->backfilled_ = 0;
  }
  // SQLITE_BUSY (another process checkpointing) is fine.
  if (!fallback || (self->restart_busy_pages_ != 0 &&
                    pages < self->restart_busy_pages_ + self->restart_skip_pages_)) {
    (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  // Behind, the copy waits a little for readers: a reader's snapshot (the text indexer reads
  // the newest events every step) stops a PASSIVE copy short of the WAL's end and keeps the next
  // transaction from starting the file over, so under a steady ingest the WAL would grow by a
  // commit each time that happens. RESTART waits (busy handler) until readers are done with the
  // WAL, so the next transaction writes it from its beginning again.
  sqlite3_busy_timeout(db, kRestartWaitMs);
  const int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
  sqlite3_busy_timeout(db, self->busy_timeout_ms_);
  if (rc == SQLITE_BUSY) {
    if (self->restart_busy_pages_ != 0 && self->restart_skip_pages_ < (1 << 29)) {
      self->restart_skip_pages_ *= 2;
    }
    self->restart_busy_pages_ = pages;
    self->restart_busy_.fetch_add(1, std::memory_order_relaxed);
  }
  return SQLITE_OK;
}

void Checkpointer::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return wanted_ || stopping_; });
    if (stopping_) return;
    wanted_ = false;
    running_ = true;
    lock.unlock();
    int log_frames = 0;
    int copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(own_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                             &log_frames, &copied);
    lock.lock();
    running_ = false;
    cv_.notify_all();  // a writer may wait for this copy to end
    if (rc == SQLITE_OK) {
      backfilled_ = copied;
      background_.fetch_add(1, std::memory_order_relaxed);
    } else if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
      internal::LogWarn(StatusFromSqlite(rc, own_->handle(), "background checkpoint").message());
    }
  }
}

}  // namespace vibekit::store::sqlite
