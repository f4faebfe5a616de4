#include "common/gzip.h"

#include <string>

#include <gtest/gtest.h>

namespace vibekit::internal {
namespace {

std::string SampleText() {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "line " + std::to_string(i * 7919 % 1000) + " of a body\n";
  return text;
}

TEST(Gzip, RoundTripsAndWritesTheGzipHeader) {
  const std::string text = SampleText();
  Result<std::string> packed = GzipCompress(text);
  ASSERT_TRUE(packed.ok()) << packed.status().ToString();
  ASSERT_GE(packed->size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>((*packed)[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>((*packed)[1]), 0x8b);
  EXPECT_LT(packed->size(), text.size() / 4);
  Result<std::string> back = GzipDecompress(*packed, text.size());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, text);
}

TEST(Gzip, EmptyInputRoundTrips) {
  Result<std::string> packed = GzipCompress("");
  ASSERT_TRUE(packed.ok());
  Result<std::string> back = GzipDecompress(*packed, 10);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "");
}

TEST(Gzip, RefusesNotGzipTruncatedAndOversizedBodies) {
  const std::string text = SampleText();
  const std::string packed = *GzipCompress(text);

  Result<std::string> plain = GzipDecompress("{\"not\":\"gzip\"}", 1 << 20);
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.status().code(), StatusCode::kInvalidArgument);

  Result<std::string> cut = GzipDecompress(packed.substr(0, packed.size() / 2), 1 << 20);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(cut.status().message().find("truncated"), std::string::npos) << cut.status().message();

  Result<std::string> big = GzipDecompress(packed, text.size() - 1);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(big.status().message().find("limit"), std::string::npos) << big.status().message();
}

}  // namespace
}  // namespace vibekit::internal
