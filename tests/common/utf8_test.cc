#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace vibekit::internal {
namespace {

TEST(Utf8, AcceptsAsciiAndMultibyte) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii text that is longer than eight bytes"));
  EXPECT_TRUE(IsValidUtf8("na\xC3\xAFve \xE2\x86\x92 \xF0\x9F\x9A\x80"));  // naïve → 🚀
}

TEST(Utf8, RejectsMalformedSequencesWithOffset) {
  EXPECT_EQ(FindInvalidUtf8(std::string("abc\xFF" "def")), 3u);
  EXPECT_EQ(FindInvalidUtf8("\xC0\xAF"), 0u);              // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("ok\xED\xA0\x80"), 2u);        // surrogate U+D800
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);      // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("abcdefgh\xE2\x82"), 8u);      // truncated at the end
  EXPECT_EQ(FindInvalidUtf8("\x80"), 0u);                  // lone continuation byte
}

}  // namespace
}  // namespace vibekit::internal
