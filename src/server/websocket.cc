#include "server/websocket.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include <atomic>
#include <chrono>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
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
using tcp = asio::ip::tcp;

namespace {

using Message = std::shared_ptr<const std::string>;

Message MakeMessage(const json::object& o) {
  return std::make_shared<const std::string>(views::JsonText(o));
}

constexpr int kHubNice = 10;  // Linux: a thread's own nice value

const std::set<std::string>& KnownChannels() {
  static const std::set<std::string> kChannels = {"events", "sessions", "metrics", "alerts",
                                                  "health"};
  return kChannels;
}

// The hub's thread yields the CPU to ingest: copying every push to hundreds of sockets is the
// one cost here that grows with the number of clients, and when the machine has no CPU to spare
// the clients' queues fill and their messages are dropped (counted) rather than the POSTs waiting.
void LowerThreadPriority() {
#ifdef __linux__
  errno = 0;
  const int now = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  if (errno == 0 && now < kHubNice) {
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kHubNice);
  }
#endif
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

// What the commits of one coalescing window wrote, gathered on the writer thread.
struct CommitWindow {
  std::vector<Event> events;             // commit order, ids assigned
  std::vector<std::string> session_ids;  // changed rows; may repeat across commits
  std::int64_t omitted = 0;              // events beyond max_window_events, not kept
};

class WebSocketHub::Impl : public std::enable_shared_from_this<WebSocketHub::Impl> {
 public:
  Impl(TelemetryService& service, AnalyticsService& analytics, ServerMetrics& metrics,
       WebSocketOptions options)
      : service_(service), analytics_(analytics), metrics_(metrics), options_(options) {}

  void Start() {
    ioc_ = std::make_unique<asio::io_context>(1);
    work_.emplace(ioc_->get_executor());
    metrics_timer_.emplace(*ioc_);
    health_timer_.emplace(*ioc_);
    window_timer_.emplace(*ioc_);
    thread_ = std::thread([io = ioc_.get()] {
      LowerThreadPriority();
      io->run();
    });
    std::weak_ptr<Impl> weak = shared_from_this();
    commit_subscription_ = service_.SubscribeCommits([weak](const CommitNotice& notice) {
      if (auto self = weak.lock()) self->Collect(notice);
    });
    alert_subscription_ = analytics_.OnAlert([weak](const AlertEvent& a) {
      if (auto self = weak.lock(); self && !self->closing_.load()) {
        asio::post(*self->ioc_, [self, a] { self->Broadcast("alerts", AlertMessage("alert", a)); });
      }
    });
    resolved_subscription_ = analytics_.OnResolved([weak](const AlertEvent& a) {
      if (auto self = weak.lock(); self && !self->closing_.load()) {
        asio::post(*self->ioc_,
                   [self, a] { self->Broadcast("alerts", AlertMessage("alertResolved", a)); });
      }
    });
    asio::co_spawn(*ioc_, HealthLoop(shared_from_this()), asio::detached);
  }

  void CloseAll() {
    if (closing_.exchange(true)) return;
    service_.UnsubscribeCommits(commit_subscription_);
    analytics_.Unsubscribe(alert_subscription_);
    analytics_.Unsubscribe(resolved_subscription_);
    if (!ioc_) return;  // never started
    auto self = shared_from_this();
    asio::post(*ioc_, [self] {
      if (self->metrics_timer_) self->metrics_timer_->cancel();
      if (self->health_timer_) self->health_timer_->cancel();
      if (self->window_timer_) self->window_timer_->cancel();
      for (const auto& c : self->clients_) {
        c->closed = true;
        beast::get_lowest_layer(c->ws).close();
      }
    });
    work_.reset();  // the thread ends once the clients and timers are gone
  }

  void ReleaseIo() {
    if (thread_.joinable()) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (!ioc_->stopped() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      ioc_->stop();
      thread_.join();
    }
    metrics_timer_.reset();
    health_timer_.reset();
    window_timer_.reset();
    clients_.clear();
    ioc_.reset();  // destroys the handlers still queued (they hold clients and this Impl)
  }

  void Adopt(beast::tcp_stream&& stream, http::request<http::string_body>&& request) {
    boost::system::error_code ec;
    tcp::socket& socket = stream.socket();
    const tcp::endpoint local = socket.local_endpoint(ec);
    if (ec || closing_.load() || !ioc_) {
      socket.close(ec);
      return;
    }
    // The connection was read on the HTTP thread's io_context; the hub serves it on its own.
    const tcp::socket::native_handle_type fd = socket.release(ec);
    if (ec) {
      socket.close(ec);
      return;
    }
    tcp::socket moved(*ioc_);
    moved.assign(local.protocol(), fd, ec);
    if (ec) {
      ::close(fd);
      return;
    }
    asio::co_spawn(*ioc_,
                   Serve(shared_from_this(), beast::tcp_stream(std::move(moved)),
                         std::move(request)),
                   asio::detached);
  }

 private:
  static asio::awaitable<void> Serve(std::shared_ptr<Impl> self, beast::tcp_stream stream,
                                     http::request<http::string_body> request) {
    auto client = std::make_shared<WsClient>(std::move(stream));
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(30);
    timeouts.idle_timeout = std::chrono::seconds(30);  // ping after 15 s idle, close after 30 s
    timeouts.keep_alive_pings = true;
    client->ws.set_option(timeouts);
    client->ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "vibekit"); }));
    client->ws.read_message_max(64 * 1024);
    if (self->closing_.load()) co_return;
    // Listed before the handshake, so CloseAll() also ends connections still shaking hands.
    self->clients_.push_back(client);
    boost::system::error_code ec;
    co_await client->ws.async_accept(request, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && !client->closed) {
      self->metrics_.AddWebSocketClients(1);
      self->Send(client, MakeMessage(json::object{{"type", "hello"},
                                                  {"version", kServerVersion},
                                                  {"serverTime", SystemClock().NowMs()}}));
      beast::flat_buffer buffer;
      while (!client->closed) {
        co_await client->ws.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        const std::string text = beast::buffers_to_string(buffer.data());
        buffer.consume(buffer.size());
        self->HandleClientMessage(client, text);
      }
      self->metrics_.AddWebSocketClients(-1);
    }
    client->closed = true;
    self->clients_.remove(client);
    self->CountInterested();
  }

  // Writer thread, after each commit: copy into the open window and, for the window's first
  // commit, post one timer start. Nothing when no client wants commits.
  void Collect(const CommitNotice& notice) {
    if (closing_.load(std::memory_order_relaxed) ||
        interested_.load(std::memory_order_acquire) == 0) {
      return;
    }
    bool first = false;
    {
      std::lock_guard lock(window_mu_);
      if (window_.events.size() + notice.events.size() <= options_.max_window_events) {
        window_.events.insert(window_.events.end(), notice.events.begin(), notice.events.end());
      } else {
        window_.omitted += static_cast<std::int64_t>(notice.events.size());
      }
      window_.session_ids.insert(window_.session_ids.end(), notice.session_ids.begin(),
                                 notice.session_ids.end());
      first = !window_open_;
      window_open_ = true;
    }
    if (first) asio::post(*ioc_, [self = shared_from_this()] { self->OpenWindow(); });
  }

  void OpenWindow() {
    window_timer_->expires_after(std::chrono::milliseconds(options_.coalesce_ms));
    window_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->closing_.load()) return;
      CommitWindow w;
      {
        std::lock_guard lock(self->window_mu_);
        std::swap(w, self->window_);
        self->window_open_ = false;
      }
      self->Deliver(w);
    });
  }

  // Clients that want anything derived from commits (the writer's listener copies only then).
  void CountInterested() {
    int n = 0;
    for (const auto& c : clients_) {
      if (!c->sessions.empty() || c->channels.count("events") != 0 ||
          c->channels.count("sessions") != 0 || c->channels.count("metrics") != 0) {
        ++n;
      }
    }
    interested_.store(n, std::memory_order_release);
  }

  static json::object AlertMessage(const char* type, const AlertEvent& a) {
    return json::object{{"type", type}, {"alert", views::AlertToJsonObject(a)}};
  }
  void Broadcast(const std::string& channel, const json::object& o) {
    Message m = MakeMessage(o);
    for (const auto& c : clients_) {
      if (c->channels.count(channel) != 0) Send(c, m);
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
    // Before the answer: every commit after "subscribed" reaches this client.
    CountInterested();
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
      c->queue.push_back(DroppedMessage(c));
    }
    c->queue.push_back(m);
    if (!c->writing) {
      c->writing = true;
      asio::co_spawn(*ioc_, WriteLoop(shared_from_this(), c), asio::detached);
    }
  }

  static Message DroppedMessage(const std::shared_ptr<WsClient>& c) {
    Message m = MakeMessage(json::object{{"type", "dropped"}, {"count", c->dropped}});
    c->dropped = 0;
    return m;
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
      if (c->dropped > 0 && c->queue.size() < self->options_.max_queue_messages) {
        c->queue.push_back(DroppedMessage(c));
      }
    }
    c->writing = false;
  }

  // "events" messages for `events` (commit order), at most max_events_per_message each; the
  // first carries "omitted" when the window had to leave events out.
  std::vector<Message> EventMessages(const std::vector<const Event*>& events,
                                     const std::string& session, std::int64_t omitted) const {
    std::vector<Message> out;
    const std::size_t per = std::max<std::size_t>(1, options_.max_events_per_message);
    for (std::size_t start = 0; start < events.size() || (start == 0 && omitted > 0);
         start += per) {
      json::array list;
      for (std::size_t i = start; i < std::min(events.size(), start + per); ++i) {
        list.push_back(views::EventToJsonObject(*events[i]));
      }
      json::object o{{"type", "events"}};
      if (!session.empty()) o["sessionId"] = session;
      o["events"] = std::move(list);
      if (start == 0 && omitted > 0) o["omitted"] = omitted;
      out.push_back(MakeMessage(o));
    }
    return out;
  }

  Message SessionsMessage(const std::vector<std::string>& ids) {
    json::array rows;
    for (const std::string& id : ids) {
      Result<Session> s = service_.GetSession(id);
      if (s.ok()) rows.push_back(views::SessionToJsonObject(*s));
    }
    if (rows.empty()) return nullptr;
    return MakeMessage(json::object{{"type", "sessions"}, {"sessions", std::move(rows)}});
  }

  // One window's messages, each rendered once and shared by the clients that get it.
  void Deliver(const CommitWindow& w) {
    if (clients_.empty()) return;
    bool want_events = false, want_sessions = false, want_metrics = false;
    std::set<std::string> watched;
    for (const auto& c : clients_) {
      want_events |= c->channels.count("events") != 0;
      want_sessions |= c->channels.count("sessions") != 0;
      want_metrics |= c->channels.count("metrics") != 0;
      watched.insert(c->sessions.begin(), c->sessions.end());
    }
    if (want_events && (!w.events.empty() || w.omitted > 0)) {
      std::vector<const Event*> all;
      all.reserve(w.events.size());
      for (const Event& e : w.events) all.push_back(&e);
      const std::vector<Message> messages = EventMessages(all, "", w.omitted);
      for (const auto& c : clients_) {
        if (c->channels.count("events") == 0) continue;
        for (const Message& m : messages) Send(c, m);
      }
    }
    // One session's subscribers get its events and row, whatever their channels.
    if (!watched.empty()) {
      std::map<std::string, std::vector<const Event*>> mine;
      for (const Event& e : w.events) {
        if (watched.count(e.session_id) != 0) mine[e.session_id].push_back(&e);
      }
      for (const auto& [id, list] : mine) {
        const std::vector<Message> messages = EventMessages(list, id, 0);
        const Message row = SessionsMessage({id});
        for (const auto& c : clients_) {
          if (c->sessions.count(id) == 0) continue;
          if (c->channels.count("events") == 0) {
            for (const Message& m : messages) Send(c, m);
          }
          if (row && c->channels.count("sessions") == 0) Send(c, row);
        }
      }
    }
    if (want_sessions && !w.session_ids.empty()) {
      std::vector<std::string> ids;
      std::unordered_set<std::string> seen;
      for (const std::string& id : w.session_ids) {
        if (seen.insert(id).second) ids.push_back(id);
      }
      if (const Message m = SessionsMessage(ids)) {
        for (const auto& c : clients_) {
          if (c->channels.count("sessions") != 0) Send(c, m);
        }
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
      self->Broadcast("metrics", json::object{{"type", "metrics"}, {"dashboard", std::move(*d)}});
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
      self->Broadcast("health", json::object{{"type", "health"}, {"health", std::move(health)}});
    }
  }

  TelemetryService& service_;
  AnalyticsService& analytics_;
  ServerMetrics& metrics_;
  WebSocketOptions options_;
  std::unique_ptr<asio::io_context> ioc_;  // the hub's own; run by thread_
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::atomic<bool> closing_{false};
  std::atomic<int> interested_{0};  // clients subscribed to anything commits produce
  std::int64_t commit_subscription_ = 0;
  std::int64_t alert_subscription_ = 0;
  std::int64_t resolved_subscription_ = 0;
  // The open window: filled by the writer thread, taken by the hub's thread.
  std::mutex window_mu_;
  CommitWindow window_;       // guarded by window_mu_
  bool window_open_ = false;  // guarded by window_mu_
  // Below: only on the hub's thread.
  std::list<std::shared_ptr<WsClient>> clients_;
  std::optional<asio::steady_timer> metrics_timer_;
  std::optional<asio::steady_timer> health_timer_;
  std::optional<asio::steady_timer> window_timer_;
  bool metrics_pending_ = false;
  std::chrono::steady_clock::time_point last_metrics_{};
};

WebSocketHub::WebSocketHub(TelemetryService& service, AnalyticsService& analytics,
                           ServerMetrics& metrics, WebSocketOptions options)
    : impl_(std::make_shared<Impl>(service, analytics, metrics, options)) {}

WebSocketHub::~WebSocketHub() {
  CloseAll();
  ReleaseIo();
}

void WebSocketHub::Start() { impl_->Start(); }

void WebSocketHub::Adopt(beast::tcp_stream&& stream, http::request<http::string_body>&& request) {
  impl_->Adopt(std::move(stream), std::move(request));
}

void WebSocketHub::CloseAll() { impl_->CloseAll(); }

void WebSocketHub::ReleaseIo() { impl_->ReleaseIo(); }

}  // namespace vibekit::server
