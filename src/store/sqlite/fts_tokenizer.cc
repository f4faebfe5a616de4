#include "store/sqlite/fts_tokenizer.h"

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <new>
#include <string>

namespace vibekit::store::sqlite {
namespace {

// Byte classes of the fast path: 0 separates tokens; kToken: ASCII letter or digit (kUpper: an
// upper-case letter, folded); kWide: a byte of a multi-byte or invalid UTF-8 sequence, left to the
// built-in tokenizer.
constexpr std::uint8_t kToken = 1;
constexpr std::uint8_t kUpper = 2;
constexpr std::uint8_t kWide = 4;

constexpr std::array<std::uint8_t, 256> MakeClasses() {
  std::array<std::uint8_t, 256> c{};
  for (int b = '0'; b <= '9'; ++b) c[b] = kToken;
  for (int b = 'a'; b <= 'z'; ++b) c[b] = kToken;
  for (int b = 'A'; b <= 'Z'; ++b) c[b] = kToken | kUpper;
  for (int b = 0x80; b < 0x100; ++b) c[b] = kWide;
  return c;
}
constexpr std::array<std::uint8_t, 256> kClass = MakeClasses();

using TokenCallback = int (*)(void*, int, const char*, int, int, int);

// The built-in tokenizer as FTS5 had it registered before ours replaced the name.
struct Module {
  fts5_tokenizer builtin{};
  void* builtin_context = nullptr;
};

// One tokenizer instance (one per FTS5 table and connection; used by one thread at a time).
struct Instance {
  const Module* module = nullptr;
  Fts5Tokenizer* builtin = nullptr;  // owned; created with the table's arguments
  bool fast = false;                 // the ASCII classes are the defaults
  std::string folded;                // an upper-case token folded to lower case
};

// Only `remove_diacritics` leaves the ASCII classes alone (diacritic removal never changes an
// ASCII character); `tokenchars`, `separators` and `categories` can change them.
bool AsciiClassesAreDefault(const char** args, int n) {
  if (n % 2 != 0) return false;
  for (int i = 0; i < n; i += 2) {
    if (sqlite3_stricmp(args[i], "remove_diacritics") != 0) return false;
  }
  return true;
}

int Create(void* user_data, const char** args, int n, Fts5Tokenizer** out) {
  const auto* module = static_cast<const Module*>(user_data);
  *out = nullptr;
  auto* instance = new (std::nothrow) Instance;
  if (instance == nullptr) return SQLITE_NOMEM;
  instance->module = module;
  // The built-in validates the arguments (its error is the table's error) and serves every
  // stretch the fast path does not.
  const int rc = module->builtin.xCreate(module->builtin_context, args, n, &instance->builtin);
  if (rc != SQLITE_OK) {
    delete instance;
    return rc;
  }
  instance->fast = AsciiClassesAreDefault(args, n);
  *out = reinterpret_cast<Fts5Tokenizer*>(instance);
  return SQLITE_OK;
}

void Delete(Fts5Tokenizer* tokenizer) {
  auto* instance = reinterpret_cast<Instance*>(tokenizer);
  if (instance == nullptr) return;
  if (instance->builtin != nullptr) instance->module->builtin.xDelete(instance->builtin);
  delete instance;
}

// Hands the built-in's tokens of a stretch on with offsets into the whole text.
struct Shifted {
  void* context;
  TokenCallback callback;
  int offset;
};

int ShiftedToken(void* shifted, int flags, const char* token, int size, int start, int end) {
  const auto* s = static_cast<const Shifted*>(shifted);
  return s->callback(s->context, flags, token, size, start + s->offset, end + s->offset);
}

int Tokenize(Fts5Tokenizer* tokenizer, void* context, int flags, const char* text, int size,
             TokenCallback callback) {
  auto* instance = reinterpret_cast<Instance*>(tokenizer);
  const fts5_tokenizer& builtin = instance->module->builtin;
  if (!instance->fast) {
    return builtin.xTokenize(instance->builtin, context, flags, text, size, callback);
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(text);
  int i = 0;
  while (i < size) {
    while (i < size && kClass[bytes[i]] == 0) ++i;
    if (i == size) break;
    const int start = i;
    std::uint8_t seen = 0;
    for (std::uint8_t c; i < size && (c = kClass[bytes[i]]) != 0; ++i) seen |= c;
    int rc = SQLITE_OK;
    if ((seen & kWide) != 0) {
      // The built-in starts a stretch in the state it is in after an ASCII separator, and the
      // stretch's end ends its token and any UTF-8 sequence as that separator would.
      Shifted shifted{context, callback, start};
      rc = builtin.xTokenize(instance->builtin, &shifted, flags, text + start, i - start,
                             &ShiftedToken);
    } else if ((seen & kUpper) == 0) {
      rc = callback(context, 0, text + start, i - start, start, i);
    } else {
      std::string& folded = instance->folded;
      try {
        folded.assign(text + start, static_cast<std::size_t>(i - start));
      } catch (const std::bad_alloc&) {
        return SQLITE_NOMEM;
      }
      // Letters and digits only: | 0x20 lowers A-Z and leaves a-z and 0-9 as they are.
      for (char& ch : folded) ch = static_cast<char>(ch | 0x20);
      rc = callback(context, 0, folded.data(), i - start, start, i);
    }
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

void DestroyModule(void* user_data) { delete static_cast<Module*>(user_data); }

Result<fts5_api*> Fts5Api(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, nullptr) != SQLITE_OK) {
    return Status::Internal(std::string("FTS5 is not available: ") + sqlite3_errmsg(db));
  }
  sqlite3_bind_pointer(stmt, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
  sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  if (api == nullptr || api->iVersion < 2) return Status::Internal("FTS5 API is not available");
  return api;
}

}  // namespace

Status RegisterFastUnicode61(sqlite3* db) {
  VK_ASSIGN_OR_RETURN(fts5_api * api, Fts5Api(db));
  auto* module = new (std::nothrow) Module;
  if (module == nullptr) return Status::Internal("out of memory registering the tokenizer");
  if (api->xFindTokenizer(api, "unicode61", &module->builtin_context, &module->builtin) !=
      SQLITE_OK) {
    delete module;
    return Status::Internal("FTS5 has no unicode61 tokenizer");
  }
  fts5_tokenizer ours{&Create, &Delete, &Tokenize};
  // FTS5 (3.40) calls DestroyModule at close, not when the registration fails.
  if (api->xCreateTokenizer(api, "unicode61", module, &ours, &DestroyModule) != SQLITE_OK) {
    delete module;
    return Status::Internal("cannot register the unicode61 tokenizer");
  }
  return Status::Ok();
}

}  // namespace vibekit::store::sqlite
