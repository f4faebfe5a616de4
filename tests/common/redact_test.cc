// The redactor over the corpus tests/data/redaction_corpus.tsv (realistic fake secrets in
// context, look-alikes that must stay), in text and in nested metadata JSON; extra patterns;
// the off switch; HMAC-SHA-256 against RFC 4231.
#include "common/redact.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "testing/redaction_corpus.h"

namespace vibekit::internal {
namespace {

using testing::CorpusSecret;
using testing::LoadRedactionCorpus;

std::shared_ptr<const Redactor> Builtin() {
  auto r = Redactor::Create(true, {});
  EXPECT_TRUE(r.ok());
  return *r;
}

TEST(Redact, EverySecretOfTheCorpusIsReplacedByItsKindInContext) {
  const auto corpus = LoadRedactionCorpus();
  ASSERT_GE(corpus.secrets.size(), 20u);
  auto r = Builtin();
  for (const CorpusSecret& s : corpus.secrets) {
    std::string text = s.text;
    EXPECT_GE(r->Redact(text), 1) << s.text;
    EXPECT_EQ(text.find(s.secret), std::string::npos) << "leaked: " << text;
    EXPECT_NE(text.find("[REDACTED:" + s.kind + "]"), std::string::npos)
        << s.kind << " expected in: " << text;
    // Idempotent: the markers are not secrets.
    std::string again = text;
    EXPECT_EQ(r->Redact(again), 0) << again;
    EXPECT_EQ(again, text);
  }
}

TEST(Redact, LookAlikesStayExactly) {
  const auto corpus = LoadRedactionCorpus();
  ASSERT_GE(corpus.keeps.size(), 20u);
  auto r = Builtin();
  for (const std::string& keep : corpus.keeps) {
    std::string text = keep;
    EXPECT_EQ(r->Redact(text), 0) << keep;
    EXPECT_EQ(text, keep);
  }
}

TEST(Redact, TheRestOfTheTextIsKept) {
  auto r = Builtin();
  std::string text = "export GITHUB_TOKEN=ghp_FAKE0123456789abcdefghijklmnopqrstuv && make test";
  EXPECT_EQ(r->Redact(text), 1);
  EXPECT_EQ(text, "export GITHUB_TOKEN=[REDACTED:github_token] && make test");
  text = "a sk-FAKE0123456789abcdefEXAMPLE0123 b AKIAIOSFODNN7EXAMPLE c";
  EXPECT_EQ(r->Redact(text), 2);
  EXPECT_EQ(text, "a [REDACTED:openai_api_key] b [REDACTED:aws_access_key_id] c");
}

TEST(Redact, NestedMetadataStringsAndSecretKeysAreRedacted) {
  auto r = Builtin();
  const auto corpus = LoadRedactionCorpus();
  for (const CorpusSecret& s : corpus.secrets) {
    std::string json = R"({"tool":{"calls":[{"args":)" + testing::JsonString(s.text) +
                       R"(}]},"n":1.5,"ok":true})";
    EXPECT_GE(r->RedactJson(json), 1) << json;
    EXPECT_EQ(json.find(s.secret), std::string::npos) << "leaked: " << json;
    EXPECT_NE(json.find(R"("n":1.5)"), std::string::npos) << json;
  }
  // A key that names a secret: its whole string value goes, whatever it looks like.
  std::string json = R"({"env":{"DB_PASSWORD":"correct horse battery staple","user":"ann"}})";
  EXPECT_EQ(r->RedactJson(json), 1);
  EXPECT_EQ(json, R"({"env":{"DB_PASSWORD":"[REDACTED:secret_value]","user":"ann"}})");
  // Nothing to redact: the text is not rewritten (number formatting, key order, spaces kept).
  std::string plain = R"({ "a" : 1.50, "max_tokens": 4096, "b": ["skeleton"] })";
  const std::string before = plain;
  EXPECT_EQ(r->RedactJson(plain), 0);
  EXPECT_EQ(plain, before);
}

TEST(Redact, ExtraPatternsAndTheOffSwitch) {
  auto both = Redactor::Create(true, {"ACME-[0-9]{6}"});
  ASSERT_TRUE(both.ok());
  std::string text = "ticket ACME-123456 with key ghp_FAKE0123456789abcdefghijklmnopqrstuv";
  EXPECT_EQ((*both)->Redact(text), 2);
  EXPECT_EQ(text, "ticket [REDACTED:custom] with key [REDACTED:github_token]");

  auto only_custom = Redactor::Create(false, {"ACME-[0-9]{6}"});
  ASSERT_TRUE(only_custom.ok());
  text = "ticket ACME-123456 with key ghp_FAKE0123456789abcdefghijklmnopqrstuv";
  EXPECT_EQ((*only_custom)->Redact(text), 1);
  EXPECT_EQ(text, "ticket [REDACTED:custom] with key ghp_FAKE0123456789abcdefghijklmnopqrstuv");
  std::string json = R"({"t":"ACME-654321"})";
  EXPECT_EQ((*only_custom)->RedactJson(json), 1);
  EXPECT_EQ(json, R"({"t":"[REDACTED:custom]"})");

  auto off = Redactor::Create(false, {});
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE((*off)->enabled());
  text = "key ghp_FAKE0123456789abcdefghijklmnopqrstuv";
  EXPECT_EQ((*off)->Redact(text), 0);

  auto bad = Redactor::Create(true, {"(unclosed"});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("(unclosed"), std::string::npos);
}

TEST(Redact, SecretNames) {
  std::size_t min = 0;
  for (const char* yes : {"API_KEY", "apiKey", "api-key", "GITHUB_TOKEN", "authToken", "password",
                          "DB_PASSWD", "client_secret", "SECRET", "aws_secret_access_key", "key",
                          "x.credentials"}) {
    EXPECT_TRUE(Redactor::IsSecretName(yes, &min)) << yes;
  }
  for (const char* no : {"KEY_COUNT", "monkey", "MONKEY", "max_tokens", "keyboard", "tokens",
                         "keys", "id", "turkey"}) {
    EXPECT_FALSE(Redactor::IsSecretName(no, &min)) << no;
  }
}

// The scanner's rule for where a detection can start, written out as a list: the fast skip
// (16 bytes per step) must stop exactly where this says, at any offset and length.
const std::vector<std::string>& Anchors() {
  static const std::vector<std::string> a = [] {
    std::vector<std::string> v = {"sk-", "sk_", "rk_", "AIz", "AKI", "ASI", "git", "xox",
                                  "eyJ", "---"};
    for (char c : std::string("pousr")) v.push_back(std::string("gh") + c);
    for (const char* b : {"b", "B"}) {
      for (const char* e : {"e", "E"}) {
        for (const char* x : {"a", "A"}) v.push_back(std::string(b) + e + x);
      }
    }
    return v;
  }();
  return a;
}

// Where a detection can start in `t`, by the list: one flag per byte.
std::vector<bool> CandidatesByHand(std::string_view t) {
  static const std::set<std::string, std::less<>> three(Anchors().begin(), Anchors().end());
  std::vector<bool> at(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    at[i] = t[i] == '=' || t[i] == ':' || (i + 3 <= t.size() && three.contains(t.substr(i, 3)));
  }
  return at;
}

std::size_t NextByHand(const std::vector<bool>& at, std::size_t from) {
  for (std::size_t i = from; i < at.size(); ++i) {
    if (at[i]) return i;
  }
  return at.size();
}

TEST(RedactFastSkip, StopsAtEveryAnchorAtEveryOffsetOfEveryLength) {
  // Every anchor placed at every offset 0..40 of filler strings of every length 0..40 (and 64,
  // past a 32-byte and a few 16-byte steps), cut where the string ends; near misses (its first two bytes, its
  // last two, its middle byte changed) and a filler that starts anchors ("s") at the lengths
  // around the 16-byte steps.
  std::vector<std::string> anchors = {"=", ":"}, near_misses;
  for (const std::string& a : Anchors()) {
    anchors.push_back(a);
    near_misses.push_back(a.substr(0, 2));
    near_misses.push_back(a.substr(1));
    near_misses.push_back(a.substr(0, 1) + "." + a.substr(2));
  }
  const auto check = [](std::size_t len, std::size_t off, const std::string& a, char filler) {
    std::string t(len, filler);
    t.replace(off, std::min(a.size(), len - off), a.substr(0, len - off));
    const std::vector<bool> at = CandidatesByHand(t);
    for (std::size_t from : {std::size_t{0}, off}) {
      ASSERT_EQ(NextScanCandidate(t, from), NextByHand(at, from))
          << "text \"" << t << "\" from " << from;
    }
  };
  for (std::size_t len = 0; len <= 64; len = len < 40 ? len + 1 : 64) {
    const bool step_edge = len % 16 <= 2 || len % 16 >= 14;
    for (std::size_t off = 0; off <= 40 && off < len; ++off) {
      for (const std::string& a : anchors) {
        ASSERT_NO_FATAL_FAILURE(check(len, off, a, '.'));
        if (step_edge) {
          ASSERT_NO_FATAL_FAILURE(check(len, off, a, 's'));
        }
      }
      if (!step_edge) continue;
      for (const std::string& a : near_misses) ASSERT_NO_FATAL_FAILURE(check(len, off, a, '.'));
    }
    if (len == 64) break;
  }
  for (std::size_t len = 0; len <= 40; ++len) {
    const std::string t(len, '.');
    EXPECT_EQ(NextScanCandidate(t, 0), len);
    EXPECT_EQ(NextScanCandidate(t, len), len);
  }
}

TEST(RedactFastSkip, EverySecretIsFoundAtEveryOffsetAndStringLength) {
  const auto corpus = LoadRedactionCorpus();
  auto r = Builtin();
  for (const CorpusSecret& s : corpus.secrets) {
    for (std::size_t off = 0; off <= 40; ++off) {
      for (std::size_t tail : {0, 1, 15, 16, 17, 40}) {
        // Plain text around it (spaces keep the word boundaries the detectors ask for).
        const std::string before = off == 0 ? "" : std::string(off - 1, '.') + " ";
        const std::string after = tail == 0 ? "" : " " + std::string(tail - 1, '.');
        std::string text = before + s.text + after;
        const std::string original = text;
        EXPECT_TRUE(r->Finds(text)) << text;
        EXPECT_GE(r->Redact(text), 1) << original;
        EXPECT_EQ(text.find(s.secret), std::string::npos) << "leaked: " << text;
        EXPECT_TRUE(text.starts_with(before)) << text;
        // (A private key cut off before its END line is redacted to the end of the text.)
        const bool to_end = s.kind == "private_key" && s.text.find("-----END") == std::string::npos;
        if (!to_end) {
          EXPECT_TRUE(text.ends_with(after)) << text;
        }
      }
    }
  }
  for (const std::string& keep : corpus.keeps) {
    for (std::size_t off = 0; off <= 40; ++off) {
      const std::string text = std::string(off, ' ') + keep;
      EXPECT_FALSE(r->Finds(text)) << text;
    }
  }
  // Strings of length 0..40 of plain text and of near misses: nothing found, nothing changed.
  for (std::size_t len = 0; len <= 40; ++len) {
    for (const char* unit :
         {"x", "sk ", "AIz", "ghp", "xox", "eyJ", "Bear", "-- ", "a=b ", "k: v"}) {
      std::string text;
      while (text.size() < len) text += unit;
      text.resize(len);
      std::string copy = text;
      EXPECT_FALSE(r->Finds(text)) << text;
      EXPECT_EQ(r->Redact(copy), 0) << text;
      EXPECT_EQ(copy, text);
    }
  }
}

TEST(Redact, FindsAgreesWithRedact) {
  const auto corpus = LoadRedactionCorpus();
  auto custom = Redactor::Create(false, {"ACME-[0-9]{6}", "x*"});  // "x*" matches empty too
  ASSERT_TRUE(custom.ok());
  EXPECT_TRUE((*custom)->Finds("ticket ACME-123456"));
  EXPECT_TRUE((*custom)->Finds("a xx b"));
  EXPECT_FALSE((*custom)->Finds("only empty matches here"));
  std::string unchanged = "only empty matches here";
  EXPECT_EQ((*custom)->Redact(unchanged), 0);
  auto r = Builtin();
  for (const CorpusSecret& s : corpus.secrets) EXPECT_TRUE(r->Finds(s.text)) << s.text;
  for (const std::string& keep : corpus.keeps) EXPECT_FALSE(r->Finds(keep)) << keep;
  // Metadata: plain JSON without escapes is known unchanged; escapes or extra patterns are not.
  EXPECT_FALSE(r->MayChangeJson(R"({"a":"b","max_tokens":4096})"));
  EXPECT_TRUE(r->MayChangeJson(R"({"API_KEY":"0123456789abcdef"})"));
  EXPECT_TRUE(r->MayChangeJson(R"({"a":"line\nbreak"})"));
  EXPECT_TRUE((*custom)->MayChangeJson(R"({"a":"b"})"));
  auto off = Redactor::Create(false, {});
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE((*off)->MayChangeJson(R"({"API_KEY":"0123456789abcdef"})"));
}

TEST(Hmac, Rfc4231Vectors) {
  // Test case 1: key = 20 x 0x0b, data = "Hi There".
  EXPECT_EQ(HmacSha256Hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: key = "Jefe".
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block (131 x 0xaa) is hashed first.
  EXPECT_EQ(HmacSha256Hex(std::string(131, '\xaa'),
                          "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

}  // namespace
}  // namespace vibekit::internal
