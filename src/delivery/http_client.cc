#include "delivery/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace vibekit::delivery {
namespace {

constexpr std::size_t kMaxResponseBody = 64 * 1024;

struct SlistDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct Exchange {
  HttpResponse response;
  const std::atomic<bool>* cancelled = nullptr;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t bytes = size * n;
  std::string& body = ex->response.body;
  if (body.size() < kMaxResponseBody) {
    body.append(data, std::min(bytes, kMaxResponseBody - body.size()));
  }
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t bytes = size * n;
  std::string_view line(data, bytes);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (std::size_t i = 0; i < kName.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    }
    if (match) {
      std::string_view v = line.substr(kName.size());
      while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
      while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
      ex->response.retry_after = std::string(v);
    }
  }
  // A new status line (after a 100 Continue) starts a new header block.
  if (line.rfind("HTTP/", 0) == 0) ex->response.retry_after.clear();
  return bytes;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* ex = static_cast<Exchange*>(user);
  return ex->cancelled->load(std::memory_order_acquire) ? 1 : 0;
}

}  // namespace

void HttpClient::EasyDeleter::operator()(void* easy) const noexcept {
  curl_easy_cleanup(static_cast<CURL*>(easy));
}

Result<std::unique_ptr<HttpClient>> HttpClient::Create() {
  static std::once_flag once;
  static CURLcode global = CURLE_OK;
  std::call_once(once, [] { global = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (global != CURLE_OK) {
    return Status::Internal(std::string("curl_global_init: ") + curl_easy_strerror(global));
  }
  std::unique_ptr<HttpClient> client(new HttpClient());
  client->easy_.reset(curl_easy_init());
  if (!client->easy_) return Status::Internal("curl_easy_init failed");
  return client;
}

HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::Post(const std::string& url, std::string_view body,
                                      const HttpRequestOptions& options) {
  if (cancelled_.load(std::memory_order_acquire)) {
    return Status::FailedPrecondition("delivery is stopping");
  }
  CURL* curl = static_cast<CURL*>(easy_.get());
  curl_easy_reset(curl);  // keeps the connection cache
  Slist headers;
  for (const std::string& h : options.headers) {
    curl_slist* next = curl_slist_append(headers.get(), h.c_str());
    if (next == nullptr) return Status::Internal("curl_slist_append failed");
    (void)headers.release();
    headers.reset(next);
  }
  // No "Expect: 100-continue" round trip for large bodies.
  curl_slist* next = curl_slist_append(headers.get(), "Expect:");
  if (next == nullptr) return Status::Internal("curl_slist_append failed");
  (void)headers.release();
  headers.reset(next);

  Exchange ex;
  ex.cancelled = &cancelled_;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // we run on a worker thread
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ex);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &ex);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &ex);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "vibekit-telemetry");
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);  // errbuf goes out of scope
  if (rc != CURLE_OK) {
    std::string what = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_ABORTED_BY_CALLBACK) return Status::FailedPrecondition("delivery is stopping");
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      return Status::DeadlineExceeded("POST " + url + " timed out: " + what);
    }
    return Status::Unavailable("POST " + url + " failed: " + what);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &ex.response.status);
  return std::move(ex.response);
}

std::optional<std::int64_t> ParseRetryAfterMs(std::string_view value, std::int64_t now_unix_s) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
    if (value.size() > 9) return std::int64_t{999999999} * 1000;  // absurdly long: the cap applies
    return std::stoll(std::string(value)) * 1000;
  }
  const std::string text(value);
  const time_t when = curl_getdate(text.c_str(), nullptr);
  if (when == -1) return std::nullopt;
  return std::max<std::int64_t>(0, (static_cast<std::int64_t>(when) - now_unix_s) * 1000);
}

}  // namespace vibekit::delivery
