#include "export/input.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>

#include <brotli/decode.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

namespace vibekit::exporting {

struct InputSource::Decoders {
  z_stream z{};
  bool z_init = false;
  ZSTD_DCtx* zstd = nullptr;
  BrotliDecoderState* brotli = nullptr;
  ~Decoders() {
    if (z_init) inflateEnd(&z);
    ZSTD_freeDCtx(zstd);
    if (brotli != nullptr) BrotliDecoderDestroyInstance(brotli);
  }
};

namespace {
constexpr std::size_t kRawChunk = 1 << 16;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
}  // namespace

Result<std::unique_ptr<InputSource>> InputSource::Open(const std::string& path) {
  std::unique_ptr<InputSource> in(new InputSource());
  in->path_ = path;
  if (path == "-") {
    in->fd_ = STDIN_FILENO;
  } else {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
      return Status::NotFound("cannot read \"" + path + "\": " + std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) return Status::InvalidArgument("\"" + path + "\" is a directory");
    in->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in->fd_ < 0) {
      return Status::NotFound("cannot read \"" + path + "\": " + std::strerror(errno));
    }
    in->own_fd_ = true;
  }
  in->dec_ = std::make_unique<Decoders>();
  VK_RETURN_IF_ERROR(in->Detect());
  return in;
}

InputSource::~InputSource() {
  if (own_fd_) ::close(fd_);
}

Result<std::size_t> InputSource::ReadRaw() {
  if (raw_pos_ > 0) {
    raw_.erase(0, raw_pos_);
    raw_pos_ = 0;
  }
  const std::size_t old = raw_.size();
  raw_.resize(old + kRawChunk);
  while (true) {
    const ssize_t n = ::read(fd_, raw_.data() + old, kRawChunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      raw_.resize(old);
      return Status::IoError("reading \"" + path_ + "\": " + std::strerror(errno));
    }
    raw_.resize(old + static_cast<std::size_t>(n));
    if (n == 0) raw_eof_ = true;
    return static_cast<std::size_t>(n);
  }
}

Status InputSource::Detect() {
  while (raw_.size() < 4 && !raw_eof_) {
    VK_ASSIGN_OR_RETURN(std::size_t n, ReadRaw());
    (void)n;
  }
  const auto* b = reinterpret_cast<const unsigned char*>(raw_.data());
  if (raw_.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
    compression_ = Compression::kGzip;
    if (inflateInit2(&dec_->z, 15 + 16) != Z_OK) return Status::Internal("gzip: inflateInit2");
    dec_->z_init = true;
    return Status::Ok();
  }
  if (raw_.size() >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) {
    compression_ = Compression::kZstd;
    dec_->zstd = ZSTD_createDCtx();
    if (dec_->zstd == nullptr) return Status::Internal("zstd: cannot create a context");
    return Status::Ok();
  }
  if (raw_.empty()) return Status::Ok();
  // Brotli has no magic number: decode the first block on trial. Text (JSON, CSV) fails within
  // a few bytes; a brotli stream decodes (or asks for more input) without error.
  while (raw_.size() < kRawChunk && !raw_eof_) {
    VK_ASSIGN_OR_RETURN(std::size_t n, ReadRaw());
    (void)n;
  }
  BrotliDecoderState* trial = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
  if (trial == nullptr) return Status::Internal("brotli: cannot create a decoder");
  std::size_t avail_in = raw_.size();
  const auto* next_in = reinterpret_cast<const std::uint8_t*>(raw_.data());
  std::string out(kRawChunk, '\0');
  std::size_t produced = 0;
  BrotliDecoderResult r = BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT;
  while (r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT && produced < (1 << 20)) {
    std::size_t avail_out = out.size();
    auto* next_out = reinterpret_cast<std::uint8_t*>(out.data());
    r = BrotliDecoderDecompressStream(trial, &avail_in, &next_in, &avail_out, &next_out, nullptr);
    produced += out.size() - avail_out;
  }
  BrotliDecoderDestroyInstance(trial);
  const bool text_start = IsSpace(raw_[0]) || raw_[0] == '{' || raw_[0] == '[' ||
                          std::isalpha(static_cast<unsigned char>(raw_[0])) ||
                          static_cast<unsigned char>(raw_[0]) == 0xef;  // UTF-8 byte order mark
  const bool brotli = r != BROTLI_DECODER_RESULT_ERROR &&
                      (produced > 0 || r == BROTLI_DECODER_RESULT_SUCCESS || !text_start);
  if (brotli) {
    compression_ = Compression::kBrotli;
    dec_->brotli = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
    if (dec_->brotli == nullptr) return Status::Internal("brotli: cannot create a decoder");
  }
  return Status::Ok();
}

Result<std::size_t> InputSource::Read(std::string* out, std::size_t max) {
  const std::size_t start = out->size();
  if (compression_ == Compression::kNone) {
    if (raw_pos_ >= raw_.size()) {
      if (raw_eof_) return std::size_t{0};
      VK_ASSIGN_OR_RETURN(std::size_t n, ReadRaw());
      if (n == 0) return std::size_t{0};
    }
    const std::size_t take = std::min(max, raw_.size() - raw_pos_);
    out->append(raw_, raw_pos_, take);
    raw_pos_ += take;
    return take;
  }
  const std::string what = std::string(CompressionName(compression_));
  while (out->size() == start) {
    if (raw_pos_ >= raw_.size()) {
      if (raw_eof_) {
        if (!stream_done_) {
          return Status::Corruption("\"" + path_ + "\": truncated " + what +
                                    " stream (the file ends before the compressed data does)");
        }
        return std::size_t{0};
      }
      VK_ASSIGN_OR_RETURN(std::size_t n, ReadRaw());
      if (n == 0) continue;
    }
    out->resize(start + max);
    std::size_t in_left = raw_.size() - raw_pos_;
    std::size_t produced = 0;
    if (compression_ == Compression::kGzip) {
      z_stream& z = dec_->z;
      if (stream_done_) {
        // Another gzip member follows (concatenated .gz files are one stream to gzip -d).
        inflateReset(&z);
        stream_done_ = false;
      }
      z.next_in = reinterpret_cast<Bytef*>(raw_.data() + raw_pos_);
      z.avail_in = static_cast<uInt>(in_left);
      z.next_out = reinterpret_cast<Bytef*>(out->data() + start);
      z.avail_out = static_cast<uInt>(max);
      const int rc = inflate(&z, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        out->resize(start);
        return Status::Corruption("\"" + path_ + "\": corrupt gzip data" +
                                  (z.msg != nullptr ? std::string(": ") + z.msg : ""));
      }
      raw_pos_ += in_left - z.avail_in;
      produced = max - z.avail_out;
      if (rc == Z_STREAM_END) stream_done_ = true;
    } else if (compression_ == Compression::kZstd) {
      ZSTD_inBuffer in{raw_.data() + raw_pos_, in_left, 0};
      ZSTD_outBuffer o{out->data() + start, max, 0};
      const std::size_t rc = ZSTD_decompressStream(dec_->zstd, &o, &in);
      if (ZSTD_isError(rc)) {
        out->resize(start);
        return Status::Corruption("\"" + path_ + "\": corrupt zstd data: " + ZSTD_getErrorName(rc));
      }
      raw_pos_ += in.pos;
      produced = o.pos;
      stream_done_ = rc == 0;
    } else {
      const auto* next_in = reinterpret_cast<const std::uint8_t*>(raw_.data() + raw_pos_);
      std::size_t avail_out = max;
      auto* next_out = reinterpret_cast<std::uint8_t*>(out->data() + start);
      const BrotliDecoderResult r = BrotliDecoderDecompressStream(dec_->brotli, &in_left, &next_in,
                                                                  &avail_out, &next_out, nullptr);
      if (r == BROTLI_DECODER_RESULT_ERROR) {
        out->resize(start);
        return Status::Corruption("\"" + path_ + "\": corrupt brotli data");
      }
      raw_pos_ = raw_.size() - in_left;
      produced = max - avail_out;
      stream_done_ = r == BROTLI_DECODER_RESULT_SUCCESS;
    }
    out->resize(start + produced);
  }
  return out->size() - start;
}

Result<bool> LineSource::Next(std::string* line) {
  while (true) {
    const std::size_t nl = buf_.find('\n', pos_);
    if (nl != std::string::npos) {
      line->assign(buf_, pos_, nl - pos_);
      pos_ = nl + 1;
      ++line_no_;
      return true;
    }
    if (eof_) {
      if (pos_ < buf_.size()) {
        line->assign(buf_, pos_, std::string::npos);
        pos_ = buf_.size();
        ++line_no_;
        return true;
      }
      return false;
    }
    if (pos_ > 0) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    VK_ASSIGN_OR_RETURN(std::size_t n, in_.Read(&buf_));
    if (n == 0) eof_ = true;
  }
}

std::size_t JsonValueEnd(std::string_view t, std::size_t i) {
  if (i >= t.size()) return std::string_view::npos;
  const char c = t[i];
  if (c == '"') {
    for (std::size_t j = i + 1; j < t.size(); ++j) {
      if (t[j] == '\\') {
        ++j;
      } else if (t[j] == '"') {
        return j + 1;
      }
    }
    return std::string_view::npos;
  }
  if (c == '{' || c == '[') {
    int depth = 0;
    for (std::size_t j = i; j < t.size(); ++j) {
      const char d = t[j];
      if (d == '"') {
        const std::size_t e = JsonValueEnd(t, j);
        if (e == std::string_view::npos) return e;
        j = e - 1;
      } else if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (--depth == 0) return j + 1;
      }
    }
    return std::string_view::npos;
  }
  // A number, true, false or null: up to the next delimiter (which must exist).
  for (std::size_t j = i; j < t.size(); ++j) {
    if (t[j] == ',' || t[j] == '}' || t[j] == ']' || IsSpace(t[j])) return j;
  }
  return std::string_view::npos;
}

std::optional<std::string_view> RawJsonMember(std::string_view t, std::string_view key) {
  std::size_t i = 0;
  auto ws = [&] {
    while (i < t.size() && IsSpace(t[i])) ++i;
  };
  ws();
  if (i >= t.size() || t[i] != '{') return std::nullopt;
  ++i;
  while (true) {
    ws();
    if (i >= t.size() || t[i] != '"') return std::nullopt;
    const std::size_t key_end = JsonValueEnd(t, i);
    if (key_end == std::string_view::npos) return std::nullopt;
    const std::string_view k = t.substr(i + 1, key_end - i - 2);
    i = key_end;
    ws();
    if (i >= t.size() || t[i] != ':') return std::nullopt;
    ++i;
    ws();
    const std::size_t value_end = JsonValueEnd(t, i);
    if (value_end == std::string_view::npos) return std::nullopt;
    if (k == key) return t.substr(i, value_end - i);
    i = value_end;
    ws();
    if (i >= t.size() || t[i] != ',') return std::nullopt;
    ++i;
  }
}

}  // namespace vibekit::exporting
