// The redactor over the corpus tests/data/redaction_corpus.tsv (realistic fake secrets in
// context, look-alikes that must stay), in text and in nested metadata JSON; extra patterns;
// the off switch; HMAC-SHA-256 against RFC 4231.
#include "common/redact.h"

#include <gtest/gtest.h>

#include <fstream>
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
