#include "common/redact.h"

#include <boost/json.hpp>

#include <array>
#include <cstring>
#include <optional>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/json_parse.h"
#include "common/sha256.h"

namespace vibekit::internal {
namespace json = boost::json;
namespace {

struct Match {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string_view kind;
};

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsWordChar(char c) { return IsAlnum(c) || c == '_' || c == '-'; }
bool IsUpperAlnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool IsB64Url(char c) { return IsAlnum(c) || c == '_' || c == '-'; }
bool IsTokenChar(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=' ||
         c == '-';
}
bool IsNameChar(char c) { return IsAlnum(c) || c == '_' || c == '.' || c == '-'; }
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

template <typename Pred>
std::size_t RunEnd(std::string_view t, std::size_t i, Pred pred) {
  while (i < t.size() && pred(t[i])) ++i;
  return i;
}

bool At(std::string_view t, std::size_t i, std::string_view prefix) {
  return t.size() - i >= prefix.size() && std::memcmp(t.data() + i, prefix.data(), prefix.size()) == 0;
}

bool AtNoCase(std::string_view t, std::size_t i, std::string_view prefix) {
  if (t.size() - i < prefix.size()) return false;
  for (std::size_t k = 0; k < prefix.size(); ++k) {
    if (Lower(t[i + k]) != prefix[k]) return false;
  }
  return true;
}

// Whether a detection can start at `i`: a necessary condition of every detector (each checks
// the rest), from the first three bytes. '=' and ':' end an assignment's name; "---" starts a
// private key block; the tokens start with sk- / sk_ / rk_, AIz / AKI / ASI, gh[pousr] / git,
// xox, eyJ and bea in any case (bearer).
inline bool CandidateAt(const char* p, std::size_t i, std::size_t n) {
  const char c = p[i];
  if (c == '=' || c == ':') return true;
  if (i + 2 >= n) return false;
  const char d = p[i + 1];
  const char e = p[i + 2];
  switch (c) {
    case 's':
      return d == 'k' && (e == '-' || e == '_');
    case 'r':
      return d == 'k' && e == '_';
    case 'A':
      return (d == 'I' && e == 'z') || ((d == 'K' || d == 'S') && e == 'I');
    case 'g':
      return (d == 'h' && (e == 'p' || e == 'o' || e == 'u' || e == 's' || e == 'r')) ||
             (d == 'i' && e == 't');
    case 'x':
      return d == 'o' && e == 'x';
    case 'e':
      return d == 'y' && e == 'J';
    case 'B':
    case 'b':
      return (d == 'e' || d == 'E') && (e == 'a' || e == 'A');
    case '-':
      return d == '-' && e == '-';
    default:
      return false;
  }
}

bool HasDigitAndLetter(std::string_view s) {
  bool digit = false, letter = false;
  for (char c : s) {
    digit = digit || (c >= '0' && c <= '9');
    letter = letter || (Lower(c) >= 'a' && Lower(c) <= 'z');
  }
  return digit && letter;
}

// A token that starts at `i` (a word boundary already checked).
std::optional<Match> TokenAt(std::string_view t, std::size_t i) {
  const char c = t[i];
  if (c == 's' || c == 'r') {
    for (std::string_view p : {"sk_live_", "sk_test_", "rk_live_", "rk_test_"}) {
      if (At(t, i, p)) {
        const std::size_t end = RunEnd(t, i + p.size(), IsAlnum);
        if (end - i - p.size() >= 16) return Match{i, end, "stripe_key"};
        return std::nullopt;
      }
    }
    if (c == 's' && At(t, i, "sk-")) {
      const std::size_t end = RunEnd(t, i + 3, IsWordChar);
      const std::string_view body = t.substr(i + 3, end - i - 3);
      if (body.size() >= 20 && HasDigitAndLetter(body)) {
        return Match{i, end, body.starts_with("ant-") ? "anthropic_api_key" : "openai_api_key"};
      }
    }
    return std::nullopt;
  }
  if (c == 'A') {
    if (At(t, i, "AIza")) {
      const std::size_t end = RunEnd(t, i + 4, IsB64Url);
      if (end - i - 4 >= 35) return Match{i, end, "google_api_key"};
    } else if (At(t, i, "AKIA") || At(t, i, "ASIA")) {
      const std::size_t end = RunEnd(t, i + 4, IsUpperAlnum);
      if (end - i - 4 == 16 && (end == t.size() || !IsAlnum(t[end]))) {
        return Match{i, end, "aws_access_key_id"};
      }
    }
    return std::nullopt;
  }
  if (c == 'g') {
    if (At(t, i, "github_pat_")) {
      const std::size_t end = RunEnd(t, i + 11, [](char x) { return IsAlnum(x) || x == '_'; });
      if (end - i - 11 >= 22) return Match{i, end, "github_token"};
      return std::nullopt;
    }
    if (t.size() - i >= 4 && t[i + 1] == 'h' && t[i + 3] == '_' &&
        std::strchr("pousr", t[i + 2]) != nullptr && t[i + 2] != '\0') {
      const std::size_t end = RunEnd(t, i + 4, IsAlnum);
      if (end - i - 4 >= 36) return Match{i, end, "github_token"};
    }
    return std::nullopt;
  }
  if (c == 'x') {
    if (t.size() - i >= 5 && At(t, i, "xox") && std::strchr("baprs", t[i + 3]) != nullptr &&
        t[i + 3] != '\0' && t[i + 4] == '-') {
      const std::size_t end = RunEnd(t, i + 5, [](char x) { return IsAlnum(x) || x == '-'; });
      if (end - i - 5 >= 10) return Match{i, end, "slack_token"};
    }
    return std::nullopt;
  }
  if (c == 'e') {
    if (!At(t, i, "eyJ")) return std::nullopt;
    std::size_t p = i;
    for (int part = 0; part < 3; ++part) {
      const std::size_t end = RunEnd(t, p, IsB64Url);
      if (end - p < 10) return std::nullopt;
      p = end;
      if (part < 2) {
        if (p >= t.size() || t[p] != '.') return std::nullopt;
        ++p;
      }
    }
    return Match{i, p, "jwt"};
  }
  return std::nullopt;
}

// `lower` is lower case.
bool EqualsNoCase(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (std::size_t k = 0; k < s.size(); ++k) {
    if (Lower(s[k]) != lower[k]) return false;
  }
  return true;
}

bool IsPlaceholder(std::string_view v) {
  if (v.empty()) return true;
  if (v[0] == '$' || v[0] == '<' || v[0] == '{' || v.starts_with("[REDACTED") ||
      v.starts_with("hmac:")) {
    return true;
  }
  for (std::string_view word : {"true", "false", "null", "none", "undefined"}) {
    if (EqualsNoCase(v, word)) return true;
  }
  return false;
}

// NAME=value / NAME: value with the separator at `i`.
std::optional<Match> AssignmentAt(std::string_view t, std::size_t i) {
  std::size_t name_end = i;
  while (name_end > 0 && i - name_end < 2 && (t[name_end - 1] == ' ' || t[name_end - 1] == '\t')) {
    --name_end;  // NAME = value
  }
  if (name_end > 0 && (t[name_end - 1] == '"' || t[name_end - 1] == '\'')) --name_end;
  std::size_t name_begin = name_end;
  while (name_begin > 0 && IsNameChar(t[name_begin - 1]) && name_end - name_begin < 128) {
    --name_begin;
  }
  if (name_begin == name_end) return std::nullopt;
  std::size_t min_value = 0;
  if (!Redactor::IsSecretName(t.substr(name_begin, name_end - name_begin), &min_value)) {
    return std::nullopt;
  }
  std::size_t v = i + 1;
  while (v < t.size() && (t[v] == ' ' || t[v] == '\t')) ++v;
  char quote = 0;
  if (v < t.size() && (t[v] == '"' || t[v] == '\'')) quote = t[v++];
  std::size_t end = v;
  if (quote != 0) {
    while (end < t.size() && t[end] != quote && t[end] != '\n') {
      end += (t[end] == '\\' && end + 1 < t.size()) ? 2 : 1;
    }
    if (end > t.size()) end = t.size();
  } else {
    while (end < t.size() && std::strchr(" \t\r\n\"',;&<>)}]`", t[end]) == nullptr) ++end;
  }
  const std::string_view value = t.substr(v, end - v);
  if (value.size() < min_value || IsPlaceholder(value)) return std::nullopt;
  if (auto token = TokenAt(t, v); token && token->end <= end) {
    return Match{v, end, token->kind};
  }
  return Match{v, end, "secret_value"};
}

std::optional<Match> PrivateKeyAt(std::string_view t, std::size_t i) {
  if (!At(t, i, "-----BEGIN ")) return std::nullopt;
  const std::size_t header_end = t.find("-----", i + 11);
  if (header_end == std::string_view::npos || header_end - i > 80) return std::nullopt;
  const std::string_view header = t.substr(i + 11, header_end - i - 11);
  if (!header.ends_with("PRIVATE KEY") && !header.ends_with("PRIVATE KEY BLOCK")) {
    return std::nullopt;
  }
  const std::size_t end_marker = t.find("-----END ", header_end + 5);
  if (end_marker == std::string_view::npos) return Match{i, t.size(), "private_key"};
  const std::size_t close = t.find("-----", end_marker + 9);
  if (close == std::string_view::npos) return Match{i, t.size(), "private_key"};
  return Match{i, close + 5, "private_key"};
}

std::optional<Match> BearerAt(std::string_view t, std::size_t i) {
  if (!AtNoCase(t, i, "bearer")) return std::nullopt;
  std::size_t v = i + 6;
  if (v >= t.size() || (t[v] != ' ' && t[v] != '\t')) return std::nullopt;
  while (v < t.size() && (t[v] == ' ' || t[v] == '\t')) ++v;
  const std::size_t end = RunEnd(t, v, IsTokenChar);
  if (end - v < 16 || t.substr(v, end - v).starts_with("[REDACTED")) return std::nullopt;
  if (auto token = TokenAt(t, v); token && token->end == end) return Match{v, end, token->kind};
  return Match{v, end, "bearer_token"};
}

}  // namespace

// The candidate test on vectors a, b, c holding the bytes at i, i+1, i+2 (CandidateAt's rule
// for as many positions as a vector has bytes), given the vector operations: EQ(v, ch) compares
// every byte with ch, AND and OR combine masks, LOWER is 0x20 in every byte. A macro, so that
// the SSE2 and the AVX2 loop (compiled for different targets) share one rule.
#define VK_SCAN_HITS(EQ, AND, OR, LOWER, a, b, c)                                              \
  OR(OR(OR(OR(EQ(a, '='), EQ(a, ':')), AND(AND(EQ(a, '-'), EQ(b, '-')), EQ(c, '-'))),        \
        OR(AND(AND(EQ(a, 's'), EQ(b, 'k')), OR(EQ(c, '-'), EQ(c, '_'))),                    \
           AND(AND(EQ(a, 'r'), EQ(b, 'k')), EQ(c, '_')))),                                  \
     OR(OR(AND(EQ(a, 'A'), OR(AND(EQ(b, 'I'), EQ(c, 'z')),                                  \
                              AND(OR(EQ(b, 'K'), EQ(b, 'S')), EQ(c, 'I')))),                \
           AND(EQ(a, 'g'),                                                                  \
               OR(AND(EQ(b, 'h'), OR(OR(OR(EQ(c, 'p'), EQ(c, 'o')), OR(EQ(c, 'u'), EQ(c, 's'))), \
                                     EQ(c, 'r'))),                                          \
                  AND(EQ(b, 'i'), EQ(c, 't'))))),                                           \
        OR(OR(AND(AND(EQ(a, 'x'), EQ(b, 'o')), EQ(c, 'x')),                                 \
              AND(AND(EQ(a, 'e'), EQ(b, 'y')), EQ(c, 'J'))),                                \
           /* Any case of "bea": 0x20 set makes B/b 'b', E/e 'e', A/a 'a' and no other byte. */ \
           AND(AND(EQ(OR(a, LOWER), 'b'), EQ(OR(b, LOWER), 'e')), EQ(OR(c, LOWER), 'a')))))

#if defined(__x86_64__)
namespace {

#define VK_EQ256(v, ch) _mm256_cmpeq_epi8(v, _mm256_set1_epi8(ch))

// 32 positions per step (AVX2): the first candidate at or after `i` in the steps that fit, or
// the first position not examined. The caller continues from there.
__attribute__((target("avx2"))) std::size_t ScanStepsAvx2(const char* p, std::size_t i,
                                                          std::size_t n, bool* found) {
  const __m256i lower = _mm256_set1_epi8(0x20);
  for (; i + 34 <= n; i += 32) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 1));
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 2));
    const __m256i hit = VK_SCAN_HITS(VK_EQ256, _mm256_and_si256, _mm256_or_si256, lower, a, b, c);
    const auto mask = static_cast<unsigned>(_mm256_movemask_epi8(hit));
    if (mask != 0) {
      *found = true;
      return i + static_cast<std::size_t>(__builtin_ctz(mask));
    }
  }
  return i;
}
#undef VK_EQ256

const bool kHasAvx2 = __builtin_cpu_supports("avx2");

}  // namespace
#endif

std::size_t NextScanCandidate(std::string_view t, std::size_t from) noexcept {
  const char* p = t.data();
  const std::size_t n = t.size();
  std::size_t i = from;
#if defined(__x86_64__)
  if (kHasAvx2 && i + 34 <= n) {
    bool found = false;
    i = ScanStepsAvx2(p, i, n, &found);
    if (found) return i;
  }
#endif
#if defined(__SSE2__)
  // 16 positions per step: bytes i..i+15 against the first byte of each anchor, i+1..i+16
  // against the second, i+2..i+17 against the third (so the steps stop two bytes before the
  // end; the tail goes through CandidateAt, the same rule byte by byte).
#define VK_EQ128(v, ch) _mm_cmpeq_epi8(v, _mm_set1_epi8(ch))
  const __m128i lower = _mm_set1_epi8(0x20);
  for (; i + 18 <= n; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 1));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 2));
    const __m128i hit = VK_SCAN_HITS(VK_EQ128, _mm_and_si128, _mm_or_si128, lower, a, b, c);
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#undef VK_EQ128
#endif
  while (i < n && !CandidateAt(p, i, n)) ++i;
  return i < n ? i : n;
}
#undef VK_SCAN_HITS

namespace {

// Every match in `t`, in order, into `out`; with `first_only`, stops at the first.
void Scan(std::string_view t, std::vector<Match>& out, bool first_only = false) {
  const std::size_t n = t.size();
  std::size_t i = 0;
  while ((i = NextScanCandidate(t, i)) < n) {
    const char c = t[i];
    std::optional<Match> m;
    if (c == '=' || c == ':') {
      m = AssignmentAt(t, i);
    } else if (c == '-') {
      m = PrivateKeyAt(t, i);
    } else if (i == 0 || !(IsAlnum(t[i - 1]) || t[i - 1] == '_')) {
      if (c == 'B' || c == 'b') {
        m = BearerAt(t, i);
      } else {
        m = TokenAt(t, i);
      }
    }
    if (m && m->end > m->begin) {
      // A match inside text already covered (an assignment's token) is not counted twice.
      if (!out.empty() && m->begin < out.back().end) {
        i = std::max(i + 1, out.back().end);
        continue;
      }
      out.push_back(*m);
      if (first_only) return;
      i = m->end;
    } else {
      ++i;
    }
  }
}

std::string Marker(std::string_view kind) { return "[REDACTED:" + std::string(kind) + "]"; }

int ApplyMatches(std::string& text, const std::vector<Match>& matches) {
  if (matches.empty()) return 0;
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  for (const Match& m : matches) {
    out.append(text, pos, m.begin - pos);
    out += Marker(m.kind);
    pos = m.end;
  }
  out.append(text, pos, std::string::npos);
  text = std::move(out);
  return static_cast<int>(matches.size());
}

bool WordEndsWith(std::string_view name, std::string_view word) {
  if (name.size() < word.size()) return false;
  const std::size_t k = name.size() - word.size();
  for (std::size_t j = 0; j < word.size(); ++j) {
    if (Lower(name[k + j]) != word[j]) return false;
  }
  if (k == 0) return true;
  const char before = name[k - 1];
  if (before == '_' || before == '-' || before == '.') return true;
  // camelCase: apiKey, authToken
  return before >= 'a' && before <= 'z' && name[k] >= 'A' && name[k] <= 'Z';
}

}  // namespace

bool Redactor::IsSecretName(std::string_view name, std::size_t* min_value) noexcept {
  // "secret", "password", "passwd", "pwd" anywhere, in any case; one pass over the name, no copy.
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = Lower(name[i]);
    const std::string_view rest = name.substr(i);
    if ((c == 's' && rest.size() >= 6 && EqualsNoCase(rest.substr(0, 6), "secret")) ||
        (c == 'p' && ((rest.size() >= 3 && EqualsNoCase(rest.substr(0, 3), "pwd")) ||
                      (rest.size() >= 6 && EqualsNoCase(rest.substr(0, 6), "passwd")) ||
                      (rest.size() >= 8 && EqualsNoCase(rest.substr(0, 8), "password"))))) {
      *min_value = 4;
      return true;
    }
  }
  // Most names end in none of the end words' last letters: one comparison instead of five.
  if (name.empty()) return false;
  const char last = Lower(name.back());
  if (last != 'y' && last != 'n' && last != 'l' && last != 's') return false;
  static constexpr std::string_view kEndWords[] = {"key", "token", "apikey", "credential",
                                                    "credentials"};
  for (std::string_view word : kEndWords) {
    if (WordEndsWith(name, word)) {
      *min_value = 8;
      return true;
    }
  }
  return false;
}

Result<std::shared_ptr<const Redactor>> Redactor::Create(bool builtin,
                                                         const std::vector<std::string>& patterns) {
  std::shared_ptr<Redactor> r(new Redactor());
  r->builtin_ = builtin;
  for (const std::string& p : patterns) {
    if (p.empty()) continue;
    try {
      r->patterns_.emplace_back(p, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return Status::InvalidArgument("redaction pattern '" + p + "' does not compile: " + e.what());
    }
  }
  return std::shared_ptr<const Redactor>(std::move(r));
}

int Redactor::Redact(std::string& text) const {
  int count = 0;
  if (builtin_) {
    std::vector<Match> matches;
    Scan(text, matches);
    count += ApplyMatches(text, matches);
  }
  for (const std::regex& re : patterns_) {
    std::string out;
    int found = 0;
    auto begin = std::sregex_iterator(text.begin(), text.end(), re);
    std::size_t pos = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
      if (it->length(0) == 0) continue;
      out.append(text, pos, static_cast<std::size_t>(it->position(0)) - pos);
      out += Marker("custom");
      pos = static_cast<std::size_t>(it->position(0) + it->length(0));
      ++found;
    }
    if (found > 0) {
      out.append(text, pos, std::string::npos);
      text = std::move(out);
      count += found;
    }
  }
  return count;
}

bool Redactor::Finds(std::string_view text) const {
  if (builtin_) {
    std::vector<Match> first;
    Scan(text, first, /*first_only=*/true);
    if (!first.empty()) return true;
  }
  // Redact replaces the non-empty matches of each pattern.
  for (const std::regex& re : patterns_) {
    using It = std::regex_iterator<std::string_view::const_iterator>;
    for (It it(text.begin(), text.end(), re); it != It(); ++it) {
      if (it->length(0) > 0) return true;
    }
  }
  return false;
}

bool Redactor::MayChangeJson(std::string_view json_text) const {
  if (!enabled()) return false;
  if (!patterns_.empty()) return true;  // RedactJson matches them in every decoded string
  // RedactJson's own shortcut: no match in the raw text and no escapes leaves it unchanged.
  return json_text.find('\\') != std::string_view::npos || Finds(json_text);
}

namespace {

int RedactValue(const Redactor& r, json::value& v, std::string_view key) {
  int count = 0;
  if (json::object* o = v.if_object()) {
    for (auto& [k, child] : *o) count += RedactValue(r, child, k);
  } else if (json::array* a = v.if_array()) {
    for (json::value& child : *a) count += RedactValue(r, child, key);
  } else if (json::string* s = v.if_string()) {
    std::size_t min_value = 0;
    if (!key.empty() && Redactor::IsSecretName(key, &min_value) && s->size() >= min_value &&
        !IsPlaceholder(*s)) {
      *s = Marker("secret_value");
      return 1;
    }
    std::string text(*s);
    const int n = r.Redact(text);
    if (n > 0) {
      *s = text;
      count += n;
    }
  }
  return count;
}

}  // namespace

int Redactor::RedactJson(std::string& json_text) const {
  if (!enabled()) return 0;
  if (patterns_.empty()) {
    // Nothing anywhere in the raw text means nothing inside any string either, unless escapes
    // (\" \n \uXXXX) hide what the strings hold: then the strings are decoded and scanned.
    std::vector<Match> matches;
    Scan(json_text, matches);
    if (matches.empty() && json_text.find('\\') == std::string::npos) return 0;
  }
  boost::system::error_code ec;
  json::value doc = ParseJson(json_text, ec, {}, kMaxMetadataDepth);
  if (ec) return Redact(json_text);
  const int n = RedactValue(*this, doc, {});
  if (n > 0) json_text = json::serialize(doc);
  return n;
}

std::string HmacSha256Hex(std::string_view key, std::string_view message) {
  std::array<std::uint8_t, 64> block{};
  if (key.size() > block.size()) {
    Sha256 h;
    h.Update(key);
    const auto d = h.Finish();
    std::memcpy(block.data(), d.data(), d.size());
  } else {
    std::memcpy(block.data(), key.data(), key.size());
  }
  std::array<char, 64> ipad{}, opad{};
  for (std::size_t i = 0; i < block.size(); ++i) {
    ipad[i] = static_cast<char>(block[i] ^ 0x36);
    opad[i] = static_cast<char>(block[i] ^ 0x5c);
  }
  Sha256 inner;
  inner.Update(std::string_view(ipad.data(), ipad.size()));
  inner.Update(message);
  const auto inner_digest = inner.Finish();
  Sha256 outer;
  outer.Update(std::string_view(opad.data(), opad.size()));
  outer.Update(std::string_view(reinterpret_cast<const char*>(inner_digest.data()),
                                inner_digest.size()));
  return outer.FinishHex();
}

}  // namespace vibekit::internal
