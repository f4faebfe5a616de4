// A faster `unicode61` FTS5 tokenizer for our own connections, with exactly the built-in's
// tokens and offsets.
//
// Most of what the store indexes is ASCII (code, logs, English prose). For it, the built-in
// unicode61 (with the default categories) makes ASCII letters and digits token characters,
// folds letters to lower case and treats every other ASCII byte as a separator; diacritic
// removal does not touch ASCII. RegisterFastUnicode61 registers, on one connection, a tokenizer
// under the same name `unicode61` (the connection's newest registration of a name wins) that
// does that itself: each stretch of bytes between ASCII separators that is all ASCII becomes one
// token (passed to FTS5 straight from the text when it holds no upper-case letter), and any
// stretch holding a byte >= 0x80 is handed to the built-in tokenizer (offsets shifted), which
// therefore decides every non-ASCII case (folding, diacritics, CJK, emoji, invalid UTF-8). A
// token never spans an ASCII separator in the built-in either, so the concatenation is the
// built-in's output. Tables created with `tokenchars`, `separators` or `categories` (which can
// change the ASCII classes) get the built-in for everything.
//
// The schema, the files and other programs (the sqlite3 shell) are unaffected: the index is the
// one the built-in would write (tests/store/fts_tokenizer_test.cc compares them token for token).
#pragma once

#include "vibekit/status.h"

struct sqlite3;

namespace vibekit::store::sqlite {

// Registers the tokenizer on `db`; FTS5 tables first used on `db` after this call use it.
Status RegisterFastUnicode61(sqlite3* db);

}  // namespace vibekit::store::sqlite
