#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <string>

#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"

namespace vibekit {
namespace {

using testing::QueryInt;
using testing::TempDir;
using testing::TestConfig;

std::string Line(const std::string& sid, const std::string& type, std::int64_t ts,
                 const std::string& extra = "") {
  return R"({"sessionId":")" + sid + R"(","eventType":")" + type +
         R"(","agentType":"codex","mode":"code")" + extra + R"(,"timestamp":)" +
         std::to_string(ts) + "}";
}

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ = std::make_unique<TelemetryService>(TestConfig(dir_.File("db/t.db")));
    ASSERT_OK(service_->Initialize());
  }
  std::int64_t Events() { return QueryInt(dir_.File("db/t.db"), "SELECT count(*) FROM telemetry_events"); }
  TempDir dir_;
  std::unique_ptr<TelemetryService> service_;
};

TEST_F(ImportTest, ImportsEveryLineAndBuildsSessions) {
  std::string text;
  text += Line("a", "start", 1000, R"(,"prompt":"go","metadata":{"userId":"u1"})") + "\n";
  text += Line("a", "stream", 1100, R"(,"streamData":"chunk")") + "\n\n";
  text += Line("a", "error", 1150, R"(,"error":{"type":"ToolError","message":"boom","severity":"high"})") + "\n";
  text += Line("a", "end", 1200, R"(,"metadata":{"status":"success"})");  // no final newline
  Write(dir_.File("in.ndjson"), text);
  auto r = service_->ImportNdjson(dir_.File("in.ndjson"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->lines, 4);
  EXPECT_EQ(r->imported, 4);
  EXPECT_EQ(r->skipped, 0);
  EXPECT_EQ(Events(), 4);  // committed on return
  auto s = service_->GetSession("a");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->event_count, 4);
  EXPECT_EQ(s->error_count, 1);
  EXPECT_EQ(*s->duration, 200);
  auto errors = service_->GetSessionErrors("a");
  ASSERT_TRUE(errors.ok());
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ((*errors)[0].error_type, "ToolError");
  EXPECT_EQ((*errors)[0].severity, ErrorSeverity::kHigh);
}

TEST_F(ImportTest, BadLinesAreReportedWithLineNumbersAndSkipped) {
  std::string text;
  text += Line("b", "start", 1000) + "\n";
  text += "{broken json\n";
  text += Line("b", "finish", 1001) + "\n";
  text += Line("", "stream", 1002) + "\n";
  text += Line("b", "stream", -4) + "\n";
  text += Line("b", "stream", 1003, R"(,"streamData":"ok")") + "\n";
  Write(dir_.File("bad.ndjson"), text);
  auto r = service_->ImportNdjson(dir_.File("bad.ndjson"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->imported, 2);
  EXPECT_EQ(r->skipped, 4);
  ASSERT_EQ(r->errors.size(), 4u);
  EXPECT_EQ(r->errors[0].line, 2);
  EXPECT_NE(r->errors[0].message.find("not valid JSON"), std::string::npos);
  EXPECT_EQ(r->errors[1].line, 3);
  EXPECT_NE(r->errors[1].message.find("unknown event type"), std::string::npos);
  EXPECT_EQ(r->errors[2].line, 4);
  EXPECT_EQ(r->errors[3].line, 5);
  EXPECT_EQ(Events(), 2);
}

TEST_F(ImportTest, StrictImportWritesNothingWhenAnyLineIsBad) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += Line("c", i == 0 ? "start" : "stream", 1000 + i) + "\n";
  text += "not json at the very end\n";
  Write(dir_.File("strict.ndjson"), text);
  ImportOptions options;
  options.strict = true;
  auto r = service_->ImportNdjson(dir_.File("strict.ndjson"), options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("line 5001"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(Events(), 0);
}

TEST_F(ImportTest, ReadsGzipAndReportsATruncatedStream) {
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    text += Line("g" + std::to_string(i % 10), "stream", 1000 + i,
                 R"(,"streamData":"some compressible text )" + std::to_string(i) + "\"") + "\n";
  }
  const std::string gz = dir_.File("in.ndjson.gz");
  gzFile f = gzopen(gz.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  gzclose(f);
  auto r = service_->ImportNdjson(gz);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->imported, 3000);
  EXPECT_EQ(Events(), 3000);

  // Cut the compressed file in half: a clear error, not a silent partial success.
  std::ifstream in(gz, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Write(dir_.File("cut.gz"), bytes.substr(0, bytes.size() / 2));
  ImportOptions strict;
  strict.strict = true;
  auto cut = service_->ImportNdjson(dir_.File("cut.gz"), strict);
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("truncated"), std::string::npos) << cut.status().ToString();
  EXPECT_EQ(Events(), 3000) << "strict import of a truncated file must add nothing";
}

TEST_F(ImportTest, MissingFileIsNotFound) {
  auto r = service_->ImportNdjson(dir_.File("nope.ndjson"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace vibekit
