// PgStore: the Store interface over PostgreSQL (libpq), for several processes sharing one
// database. Chosen by a URL (postgres://... or postgresql://...; libpq's environment variables
// PGHOST, PGUSER, PGPASSWORD... fill in what the URL leaves out).
//
// Connections: one writer connection (the ingest writer thread, and the few other writes, under
// writer_mu_) and a pool of reader connections made on demand. Every write transaction first
// takes a transaction-scoped advisory lock (kWriterLockKey), so writers of all processes on the
// database are serialized like SQLite's BEGIN IMMEDIATE: the read-merge-write of session rows
// and rollups stays exact, and a batch's event ids are consecutive.
//
// Batches: the sessions of a batch are read with one query and written with one multi-row
// upsert, the events reserved a block of ids from the identity sequence and sent with COPY, the
// error rows with COPY, the rollups upserted; all in one transaction. A lost connection fails
// the call with kUnavailable (the ingest pipeline keeps the events and retries) and the
// connection is re-established on the next call; reads retry once on a fresh connection.
//
// Thread-safety: as Store (store.h).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/postgres/pg_conn.h"
#include "store/session_merge.h"
#include "store/store.h"
#include "vibekit/clock.h"
#include "vibekit/config.h"

namespace vibekit::store::postgres {

// True when `location` names a PostgreSQL database (postgres:// or postgresql://).
bool IsPostgresUrl(std::string_view location) noexcept;

class PgStore final : public Store {
 public:
  // `config.db_path` holds the URL.
  PgStore(LocalStoreConfig config, const Clock& clock);
  ~PgStore() override;

  Status Open() override;
  void Close() noexcept override;

  Status ApplyBatch(std::span<const Event> events, std::int64_t now_ms) override;
  std::pair<std::int64_t, std::int64_t> LastBatchIds() const noexcept override {
    return last_batch_ids_;
  }
  void SetIncomingPrivacy(std::string fingerprint) override;
  Result<std::int64_t> MarkTimedOutSessions(std::int64_t silent_before_ms,
                                            std::int64_t now_ms) override;
  Result<CleanupResult> DeleteSessions(const DeleteSelector& selector,
                                       std::int64_t now_ms) override;
  Status RecordDeadLetter(std::span<const Event> events, const Status& error,
                          std::int64_t now_ms) override;
  Status ReclaimSpace() override;

  Result<std::vector<Event>> QueryEvents(const EventQueryFilter& filter) override;
  Result<std::vector<Session>> QuerySessions(const SessionQueryFilter& filter) override;
  Result<std::int64_t> CountSessions(const SessionQueryFilter& filter) override;
  Result<std::vector<AgentModeCounts>> AgentBreakdown() override;
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
  Result<std::vector<MinuteRow>> ReadPeriodRollups(std::int64_t period_ms, std::int64_t from_ms,
                                                   std::int64_t to_ms) override;
  Result<std::array<std::int64_t, 24>> EventsByHourOfDay(std::int64_t from_ms,
                                                         std::int64_t to_ms) override;
  std::uint64_t DataVersion() const noexcept override {
    return data_version_.load(std::memory_order_acquire);
  }
  Result<std::vector<MinuteRow>> ReadMinuteRollups(std::int64_t from_ms,
                                                   std::int64_t to_ms) override;
  Result<std::int64_t> InsertAlert(const AlertRecord& alert) override;
  Status ResolveAlert(std::int64_t id, std::int64_t resolved_at, double resolved_value) override;
  Result<std::vector<AlertRecord>> ReadAlerts(int limit) override;
  Result<std::vector<ValidationRule>> ReadValidationRules() override;

  Status Scan(const ScanRequest& request, ScanVisitor& visitor) override;
  Result<std::unique_ptr<RestoreWriter>> BeginRestore(std::int64_t now_ms) override;

  // --- PostgreSQL diagnostics (`vibekit db performance --analyze`), as SqliteStore's ---
  // While a SqlCapture lives, every read statement this thread runs through the reader pool
  // (Read) is appended to it with its parameters, once per distinct SQL text; so the plans shown
  // are those of the statements the real queries run.
  class SqlCapture {
   public:
    struct Captured {
      std::string sql;
      PgParams params;
    };
    SqlCapture();
    ~SqlCapture();
    SqlCapture(const SqlCapture&) = delete;
    SqlCapture& operator=(const SqlCapture&) = delete;
    const std::vector<Captured>& statements() const { return statements_; }
    void Add(const std::string& sql, const PgParams& params);

   private:
    SqlCapture* previous_;
    std::vector<Captured> statements_;
  };
  // EXPLAIN of `sql` with its `params` on a reader connection: the plan's lines as PostgreSQL
  // prints them (nesting shown by indentation and "->").
  Result<std::vector<std::string>> ExplainQueryPlan(const std::string& sql,
                                                    const PgParams& params);

 private:
  class ReaderLease;
  class PgRestoreWriter;
  // Runs `body` in one REPEATABLE READ read-only transaction on a pooled connection.
  Status InSnapshot(const std::function<Status(PgConn&)>& body);
  // Runs `body` in one write transaction holding the cross-process writer lock (writer_mu_
  // held by the caller). Reconnects first when the connection was lost.
  Status InWriteTransaction(const std::function<Status(PgConn&)>& body);
  // BEGIN of a write transaction, its lock waits bounded by config_.busy_timeout_ms.
  std::string BeginWriteSql() const;
  Result<ReaderLease> AcquireReader();
  void ReleaseReader(std::unique_ptr<PgConn> conn);
  // A read query on a pooled connection, retried once on a fresh connection when it was lost.
  Result<PgResult> Read(const std::string& sql, const PgParams& params = PgParams());
  // Total size of this store's tables (indexes and TOAST included) on `db`.
  static Result<std::int64_t> OwnTablesBytes(PgConn& db);
  Status ApplyBatchLocked(PgConn& db, std::span<const Event> events, std::int64_t now_ms);
  Status ApplyRollup(PgConn& db, const RollupDelta& delta, std::int64_t now_ms);
  Status RefreshRollupBounds(PgConn& db, const std::vector<std::string>& agents,
                             std::int64_t now_ms);

  const LocalStoreConfig config_;
  const Clock& clock_;
  std::mutex writer_mu_;
  std::unique_ptr<PgConn> writer_;  // guarded by writer_mu_
  bool open_ = false;               // guarded by writer_mu_
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<PgConn>> idle_readers_;  // guarded by pool_mu_
  int readers_total_ = 0;                              // guarded by pool_mu_
  int readers_active_ = 0;                             // guarded by pool_mu_
  std::atomic<std::uint64_t> data_version_{0};
  std::pair<std::int64_t, std::int64_t> last_batch_ids_{0, 0};  // writer thread only
  std::string incoming_privacy_;  // guarded by writer_mu_
};

}  // namespace vibekit::store::postgres
