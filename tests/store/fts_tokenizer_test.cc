// The store's unicode61 tokenizer (fts_tokenizer.h) against SQLite's built-in one: the same
// tokens, offsets, flags and return codes for every text, argument set and tokenize mode, and an
// index written through it that a connection without it reads, checks and rebuilds identically.
#include "store/sqlite/fts_tokenizer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite/database.h"
#include "store/sqlite/text_codec.h"
#include "testing/test_util.h"
#include "vibekit/telemetry_service.h"

namespace vibekit::store::sqlite {
namespace {

using vibekit::testing::TempDir;
using vibekit::testing::TestConfig;

fts5_api* Api(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, nullptr), SQLITE_OK);
  sqlite3_bind_pointer(stmt, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
  sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  return api;
}

struct Token {
  std::string text;
  int start = 0;
  int end = 0;
  int flags = 0;
  bool operator==(const Token&) const = default;
};

struct Tokens {
  int create_rc = SQLITE_OK;
  int rc = SQLITE_OK;
  std::vector<Token> tokens;
  const char* first_token_data = nullptr;  // where FTS5 was handed the first token's bytes
  bool operator==(const Tokens& o) const {
    return create_rc == o.create_rc && rc == o.rc && tokens == o.tokens;
  }
};

struct Collector {
  Tokens* out;
  int stop_after;  // the callback answers SQLITE_ABORT at this token (-1: never)
};

int Collect(void* context, int flags, const char* token, int size, int start, int end) {
  auto* c = static_cast<Collector*>(context);
  if (c->out->tokens.empty()) c->out->first_token_data = token;
  c->out->tokens.push_back({std::string(token, static_cast<std::size_t>(size)), start, end, flags});
  if (c->stop_after >= 0 && static_cast<int>(c->out->tokens.size()) > c->stop_after) {
    return SQLITE_ABORT;
  }
  return SQLITE_OK;
}

// One registered tokenizer: its functions and the context FTS5 hands its xCreate.
struct Registered {
  fts5_tokenizer functions{};
  void* context = nullptr;

  Tokens Run(const std::vector<const char*>& args, int flags, const std::string& text,
             int stop_after = -1) const {
    Tokens out;
    Fts5Tokenizer* instance = nullptr;
    out.create_rc = functions.xCreate(context, const_cast<const char**>(args.data()),
                                      static_cast<int>(args.size()), &instance);
    if (out.create_rc != SQLITE_OK) return out;
    Collector c{&out, stop_after};
    out.rc = functions.xTokenize(instance, &c, flags, text.data(), static_cast<int>(text.size()),
                                 &Collect);
    functions.xDelete(instance);
    return out;
  }
};

// A connection holding both: SQLite's unicode61 as found before registering, and the name's
// tokenizer after RegisterFastUnicode61 (ours).
class FtsTokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    fts5_api* api = Api(db_);
    ASSERT_NE(api, nullptr);
    ASSERT_EQ(api->xFindTokenizer(api, "unicode61", &builtin_.context, &builtin_.functions),
              SQLITE_OK);
    ASSERT_OK(RegisterFastUnicode61(db_));
    ASSERT_EQ(api->xFindTokenizer(api, "unicode61", &ours_.context, &ours_.functions), SQLITE_OK);
    ASSERT_NE(ours_.functions.xTokenize, builtin_.functions.xTokenize)
        << "the registration did not replace unicode61";
  }
  void TearDown() override { sqlite3_close(db_); }

  // Every mode FTS5 tokenizes in: documents, queries (plain and prefix), auxiliary functions.
  void ExpectSame(const std::vector<const char*>& args, const std::string& text) {
    for (int flags : {FTS5_TOKENIZE_DOCUMENT, FTS5_TOKENIZE_QUERY,
                      FTS5_TOKENIZE_QUERY | FTS5_TOKENIZE_PREFIX, FTS5_TOKENIZE_AUX}) {
      const Tokens want = builtin_.Run(args, flags, text);
      const Tokens got = ours_.Run(args, flags, text);
      ASSERT_EQ(got, want) << Describe(args, flags, text, want, got);
    }
  }

  static std::string Describe(const std::vector<const char*>& args, int flags,
                              const std::string& text, const Tokens& want, const Tokens& got) {
    std::string s = "args:";
    for (const char* a : args) s += std::string(" ") + a;
    s += "\nflags: " + std::to_string(flags) + "\ntext bytes:";
    char hex[8];
    for (unsigned char c : text) {
      std::snprintf(hex, sizeof hex, " %02x", c);
      s += hex;
    }
    auto list = [](const Tokens& t) {
      std::string r = "rc " + std::to_string(t.create_rc) + "/" + std::to_string(t.rc) + ":";
      for (const Token& k : t.tokens) {
        r += " [" + k.text + " " + std::to_string(k.start) + "-" + std::to_string(k.end) + "]";
      }
      return r;
    };
    return s + "\nbuilt-in " + list(want) + "\nours     " + list(got);
  }

  sqlite3* db_ = nullptr;
  Registered builtin_;
  Registered ours_;
};

// The schema's arguments, the other remove_diacritics values (ASCII is the same under all of
// them) and the options that change the ASCII classes (all delegated).
const std::vector<std::vector<const char*>> kArgSets = {
    {"remove_diacritics", "2"},
    {},
    {"remove_diacritics", "0"},
    {"REMOVE_DIACRITICS", "1"},
    {"tokenchars", "_-"},
    {"separators", "xé"},
    {"categories", "L* N* Co Mn"},
    {"remove_diacritics", "2", "tokenchars", "."},
};

const std::vector<std::string> kTexts = {
    "",
    " ",
    "hello",
    "Hello, World! 42 times",
    "  leading and trailing separators...  ",
    "const result = await fetchSession(sessionId, { retry: 3 }); // ECONNREFUSED",
    "Error: connect ECONNREFUSED 127.0.0.1:5432 (Connection refused)\n\tat TCP.onStreamRead",
    "snake_case_name kebab-case-name CamelCaseName SCREAMING_CASE x86_64 0xDEADBEEF 1e-9",
    "café naïve résumé Ünïcödé ÀÉÎÕÜ façade Straße ǅ ﬁ",
    "café_x x_café _café_ café-café",
    "cafe\xcc\x81 (combining acute) and a\xcc\x8a\xcc\x81 stacked",
    "東京都の天気は晴れです。中文测试，한국어 텍스트",
    "emoji 🚀🔥 rocket🚀fire 👩‍💻 ok✅done",
    std::string("nul\0byte inside\0", 16),
    "invalid \x80 lone continuation, \xc3 truncated lead, \xff\xfe bytes, \xc3(x",
    "overlong \xc0\xaf and surrogate \xed\xa0\x80 and \xf4\x90\x80\x80 beyond",
    "latin-1 bytes as sent: caf\xe9 na\xefve \xb5 \xaa \xba",
    "ends in a lead byte \xe2\x82",
    "digits 0123456789 and 12ab34CD56",
    "µ-law ªordinal ºmasculine ½half ²square",
    "Ⅻ roman ⅻ numerals ① circled",
    "tabs\tand\nnewlines\r\nand\x1f\x7f controls",
};

TEST_F(FtsTokenizerTest, SameTokensAsTheBuiltInOnHandPickedTexts) {
  std::vector<std::string> texts = kTexts;
  texts.push_back(std::string(300, 'a'));  // longer than the built-in's 64-byte fold buffer
  texts.push_back(std::string(150, 'Z') + " " + std::string(200, 'q') + "É" + std::string(90, 'K'));
  std::string mixed;
  for (int i = 0; i < 200; ++i) mixed += (i % 7 == 0) ? "Ü" : (i % 3 == 0 ? "B" : "b");
  texts.push_back(mixed);
  for (const auto& args : kArgSets) {
    for (const std::string& text : texts) ExpectSame(args, text);
  }
}

// A few thousand strings mixing the pieces above at random (a fixed seed: the same corpus every
// run), cut at random byte offsets so that UTF-8 sequences are split too.
TEST_F(FtsTokenizerTest, SameTokensAsTheBuiltInOnAGeneratedCorpus) {
  const std::vector<std::string> pieces = {
      "word", "Word", "WORD", "x", "Q", "42", "0", "_", "-", ".", " ", "  ", "\n", "\t", ",", "/",
      "é", "É", "ü", "ß", "ǅ", "ﬁ", "e\xcc\x81", "\xcc\x81", "東京", "。", "한", "🚀", "👩‍💻",
      "✅", "\x80", "\xc3", "\xff", "\xe2\x82", "\xc0\xaf", "\xed\xa0\x80", std::string(1, '\0'),
      "µ", "\xb5", "Ⅻ", "①", "café_x", "ECONNREFUSED", "useEffect", std::string(70, 'L'),
      std::string(80, 'w')};
  std::mt19937 rng(20261207);
  std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
  std::uniform_int_distribution<int> count(0, 40);
  for (int n = 0; n < 3000; ++n) {
    std::string text;
    for (int k = count(rng); k > 0; --k) text += pieces[pick(rng)];
    if (n % 5 == 4 && !text.empty()) {
      text.resize(std::uniform_int_distribution<std::size_t>(0, text.size() - 1)(rng));
    }
    const auto& args = kArgSets[static_cast<std::size_t>(n) % kArgSets.size()];
    ExpectSame(args, text);
    if (HasFatalFailure()) return;
  }
}

TEST_F(FtsTokenizerTest, ACallbackErrorStopsBothAtTheSameToken) {
  const std::string text = "alpha Beta gamma café delta 東京 epsilon";
  for (int stop = 0; stop < 8; ++stop) {
    const Tokens want = builtin_.Run({"remove_diacritics", "2"}, FTS5_TOKENIZE_DOCUMENT, text, stop);
    const Tokens got = ours_.Run({"remove_diacritics", "2"}, FTS5_TOKENIZE_DOCUMENT, text, stop);
    EXPECT_EQ(got, want) << "stop after " << stop;
    if (stop < 7) {
      EXPECT_EQ(got.rc, SQLITE_ABORT) << "stop after " << stop;
    }
  }
}

TEST_F(FtsTokenizerTest, BadArgumentsAreTheBuiltInsErrors) {
  for (const std::vector<const char*>& args :
       {std::vector<const char*>{"remove_diacritics", "3"},
        std::vector<const char*>{"no_such_option", "1"},
        std::vector<const char*>{"remove_diacritics"},
        std::vector<const char*>{"categories", "Zz"}}) {
    const Tokens want = builtin_.Run(args, FTS5_TOKENIZE_DOCUMENT, "x");
    const Tokens got = ours_.Run(args, FTS5_TOKENIZE_DOCUMENT, "x");
    EXPECT_NE(want.create_rc, SQLITE_OK) << args[0];
    EXPECT_EQ(got.create_rc, want.create_rc) << args[0];
  }
}

// The fast path is in use: an all-ASCII lower-case token is handed to FTS5 from the text itself,
// where the built-in always hands its fold buffer.
TEST_F(FtsTokenizerTest, LowerCaseAsciiTokensAreHandedOverWithoutACopy) {
  const std::string text = "plain ascii words";
  const Tokens got = ours_.Run({"remove_diacritics", "2"}, FTS5_TOKENIZE_DOCUMENT, text);
  ASSERT_EQ(got.tokens.size(), 3u);
  EXPECT_EQ(got.first_token_data, text.data());
  const Tokens want = builtin_.Run({"remove_diacritics", "2"}, FTS5_TOKENIZE_DOCUMENT, text);
  EXPECT_NE(want.first_token_data, text.data());
  // tokenchars can make '_' a token character: no fast path then.
  const std::string snake = "snake_case";
  const Tokens delegated = ours_.Run({"tokenchars", "_"}, FTS5_TOKENIZE_DOCUMENT, snake);
  ASSERT_EQ(delegated.tokens.size(), 1u);
  EXPECT_EQ(delegated.tokens[0].text, "snake_case");
  EXPECT_NE(delegated.first_token_data, snake.data());
}

TEST(FtsTokenizerDatabase, EveryConnectionOfTheStoreUsesIt) {
  TempDir dir;
  auto db = Database::Open(dir.File("t.db"), OpenOptions{});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  fts5_api* api = Api((*db)->handle());
  ASSERT_NE(api, nullptr);
  void* context = nullptr;
  fts5_tokenizer found{};
  ASSERT_EQ(api->xFindTokenizer(api, "unicode61", &context, &found), SQLITE_OK);
  Registered r{found, context};
  const std::string text = "plain";
  EXPECT_EQ(r.Run({}, FTS5_TOKENIZE_DOCUMENT, text).first_token_data, text.data());
}

using Rows = std::vector<std::vector<std::string>>;

Rows Query(sqlite3* db, const std::string& sql, const std::string& arg = {}) {
  Rows rows;
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sql << ": " << sqlite3_errmsg(db);
  if (stmt == nullptr) return rows;
  if (sqlite3_bind_parameter_count(stmt) > 0) {
    sqlite3_bind_text(stmt, 1, arg.data(), static_cast<int>(arg.size()), SQLITE_TRANSIENT);
  }
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const auto* t = sqlite3_column_text(stmt, i);
      row.emplace_back(t != nullptr ? reinterpret_cast<const char*>(t) : "NULL");
    }
    rows.push_back(std::move(row));
  }
  EXPECT_EQ(rc, SQLITE_DONE) << sql << " [" << arg << "]: " << sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  return rows;
}

// A database the service wrote (texts through our tokenizer) read by a connection that never
// registered it, as the sqlite3 shell would: same answers, a clean integrity check, and a
// rebuild by the built-in gives the same index.
TEST(FtsTokenizerDatabase, AnIndexWrittenWithItIsTheBuiltInsIndex) {
  TempDir dir;
  const std::string path = dir.File("w.db");
  std::vector<std::string> texts;
  for (const std::string& t : kTexts) {
    // The service accepts valid UTF-8 without NUL only.
    bool ok = t.find('\0') == std::string::npos;
    for (unsigned char c : t) ok = ok && c < 0x80;
    if (ok || t.find("café") != std::string::npos || t.find("東京") != std::string::npos ||
        t.find("🚀") != std::string::npos || t.find("µ-law") != std::string::npos ||
        t.find("Ⅻ") != std::string::npos) {
      texts.push_back(t);
    }
  }
  {
    TelemetryConfig config = TestConfig(path);
    // Stored plain, so that the content table holds the texts a rebuild re-reads.
    config.local_store.compress_min_bytes = 0;
    TelemetryService service(config);
    ASSERT_OK(service.Initialize());
    int n = 0;
    for (const std::string& t : texts) {
      if (t.empty()) continue;
      TrackStreamParams p{"s" + std::to_string(n % 3), "claude"};
      p.stream_data = t;
      p.timestamp = 1000 + n++;
      ASSERT_OK(service.TrackStream(p));
      TrackStartParams s{"p" + std::to_string(n), "codex"};
      s.prompt = "Prompt " + std::to_string(n) + ": " + t;
      s.timestamp = 2000 + n;
      ASSERT_OK(service.TrackStart(s));
    }
    ASSERT_OK(service.FlushBuffers());
    ASSERT_OK(service.Shutdown());
  }
  const std::vector<std::string> queries = {
      "hello",      "HELLO",     "econnrefused", "connection", "conn*",        "\"café\"",
      "\"CAFE\"",   "\"naive\"", "\"Ünïcödé\"",  "strasse",    "\"straße\"",   "\"東京都の天気は晴れです\"",
      "\"🚀\"",     "rocket*",   "\"café\" AND x", "snake",    "case",         "x86",
      "\"1e\"",     "prompt",    "\"µ\"",        "law",        "\"ⅻ\"",        "0xdeadbeef",
      "retry AND 3", "await fetchsession", "12ab34cd56", "fire",      "done"};
  sqlite3* plain = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &plain, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  ASSERT_OK(RegisterTextFunctions(plain));  // vk_text, to read the stored texts; not the tokenizer
  const std::string attach = "ATTACH DATABASE '" + path + "-text' AS txt";
  EXPECT_TRUE(Query(plain, attach).empty());
  auto ours = Database::Open(path, OpenOptions{});
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  EXPECT_TRUE(Query((*ours)->handle(), attach).empty());
  const std::string match =
      "SELECT rowid FROM txt.telemetry_events_fts WHERE telemetry_events_fts MATCH ?1 "
      "ORDER BY rowid";
  std::size_t matched = 0;
  for (const std::string& q : queries) {
    const Rows a = Query(plain, match, q);
    EXPECT_EQ(Query((*ours)->handle(), match, q), a) << q;
    matched += a.empty() ? 0 : 1;
  }
  EXPECT_GE(matched, queries.size() - 2) << "the queries should mostly find something";
  EXPECT_TRUE(Query(plain, "INSERT INTO txt.telemetry_events_fts(telemetry_events_fts) "
                           "VALUES('integrity-check')")
                  .empty());
  const Rows written =
      Query(plain, "SELECT term, doc FROM txt.telemetry_events_fts_vocab ORDER BY term, doc");
  EXPECT_GT(written.size(), 50u);
  // The same index built by the built-in tokenizer from the stored texts.
  EXPECT_TRUE(Query(plain,
                    "CREATE VIRTUAL TABLE temp.rebuilt USING fts5(prompt, stream_data, "
                    "content='', detail=none, columnsize=0, "
                    "tokenize='unicode61 remove_diacritics 2')")
                  .empty());
  EXPECT_TRUE(Query(plain,
                    "INSERT INTO temp.rebuilt (rowid, prompt, stream_data) SELECT id, "
                    "vk_text(prompt), vk_text(stream_data) FROM telemetry_events "
                    "WHERE prompt IS NOT NULL OR stream_data IS NOT NULL")
                  .empty());
  EXPECT_TRUE(
      Query(plain, "CREATE VIRTUAL TABLE temp.rebuilt_vocab USING fts5vocab(temp, 'rebuilt', 'row')")
          .empty());
  EXPECT_EQ(Query(plain, "SELECT term, doc FROM temp.rebuilt_vocab ORDER BY term, doc"), written);
  const std::string rebuilt_match =
      "SELECT rowid FROM temp.rebuilt WHERE rebuilt MATCH ?1 ORDER BY rowid";
  for (const std::string& q : queries) {
    EXPECT_EQ(Query((*ours)->handle(), match, q), Query(plain, rebuilt_match, q)) << q;
  }
  sqlite3_close(plain);
}

}  // namespace
}  // namespace vibekit::store::sqlite
