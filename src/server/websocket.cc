#include "server/websocket.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <deque>
#include <list>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/json_parse.h"
#include "common/log.h"
#include "server/api_routes.h"
#include "server/app.h"
#include "vibekit/clock.h"
#include "views/json_views.h"

namespace vibekit::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;

namespace {

using Message = std::shared_ptr<const std::string>;

Message MakeMessage(const json::object& o) {
  return std::make_shared<const std::string>(views::JsonText(o));
}

const std::set<std::string>& KnownChannels() {
  static const std::set<std::string> kChannels = {"events", "sessions", "metrics", "alerts",
                                                  "health"};
  return kChannels;
}

}  // namespace

struct WsClient {
  explicit WsClient(beast::tcp_stream&& stream) : ws(std::move(stream)) {}
  websocket::stream<beast::tcp_stream> ws;
  std::deque<Message> queue;  // bounded by max_queue_messages
  bool writing = false;
  bool closed = false;
  std::int64_t dropped = 0;   // not yet reported to the client
  std::set<std::string> channels;
  std::set<std::string> sessions;
};

class WebSocketHub::Impl : public std::enable_shared_from_this<WebSocketHub::Impl> {
 public:
  Impl(TelemetryService& service, AnalyticsService& analytics, ServerMetrics& metrics,
       WebSocketOptions options)
      : service_(service), analytics_(analytics), metrics_(metrics), options_(options) {}

  void Start(asio::any_io_executor executor) {
    executor_ = executor;
    metrics_timer_.emplace(executor_);
    health_timer_.emplace(executor_);
    std::weak_ptr<Impl> weak = shared_from_this();
    commit_subscription_ = service_.SubscribeCommits([weak](const CommitNotice& notice) {
      // Writer thread: copy and hand off, nothing else.
      auto self = weak.lock();
      if (!self || self->closing_.load()) return;
      auto events = std::make_shared<std::vector<Event>>(notice.events.begin(),
                                                         notice.events.end());
      auto sessions = std::make_shared<std::vector<std::string>>(notice.session_ids.begin(),
                                                                 notice.session_ids.end());
      asio::post(self->executor_, [self, events, sessions] { self->OnCommit(*events, *sessions); });
    });
    alert_subscription_ = analytics_.OnAlert([weak](const AlertEvent& a) {
      if (auto self = weak.lock()) {
        asio::post(self->executor_, [self, a] { self->Broadcast("alerts", "", AlertMessage("alert", a)); });
      }
    });
    resolved_subscription_ = analytics_.OnResolved([weak](const AlertEvent& a) {
      if (auto self = weak.lock()) {
        asio::post(self->executor_,
                   [self, a] { self->Broadcast("alerts", "", AlertMessage("alertResolved", a)); });
      }
    });
    asio::co_spawn(executor_, HealthLoop(shared_from_this()), asio::detached);
  }

  void CloseAll() {
    if (closing_.exchange(true)) return;
    service_.UnsubscribeCommits(commit_subscription_);
    analytics_.Unsubscribe(alert_subscription_);
    analytics_.Unsubscribe(resolved_subscription_);
    if (!executor_) return;  // never started
    auto self = shared_from_this();
    asio::post(executor_, [self] {
      if (self->metrics_timer_) self->metrics_timer_->cancel();
      if (self->health_timer_) self->health_timer_->cancel();
      for (const auto& c : self->clients_) {
        c->closed = true;
        beast::get_lowest_layer(c->ws).close();
      }
    });
  }

  void ReleaseIo() {
    metrics_timer_.reset();
    health_timer_.reset();
    clients_.clear();
  }

  asio::awaitable<void> Serve(beast::tcp_stream stream, http::request<http::string_body> request) {
    auto self = shared_from_this();
    auto client = std::make_shared<WsClient>(std::move(stream));
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(30);
    timeouts.idle_timeout = std::chrono::seconds(30);  // ping after 15 s idle, close after 30 s
    timeouts.keep_alive_pings = true;
    client->ws.set_option(timeouts);
    client->ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "vibekit"); }));
    client->ws.read_message_max(64 * 1024);
    boost::system::error_code ec;
    co_await client->ws.async_accept(request, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || closing_.load()) co_return;
    clients_.push_back(client);
    metrics_.AddWebSocketClients(1);
    Send(client, MakeMessage(json::object{{"type", "hello"},
                                          {"version", kServerVersion},
                                          {"serverTime", SystemClock().NowMs()}}));
    beast::flat_buffer buffer;
    while (!client->closed) {
      co_await client->ws.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      const std::string text = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      HandleClientMessage(client, text);
    }
    client->closed = true;
    clients_.remove(client);
    metrics_.AddWebSocketClients(-1);
  }

 private:
  static json::object AlertMessage(const char* type, const AlertEvent& a) {
    return json::object{{"type", type}, {"alert", views::AlertToJsonObject(a)}};
  }
  void Broadcast(const std::string& channel, const std::string& session, const json::object& o) {
    Message m = MakeMessage(o);
    for (const auto& c : clients_) {
      if (c->channels.count(channel) != 0 || (!session.empty() && c->sessions.count(session))) {
        Send(c, m);
      }
    }
  }

  void Reply(const std::shared_ptr<WsClient>& c, json::object o) { Send(c, MakeMessage(o)); }

  void HandleClientMessage(const std::shared_ptr<WsClient>& c, const std::string& text) {
    boost::system::error_code ec;
    json::value v = vibekit::internal::ParseJson(text, ec);
    if (ec || !v.is_object() || !v.as_object().contains("type") ||
        !v.as_object().at("type").is_string()) {
      Reply(c, {{"type", "error"}, {"error", "messages are JSON objects with a \"type\""}});
      return;
    }
    const json::object& o = v.as_object();
    const std::string type(o.at("type").as_string());
    if (type == "ping") {
      Reply(c, {{"type", "pong"}, {"serverTime", SystemClock().NowMs()}});
      return;
    }
    if (type != "subscribe" && type != "unsubscribe") {
      Reply(c, {{"type", "error"}, {"error", "unknown message type \"" + type + "\""}});
      return;
    }
    const bool add = type == "subscribe";
    if (const json::value* id = o.if_contains("sessionId"); id != nullptr) {
      if (!id->is_string() || id->as_string().empty()) {
        Reply(c, {{"type", "error"}, {"error", "sessionId must be a non-empty string"}});
        return;
      }
      if (add) {
        c->sessions.insert(std::string(id->as_string()));
      } else {
        c->sessions.erase(std::string(id->as_string()));
      }
    }
    if (const json::value* list = o.if_contains("channels"); list != nullptr) {
      if (!list->is_array()) {
        Reply(c, {{"type", "error"}, {"error", "channels must be an array"}});
        return;
      }
      for (const json::value& ch : list->as_array()) {
        const std::string name = ch.is_string() ? std::string(ch.as_string()) : "";
        if (KnownChannels().count(name) == 0) {
          Reply(c, {{"type", "error"},
                    {"error", "unknown channel \"" + name +
                                  "\" (events, sessions, metrics, alerts, health)"}});
          continue;
        }
        if (add) {
          c->channels.insert(name);
        } else {
          c->channels.erase(name);
        }
      }
    }
    json::array channels;
    for (const std::string& ch : c->channels) channels.emplace_back(ch);
    json::array sessions;
    for (const std::string& s : c->sessions) sessions.emplace_back(s);
    Reply(c, {{"type", "subscribed"}, {"channels", std::move(channels)},
              {"sessions", std::move(sessions)}});
  }

  // Queues `m` for `c`, or counts it as dropped when the queue is full.
  void Send(const std::shared_ptr<WsClient>& c, const Message& m) {
    if (c->closed) return;
    if (c->queue.size() >= options_.max_queue_messages) {
      ++c->dropped;
      metrics_.AddDroppedMessages(1);
      return;
    }
    if (c->dropped > 0 && c->queue.size() + 1 < options_.max_queue_messages) {
      c->queue.push_back(MakeMessage(json::object{{"type", "dropped"}, {"count", c->dropped}}));
      c->dropped = 0;
    }
    c->queue.push_back(m);
    if (!c->writing) {
      c->writing = true;
      asio::co_spawn(executor_, WriteLoop(shared_from_this(), c), asio::detached);
    }
  }

  static asio::awaitable<void> WriteLoop(std::shared_ptr<Impl> self, std::shared_ptr<WsClient> c) {
    boost::system::error_code ec;
    c->ws.text(true);
    while (!c->queue.empty() && !c->closed) {
      Message m = c->queue.front();
      co_await c->ws.async_write(asio::buffer(*m), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        c->closed = true;
        beast::get_lowest_layer(c->ws).close();
        break;
      }
      c->queue.pop_front();
      // Space again: tell the client what it missed.
      if (c->dropped > 0 && c->queue.size() < options_of(*self).max_queue_messages) {
        c->queue.push_back(MakeMessage(json::object{{"type", "dropped"}, {"count", c->dropped}}));
        c->dropped = 0;
      }
    }
    c->writing = false;
  }
  static const WebSocketOptions& options_of(const Impl& i) { return i.options_; }

  void OnCommit(const std::vector<Event>& events, const std::vector<std::string>& session_ids) {
    if (clients_.empty()) return;
    bool want_events = false, want_sessions = false, want_metrics = false;
    std::set<std::string> watched;
    for (const auto& c : clients_) {
      want_events |= c->channels.count("events") != 0;
      want_sessions |= c->channels.count("sessions") != 0;
      want_metrics |= c->channels.count("metrics") != 0;
      watched.insert(c->sessions.begin(), c->sessions.end());
    }
    if (want_events && !events.empty()) {
      // The newest events of the commit when it is larger than one message may hold.
      const std::size_t start = events.size() > options_.max_events_per_message
                                    ? events.size() - options_.max_events_per_message
                                    : 0;
      json::array list;
      for (std::size_t i = start; i < events.size(); ++i) {
        list.push_back(views::EventToJsonObject(events[i]));
      }
      json::object o{{"type", "events"}, {"events", std::move(list)}};
      if (start > 0) o["omitted"] = static_cast<std::int64_t>(start);
      Message m = MakeMessage(o);
      for (const auto& c : clients_) {
        if (c->channels.count("events") != 0) Send(c, m);
      }
    }
    // One session's subscribers get its events and row, whatever their channels.
    for (const std::string& id : watched) {
      json::array list;
      for (const Event& e : events) {
        if (e.session_id == id) list.push_back(views::EventToJsonObject(e));
      }
      if (list.empty()) continue;
      Message ev = MakeMessage(json::object{{"type", "events"}, {"sessionId", id},
                                            {"events", std::move(list)}});
      Result<Session> s = service_.GetSession(id);
      Message row = s.ok() ? MakeMessage(json::object{
                                 {"type", "sessions"},
                                 {"sessions", json::array{views::SessionToJsonObject(*s)}}})
                           : nullptr;
      for (const auto& c : clients_) {
        if (c->sessions.count(id) == 0) continue;
        if (c->channels.count("events") == 0) Send(c, ev);
        if (row && c->channels.count("sessions") == 0) Send(c, row);
      }
    }
    if (want_sessions && !session_ids.empty()) {
      json::array rows;
      for (const std::string& id : session_ids) {
        Result<Session> s = service_.GetSession(id);
        if (s.ok()) rows.push_back(views::SessionToJsonObject(*s));
      }
      Message m = MakeMessage(json::object{{"type", "sessions"}, {"sessions", std::move(rows)}});
      for (const auto& c : clients_) {
        if (c->channels.count("sessions") != 0) Send(c, m);
      }
    }
    if (want_metrics) ScheduleMetrics();
  }

  // Metrics after commits, at most once per metrics_interval_ms.
  void ScheduleMetrics() {
    if (metrics_pending_) return;
    metrics_pending_ = true;
    const auto now = std::chrono::steady_clock::now();
    const auto due = last_metrics_ + std::chrono::milliseconds(options_.metrics_interval_ms);
    metrics_timer_->expires_at(due > now ? due : now);
    auto self = shared_from_this();
    metrics_timer_->async_wait([self](boost::system::error_code ec) {
      self->metrics_pending_ = false;
      if (ec || self->closing_.load()) return;
      self->last_metrics_ = std::chrono::steady_clock::now();
      Result<json::object> d = DashboardJson(self->analytics_, 60, SystemClock().NowMs(), false);
      if (!d.ok()) {
        internal::LogWarn("websocket: metrics: " + d.status().message());
        return;
      }
      self->Broadcast("metrics", "", json::object{{"type", "metrics"}, {"dashboard", std::move(*d)}});
    });
  }

  static asio::awaitable<void> HealthLoop(std::shared_ptr<Impl> self) {
    for (;;) {
      self->health_timer_->expires_after(std::chrono::milliseconds(self->options_.health_interval_ms));
      boost::system::error_code ec;
      co_await self->health_timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (ec || self->closing_.load()) co_return;
      bool wanted = false;
      for (const auto& c : self->clients_) wanted |= c->channels.count("health") != 0;
      if (!wanted) continue;
      TelemetryService::HealthCheckOptions o;
      o.quick_check = false;
      Result<HealthStatus> h = self->service_.HealthCheck(o);
      if (!h.ok()) continue;
      json::object health = views::HealthToJsonObject(*h);
      health["status"] = HealthWord(*h);
      self->Broadcast("health", "", json::object{{"type", "health"}, {"health", std::move(health)}});
    }
  }

  TelemetryService& service_;
  AnalyticsService& analytics_;
  ServerMetrics& metrics_;
  WebSocketOptions options_;
  asio::any_io_executor executor_;
  std::atomic<bool> closing_{false};
  std::int64_t commit_subscription_ = 0;
  std::int64_t alert_subscription_ = 0;
  std::int64_t resolved_subscription_ = 0;
  // Below: only on the I/O thread.
  std::list<std::shared_ptr<WsClient>> clients_;
  std::optional<asio::steady_timer> metrics_timer_;
  std::optional<asio::steady_timer> health_timer_;
  bool metrics_pending_ = false;
  std::chrono::steady_clock::time_point last_metrics_{};
};

WebSocketHub::WebSocketHub(TelemetryService& service, AnalyticsService& analytics,
                           ServerMetrics& metrics, WebSocketOptions options)
    : impl_(std::make_shared<Impl>(service, analytics, metrics, options)) {}

WebSocketHub::~WebSocketHub() { CloseAll(); }

void WebSocketHub::Start(asio::any_io_executor executor) { impl_->Start(std::move(executor)); }

asio::awaitable<void> WebSocketHub::Serve(beast::tcp_stream stream,
                                          http::request<http::string_body> request) {
  return impl_->Serve(std::move(stream), std::move(request));
}

void WebSocketHub::CloseAll() { impl_->CloseAll(); }

void WebSocketHub::ReleaseIo() { impl_->ReleaseIo(); }

}  // namespace vibekit::server
