// Byte output for exports: a ByteSink chain ending in a file (written to a temporary name in the
// target directory and renamed into place on Commit) or standard output, optionally through a
// streaming compressor (gzip via zlib, brotli, zstd), with the bytes counted and SHA-256 hashed
// as they reach the file. BufferedWriter batches the small appends of the record writers.
//
// Thread-safety: one export, one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/sha256.h"
#include "vibekit/status.h"

namespace vibekit::exporting {

enum class Compression { kNone, kGzip, kBrotli, kZstd };

// "none", "gzip", "brotli", "zstd" (kInvalidArgument otherwise).
Result<Compression> ParseCompression(std::string_view name);
std::string_view CompressionName(Compression c) noexcept;
// ".gz", ".br", ".zst"; "" for none.
std::string_view CompressionExtension(Compression c) noexcept;

class ByteSink {
 public:
  ByteSink() = default;
  virtual ~ByteSink() = default;
  ByteSink(const ByteSink&) = delete;
  ByteSink& operator=(const ByteSink&) = delete;

  virtual Status Write(std::string_view bytes) = 0;
  // Flushes everything buffered (a compressor writes its end of stream) downstream.
  virtual Status Finish() = 0;
};

// The end of a chain: a file or standard output. Counts and hashes what it writes.
class OutputTarget final : public ByteSink {
 public:
  // A temporary file next to `path` (same directory, so the rename is atomic); `path` itself is
  // only created by Commit(). kUnavailable when the directory is missing or not writable.
  static Result<std::unique_ptr<OutputTarget>> ForFile(const std::string& path);
  // File descriptor 1; Commit() does nothing more than flush.
  static std::unique_ptr<OutputTarget> ForStdout();
  ~OutputTarget() override;  // removes the temporary file unless committed

  Status Write(std::string_view bytes) override;
  Status Finish() override { return Status::Ok(); }
  // fsyncs and renames the temporary file to the final path.
  Status Commit();

  const std::string& path() const { return path_; }
  std::int64_t bytes_written() const { return bytes_; }
  std::string Sha256Hex() { return sha_.FinishHex(); }

 private:
  OutputTarget(int fd, std::string path, std::string temp_path)
      : fd_(fd), path_(std::move(path)), temp_path_(std::move(temp_path)) {}

  int fd_ = -1;            // owned unless it is standard output (temp_path_ empty)
  std::string path_;       // final path, "-" for stdout
  std::string temp_path_;  // "" for stdout; cleared once renamed
  std::int64_t bytes_ = 0;
  internal::Sha256 sha_;
};

// A compressor writing to `downstream` (not owned; must outlive it). For kNone returns null.
Result<std::unique_ptr<ByteSink>> MakeCompressor(Compression c, ByteSink& downstream);

// Collects small appends and hands them downstream in blocks of `capacity` bytes.
class BufferedWriter {
 public:
  explicit BufferedWriter(ByteSink& downstream, std::size_t capacity = 1 << 18)
      : downstream_(downstream), capacity_(capacity) {
    buffer_.reserve(capacity + 4096);
  }
  // The buffer to append to; call MaybeFlush() after each record.
  std::string& buffer() { return buffer_; }
  Status MaybeFlush() { return buffer_.size() >= capacity_ ? Flush() : Status::Ok(); }
  Status Flush() {
    if (buffer_.empty()) return Status::Ok();
    Status st = downstream_.Write(buffer_);
    buffer_.clear();
    return st;
  }
  Status Write(std::string_view bytes) {
    buffer_.append(bytes);
    return MaybeFlush();
  }

 private:
  ByteSink& downstream_;
  std::size_t capacity_;
  std::string buffer_;
};

}  // namespace vibekit::exporting
