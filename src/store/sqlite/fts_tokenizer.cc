#include "store/sqlite/fts_tokenizer.h"

#include <sqlite3.h>

#include <emmintrin.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>

namespace vibekit::store::sqlite {
namespace {

// The fast path classifies 64 bytes at a time (SSE2) into bitmaps, bit i for byte i: `stretch`
// = not an ASCII separator (an ASCII letter or digit, or any byte >= 0x80); `upper` = A-Z;
// `wide` = a byte >= 0x80 (of a multi-byte or invalid UTF-8 sequence, left to the built-in).
struct Masks {
  std::uint64_t stretch = 0;
  std::uint64_t upper = 0;
  std::uint64_t wide = 0;
};

inline __m128i InRange(__m128i v, char lo, char hi) {
  // Signed compares: bytes >= 0x80 are negative and in no ASCII range.
  return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(lo - 1))),
                       _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(hi + 1))));
}

// `p` holds 64 readable bytes.
Masks Classify64(const unsigned char* p) {
  Masks m;
  for (int k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    const __m128i upper = InRange(v, 'A', 'Z');
    const __m128i alnum =
        _mm_or_si128(_mm_or_si128(upper, InRange(v, 'a', 'z')), InRange(v, '0', '9'));
    const auto wide = static_cast<std::uint32_t>(_mm_movemask_epi8(v));
    const auto shift = 16 * k;
    m.wide |= static_cast<std::uint64_t>(wide) << shift;
    m.upper |= static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(upper)))
               << shift;
    m.stretch |=
        static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(alnum)) | wide)
        << shift;
  }
  return m;
}

// Bits [from, to) of a word, 0 <= from < to <= 64.
inline std::uint64_t Bits(int from, int to) {
  const std::uint64_t upto = to == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << to) - 1;
  return upto & ~((std::uint64_t{1} << from) - 1);
}

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

// One stretch between ASCII separators: [start, end) of `text`.
int EmitStretch(Instance* instance, void* context, int flags, const char* text, int start, int end,
                bool upper, bool wide, TokenCallback callback) {
  if (wide) {
    // The built-in starts a stretch in the state it is in after an ASCII separator, and the
    // stretch's end ends its token and any UTF-8 sequence as that separator would.
    Shifted shifted{context, callback, start};
    return instance->module->builtin.xTokenize(instance->builtin, &shifted, flags, text + start,
                                               end - start, &ShiftedToken);
  }
  if (!upper) return callback(context, 0, text + start, end - start, start, end);
  std::string& folded = instance->folded;
  try {
    folded.assign(text + start, static_cast<std::size_t>(end - start));
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  }
  // Letters and digits only: | 0x20 lowers A-Z and leaves a-z and 0-9 as they are.
  for (char& ch : folded) ch = static_cast<char>(ch | 0x20);
  return callback(context, 0, folded.data(), end - start, start, end);
}

int Tokenize(Fts5Tokenizer* tokenizer, void* context, int flags, const char* text, int size,
             TokenCallback callback) {
  auto* instance = reinterpret_cast<Instance*>(tokenizer);
  if (!instance->fast) {
    return instance->module->builtin.xTokenize(instance->builtin, context, flags, text, size,
                                               callback);
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(text);
  int start = -1;  // of the stretch being read, -1 between stretches
  bool upper = false;
  bool wide = false;
  for (int base = 0; base < size; base += 64) {
    Masks m;
    if (size - base >= 64) {
      m = Classify64(bytes + base);
    } else {
      unsigned char tail[64] = {};  // zero bytes are separators
      std::memcpy(tail, bytes + base, static_cast<std::size_t>(size - base));
      m = Classify64(tail);
    }
    int pos = 0;
    while (pos < 64) {
      if (start < 0) {
        const std::uint64_t ahead = m.stretch >> pos;
        if (ahead == 0) break;
        pos += std::countr_zero(ahead);
        start = base + pos;
      }
      const std::uint64_t separators = ~m.stretch >> pos;
      const int to = separators == 0 ? 64 : pos + std::countr_zero(separators);
      const std::uint64_t bits = Bits(pos, to);
      upper = upper || (m.upper & bits) != 0;
      wide = wide || (m.wide & bits) != 0;
      pos = to;
      if (to == 64) break;  // the stretch goes on in the next 64 bytes
      const int rc =
          EmitStretch(instance, context, flags, text, start, base + to, upper, wide, callback);
      if (rc != SQLITE_OK) return rc;
      start = -1;
      upper = wide = false;
    }
  }
  if (start >= 0) {
    return EmitStretch(instance, context, flags, text, start, size, upper, wide, callback);
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
