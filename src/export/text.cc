#include "export/text.h"

#include <array>
#include <charconv>
#include <cstring>

namespace vibekit::exporting {
namespace {

// 0: copy as is; otherwise the character after the backslash ('u' for \u00XX).
constexpr std::array<char, 256> MakeEscapeTable() {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = 'u';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}
constexpr std::array<char, 256> kEscape = MakeEscapeTable();

// True when any of the 8 bytes of `w` is below 0x20, a quote or a backslash (exact, SWAR:
// the "has a byte less than n" and "has a zero byte" word tricks).
inline bool AnyNeedsEscape(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const std::uint64_t below = (w - kOnes * 0x20) & ~w & kHigh;
  const std::uint64_t q = w ^ (kOnes * '"');
  const std::uint64_t b = w ^ (kOnes * '\\');
  return (below | ((q - kOnes) & ~q & kHigh) | ((b - kOnes) & ~b & kHigh)) != 0;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // start of the pending run of plain bytes
  for (std::size_t i = 0; i < value.size(); ++i) {
    // Skip 8 plain bytes at a time (agent output is mostly plain text).
    while (i + 8 <= value.size()) {
      std::uint64_t w;
      std::memcpy(&w, value.data() + i, sizeof w);
      if (AnyNeedsEscape(w)) break;
      i += 8;
    }
    if (i >= value.size()) break;
    const char e = kEscape[static_cast<unsigned char>(value[i])];
    if (e == 0) continue;
    out.append(value.data() + run, i - run);
    run = i + 1;
    out += '\\';
    out += e;
    if (e == 'u') {
      const auto c = static_cast<unsigned char>(value[i]);
      out += "00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  out.append(value.data() + run, value.size() - run);
  out += '"';
}

void AppendInt(std::string& out, std::int64_t value) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, r.ptr);
}

void AppendCsvField(std::string& out, std::string_view value, char delimiter) {
  bool quote = value.empty();
  for (const char c : value) {
    if (c == delimiter || c == '"' || c == '\r' || c == '\n') {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out.append(value);
    return;
  }
  out += '"';
  std::size_t run = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '"') continue;
    out.append(value.data() + run, i - run + 1);  // up to and including the quote
    out += '"';
    run = i + 1;
  }
  out.append(value.data() + run, value.size() - run);
  out += '"';
}

}  // namespace vibekit::exporting
