// The export's JSON string escaper and CSV field encoder, byte by byte.
#include "export/text.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

namespace vibekit::exporting {
namespace {

TEST(ExportText, JsonStringsParseBackToTheSameBytesAtEveryPosition) {
  // Every byte that needs escaping, at every offset of a 24-byte string (the escaper skips
  // plain bytes 8 at a time, so each position of a word is covered), next to UTF-8.
  std::string special;
  for (int c = 0; c < 0x20; ++c) special += static_cast<char>(c);
  special += "\"\\";
  for (const char s : special) {
    for (std::size_t pos = 0; pos < 24; ++pos) {
      std::string value = "abcdefghijklmnopqrstuvwx";
      value[pos] = s;
      value += "é✓";
      std::string out;
      AppendJsonString(out, value);
      const boost::json::value parsed = boost::json::parse(out);
      ASSERT_TRUE(parsed.is_string()) << out;
      EXPECT_EQ(std::string(parsed.as_string()), value) << static_cast<int>(s) << " at " << pos;
    }
  }
  std::string out;
  AppendJsonString(out, std::string("\n\t\"\\\x01", 5));
  EXPECT_EQ(out, "\"\\n\\t\\\"\\\\\\u0001\"");
}

TEST(ExportText, CsvFieldsAreQuotedOnlyWhenNeeded) {
  auto field = [](std::string_view v, char d) {
    std::string out;
    AppendCsvField(out, v, d);
    return out;
  };
  EXPECT_EQ(field("plain", ','), "plain");
  EXPECT_EQ(field("a,b", ','), "\"a,b\"");
  EXPECT_EQ(field("a,b", ';'), "a,b");
  EXPECT_EQ(field("a;b", ';'), "\"a;b\"");
  EXPECT_EQ(field("say \"hi\"", ','), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(field("line\r\nbreak", '\t'), "\"line\r\nbreak\"");
  EXPECT_EQ(field("", ','), "\"\"");  // empty string, distinct from null (nothing)
}

}  // namespace
}  // namespace vibekit::exporting
