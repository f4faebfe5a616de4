// Storage encoding of the large text columns (prompt, stream_data) in SQLite.
//
// Agent output compresses well (code, logs, JSON: ~2x with zstd at 512+ bytes), and disk I/O is
// what bounds ingest on these machines, so texts of at least `min_bytes` are stored as a BLOB:
// one format byte (kZstdV1) followed by a zstd frame. Shorter texts, and texts that do not shrink,
// stay plain TEXT. The SQL function vk_text(x) (registered on every connection we open) returns
// the plain text of either form; the FTS triggers and the search filter use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "vibekit/status.h"

struct sqlite3;

namespace vibekit {
struct Event;
}

namespace vibekit::store::sqlite {

inline constexpr unsigned char kZstdV1 = 0x01;

// zstd level of stored texts. Level 1: on 0.5-2 KiB agent output it keeps most of level 3's
// ratio at about twice the speed (other levels: `vibekit_bench --decompose`, docs/BENCHMARKS.md).
inline constexpr int kTextLevel = 1;

// Fills *out with the stored form and returns true when compressing pays off; false (and *out
// untouched) when the text should be stored as plain TEXT. `level` is for measurements.
bool EncodeText(std::string_view text, int min_bytes, std::string* out, int level = kTextLevel);

// The plain text of a stored BLOB. kCorruption if it is not one of our encodings.
Result<std::string> DecodeText(const void* blob, std::size_t size);
// The same into *out, reusing its capacity (the export scan decodes millions of texts).
Status DecodeTextInto(const void* blob, std::size_t size, std::string* out);

// Registers vk_text() on `db`.
Status RegisterTextFunctions(sqlite3* db);

// The events of the batch being written, in id order: events[i] was stored with id
// first_id + i. first_id 0 = no batch.
struct BatchTexts {
  std::int64_t first_id = 0;
  std::span<const Event> events;
};

// Registers vk_batch_text(id, column, stored) on the writer's connection: the prompt (column 0)
// or stream data (1) of event `id` straight from `*batch` when it holds that id, else
// vk_text(stored). The text index is filled from it, so the texts just compressed for storage
// are not decompressed again to be tokenized. `*batch` must outlive the connection.
Status RegisterBatchTextFunction(sqlite3* db, const BatchTexts* batch);

}  // namespace vibekit::store::sqlite
