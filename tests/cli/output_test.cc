#include "cli/output.h"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include "vibekit/event.h"
#include "vibekit/telemetry_service.h"

namespace vibekit::cli {
namespace {

namespace json = boost::json;

// Runs `write` against an in-memory FILE and returns what it wrote.
template <typename Fn>
std::string Capture(Fn&& write) {
  char* buf = nullptr;
  std::size_t size = 0;
  std::FILE* f = open_memstream(&buf, &size);
  EXPECT_NE(f, nullptr);
  if (f == nullptr) return {};
  write(f);
  std::fclose(f);
  std::string out(buf, size);
  std::free(buf);
  return out;
}

std::string PrintTo(const Records& records, OutputOptions options) {
  return Capture([&](std::FILE* f) { Print(records, options, f); });
}

std::string PrintObjectTo(const json::object& object, OutputOptions options) {
  return Capture([&](std::FILE* f) { PrintObject(object, options, f); });
}

OutputOptions Table(int width = 0, bool color = false) {
  OutputOptions o;
  o.format = Format::kTable;
  o.width = width;
  o.color = color;
  return o;
}

OutputOptions As(Format format) {
  OutputOptions o;
  o.format = format;
  return o;
}

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

// A strict RFC 4180 reader: every record ends in CRLF, quoted fields double their quotes, bare
// fields hold no quote, CR or LF, and a closing quote is followed by a comma or CRLF.
std::optional<std::vector<std::vector<std::string>>> ParseCsv(std::string_view in) {
  std::vector<std::vector<std::string>> records;
  std::size_t i = 0;
  while (i < in.size()) {
    std::vector<std::string> record;
    while (true) {
      std::string field;
      if (i < in.size() && in[i] == '"') {
        ++i;
        while (true) {
          if (i >= in.size()) return std::nullopt;  // unterminated quote
          if (in[i] == '"') {
            if (i + 1 < in.size() && in[i + 1] == '"') {
              field.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          field.push_back(in[i++]);
        }
      } else {
        while (i < in.size() && in[i] != ',' && in[i] != '\r') {
          if (in[i] == '"' || in[i] == '\n') return std::nullopt;
          field.push_back(in[i++]);
        }
      }
      record.push_back(std::move(field));
      if (i < in.size() && in[i] == ',') {
        ++i;
        continue;
      }
      if (i + 1 < in.size() && in[i] == '\r' && in[i + 1] == '\n') {
        i += 2;
        break;
      }
      return std::nullopt;  // missing CRLF or junk after a closing quote
    }
    records.push_back(std::move(record));
  }
  return records;
}

std::vector<std::string> Keys(const json::object& o) {
  std::vector<std::string> keys;
  for (const auto& kv : o) keys.emplace_back(kv.key());
  return keys;
}

bool IsValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = b < 0x80             ? 1
                      : (b & 0xE0) == 0xC0 ? 2
                      : (b & 0xF0) == 0xE0 ? 3
                      : (b & 0xF8) == 0xF0 ? 4
                                           : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

// Code points, which equal display columns for the narrow text used below.
std::size_t CodePoints(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl - start));
    start = nl == std::string::npos ? text.size() : nl + 1;
  }
  return lines;
}

Event SampleEvent() {
  Event e;
  e.id = 7;
  e.session_id = "s-1";
  e.event_type = EventType::kStream;
  e.agent_type = "claude";
  e.mode = "code";
  e.stream_data = "hello";
  e.metadata = R"({"k":1})";
  e.timestamp = 1'795'600'800'000;
  e.created_at = 1'795'600'800'001;
  return e;
}

TEST(Output, ParseFormatAcceptsTheFourNames) {
  EXPECT_EQ(*ParseFormat("table"), Format::kTable);
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_EQ(*ParseFormat("ndjson"), Format::kNdjson);
  EXPECT_EQ(*ParseFormat("csv"), Format::kCsv);
  Result<Format> bad = ParseFormat("yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("ndjson"), std::string::npos);
}

TEST(Output, TableAlignsStringsLeftAndNumbersRight) {
  Records r;
  r.columns = {"id", "name", "count"};
  r.rows = {Obj(R"({"id":1,"name":"alpha","count":10})"), Obj(R"({"id":22,"name":"b","count":3})")};
  EXPECT_EQ(PrintTo(r, Table()),
            "id  name   count\n"
            " 1  alpha     10\n"
            "22  b          3\n");
}

TEST(Output, TableRendersMissingColumnsAndNullAsEmpty) {
  Records r;
  r.columns = {"a", "text", "b"};
  r.rows = {Obj(R"({"a":"x","b":null})")};
  EXPECT_EQ(PrintTo(r, Table()),
            "a  text  b\n"
            "x\n");
}

TEST(Output, TableElidesTheWidestColumnToFitTheWidth) {
  Records r;
  r.columns = {"name", "note"};
  r.rows = {Obj(R"({"name":"short","note":"abcdefghijklmnopqrstuvwxyz"})")};
  const std::string out = PrintTo(r, Table(20));
  EXPECT_EQ(out,
            "name   note\n"
            "short  abcdefghijkl\xE2\x80\xA6\n");
  for (const std::string& line : Lines(out)) EXPECT_LE(CodePoints(line), 20u) << line;
}

TEST(Output, TableShrinksWidestColumnsFirst) {
  Records r;
  r.columns = {"a", "b"};
  r.rows = {Obj(R"({"a":"0123456789","b":"012345678901234567890123456789"})")};
  // 10 + 2 + 30 = 42 > 30: only the wide column gives up space.
  EXPECT_EQ(PrintTo(r, Table(30)),
            "a           b\n"
            "0123456789  01234567890123456\xE2\x80\xA6\n");
}

TEST(Output, TableNeverShrinksColumnsBelowEight) {
  Records r;
  r.columns = {"a", "b"};
  r.rows = {Obj(R"({"a":"abcdefghijklmnop","b":"ABCDEFGHIJKLMNOP"})")};
  EXPECT_EQ(PrintTo(r, Table(18)),
            "a         b\n"
            "abcdefg\xE2\x80\xA6  ABCDEFG\xE2\x80\xA6\n");
}

TEST(Output, TableHidesColumnsThatDoNotFitBehindAnEllipsis) {
  Records r;
  r.columns = {"a", "b", "c"};
  r.rows = {Obj(R"({"a":"abcdefghijklmnop","b":"ABCDEFGHIJKLMNOP","c":"x"})")};
  // Three columns need 8 + 2 + 8 + 2 + 1 = 21 > 16: "a" (8) and the marker "  …" fit.
  const std::string out = PrintTo(r, Table(16));
  EXPECT_EQ(out,
            "a         \xE2\x80\xA6\n"
            "abcdefg\xE2\x80\xA6  \xE2\x80\xA6\n");
  for (const std::string& line : Lines(out)) EXPECT_LE(CodePoints(line), 16u) << line;
  // Narrower than one column: the first column gives up width.
  const std::string tiny = PrintTo(r, Table(6));
  EXPECT_EQ(tiny,
            "a    \xE2\x80\xA6\n"
            "ab\xE2\x80\xA6  \xE2\x80\xA6\n");
  for (const std::string& line : Lines(tiny)) EXPECT_LE(CodePoints(line), 6u) << line;
}

TEST(Output, TableKeepsEachRowOnOneLine) {
  Records r;
  r.columns = {"text", "n"};
  r.rows = {Obj(R"({"text":"line1\nline2\r\nline3\tend","n":1})")};
  EXPECT_EQ(PrintTo(r, Table()),
            "text                   n\n"
            "line1\xE2\x8F\x8Eline2\xE2\x8F\x8Eline3 end  1\n");
}

TEST(Output, TableNeverCutsInsideUtf8Sequences) {
  Records r;
  r.columns = {"s", "t"};
  r.rows = {Obj(R"({"s":"ééééééééééééééé","t":"日本語テキストです"})")};
  const std::string out = PrintTo(r, Table(19));
  EXPECT_TRUE(IsValidUtf8(out));
  // 15 + 2 + 18 > 19: both columns are capped at 8 and the spare column goes to s, so s shows
  // 8 "é" + "…" and t (2 columns per character) 3 characters + "…" (7 columns, padded to 8).
  EXPECT_EQ(out,
            "s          t\n"
            "éééééééé…  日本語…\n");
  for (int width = 8; width < 40; ++width) {
    EXPECT_TRUE(IsValidUtf8(PrintTo(r, Table(width)))) << width;
  }
}

TEST(Output, TableReplacesControlCharactersAndInvalidUtf8) {
  Records r;
  r.columns = {"s"};
  json::object row;
  row["s"] = std::string("a\x1b[31mred\xff");
  r.rows = {row};
  const std::string out = PrintTo(r, Table());
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
  EXPECT_TRUE(IsValidUtf8(out));
  EXPECT_EQ(out, "s\na\xEF\xBF\xBD[31mred\xEF\xBF\xBD\n");
}

TEST(Output, TableShowsNestedValuesAsCompactJson) {
  Records r;
  r.columns = {"m", "list", "ok", "avg"};
  r.rows = {Obj(R"({"m":{"a":1,"b":"x"},"list":[1,2],"ok":true,"avg":1500.5})")};
  EXPECT_EQ(PrintTo(r, Table()),
            "m                list   ok       avg\n"
            "{\"a\":1,\"b\":\"x\"}  [1,2]  true  1500.5\n");
}

TEST(Output, NoEscapeCodesWithoutColor) {
  Records r;
  r.columns = SessionColumns();
  Session s;
  s.id = "s1";
  s.agent_type = "codex";
  s.status = SessionStatus::kFailed;
  r.rows = {SessionToJsonObject(s)};
  EXPECT_EQ(PrintTo(r, Table(0, false)).find('\x1b'), std::string::npos);
  EXPECT_EQ(PrintTo(r, Table(40, false)).find('\x1b'), std::string::npos);
  EXPECT_EQ(PrintObjectTo(SessionToJsonObject(s), Table(0, false)).find('\x1b'), std::string::npos);
}

TEST(Output, ColorMakesHeaderBoldAndStatusCellsColoured) {
  Records r;
  r.columns = {"id", "status"};
  r.rows = {Obj(R"({"id":"a","status":"completed"})"), Obj(R"({"id":"b","status":"failed"})"),
            Obj(R"({"id":"c","status":"timeout"})"), Obj(R"({"id":"d","status":"active"})")};
  EXPECT_EQ(PrintTo(r, Table(0, true)),
            "\x1b[1mid  status\x1b[0m\n"
            "a   \x1b[32mcompleted\x1b[0m\n"
            "b   \x1b[31mfailed\x1b[0m\n"
            "c   \x1b[33mtimeout\x1b[0m\n"
            "d   \x1b[36mactive\x1b[0m\n");
}

TEST(Output, CsvQuotesExactlyWhereRfc4180Requires) {
  Records r;
  r.columns = {"a", "b", "c"};
  r.rows = {Obj(R"({"a":"plain","b":"x,y","c":"say \"hi\""})")};
  EXPECT_EQ(PrintTo(r, As(Format::kCsv)),
            "a,b,c\r\n"
            "plain,\"x,y\",\"say \"\"hi\"\"\"\r\n");
}

TEST(Output, CsvRoundTripsThroughStrictParser) {
  const std::vector<std::string> kValues = {
      "plain",        "",         "comma,inside", "quote\"inside",          "\"",        "\"\"",
      "line\nbreak",  "cr\ronly", "crlf\r\nend",  " leading and trailing ", "ünïcødé …", ",",
      "a,\"b\"\r\n,c"};
  Records r;
  r.columns = {"id", "value", "n"};
  for (std::size_t i = 0; i < kValues.size(); ++i) {
    json::object row;
    row["id"] = static_cast<std::int64_t>(i);
    row["value"] = kValues[i];
    row["n"] = nullptr;
    r.rows.push_back(row);
  }
  const std::string out = PrintTo(r, As(Format::kCsv));
  auto parsed = ParseCsv(out);
  ASSERT_TRUE(parsed.has_value()) << out;
  ASSERT_EQ(parsed->size(), kValues.size() + 1);
  EXPECT_EQ((*parsed)[0], (std::vector<std::string>{"id", "value", "n"}));
  for (std::size_t i = 0; i < kValues.size(); ++i) {
    EXPECT_EQ((*parsed)[i + 1], (std::vector<std::string>{std::to_string(i), kValues[i], ""}));
  }
}

TEST(Output, CsvCellsHoldCompactJsonForNestedValues) {
  Records r;
  r.columns = {"metadata"};
  r.rows = {Obj(R"({"metadata":{"k":"v"}})")};
  const std::string out = PrintTo(r, As(Format::kCsv));
  EXPECT_EQ(out, "metadata\r\n\"{\"\"k\"\":\"\"v\"\"}\"\r\n");
  auto parsed = ParseCsv(out);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ((*parsed)[1][0], R"({"k":"v"})");
}

TEST(Output, EmptyOutputs) {
  Records r;
  r.columns = {"id", "name"};
  EXPECT_EQ(PrintTo(r, Table()), "(no rows)\n");
  EXPECT_EQ(PrintTo(r, As(Format::kJson)), "[]\n");
  EXPECT_EQ(PrintTo(r, As(Format::kNdjson)), "");
  EXPECT_EQ(PrintTo(r, As(Format::kCsv)), "id,name\r\n");
}

TEST(Output, JsonIsAPrettyArrayThatParsesBack) {
  Records r;
  r.columns = {"id"};  // JSON ignores columns: every key is kept
  r.rows = {EventToJsonObject(SampleEvent()), Obj(R"({"id":2,"x":[],"y":{}})")};
  const std::string out = PrintTo(r, As(Format::kJson));
  EXPECT_EQ(out.substr(0, 10), "[\n  {\n    ");
  json::value v = json::parse(out);
  ASSERT_TRUE(v.is_array());
  ASSERT_EQ(v.as_array().size(), 2u);
  EXPECT_EQ(v.as_array()[0].as_object(), r.rows[0]);
  EXPECT_EQ(v.as_array()[1].as_object(), r.rows[1]);
}

TEST(Output, JsonKeepsDoublesAndEscapes) {
  Records r;
  json::object row;
  row["whole"] = 2.0;
  row["half"] = 1500.5;
  row["s"] = std::string("tab\t\"q\" \x01 é");
  r.rows = {row};
  const std::string out = PrintTo(r, As(Format::kNdjson));
  EXPECT_EQ(out, "{\"whole\":2.0,\"half\":1500.5,\"s\":\"tab\\t\\\"q\\\" \\u0001 é\"}\n");
  json::object back = json::parse(out).as_object();
  EXPECT_TRUE(back["whole"].is_double());
  EXPECT_EQ(back, row);
}

TEST(Output, NdjsonWritesOneObjectPerLine) {
  Records r;
  Event e = SampleEvent();
  e.stream_data = "multi\nline";
  r.rows = {EventToJsonObject(e), EventToJsonObject(SampleEvent())};
  const std::string out = PrintTo(r, As(Format::kNdjson));
  const std::vector<std::string> lines = Lines(out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(out.back(), '\n');
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(json::parse(lines[i]).as_object(), r.rows[i]);
  }
}

TEST(Output, EventJsonHasStableKeys) {
  Event e = SampleEvent();
  e.mode.reset();
  json::object o = EventToJsonObject(e);
  EXPECT_EQ(Keys(o), (std::vector<std::string>{"id", "sessionId", "eventType", "agentType", "mode",
                                               "prompt", "streamData", "sandboxId", "repoUrl",
                                               "metadata", "timestamp", "createdAt"}));
  EXPECT_EQ(o["id"], 7);
  EXPECT_EQ(o["eventType"], "stream");
  EXPECT_TRUE(o["mode"].is_null());
  EXPECT_TRUE(o["prompt"].is_null());
  EXPECT_EQ(o["streamData"], "hello");
  ASSERT_TRUE(o["metadata"].is_object());
  EXPECT_EQ(o["metadata"].as_object()["k"], 1);
  EXPECT_EQ(o["timestamp"], 1'795'600'800'000);
  EXPECT_EQ(o["createdAt"], 1'795'600'800'001);
}

TEST(Output, EventMetadataThatIsNotAnObjectStaysAString) {
  Event e = SampleEvent();
  e.metadata = "not json";
  EXPECT_EQ(EventToJsonObject(e)["metadata"], "not json");
  e.metadata = "[1,2]";
  EXPECT_EQ(EventToJsonObject(e)["metadata"], "[1,2]");
  e.metadata.reset();
  EXPECT_TRUE(EventToJsonObject(e)["metadata"].is_null());
}

TEST(Output, ErrorEventsCarryErrorDetails) {
  Event e = SampleEvent();
  e.event_type = EventType::kError;
  json::object plain = EventToJsonObject(e);
  EXPECT_FALSE(plain.contains("error"));

  e.error =
      ErrorDetails{"RateLimitError", "slow down", std::nullopt, std::nullopt, ErrorSeverity::kHigh};
  json::object o = EventToJsonObject(e);
  ASSERT_TRUE(o.contains("error"));
  const json::object& err = o["error"].as_object();
  EXPECT_EQ(Keys(err), (std::vector<std::string>{"type", "message", "stack", "severity"}));
  EXPECT_EQ(err.at("type"), "RateLimitError");
  EXPECT_EQ(err.at("message"), "slow down");
  EXPECT_TRUE(err.at("stack").is_null());
  EXPECT_EQ(err.at("severity"), "high");
  EXPECT_EQ(Keys(o).back(), "error");
}

TEST(Output, SessionJsonHasStableKeys) {
  Session s;
  s.id = "s1";
  s.agent_type = "codex";
  s.status = SessionStatus::kCompleted;
  s.start_time = 10;
  s.end_time = 30;
  s.duration = 20;
  s.metadata = R"({"status":"ok"})";
  json::object o = SessionToJsonObject(s);
  EXPECT_EQ(Keys(o), (std::vector<std::string>{
                         "id", "agentType", "mode", "status", "startTime", "endTime", "duration",
                         "eventCount", "streamEventCount", "errorCount", "sandboxId", "repoUrl",
                         "metadata", "lastEventTime", "createdAt", "updatedAt"}));
  EXPECT_EQ(o["status"], "completed");
  EXPECT_EQ(o["duration"], 20);
  EXPECT_TRUE(o["mode"].is_null());
  EXPECT_TRUE(o["metadata"].is_object());
  s.end_time.reset();
  s.duration.reset();
  json::object open = SessionToJsonObject(s);
  EXPECT_TRUE(open["endTime"].is_null());
  EXPECT_TRUE(open["duration"].is_null());
}

TEST(Output, HealthJsonHasEveryField) {
  HealthStatus h;
  h.database = true;
  h.quick_check = "ok";
  h.connections.active = 1;
  h.connections.total = 2;
  h.performance_grade = "good";
  h.issues = {"wal is large"};
  json::object o = HealthToJsonObject(h);
  EXPECT_EQ(
      Keys(o),
      (std::vector<std::string>{
          "database",          "quickCheck",      "dbPath",           "backend",
          "fileSizeBytes",     "walSizeBytes",    "diskFreeBytes",    "memoryRssBytes",
          "bufferedEvents",
          "queuedEvents",      "writerLagMs",     "lastWriteError",   "pruneDays",
          "maxSizeBytes",      "oldestEventTime", "lastCleanupTime",  "lastCleanupSessionsRemoved",
          "deadLetterBatches", "connections",     "delivery",         "performanceGrade",
          "issues"}));
  EXPECT_EQ(o["connections"], json::parse(R"({"active":1,"total":2})"));
  EXPECT_EQ(o["issues"], json::parse(R"(["wal is large"])"));
  EXPECT_EQ(o["database"], true);
  EXPECT_EQ(o["backend"], "sqlite");
  // PostgreSQL: no file, WAL or disk of ours; the database's size under its own name.
  h.backend = "postgres";
  h.file_size_bytes = 123456;
  json::object pg = HealthToJsonObject(h);
  EXPECT_EQ(pg["backend"], "postgres");
  EXPECT_EQ(pg["databaseSizeBytes"], 123456);
  for (const char* key : {"fileSizeBytes", "walSizeBytes", "diskFreeBytes"}) {
    EXPECT_FALSE(pg.contains(key)) << key;
  }
  EXPECT_EQ(pg.size(), o.size() - 2);
}

TEST(Output, RollupJsonHasEveryCount) {
  RollupCounts c;
  c.total_events = 5;
  json::object o = RollupToJsonObject(c);
  EXPECT_EQ(Keys(o), (std::vector<std::string>{
                         "totalEvents", "startEvents", "streamEvents", "endEvents", "errorEvents",
                         "sessions", "activeSessions", "completedSessions", "failedSessions",
                         "timeoutSessions", "sessionsWithErrors", "avgSessionDurationMs",
                         "minTimestamp", "maxTimestamp"}));
  EXPECT_TRUE(o["avgSessionDurationMs"].is_null());
  EXPECT_TRUE(o["minTimestamp"].is_null());
  c.avg_session_duration_ms = 1500.5;
  c.min_timestamp = 1;
  c.max_timestamp = 2;
  o = RollupToJsonObject(c);
  EXPECT_EQ(o["avgSessionDurationMs"], 1500.5);
  EXPECT_EQ(o["minTimestamp"], 1);
  EXPECT_EQ(o["maxTimestamp"], 2);
}

TEST(Output, DefaultColumns) {
  EXPECT_EQ(EventColumns(), (std::vector<std::string>{"id", "timestamp", "sessionId", "eventType",
                                                      "agentType", "text"}));
  EXPECT_EQ(SessionColumns(),
            (std::vector<std::string>{"id", "agentType", "mode", "status", "startTime", "duration",
                                      "eventCount", "errorCount"}));
}

TEST(Output, PrintObjectTableFlattensNestedKeys) {
  json::object o = Obj(R"({"database":true,"connections":{"active":1,"total":2},"issues":["a"]})");
  EXPECT_EQ(PrintObjectTo(o, Table()),
            "database            true\n"
            "connections.active  1\n"
            "connections.total   2\n"
            "issues              [\"a\"]\n");
}

TEST(Output, PrintObjectOtherFormats) {
  json::object o = Obj(R"({"a":1,"n":{"b":"x,y"}})");
  EXPECT_EQ(PrintObjectTo(o, As(Format::kJson)),
            "{\n"
            "  \"a\": 1,\n"
            "  \"n\": {\n"
            "    \"b\": \"x,y\"\n"
            "  }\n"
            "}\n");
  EXPECT_EQ(PrintObjectTo(o, As(Format::kNdjson)), "{\"a\":1,\"n\":{\"b\":\"x,y\"}}\n");
  const std::string csv = PrintObjectTo(o, As(Format::kCsv));
  EXPECT_EQ(csv, "key,value\r\na,1\r\nn.b,\"x,y\"\r\n");
  EXPECT_TRUE(ParseCsv(csv).has_value());
  EXPECT_EQ(json::parse(PrintObjectTo(HealthToJsonObject(HealthStatus{}), As(Format::kJson))),
            HealthToJsonObject(HealthStatus{}));
}

TEST(Output, TerminalQueriesAreOffWhenStdoutIsNotATty) {
  if (isatty(STDOUT_FILENO) != 0) GTEST_SKIP() << "stdout is a terminal";
  EXPECT_EQ(TerminalWidth(), 0);
  EXPECT_FALSE(ColorWanted(false));
  EXPECT_FALSE(ColorWanted(true));
}

}  // namespace
}  // namespace vibekit::cli
