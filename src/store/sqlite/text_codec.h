// Storage encoding of the large text columns (prompt, stream_data) in SQLite.
//
// Agent output compresses well (code, logs, JSON), and disk I/O is what bounds ingest on these
// machines, so texts of at least `min_bytes` are stored as a BLOB: one format byte followed by
// the compressed text. New texts are written as kLz4V1 (the byte, the decoded length as 4 bytes
// little-endian, an LZ4 block); earlier builds wrote kZstdV1 (the byte, a zstd
// frame), which is read as before. Shorter texts, and texts that do not shrink, stay plain TEXT.
// The SQL function vk_text(x) (registered on every connection we open) returns the plain text of
// any form; the text index (text_index.h) and the search filter use it.
//
// Why LZ4 (docs/BENCHMARKS.md, "Stored texts"): on this workload's 0.5-4 KiB texts it compresses
// ~4x and decodes ~9x faster than zstd level 1, for ~30 % more bytes per compressed text; every
// export and every search of a long text decodes, every ingest encodes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "vibekit/status.h"

struct sqlite3;

namespace vibekit::store::sqlite {

inline constexpr unsigned char kZstdV1 = 0x01;
inline constexpr unsigned char kLz4V1 = 0x02;
inline constexpr std::size_t kLz4HeaderBytes = 4;  // the decoded length after kLz4V1

enum class TextCodec { kLz4, kZstd };
// What the store writes. zstd stays for reading older files and for measurements.
inline constexpr TextCodec kStoredTextCodec = TextCodec::kLz4;
// zstd level when kZstd is asked for (level 1, what earlier builds stored).
inline constexpr int kZstdTextLevel = 1;

// Fills *out with the stored form and returns true when compressing pays off; false (and *out
// untouched) when the text should be stored as plain TEXT. `codec` and `zstd_level` are for
// measurements and tests; the store uses the defaults.
bool EncodeText(std::string_view text, int min_bytes, std::string* out,
                TextCodec codec = kStoredTextCodec, int zstd_level = kZstdTextLevel);

// The plain text of a stored BLOB. kCorruption if it is not one of our encodings.
Result<std::string> DecodeText(const void* blob, std::size_t size);
// The same into *out, reusing its capacity (the export scan decodes millions of texts).
Status DecodeTextInto(const void* blob, std::size_t size, std::string* out);

// Registers vk_text() on `db`.
Status RegisterTextFunctions(sqlite3* db);

}  // namespace vibekit::store::sqlite
