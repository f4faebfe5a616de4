// The full-text index over events' prompt and stream data, in a file of its own beside the
// database (`<db>-text`) and written by a thread of its own, so that the single writer's commits
// no longer tokenize text (docs/BENCHMARKS.md, "The text index off the writer").
//
// The side file holds a contentless FTS5 table (rowid = event id), its fts5vocab view and one
// state row: the generation of the database it indexes, the highest event id indexed
// (`indexed_upto`) and the last change applied (`changes_upto`). The database (schema 1.9.0)
// keeps `telemetry_text_index` (its generation) and `telemetry_text_changes`, which triggers fill
// when an event's text is deleted or updated (op 'd', with the old stored texts: a contentless
// index can only forget a row given its exact text) and which restores fill with 'a' for ids
// they insert below the indexed range. One indexing step:
//   1. a different generation (a cleared or restored database, another file copied over this
//      one), or an `indexed_upto` above the database's AUTOINCREMENT counter (an older copy),
//      empties the index and starts again from id 0;
//   2. pending changes, per event in sequence order: the first change's old text leaves the
//      index when the event was indexed (id <= indexed_upto and the change is a 'd'); the
//      event's current text, if the row still exists, enters it again;
//   3. the next events above `indexed_upto`, up to a bounded number per step, enter the index.
// Steps 1 and 2 (rare) run in one transaction of the side file reading one snapshot of the
// database. Step 3, the steady one, runs only when nothing is pending for 1 and 2: its texts are
// read in a short read transaction, then written in a transaction of the side file alone, so
// the database's WAL is not held back while they are tokenized.
// The index is derived data: it can lag the database (a search first calls CatchUp) or be
// deleted (it is rebuilt), and it is never ahead of what is committed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store/sqlite/database.h"
#include "vibekit/config.h"
#include "vibekit/status.h"

namespace vibekit::store::sqlite {

class TextIndexer {
 public:
  // The side file of the database at `db_path`.
  static std::string SidePath(const std::string& db_path);
  // The events' AUTOINCREMENT counter (never decreases, unlike max(id) after deletes).
  static constexpr std::string_view kEventsCounterSql =
      "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'telemetry_events'), 0)";

  // Opens the side file (created with mode 0600 when missing) on a connection of its own to
  // `config.db_path`, and starts the thread.
  static Result<std::unique_ptr<TextIndexer>> Start(const LocalStoreConfig& config);
  ~TextIndexer();  // Stop()
  TextIndexer(const TextIndexer&) = delete;
  TextIndexer& operator=(const TextIndexer&) = delete;

  // Stops the thread (interrupting a step in progress, which then rolls back). Idempotent.
  void Stop() noexcept;
  // Something was committed: the thread indexes it soon.
  void Notify();
  // On the caller's thread: indexes everything committed before the call.
  Status CatchUp();
  // Merges the index's segments into one (FTS5 'optimize'), then VACUUMs the side file.
  Status Optimize();

  // Runs `hook` in every step that indexes new events, between the read of their texts and
  // the write of the index (tests interleave another indexer or a change there).
  void SetBetweenPhasesHookForTesting(std::function<void()> hook);

  // indexed_upto as of this indexer's last step (or as found at Start), without a query.
  std::int64_t IndexedUptoNow() const noexcept {
    return indexed_upto_.load(std::memory_order_acquire);
  }
  // CPU time of the thread (its steps; CatchUp runs on the caller's).
  double CpuSeconds() const noexcept { return cpu_seconds_.load(std::memory_order_acquire); }
  // The last entry of telemetry_text_changes applied (and so no longer needed) by this indexer.
  std::int64_t ChangesApplied() const noexcept {
    return changes_applied_.load(std::memory_order_acquire);
  }

  // Events per step, and bytes of their texts: bound a step's memory and transaction (and a
  // Stop's wait).
  static constexpr std::int64_t kRowsPerStep = 20000;
  static constexpr std::size_t kBytesPerStep = std::size_t{16} << 20;

  // The thread waits this long after a commit wakes it, so that one step takes many commits.
  static constexpr int kGatherMs = 100;

  // The side file's state row.
  struct SideState {
    std::string generation;
    std::int64_t indexed_upto = 0;
    std::int64_t changes_upto = 0;
    bool operator==(const SideState&) const = default;
  };

 private:
  explicit TextIndexer(std::unique_ptr<Database> db);
  // One step under mu_. *more: the database holds more to index than this step took;
  // *indexed_upto: the indexed range after it.
  Status StepLocked(bool* more, std::int64_t* indexed_upto);
  // Steps 1 and 2 of the header's comment, in one transaction of the side file over one
  // snapshot of the database (it deletes with the logged old texts, so it must read them in
  // the snapshot that decided what to apply). Rare: clears, restores, retention, updates.
  Status ReconcileLocked(bool* more, std::int64_t* indexed_upto);
  Status ApplyChangesLocked(std::int64_t indexed_upto, std::int64_t from_seq,
                            std::int64_t to_seq);
  // One event's current text, if it has one; left out (and logged) when its stored text
  // cannot be decoded, rather than holding back every later event.
  Status EnterLocked(std::int64_t event_id);
  // Step 3's texts: the events (lo, *hi] that have one, decoded, at most kBytesPerStep of them
  // (*hi is lowered to the last one read when the budget ends the read). An event whose stored
  // text does not decode is left out and logged.
  struct PendingTexts {
    struct Row {
      std::int64_t id = 0;
      std::size_t prompt_at = 0;  // in `arena`
      std::size_t stream_at = 0;
      std::ptrdiff_t prompt_size = -1;  // -1: NULL
      std::ptrdiff_t stream_size = -1;
    };
    std::vector<Row> rows;
    std::string arena;  // every text, one after the other: no allocation per row
  };
  Status ReadTextsLocked(std::int64_t lo, std::int64_t* hi, PendingTexts* out);
  // What a step needs to know of the database, in one query: its generation and the
  // AUTOINCREMENT counters of the events and of the change log.
  struct DatabaseState {
    std::string generation;
    std::int64_t events_seq = 0;
    std::int64_t changes_seq = 0;
  };
  Result<DatabaseState> ReadDatabaseStateLocked();
  Result<SideState> ReadSideStateLocked();  // generation '' and zeros for a new file
  // In a transaction: takes the side file's write lock (creating the state row if missing),
  // then reads the state.
  Result<SideState> LockSideStateLocked();
  // Whether this indexer's last step left nothing to do in the database as it is now (no
  // transaction, nothing written); *events_seq: the events' AUTOINCREMENT counter.
  Result<bool> UpToDateLocked(std::int64_t* events_seq);
  // What the side file holds after a step (as the state row says), for UpToDateLocked and
  // the accessors.
  void RememberLocked(const std::string& generation, std::int64_t indexed_upto,
                      std::int64_t changes_upto);
  void Run();

  std::mutex mu_;  // the connection: one step at a time (the thread or CatchUp)
  std::unique_ptr<Database> db_;
  std::string generation_;  // of the database, as of this indexer's last step
  std::function<void()> between_phases_;  // tests only
  std::atomic<std::int64_t> changes_applied_{0};
  std::atomic<std::int64_t> indexed_upto_{0};
  std::atomic<double> cpu_seconds_{0};

  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool pending_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace vibekit::store::sqlite
