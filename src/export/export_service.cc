#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <span>
#include <utility>

#include <sys/stat.h>
#include <unistd.h>

#include "vibekit/export.h"

#include "common/privacy.h"
#include "common/sys.h"
#include "export/input.h"
#include "export/restore.h"
#include "export/row_pipeline.h"
#include "export/sink.h"
#include "export/writers.h"
#include "ingest/validation.h"
#include "otlp/otlp_decode.h"
#include "service/service_internal.h"
#include "store/store.h"

namespace vibekit {
namespace {

using exporting::BufferedWriter;
using exporting::Compression;
using exporting::FormatSpec;
using exporting::OutputTarget;
using exporting::Table;

std::int64_t WallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <typename T>
Result<T> Guard(const auto& fn) noexcept {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("unexpected exception: ") + e.what());
  } catch (...) {
    return Status::Internal("unexpected exception");
  }
}

// A configuration and filter, checked and resolved.
struct Plan {
  const FormatSpec* format = nullptr;
  Compression compression = Compression::kNone;
  char delimiter = ',';
  std::vector<Table> tables;
  std::string path;  // with the compression's extension; "-" for stdout
};

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void CheckConfig(const ExportConfig& config, Plan& plan, std::vector<std::string>& errors) {
  plan.format = exporting::FindFormat(config.format);
  if (plan.format == nullptr) {
    std::string names;
    for (const FormatSpec& f : exporting::Formats()) names += (names.empty() ? "" : ", ") + f.name;
    errors.push_back("unknown format \"" + config.format + "\" (choose " + names + ")");
  }
  auto compression = exporting::ParseCompression(config.compression);
  if (compression.ok()) {
    plan.compression = *compression;
  } else {
    errors.push_back(compression.status().message());
  }
  auto delimiter = exporting::ParseCsvDelimiter(config.csv_delimiter);
  if (delimiter.ok()) {
    plan.delimiter = *delimiter;
  } else {
    errors.push_back(delimiter.status().message());
  }
  if (config.output_path.empty()) {
    errors.push_back("output path is empty (give a file, or - for standard output)");
    return;
  }
  plan.path = config.output_path;
  if (plan.path != "-") {
    const std::string_view ext = exporting::CompressionExtension(plan.compression);
    if (!ext.empty() && !EndsWith(plan.path, ext)) plan.path = plan.path + std::string(ext);
    std::string dir = internal::DirName(plan.path);
    if (dir.empty()) dir = ".";
    struct stat st {};
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      errors.push_back("cannot write \"" + plan.path + "\": directory \"" + dir +
                       "\" does not exist");
    } else if (access(dir.c_str(), W_OK) != 0) {
      errors.push_back("cannot write \"" + plan.path + "\": directory \"" + dir +
                       "\" is not writable");
    } else if (stat(plan.path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      errors.push_back("cannot write \"" + plan.path + "\": it exists and is not a regular file");
    }
  }
}

void CheckFilter(const ExportFilter& filter, Plan& plan, std::vector<std::string>& errors) {
  std::set<Table> chosen;
  for (const std::string& t : filter.tables) {
    auto table = exporting::ParseTable(t);
    if (table.ok()) {
      chosen.insert(*table);
    } else {
      errors.push_back(table.status().message());
    }
  }
  if (filter.tables.empty()) chosen = {Table::kSessions, Table::kEvents, Table::kErrors};
  plan.tables.assign(chosen.begin(), chosen.end());  // enum order: sessions, events, errors
  for (const std::string& t : filter.event_types) {
    if (!ParseEventType(t).ok()) {
      errors.push_back("unknown event type \"" + t + "\" (choose start, stream, end or error)");
    }
  }
  if (filter.from_time && filter.to_time && *filter.from_time > *filter.to_time) {
    errors.push_back("the time range starts after it ends (fromTime > toTime)");
  }
  if (filter.limit && *filter.limit < 0) errors.push_back("limit must not be negative");
  if (filter.offset < 0) errors.push_back("offset must not be negative");
}

// Rules between fields, once each is valid on its own.
void CheckCombination(const ExportFilter& filter, const Plan& plan,
                      std::vector<std::string>& errors) {
  // otlp writes each session with its events and errors as one trace: a table choice would
  // leave traces without their events (or events without a trace), so only "all" is accepted.
  if (plan.format != nullptr && plan.format->by_session && !filter.tables.empty() &&
      plan.tables.size() != 3) {
    errors.push_back("format \"" + plan.format->name +
                     "\" writes every session with its events and errors as one trace: "
                     "tables cannot be chosen (leave tables empty)");
  }
  if (plan.format != nullptr && plan.format->file_per_table && plan.path == "-" &&
      plan.tables.size() > 1) {
    errors.push_back(
        "csv to standard output takes exactly one table (add --tables events, "
        "sessions or errors), since each table is its own file");
  }
}

// The byte streams of one export: one per file, each a target + optional compressor + buffer.
// Commit() finishes and renames them all; destroying it before removes every temporary file.
class StreamSet {
 public:
  explicit StreamSet(const Plan& plan) : plan_(plan) {}

  Result<BufferedWriter*> Open(const Table* table) {
    std::string path = plan_.path;
    if (table != nullptr && plan_.tables.size() > 1 && path != "-") {
      path = exporting::PerTablePath(plan_.path, exporting::TableName(*table),
                                     exporting::CompressionExtension(plan_.compression));
    }
    auto s = std::make_unique<Stream>();
    s->table = table != nullptr && plan_.tables.size() > 1 ? exporting::TableName(*table) : "";
    if (path == "-") {
      s->target = OutputTarget::ForStdout();
    } else {
      VK_ASSIGN_OR_RETURN(s->target, OutputTarget::ForFile(path));
    }
    VK_ASSIGN_OR_RETURN(s->compressor, exporting::MakeCompressor(plan_.compression, *s->target));
    exporting::ByteSink& first = s->compressor ? *s->compressor : *s->target;
    s->buffer = std::make_unique<BufferedWriter>(first);
    streams_.push_back(std::move(s));
    return streams_.back()->buffer.get();
  }

  Result<std::vector<ExportedFile>> Commit() {
    for (auto& s : streams_) {
      VK_RETURN_IF_ERROR(s->buffer->Flush());
      if (s->compressor) VK_RETURN_IF_ERROR(s->compressor->Finish());
    }
    std::vector<ExportedFile> files;
    for (auto& s : streams_) {
      VK_RETURN_IF_ERROR(s->target->Commit());
      files.push_back({s->target->path(), std::string(s->table), s->target->bytes_written(),
                       s->target->Sha256Hex()});
    }
    return files;
  }

 private:
  struct Stream {
    std::string_view table;
    std::unique_ptr<OutputTarget> target;
    std::unique_ptr<exporting::ByteSink> compressor;  // writes into target
    std::unique_ptr<BufferedWriter> buffer;           // writes into compressor or target
  };
  const Plan& plan_;
  std::vector<std::unique_ptr<Stream>> streams_;
};

// A restore's rows through the privacy settings (redaction, keyed hashes) before they are
// written: a restored file is one more way in.
class PrivateRestoreWriter final : public store::RestoreWriter {
 public:
  PrivateRestoreWriter(store::RestoreWriter& inner, const internal::Privacy& privacy)
      : inner_(inner), privacy_(privacy) {}
  Status AddSession(const Session& s) override { return Add(s, &store::RestoreWriter::AddSession); }
  Status AddEvent(const Event& e) override { return Add(e, &store::RestoreWriter::AddEvent); }
  Status AddError(const ErrorRecord& r) override { return Add(r, &store::RestoreWriter::AddError); }
  Status Commit() override { return inner_.Commit(); }

 private:
  template <typename Row>
  Status Add(const Row& row, Status (store::RestoreWriter::*add)(const Row&)) {
    return privacy_.WithOutgoing(row, [&](const Row& r) { return (inner_.*add)(r); });
  }
  store::RestoreWriter& inner_;
  const internal::Privacy& privacy_;
};

// Feeds scanned rows to a record writer, opening and closing tables in order (every chosen
// table appears, also when it has no rows) and reporting progress.
class ExportVisitor final : public store::ScanVisitor {
 public:
  // `by_session`: rows come grouped by session (FormatSpec::by_session); no tables are opened.
  // Every row goes through `privacy` (redaction, hashing) on its way out; null when the rows
  // arrive with it applied (a RowPipeline's Options::privacy).
  ExportVisitor(exporting::RecordWriter& writer, exporting::ExportHeader header,
                const ExportConfig& config, ExportResult& result, bool by_session,
                const internal::Privacy* privacy)
      : privacy_(privacy),
        writer_(writer),
        header_(std::move(header)),
        config_(config),
        result_(result),
        by_session_(by_session) {}

  Status OnCounts(const store::ScanCounts& counts) override {
    header_.sessions = counts.sessions;
    header_.events = counts.events;
    header_.errors = counts.errors;
    total_ = counts.sessions + counts.events + counts.errors;
    ProgressNow();
    return writer_.Begin(header_);
  }
  Status OnSession(const Session& s) override {
    VK_RETURN_IF_ERROR(SwitchTo(Table::kSessions));
    ++result_.session_count;
    VK_RETURN_IF_ERROR(Out(s, [this](const Session& row) { return writer_.WriteSession(row); }));
    return Progress(false);
  }
  Status OnEvent(const Event& e) override {
    VK_RETURN_IF_ERROR(SwitchTo(Table::kEvents));
    ++result_.event_count;
    VK_RETURN_IF_ERROR(Out(e, [this](const Event& row) { return writer_.WriteEvent(row); }));
    return Progress(false);
  }
  Status OnError(const ErrorRecord& r) override {
    VK_RETURN_IF_ERROR(SwitchTo(Table::kErrors));
    ++result_.error_count;
    VK_RETURN_IF_ERROR(Out(r, [this](const ErrorRecord& row) { return writer_.WriteError(row); }));
    return Progress(false);
  }
  // After the scan: the tables without rows, then the end of the document.
  Status Finish() {
    while (!by_session_ && next_ < header_.tables.size()) VK_RETURN_IF_ERROR(Advance());
    if (open_) VK_RETURN_IF_ERROR(writer_.EndTable(*current_));
    open_ = false;
    ProgressNow();
    return writer_.End();
  }

 private:
  template <typename Row, typename Write>
  Status Out(const Row& row, Write&& write) {
    return privacy_ != nullptr ? privacy_->WithOutgoing(row, write) : write(row);
  }
  Status SwitchTo(Table t) {
    if (by_session_) return Status::Ok();
    while (!open_ || *current_ != t) {
      if (next_ >= header_.tables.size()) return Status::Internal("row of a table not chosen");
      VK_RETURN_IF_ERROR(Advance());
    }
    return Status::Ok();
  }
  Status Advance() {
    if (open_) VK_RETURN_IF_ERROR(writer_.EndTable(*current_));
    current_ = header_.tables[next_++];
    open_ = true;
    return writer_.BeginTable(*current_);
  }
  Status Progress(bool force) {
    if (!config_.progress) return Status::Ok();
    const std::int64_t done = result_.session_count + result_.event_count + result_.error_count;
    if (force || done % 8192 == 0) config_.progress(done, total_);
    return Status::Ok();
  }
  void ProgressNow() { (void)Progress(true); }

  const internal::Privacy* privacy_;
  exporting::RecordWriter& writer_;
  exporting::ExportHeader header_;
  const ExportConfig& config_;
  ExportResult& result_;
  std::optional<Table> current_;
  bool open_ = false;
  std::size_t next_ = 0;  // index in header_.tables of the next table to open
  std::int64_t total_ = 0;
  bool by_session_ = false;
};

class CountVisitor final : public store::ScanVisitor {
 public:
  Status OnCounts(const store::ScanCounts& c) override {
    counts = c;
    return Status::Ok();
  }
  Status OnSession(const Session&) override { return Status::Ok(); }
  Status OnEvent(const Event&) override { return Status::Ok(); }
  Status OnError(const ErrorRecord&) override { return Status::Ok(); }
  store::ScanCounts counts;
};

}  // namespace

TelemetryExportService::TelemetryExportService(TelemetryService& service) : service_(service) {}
TelemetryExportService::~TelemetryExportService() = default;

ValidationResult TelemetryExportService::ValidateConfiguration(
    const ExportConfig& config) noexcept {
  ValidationResult out;
  try {
    Plan plan;
    CheckConfig(config, plan, out.errors);
  } catch (const std::exception& e) {
    out.errors.push_back(std::string("unexpected exception: ") + e.what());
  }
  out.valid = out.errors.empty();
  return out;
}

Result<ExportResult> TelemetryExportService::Export(const ExportFilter& filter,
                                                    const ExportConfig& config) noexcept {
  return Guard<ExportResult>([&]() -> Result<ExportResult> {
    const auto t0 = std::chrono::steady_clock::now();
    Plan plan;
    std::vector<std::string> errors;
    CheckConfig(config, plan, errors);
    CheckFilter(filter, plan, errors);
    if (errors.empty()) CheckCombination(filter, plan, errors);
    if (!errors.empty()) {
      std::string msg;
      for (const std::string& e : errors) msg += (msg.empty() ? "" : "; ") + e;
      return Status::InvalidArgument(msg);
    }
    VK_ASSIGN_OR_RETURN(store::Store * store, service::ServiceInternals::StoreOf(service_));
    // Everything acknowledged before the call is in the export.
    VK_RETURN_IF_ERROR(service_.FlushBuffers().WithContext("flush before export"));

    store::ScanRequest request;
    request.filter = filter;
    request.sessions =
        std::find(plan.tables.begin(), plan.tables.end(), Table::kSessions) != plan.tables.end();
    request.events =
        std::find(plan.tables.begin(), plan.tables.end(), Table::kEvents) != plan.tables.end();
    request.errors =
        std::find(plan.tables.begin(), plan.tables.end(), Table::kErrors) != plan.tables.end();
    request.by_session = plan.format->by_session;
    const bool pipelined = exporting::UsePipeline();
    request.stored_texts = pipelined;  // decoded by the pipeline's second stage
    VK_ASSIGN_OR_RETURN(const internal::Privacy* privacy,
                        service::ServiceInternals::PrivacyOf(service_));
    // Events stored through these very settings need no second secret scan.
    if (pipelined && !privacy->inert()) request.privacy_fingerprint = privacy->fingerprint();

    exporting::ExportHeader header;
    header.format = plan.format->name;
    header.tables = plan.tables;
    header.filter = filter;
    header.filter.tables.clear();
    for (Table t : plan.tables) header.filter.tables.emplace_back(exporting::TableName(t));
    header.exported_at_ms = WallNowMs();
    header.pretty = config.pretty_print;
    header.csv_delimiter = plan.delimiter;

    ExportResult result;
    result.format = plan.format->name;
    result.compression = std::string(exporting::CompressionName(plan.compression));
    StreamSet streams(plan);
    auto writer = plan.format->make([&streams](const Table* table) { return streams.Open(table); });
    ExportVisitor visitor(*writer, header, config, result, plan.format->by_session,
                          pipelined ? nullptr : privacy);
    if (pipelined) {
      // Stage 1 (this thread) reads rows, stage 2 formats and writes them; the privacy settings
      // are applied on the way by whichever stage has time.
      exporting::RowPipeline::Options options;
      options.privacy = privacy;
      exporting::RowPipeline pipeline(visitor, options);
      VK_RETURN_IF_ERROR(store->Scan(request, pipeline));
      VK_RETURN_IF_ERROR(pipeline.Finish());
    } else {
      VK_RETURN_IF_ERROR(store->Scan(request, visitor));
    }
    VK_RETURN_IF_ERROR(visitor.Finish());
    VK_ASSIGN_OR_RETURN(result.files, streams.Commit());
    result.record_count = result.session_count + result.event_count + result.error_count;
    result.duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return result;
  });
}

Result<DataSummary> TelemetryExportService::ListAvailableData() noexcept {
  return Guard<DataSummary>([&]() -> Result<DataSummary> {
    VK_ASSIGN_OR_RETURN(store::Store * store, service::ServiceInternals::StoreOf(service_));
    VK_RETURN_IF_ERROR(service_.FlushBuffers());
    CountVisitor counts;
    store::ScanRequest request;
    request.counts_only = true;
    VK_RETURN_IF_ERROR(store->Scan(request, counts));
    VK_ASSIGN_OR_RETURN(AggregateStats stats, store->GetAggregateStats());
    DataSummary d;
    d.sessions = counts.counts.sessions;
    d.events = counts.counts.events;
    d.errors = counts.counts.errors;
    d.oldest_event_time = stats.total.min_timestamp;
    d.newest_event_time = stats.total.max_timestamp;
    for (const auto& [agent, c] : stats.by_agent) {
      if (c.total_events > 0 || c.sessions > 0) d.agent_types.push_back(agent);
    }
    const std::pair<std::int64_t, std::string_view> types[] = {
        {stats.total.end_events, "end"},
        {stats.total.error_events, "error"},
        {stats.total.start_events, "start"},
        {stats.total.stream_events, "stream"}};
    for (const auto& [n, name] : types) {
      if (n > 0) d.event_types.emplace_back(name);
    }
    d.tables = {"sessions", "events", "errors"};
    for (const FormatSpec& f : exporting::Formats()) d.formats.push_back(f.name);
    d.compressions = {"none", "gzip", "brotli", "zstd"};
    return d;
  });
}

Result<ExportInputKind> TelemetryExportService::DetectInput(const std::string& path) noexcept {
  return Guard<ExportInputKind>([&]() { return exporting::DetectInputKind(path); });
}

Result<RestoreResult> TelemetryExportService::Restore(const std::string& path) noexcept {
  return Guard<RestoreResult>([&]() -> Result<RestoreResult> {
    const auto t0 = std::chrono::steady_clock::now();
    VK_ASSIGN_OR_RETURN(store::Store * store, service::ServiceInternals::StoreOf(service_));
    VK_ASSIGN_OR_RETURN(ExportInputKind kind, exporting::DetectInputKind(path));
    if (kind == ExportInputKind::kEventNdjson) {
      return Status::InvalidArgument("\"" + path +
                                     "\" is plain event NDJSON, not an export; "
                                     "import it with TelemetryService::ImportNdjson");
    }
    if (kind == ExportInputKind::kOtlpJson) {
      return Status::InvalidArgument("\"" + path +
                                     "\" is OTLP/JSON, which is not restored verbatim; "
                                     "import it with ImportOtlp");
    }
    // Shared with the task: if the wait times out, the task still finishes on the writer thread.
    struct Task {
      std::string path;
      ExportInputKind kind;
      RestoreResult result;
    };
    auto task = std::make_shared<Task>(Task{path, kind, {}});
    VK_ASSIGN_OR_RETURN(const internal::Privacy* privacy,
                        service::ServiceInternals::PrivacyOf(service_));
    const std::int64_t now = WallNowMs();
    const Status ran = service::ServiceInternals::RunOnWriter(
        service_,
        [task, store, now, privacy]() -> Status {
          VK_ASSIGN_OR_RETURN(auto writer, store->BeginRestore(now));
          PrivateRestoreWriter private_writer(*writer, *privacy);
          VK_RETURN_IF_ERROR(
              exporting::RestoreInto(task->path, task->kind, private_writer, task->result));
          return writer->Commit();
        },
        24 * 3600 * 1000);
    VK_RETURN_IF_ERROR(ran);
    RestoreResult result = task->result;
    result.duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return result;
  });
}

Result<RestoreResult> TelemetryExportService::ImportOtlp(const std::string& path) noexcept {
  return Guard<RestoreResult>([&]() -> Result<RestoreResult> {
    const auto t0 = std::chrono::steady_clock::now();
    VK_RETURN_IF_ERROR(service::ServiceInternals::StoreOf(service_).status());
    // The whole request is decoded (and so checked) before anything is written.
    VK_ASSIGN_OR_RETURN(auto in, exporting::InputSource::Open(path));
    std::string text;
    while (true) {
      VK_ASSIGN_OR_RETURN(std::size_t n, in->Read(&text, 1 << 20));
      if (n == 0) break;
    }
    auto decoded = otlp::DecodeTraceRequest(text);
    if (!decoded.ok()) {
      return Status(decoded.status().code(), "\"" + path + "\": " + decoded.status().message());
    }
    std::string().swap(text);
    std::vector<Event>& events = decoded->events;
    // The original commit order, when every event carries its id (ours always do).
    if (std::all_of(events.begin(), events.end(), [](const Event& e) { return e.id > 0; })) {
      std::stable_sort(events.begin(), events.end(),
                       [](const Event& a, const Event& b) { return a.id < b.id; });
    }
    const std::int64_t now = WallNowMs();
    RestoreResult result;
    result.kind = ExportInputKind::kOtlpJson;
    std::set<std::string> sessions;
    for (std::size_t i = 0; i < events.size(); ++i) {
      Event& e = events[i];
      e.id = 0;
      e.created_at = 0;
      Event check = e;
      Status st = ingest::ValidateEvent(check, service_.config().local_store, now);
      if (!st.ok()) {
        return Status::InvalidArgument("\"" + path + "\": event " + std::to_string(i + 1) +
                                       " of the request: " + st.message());
      }
      sessions.insert(e.session_id);
      if (e.event_type == EventType::kError) ++result.errors;
    }
    // In slices well inside the ingest bound; a full queue is drained and the slice retried.
    constexpr std::size_t kSlice = 1000;
    for (std::size_t first = 0; first < events.size(); first += kSlice) {
      const std::span<const Event> slice(events.data() + first,
                                         std::min(kSlice, events.size() - first));
      Status st = service_.InsertEventBatch(slice);
      if (st.code() == StatusCode::kBusy) {
        VK_RETURN_IF_ERROR(service_.FlushBuffers().WithContext("import otlp"));
        st = service_.InsertEventBatch(slice);
      }
      VK_RETURN_IF_ERROR(st.WithContext("import otlp"));
    }
    VK_RETURN_IF_ERROR(service_.FlushBuffers().WithContext("import otlp"));
    result.sessions = static_cast<std::int64_t>(sessions.size());
    result.events = static_cast<std::int64_t>(events.size());
    result.duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return result;
  });
}

}  // namespace vibekit
