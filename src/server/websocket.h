// WebSocketHub: the live feed of /ws (docs/API.md), on its own I/O thread so that writing to
// hundreds of clients never competes with the HTTP thread that reads the POSTs.
//
// The TelemetryService's writer thread reports every commit (events with their ids, changed
// session ids) through a listener that only appends them to a pending window under a mutex
// (nothing at all when no client is subscribed) and, for the first commit of a window, posts one
// timer start to the hub. When the window closes (coalesce_ms after its first commit) the hub
// renders each message once — the events of the window in commit order, split into messages of at
// most max_events_per_message; the changed session rows; per watched session its events and row —
// and queues the same shared buffer for every client that subscribed. Every client has a bounded
// send queue: when it is full the message is counted as dropped for that client (the client later
// gets {"type":"dropped","count":N}), so a slow reader never slows ingest or the other clients.
// Metrics are pushed at most once per metrics_interval_ms after commits, health every 5 s; Beast
// sends a ping after 15 s of silence and closes a connection silent for 30 s.
//
// Threading: all hub state lives on the hub's thread; the commit listener, alert callbacks and
// Adopt() only post to it. Beast/Asio in this header: include it from http_server.cc and
// websocket.cc only.
#pragma once

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
  std::size_t max_events_per_message = 1000;  // a window's events are split into messages of this
  std::int64_t coalesce_ms = 100;  // commits within this window after the first go out together
  // Events held for one window at most; the rest of that window is not pushed and the next
  // "events" message says how many ("omitted"). Only reached when the hub falls seconds behind.
  std::size_t max_window_events = 100000;
};

class WebSocketHub {
 public:
  WebSocketHub(TelemetryService& service, AnalyticsService& analytics, ServerMetrics& metrics,
               WebSocketOptions options = {});
  ~WebSocketHub();
  WebSocketHub(const WebSocketHub&) = delete;
  WebSocketHub& operator=(const WebSocketHub&) = delete;

  // Starts the hub's I/O thread and subscribes to commits and alerts. REQUIRES: called once,
  // before Adopt().
  void Start();
  // Takes over one connection (any thread): its socket moves to the hub's thread, which accepts
  // the upgrade `request` and then serves the client until it leaves. Returns at once.
  void Adopt(boost::beast::tcp_stream&& stream,
             boost::beast::http::request<boost::beast::http::string_body>&& request);
  // Unsubscribes from the service and closes every client (server shutdown). Thread-safe.
  void CloseAll();
  // After CloseAll(): waits (up to 2 s) for the clients to be closed, stops and joins the hub's
  // thread and releases its sockets and timers. Idempotent; the destructor calls both.
  void ReleaseIo();

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace vibekit::server
