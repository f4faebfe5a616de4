#include "server/router.h"

#include <utility>

namespace vibekit::server {
namespace {

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    const std::size_t end = path.find('/', i);
    out.emplace_back(path.substr(i, end == std::string_view::npos ? std::string_view::npos
                                                                   : end - i));
    if (end == std::string_view::npos) break;
    i = end;
  }
  return out;
}

bool IsParam(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  Route r;
  r.method = std::move(method);
  r.segments = SplitPath(pattern);
  r.pattern = std::move(pattern);
  r.handler = std::move(handler);
  r.options = options;
  routes_.push_back(std::move(r));
}

void Router::SetFallback(Handler handler) { fallback_ = std::move(handler); }

Router::Match Router::Find(Request& request) const {
  const std::vector<std::string> parts = SplitPath(request.path);
  Match match;
  for (const Route& route : routes_) {
    if (route.segments.size() != parts.size()) continue;
    std::vector<std::pair<std::string, std::string>> params;
    bool ok = true;
    for (std::size_t i = 0; i < parts.size() && ok; ++i) {
      if (IsParam(route.segments[i])) {
        params.emplace_back(route.segments[i].substr(1, route.segments[i].size() - 2), parts[i]);
      } else {
        ok = route.segments[i] == parts[i];
      }
    }
    if (!ok) continue;
    // HEAD is answered like GET (without a body, by the transport).
    const bool method_ok =
        route.method == request.method || (request.method == "HEAD" && route.method == "GET");
    if (!method_ok) {
      match.status = 405;
      match.route = route.pattern;
      if (!match.allow.empty()) match.allow += ", ";
      match.allow += route.method;
      continue;
    }
    request.path_params = std::move(params);
    match.handler = &route.handler;
    match.route = route.pattern;
    match.public_access = route.options.public_access;
    match.status = 200;
    match.allow.clear();
    return match;
  }
  if (match.status == 404 && fallback_) {
    match.handler = &fallback_;
    match.route = "static";
    match.public_access = true;
    match.status = 200;
  }
  return match;
}

}  // namespace vibekit::server
