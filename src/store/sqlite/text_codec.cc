#include "store/sqlite/text_codec.h"

#include <sqlite3.h>
#include <zstd.h>

#include <string>

namespace vibekit::store::sqlite {
namespace {

// Level 1: on 0.5-2 KiB agent output it keeps most of level 3's ratio at about twice the speed.
constexpr int kLevel = 1;

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

void VkText(sqlite3_context* ctx, int /*argc*/, sqlite3_value** argv) {
  sqlite3_value* v = argv[0];
  if (sqlite3_value_type(v) != SQLITE_BLOB) {
    sqlite3_result_value(ctx, v);
    return;
  }
  const void* data = sqlite3_value_blob(v);
  const int n = sqlite3_value_bytes(v);
  auto text = DecodeText(data, static_cast<std::size_t>(n));
  if (!text.ok()) {
    sqlite3_result_error(ctx, text.status().message().c_str(), -1);
    return;
  }
  sqlite3_result_text64(ctx, text->data(), text->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

}  // namespace

bool EncodeText(std::string_view text, int min_bytes, std::string* out) {
  if (min_bytes <= 0 || text.size() < static_cast<std::size_t>(min_bytes)) return false;
  std::string buf;
  buf.resize(1 + ZSTD_compressBound(text.size()));
  buf[0] = static_cast<char>(kZstdV1);
  const std::size_t n = ZSTD_compressCCtx(ThreadContexts().c, buf.data() + 1, buf.size() - 1,
                                          text.data(), text.size(), kLevel);
  if (ZSTD_isError(n) || n + 1 >= text.size()) return false;
  buf.resize(n + 1);
  *out = std::move(buf);
  return true;
}

Status DecodeTextInto(const void* blob, std::size_t size, std::string* out) {
  const auto* p = static_cast<const unsigned char*>(blob);
  if (size < 2 || p[0] != kZstdV1) return Status::Corruption("stored text has an unknown encoding");
  const unsigned long long len = ZSTD_getFrameContentSize(p + 1, size - 1);
  if (len == ZSTD_CONTENTSIZE_ERROR || len == ZSTD_CONTENTSIZE_UNKNOWN || len > kMaxDecoded) {
    return Status::Corruption("stored text is not a valid zstd frame");
  }
  out->resize(static_cast<std::size_t>(len));
  const std::size_t got =
      ZSTD_decompressDCtx(ThreadContexts().d, out->data(), out->size(), p + 1, size - 1);
  if (ZSTD_isError(got) || got != len) {
    out->clear();
    return Status::Corruption(std::string("stored text does not decompress: ") +
                              (ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short"));
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
