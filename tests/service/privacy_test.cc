// Privacy end to end: the redaction corpus (tests/data/redaction_corpus.tsv) sent through every
// library write path in prompts, stream text, error details and nested metadata; no secret in the
// database file, in a JSON export or in an OTLP export (also for rows stored before redaction was
// on); look-alikes kept; metadata keys hashed with a keyed hash (deterministic per key, different
// across keys, the install key file); the counts-only content mode; the environment switches.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "common/privacy.h"
#include "testing/redaction_corpus.h"
#include "testing/test_util.h"
#include "export/row_pipeline.h"
#include "vibekit/export.h"
#include "vibekit/telemetry_service.h"

namespace vibekit {
namespace {

using testing::CorpusSecret;
using testing::JsonString;
using testing::LoadRedactionCorpus;
using testing::QueryInt;
using testing::QueryText;
using testing::TempDir;
using testing::TestConfig;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Plain TEXT storage (no zstd) so the file's bytes can be searched for the secrets.
TelemetryConfig PlainConfig(const std::string& db) {
  TelemetryConfig c = TestConfig(db);
  c.local_store.compress_min_bytes = 0;
  return c;
}

// Redaction and hashing off: rows are stored as they are sent.
TelemetryConfig PrivacyOffConfig(const std::string& db) {
  TelemetryConfig c = PlainConfig(db);
  c.privacy.redact_secrets = false;
  c.privacy.hash_metadata_keys.clear();
  return c;
}

// Every corpus text through Track*, InsertEventBatch and ImportNdjson, in every text field.
void WriteCorpus(TelemetryService& s, const testing::RedactionCorpus& corpus,
                 const std::string& dir) {
  int n = 0;
  std::string ndjson;
  for (const CorpusSecret& c : corpus.secrets) {
    const std::string id = "sess-" + std::to_string(n++);
    TrackStartParams p{id, "claude"};
    p.prompt = "please deploy; " + c.text;
    p.metadata = R"({"env":{"vars":[)" + JsonString(c.text) + R"(]},"note":)" +
                 JsonString(c.text) + "}";
    p.repo_url = "https://github.com/acme/app";
    ASSERT_OK(s.TrackStart(p));
    TrackStreamParams sp{id, "claude"};
    sp.stream_data = "running: " + c.text;
    ASSERT_OK(s.TrackStream(sp));
    TrackErrorParams e;
    e.session_id = id;
    e.agent_type = "claude";
    e.error = "request failed with " + c.text;
    e.stack = "at call (" + c.text + ")";
    ASSERT_OK(s.TrackError(e));
    Event batch_event;
    batch_event.session_id = id + "-batch";
    batch_event.agent_type = "codex";
    batch_event.event_type = EventType::kStart;
    batch_event.prompt = c.text;
    batch_event.metadata = R"({"a":{"b":{"c":)" + JsonString(c.text) + "}}}";
    ASSERT_OK(s.InsertEventBatch(std::span<const Event>(&batch_event, 1)));
    ndjson += R"({"sessionId":")" + id + R"(-import","eventType":"stream","agentType":"codex",)"
              R"("timestamp":1700000000000,"streamData":)" + JsonString(c.text) +
              R"(,"metadata":{"x":[)" + JsonString(c.text) + "]}}\n";
  }
  const std::string file = dir + "/corpus.ndjson";
  std::ofstream(file) << ndjson;
  auto r = s.ImportNdjson(file, ImportOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->skipped, 0);
  // Look-alikes, which must stay exactly.
  for (const std::string& keep : corpus.keeps) {
    TrackStreamParams sp{"keep", "claude"};
    sp.stream_data = keep;
    sp.metadata = R"({"k":)" + JsonString(keep) + "}";
    ASSERT_OK(s.TrackStream(sp));
  }
  ASSERT_OK(s.FlushBuffers());
}

void ExpectNoSecret(const std::string& where, const std::string& bytes,
                    const testing::RedactionCorpus& corpus) {
  for (const CorpusSecret& c : corpus.secrets) {
    EXPECT_EQ(bytes.find(c.secret), std::string::npos) << c.kind << " leaked into " << where;
  }
}

Result<ExportResult> ExportTo(TelemetryService& s, const std::string& format,
                              const std::string& path) {
  TelemetryExportService ex(s);
  ExportConfig config;
  config.format = format;
  config.output_path = path;
  return ex.Export(ExportFilter{}, config);
}

// The corpus stored as sent by a process with privacy off; exported as `format` to `path` when
// a format is given (the export then holds the secrets too).
void WriteCorpusWithPrivacyOff(const std::string& db, const testing::RedactionCorpus& corpus,
                               const std::string& dir, const std::string& format = "",
                               const std::string& path = "") {
  TelemetryService s(PrivacyOffConfig(db));
  ASSERT_OK(s.Initialize());
  WriteCorpus(s, corpus, dir);
  if (!format.empty()) {
    ASSERT_TRUE(ExportTo(s, format, path).ok());
  }
  ASSERT_OK(s.Shutdown());
}

TEST(Privacy, NoCorpusSecretReachesTheDatabaseOrAnExport) {
  TempDir dir;
  const std::string db = dir.File("p.db");
  const auto corpus = LoadRedactionCorpus();
  ASSERT_GE(corpus.secrets.size(), 20u);
  {
    TelemetryService s(PlainConfig(db));
    ASSERT_OK(s.Initialize());
    WriteCorpus(s, corpus, dir.path());
    // What the library reads back: markers in place of the secrets, look-alikes intact.
    EventQueryFilter f;
    f.session_id = "keep";
    f.limit = 1000;
    auto kept = s.QueryEvents(f);
    ASSERT_TRUE(kept.ok());
    ASSERT_EQ(kept->size(), corpus.keeps.size());
    for (const Event& e : *kept) {
      EXPECT_NE(std::find(corpus.keeps.begin(), corpus.keeps.end(), *e.stream_data),
                corpus.keeps.end())
          << "changed: " << *e.stream_data;
    }
    ASSERT_TRUE(ExportTo(s, "json", dir.File("all.json")).ok());
    ASSERT_TRUE(ExportTo(s, "otlp", dir.File("all.otlp.json")).ok());
    ASSERT_OK(s.Shutdown());
  }
  EXPECT_GT(QueryInt(db, "SELECT count(*) FROM telemetry_events WHERE stream_data LIKE "
                         "'%[REDACTED:github_token]%'"), 0);
  EXPECT_GT(QueryInt(db, "SELECT count(*) FROM telemetry_errors WHERE error_message LIKE "
                         "'%[REDACTED:%'"), 0);
  // The file itself (events, errors, sessions' merged metadata, the text index, audit rows).
  ExpectNoSecret("the database file", ReadFile(db) + ReadFile(db + "-wal"), corpus);
  const std::string json = ReadFile(dir.File("all.json"));
  EXPECT_NE(json.find("[REDACTED:private_key]"), std::string::npos);
  ExpectNoSecret("the JSON export", json, corpus);
  ExpectNoSecret("the OTLP export", ReadFile(dir.File("all.otlp.json")), corpus);
}

TEST(Privacy, RowsStoredBeforeRedactionWasOnDoNotLeaveThroughExports) {
  TempDir dir;
  const std::string db = dir.File("p.db");
  const auto corpus = LoadRedactionCorpus();
  ASSERT_NO_FATAL_FAILURE(WriteCorpusWithPrivacyOff(db, corpus, dir.path()));
  // Off means off: the secrets are in the file.
  EXPECT_NE(ReadFile(db).find(corpus.secrets.front().secret), std::string::npos);
  TelemetryService s(PlainConfig(db));
  ASSERT_OK(s.Initialize());
  ASSERT_TRUE(ExportTo(s, "json", dir.File("old.json")).ok());
  ASSERT_TRUE(ExportTo(s, "ndjson", dir.File("old.ndjson")).ok());
  ASSERT_TRUE(ExportTo(s, "otlp", dir.File("old.otlp.json")).ok());
  ASSERT_OK(s.Shutdown());
  ExpectNoSecret("the JSON export", ReadFile(dir.File("old.json")), corpus);
  ExpectNoSecret("the NDJSON export", ReadFile(dir.File("old.ndjson")), corpus);
  ExpectNoSecret("the OTLP export", ReadFile(dir.File("old.otlp.json")), corpus);
  for (const std::string& keep : corpus.keeps) {
    if (keep.find('"') != std::string::npos || keep.find('\\') != std::string::npos) continue;
    EXPECT_NE(ReadFile(dir.File("old.json")).find(keep), std::string::npos) << keep;
  }
}

TEST(Privacy, ARestoredExportIsRedactedBeforeItIsWritten) {
  TempDir dir;
  const auto corpus = LoadRedactionCorpus();
  ASSERT_NO_FATAL_FAILURE(WriteCorpusWithPrivacyOff(dir.File("old.db"), corpus, dir.path(),
                                                    "json", dir.File("raw.json")));
  EXPECT_NE(ReadFile(dir.File("raw.json")).find(corpus.secrets.front().secret),
            std::string::npos);
  const std::string db = dir.File("new.db");
  {
    TelemetryService s(PlainConfig(db));
    ASSERT_OK(s.Initialize());
    TelemetryExportService ex(s);
    auto restored = ex.Restore(dir.File("raw.json"));
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    EXPECT_GT(restored->events, 0);
    ASSERT_OK(s.Shutdown());
  }
  ExpectNoSecret("the restored database", ReadFile(db) + ReadFile(db + "-wal"), corpus);
}

// The export skips the copy and the rewrite of a row when Privacy::ChangesOutgoing says nothing
// would change: it must never say so for a row ApplyOutgoing changes.
template <typename Row>
auto OutgoingFields(const Row& r) {
  if constexpr (std::is_same_v<Row, Event>) {
    return std::make_tuple(r.prompt, r.stream_data, r.repo_url, r.metadata,
                           r.error ? r.error->message : "", r.error ? r.error->stack : std::nullopt,
                           r.error ? r.error->context : std::nullopt);
  } else if constexpr (std::is_same_v<Row, ErrorRecord>) {
    return std::make_tuple(r.error_message, r.error_stack, r.context, r.metadata);
  } else {
    return std::make_tuple(r.repo_url, r.metadata);
  }
}

// Returns whether ApplyOutgoing changed `row`.
template <typename Row>
bool ExpectChangeSeen(const internal::Privacy& p, const Row& row) {
  Row copy = row;
  p.ApplyOutgoing(copy);
  const bool changed = OutgoingFields(copy) != OutgoingFields(row);
  if (changed) {
    EXPECT_TRUE(p.ChangesOutgoing(row)) << "a change the export would skip";
  }
  // WithOutgoing hands the writer exactly what ApplyOutgoing makes.
  p.WithOutgoing(row, [&](const Row& out) {
    EXPECT_TRUE(OutgoingFields(out) == OutgoingFields(copy));
    return 0;
  });
  return changed;
}

std::vector<std::string> OutgoingCases(const testing::RedactionCorpus& corpus) {
  std::vector<std::string> texts;
  for (const CorpusSecret& c : corpus.secrets) texts.push_back(c.text);
  for (const std::string& k : corpus.keeps) texts.push_back(k);
  texts.push_back("ticket ACME-123456 closed");
  return texts;
}

std::vector<std::string> MetadataCases(const std::vector<std::string>& texts) {
  std::vector<std::string> m = {
      R"({"userId":"u-1"})", R"({"userId" : 42})", R"({"userId":"hmac:00ff"})",
      R"({"userId":null})", R"({"user":{"id":7}})", R"({"user":{"email":"a@b.c"}})",
      R"({"note":"email"})", R"({"list":["userId"]})", R"({"user_email":{"x":1}})",
      R"({"a":"line
break"})", R"({"DB_PASSWORD":"correct horse"})", R"({"max_tokens":4096})",
      R"({"x":""userId": 1"})", "not json at all: API_KEY=0123456789abcdef"};
  for (const std::string& t : texts) m.push_back(R"({"k":{"v":[)" + JsonString(t) + "]}}");
  return m;
}

TEST(Privacy, TheExportSkipsOnlyRowsThatApplyOutgoingLeavesAsTheyAre) {
  TempDir dir;
  const auto corpus = LoadRedactionCorpus();
  const std::vector<std::string> texts = OutgoingCases(corpus);
  const std::vector<std::string> metadata = MetadataCases(texts);
  TelemetryConfig defaults = PlainConfig(dir.File("a.db"));
  defaults.privacy.hash_key = "key-0123456789abcdef0123456789abcdef";
  TelemetryConfig custom = defaults;
  custom.privacy.redact_patterns = {"ACME-[0-9]{6}"};
  TelemetryConfig only_custom = custom;
  only_custom.privacy.redact_secrets = false;
  only_custom.privacy.hash_metadata_keys.clear();
  TelemetryConfig only_hashing = defaults;
  only_hashing.privacy.redact_secrets = false;
  for (const TelemetryConfig& config : {defaults, custom, only_custom, only_hashing}) {
    auto p = internal::Privacy::Create(config);
    ASSERT_TRUE(p.ok());
    int changed = 0, skipped = 0;
    const auto count = [&](bool c, bool seen) {
      changed += c ? 1 : 0;
      skipped += seen ? 0 : 1;
    };
    for (const std::string& t : texts) {
      for (int field = 0; field < 6; ++field) {
        Event e;
        e.session_id = "s";
        e.agent_type = "claude";
        if (field == 0) e.prompt = t;
        if (field == 1) e.stream_data = t;
        if (field == 2) e.repo_url = t;
        if (field >= 3) {
          e.event_type = EventType::kError;
          e.error = ErrorDetails{};
          e.error->message = field == 3 ? t : "failed";
          if (field == 4) e.error->stack = t;
          if (field == 5) e.error->context = t;
        }
        count(ExpectChangeSeen(**p, e), (*p)->ChangesOutgoing(e));
      }
      for (int field = 0; field < 3; ++field) {
        ErrorRecord r;
        r.session_id = "s";
        r.error_type = "E";
        r.error_message = field == 0 ? t : "failed";
        if (field == 1) r.error_stack = t;
        if (field == 2) r.context = t;
        count(ExpectChangeSeen(**p, r), (*p)->ChangesOutgoing(r));
      }
      Session session;
      session.id = "s";
      session.repo_url = t;
      count(ExpectChangeSeen(**p, session), (*p)->ChangesOutgoing(session));
    }
    for (const std::string& m : metadata) {
      Event e;
      e.metadata = m;
      count(ExpectChangeSeen(**p, e), (*p)->ChangesOutgoing(e));
      ErrorRecord r;
      r.metadata = m;
      count(ExpectChangeSeen(**p, r), (*p)->ChangesOutgoing(r));
      Session session;
      session.metadata = m;
      count(ExpectChangeSeen(**p, session), (*p)->ChangesOutgoing(session));
    }
    // Both kinds occur: the check is neither always true nor always false.
    EXPECT_GT(changed, 5);
    EXPECT_GT(skipped, 20);
  }
}

// Three processes with different settings write to one database; the third exports. Whatever
// the settings each row was stored under, none of its secrets leave, in any table or format.
TEST(Privacy, RowsOfEveryTableStoredUnderOtherSettingsDoNotLeave) {
  TempDir dir;
  const std::string db = dir.File("mixed.db");
  const auto corpus = LoadRedactionCorpus();
  const std::string ticket = "ACME-424242";
  const auto write_tickets = [&](TelemetryService& s, const std::string& session) {
    TrackStartParams p{session, "claude"};
    p.prompt = "close " + ticket;
    p.repo_url = "https://example.com/" + ticket;
    p.metadata = R"({"ticket":")" + ticket + R"(","userId":"plain-user-1"})";
    ASSERT_OK(s.TrackStart(p));
    TrackErrorParams e;
    e.session_id = session;
    e.agent_type = "claude";
    e.error = "failed on " + ticket;
    e.stack = "at " + ticket;
    e.metadata = R"({"t":")" + ticket + R"("})";
    ASSERT_OK(s.TrackError(e));
    ASSERT_OK(s.FlushBuffers());
  };
  ASSERT_NO_FATAL_FAILURE(WriteCorpusWithPrivacyOff(db, corpus, dir.path()));  // 1: nothing on
  {
    TelemetryService s(PrivacyOffConfig(db));
    ASSERT_OK(s.Initialize());
    write_tickets(s, "tickets-1");
    ASSERT_OK(s.Shutdown());
  }
  {  // 2: the defaults, without the custom pattern.
    TelemetryService s(PlainConfig(db));
    ASSERT_OK(s.Initialize());
    write_tickets(s, "tickets-2");
    ASSERT_OK(s.Shutdown());
  }
  {  // 3: nothing on again, after rows stored with redaction on.
    TelemetryService s(PrivacyOffConfig(db));
    ASSERT_OK(s.Initialize());
    TrackStreamParams sp{"tickets-2", "claude"};
    sp.stream_data = "late: " + corpus.secrets.front().text;
    ASSERT_OK(s.TrackStream(sp));
    ASSERT_OK(s.Shutdown());
  }
  EXPECT_NE(ReadFile(db).find(ticket), std::string::npos);
  // The exporting process: the defaults plus a custom pattern added since.
  TelemetryConfig on = PlainConfig(db);
  on.privacy.redact_patterns = {"ACME-[0-9]{6}"};
  on.privacy.hash_key = "key-0123456789abcdef0123456789abcdef";
  TelemetryService s(on);
  ASSERT_OK(s.Initialize());
  TelemetryExportService ex(s);
  // Both export paths: the pipeline applies the settings on either of its stages, the single
  // stage as it writes.
  for (const auto mode : {exporting::PipelineMode::kOn, exporting::PipelineMode::kOff})
  for (const std::string format : {"json", "ndjson", "csv", "otlp"}) {
    exporting::SetPipelineModeForTesting(mode);
    SCOPED_TRACE(mode == exporting::PipelineMode::kOn ? "pipelined" : "one stage");
    ExportConfig config;
    config.format = format;
    config.output_path = dir.File("mixed." + format);
    auto r = ex.Export(ExportFilter{}, config);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_GT(r->session_count, 0) << format;
    std::string bytes;
    for (const ExportedFile& f : r->files) bytes += ReadFile(f.path);
    ExpectNoSecret("the " + format + " export", bytes, corpus);
    EXPECT_EQ(bytes.find(ticket), std::string::npos) << format;
    EXPECT_EQ(bytes.find("plain-user-1"), std::string::npos) << format;
    EXPECT_NE(bytes.find("[REDACTED:custom]"), std::string::npos) << format;
    if (format != "otlp") {
      for (const std::string table : {"sessions", "events", "errors"}) {
        ExportFilter only;
        only.tables = {table};
        config.output_path = dir.File("only-" + table + "." + format);
        auto one = ex.Export(only, config);
        ASSERT_TRUE(one.ok()) << one.status().ToString();
        const std::string text = ReadFile(one->files.front().path);
        EXPECT_NE(text.find("[REDACTED:custom]"), std::string::npos) << table << " " << format;
        EXPECT_EQ(text.find(ticket), std::string::npos) << table << " " << format;
        ExpectNoSecret(table + " in " + format, text, corpus);
      }
    }
  }
  exporting::SetPipelineModeForTesting(exporting::PipelineMode::kAuto);
  ASSERT_OK(s.Shutdown());
}

// What the export's shortcut rests on: a row stored through ApplyIncoming is left exactly as it
// is by ApplyOutgoing under the same settings (built-in detectors, an extra pattern, hashed
// keys), for every corpus text in every field.
TEST(Privacy, StoredRowsAreAFixedPointOfTheSameSettings) {
  TelemetryConfig config = PlainConfig("unused.db");
  config.privacy.redact_patterns = {"ACME-[0-9]{6}"};
  config.privacy.hash_metadata_keys = {"userId", "user.email"};
  config.privacy.hash_key = "key-0123456789abcdef0123456789abcdef";
  auto privacy = internal::Privacy::Create(config);
  ASSERT_TRUE(privacy.ok()) << privacy.status().ToString();
  const internal::Privacy& p = **privacy;
  const auto corpus = LoadRedactionCorpus();
  std::vector<std::string> texts = corpus.keeps;
  for (const CorpusSecret& c : corpus.secrets) texts.push_back(c.text);
  texts.push_back("ticket ACME-123456, see ACME-654321: password=ACME-111111");
  for (const std::string& text : texts) {
    Event e;
    e.session_id = "s";
    e.agent_type = "claude";
    e.event_type = EventType::kError;
    e.prompt = "deploy " + text;
    e.stream_data = text + "\n" + text;
    e.repo_url = "https://example.com/" + text;
    e.metadata = R"({"userId":)" + JsonString(text) + R"(,"user":{"email":"a@b.c"},"note":)" +
                 JsonString(text) + "}";
    e.error = ErrorDetails{"boom", "failed: " + text, text, "ctx " + text};
    p.ApplyIncoming(e);
    Event again = e;
    p.ApplyOutgoing(again);
    EXPECT_EQ(again.prompt, e.prompt) << text;
    EXPECT_EQ(again.stream_data, e.stream_data) << text;
    EXPECT_EQ(again.repo_url, e.repo_url) << text;
    EXPECT_EQ(again.metadata, e.metadata) << text;
    EXPECT_EQ(again.error->message, e.error->message) << text;
    EXPECT_EQ(again.error->stack, e.error->stack) << text;
    EXPECT_EQ(again.error->context, e.error->context) << text;
  }
  // The fingerprint names the settings: equal for equal ones, different for any change.
  auto same = internal::Privacy::Create(config);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ((*same)->fingerprint(), p.fingerprint());
  EXPECT_EQ(p.fingerprint().size(), 64u);
  for (int change = 0; change < 4; ++change) {
    TelemetryConfig other = config;
    if (change == 0) other.privacy.redact_secrets = false;
    if (change == 1) other.privacy.redact_patterns.push_back("X");
    if (change == 2) other.privacy.hash_metadata_keys = {"userId"};
    if (change == 3) other.privacy.redact_patterns = {"ACME-[0-9]{6", "}"};
    auto o = internal::Privacy::Create(other);
    if (!o.ok()) continue;  // (a pattern split like that does not compile)
    EXPECT_NE((*o)->fingerprint(), p.fingerprint()) << change;
  }
  TelemetryConfig keyed = config;  // the install key and content mode are not part of it
  keyed.privacy.hash_key = "another-key-0123456789abcdef0123";
  keyed.privacy.store_content = false;
  auto k = internal::Privacy::Create(keyed);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ((*k)->fingerprint(), p.fingerprint());
}

// Events written through the exporting process's own settings are recorded as such
// (telemetry_privacy_ranges) and not scanned again: the export is the same as the full scan's
// (the range deleted), holds no secret, and rows written otherwise are still scanned.
TEST(Privacy, EventsStoredUnderTheExportsSettingsExportAsAFullScanWould) {
  TempDir dir;
  const std::string db = dir.File("ranges.db");
  const auto corpus = LoadRedactionCorpus();
  TelemetryConfig config = PlainConfig(db);
  config.privacy.redact_patterns = {"ACME-[0-9]{6}"};
  config.privacy.hash_metadata_keys = {"userId"};
  config.privacy.hash_key = "key-0123456789abcdef0123456789abcdef";
  ASSERT_NO_FATAL_FAILURE(WriteCorpusWithPrivacyOff(db, corpus, dir.path()));  // not in range
  TelemetryService s(config);
  ASSERT_OK(s.Initialize());
  ASSERT_NO_FATAL_FAILURE(WriteCorpus(s, corpus, dir.path()));
  // The second process's events form the range, the first's stay outside it.
  const std::int64_t ranged = QueryInt(db,
      "SELECT count(*) FROM telemetry_events e JOIN telemetry_privacy_ranges r "
      "ON e.id BETWEEN r.first_event_id AND r.last_event_id");
  EXPECT_GT(ranged, 0);
  EXPECT_LT(ranged, QueryInt(db, "SELECT count(*) FROM telemetry_events"));
  EXPECT_EQ(QueryText(db, "SELECT fingerprint FROM telemetry_privacy_ranges"),
            internal::Privacy::Create(config).value()->fingerprint());
  exporting::SetPipelineModeForTesting(exporting::PipelineMode::kOn);
  const auto run = [&](const std::string& tag) {
    std::string all;
    for (const std::string format : {"csv", "otlp"}) {
      auto r = ExportTo(s, format, dir.File(tag + "." + format));
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) return all;
      for (const ExportedFile& f : r->files) all += ReadFile(f.path);
    }
    return all;
  };
  const std::string with_range = run("range");
  testing::ExecSql(db, "DELETE FROM telemetry_privacy_ranges");
  const std::string full_scan = run("full");
  exporting::SetPipelineModeForTesting(exporting::PipelineMode::kAuto);
  ASSERT_OK(s.Shutdown());
  EXPECT_FALSE(with_range.empty());
  EXPECT_EQ(with_range, full_scan);
  ExpectNoSecret("the export with the privacy range", with_range, corpus);
}

// A restore by a process with redaction off stores the secrets; a later export by a process
// with it on does not let them out.
TEST(Privacy, RowsRestoredWithRedactionOffDoNotLeaveThroughExports) {
  TempDir dir;
  const auto corpus = LoadRedactionCorpus();
  ASSERT_NO_FATAL_FAILURE(WriteCorpusWithPrivacyOff(dir.File("old.db"), corpus, dir.path(),
                                                    "ndjson", dir.File("raw.ndjson")));
  const std::string db = dir.File("restored.db");
  {  // The raw restore with redaction off, then rows with it on.
    TelemetryService s(PrivacyOffConfig(db));
    ASSERT_OK(s.Initialize());
    TelemetryExportService ex(s);
    auto restored = ex.Restore(dir.File("raw.ndjson"));
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    ASSERT_OK(s.Shutdown());
  }
  {
    TelemetryService s(PlainConfig(db));
    ASSERT_OK(s.Initialize());
    TrackStartParams p{"after-restore", "claude"};
    p.prompt = "plain";
    ASSERT_OK(s.TrackStart(p));
    ASSERT_OK(s.Shutdown());
  }
  EXPECT_NE(ReadFile(db).find(corpus.secrets.front().secret), std::string::npos);
  TelemetryService s(PlainConfig(db));
  ASSERT_OK(s.Initialize());
  for (const std::string format : {"json", "csv", "otlp"}) {
    auto r = ExportTo(s, format, dir.File("out." + format));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    std::string bytes;
    for (const ExportedFile& f : r->files) bytes += ReadFile(f.path);
    ExpectNoSecret("the " + format + " export of restored rows", bytes, corpus);
    EXPECT_NE(bytes.find("after-restore"), std::string::npos) << format;
  }
  ASSERT_OK(s.Shutdown());
}

std::string StoredMetadata(const std::string& db, const std::string& session) {
  return QueryText(db, "SELECT metadata FROM telemetry_events WHERE session_id = '" + session +
                           "' ORDER BY id LIMIT 1");
}

TEST(Privacy, MetadataKeysAreHashedDeterministicallyPerKey) {
  TempDir dir;
  const std::string db = dir.File("h.db");
  TelemetryConfig config = TestConfig(db);
  config.privacy.hash_key = "key-one-0123456789abcdef0123456789";
  {
    TelemetryService s(config);
    ASSERT_OK(s.Initialize());
    for (const char* id : {"a", "b"}) {
      TrackStartParams p{id, "claude"};
      p.metadata = R"({"userId":"alice@example.com","user":{"email":"alice@example.com"},)"
                   R"("team":"infra","n":1})";
      ASSERT_OK(s.TrackStart(p));
    }
    ASSERT_OK(s.Shutdown());
  }
  config.privacy.hash_key = "key-two-0123456789abcdef0123456789";
  {
    TelemetryService s(config);
    ASSERT_OK(s.Initialize());
    TrackStartParams p{"c", "claude"};
    p.metadata = R"({"userId":"alice@example.com"})";
    ASSERT_OK(s.TrackStart(p));
    ASSERT_OK(s.Shutdown());
  }
  const std::string a = StoredMetadata(db, "a");
  const std::string b = StoredMetadata(db, "b");
  const std::string c = StoredMetadata(db, "c");
  EXPECT_EQ(a.find("alice"), std::string::npos) << a;
  EXPECT_NE(a.find(R"("team":"infra")"), std::string::npos) << a;
  EXPECT_EQ(a, b);  // same value, same key: same hash
  const std::size_t at = a.find(R"("userId":"hmac:)");
  ASSERT_NE(at, std::string::npos) << a;
  const std::string hash_one = a.substr(at + 10, 5 + 64);
  EXPECT_NE(a.find(R"("email":")" + hash_one + "\""), std::string::npos) << a;  // user.email
  EXPECT_EQ(c.find(hash_one), std::string::npos) << c;  // another key, another hash
  EXPECT_NE(c.find(R"("userId":"hmac:)"), std::string::npos) << c;
}

TEST(Privacy, ThePerInstallKeyIsMadeOnceWithMode0600AndReused) {
  TempDir dir;
  const std::string db = dir.File("k.db");
  TelemetryConfig config = TestConfig(db);
  config.privacy.hash_key.clear();
  {
    // Nothing to hash yet: no key file.
    TelemetryService s(config);
    ASSERT_OK(s.Initialize());
    TrackStartParams p{"none", "claude"};
    p.metadata = R"({"team":"infra"})";
    ASSERT_OK(s.TrackStart(p));
    ASSERT_OK(s.Shutdown());
    struct stat none {};
    EXPECT_NE(::stat(dir.File("install.key").c_str(), &none), 0);
  }
  for (const char* id : {"a", "b"}) {
    TelemetryService s(config);
    ASSERT_OK(s.Initialize());
    TrackStartParams p{id, "claude"};
    p.metadata = R"({"user_id":"42"})";
    ASSERT_OK(s.TrackStart(p));
    ASSERT_OK(s.Shutdown());
  }
  struct stat st {};
  ASSERT_EQ(::stat(dir.File("install.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string key = ReadFile(dir.File("install.key"));
  EXPECT_EQ(key.size(), 65u);  // 64 hex digits and a newline
  EXPECT_EQ(StoredMetadata(db, "a"), StoredMetadata(db, "b"));
  EXPECT_NE(StoredMetadata(db, "a").find("hmac:"), std::string::npos);
  // Another install (another key file) hashes differently.
  TempDir other;
  TelemetryConfig config2 = TestConfig(other.File("k.db"));
  config2.privacy.hash_key.clear();
  TelemetryService s(config2);
  ASSERT_OK(s.Initialize());
  TrackStartParams p{"a", "claude"};
  p.metadata = R"({"user_id":"42"})";
  ASSERT_OK(s.TrackStart(p));
  ASSERT_OK(s.Shutdown());
  EXPECT_NE(StoredMetadata(other.File("k.db"), "a"), StoredMetadata(db, "a"));
}

TEST(Privacy, ContentOffStoresCountsAndSizesOnly) {
  TempDir dir;
  const std::string db = dir.File("c.db");
  TelemetryConfig config = PlainConfig(db);
  config.privacy.store_content = false;
  TelemetryService s(config);
  ASSERT_OK(s.Initialize());
  TrackStartParams p{"s", "claude"};
  p.prompt = "refactor the payment module";  // 27 bytes
  p.metadata = R"({"model":"m1"})";
  ASSERT_OK(s.TrackStart(p));
  TrackStreamParams sp{"s", "claude"};
  sp.stream_data = "12345";
  ASSERT_OK(s.TrackStream(sp));
  TrackErrorParams e;
  e.session_id = "s";
  e.agent_type = "claude";
  e.error = "tool failed";
  ASSERT_OK(s.TrackError(e));
  ASSERT_OK(s.FlushBuffers());
  auto stats = s.GetSessionStats("s");
  ASSERT_TRUE(stats.ok());
  ASSERT_OK(s.Shutdown());
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events"), 3);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM telemetry_events WHERE prompt IS NOT NULL "
                         "OR (stream_data IS NOT NULL AND event_type <> 'error')"), 0);
  EXPECT_EQ(StoredMetadata(db, "s"), R"({"vibekit.prompt_bytes":27,"model":"m1"})");
  EXPECT_EQ(QueryText(db, "SELECT metadata FROM telemetry_events WHERE event_type = 'stream'"),
            R"({"vibekit.stream_bytes":5})");
  EXPECT_EQ(QueryText(db, "SELECT error_message FROM telemetry_errors"), "tool failed");
  EXPECT_EQ(ReadFile(db).find("payment module"), std::string::npos);
}

TEST(Privacy, EnvironmentSwitches) {
  ::setenv("TELEMETRY_REDACT", "off", 1);
  ::setenv("TELEMETRY_STORE_CONTENT", "false", 1);
  ::setenv("TELEMETRY_HASH_KEYS", "userId, account.id", 1);
  ::setenv("TELEMETRY_HASH_KEY", "k", 1);
  ::setenv("TELEMETRY_REDACT_PATTERNS", "ACME-[0-9]+\nINT-[a-z]+", 1);
  TelemetryConfig c;
  Status st = ApplyEnvironment(c);
  for (const char* v : {"TELEMETRY_REDACT", "TELEMETRY_STORE_CONTENT", "TELEMETRY_HASH_KEYS",
                        "TELEMETRY_HASH_KEY", "TELEMETRY_REDACT_PATTERNS"}) {
    ::unsetenv(v);
  }
  ASSERT_OK(st);
  EXPECT_FALSE(c.privacy.redact_secrets);
  EXPECT_FALSE(c.privacy.store_content);
  EXPECT_EQ(c.privacy.hash_metadata_keys, (std::vector<std::string>{"userId", "account.id"}));
  EXPECT_EQ(c.privacy.hash_key, "k");
  EXPECT_EQ(c.privacy.redact_patterns, (std::vector<std::string>{"ACME-[0-9]+", "INT-[a-z]+"}));
}

TEST(Privacy, ABadPatternStopsInitialize) {
  TempDir dir;
  TelemetryConfig config = TestConfig(dir.File("x.db"));
  config.privacy.redact_patterns = {"(oops"};
  TelemetryService s(config);
  Status st = s.Initialize();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("(oops"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace vibekit
