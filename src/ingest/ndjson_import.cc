#include "ingest/ndjson_import.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/event_json.h"
#include "ingest/validation.h"

namespace vibekit::ingest {
namespace {

constexpr unsigned kChunk = 1 << 16;

bool IsBlank(const std::string& line) {
  for (const char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// Copies stdin to a temporary file so a strict import can read it twice.
Result<std::string> SpoolStdin() {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string path = std::string(tmpdir != nullptr ? tmpdir : "/tmp") + "/vibekit-import-XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) return Status::Unavailable("cannot create a temporary file: " + std::string(std::strerror(errno)));
  char buf[kChunk];
  while (true) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      ::unlink(path.c_str());
      return Status::IoError("reading standard input: " + std::string(std::strerror(errno)));
    }
    for (ssize_t off = 0; off < n;) {
      const ssize_t w = ::write(fd, buf + off, static_cast<std::size_t>(n - off));
      if (w < 0) {
        ::close(fd);
        ::unlink(path.c_str());
        return Status::Unavailable("writing temporary file: " + std::string(std::strerror(errno)));
      }
      off += w;
    }
  }
  ::close(fd);
  return path;
}

}  // namespace

LineReader::~LineReader() {
  if (gz_ != nullptr) gzclose(static_cast<gzFile>(gz_));
}

Result<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path) {
  std::unique_ptr<LineReader> r(new LineReader());
  if (path == "-") {
    const int fd = dup(STDIN_FILENO);
    r->gz_ = gzdopen(fd, "rb");
  } else {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
      return Status::NotFound("cannot read \"" + path + "\": " + std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) return Status::InvalidArgument("\"" + path + "\" is a directory");
    r->total_bytes_ = static_cast<std::int64_t>(st.st_size);
    r->gz_ = gzopen(path.c_str(), "rb");
  }
  if (r->gz_ == nullptr) {
    return Status::Unavailable("cannot open \"" + path + "\": " + std::strerror(errno));
  }
  gzbuffer(static_cast<gzFile>(r->gz_), kChunk);
  return r;
}

std::int64_t LineReader::bytes_read() const noexcept {
  return static_cast<std::int64_t>(gzoffset(static_cast<gzFile>(gz_)));
}

Status LineReader::Fill() {
  if (pos_ > 0) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  const std::size_t old = buffer_.size();
  buffer_.resize(old + kChunk);
  const int n = gzread(static_cast<gzFile>(gz_), buffer_.data() + old, kChunk);
  if (n < 0) {
    int errnum = 0;
    const char* msg = gzerror(static_cast<gzFile>(gz_), &errnum);
    buffer_.resize(old);
    return Status::IoError(std::string("read failed: ") + (msg != nullptr ? msg : "unknown"));
  }
  buffer_.resize(old + static_cast<std::size_t>(n));
  if (n == 0) {
    int errnum = 0;
    const char* msg = gzerror(static_cast<gzFile>(gz_), &errnum);
    if (errnum != Z_OK && errnum != Z_STREAM_END) {
      return Status::IoError(std::string("corrupt or truncated input: ") + (msg != nullptr ? msg : ""));
    }
    eof_ = true;
  }
  return Status::Ok();
}

Result<bool> LineReader::Next(std::string* line) {
  while (true) {
    const std::size_t nl = buffer_.find('\n', pos_);
    if (nl != std::string::npos) {
      line->assign(buffer_, pos_, nl - pos_);
      pos_ = nl + 1;
      return true;
    }
    if (eof_) {
      if (pos_ < buffer_.size()) {
        line->assign(buffer_, pos_, std::string::npos);
        pos_ = buffer_.size();
        return true;
      }
      return false;
    }
    VK_RETURN_IF_ERROR(Fill());
  }
}

namespace {

// One pass over the input. With `sink` null only validates.
Status Pass(const std::string& path, const ImportOptions& options, const LocalStoreConfig& config,
            const std::function<std::int64_t()>& now_ms, const BatchSink* sink,
            const EventCheck& extra, ImportResult& result) {
  VK_ASSIGN_OR_RETURN(auto reader, LineReader::Open(path));
  std::string line;
  std::int64_t line_no = 0;
  std::vector<Event> batch;
  const auto batch_size = static_cast<std::size_t>(std::max(1, options.batch_size));
  batch.reserve(batch_size);
  auto report = [&](std::string message) {
    ++result.skipped;
    if (result.errors.size() < options.max_errors_reported) {
      result.errors.push_back({line_no, std::move(message)});
    }
  };
  std::int64_t next_progress = 0;
  while (true) {
    VK_ASSIGN_OR_RETURN(bool more, reader->Next(&line));
    if (!more) break;
    ++line_no;
    if (IsBlank(line)) continue;
    ++result.lines;
    auto parsed = internal::EventFromJson(line);
    if (!parsed.ok()) {
      report(parsed.status().message());
      continue;
    }
    Event e = std::move(parsed).value();
    Status st = ValidateEvent(e, config, now_ms());
    if (st.ok() && extra) st = extra(e);
    if (!st.ok()) {
      report(st.message());
      continue;
    }
    if (sink == nullptr) continue;
    batch.push_back(std::move(e));
    if (batch.size() >= batch_size) {
      result.imported += static_cast<std::int64_t>(batch.size());
      VK_RETURN_IF_ERROR((*sink)(std::move(batch)));
      batch.clear();
      batch.reserve(batch_size);
    }
    if (options.progress && line_no >= next_progress) {
      options.progress(reader->bytes_read(), reader->total_bytes());
      next_progress = line_no + 10000;
    }
  }
  if (sink != nullptr && !batch.empty()) {
    result.imported += static_cast<std::int64_t>(batch.size());
    VK_RETURN_IF_ERROR((*sink)(std::move(batch)));
  }
  if (options.progress) options.progress(reader->bytes_read(), reader->total_bytes());
  return Status::Ok();
}

}  // namespace

Result<ImportResult> RunImport(const std::string& path, const ImportOptions& options,
                               const LocalStoreConfig& config,
                               const std::function<std::int64_t()>& now_ms,
                               const BatchSink& sink, const EventCheck& extra) {
  const auto t0 = std::chrono::steady_clock::now();
  ImportResult result;
  std::string input = path;
  std::string spooled;
  if (options.strict && path == "-") {
    VK_ASSIGN_OR_RETURN(spooled, SpoolStdin());
    input = spooled;
  }
  struct Cleanup {
    std::string file;
    ~Cleanup() {
      if (!file.empty()) ::unlink(file.c_str());
    }
  } cleanup{spooled};

  if (options.strict) {
    ImportResult check;
    VK_RETURN_IF_ERROR(Pass(input, options, config, now_ms, nullptr, extra, check));
    if (check.skipped > 0) {
      const ImportLineError& first = check.errors.front();
      return Status::InvalidArgument(
          std::to_string(check.skipped) + " bad line(s), nothing imported; first at line " +
          std::to_string(first.line) + ": " + first.message);
    }
  }
  VK_RETURN_IF_ERROR(Pass(input, options, config, now_ms, &sink, extra, result));
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace vibekit::ingest
