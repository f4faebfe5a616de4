// Reading export files back: a byte source that detects and undoes gzip, zstd (by their magic
// numbers) and brotli (which has none: a trial decode of the first block decides), with
// truncation reported as an error; and a JSON value scanner that finds where a value ends in a
// stream without building it (for the raw text of metadata and for reading a json export one
// record at a time).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "vibekit/status.h"

#include "export/sink.h"

namespace vibekit::exporting {

class InputSource {
 public:
  // `path` or "-" for standard input. kNotFound when it cannot be opened.
  static Result<std::unique_ptr<InputSource>> Open(const std::string& path);
  ~InputSource();
  InputSource(const InputSource&) = delete;
  InputSource& operator=(const InputSource&) = delete;

  // Appends up to about `max` decompressed bytes to `out`; returns how many (0 at the end).
  // kCorruption for a damaged or truncated compressed stream.
  Result<std::size_t> Read(std::string* out, std::size_t max = 1 << 16);
  Compression compression() const { return compression_; }
  const std::string& path() const { return path_; }

 private:
  InputSource() = default;
  Result<std::size_t> ReadRaw();  // refills raw_ from the file; 0 at end of file
  Status Detect();

  int fd_ = -1;
  bool own_fd_ = false;
  std::string path_;
  Compression compression_ = Compression::kNone;
  std::string raw_;  // compressed bytes not yet consumed, from raw_pos_
  std::size_t raw_pos_ = 0;
  bool raw_eof_ = false;
  bool stream_done_ = false;  // the decoder saw the end of its (last) stream
  struct Decoders;
  std::unique_ptr<Decoders> dec_;
};

// Reads lines (without the newline; a trailing CR is kept) from an InputSource.
class LineSource {
 public:
  explicit LineSource(InputSource& in) : in_(in) {}
  Result<bool> Next(std::string* line);
  std::int64_t line_number() const { return line_no_; }

 private:
  InputSource& in_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool eof_ = false;
  std::int64_t line_no_ = 0;
};

// Where the JSON value starting at `text[pos]` ends (one past its last byte), or npos when
// `text` ends before the value does. Assumes well-formed input (parse the value to check it).
std::size_t JsonValueEnd(std::string_view text, std::size_t pos);

// The raw text of member `key` of the JSON object `object_text` (top level only), if present.
std::optional<std::string_view> RawJsonMember(std::string_view object_text, std::string_view key);

}  // namespace vibekit::exporting
