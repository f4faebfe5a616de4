#include "export/sink.h"

#include <cerrno>
#include <cstring>
#include <string>

#include <brotli/encode.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "common/sys.h"

namespace vibekit::exporting {
namespace {

constexpr std::size_t kOutChunk = 1 << 17;

std::string Errno() { return std::strerror(errno); }

// Gzip (RFC 1952) through zlib's deflate with a gzip wrapper, level 6 (gzip's default).
class GzipSink final : public ByteSink {
 public:
  explicit GzipSink(ByteSink& down) : down_(down), out_(kOutChunk, '\0') {}
  ~GzipSink() override {
    if (initialized_) deflateEnd(&z_);
  }
  Status Init() {
    z_ = z_stream{};
    if (deflateInit2(&z_, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return Status::Internal("gzip: deflateInit2 failed");
    }
    initialized_ = true;
    return Status::Ok();
  }
  Status Write(std::string_view bytes) override { return Run(bytes, Z_NO_FLUSH); }
  Status Finish() override { return Run({}, Z_FINISH); }

 private:
  Status Run(std::string_view in, int flush) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    while (true) {
      z_.next_out = reinterpret_cast<Bytef*>(out_.data());
      z_.avail_out = static_cast<uInt>(out_.size());
      const int rc = deflate(&z_, flush);
      if (rc == Z_STREAM_ERROR) return Status::Internal("gzip: deflate failed");
      const std::size_t produced = out_.size() - z_.avail_out;
      if (produced > 0) VK_RETURN_IF_ERROR(down_.Write(std::string_view(out_.data(), produced)));
      if (flush == Z_FINISH) {
        if (rc == Z_STREAM_END) return Status::Ok();
      } else if (z_.avail_in == 0 && z_.avail_out != 0) {
        return Status::Ok();
      }
    }
  }

  ByteSink& down_;
  z_stream z_{};
  bool initialized_ = false;
  std::string out_;
};

// Brotli through the streaming BrotliEncoder API, quality 5 (a fast setting with a good ratio;
// 11, the command-line default, is ~50x slower).
class BrotliSink final : public ByteSink {
 public:
  explicit BrotliSink(ByteSink& down) : down_(down), out_(kOutChunk, '\0') {}
  ~BrotliSink() override {
    if (enc_ != nullptr) BrotliEncoderDestroyInstance(enc_);
  }
  Status Init() {
    enc_ = BrotliEncoderCreateInstance(nullptr, nullptr, nullptr);
    if (enc_ == nullptr) return Status::Internal("brotli: cannot create an encoder");
    BrotliEncoderSetParameter(enc_, BROTLI_PARAM_QUALITY, 5);
    BrotliEncoderSetParameter(enc_, BROTLI_PARAM_LGWIN, 22);
    return Status::Ok();
  }
  Status Write(std::string_view bytes) override { return Run(bytes, BROTLI_OPERATION_PROCESS); }
  Status Finish() override { return Run({}, BROTLI_OPERATION_FINISH); }

 private:
  Status Run(std::string_view in, BrotliEncoderOperation op) {
    std::size_t avail_in = in.size();
    const auto* next_in = reinterpret_cast<const std::uint8_t*>(in.data());
    while (true) {
      std::size_t avail_out = out_.size();
      auto* next_out = reinterpret_cast<std::uint8_t*>(out_.data());
      if (!BrotliEncoderCompressStream(enc_, op, &avail_in, &next_in, &avail_out, &next_out,
                                       nullptr)) {
        return Status::Internal("brotli: compression failed");
      }
      const std::size_t produced = out_.size() - avail_out;
      if (produced > 0) VK_RETURN_IF_ERROR(down_.Write(std::string_view(out_.data(), produced)));
      if (op == BROTLI_OPERATION_FINISH) {
        if (BrotliEncoderIsFinished(enc_)) return Status::Ok();
      } else if (avail_in == 0 && !BrotliEncoderHasMoreOutput(enc_)) {
        return Status::Ok();
      }
    }
  }

  ByteSink& down_;
  BrotliEncoderState* enc_ = nullptr;
  std::string out_;
};

// Zstandard through ZSTD_compressStream2, level 3 (zstd's default).
class ZstdSink final : public ByteSink {
 public:
  explicit ZstdSink(ByteSink& down) : down_(down), out_(ZSTD_CStreamOutSize(), '\0') {}
  ~ZstdSink() override { ZSTD_freeCCtx(cctx_); }
  Status Init() {
    cctx_ = ZSTD_createCCtx();
    if (cctx_ == nullptr) return Status::Internal("zstd: cannot create a context");
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
    return Status::Ok();
  }
  Status Write(std::string_view bytes) override { return Run(bytes, ZSTD_e_continue); }
  Status Finish() override { return Run({}, ZSTD_e_end); }

 private:
  Status Run(std::string_view bytes, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
    while (true) {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      const std::size_t left = ZSTD_compressStream2(cctx_, &out, &in, mode);
      if (ZSTD_isError(left)) {
        return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(left));
      }
      if (out.pos > 0) VK_RETURN_IF_ERROR(down_.Write(std::string_view(out_.data(), out.pos)));
      if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) return Status::Ok();
    }
  }

  ByteSink& down_;
  ZSTD_CCtx* cctx_ = nullptr;
  std::string out_;
};

}  // namespace

Result<Compression> ParseCompression(std::string_view name) {
  if (name.empty() || name == "none") return Compression::kNone;
  if (name == "gzip") return Compression::kGzip;
  if (name == "brotli") return Compression::kBrotli;
  if (name == "zstd") return Compression::kZstd;
  return Status::InvalidArgument("unknown compression \"" + std::string(name) +
                                 "\" (choose none, gzip, brotli or zstd)");
}

std::string_view CompressionName(Compression c) noexcept {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kBrotli:
      return "brotli";
    case Compression::kZstd:
      return "zstd";
  }
  return "none";
}

std::string_view CompressionExtension(Compression c) noexcept {
  switch (c) {
    case Compression::kNone:
      return "";
    case Compression::kGzip:
      return ".gz";
    case Compression::kBrotli:
      return ".br";
    case Compression::kZstd:
      return ".zst";
  }
  return "";
}

Result<std::unique_ptr<OutputTarget>> OutputTarget::ForFile(const std::string& path) {
  std::string dir = internal::DirName(path);
  if (dir.empty()) dir = ".";
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::Unavailable("cannot write \"" + path + "\": directory \"" + dir +
                               "\" does not exist");
  }
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    // Never rename over a directory, device or pipe.
    return Status::InvalidArgument("cannot write \"" + path +
                                   "\": it exists and is not a regular file");
  }
  const std::size_t slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string temp = dir + "/." + base + ".tmp-XXXXXX";
  const int fd = mkstemp(temp.data());
  if (fd < 0) return Status::Unavailable("cannot write \"" + path + "\": " + Errno());
  // mkstemp creates 0600; an export is an ordinary file (umask applies).
  const mode_t mask = umask(0);
  umask(mask);
  (void)fchmod(fd, 0666 & ~mask);
  return std::unique_ptr<OutputTarget>(new OutputTarget(fd, path, temp));
}

std::unique_ptr<OutputTarget> OutputTarget::ForStdout() {
  return std::unique_ptr<OutputTarget>(new OutputTarget(STDOUT_FILENO, "-", ""));
}

OutputTarget::OutputTarget(int fd, std::string path, std::string temp_path)
    : fd_(fd), path_(std::move(path)), temp_path_(std::move(temp_path)) {
  thread_ = std::thread([this] {
    internal::NameThisThread("vk-export-out");
    Run();
  });
}

void OutputTarget::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stop_ and nothing left
    std::string block = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    const bool failed = !error_.ok();
    lock.unlock();
    Status st = failed ? Status::Ok() : WriteAll(block);
    lock.lock();
    busy_ = false;
    if (!st.ok() && error_.ok()) error_ = st;
    block.clear();
    spare_.push_back(std::move(block));
    cv_.notify_all();
  }
}

Status OutputTarget::Drain() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return queue_.empty() && !busy_; });
  return error_;
}

OutputTarget::~OutputTarget() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!temp_path_.empty()) {
    ::close(fd_);
    ::unlink(temp_path_.c_str());
  } else if (path_ != "-" && fd_ >= 0) {
    ::close(fd_);
  }
}

Status OutputTarget::Write(std::string_view bytes) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return queue_.size() < kMaxQueued || !error_.ok(); });
  if (!error_.ok()) return error_;
  std::string block;
  if (!spare_.empty()) {
    block = std::move(spare_.back());
    spare_.pop_back();
  }
  block.assign(bytes.data(), bytes.size());
  queue_.push_back(std::move(block));
  cv_.notify_all();
  return Status::Ok();
}

Status OutputTarget::WriteAll(std::string_view bytes) {
  sha_.Update(bytes);
  bytes_ += static_cast<std::int64_t>(bytes.size());
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("writing \"" + path_ + "\": " + Errno());
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

Status OutputTarget::Commit() {
  VK_RETURN_IF_ERROR(Drain());
  if (path_ == "-") return Status::Ok();
  if (::fsync(fd_) != 0) return Status::IoError("syncing \"" + path_ + "\": " + Errno());
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    return Status::IoError("renaming into \"" + path_ + "\": " + Errno());
  }
  temp_path_.clear();
  return Status::Ok();
}

Result<std::unique_ptr<ByteSink>> MakeCompressor(Compression c, ByteSink& downstream) {
  switch (c) {
    case Compression::kNone:
      return std::unique_ptr<ByteSink>();
    case Compression::kGzip: {
      auto s = std::make_unique<GzipSink>(downstream);
      VK_RETURN_IF_ERROR(s->Init());
      return std::unique_ptr<ByteSink>(std::move(s));
    }
    case Compression::kBrotli: {
      auto s = std::make_unique<BrotliSink>(downstream);
      VK_RETURN_IF_ERROR(s->Init());
      return std::unique_ptr<ByteSink>(std::move(s));
    }
    case Compression::kZstd: {
      auto s = std::make_unique<ZstdSink>(downstream);
      VK_RETURN_IF_ERROR(s->Init());
      return std::unique_ptr<ByteSink>(std::move(s));
    }
  }
  return Status::Internal("bad compression");
}

}  // namespace vibekit::exporting
