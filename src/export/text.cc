#include "export/text.h"

#include <array>
#include <charconv>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// The index of the first byte in [i, n) that needs escaping (below 0x20, a quote or a
// backslash), or n. 16 bytes per step with SSE2 (part of every x86-64), 8 with the word tricks
// ("has a byte less than n", "has a zero byte") elsewhere; the tail byte by byte.
inline std::size_t NextSpecial(const char* p, std::size_t i, std::size_t n) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i below = _mm_set1_epi8(0x1f);
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    // Unsigned v <= 0x1f exactly when max(v, 0x1f) == 0x1f.
    const __m128i hit = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
        _mm_cmpeq_epi8(_mm_max_epu8(v, below), below));
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#else
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, sizeof w);
    const std::uint64_t low = (w - kOnes * 0x20) & ~w & kHigh;
    const std::uint64_t q = w ^ (kOnes * '"');
    const std::uint64_t b = w ^ (kOnes * '\\');
    if ((low | ((q - kOnes) & ~q & kHigh) | ((b - kOnes) & ~b & kHigh)) != 0) break;
  }
#endif
  while (i < n && kEscape[static_cast<unsigned char>(p[i])] == 0) ++i;
  return i;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char* p = value.data();
  const std::size_t n = value.size();
  out += '"';
  std::size_t run = 0;  // start of the pending run of plain bytes
  for (std::size_t i = NextSpecial(p, 0, n); i < n; i = NextSpecial(p, run, n)) {
    const auto c = static_cast<unsigned char>(p[i]);
    const char e = kEscape[c];
    out.append(p + run, i - run);
    const char escaped[6] = {'\\', e, '0', '0', kHex[c >> 4], kHex[c & 0xf]};
    out.append(escaped, e == 'u' ? 6 : 2);
    run = i + 1;
  }
  out.append(p + run, n - run);
  out += '"';
}

void AppendInt(std::string& out, std::int64_t value) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, r.ptr);
}

namespace {

// Whether a CSV field must be quoted: it holds the delimiter, a quote, CR or LF (RFC 4180). 16
// bytes per step with SSE2, the tail byte by byte.
bool CsvNeedsQuotes(const char* p, std::size_t n, char delimiter) {
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i d = _mm_set1_epi8(delimiter);
  const __m128i q = _mm_set1_epi8('"');
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, d), _mm_cmpeq_epi8(v, q)),
                                     _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
    if (_mm_movemask_epi8(hit) != 0) return true;
  }
#endif
  for (; i < n; ++i) {
    const char c = p[i];
    if (c == delimiter || c == '"' || c == '\r' || c == '\n') return true;
  }
  return false;
}

}  // namespace

void AppendCsvField(std::string& out, std::string_view value, char delimiter) {
  if (!value.empty() && !CsvNeedsQuotes(value.data(), value.size(), delimiter)) {
    out.append(value);
    return;
  }
  out += '"';
  const char* p = value.data();
  const char* const end = p + value.size();
  // Each quote doubled: the run up to and including it, then one more.
  while (p != end) {
    const void* hit = std::memchr(p, '"', static_cast<std::size_t>(end - p));
    if (hit == nullptr) break;
    const char* quote = static_cast<const char*>(hit);
    out.append(p, static_cast<std::size_t>(quote - p) + 1);
    out += '"';
    p = quote + 1;
  }
  out.append(p, static_cast<std::size_t>(end - p));
  out += '"';
}

}  // namespace vibekit::exporting
