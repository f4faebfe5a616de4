// The export's JSON string escaper and CSV field encoder, byte by byte.
#include "export/text.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <string>

namespace vibekit::exporting {
namespace {

TEST(ExportText, JsonStringsParseBackToTheSameBytesAtEveryPosition) {
  // Every byte that needs escaping, at every offset of a 40-byte string (the escaper skips
  // plain bytes 16 at a time, so each position of a block and of the tail is covered), next to
  // UTF-8 (bytes of 0x80 and above are plain).
  std::string special;
  for (int c = 0; c < 0x20; ++c) special += static_cast<char>(c);
  special += "\"\\";
  for (const char s : special) {
    for (std::size_t pos = 0; pos < 40; ++pos) {
      std::string value = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
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

// Against a byte-at-a-time reference, on strings of every length up to 100 with escapes,
// runs of them, 0x7f and UTF-8 bytes (0x80+, which must not be mistaken for control bytes).
TEST(ExportText, JsonEscapingMatchesAByteAtATimeReference) {
  auto reference = [](std::string_view v) {
    std::string out = "\"";
    for (const char ch : v) {
      const auto c = static_cast<unsigned char>(ch);
      switch (ch) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += ch;
          }
      }
    }
    return out + "\"";
  };
  const std::string alphabet = std::string("ab \n\t\"\\\x01\x1f\x20\x7f\x80\xff", 14) + "é";
  std::uint32_t x = 12345;
  for (std::size_t len = 0; len <= 100; ++len) {
    for (int round = 0; round < 20; ++round) {
      std::string v;
      for (std::size_t i = 0; i < len; ++i) {
        x = x * 1103515245u + 12345u;
        // Mostly plain letters, so that long plain runs occur too.
        v += (x >> 16) % 4 == 0 ? alphabet[(x >> 8) % alphabet.size()] : static_cast<char>('a' + (x >> 20) % 26);
      }
      std::string out = "prefix";
      AppendJsonString(out, v);
      ASSERT_EQ(out, "prefix" + reference(v)) << "length " << len;
    }
  }
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

// The vectorised scan and the quote doubling against the rule written out byte by byte, on
// random fields of every length up to 100 (special bytes at every position of the 16-byte
// steps and the tail), for several delimiters.
TEST(ExportText, CsvFieldsMatchTheRfc4180RuleOnRandomInput) {
  const auto reference = [](std::string_view v, char d) {
    bool quote = v.empty();
    for (char c : v) quote = quote || c == d || c == '"' || c == '\r' || c == '\n';
    if (!quote) return std::string(v);
    std::string out = "\"";
    for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  };
  const std::string alphabet = std::string("ab,;\t|\"\r\n \x01\x80\xff", 13);
  std::uint32_t x = 777;
  for (const char d : {',', ';', '\t', '|'}) {
    for (std::size_t len = 0; len <= 100; ++len) {
      for (int round = 0; round < 20; ++round) {
        std::string v;
        for (std::size_t i = 0; i < len; ++i) {
          x = x * 1103515245u + 12345u;
          // Mostly plain letters, so that fields without any special byte occur too.
          v += (x >> 16) % 16 == 0 ? alphabet[(x >> 8) % alphabet.size()]
                                   : static_cast<char>('a' + (x >> 20) % 26);
        }
        std::string out = "prefix";
        AppendCsvField(out, v, d);
        ASSERT_EQ(out, "prefix" + reference(v, d)) << "length " << len;
      }
    }
  }
}

}  // namespace
}  // namespace vibekit::exporting
