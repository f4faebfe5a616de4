// The otlp export format: every file validates against the OTLP protobuf schema
// (tests/otlp/validate_otlp.mjs), one root span per exported session whose span events are
// exactly that session's events (against the library's own answers), filters, byte-identical
// re-export, and import of an OTLP file through the ingest path.
#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "export/export_test_util.h"
#include "workload/workload.h"

namespace vibekit::testing {
namespace {
namespace json = boost::json;

// Runs the schema check (node + @opentelemetry/otlp-transformer) over `files`: {exit, output}.
std::pair<int, std::string> ValidateOtlp(const std::vector<std::string>& files) {
  std::string cmd = std::string(VIBEKIT_NODE) + " " + VIBEKIT_OTLP_VALIDATOR;
  for (const std::string& f : files) cmd += " '" + f + "'";
  return Shell(cmd + " 2>&1");
}

const json::value* Attr(const json::value& attributes, std::string_view key) {
  for (const json::value& kv : attributes.as_array()) {
    if (kv.at("key").as_string() == key) return &kv.at("value");
  }
  return nullptr;
}

// What one root span holds: its session id and the vibekit.event.id of each span event.
struct SpanSummary {
  std::string name;
  std::string session_id;
  std::vector<std::int64_t> event_ids;
};

std::vector<SpanSummary> Spans(const std::string& text) {
  std::vector<SpanSummary> out;
  json::value doc = json::parse(text);
  for (const json::value& rs : doc.at("resourceSpans").as_array()) {
    for (const json::value& ss : rs.at("scopeSpans").as_array()) {
      for (const json::value& span : ss.at("spans").as_array()) {
        SpanSummary s;
        s.name = std::string(span.at("name").as_string());
        const json::value* conv = Attr(span.at("attributes"), "gen_ai.conversation.id");
        if (conv != nullptr) s.session_id = std::string(conv->at("stringValue").as_string());
        if (const json::value* events = span.as_object().if_contains("events")) {
          for (const json::value& ev : events->as_array()) {
            const json::value* id = Attr(ev.at("attributes"), "vibekit.event.id");
            s.event_ids.push_back(
                id == nullptr ? -1 : std::stoll(std::string(id->at("intValue").as_string())));
          }
        }
        out.push_back(std::move(s));
      }
    }
  }
  return out;
}

class OtlpExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ = OpenService(dir_.File("t.db"));
    FillKnownData(*service_);
    ASSERT_OK(service_->FlushBuffers());
    exporter_ = std::make_unique<TelemetryExportService>(*service_);
  }

  ExportResult Run(const ExportFilter& f, const std::string& name,
                   const std::string& compression = "none") {
    ExportConfig c;
    c.format = "otlp";
    c.compression = compression;
    c.output_path = dir_.File(name);
    auto r = exporter_->Export(f, c);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ExportResult{};
  }
  // Sessions (start time, then id order) and, per session, the ids of its events.
  std::vector<Session> AllSessions() {
    SessionQueryFilter f;
    f.limit = 100000;
    f.order = SortOrder::kAsc;
    auto r = service_->QuerySessions(f);
    EXPECT_TRUE(r.ok());
    std::vector<Session> v = *r;
    std::stable_sort(v.begin(), v.end(), [](const Session& a, const Session& b) {
      return a.start_time != b.start_time ? a.start_time < b.start_time : a.id < b.id;
    });
    return v;
  }
  std::vector<Event> EventsOf(const std::string& session_id) {
    EventQueryFilter f;
    f.session_id = session_id;
    f.limit = 100000;
    auto r = service_->QueryEvents(f);
    EXPECT_TRUE(r.ok());
    return *r;
  }
  static std::set<std::int64_t> IdSet(const std::vector<std::int64_t>& ids) {
    return {ids.begin(), ids.end()};
  }

  TempDir dir_;
  std::unique_ptr<TelemetryService> service_;
  std::unique_ptr<TelemetryExportService> exporter_;
};

TEST_F(OtlpExportTest, OneSpanPerSessionHoldingExactlyItsEvents) {
  ExportResult r = Run({}, "all.otlp.json");
  const std::vector<Session> sessions = AllSessions();
  ASSERT_EQ(r.files.size(), 1u);
  EXPECT_EQ(r.format, "otlp");
  EXPECT_EQ(r.session_count, static_cast<std::int64_t>(sessions.size()));
  const std::vector<SpanSummary> spans = Spans(ReadFile(r.files[0].path));
  ASSERT_EQ(spans.size(), sessions.size());
  std::int64_t events = 0;
  for (std::size_t i = 0; i < spans.size(); ++i) {
    SCOPED_TRACE(sessions[i].id);
    EXPECT_EQ(spans[i].session_id, sessions[i].id);  // sessions in start time order
    EXPECT_EQ(spans[i].name, "invoke_agent " + sessions[i].agent_type);
    std::vector<std::int64_t> want;
    for (const Event& e : EventsOf(sessions[i].id)) want.push_back(e.id);
    EXPECT_EQ(spans[i].event_ids.size(), want.size());
    EXPECT_EQ(IdSet(spans[i].event_ids), IdSet(want));
    events += static_cast<std::int64_t>(want.size());
  }
  EXPECT_EQ(r.event_count, events);
  auto summary = exporter_->ListAvailableData();
  ASSERT_OK(summary.status());
  EXPECT_EQ(r.event_count, summary->events);
  EXPECT_EQ(r.error_count, summary->errors);
  EXPECT_GT(r.error_count, 0);
  EXPECT_NE(std::find(summary->formats.begin(), summary->formats.end(), "otlp"),
            summary->formats.end());
  EXPECT_EQ(Sha256HexOfString(ReadFile(r.files[0].path)), r.files[0].sha256);
}

TEST_F(OtlpExportTest, FiltersSelectSessionsAndTheirEvents) {
  const std::vector<Session> sessions = AllSessions();
  ASSERT_GE(sessions.size(), 8u);
  // Agents, event types and a time range: sessions by agent and start time, events by type and
  // timestamp.
  ExportFilter f;
  f.agent_types = {"claude", "gemini"};
  f.event_types = {"stream", "error"};
  f.from_time = sessions[1].start_time;
  f.to_time = sessions[sessions.size() - 2].start_time + 3500;
  ExportResult r = Run(f, "filtered.otlp.json");
  std::vector<SpanSummary> spans = Spans(ReadFile(r.files[0].path));
  std::vector<std::string> want_sessions;
  std::int64_t want_events = 0;
  std::size_t k = 0;
  for (const Session& s : sessions) {
    if ((s.agent_type != "claude" && s.agent_type != "gemini") || s.start_time < *f.from_time ||
        s.start_time > *f.to_time) {
      continue;
    }
    want_sessions.push_back(s.id);
    std::vector<std::int64_t> want;
    for (const Event& e : EventsOf(s.id)) {
      if ((e.event_type == EventType::kStream || e.event_type == EventType::kError) &&
          e.timestamp >= *f.from_time && e.timestamp <= *f.to_time) {
        want.push_back(e.id);
      }
    }
    want_events += static_cast<std::int64_t>(want.size());
    if (k < spans.size()) {
      EXPECT_EQ(IdSet(spans[k].event_ids), IdSet(want)) << s.id;
    }
    ++k;
  }
  ASSERT_GT(want_sessions.size(), 1u);
  ASSERT_EQ(spans.size(), want_sessions.size());
  for (std::size_t i = 0; i < spans.size(); ++i) EXPECT_EQ(spans[i].session_id, want_sessions[i]);
  EXPECT_EQ(r.session_count, static_cast<std::int64_t>(want_sessions.size()));
  EXPECT_EQ(r.event_count, want_events);

  // Session ids, then offset and limit counting sessions.
  ExportFilter ids;
  ids.session_ids = {sessions[5].id, sessions[2].id};
  spans = Spans(ReadFile(Run(ids, "ids.otlp.json").files[0].path));
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].session_id, sessions[2].id);
  EXPECT_EQ(spans[1].session_id, sessions[5].id);
  EXPECT_EQ(spans[1].event_ids.size(), EventsOf(sessions[5].id).size());
  ExportFilter page;
  page.offset = 3;
  page.limit = 4;
  ExportResult paged = Run(page, "page.otlp.json");
  spans = Spans(ReadFile(paged.files[0].path));
  ASSERT_EQ(spans.size(), 4u);
  std::int64_t paged_events = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(spans[i].session_id, sessions[3 + i].id);
    paged_events += static_cast<std::int64_t>(EventsOf(sessions[3 + i].id).size());
  }
  EXPECT_EQ(paged.session_count, 4);
  EXPECT_EQ(paged.event_count, paged_events);
}

TEST_F(OtlpExportTest, SameExportTwiceGivesIdenticalBytes) {
  ExportResult a = Run({}, "a.otlp.json");
  ExportResult b = Run({}, "b.otlp.json");
  EXPECT_EQ(ReadFile(a.files[0].path), ReadFile(b.files[0].path));
  EXPECT_EQ(a.files[0].sha256, b.files[0].sha256);
  ExportResult ga = Run({}, "a.otlp.json", "gzip");
  ExportResult gb = Run({}, "b.otlp.json", "gzip");
  EXPECT_EQ(ga.files[0].path, dir_.File("a.otlp.json.gz"));
  EXPECT_EQ(Shell("gzip -dc " + ga.files[0].path).second, ReadFile(a.files[0].path));
  EXPECT_EQ(ga.files[0].sha256, gb.files[0].sha256);
}

TEST_F(OtlpExportTest, TablesCannotBeChosen) {
  ExportConfig c;
  c.format = "otlp";
  c.output_path = dir_.File("t.otlp.json");
  ExportFilter f;
  f.tables = {"events"};
  auto r = exporter_->Export(f, c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("tables cannot be chosen"), std::string::npos);
  EXPECT_FALSE(Exists(c.output_path));
  f.tables = {"errors", "sessions", "events"};  // all three is the same as none
  EXPECT_TRUE(exporter_->Export(f, c).ok());
}

TEST_F(OtlpExportTest, ImportIntoAnEmptyDatabaseGivesTheSameEventsAndSessions) {
  ExportResult r = Run({}, "src.otlp.json", "zstd");
  auto target = OpenService(dir_.File("copy.db"));
  TelemetryExportService importer(*target);
  auto kind = importer.DetectInput(r.files[0].path);
  ASSERT_OK(kind.status());
  EXPECT_EQ(*kind, ExportInputKind::kOtlpJson);
  EXPECT_FALSE(importer.Restore(r.files[0].path).ok());  // not verbatim: ImportOtlp
  auto imported = importer.ImportOtlp(r.files[0].path);
  ASSERT_OK(imported.status());
  EXPECT_EQ(imported->events, r.event_count);
  EXPECT_EQ(imported->sessions, r.session_count);
  EXPECT_EQ(imported->errors, r.error_count);
  for (const Session& s : AllSessions()) {
    SCOPED_TRACE(s.id);
    auto copy = target->GetSession(s.id);
    ASSERT_OK(copy.status());
    EXPECT_EQ(copy->agent_type, s.agent_type);
    EXPECT_EQ(copy->start_time, s.start_time);
    EXPECT_EQ(copy->end_time, s.end_time);
    EXPECT_EQ(copy->status, s.status);
    EXPECT_EQ(copy->event_count, s.event_count);
    EXPECT_EQ(copy->error_count, s.error_count);
    EXPECT_EQ(copy->metadata.has_value(), s.metadata.has_value());
    EventQueryFilter ef;
    ef.session_id = s.id;
    ef.limit = 100000;
    auto got = target->QueryEvents(ef);
    ASSERT_OK(got.status());
    const std::vector<Event> want = EventsOf(s.id);
    ASSERT_EQ(got->size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ((*got)[i].event_type, want[i].event_type);
      EXPECT_EQ((*got)[i].timestamp, want[i].timestamp);
      EXPECT_EQ((*got)[i].prompt, want[i].prompt);
      EXPECT_EQ((*got)[i].stream_data, want[i].stream_data);
      EXPECT_EQ((*got)[i].repo_url, want[i].repo_url);
      // OTLP carries an event's mode only where it differs from its session's: an event without
      // one comes back with the session's mode.
      EXPECT_EQ((*got)[i].mode, want[i].mode ? want[i].mode : s.mode);
      EXPECT_EQ((*got)[i].metadata.has_value(), want[i].metadata.has_value());
      if (want[i].metadata && (*got)[i].metadata) {
        EXPECT_EQ(json::parse(*(*got)[i].metadata), json::parse(*want[i].metadata));
      }
    }
    auto errors = target->GetSessionErrors(s.id);
    ASSERT_OK(errors.status());
    auto want_errors = service_->GetSessionErrors(s.id);
    ASSERT_EQ(errors->size(), want_errors->size());
    for (std::size_t i = 0; i < errors->size(); ++i) {
      EXPECT_EQ((*errors)[i].error_type, (*want_errors)[i].error_type);
      EXPECT_EQ((*errors)[i].error_message, (*want_errors)[i].error_message);
      EXPECT_EQ((*errors)[i].error_stack, (*want_errors)[i].error_stack);
      EXPECT_EQ((*errors)[i].severity, (*want_errors)[i].severity);
    }
  }
}

TEST_F(OtlpExportTest, TruncatedOrCorruptInputImportsNothing) {
  ExportResult r = Run({}, "src.otlp.json");
  const std::string text = ReadFile(r.files[0].path);
  const std::string truncated = dir_.File("trunc.otlp.json");
  std::ofstream(truncated, std::ios::binary) << text.substr(0, text.size() * 2 / 3);
  const std::string corrupt = dir_.File("corrupt.otlp.json");
  std::string bad = text;
  const std::size_t at = bad.find("\"timeUnixNano\":\"");
  ASSERT_NE(at, std::string::npos);
  bad.replace(at + 16, 1, "x");  // a time that is not a number
  std::ofstream(corrupt, std::ios::binary) << bad;
  auto target = OpenService(dir_.File("copy.db"));
  TelemetryExportService importer(*target);
  for (const std::string& path : {truncated, corrupt}) {
    SCOPED_TRACE(path);
    auto kind = importer.DetectInput(path);
    ASSERT_OK(kind.status());
    EXPECT_EQ(*kind, ExportInputKind::kOtlpJson);
    auto imported = importer.ImportOtlp(path);
    ASSERT_FALSE(imported.ok());
    EXPECT_EQ(imported.status().message().find('\n'), std::string::npos);
  }
  auto summary = importer.ListAvailableData();
  ASSERT_OK(summary.status());
  EXPECT_EQ(summary->events, 0);
  EXPECT_EQ(summary->sessions, 0);
}

// A realistic workload: every file, plain and gzip, passes the OTLP protobuf schema check.
TEST(OtlpExportSchema, WorkloadExportValidatesAgainstTheOtlpSchema) {
  TempDir dir;
  auto service = OpenService(dir.File("w.db"));
  workload::WorkloadOptions wo;
  wo.total_events = 6000;
  wo.error_session_fraction = 0.2;
  wo.failed_fraction = 0.1;
  workload::Generator gen(wo);
  Event e;
  std::vector<Event> batch;
  while (gen.Next(&e)) {
    batch.push_back(e);
    if (batch.size() == 2000) {
      ASSERT_OK(service->InsertEventBatch(batch));
      batch.clear();
    }
  }
  ASSERT_OK(service->InsertEventBatch(batch));
  ASSERT_OK(service->FlushBuffers());
  TelemetryExportService exporter(*service);
  std::vector<std::string> files;
  for (const std::string compression : {"none", "gzip"}) {
    ExportConfig c;
    c.format = "otlp";
    c.compression = compression;
    c.output_path = dir.File("w.otlp.json");
    auto r = exporter.Export({}, c);
    ASSERT_OK(r.status());
    EXPECT_EQ(r->event_count, 6000);
    EXPECT_GT(r->error_count, 0);
    files.push_back(r->files[0].path);
  }
  EXPECT_EQ(files[1], dir.File("w.otlp.json.gz"));
  auto [code, out] = ValidateOtlp(files);
  EXPECT_EQ(code, 0) << out;
  // The check fails on a damaged request (so a pass above means something).
  std::string text = ReadFile(files[0]);
  const std::size_t at = text.find("\"kind\":");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 7, "\"kinds\":");
  std::ofstream(dir.File("bad.json"), std::ios::binary) << text;
  EXPECT_NE(ValidateOtlp({dir.File("bad.json")}).first, 0);
}

}  // namespace
}  // namespace vibekit::testing
