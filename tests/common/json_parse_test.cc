#include "common/json_parse.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <charconv>
#include <string>
#include <vector>

#include "common/event_json.h"
#include "common/json.h"
#include "ingest/validation.h"

namespace vibekit::internal {
namespace {

namespace json = boost::json;

double FromChars(const std::string& text) {
  double d = 0;
  std::from_chars(text.data(), text.data() + text.size(), d);
  return d;
}

std::string Nested(int depth) {
  return std::string(static_cast<std::size_t>(depth), '[') + "1" +
         std::string(static_cast<std::size_t>(depth), ']');
}

// The fuzzer's finding: Boost 1.81's json::parse read 4.0444444444444445E63 as a neighbouring
// double, so a metadata number changed on the way in and again on every export. Every double is
// now the correctly rounded value of its text, and our writer's form of it reads back equal.
TEST(JsonParse, DoublesAreCorrectlyRoundedAndSurviveARoundTrip) {
  const std::vector<std::string> numbers = {
      "4.0444444444444445E63", "0.1",   "1e23", "2.2250738585072011e-308", "5e-324",
      "1.7976931348623157e308", "9007199254740993.0", "123456789012345678901234567890",
      "-0.30000000000000004", "3.141592653589793238462643383279"};
  for (const std::string& n : numbers) {
    boost::system::error_code ec;
    const json::value v = ParseJson("[" + n + "]", ec);
    ASSERT_FALSE(ec) << n << ": " << ec.message();
    const json::value& x = v.as_array().at(0);
    ASSERT_TRUE(x.is_double()) << n;
    EXPECT_EQ(x.get_double(), FromChars(n)) << n;
    const std::string written = json::serialize(v);
    const json::value again = ParseJson(written, ec);
    ASSERT_FALSE(ec) << written;
    EXPECT_EQ(again.as_array().at(0).get_double(), x.get_double()) << written;
    EXPECT_EQ(json::serialize(again), written);
  }
  // Integers stay integers, as with json::parse.
  boost::system::error_code ec;
  const json::value ints = ParseJson("[-9223372036854775808,18446744073709551615,0]", ec);
  ASSERT_FALSE(ec);
  EXPECT_TRUE(ints.as_array()[0].is_int64());
  EXPECT_TRUE(ints.as_array()[1].is_uint64());
  EXPECT_EQ(json::serialize(ints), "[-9223372036854775808,18446744073709551615,0]");
}

TEST(JsonParse, WholeTextOrErrorAndDocumentsOneAfterAnother) {
  boost::system::error_code ec;
  EXPECT_EQ(json::serialize(ParseJson("  {\"a\":\"\\u00e9\",\"b\":[null,true]} \n", ec)),
            "{\"a\":\"é\",\"b\":[null,true]}");
  EXPECT_FALSE(ec);
  EXPECT_EQ(ParseJson("42", ec).as_int64(), 42);  // a number at the very end is complete
  EXPECT_FALSE(ec);
  for (const char* bad : {"", "   ", "{} x", "{\"a\":1", "[1,]", "{\"a\" 1}", "nul", "1 2"}) {
    const json::value v = ParseJson(bad, ec);
    EXPECT_TRUE(ec) << "accepted: " << bad;
    EXPECT_TRUE(v.is_null());
  }
  // Several documents in one text, as OTLP files and NDJSON bodies come.
  const std::string text = " {\"a\":1}{\"b\":2}\n[3] 4";
  std::vector<std::string> docs;
  std::size_t pos = 0;
  while (text.find_first_not_of(" \n", pos) != std::string::npos) {
    std::size_t used = 0;
    const json::value v = ParseJsonPrefix(std::string_view(text).substr(pos), used, ec);
    ASSERT_FALSE(ec) << ec.message();
    docs.push_back(json::serialize(v));
    pos += used;
  }
  EXPECT_EQ(docs, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "[3]", "4"}));
}

TEST(JsonParse, NestingLimitsKeepEveryDocumentWeWriteReadable) {
  boost::system::error_code ec;
  ParseJson(Nested(kMaxJsonDepth), ec);
  EXPECT_FALSE(ec);
  ParseJson(Nested(kMaxJsonDepth + 1), ec);
  EXPECT_TRUE(ec);
  ParseJson(Nested(200), ec, {}, 200);
  EXPECT_FALSE(ec);

  // Metadata may nest kMaxMetadataDepth deep, not more; an event holding the deepest allowed
  // metadata is still one line our import reads back unchanged.
  const auto metadata = [](int depth) {
    return "{\"k\":" + Nested(depth - 1) + "}";  // the object is one level
  };
  EXPECT_TRUE(ValidateJsonObject(metadata(kMaxMetadataDepth), "metadata").ok());
  const Status too_deep = ValidateJsonObject(metadata(kMaxMetadataDepth + 1), "metadata");
  EXPECT_EQ(too_deep.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_deep.message().find("metadata is not valid JSON"), std::string::npos)
      << too_deep.message();

  Event e;
  e.session_id = "s";
  e.agent_type = "a";
  e.metadata = metadata(kMaxMetadataDepth);
  e.timestamp = 1764000000000;
  ASSERT_TRUE(ingest::ValidateEvent(e, LocalStoreConfig{}, e.timestamp).ok());
  const std::string line = EventToJson(e);
  auto back = EventFromJson(line);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(EventToJson(*back), line);
  // In a JSON array body too (one level more).
  const json::value body = ParseJson("[" + line + "]", ec);
  ASSERT_FALSE(ec) << ec.message();
}

}  // namespace
}  // namespace vibekit::internal
