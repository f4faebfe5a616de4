// UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <string_view>

namespace vibekit::internal {

// Returns the byte offset of the first invalid sequence, or text.size() when all of it is valid.
std::size_t FindInvalidUtf8(std::string_view text) noexcept;

// One code point decoded at byte `i` of `text` (strict, as above). An invalid sequence reads as
// one invalid byte (length 1), so a caller walking the text always advances.
struct Utf8CodePoint {
  char32_t value = 0;
  std::size_t length = 1;  // bytes consumed (1 for an invalid byte)
  bool valid = false;
};
// REQUIRES: i < text.size().
Utf8CodePoint DecodeUtf8At(std::string_view text, std::size_t i) noexcept;

inline bool IsValidUtf8(std::string_view text) noexcept {
  return FindInvalidUtf8(text) == text.size();
}

}  // namespace vibekit::internal
