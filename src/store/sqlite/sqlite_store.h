// SqliteStore: the embedded default Store. One read-write connection used by the writer thread,
// and a pool of read-only connections for queries (WAL lets them read while the writer writes).
#pragma once

#include <sys/types.h>

#include <memory>
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "store/sqlite/checkpointer.h"
#include "store/sqlite/database.h"
#include "store/sqlite/text_codec.h"
#include "store/sqlite/text_index.h"
#include "store/session_merge.h"
#include "store/store.h"
#include "vibekit/clock.h"
#include "vibekit/config.h"

namespace vibekit::store::sqlite {

class SqliteStore final : public Store {
 public:
  using BindValue = std::variant<std::int64_t, std::string>;  // one SQL parameter

  SqliteStore(LocalStoreConfig config, const Clock& clock);
  ~SqliteStore() override;

  Status Open() override;
  void Close() noexcept override;

  Status ApplyBatch(std::span<const Event> events, std::int64_t now_ms) override;
  Result<std::int64_t> MarkTimedOutSessions(std::int64_t silent_before_ms,
                                            std::int64_t now_ms) override;
  Result<CleanupResult> DeleteSessions(const DeleteSelector& selector,
                                       std::int64_t now_ms) override;
  Status RecordDeadLetter(std::span<const Event> events, const Status& error,
                          std::int64_t now_ms) override;
  Status ReclaimSpace() override;
  // WAL checkpoints since Open (checkpointer.h); all 0 without WAL.
  Checkpointer::Counts Checkpoints();

  Result<std::vector<Event>> QueryEvents(const EventQueryFilter& filter) override;
  Result<std::vector<Session>> QuerySessions(const SessionQueryFilter& filter) override;
  Result<std::int64_t> CountSessions(const SessionQueryFilter& filter) override;
  Result<std::vector<AgentModeCounts>> AgentBreakdown() override;
  std::pair<std::int64_t, std::int64_t> LastBatchIds() const noexcept override {
    return last_batch_ids_;
  }
  void SetIncomingPrivacy(std::string fingerprint) override;
  Result<std::optional<Session>> GetSession(std::string_view id) override;
  Result<SessionStats> GetSessionStats(std::string_view id) override;
  Result<std::vector<ErrorRecord>> GetSessionErrors(std::string_view id) override;
  Result<AggregateStats> GetAggregateStats() override;
  Result<StoreHealth> CheckHealth(bool quick_check) override;
  Result<std::int64_t> UsedBytes() override;
  Result<std::vector<SchemaVersion>> SchemaVersions() override;

  Result<MaintenanceReport> Optimize(bool rebuild_indexes) override;
  Result<MaintenanceReport> Vacuum(bool analyze) override;
  Result<CleanupResult> DeleteAll(std::string_view reason, std::int64_t now_ms) override;
  Result<PlannerState> GetPlannerState() override;

  // --- SQLite-only diagnostics (`vibekit db performance --analyze`) ---
  // Query plans are SQL text, so they stay off the backend-neutral Store interface: the service
  // reaches them through this class only (it knows it created a SqliteStore), and the SQL comes
  // from the store itself via SqlCapture, so the plans shown are those of the statements the
  // real queries run, not hand-copied look-alikes.
  //
  // While a SqlCapture lives, every read statement this thread runs through the reader pool
  // (Cached) is appended to it, once per distinct SQL text.
  class SqlCapture {
   public:
    SqlCapture();
    ~SqlCapture();
    SqlCapture(const SqlCapture&) = delete;
    SqlCapture& operator=(const SqlCapture&) = delete;
    const std::vector<std::string>& statements() const { return statements_; }
    void Add(const std::string& sql);

   private:
    SqlCapture* previous_;
    std::vector<std::string> statements_;
  };
  // EXPLAIN QUERY PLAN of `sql` (parameters unbound) on a reader connection: one string per
  // plan row, indented two spaces per nesting level.
  Result<std::vector<std::string>> ExplainQueryPlan(const std::string& sql);

  Status EnsureDeliveryState(std::int64_t now_ms) override;
  Result<DeliveryState> GetDeliveryState() override;
  Result<std::vector<Event>> EventsAfter(std::int64_t after_id, int limit) override;
  Result<std::vector<ErrorRecord>> ErrorsForEvents(std::int64_t first_id,
                                                   std::int64_t last_id) override;
  Result<std::vector<PendingRootSpan>> PendingRootSpans(int limit) override;
  Status RecordDelivery(const DeliveryRecord& record, std::int64_t now_ms) override;

  Result<AggregateStats> AggregateStatsBetween(std::int64_t from_ms, std::int64_t to_ms) override;
  Result<SessionPercentiles> SessionPercentilesBetween(std::int64_t from_ms,
                                                       std::int64_t to_ms) override;
  TextIndexState TextIndex() noexcept override;
  std::uint64_t DataVersion() const noexcept override {
    return data_version_.load(std::memory_order_acquire);
  }
  Result<std::int64_t> InsertAlert(const AlertRecord& alert) override;
  Status ResolveAlert(std::int64_t id, std::int64_t resolved_at, double resolved_value) override;
  Result<std::vector<AlertRecord>> ReadAlerts(int limit) override;
  Result<std::vector<ValidationRule>> ReadValidationRules() override;
  Result<std::vector<MinuteRow>> ReadPeriodRollups(std::int64_t period_ms, std::int64_t from_ms,
                                                   std::int64_t to_ms) override;
  Result<std::array<std::int64_t, 24>> EventsByHourOfDay(std::int64_t from_ms,
                                                         std::int64_t to_ms) override;
  Result<std::vector<MinuteRow>> ReadMinuteRollups(std::int64_t from_ms,
                                                   std::int64_t to_ms) override;

  Status Scan(const ScanRequest& request, ScanVisitor& visitor) override;
  Result<std::unique_ptr<RestoreWriter>> BeginRestore(std::int64_t now_ms) override;

 private:
  struct Reader;
  struct WriterStatements;
  class SqliteRestoreWriter;
  class ReaderLease;

  Result<ReaderLease> AcquireReader();
  void ReleaseReader(std::unique_ptr<Reader> reader);
  // A cached prepared statement of `reader` for `sql`, reset and ready to bind.
  Result<Statement*> Cached(Reader& reader, const std::string& sql);
  // Runs an event SELECT (columns as kEventColumns) with its parameters.
  Result<std::vector<Event>> RunEventQuery(Reader& reader, const std::string& sql,
                                           const std::vector<BindValue>& binds);
  Status ApplyRollup(const RollupDelta& delta, std::int64_t now_ms);
  Status RefreshRollupBounds(const std::vector<std::string>& agents, std::int64_t now_ms);
  Status ApplyBatchLocked(std::span<const Event> events, std::int64_t now_ms);
  // The writer's checks for ApplyBatch (`batch`): foreign keys not enforced and CHECK constraints
  // ignored. Its rows are consistent and valid by construction: every event's session row is
  // written first, in the same transaction, and every constrained column is bound from a C++
  // enumeration (event type, session status, error severity), never from input text. Enforcement
  // costs each multi-row INSERT a statement journal, and SQLite evaluates `x IN (...)` in a CHECK
  // by building a temporary b-tree for every row (0.7 us per event row here). Other writes with
  // values from outside (restore, deletes, alerts) run with foreign keys as configured and CHECK
  // constraints on. Changing the mode expires the writer's prepared statements, so it changes
  // only when the kind of write does.
  Status SetWriterBatchModeLocked(bool batch);
  Status OpenLocked();
  // kUnavailable when the file at db_path is no longer the one opened (deleted or replaced).
  Status CheckFileIdentityLocked() const;
  // After CheckFileIdentityLocked fails: drops every connection and opens a new database at
  // db_path (schema included), so commits are never acknowledged into an unlinked file.
  Status RecreateIfGoneLocked();
  std::shared_ptr<TextIndexer> TextIndexerRef();
  // In the writer's transaction: the text index is to be rebuilt from the rows as committed.
  Status NewTextGenerationLocked();
  // Outside a transaction: the text index applies the change log, whose applied entries are
  // then deleted (retention measures the space that is left).
  Status SettleTextChangesLocked();
  // Deletes the change log entries the text indexer has applied (in the caller's transaction
  // if there is one).
  Status PurgeAppliedTextChangesLocked();
  void ResetTextIndexer();  // stops and drops the text indexer
  void LogQuery(const std::string& sql, std::int64_t micros) const;

  const LocalStoreConfig config_;
  const Clock& clock_;
  std::mutex writer_mu_;                 // serializes use of writer_ (normally one thread)
  std::unique_ptr<Database> writer_;     // guarded by writer_mu_
  std::unique_ptr<WriterStatements> ws_;  // guarded by writer_mu_; prepared on writer_
  bool writer_batch_mode_ = false;        // guarded by writer_mu_; see SetWriterBatchModeLocked
  std::unique_ptr<Checkpointer> checkpointer_;  // guarded by writer_mu_; hooks writer_
  // The text index's own thread and file (text_index.h). Set while open_, and changed only
  // under writer_mu_ too (writer paths read it directly); readers take it by TextIndexerRef.
  std::mutex text_mu_;
  std::shared_ptr<TextIndexer> text_indexer_;  // guarded by text_mu_
  std::int64_t text_changes_purged_ = 0;  // guarded by writer_mu_: log entries deleted up to here
  std::atomic<std::int64_t> last_event_id_{0};  // the newest event id this store committed
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Reader>> idle_readers_;  // guarded by pool_mu_
  int readers_total_ = 0;                              // guarded by pool_mu_
  int readers_active_ = 0;                             // guarded by pool_mu_
  bool open_ = false;
  dev_t file_dev_ = 0;  // identity of the file opened at db_path; guarded by writer_mu_
  ino_t file_ino_ = 0;
  std::uint64_t reader_generation_ = 0;  // guarded by pool_mu_; bumped when the file is replaced
  // Commits that changed events, sessions or rollups (batches, sweeps, retention, clear,
  // restore) in this process.
  std::atomic<std::uint64_t> data_version_{0};
  std::pair<std::int64_t, std::int64_t> last_batch_ids_{0, 0};     // writer thread only
  std::pair<std::int64_t, std::int64_t> pending_batch_ids_{0, 0};  // writer thread only
  std::string incoming_privacy_;  // guarded by writer_mu_
};

}  // namespace vibekit::store::sqlite
