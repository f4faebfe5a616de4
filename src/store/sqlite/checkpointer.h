// WAL checkpoints on a thread of their own, off the writer's path.
//
// SQLite's automatic checkpoint runs inside the commit that crosses the threshold: the writer
// copies the whole WAL into the database file and fsyncs it while the POSTs waiting for that
// commit wait too (a 40 MiB WAL is ~10,000 pages). Here the writer's WAL hook only wakes a
// thread with a connection of its own, which runs PASSIVE checkpoints: they never wait for, nor
// block, the writer or the readers, and the writer keeps appending meanwhile (WAL readers and
// the checkpointer work on snapshots). Should that thread fall behind (still copying while the
// WAL is past kInlineFactor times the threshold), the writer waits for it and copies the rest
// in its commit, as SQLite would have.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/sqlite/database.h"
#include "vibekit/config.h"
#include "vibekit/status.h"

struct sqlite3;

namespace vibekit::store::sqlite {

class Checkpointer {
 public:
  // The writer checkpoints itself beyond this many times the threshold.
  static constexpr int kInlineFactor = 4;
  // How long the writer's own copy waits for readers to leave the WAL (then it starts over).
  static constexpr int kRestartWaitMs = 100;

  // Opens its own connection to `config.db_path` and starts the thread; installs the WAL hook on
  // `writer` (which must outlive the returned object's Stop()). `threshold_pages` as
  // PRAGMA wal_autocheckpoint would take it.
  static Result<std::unique_ptr<Checkpointer>> Start(const LocalStoreConfig& config,
                                                     Database& writer, int threshold_pages);
  ~Checkpointer();  // Stop()
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Removes the hook from the writer (SQLite's own automatic checkpoint is back) and joins the
  // thread. Idempotent.
  void Stop() noexcept;

  struct Counts {
    std::int64_t background = 0;  // on the thread
    std::int64_t finishing = 0;   // in a commit, the few frames the thread's last copy left
    std::int64_t fallback = 0;    // in a commit, after waiting for the thread (behind)
    std::int64_t restart_busy = 0;  // fallbacks whose readers outlasted kRestartWaitMs
  };
  Counts counts() const noexcept {
    return {background_.load(), finishing_.load(), fallback_.load(), restart_busy_.load()};
  }

 private:
  Checkpointer(std::unique_ptr<Database> own, Database& writer, int threshold_pages,
               int busy_timeout_ms);
  static int WalHook(void* self, sqlite3* db, const char* name, int pages);
  void Run();

  std::unique_ptr<Database> own_;  // used by thread_ only
  Database& writer_;
  const int threshold_pages_;
  const int finish_pages_;  // the writer copies what the thread left when it is at most this
  const int busy_timeout_ms_;  // the writer's, restored after a fallback's shorter wait
  int last_pages_ = 0;      // the WAL's size at the previous commit; writer thread only
  // A fallback whose readers stayed past kRestartWaitMs (a long export, say): the next ones copy
  // without waiting until the WAL has grown by restart_skip_pages_ more, which starts at one
  // threshold and doubles with every such wait until the WAL starts over (so a reader that stays
  // for good costs a number of waits logarithmic in the WAL's growth). Writer thread only.
  int restart_busy_pages_ = 0;
  int restart_skip_pages_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false;   // guarded by mu_: the hook asked for a checkpoint
  bool running_ = false;  // guarded by mu_: the thread is checkpointing
  int backfilled_ = 0;    // guarded by mu_: frames of this WAL its last checkpoint had copied
  bool stopping_ = false;  // guarded by mu_
  bool stopped_ = false;   // Stop() ran
  std::atomic<std::int64_t> background_{0};
  std::atomic<std::int64_t> finishing_{0};
  std::atomic<std::int64_t> fallback_{0};
  std::atomic<std::int64_t> restart_busy_{0};
  std::thread thread_;
};

}  // namespace vibekit::store::sqlite
