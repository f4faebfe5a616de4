#include "server/static_files.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

namespace vibekit::server {
namespace {

namespace fs = std::filesystem;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// True when `path` is `root` or inside it (both canonical).
bool Inside(const std::string& path, const std::string& root) {
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          path[root.size()] == '/');
}

}  // namespace

std::string_view ContentTypeForPath(std::string_view path) noexcept {
  if (EndsWith(path, ".html")) return "text/html; charset=utf-8";
  if (EndsWith(path, ".js") || EndsWith(path, ".mjs")) return "text/javascript; charset=utf-8";
  if (EndsWith(path, ".css")) return "text/css; charset=utf-8";
  if (EndsWith(path, ".json") || EndsWith(path, ".map")) return "application/json";
  if (EndsWith(path, ".svg")) return "image/svg+xml";
  if (EndsWith(path, ".png")) return "image/png";
  if (EndsWith(path, ".ico")) return "image/x-icon";
  if (EndsWith(path, ".woff2")) return "font/woff2";
  if (EndsWith(path, ".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

Result<StaticFiles> StaticFiles::Open(const std::string& root) {
  std::error_code ec;
  const fs::path canonical = fs::canonical(root, ec);
  if (ec || !fs::is_directory(canonical, ec)) {
    return Status::NotFound("web assets directory " + root + " does not exist");
  }
  return StaticFiles(canonical.string());
}

Response StaticFiles::Serve(const Request& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    Response r = ErrorResponse(405, request.method + " is not allowed on static files");
    r.SetHeader("Allow", "GET, HEAD");
    return r;
  }
  const std::string& path = request.path;
  if (path.empty() || path.front() != '/' || path.find('\0') != std::string::npos ||
      path.find('\\') != std::string::npos) {
    return ErrorResponse(404, "not found");
  }
  // Segment by segment: no "..", no "." tricks, no empty segments ("//etc/passwd").
  std::string relative;
  std::size_t pos = 1;
  while (pos <= path.size()) {
    std::size_t end = path.find('/', pos);
    if (end == std::string::npos) end = path.size();
    const std::string_view seg = std::string_view(path).substr(pos, end - pos);
    if (seg == ".." || seg == ".") return ErrorResponse(404, "not found");
    if (!seg.empty()) {
      if (!relative.empty()) relative.push_back('/');
      relative.append(seg);
    } else if (end != path.size()) {
      return ErrorResponse(404, "not found");  // empty segment inside the path
    }
    pos = end + 1;
  }
  std::error_code ec;
  fs::path candidate = relative.empty() ? fs::path(root_) / "index.html" : fs::path(root_) / relative;
  if (fs::is_directory(candidate, ec)) candidate /= "index.html";
  if (!fs::exists(candidate, ec)) {
    // A deep link of the page ("/sessions/abc"): the page itself; a missing asset: 404.
    if (fs::path(relative).has_extension()) return ErrorResponse(404, "not found: " + path);
    candidate = fs::path(root_) / "index.html";
  }
  const fs::path real = fs::canonical(candidate, ec);
  if (ec || !Inside(real.string(), root_) || !fs::is_regular_file(real, ec)) {
    return ErrorResponse(404, "not found: " + path);
  }
  Response r;
  r.content_type = std::string(ContentTypeForPath(real.string()));
  r.SetHeader("Cache-Control", "no-cache");
  r.SetHeader("X-Content-Type-Options", "nosniff");
  std::ifstream in(real, std::ios::binary);
  if (!in) return ErrorResponse(404, "not found: " + path);
  r.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return r;
}

}  // namespace vibekit::server
