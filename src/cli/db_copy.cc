// `vibekit db copy --from A --to B`: moves an installation between backends (a SQLite file and
// a PostgreSQL URL, either way, or file to file). Every session, event and error row is copied
// verbatim (ids, timestamps, counters) from one snapshot of the source in one transaction of
// the destination (Store::Scan into a Store::RestoreWriter on the destination's writer thread);
// the destination's statistics and analytics rollups are computed from the copied rows. The
// destination must hold no sessions. Alert history, the audit log, parked batches and the
// delivery outbox stay behind (they belong to the old installation's processes).
#include <chrono>
#include <cstdio>
#include <memory>
#include <sys/stat.h>

#include "cli/commands.h"
#include "cli/progress.h"
#include "service/service_internal.h"
#include "store/postgres/pg_store.h"
#include "store/store.h"

namespace vibekit::cli {
namespace {

struct CopyOptions {
  std::string from;
  std::string to;
};

// Writes each scanned row into the destination and reports progress.
class CopyVisitor final : public store::ScanVisitor {
 public:
  CopyVisitor(store::RestoreWriter& writer, ProgressReporter* progress)
      : writer_(writer), progress_(progress) {}
  Status OnCounts(const store::ScanCounts& c) override {
    counts = c;
    total_ = c.sessions + c.events + c.errors;
    return Tick();
  }
  Status OnSession(const Session& s) override {
    VK_RETURN_IF_ERROR(writer_.AddSession(s));
    ++copied.sessions;
    return Tick();
  }
  Status OnEvent(const Event& e) override {
    VK_RETURN_IF_ERROR(writer_.AddEvent(e));
    ++copied.events;
    return Tick();
  }
  Status OnError(const ErrorRecord& e) override {
    VK_RETURN_IF_ERROR(writer_.AddError(e));
    ++copied.errors;
    return Tick();
  }
  store::ScanCounts counts;
  store::ScanCounts copied;

 private:
  Status Tick() {
    if (progress_ != nullptr) {
      progress_->Update(copied.sessions + copied.events + copied.errors, total_);
    }
    return Status::Ok();
  }
  store::RestoreWriter& writer_;
  ProgressReporter* progress_;
  std::int64_t total_ = 0;
};

std::unique_ptr<TelemetryService> OpenAt(const GlobalOptions& global, const std::string& where,
                                         bool must_exist) {
  GlobalOptions g = global;
  g.db_path = where;
  return OpenService(g, must_exist);
}

int RunCopy(const GlobalOptions& global, const CopyOptions& o) {
  if (o.from == o.to) return UsageError("--from and --to name the same database");
  auto source = OpenAt(global, o.from, /*must_exist=*/true);
  if (!source) return kExitFailure;
  auto dest = OpenAt(global, o.to, /*must_exist=*/false);
  if (!dest) return kExitFailure;
  auto src_store = service::ServiceInternals::StoreOf(*source);
  auto dst_store = service::ServiceInternals::StoreOf(*dest);
  if (!src_store.ok()) return FailStatus("copy", src_store.status(), global);
  if (!dst_store.ok()) return FailStatus("copy", dst_store.status(), global);
  auto existing = (*dst_store)->CountSessions(SessionQueryFilter{});
  if (!existing.ok()) return FailStatus("copy", existing.status(), global);
  if (*existing > 0) {
    return Fail("the destination " + o.to + " already holds " + std::to_string(*existing) +
                " sessions; copy into an empty database (or clear it with `vibekit db clear`)");
  }
  struct Task {
    store::ScanCounts copied;
  };
  auto task = std::make_shared<Task>();
  std::shared_ptr<ProgressReporter> progress =
      ProgressReporter::ForStderr("copying", ProgressUnit::kItems, global.quiet);
  store::Store* from = *src_store;
  store::Store* to = *dst_store;
  const auto t0 = std::chrono::steady_clock::now();
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  Status st = service::ServiceInternals::RunOnWriter(
      *dest,
      [task, progress, from, to, now]() -> Status {
        VK_ASSIGN_OR_RETURN(auto writer, to->BeginRestore(now));
        CopyVisitor visitor(*writer, progress.get());
        VK_RETURN_IF_ERROR(from->Scan(store::ScanRequest{}, visitor));
        VK_RETURN_IF_ERROR(writer->Commit());
        task->copied = visitor.copied;
        return Status::Ok();
      },
      24 * 3600 * 1000);
  progress->Finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  (void)source->Shutdown();
  Status closed = dest->Shutdown();
  if (!st.ok()) return FailStatus("copy", st, global);
  if (!closed.ok()) return FailStatus("copy", closed, global);
  boost::json::object out;
  out["from"] = o.from;
  out["to"] = o.to;
  out["sessions"] = task->copied.sessions;
  out["events"] = task->copied.events;
  out["errors"] = task->copied.errors;
  out["seconds"] = seconds;
  out["rowsPerSecond"] =
      seconds > 0 ? static_cast<double>(task->copied.sessions + task->copied.events +
                                        task->copied.errors) / seconds
                  : 0.0;
  PrintObject(out, MakeOutput(global), stdout);
  return kExitOk;
}

}  // namespace

void RegisterDbCopyCommand(CLI::App& db, const GlobalOptions& global, Runner& run) {
  auto o = std::make_shared<CopyOptions>();
  CLI::App* cmd = db.add_subcommand(
      "copy", "Copy every session, event and error to another database (SQLite file or "
              "postgres:// URL), e.g. to move to PostgreSQL");
  cmd->add_option("--from", o->from, "Source: a SQLite file or a postgres:// URL")->required();
  cmd->add_option("--to", o->to, "Destination (must hold no sessions): a SQLite file or a "
                                 "postgres:// URL")
      ->required();
  cmd->footer(
      "Examples:\n"
      "  vibekit db copy --from ~/.vibekit/telemetry.db --to postgres://db.internal/telemetry\n"
      "  vibekit db copy --from postgresql:///telemetry --to ./telemetry.db\n"
      "The statistics and analytics rollups of the destination are recomputed from the copied\n"
      "rows; alert history, audit log, parked batches and the delivery outbox are not copied.");
  cmd->callback([&global, &run, o] { run = [&global, o] { return RunCopy(global, *o); }; });
}

}  // namespace vibekit::cli
