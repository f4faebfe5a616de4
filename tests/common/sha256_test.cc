#include "common/sha256.h"

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace vibekit::internal {
namespace {

TEST(Sha256, MatchesFipsVectorForAbc) {
  EXPECT_EQ(Sha256::HexOf("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, MatchesFipsVectorForEmptyInput) {
  EXPECT_EQ(Sha256::HexOf(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, MatchesFipsVectorForTwoBlockMessage) {
  EXPECT_EQ(Sha256::HexOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, MatchesFipsVectorForOneMillionAsFedInUnevenPieces) {
  Sha256 s;
  const std::string chunk(997, 'a');  // a prime, so pieces straddle block boundaries
  std::size_t left = 1000000;
  while (left > 0) {
    const std::size_t n = std::min(left, chunk.size());
    s.Update(std::string_view(chunk).substr(0, n));
    left -= n;
  }
  EXPECT_EQ(s.FinishHex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PaddingEdgeLengthsMatchSha256sum) {
  // 55, 56 and 64 bytes are where the length field does or does not fit in the last block
  // (values from coreutils sha256sum).
  EXPECT_EQ(Sha256::HexOf(std::string(55, 'x')),
            "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072");
  Sha256 split;
  split.Update(std::string(20, 'y'));
  split.Update(std::string(36, 'y'));
  EXPECT_EQ(split.FinishHex(), "4877e564e5e36e367c7c8d59670774becd3350610b6df4c399c9fa9b66da5813");
  EXPECT_EQ(Sha256::HexOf(std::string(64, 'z')),
            "72996563049cc84daa2c3f31fd5c3d10770e69d6ebbb8da5b6d76db303dbae43");
}

TEST(Sha256, HardwareAndPortablePathsAgreeOnEveryLengthAndSplit) {
  std::string data;
  for (int i = 0; i < 3000; ++i) data += static_cast<char>((i * 131 + 7) % 256);
  for (std::size_t len : {0, 1, 55, 56, 63, 64, 65, 127, 128, 129, 1000, 3000}) {
    Sha256 portable(/*allow_hardware=*/false);
    portable.Update(std::string_view(data).substr(0, len));
    Sha256 fast;
    fast.Update(std::string_view(data).substr(0, len / 3));
    fast.Update(std::string_view(data).substr(len / 3, len - len / 3));
    EXPECT_EQ(portable.FinishHex(), fast.FinishHex()) << len;
  }
  // Both paths against the FIPS vector.
  for (bool hw : {false, true}) {
    Sha256 s(hw);
    s.Update("abc");
    EXPECT_EQ(s.FinishHex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }
  std::printf("SHA extensions on this CPU: %s\n", Sha256::HardwareAvailable() ? "yes" : "no");
}

}  // namespace
}  // namespace vibekit::internal
