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
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/json_parse.h"
#include "common/log.h"
#include "common/steady_ms.h"
#include "common/sys.h"
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
  std::deque<Message> queue;  // bounded by max_queue_messages and max_queue_bytes
  std::size_t queued_bytes = 0;  // of the messages in `queue`
  bool writing = false;
  bool closed = false;
  std::int64_t dropped = 0;   // not yet reported to the client
  std::set<std::string> channels;
  bool full_events = false;  // "events" as every event, not the preview (only with "events")
  std::set<std::string> sessions;
};

// What the subscribers need from the commits, published by the hub's thread to the writer
// thread's listener (under window_mu_) whenever a subscription changes.
struct WindowNeeds {
  bool preview = false;   // a client gets the "events" preview
  bool full = false;      // a client gets every event
  bool sessions = false;  // a client gets the "sessions" channel
  std::shared_ptr<const std::unordered_set<std::string>> watched;  // null: no session watched
};

// The events of one window committed in one minute (of their timestamps).
struct MinuteTally {
  std::int64_t minute = 0;  // ms, a multiple of 60000
  std::int64_t events = 0;
  std::int64_t errors = 0;
  std::int64_t starts = 0;
};

// What the commits of one coalescing window wrote, gathered on the writer thread: only what the
// subscribers of the moment need (WindowNeeds).
struct CommitWindow {
  std::int64_t total = 0;          // events committed while a client got "events"
  std::vector<MinuteTally> tally;  // of those `total` events, ascending minutes
  std::deque<Event> newest;        // the newest preview_events of them, commit order
  std::vector<Event> all;          // while a full subscriber exists: commit order, capped
  std::vector<Event> watched;      // events of watched sessions, commit order, capped
  std::map<std::string, std::int64_t> watched_omitted;  // session -> events beyond the cap
  std::vector<std::string> session_ids;  // changed rows; may repeat across commits

  void Add(const CommitNotice& notice, const WindowNeeds& needs, const WebSocketOptions& o) {
    const std::span<const Event> events = notice.events;
    if (needs.preview || needs.full) {
      total += static_cast<std::int64_t>(events.size());
      for (const Event& e : events) Count(e);
    }
    if (needs.preview && o.preview_events > 0) {
      const std::size_t keep = std::min(events.size(), o.preview_events);
      newest.insert(newest.end(), events.end() - static_cast<std::ptrdiff_t>(keep), events.end());
      while (newest.size() > o.preview_events) newest.pop_front();
    }
    if (needs.full) {
      const std::size_t room = o.max_window_events - std::min(all.size(), o.max_window_events);
      const std::size_t take = std::min(room, events.size());
      all.insert(all.end(), events.begin(), events.begin() + static_cast<std::ptrdiff_t>(take));
    }
    if (needs.watched) {
      for (const Event& e : events) {
        if (needs.watched->count(e.session_id) == 0) continue;
        if (watched.size() < o.max_window_events) {
          watched.push_back(e);
        } else {
          ++watched_omitted[e.session_id];
        }
      }
    }
    if (needs.sessions || needs.watched) {
      session_ids.insert(session_ids.end(), notice.session_ids.begin(), notice.session_ids.end());
    }
  }

 private:
  void Count(const Event& e) {
    const std::int64_t minute = e.timestamp - (((e.timestamp % 60000) + 60000) % 60000);
    // Mostly the last minute (commits come in time order); else insert in place.
    auto it = tally.end();
    while (it != tally.begin() && std::prev(it)->minute >= minute) --it;
    if (it == tally.end() || it->minute != minute) it = tally.insert(it, MinuteTally{minute});
    ++it->events;
    if (e.event_type == EventType::kError) ++it->errors;
    if (e.event_type == EventType::kStart) ++it->starts;
  }
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
    metrics_.SetWebSocketWindowMs(window_ms_);
    thread_ = std::thread([io = ioc_.get()] {
      internal::NameThisThread("vk-websocket");
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
    // One frame per message: Beast's default splits every outgoing message into 4 KB frames,
    // each its own socket write (and read on the client), which multiplied the per-byte cost of
    // a push by hundreds of clients.
    client->ws.auto_fragment(false);
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
    self->PublishNeeds();
  }

  // Writer thread, after each commit: keep in the open window what the subscribers need and,
  // for the window's first commit, post one timer start. Nothing when no client wants commits.
  void Collect(const CommitNotice& notice) {
    if (closing_.load(std::memory_order_relaxed) ||
        interested_.load(std::memory_order_acquire) == 0) {
      return;
    }
    bool first = false;
    {
      std::lock_guard lock(window_mu_);
      window_.Add(notice, needs_, options_);
      first = !window_open_;
      window_open_ = true;
    }
    if (first) asio::post(*ioc_, [self = shared_from_this()] { self->OpenWindow(); });
  }

  // The window's length adapts to the load: a window that had to leave events or session rows
  // out of its preview (the feed is a sample anyway) makes the next one twice as long, up to
  // max_coalesce_ms; a window that showed everything, or a first commit after a quiet spell as
  // long as the current window, starts over at coalesce_ms. Under a heavy ingest every client
  // then gets one preview per max_coalesce_ms, whatever the rate.
  void OpenWindow() {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_window_end_ >= std::chrono::milliseconds(window_ms_)) {
      window_ms_ = options_.coalesce_ms;
    }
    metrics_.SetWebSocketWindowMs(window_ms_);
    window_timer_->expires_after(std::chrono::milliseconds(window_ms_));
    window_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->closing_.load()) return;
      CommitWindow w;
      {
        std::lock_guard lock(self->window_mu_);
        std::swap(w, self->window_);
        self->window_open_ = false;
      }
      const bool cut = self->Deliver(w);
      self->window_ms_ = cut ? std::min(self->window_ms_ * 2,
                                        std::max(self->options_.max_coalesce_ms,
                                                 self->options_.coalesce_ms))
                             : self->options_.coalesce_ms;
      self->last_window_end_ = std::chrono::steady_clock::now();
      self->metrics_.SetWebSocketCpuSeconds(internal::ThreadCpuSeconds());
    });
  }

  static bool WantsPreview(const WsClient& c) {
    return c.channels.count("events") != 0 && !c.full_events;
  }
  static bool WantsFull(const WsClient& c) {
    return c.channels.count("events") != 0 && c.full_events;
  }

  // What the connected clients subscribed to, all together.
  struct Wants {
    bool preview = false;  // the "events" preview
    bool full = false;     // every event
    bool sessions = false;
    bool metrics = false;
    std::set<std::string> watched;  // one-session subscriptions
    int interested = 0;  // clients that want anything derived from commits
  };
  Wants CurrentWants() const {
    Wants w;
    for (const auto& c : clients_) {
      w.preview |= WantsPreview(*c);
      w.full |= WantsFull(*c);
      w.sessions |= c->channels.count("sessions") != 0;
      w.metrics |= c->channels.count("metrics") != 0;
      w.watched.insert(c->sessions.begin(), c->sessions.end());
      if (!c->sessions.empty() || c->channels.count("events") != 0 ||
          c->channels.count("sessions") != 0 || c->channels.count("metrics") != 0) {
        ++w.interested;
      }
    }
    return w;
  }

  // Tells the writer's listener what the clients want from commits now (it keeps only that),
  // and how many clients want anything derived from commits (it does nothing while none does).
  void PublishNeeds() {
    const Wants wants = CurrentWants();
    WindowNeeds needs;
    needs.preview = wants.preview;
    needs.full = wants.full;
    needs.sessions = wants.sessions;
    if (!wants.watched.empty()) {
      needs.watched = std::make_shared<const std::unordered_set<std::string>>(
          wants.watched.begin(), wants.watched.end());
    }
    {
      std::lock_guard lock(window_mu_);
      needs_ = std::move(needs);
    }
    interested_.store(wants.interested, std::memory_order_release);
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
    std::optional<bool> full;
    if (const json::value* f = o.if_contains("full"); f != nullptr) {
      if (!f->is_bool()) {
        Reply(c, {{"type", "error"}, {"error", "full must be true or false"}});
        return;
      }
      full = f->as_bool();
    }
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
    if (c->channels.count("events") == 0) {
      c->full_events = false;  // unsubscribing "events" ends the full feed too
      if (add && full.value_or(false)) {
        Reply(c, {{"type", "error"}, {"error", "\"full\" is a choice of the \"events\" channel: "
                                               "subscribe to it"}});
      }
    } else if (add && full) {
      c->full_events = *full;
    }
    // Before the answer: every commit after "subscribed" reaches this client.
    PublishNeeds();
    json::array channels;
    for (const std::string& ch : c->channels) channels.emplace_back(ch);
    json::array sessions;
    for (const std::string& s : c->sessions) sessions.emplace_back(s);
    Reply(c, {{"type", "subscribed"}, {"channels", std::move(channels)},
              {"sessions", std::move(sessions)},
              {"eventsFeed", c->full_events ? "full" : "preview"}});
  }

  // Whether `messages` more messages of `bytes` in all fit in `c`'s queue. An empty queue takes
  // anything (a message larger than max_queue_bytes is not dropped for ever).
  bool Room(const WsClient& c, std::size_t messages, std::size_t bytes) const {
    return c.queue.empty() || (c.queue.size() + messages <= options_.max_queue_messages &&
                               c.queued_bytes + bytes <= options_.max_queue_bytes);
  }

  // Queues `m` for `c`, or counts it as dropped when the queue is full (messages or bytes).
  void Send(const std::shared_ptr<WsClient>& c, const Message& m) {
    if (c->closed) return;
    if (!Room(*c, 1, m->size())) {
      ++c->dropped;
      metrics_.AddDroppedMessages(1);
      return;
    }
    if (c->dropped > 0 && Room(*c, 2, m->size() + kDroppedNoticeBytes)) {
      Enqueue(*c, DroppedMessage(*c));
    }
    Enqueue(*c, m);
    if (!c->writing) {
      c->writing = true;
      asio::co_spawn(*ioc_, WriteLoop(shared_from_this(), c), asio::detached);
    }
  }

  static void Enqueue(WsClient& c, Message m) {
    c.queued_bytes += m->size();
    c.queue.push_back(std::move(m));
  }

  static constexpr std::size_t kDroppedNoticeBytes = 48;  // {"type":"dropped","count":N}
  static Message DroppedMessage(WsClient& c) {
    Message m = MakeMessage(json::object{{"type", "dropped"}, {"count", c.dropped}});
    c.dropped = 0;
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
      c->queued_bytes -= m->size();
      c->queue.pop_front();
      // Space again: tell the client what it missed.
      if (c->dropped > 0 && self->Room(*c, 1, kDroppedNoticeBytes)) {
        Enqueue(*c, DroppedMessage(*c));
      }
    }
    c->writing = false;
  }

  static json::array TallyJson(const std::vector<MinuteTally>& tally) {
    json::array out;
    for (const MinuteTally& t : tally) {
      out.push_back(json::object{{"minute", t.minute}, {"events", t.events},
                                 {"errors", t.errors}, {"starts", t.starts}});
    }
    return out;
  }

  // "events" messages for `events` (commit order), at most max_events_per_message each; the
  // first carries "omitted" when events were left out and `tally` when given.
  template <typename Events>
  std::vector<Message> EventMessages(const Events& events, const std::string& session,
                                     std::int64_t omitted, const json::array* tally) const {
    std::vector<Message> out;
    const std::size_t per = std::max<std::size_t>(1, options_.max_events_per_message);
    for (std::size_t start = 0; start < events.size() || (start == 0 && omitted > 0);
         start += per) {
      json::array list;
      for (std::size_t i = start; i < std::min(events.size(), start + per); ++i) {
        list.push_back(views::EventToJsonObject(Deref(events[i])));
      }
      json::object o{{"type", "events"}};
      if (!session.empty()) o["sessionId"] = session;
      o["events"] = std::move(list);
      if (start == 0 && omitted > 0) o["omitted"] = omitted;
      if (start == 0 && tally != nullptr) o["tally"] = *tally;
      out.push_back(MakeMessage(o));
    }
    return out;
  }
  static const Event& Deref(const Event& e) { return e; }
  static const Event& Deref(const Event* e) { return *e; }

  // Session rows by id, each read once per window on the hub's thread (null: no such row).
  class SessionRows {
   public:
    explicit SessionRows(const TelemetryService& service) : service_(service) {}
    const json::object* Get(const std::string& id) {
      auto [it, fresh] = rows_.try_emplace(id);
      if (fresh) {
        Result<Session> s = service_.GetSession(id);
        if (s.ok()) it->second = views::SessionToJsonObject(*s);
      }
      return it->second ? &*it->second : nullptr;
    }

   private:
    const TelemetryService& service_;
    std::unordered_map<std::string, std::optional<json::object>> rows_;
  };

  static Message SessionsMessage(const std::vector<const json::object*>& rows,
                                 std::int64_t omitted) {
    json::array list;
    for (const json::object* row : rows) list.push_back(*row);
    json::object o{{"type", "sessions"}, {"sessions", std::move(list)}};
    if (omitted > 0) o["omitted"] = omitted;
    return MakeMessage(o);
  }

  // One window's messages, each rendered once and shared by the clients that get it. Returns
  // whether a preview left something out (events beyond preview_events, changed sessions beyond
  // preview_sessions).
  bool Deliver(const CommitWindow& w) {
    if (clients_.empty()) return false;
    const Wants wants = CurrentWants();
    const std::set<std::string>& watched = wants.watched;
    if (w.total > 0 && (wants.preview || wants.full)) {
      const json::array tally = TallyJson(w.tally);
      // Preview: the newest events (one message unless preview_events is beyond
      // max_events_per_message), how many others, the tally of all.
      std::vector<Message> preview;
      if (wants.preview) {
        preview = EventMessages(w.newest, "",
                                w.total - static_cast<std::int64_t>(w.newest.size()), &tally);
      }
      // Full: every event (those committed before the first full subscription counted omitted).
      std::vector<Message> full;
      if (wants.full) {
        full = EventMessages(w.all, "", w.total - static_cast<std::int64_t>(w.all.size()), &tally);
      }
      for (const auto& c : clients_) {
        if (c->channels.count("events") == 0) continue;
        for (const Message& m : WantsFull(*c) ? full : preview) Send(c, m);
      }
    }
    // The changed sessions, each once, ordered by their last change in the window.
    std::vector<std::string> changed;
    std::unordered_set<std::string> seen;
    for (auto it = w.session_ids.rbegin(); it != w.session_ids.rend(); ++it) {
      if (seen.insert(*it).second) changed.push_back(*it);
    }
    std::reverse(changed.begin(), changed.end());
    SessionRows rows(service_);
    std::unordered_set<std::string> in_channel;  // the rows the "sessions" message carries
    if (wants.sessions && !changed.empty()) {
      const std::size_t keep = std::min(changed.size(), options_.preview_sessions);
      std::vector<const json::object*> list;
      for (std::size_t i = changed.size() - keep; i < changed.size(); ++i) {
        if (const json::object* row = rows.Get(changed[i])) {
          list.push_back(row);
          in_channel.insert(changed[i]);
        }
      }
      if (!list.empty() || keep < changed.size()) {
        const Message m =
            SessionsMessage(list, static_cast<std::int64_t>(changed.size() - keep));
        for (const auto& c : clients_) {
          if (c->channels.count("sessions") != 0) Send(c, m);
        }
      }
    }
    // One session's subscribers get every event of it and its row, whatever their channels
    // (unless the full feed or the "sessions" message already brought them).
    if (!watched.empty()) {
      std::map<std::string, std::vector<const Event*>> mine;
      for (const Event& e : w.watched) {
        if (watched.count(e.session_id) != 0) mine[e.session_id].push_back(&e);
      }
      for (const std::string& id : watched) {
        const auto events = mine.find(id);
        const auto omitted = w.watched_omitted.find(id);
        std::vector<Message> messages;
        if (events != mine.end() || omitted != w.watched_omitted.end()) {
          messages = EventMessages(events != mine.end() ? events->second
                                                        : std::vector<const Event*>{},
                                   id, omitted != w.watched_omitted.end() ? omitted->second : 0,
                                   nullptr);
        }
        Message row;
        if (seen.count(id) != 0) {
          if (const json::object* r = rows.Get(id)) {
            row = SessionsMessage({r}, 0);
          }
        }
        if (messages.empty() && !row) continue;
        for (const auto& c : clients_) {
          if (c->sessions.count(id) == 0) continue;
          if (!WantsFull(*c)) {
            for (const Message& m : messages) Send(c, m);
          }
          if (row && !(c->channels.count("sessions") != 0 && in_channel.count(id) != 0)) {
            Send(c, row);
          }
        }
      }
    }
    if (wants.metrics) ScheduleMetrics();
    const bool events_cut =
        wants.preview && w.total > static_cast<std::int64_t>(w.newest.size());
    return events_cut || (wants.sessions && changed.size() > options_.preview_sessions);
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
  WindowNeeds needs_;         // guarded by window_mu_; written by the hub's thread
  bool window_open_ = false;  // guarded by window_mu_
  // Below: only on the hub's thread.
  std::list<std::shared_ptr<WsClient>> clients_;
  std::optional<asio::steady_timer> metrics_timer_;
  std::optional<asio::steady_timer> health_timer_;
  std::optional<asio::steady_timer> window_timer_;
  bool metrics_pending_ = false;
  std::chrono::steady_clock::time_point last_metrics_{};
  std::int64_t window_ms_ = options_.coalesce_ms;  // the next window's length (OpenWindow)
  std::chrono::steady_clock::time_point last_window_end_{};
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
