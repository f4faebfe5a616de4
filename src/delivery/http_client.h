// HttpClient: one libcurl easy handle (so the connection is kept alive between requests) that
// POSTs a body and returns the status, the response body and the Retry-After header. Also the
// gzip encoder for request bodies.
//
// Thread-safety: one HttpClient is used by one thread at a time; Cancel() is the exception
// (any thread) and makes the request in progress return promptly.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/gzip.h"
#include "vibekit/status.h"

namespace vibekit::delivery {

struct HttpResponse {
  long status = 0;
  std::string body;         // at most 64 KiB are kept
  std::string retry_after;  // the Retry-After header's value, empty when absent
};

struct HttpRequestOptions {
  int timeout_ms = 10000;
  int connect_timeout_ms = 5000;
  // "Name: value" lines sent with the request (Content-Type etc. included by the caller).
  std::vector<std::string> headers;
};

class HttpClient {
 public:
  // kInternal when libcurl cannot be set up.
  static Result<std::unique_ptr<HttpClient>> Create();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Any HTTP status is a response (OK); a transport failure is an error: kDeadlineExceeded for a
  // timeout, kUnavailable for connection and protocol failures (refused, reset, DNS, ...),
  // kFailedPrecondition after Cancel().
  Result<HttpResponse> Post(const std::string& url, std::string_view body,
                            const HttpRequestOptions& options);

  // Aborts the request in progress and every later one (for shutdown).
  void Cancel() noexcept { cancelled_.store(true, std::memory_order_release); }

 private:
  struct EasyDeleter {
    void operator()(void* easy) const noexcept;
  };
  HttpClient() = default;

  std::unique_ptr<void, EasyDeleter> easy_;  // CURL*
  std::atomic<bool> cancelled_{false};
};

using internal::GzipCompress;  // common/gzip.h

// The wait a Retry-After value asks for, in milliseconds: delay-seconds ("120") or an HTTP date
// ("Wed, 21 Oct 2015 07:28:00 GMT", relative to `now_unix_s`; a past date is 0). nullopt when the
// value is neither.
std::optional<std::int64_t> ParseRetryAfterMs(std::string_view value, std::int64_t now_unix_s);

}  // namespace vibekit::delivery
