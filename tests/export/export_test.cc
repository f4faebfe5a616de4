// TelemetryExportService: what the files contain (against the library's own answers), filters,
// compression (checked with the standard command-line tools), SHA-256, atomic output, errors,
// restore and the byte-identical round trip.
#include <algorithm>
#include <csignal>
#include <set>

#include <boost/json.hpp>
#include <dirent.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include "common/sys.h"
#include "export/export_test_util.h"
#include "export/row_pipeline.h"

namespace vibekit::testing {
namespace {
namespace json = boost::json;

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ = OpenService(dir_.File("t.db"));
    FillKnownData(*service_);
    ASSERT_OK(service_->FlushBuffers());
    exporter_ = std::make_unique<TelemetryExportService>(*service_);
  }

  ExportResult Run(const ExportFilter& f, ExportConfig c) {
    auto r = exporter_->Export(f, c);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ExportResult{};
  }
  json::object ExportJson(const ExportFilter& f = {}) {
    ExportConfig c;
    c.format = "json";
    c.output_path = dir_.File("out.json");
    Run(f, c);
    return json::parse(ReadFile(c.output_path)).as_object();
  }
  std::vector<std::int64_t> EventIds(const json::object& doc) {
    std::vector<std::int64_t> ids;
    for (const auto& e : doc.at("events").as_array()) ids.push_back(e.at("id").as_int64());
    return ids;
  }
  std::vector<Event> AllEvents() {
    EventQueryFilter f;
    f.limit = 100000;
    auto r = service_->QueryEvents(f);
    EXPECT_TRUE(r.ok());
    std::vector<Event> v = *r;
    std::sort(v.begin(), v.end(), [](const Event& a, const Event& b) { return a.id < b.id; });
    return v;
  }
  std::vector<Session> AllSessions() {
    SessionQueryFilter f;
    f.limit = 100000;
    f.order = SortOrder::kAsc;
    auto r = service_->QuerySessions(f);
    EXPECT_TRUE(r.ok());
    return *r;
  }

  TempDir dir_;
  std::unique_ptr<TelemetryService> service_;
  std::unique_ptr<TelemetryExportService> exporter_;
};

TEST_F(ExportTest, JsonDocumentHoldsExactlyWhatTheLibraryReturns) {
  json::object doc = ExportJson();
  const std::vector<Event> events = AllEvents();
  const json::array& je = doc.at("events").as_array();
  ASSERT_EQ(je.size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const json::object& o = je[i].as_object();
    const Event& e = events[i];
    EXPECT_EQ(o.at("id").as_int64(), e.id);
    EXPECT_EQ(o.at("sessionId").as_string(), e.session_id);
    EXPECT_EQ(o.at("eventType").as_string(), EventTypeName(e.event_type));
    EXPECT_EQ(o.at("agentType").as_string(), e.agent_type);
    EXPECT_EQ(o.contains("prompt"), e.prompt.has_value());
    if (e.prompt) {
      EXPECT_EQ(o.at("prompt").as_string(), *e.prompt);
    }
    EXPECT_EQ(o.contains("streamData"), e.stream_data.has_value());
    // Long stream data is stored zstd-compressed; the export carries the text.
    if (e.stream_data) {
      EXPECT_EQ(o.at("streamData").as_string(), *e.stream_data);
    }
    if (e.metadata) {
      EXPECT_EQ(json::serialize(o.at("metadata")), json::serialize(json::parse(*e.metadata)));
    }
    EXPECT_EQ(o.at("timestamp").as_int64(), e.timestamp);
  }
  const std::vector<Session> sessions = AllSessions();
  const json::array& js = doc.at("sessions").as_array();
  ASSERT_EQ(js.size(), sessions.size());
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    EXPECT_EQ(js[i].at("id").as_string(), sessions[i].id);
    EXPECT_EQ(js[i].at("status").as_string(), SessionStatusName(sessions[i].status));
    EXPECT_EQ(js[i].at("eventCount").as_int64(), sessions[i].event_count);
  }
  std::size_t errors = 0;
  for (const Session& s : sessions) errors += service_->GetSessionErrors(s.id)->size();
  EXPECT_EQ(doc.at("errors").as_array().size(), errors);
  EXPECT_GT(errors, 0u);
  const json::object& meta = doc.at("metadata").as_object();
  EXPECT_EQ(meta.at("formatVersion").as_int64(), 1);
  EXPECT_TRUE(meta.at("exportedAt").is_int64());
  EXPECT_EQ(meta.at("counts").at("events").as_int64(), static_cast<std::int64_t>(events.size()));
  EXPECT_EQ(meta.at("counts").at("total").as_int64(),
            static_cast<std::int64_t>(events.size() + sessions.size() + errors));
}

TEST_F(ExportTest, PrettyJsonIsTheSameDocumentIndented) {
  ExportConfig c;
  c.output_path = dir_.File("pretty.json");
  c.pretty_print = true;
  Run({}, c);
  const std::string pretty = ReadFile(c.output_path);
  EXPECT_NE(pretty.find("\n  \"events\": [\n    {\n      \"id\": "), std::string::npos);
  json::object a = json::parse(pretty).as_object();
  json::object b = ExportJson();
  a.erase("metadata");
  b.erase("metadata");
  EXPECT_EQ(json::serialize(a), json::serialize(b));
}

TEST_F(ExportTest, ResultCountsFilesSizesAndSha256MatchSha256sum) {
  ExportConfig c;
  c.format = "ndjson";
  c.output_path = dir_.File("out.ndjson");
  ExportResult r = Run({}, c);
  EXPECT_EQ(r.record_count, r.session_count + r.event_count + r.error_count);
  EXPECT_EQ(r.event_count, static_cast<std::int64_t>(AllEvents().size()));
  ASSERT_EQ(r.files.size(), 1u);
  EXPECT_EQ(r.files[0].path, c.output_path);
  EXPECT_EQ(r.files[0].size_bytes, internal::FileSizeBytes(c.output_path));
  auto [code, out] = Shell("sha256sum " + c.output_path);
  ASSERT_EQ(code, 0);
  EXPECT_EQ(out.substr(0, 64), r.files[0].sha256);
  EXPECT_GE(r.duration_ms, 0);
}

TEST_F(ExportTest, NdjsonEventLinesAreReadableByTheEventImport) {
  ExportConfig c;
  c.format = "ndjson";
  c.output_path = dir_.File("out.ndjson");
  ExportResult r = Run({}, c);
  // Only the event lines, as `telemetry import` would be given them.
  std::string events_only;
  std::istringstream in(ReadFile(c.output_path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("\"recordType\"") == std::string::npos) events_only += line + "\n";
  }
  const std::string path = dir_.File("events.ndjson");
  std::ofstream(path) << events_only;
  auto other = OpenService(dir_.File("other.db"));
  ImportOptions strict;
  strict.strict = true;
  auto imported = other->ImportNdjson(path, strict);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->imported, r.event_count);
}

TEST_F(ExportTest, CsvFilesPerTableParseStrictlyAndMatchTheDatabase) {
  for (const auto& [name, delim] : std::vector<std::pair<std::string, char>>{
           {"comma", ','}, {"semicolon", ';'}, {"tab", '\t'}, {"|", '|'}}) {
    SCOPED_TRACE(name);
    ExportConfig c;
    c.format = "csv";
    c.csv_delimiter = name;
    c.output_path = dir_.File("out-" + std::to_string(static_cast<int>(delim)) + ".csv");
    ExportResult r = Run({}, c);
    ASSERT_EQ(r.files.size(), 3u);
    const std::string stem = c.output_path.substr(0, c.output_path.size() - 4);
    EXPECT_EQ(r.files[0].path, stem + ".sessions.csv");
    EXPECT_EQ(r.files[1].path, stem + ".events.csv");
    EXPECT_EQ(r.files[2].path, stem + ".errors.csv");
    EXPECT_FALSE(Exists(c.output_path));
    CsvTable events;
    ASSERT_TRUE(ParseStrictCsv(ReadFile(stem + ".events.csv"), delim, &events));
    const std::vector<Event> all = AllEvents();
    ASSERT_EQ(events.size(), all.size() + 1);
    EXPECT_EQ(events[0][0].value, "id");
    EXPECT_EQ(events[0][6].value, "streamData");
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto& row = events[i + 1];
      EXPECT_EQ(row[0].value, std::to_string(all[i].id));
      EXPECT_EQ(row[1].value, all[i].session_id);
      EXPECT_EQ(row[5].value, all[i].prompt.value_or(""));
      EXPECT_EQ(row[6].value, all[i].stream_data.value_or(""));
      // Null is an empty unquoted field; a present value is never an unquoted empty field.
      EXPECT_EQ(!row[4].quoted && row[4].value.empty(), !all[i].mode.has_value());
      EXPECT_EQ(row[10].value, std::to_string(all[i].timestamp));
    }
    CsvTable sessions;
    ASSERT_TRUE(ParseStrictCsv(ReadFile(stem + ".sessions.csv"), delim, &sessions));
    EXPECT_EQ(sessions.size(), AllSessions().size() + 1);
    CsvTable errors;
    ASSERT_TRUE(ParseStrictCsv(ReadFile(stem + ".errors.csv"), delim, &errors));
    EXPECT_EQ(static_cast<std::int64_t>(errors.size()), r.error_count + 1);
  }
}

TEST_F(ExportTest, CsvWithOneTableWritesExactlyTheGivenPath) {
  ExportConfig c;
  c.format = "csv";
  c.output_path = dir_.File("only-events.csv");
  ExportFilter f;
  f.tables = {"events"};
  ExportResult r = Run(f, c);
  ASSERT_EQ(r.files.size(), 1u);
  EXPECT_EQ(r.files[0].path, c.output_path);
  EXPECT_EQ(r.session_count, 0);
  EXPECT_EQ(r.error_count, 0);
}

TEST_F(ExportTest, FiltersSelectTheSameRowsAsTheLibrary) {
  const std::vector<Event> all = AllEvents();
  auto expect_ids = [&](const ExportFilter& f, const std::function<bool(const Event&)>& keep) {
    std::vector<std::int64_t> want;
    for (const Event& e : all) {
      if (keep(e)) want.push_back(e.id);
    }
    std::int64_t skip = f.offset;
    std::vector<std::int64_t> sliced;
    for (std::int64_t id : want) {
      if (skip-- > 0) continue;
      if (f.limit && static_cast<std::int64_t>(sliced.size()) >= *f.limit) break;
      sliced.push_back(id);
    }
    EXPECT_EQ(EventIds(ExportJson(f)), sliced);
    return sliced.size();
  };
  ExportFilter time;
  time.from_time = kT0 + 10000;
  time.to_time = kT0 + 30000;
  EXPECT_GT(expect_ids(time,
                       [&](const Event& e) {
                         return e.timestamp >= *time.from_time && e.timestamp <= *time.to_time;
                       }),
            5u);
  ExportFilter sessions;
  sessions.session_ids = {"sess-1", "sess-3"};
  EXPECT_GT(expect_ids(sessions,
                       [](const Event& e) {
                         return e.session_id == "sess-1" || e.session_id == "sess-3";
                       }),
            5u);
  ExportFilter agents;
  agents.agent_types = {"codex"};
  EXPECT_GT(expect_ids(agents, [](const Event& e) { return e.agent_type == "codex"; }), 5u);
  ExportFilter types;
  types.event_types = {"start", "error"};
  EXPECT_GT(expect_ids(types,
                       [](const Event& e) {
                         return e.event_type == EventType::kStart ||
                                e.event_type == EventType::kError;
                       }),
            5u);
  ExportFilter page;
  page.limit = 7;
  page.offset = 5;
  EXPECT_EQ(expect_ids(page, [](const Event&) { return true; }), 7u);
  // The metadata counts agree with the rows, limit and offset applied.
  EXPECT_EQ(ExportJson(page).at("metadata").at("counts").at("events").as_int64(), 7);
  ExportFilter tail;
  tail.offset = static_cast<std::int64_t>(all.size()) - 3;
  tail.limit = 10;
  json::object tail_doc = ExportJson(tail);
  EXPECT_EQ(tail_doc.at("metadata").at("counts").at("events").as_int64(), 3);
  EXPECT_EQ(tail_doc.at("events").as_array().size(), 3u);

  // Sessions and errors follow the same filter.
  json::object doc = ExportJson(agents);
  for (const auto& s : doc.at("sessions").as_array()) EXPECT_EQ(s.at("agentType"), "codex");
  for (const auto& e : doc.at("errors").as_array()) {
    const std::string sid(e.at("sessionId").as_string());
    EXPECT_EQ(service_->GetSession(sid)->agent_type, "codex");
  }
  ExportFilter tables;
  tables.tables = {"errors", "sessions"};
  doc = ExportJson(tables);
  EXPECT_TRUE(doc.contains("sessions"));
  EXPECT_TRUE(doc.contains("errors"));
  EXPECT_FALSE(doc.contains("events"));
}

TEST_F(ExportTest, EveryCompressionDecompressesWithTheStandardTool) {
  ExportConfig plain;
  plain.format = "ndjson";
  plain.output_path = dir_.File("plain.ndjson");
  Run({}, plain);
  const std::string expected = ReadFile(plain.output_path);
  for (const auto& [compression, tool, ext] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"gzip", "gzip", ".gz"}, {"brotli", "brotli", ".br"}, {"zstd", "zstd", ".zst"}}) {
    SCOPED_TRACE(compression);
    ExportConfig c = plain;
    c.compression = compression;
    c.output_path = dir_.File("c.ndjson");
    ExportResult r = Run({}, c);
    ASSERT_EQ(r.files.size(), 1u);
    const std::string path = c.output_path + ext;  // the extension is appended
    EXPECT_EQ(r.files[0].path, path);
    EXPECT_LT(r.files[0].size_bytes, static_cast<std::int64_t>(expected.size()));
    EXPECT_EQ(Shell(tool + " -t " + path + " 2>&1").first, 0);
    auto [code, out] = Shell(tool + " -dc " + path);
    EXPECT_EQ(code, 0);
    EXPECT_EQ(out, expected);
    EXPECT_EQ(Shell("sha256sum " + path).second.substr(0, 64), r.files[0].sha256);
  }
}

TEST_F(ExportTest, InvalidConfigurationsAreRejectedWithReasons) {
  ExportConfig c;
  c.output_path = dir_.File("x.json");
  c.format = "xml";
  auto v = exporter_->ValidateConfiguration(c);
  EXPECT_FALSE(v.valid);
  ASSERT_EQ(v.errors.size(), 1u);
  EXPECT_NE(v.errors[0].find("unknown format \"xml\""), std::string::npos);
  c.format = "otlp";
  EXPECT_TRUE(exporter_->ValidateConfiguration(c).valid);
  c.format = "OTLP";
  EXPECT_FALSE(exporter_->ValidateConfiguration(c).valid);
  c.format = "csv";
  c.csv_delimiter = "\"";
  EXPECT_FALSE(exporter_->ValidateConfiguration(c).valid);
  c.csv_delimiter = "ab";
  EXPECT_FALSE(exporter_->ValidateConfiguration(c).valid);
  c.csv_delimiter = "tab";
  c.compression = "lz4";
  EXPECT_FALSE(exporter_->ValidateConfiguration(c).valid);
  c.compression = "zstd";
  EXPECT_TRUE(exporter_->ValidateConfiguration(c).valid);
  c.output_path = dir_.File("missing/dir/x.csv");
  EXPECT_FALSE(exporter_->ValidateConfiguration(c).valid);

  // csv to standard output: one table only.
  ExportConfig out;
  out.format = "csv";
  out.output_path = "-";
  auto r = exporter_->Export({}, out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("exactly one table"), std::string::npos);
  ExportFilter bad;
  bad.tables = {"users"};
  out.format = "json";
  EXPECT_EQ(exporter_->Export(bad, out).status().code(), StatusCode::kInvalidArgument);
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

TEST_F(ExportTest, FailedExportLeavesNoFileBehind) {
  TempDir out;
  ASSERT_EQ(::chmod(out.path().c_str(), 0500), 0);  // not writable
  ExportConfig c;
  c.output_path = out.File("x.json");
  auto r = exporter_->Export({}, c);
  ::chmod(out.path().c_str(), 0700);
  if (::geteuid() != 0) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("not writable"), std::string::npos);
  }
  // Output that is not a regular file is never replaced.
  ExportConfig device;
  device.output_path = "/dev/null";
  auto dn = exporter_->Export({}, device);
  ASSERT_FALSE(dn.ok());
  EXPECT_NE(dn.status().message().find("not a regular file"), std::string::npos);

  // A write failing in the middle (the file size limit stands in for a full disk) leaves nothing.
  TempDir full;
  ASSERT_OK(service_->FlushBuffers());
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  ::getrlimit(RLIMIT_FSIZE, &old);
  rlimit small = old;
  small.rlim_cur = 8192;
  ::setrlimit(RLIMIT_FSIZE, &small);
  ExportConfig big;
  big.output_path = full.File("big.json");
  auto f = exporter_->Export({}, big);
  ::setrlimit(RLIMIT_FSIZE, &old);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kIoError) << f.status().ToString();
  EXPECT_TRUE(ListDir(full.path()).empty());

  TempDir empty;
  ExportConfig csv;
  csv.format = "csv";
  csv.output_path = empty.File("out.csv");
  ExportFilter bad;
  bad.event_types = {"bogus"};
  EXPECT_FALSE(exporter_->Export(bad, csv).ok());
  EXPECT_TRUE(ListDir(empty.path()).empty());
}

// A row that cannot be read (stage 1 of the export: here a stored zstd frame damaged on disk)
// aborts the export with the store's error, and no file is left, whatever the format.
TEST_F(ExportTest, UnreadableStoredTextAbortsTheExportAndLeavesNoFile) {
  TrackStreamParams big{"sess-0", "claude"};
  big.stream_data = std::string(4000, 'x');  // stored as a zstd BLOB
  big.timestamp = kT0 + 999999;
  ASSERT_OK(service_->TrackStream(big));
  ASSERT_OK(service_->FlushBuffers());
  const std::string db = dir_.File("t.db");
  ASSERT_EQ(QueryText(db, "SELECT typeof(stream_data) FROM telemetry_events WHERE id = "
                          "(SELECT max(id) FROM telemetry_events)"),
            "blob");
  // Damage the frame through a raw connection (the test database is thrown away). The text
  // index's update trigger is set aside: the index keeps the text it had.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_busy_timeout(raw, 5000);
  char* err = nullptr;
  const int rc = sqlite3_exec(raw,
                              "DROP TRIGGER telemetry_events_text_au;"
                              "UPDATE telemetry_events SET stream_data = x'0128b52ffd0001' "
                              "WHERE id = (SELECT max(id) FROM telemetry_events);",
                              nullptr, nullptr, &err);
  const std::string message = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(raw);
  ASSERT_EQ(rc, SQLITE_OK) << message;

  for (const auto mode : {exporting::PipelineMode::kOn, exporting::PipelineMode::kOff}) {
    exporting::SetPipelineModeForTesting(mode);
    for (const std::string format : {"json", "ndjson", "csv", "otlp"}) {
      SCOPED_TRACE(format + (mode == exporting::PipelineMode::kOn ? " pipelined" : " one stage"));
      TempDir out;
      ExportConfig c;
      c.format = format;
      c.output_path = out.File("x." + format);
      auto r = exporter_->Export({}, c);
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
      EXPECT_TRUE(ListDir(out.path()).empty());
    }
  }
  exporting::SetPipelineModeForTesting(exporting::PipelineMode::kAuto);
}

// The two-stage pipeline (used on 2+ hardware threads) and the single stage write the same bytes,
// with texts stored compressed and plain, for every format and compression.
TEST_F(ExportTest, PipelinedAndSingleStageExportsAreByteIdentical) {
  for (int i = 0; i < 300; ++i) {  // enough rows for many chunks; half the texts compressed
    TrackStreamParams p{"sess-" + std::to_string(i % 5), "claude"};
    p.stream_data = i % 2 == 0 ? std::string(600 + i, static_cast<char>('a' + i % 26)) + "\n\"q\""
                               : "short " + std::to_string(i);
    p.timestamp = kT0 + 500000 + i;
    ASSERT_OK(service_->TrackStream(p));
  }
  ASSERT_OK(service_->FlushBuffers());
  for (const std::string format : {"ndjson", "csv", "otlp"}) {
    for (const std::string compression : {"none", "zstd"}) {
      SCOPED_TRACE(format + " " + compression);
      std::vector<std::string> shas;
      for (const auto mode : {exporting::PipelineMode::kOn, exporting::PipelineMode::kOff}) {
        exporting::SetPipelineModeForTesting(mode);
        TempDir out;
        ExportConfig c;
        c.format = format;
        c.compression = compression;
        c.output_path = out.File("x." + format);
        const ExportResult r = Run({}, c);
        EXPECT_GE(r.event_count, 300);
        std::string all;
        for (const ExportedFile& f : r.files) all += f.sha256 + " ";
        shas.push_back(all);
      }
      exporting::SetPipelineModeForTesting(exporting::PipelineMode::kAuto);
      EXPECT_EQ(shas[0], shas[1]);
    }
  }
}

TEST_F(ExportTest, ListAvailableDataDescribesTheDatabase) {
  auto d = exporter_->ListAvailableData();
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->events, static_cast<std::int64_t>(AllEvents().size()));
  EXPECT_EQ(d->sessions, 12);
  EXPECT_GT(d->errors, 0);
  EXPECT_EQ(d->agent_types, (std::vector<std::string>{"claude", "codex", "gemini"}));
  EXPECT_EQ(d->event_types, (std::vector<std::string>{"end", "error", "start", "stream"}));
  EXPECT_EQ(*d->oldest_event_time, kT0 + 1000);
  EXPECT_EQ(d->formats, (std::vector<std::string>{"json", "ndjson", "csv", "otlp"}));
}

TEST_F(ExportTest, EventsAcknowledgedBeforeTheCallAreInTheExport) {
  TrackStreamParams p;
  p.session_id = "late";
  p.agent_type = "claude";
  p.stream_data = "just now";
  p.timestamp = kT0 + 999999;
  ASSERT_OK(service_->TrackStream(p));  // buffered, not yet committed
  json::object doc = ExportJson();
  EXPECT_EQ(doc.at("events").as_array().back().at("streamData"), "just now");
}

// --- restore and round trip --------------------------------------------------------------------

class RoundTripTest : public ExportTest {};

std::string ExportTo(TelemetryExportService& ex, const std::string& format, const std::string& path,
                     const std::string& compression = "none") {
  ExportConfig c;
  c.format = format;
  c.output_path = path;
  c.compression = compression;
  auto r = ex.Export({}, c);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->files[0].path : "";
}

TEST_F(RoundTripTest, NdjsonExportImportExportIsByteIdentical) {
  const std::string first = ExportTo(*exporter_, "ndjson", dir_.File("a.ndjson"));
  auto other = OpenService(dir_.File("empty.db"));
  TelemetryExportService other_ex(*other);
  auto kind = other_ex.DetectInput(first);
  ASSERT_TRUE(kind.ok());
  EXPECT_EQ(*kind, ExportInputKind::kNdjsonExport);
  auto restored = other_ex.Restore(first);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->sessions, 12);
  const std::string second = ExportTo(other_ex, "ndjson", dir_.File("b.ndjson"));
  EXPECT_EQ(ReadFile(first), ReadFile(second));
  // The restored database answers like the original: rollup, text search.
  EXPECT_EQ(other->GetAggregateStats()->total.total_events,
            service_->GetAggregateStats()->total.total_events);
  EXPECT_EQ(other->GetAggregateStats()->total.error_events,
            service_->GetAggregateStats()->total.error_events);
  EXPECT_EQ(SearchIds(*other, "chunk"), SearchIds(*service_, "chunk"));
  EXPECT_FALSE(SearchIds(*other, "chunk").empty());
}

TEST_F(RoundTripTest, JsonAndCsvRoundTripsKeepEveryRow) {
  for (const std::string format : {"json", "csv"}) {
    for (const std::string compression : {"none", "gzip", "brotli", "zstd"}) {
      SCOPED_TRACE(format + "/" + compression);
      TempDir d;
      const std::string first = ExportTo(*exporter_, format, d.File("a." + format), compression);
      auto other = OpenService(d.File("empty.db"));
      TelemetryExportService other_ex(*other);
      auto restored = other_ex.Restore(format == "csv" ? d.File("a.csv") : first);
      ASSERT_TRUE(restored.ok()) << restored.status().ToString();
      // Compare through ndjson (deterministic).
      EXPECT_EQ(ReadFile(ExportTo(*exporter_, "ndjson", d.File("x.ndjson"))),
                ReadFile(ExportTo(other_ex, "ndjson", d.File("y.ndjson"))));
      if (format == "json" && compression == "none") {
        json::object a = json::parse(ReadFile(first)).as_object();
        json::object b =
            json::parse(ReadFile(ExportTo(other_ex, "json", d.File("b.json")))).as_object();
        a["metadata"].as_object().erase("exportedAt");
        b["metadata"].as_object().erase("exportedAt");
        EXPECT_EQ(json::serialize(a), json::serialize(b));
      }
    }
  }
}

TEST_F(RoundTripTest, RestoreRefusesCollidingIdsAndWritesNothing) {
  const std::string file = ExportTo(*exporter_, "ndjson", dir_.File("a.ndjson"));
  const auto before = service_->GetAggregateStats()->total.total_events;
  auto again = exporter_->Restore(file);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(again.status().message().find("already exists"), std::string::npos);
  EXPECT_EQ(service_->GetAggregateStats()->total.total_events, before);
  EXPECT_EQ(QueryInt(dir_.File("t.db"), "SELECT count(*) FROM telemetry_events"), before);
}

TEST_F(RoundTripTest, TruncatedOrCorruptInputIsRejectedAndNothingIsWritten) {
  const std::string gz = ExportTo(*exporter_, "ndjson", dir_.File("a.ndjson"), "gzip");
  const std::string zst = ExportTo(*exporter_, "json", dir_.File("a.json"), "zstd");
  const std::string json_path = ExportTo(*exporter_, "json", dir_.File("p.json"));
  const std::string gz_data = ReadFile(gz);
  std::ofstream(dir_.File("trunc.ndjson.gz"), std::ios::binary)
      << gz_data.substr(0, gz_data.size() / 2);
  const std::string zst_data = ReadFile(zst);
  std::ofstream(dir_.File("trunc.json.zst"), std::ios::binary)
      << zst_data.substr(0, zst_data.size() - 9);
  const std::string j = ReadFile(json_path);
  std::ofstream(dir_.File("trunc.json")) << j.substr(0, j.size() * 2 / 3);
  std::string bad = j;
  bad[bad.find("\"sessionId\"", bad.find("\"events\"")) + 2] = '\x01';
  std::ofstream(dir_.File("bad.json")) << bad;
  for (const std::string name : {"trunc.ndjson.gz", "trunc.json.zst", "trunc.json", "bad.json"}) {
    SCOPED_TRACE(name);
    auto other = OpenService(dir_.File(name + ".db"));
    TelemetryExportService ex(*other);
    auto r = ex.Restore(dir_.File(name));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << r.status().message();
    EXPECT_EQ(QueryInt(dir_.File(name + ".db"), "SELECT count(*) FROM telemetry_events"), 0);
    EXPECT_EQ(QueryInt(dir_.File(name + ".db"), "SELECT count(*) FROM telemetry_sessions"), 0);
  }
}

TEST_F(RoundTripTest, RestoreRefusesEventsWhoseSessionIsMissing) {
  ExportConfig c;
  c.format = "ndjson";
  c.output_path = dir_.File("events-only.ndjson");
  ExportFilter f;
  f.tables = {"events"};
  ASSERT_TRUE(exporter_->Export(f, c).ok());
  auto other = OpenService(dir_.File("e.db"));
  TelemetryExportService ex(*other);
  auto r = ex.Restore(c.output_path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("neither the input nor the database"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(QueryInt(dir_.File("e.db"), "SELECT count(*) FROM telemetry_events"), 0);
}

TEST_F(RoundTripTest, MalformedCsvIsRejectedWithTheRecordNumber) {
  ExportConfig c;
  c.format = "csv";
  c.output_path = dir_.File("s.csv");
  ExportFilter f;
  f.tables = {"sessions"};
  ASSERT_TRUE(exporter_->Export(f, c).ok());
  const std::string good = ReadFile(c.output_path);
  const std::string header = good.substr(0, good.find("\r\n") + 2);
  std::ofstream(dir_.File("quote.csv")) << header << "a\"b,claude\r\n";
  std::ofstream(dir_.File("count.csv")) << header << "x,claude,,active,1\r\n";
  std::ofstream(dir_.File("open.csv")) << header << "\"never closed,claude\r\n";
  for (const std::string name : {"quote.csv", "count.csv", "open.csv"}) {
    SCOPED_TRACE(name);
    auto other = OpenService(dir_.File(name + ".db"));
    TelemetryExportService ex(*other);
    auto r = ex.Restore(dir_.File(name));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("record 2"), std::string::npos) << r.status().message();
    EXPECT_EQ(QueryInt(dir_.File(name + ".db"), "SELECT count(*) FROM telemetry_sessions"), 0);
  }
}

}  // namespace
}  // namespace vibekit::testing
