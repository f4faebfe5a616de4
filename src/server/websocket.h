// WebSocketHub: the live feed of /ws (docs/API.md). The TelemetryService's writer thread reports
// every commit (events with their ids, changed session ids) through a listener that only copies
// them and posts them here; the hub renders each message once and queues it for the clients that
// subscribed. Every client has a bounded send queue: when it is full the message is counted as
// dropped for that client (the client later gets {"type":"dropped","count":N}), so a slow reader
// never slows ingest or the other clients. Metrics are pushed at most once per second after
// commits, health every 5 s; Beast sends a ping after 15 s of silence and closes a connection
// silent for 30 s.
//
// Threading: all hub state lives on the server's I/O thread (the HTTP server runs one); the
// commit listener and alert callbacks only post to it. Beast/Asio in this header: include it from
// http_server.cc and websocket.cc only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <memory>

#include "server/server_metrics.h"
#include "vibekit/analytics.h"
#include "vibekit/telemetry_service.h"

namespace vibekit::server {

struct WebSocketOptions {
  std::size_t max_queue_messages = 256;  // per client; beyond: dropped
  std::int64_t metrics_interval_ms = 1000;
  std::int64_t health_interval_ms = 5000;
  std::size_t max_events_per_message = 1000;
};

class WebSocketHub {
 public:
  WebSocketHub(TelemetryService& service, AnalyticsService& analytics, ServerMetrics& metrics,
               WebSocketOptions options = {});
  ~WebSocketHub();
  WebSocketHub(const WebSocketHub&) = delete;
  WebSocketHub& operator=(const WebSocketHub&) = delete;

  // Binds the hub to the executor of the server's (single) I/O thread and subscribes to commits
  // and alerts. REQUIRES: called once, before Serve().
  void Start(boost::asio::any_io_executor executor);
  // Runs one client: accepts the upgrade `request`, then reads its messages until it leaves.
  boost::asio::awaitable<void> Serve(boost::beast::tcp_stream stream,
                                     boost::beast::http::request<boost::beast::http::string_body>
                                         request);
  // Unsubscribes from the service and closes every client (server shutdown). Thread-safe.
  void CloseAll();
  // Drops the hub's timers and client sockets. REQUIRES: the I/O thread has stopped; call
  // before the io_context they belong to is destroyed.
  void ReleaseIo();

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace vibekit::server
