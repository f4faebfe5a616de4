#include "server/app.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <utility>

#include "common/log.h"

namespace vibekit::server {
namespace {

// Responses smaller than this are not worth compressing (docs/API.md: over 1 KiB).
constexpr std::size_t kGzipMinBytes = 1024;

bool AcceptsGzip(std::string_view accept_encoding) {
  std::size_t pos = 0;
  while (pos < accept_encoding.size()) {
    std::size_t end = accept_encoding.find(',', pos);
    if (end == std::string_view::npos) end = accept_encoding.size();
    std::string_view item = accept_encoding.substr(pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const std::size_t semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
    if (coding == "gzip") {
      // "gzip;q=0" refuses it.
      if (semi != std::string_view::npos) {
        std::string_view q = item.substr(semi + 1);
        while (!q.empty() && q.front() == ' ') q.remove_prefix(1);
        if (q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000") return false;
      }
      return true;
    }
    pos = end + 1;
  }
  return false;
}

// Constant-time comparison: the token is a secret.
bool SameSecret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

}  // namespace

bool RateLimiter::Allow(const std::string& ip, int* retry_after_s) {
  if (rate_ <= 0) return true;
  const auto now = std::chrono::steady_clock::now();
  const double burst = std::max(1.0, rate_ * 2);
  std::lock_guard lock(mu_);
  // Forget idle clients now and then so the map stays small.
  if (buckets_.size() > 10000) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      it = now - it->second.last > std::chrono::minutes(1) ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, inserted] = buckets_.try_emplace(ip);
  Bucket& b = it->second;
  if (inserted) {
    b.tokens = burst;
  } else {
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst, b.tokens + elapsed * rate_);
  }
  b.last = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  const double wait = (1 - b.tokens) / rate_;
  *retry_after_s = std::max(1, static_cast<int>(wait + 0.999));
  return false;
}

ServerApp::ServerApp(ServerOptions options, const Router& router, ServerMetrics& metrics)
    : options_(std::move(options)),
      router_(router),
      metrics_(metrics),
      limiter_(options_.rate_limit_per_s) {}

std::optional<Response> ServerApp::CheckToken(const Request& request,
                                              bool allow_query_token) const {
  if (options_.token.empty()) return std::nullopt;
  std::string_view auth = request.Header("authorization");
  std::optional<std::string> presented;
  if (!auth.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() > kBearer.size() &&
        std::equal(kBearer.begin(), kBearer.end(), auth.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      presented = std::string(auth.substr(kBearer.size()));
    } else {
      presented = std::string();  // some other scheme: wrong credentials
    }
  } else if (allow_query_token) {
    presented = request.Param("token");
  }
  if (!presented) {
    Response r = ErrorResponse(401, "missing bearer token: send Authorization: Bearer <token>");
    r.SetHeader("WWW-Authenticate", "Bearer");
    return r;
  }
  if (!SameSecret(*presented, options_.token)) return ErrorResponse(403, "wrong token");
  return std::nullopt;
}

std::optional<Response> ServerApp::AuthorizeWebSocket(const Request& request) {
  int retry_after = 1;
  if (!limiter_.Allow(request.remote_ip, &retry_after)) {
    Response r = ErrorResponse(429, "too many requests from this client");
    r.SetHeader("Retry-After", std::to_string(retry_after));
    return r;
  }
  if (auto refused = CheckToken(request, /*allow_query_token=*/true)) return refused;
  // Browsers always send Origin; it must be this server (same host:port) or the configured
  // CORS origin. Non-browser clients send none.
  const std::string_view origin = request.Header("origin");
  if (!origin.empty()) {
    const std::string_view host = request.Header("host");
    const bool same = origin == "http://" + std::string(host) ||
                      origin == "https://" + std::string(host);
    const bool allowed = !options_.cors_origin.empty() && origin == options_.cors_origin;
    if (!same && !allowed) {
      return ErrorResponse(403, "WebSocket origin " + std::string(origin) + " is not allowed");
    }
  }
  return std::nullopt;
}

Response ServerApp::Handle(Request& request) noexcept {
  const auto start = std::chrono::steady_clock::now();
  std::string route = "unmatched";
  Response response;
  try {
    response = [&]() -> Response {
      int retry_after = 1;
      if (!limiter_.Allow(request.remote_ip, &retry_after)) {
        Response r = ErrorResponse(429, "too many requests from this client; retry after " +
                                            std::to_string(retry_after) + " s");
        r.SetHeader("Retry-After", std::to_string(retry_after));
        return r;
      }
      if (request.method == "OPTIONS" && !options_.cors_origin.empty()) {
        Response r;
        r.status = 204;
        r.content_type.clear();
        r.SetHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        r.SetHeader("Access-Control-Allow-Headers",
                    "Authorization, Content-Type, Content-Encoding");
        r.SetHeader("Access-Control-Max-Age", "600");
        return r;
      }
      Router::Match match = router_.Find(request);
      route = match.route.empty() ? "unmatched" : match.route;
      if (match.handler == nullptr) {
        if (match.status == 405) {
          Response r = ErrorResponse(405, request.method + " is not allowed on " + request.path);
          r.SetHeader("Allow", match.allow);
          return r;
        }
        return ErrorResponse(404, "no route " + request.method + " " + request.path);
      }
      if (!match.public_access) {
        if (auto refused = CheckToken(request, /*allow_query_token=*/false)) return *refused;
      }
      const std::string_view encoding = request.Header("content-encoding");
      if (!encoding.empty() && encoding != "identity") {
        if (encoding != "gzip") {
          return ErrorResponse(400, "unsupported Content-Encoding " + std::string(encoding) +
                                        " (gzip or identity)");
        }
        Result<std::string> inflated = GzipDecompress(request.body, options_.max_body_bytes);
        if (!inflated.ok()) {
          const bool too_big =
              inflated.status().message().find("body limit") != std::string::npos;
          return ErrorResponse(too_big ? 413 : 400, inflated.status().message());
        }
        request.body = std::move(*inflated);
      }
      return (*match.handler)(request);
    }();
  } catch (const std::exception& e) {
    internal::LogError("server: " + request.method + " " + request.path + ": " + e.what());
    response = ErrorResponse(500, std::string("internal error: ") + e.what());
  }
  try {
    if (!options_.cors_origin.empty()) {
      response.SetHeader("Access-Control-Allow-Origin", options_.cors_origin);
      response.SetHeader("Vary", "Origin");
    }
    if (!response.file_path && response.body.size() > kGzipMinBytes &&
        response.Header("content-encoding").empty() &&
        AcceptsGzip(request.Header("accept-encoding"))) {
      Result<std::string> packed = GzipCompress(response.body);
      if (packed.ok()) {
        response.body = std::move(*packed);
        response.SetHeader("Content-Encoding", "gzip");
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics_.RecordRequest(route, response.status, seconds);
  } catch (const std::exception&) {
    // Allocation failure while finishing: the response as it is.
  }
  return response;
}

}  // namespace vibekit::server
