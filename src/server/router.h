// Routes: (method, path pattern) -> handler. Adding a route is one line:
//   router.Add("POST", "/v1/traces", [&](Request& r) { return receiver.Traces(r); });
// A pattern is literal segments and "{name}" segments (one non-empty path segment, available as
// request.PathParam("name")). No Beast here.
//
// Thread-safety: Add() before serving; Dispatch() from any number of threads at once.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "server/http_types.h"

namespace vibekit::server {

struct RouteOptions {
  // Served without the bearer token even when the server has one (health, static files).
  bool public_access = false;
};

class Router {
 public:
  using Handler = std::function<Response(Request&)>;

  void Add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});
  // Requests no route matches (e.g. the dashboard's static files); public.
  void SetFallback(Handler handler);

  struct Match {
    const Handler* handler = nullptr;  // null: no route (see status)
    std::string route;                 // the pattern, for metrics ("/api/sessions/{id}")
    bool public_access = false;
    int status = 404;                  // 404 unknown path, 405 known path with another method
    std::string allow;                 // for 405: the methods the path accepts
  };
  // Finds the route for `request` and fills its path_params.
  Match Find(Request& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    std::string pattern;
    Handler handler;
    RouteOptions options;
  };
  std::vector<Route> routes_;
  Handler fallback_;
};

}  // namespace vibekit::server
