// The dashboard's static files (web/dist) for the dashboard port: GET/HEAD only, paths resolved
// under the root and refused when they leave it — ".." segments (also percent-encoded, which the
// transport decodes first), absolute paths, NUL bytes, symlinks pointing outside the root.
// Unknown paths without an extension get index.html (the page routes deep links itself).
// No Beast here.
//
// Thread-safety: Serve() from any number of threads at once.
#pragma once

#include <string>

#include "server/http_types.h"
#include "vibekit/status.h"

namespace vibekit::server {

class StaticFiles {
 public:
  // kNotFound when `root` is not a directory.
  static Result<StaticFiles> Open(const std::string& root);

  Response Serve(const Request& request) const;
  const std::string& root() const noexcept { return root_; }

 private:
  explicit StaticFiles(std::string root) : root_(std::move(root)) {}
  std::string root_;  // canonical, no trailing slash
};

// "text/html; charset=utf-8" for .html, ... by extension; application/octet-stream otherwise.
std::string_view ContentTypeForPath(std::string_view path) noexcept;

}  // namespace vibekit::server
