// WebSocketHub: the live feed of /ws (docs/API.md), on its own I/O thread so that writing to
// hundreds of clients never competes with the HTTP thread that reads the POSTs.
//
// The TelemetryService's writer thread reports every commit (events with their ids, changed
// session ids) through a listener that keeps for the open window only what the current subscribers
// need (nothing at all when no client is subscribed): an exact per-minute tally of the events, the
// newest preview_events events (the "events" channel's default, a live feed sized for people),
// every event only while a client subscribed to the full feed, and the events of watched sessions;
// for the first commit of a window it posts one timer start to the hub. When the window closes
// (coalesce_ms after its first commit; while the previews are cut, each window twice as long
// as the last, up to max_coalesce_ms) the hub renders each message once — the preview (newest
// events + "omitted" + "tally"); for full subscribers every event in commit order, split into
// messages of at most max_events_per_message; the newest preview_sessions changed session rows;
// per watched session its events and row — and queues the same shared buffer for every client
// that subscribed. Every client has a send queue bounded by messages and bytes: beyond either the
// message is counted as dropped for that client (the client later gets
// {"type":"dropped","count":N}), so a slow reader never slows ingest or the other clients.
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
  // Per client, the bytes of its queued messages (the one being written included); beyond:
  // dropped. A message larger than this still goes to a client whose queue is empty.
  std::size_t max_queue_bytes = 8 * 1024 * 1024;
  std::int64_t metrics_interval_ms = 1000;
  std::int64_t health_interval_ms = 5000;
  std::size_t max_events_per_message = 1000;  // a window's events are split into messages of this
  std::int64_t coalesce_ms = 250;  // commits within this window after the first go out together
  // Under load the window grows up to this: each window that left something out of its preview
  // doubles the next one (WebSocketHub::Impl::OpenWindow).
  std::int64_t max_coalesce_ms = 1000;
  // Events held for one window at most (full feed; each watched session's events); the rest of
  // that window is not pushed and its first "events" message says how many ("omitted"). Only
  // reached when the hub falls seconds behind.
  std::size_t max_window_events = 100000;
  // The "events" channel's default feed: per window the newest this many events, with the count
  // of the others ("omitted") and an exact per-minute tally of all of them. Subscribing with
  // "full": true gets every event instead.
  std::size_t preview_events = 50;
  // The "sessions" channel: per window the newest this many changed session rows ("omitted":
  // how many others changed).
  std::size_t preview_sessions = 100;
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
