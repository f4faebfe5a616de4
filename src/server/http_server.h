// The HTTP transport (Boost.Beast over Asio, C++20 coroutines): listens on one address, reads
// requests (body limit -> 413), hands each to ServerApp::Handle() on a worker thread pool (the
// handlers block on commits and queries; the I/O threads never do), writes the answer (a string
// or a file streamed from disk), keep-alive. WebSocket upgrades on /ws go to the WebSocketHub
// (websocket.cc) after ServerApp::AuthorizeWebSocket.
// Beast and Asio stay in this .cc and websocket.cc.
//
// Thread-safety: Start() / Stop() from one thread; the server runs on its own threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/app.h"
#include "vibekit/status.h"

namespace vibekit::server {

class WebSocketHub;

// One address to listen on and the front door its requests go to.
struct HttpListenerSpec {
  std::string host;
  int port = 0;  // 0: any free port
  ServerApp* app = nullptr;
};

class HttpServer {
 public:
  // Binds every listener and starts serving. `app` (and
  // `hub`, may be null: no /ws) must outlive the server. kUnavailable when the address
  // cannot be bound (in use, not local), kInvalidArgument for a host that does not resolve.
  // Several listeners share the I/O thread, the worker pool and the hub (the dashboard port
  // serves the same /api and /ws). `options` gives max_body_bytes and worker_threads.
  static Result<std::unique_ptr<HttpServer>> Start(std::vector<HttpListenerSpec> listeners,
                                                   const ServerOptions& options,
                                                   WebSocketHub* hub = nullptr) noexcept;
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port of listener `i` (in Start's order).
  std::uint16_t port(std::size_t i = 0) const noexcept;

  // Stops accepting, waits up to `timeout_ms` for requests being handled to be answered (so an
  // acknowledged POST is never cut off), closes every connection and joins the threads.
  void Stop(int timeout_ms = 10000) noexcept;

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vibekit::server
