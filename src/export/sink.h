// Byte output for exports: a ByteSink chain ending in a file (written to a temporary name in the
// target directory and renamed into place on Commit) or standard output, optionally through a
// streaming compressor (gzip via zlib, brotli, zstd), with the bytes counted and SHA-256 hashed
// as they reach the file. BufferedWriter batches the small appends of the record writers.
//
// Thread-safety: one export, one thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "vibekit/status.h"

#include "common/sha256.h"

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

// The end of a chain: a file or standard output. Counts and hashes what it writes. Hashing and
// the write system calls run on a thread of their own (at most kMaxQueued blocks wait for it),
// so they overlap with reading and formatting rows; an error surfaces at the next Write or at
// Commit.
class OutputTarget final : public ByteSink {
 public:
  // A temporary file next to `path` (same directory, so the rename is atomic); `path` itself is
  // only created by Commit(). kUnavailable when the directory is missing or not writable.
  static Result<std::unique_ptr<OutputTarget>> ForFile(const std::string& path);
  // File descriptor 1; Commit() does nothing more than flush.
  static std::unique_ptr<OutputTarget> ForStdout();
  ~OutputTarget() override;  // stops the thread; removes the temporary file unless committed
  OutputTarget(const OutputTarget&) = delete;
  OutputTarget& operator=(const OutputTarget&) = delete;

  Status Write(std::string_view bytes) override;
  Status Finish() override { return Drain(); }
  // Waits for the queued blocks, then fsyncs and renames the temporary file to the final path.
  Status Commit();

  const std::string& path() const { return path_; }
  // Valid after Commit().
  std::int64_t bytes_written() const { return bytes_; }
  std::string Sha256Hex() { return sha_.FinishHex(); }

 private:
  static constexpr std::size_t kMaxQueued = 8;

  OutputTarget(int fd, std::string path, std::string temp_path);
  void Run();      // the writer thread
  Status Drain();  // waits until every queued block is written
  Status WriteAll(std::string_view bytes);

  int fd_ = -1;             // owned unless it is standard output (temp_path_ empty)
  std::string path_;        // final path, "-" for stdout
  std::string temp_path_;   // "" for stdout; cleared once renamed
  std::int64_t bytes_ = 0;  // written by the thread; read after Drain()
  internal::Sha256 sha_;    // used by the thread; read after Drain()

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;   // guarded by mu_
  std::vector<std::string> spare_;  // guarded by mu_: written blocks, reused for capacity
  bool busy_ = false;               // guarded by mu_: the thread is writing a block
  bool stop_ = false;               // guarded by mu_
  Status error_;                    // guarded by mu_: first write error
  std::thread thread_;              // started last, joined in the destructor
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
