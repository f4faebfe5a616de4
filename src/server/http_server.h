// The HTTP transport (Boost.Beast over Asio, C++20 coroutines): listens on one address, reads
// requests (body limit -> 413), hands each to ServerApp::Handle() on a worker thread pool (the
// handlers block on commits and queries; the I/O threads never do), writes the answer (a string
// or a file streamed from disk), keep-alive.
// Beast and Asio stay in this .cc and websocket.cc.
//
// Thread-safety: Start() / Stop() from one thread; the server runs on its own threads.
#pragma once

#include <cstdint>
#include <memory>

#include "server/app.h"
#include "vibekit/status.h"

namespace vibekit::server {

class HttpServer {
 public:
  // Binds options.host:options.port (port 0: any free port) and starts serving. `app` must
  // outlive the server. kUnavailable when the address
  // cannot be bound (in use, not local), kInvalidArgument for a host that does not resolve.
  static Result<std::unique_ptr<HttpServer>> Start(const ServerOptions& options,
                                                   ServerApp& app) noexcept;
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::uint16_t port() const noexcept;

  // Stops accepting, waits up to `timeout_ms` for requests being handled to be answered (so an
  // acknowledged POST is never cut off), closes every connection and joins the threads.
  void Stop(int timeout_ms = 10000) noexcept;

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vibekit::server
