#include "store/sqlite/text_codec.h"

#include <lz4.h>
#include <sqlite3.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <string>


namespace vibekit::store::sqlite {
namespace {


// One compression and one decompression context per thread: creating them per call costs more
// than compressing a few hundred bytes.
struct Contexts {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_DCtx* d = ZSTD_createDCtx();
  Contexts() = default;
  Contexts(const Contexts&) = delete;
  Contexts& operator=(const Contexts&) = delete;
  ~Contexts() {
    ZSTD_freeCCtx(c);
    ZSTD_freeDCtx(d);
  }
};

Contexts& ThreadContexts() {
  thread_local Contexts contexts;
  return contexts;
}
// A decoded text is never larger than the largest accepted field (validation caps it far lower);
// this bound keeps a corrupt frame header from asking for an absurd allocation.
constexpr unsigned long long kMaxDecoded = 1ULL << 30;

// A BLOB in one of our encodings, parsed: the codec, its compressed bytes and the decoded length.
struct StoredBlob {
  unsigned char format = 0;
  const char* data = nullptr;
  std::size_t size = 0;
  std::size_t decoded = 0;
};

// Parses a stored BLOB's header; kCorruption when it is not one of our encodings.
Status ParseBlob(const unsigned char* p, std::size_t size, StoredBlob* blob) {
  if (size >= 2 && p[0] == kZstdV1) {
    const unsigned long long len = ZSTD_getFrameContentSize(p + 1, size - 1);
    if (len == ZSTD_CONTENTSIZE_ERROR || len == ZSTD_CONTENTSIZE_UNKNOWN || len > kMaxDecoded) {
      return Status::Corruption("stored text is not a valid zstd frame");
    }
    *blob = {kZstdV1, reinterpret_cast<const char*>(p + 1), size - 1, static_cast<std::size_t>(len)};
    return Status::Ok();
  }
  if (size >= 1 + kLz4HeaderBytes && p[0] == kLz4V1) {
    std::uint32_t len = 0;
    for (std::size_t i = 0; i < kLz4HeaderBytes; ++i) len |= std::uint32_t{p[1 + i]} << (8 * i);
    // An LZ4 block expands less than 255x: a larger claimed length is damage, refused before
    // anything that size is allocated.
    const std::size_t block = size - 1 - kLz4HeaderBytes;
    if (len > kMaxDecoded || len > static_cast<std::uint32_t>(LZ4_MAX_INPUT_SIZE) ||
        len > 256 * block + 64) {
      return Status::Corruption("stored text has an impossible length");
    }
    *blob = {kLz4V1, reinterpret_cast<const char*>(p + 1 + kLz4HeaderBytes), block, len};
    return Status::Ok();
  }
  return Status::Corruption("stored text has an unknown encoding");
}

// Decodes `blob` into out[0, blob.decoded); false when the bytes do not decode to exactly that.
bool DecodeBlob(const StoredBlob& blob, char* out) {
  if (blob.format == kLz4V1) {
    if (blob.size > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE)) return false;
    // The safe decoder never reads or writes outside the two buffers, whatever the input.
    const int got = LZ4_decompress_safe(blob.data, out, static_cast<int>(blob.size),
                                        static_cast<int>(blob.decoded));
    return got >= 0 && static_cast<std::size_t>(got) == blob.decoded;
  }
  const std::size_t got =
      ZSTD_decompressDCtx(ThreadContexts().d, out, blob.decoded, blob.data, blob.size);
  return !ZSTD_isError(got) && got == blob.decoded;
}

// Decodes a stored BLOB straight into an sqlite3_malloc'd buffer that SQLite takes over (no
// intermediate std::string, no SQLITE_TRANSIENT copy). Non-BLOB values are returned as they are.
void ResultStoredText(sqlite3_context* ctx, sqlite3_value* v) {
  if (sqlite3_value_type(v) != SQLITE_BLOB) {
    sqlite3_result_value(ctx, v);
    return;
  }
  const auto* p = static_cast<const unsigned char*>(sqlite3_value_blob(v));
  const auto size = static_cast<std::size_t>(sqlite3_value_bytes(v));
  StoredBlob blob;
  if (Status st = ParseBlob(p, size, &blob); !st.ok()) {
    sqlite3_result_error(ctx, st.message().c_str(), -1);
    return;
  }
  char* out = static_cast<char*>(sqlite3_malloc64(blob.decoded + 1));  // +1: never a zero-byte malloc
  if (out == nullptr) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  if (!DecodeBlob(blob, out)) {
    sqlite3_free(out);
    sqlite3_result_error(ctx, "stored text does not decompress", -1);
    return;
  }
  sqlite3_result_text64(ctx, out, blob.decoded, sqlite3_free, SQLITE_UTF8);
}

void VkText(sqlite3_context* ctx, int /*argc*/, sqlite3_value** argv) {
  ResultStoredText(ctx, argv[0]);
}

}  // namespace

bool EncodeText(std::string_view text, int min_bytes, std::string* out, TextCodec codec,
                int zstd_level) {
  if (min_bytes <= 0 || text.size() < static_cast<std::size_t>(min_bytes)) return false;
  // One scratch buffer per thread: no allocation (or zero fill) per text once it has grown.
  thread_local std::string scratch;
  if (codec == TextCodec::kLz4) {
    if (text.size() > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE)) return false;
    const int src = static_cast<int>(text.size());
    const std::size_t bound = 1 + kLz4HeaderBytes + static_cast<std::size_t>(LZ4_compressBound(src));
    if (scratch.size() < bound) scratch.resize(std::max(bound, 2 * scratch.size()));
    char* body = scratch.data() + 1 + kLz4HeaderBytes;
    const int n = LZ4_compress_default(text.data(), body, src,
                                       static_cast<int>(scratch.size() - 1 - kLz4HeaderBytes));
    const std::size_t total = 1 + kLz4HeaderBytes + static_cast<std::size_t>(n);
    if (n <= 0 || total >= text.size()) return false;
    scratch[0] = static_cast<char>(kLz4V1);
    for (std::size_t i = 0; i < kLz4HeaderBytes; ++i) {
      scratch[1 + i] = static_cast<char>((text.size() >> (8 * i)) & 0xFF);
    }
    out->assign(scratch.data(), total);
    return true;
  }
  const std::size_t bound = 1 + ZSTD_compressBound(text.size());
  if (scratch.size() < bound) scratch.resize(std::max(bound, 2 * scratch.size()));
  const std::size_t n = ZSTD_compressCCtx(ThreadContexts().c, scratch.data() + 1,
                                          scratch.size() - 1, text.data(), text.size(), zstd_level);
  if (ZSTD_isError(n) || n + 1 >= text.size()) return false;
  scratch[0] = static_cast<char>(kZstdV1);
  out->assign(scratch.data(), n + 1);
  return true;
}

Status DecodeTextInto(const void* blob, std::size_t size, std::string* out) {
  StoredBlob parsed;
  VK_RETURN_IF_ERROR(ParseBlob(static_cast<const unsigned char*>(blob), size, &parsed));
  out->resize(parsed.decoded);
  if (!DecodeBlob(parsed, out->data())) {
    out->clear();
    return Status::Corruption(parsed.format == kLz4V1
                                  ? "stored text does not decompress (lz4)"
                                  : "stored text does not decompress (zstd)");
  }
  return Status::Ok();
}

Result<std::string> DecodeText(const void* blob, std::size_t size) {
  std::string out;
  VK_RETURN_IF_ERROR(DecodeTextInto(blob, size, &out));
  return out;
}

Status RegisterTextFunctions(sqlite3* db) {
  const int rc = sqlite3_create_function_v2(
      db, "vk_text", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr, &VkText,
      nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Status::Internal("cannot register vk_text()");
  return Status::Ok();
}

}  // namespace vibekit::store::sqlite
