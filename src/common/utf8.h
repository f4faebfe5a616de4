// UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <string_view>

namespace vibekit::internal {

// Returns the byte offset of the first invalid sequence, or text.size() when all of it is valid.
std::size_t FindInvalidUtf8(std::string_view text) noexcept;

inline bool IsValidUtf8(std::string_view text) noexcept {
  return FindInvalidUtf8(text) == text.size();
}

}  // namespace vibekit::internal
