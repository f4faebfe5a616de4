// /ws over real loopback with a Beast WebSocket client: hello, subscriptions, an event POSTed
// appears on the socket after its commit, the "events" preview (newest events, omitted, exact
// tally) and the opt-in full feed, per-session subscription, the "sessions" cap, refusals (token,
// origin), and clients that never read get dropped-message accounting (queues bounded by messages
// and bytes) while ingest goes on.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/server_test_util.h"

namespace vibekit::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;

constexpr std::int64_t kT0 = 1764000000000;

class WsClient {
 public:
  // Connects to `url` ("http://127.0.0.1:port") at /ws<suffix>; throws on a refused handshake
  // (the status is in the exception's response when it is a websocket::error).
  // `receive_buffer` > 0: the socket's receive buffer in bytes (small: the server's writes to a
  // client that does not read block soon).
  WsClient(const std::string& url, const std::string& suffix = "",
           const std::string& origin = "", const std::string& bearer = "",
           int receive_buffer = 0)
      : ws_(ioc_) {
    const std::string hostport = url.substr(std::string("http://").size());
    const std::size_t colon = hostport.rfind(':');
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(hostport.substr(0, colon), hostport.substr(colon + 1));
    if (receive_buffer > 0) {
      ws_.next_layer().open(results.begin()->endpoint().protocol());
      ws_.next_layer().set_option(asio::socket_base::receive_buffer_size(receive_buffer));
      ws_.next_layer().connect(results.begin()->endpoint());
    } else {
      asio::connect(ws_.next_layer(), results.begin(), results.end());
    }
    ws_.set_option(websocket::stream_base::decorator([origin, bearer](websocket::request_type& r) {
      if (!origin.empty()) r.set(beast::http::field::origin, origin);
      if (!bearer.empty()) r.set(beast::http::field::authorization, "Bearer " + bearer);
    }));
    ws_.handshake(res_, hostport, "/ws" + suffix);
  }
  void Send(const std::string& text) { ws_.write(asio::buffer(text)); }
  // Sends a (un)subscribe message and returns the server's "subscribed" answer.
  json::object Subscribe(const std::string& message) {
    Send(message);
    return ReadType("subscribed");
  }
  json::object Read() {
    beast::flat_buffer buffer;
    ws_.read(buffer);
    return json::parse(beast::buffers_to_string(buffer.data())).as_object();
  }
  // Reads until a message of `type` arrives (skipping others), with a deadline that bounds every
  // read (an asynchronous read run for the time left, cancelled at the deadline), so a message
  // that never comes fails the test with an empty object instead of hanging it.
  json::object ReadType(const std::string& type, int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      json::object o = ReadBefore(deadline);
      if (o.empty() || o["type"].as_string() == type) return o;
    }
  }
  // The next message of any type, or an empty object when none comes before `deadline`.
  json::object ReadBefore(std::chrono::steady_clock::time_point deadline) {
    beast::get_lowest_layer(ws_).non_blocking(false);
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return {};
    beast::flat_buffer buffer;
    bool done = false;
    beast::error_code error;
    ws_.async_read(buffer, [&](beast::error_code ec, std::size_t) {
      done = true;
      error = ec;
    });
    ioc_.restart();
    ioc_.run_for(left);
    if (!done) {
      ws_.next_layer().cancel();
      ioc_.restart();
      ioc_.run();  // the cancelled read's handler
      return {};
    }
    if (error) return {};
    return json::parse(beast::buffers_to_string(buffer.data())).as_object();
  }
  tcp::socket& socket() { return ws_.next_layer(); }

 private:
  asio::io_context ioc_;
  websocket::stream<tcp::socket> ws_;
  websocket::response_type res_;
};

// Server options for the push tests: the coalescing window and the preview caps.
server::ServerOptions PushOptions(int coalesce_ms, std::size_t preview_events = 50,
                                  std::size_t preview_sessions = 100) {
  server::ServerOptions o;
  o.ws_coalesce_ms = coalesce_ms;
  o.ws_preview_events = preview_events;
  o.ws_preview_sessions = preview_sessions;
  return o;
}

// A JSON array of `n` items, item(i) each.
std::string JsonArray(int n, const std::function<std::string(int)>& item) {
  std::string out = "[";
  for (int i = 0; i < n; ++i) out += (i ? "," : "") + item(i);
  return out + "]";
}

// The HTTP status of a refused upgrade.
int RefusedStatus(const std::string& url, const std::string& suffix, const std::string& origin,
                  const std::string& bearer = "") {
  try {
    WsClient c(url, suffix, origin, bearer);
    return 101;
  } catch (const beast::system_error& e) {
    return e.code() == websocket::error::upgrade_declined ? -1 : -2;
  }
}

// What the pushes carry comes from the store (committed events with their ids, changed
// sessions): on both backends.
class WebSocketTest : public BackendServerFixture {};

INSTANTIATE_TEST_SUITE_P(Backends, WebSocketTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

// The transport itself (protocol errors, token and origin, slow clients, the hub's thread): the
// database is incidental, a SQLite file.
class WebSocketTransportTest : public ServerFixture {};

TEST_P(WebSocketTest, HelloPingAndCommittedEventsArePushed) {
  StartServer();
  WsClient c(url_);
  json::object hello = c.Read();
  EXPECT_EQ(hello["type"].as_string(), "hello");
  EXPECT_EQ(hello["version"].as_string(), "0.1.0");
  c.Send(R"({"type":"ping"})");
  EXPECT_EQ(c.ReadType("pong")["type"].as_string(), "pong");
  c.Send(R"({"type":"subscribe","channels":["events","sessions"]})");
  json::object sub = c.ReadType("subscribed");
  EXPECT_EQ(sub["channels"].as_array().size(), 2u);
  EXPECT_EQ(sub["eventsFeed"].as_string(), "preview");
  ASSERT_EQ(HttpPost(url_ + "/api/events", "[" + EventJson("live", "start", kT0) + "]").status,
            200);
  json::object ev = c.ReadType("events");
  ASSERT_EQ(ev["events"].as_array().size(), 1u);
  EXPECT_FALSE(ev.contains("omitted"));
  EXPECT_EQ(json::serialize(ev["tally"]),
            R"([{"minute":)" + std::to_string(kT0) + R"(,"events":1,"errors":0,"starts":1}])");
  const json::object& e = ev["events"].as_array()[0].as_object();
  EXPECT_EQ(e.at("sessionId").as_string(), "live");
  EXPECT_GT(e.at("id").as_int64(), 0);  // the committed row's id
  json::object ss = c.ReadType("sessions");
  EXPECT_EQ(ss["sessions"].as_array()[0].as_object().at("status").as_string(), "active");
}

TEST_P(WebSocketTest, SessionSubscriptionGetsOnlyThatSession) {
  StartServer();
  WsClient c(url_);
  c.Read();
  c.Send(R"({"type":"subscribe","sessionId":"mine"})");
  c.ReadType("subscribed");
  ASSERT_EQ(HttpPost(url_ + "/api/events", "[" + EventJson("other", "start", kT0) + "]").status,
            200);
  ASSERT_EQ(HttpPost(url_ + "/api/events", "[" + EventJson("mine", "start", kT0) + "]").status,
            200);
  json::object ev = c.ReadType("events");
  ASSERT_EQ(ev["events"].as_array().size(), 1u);
  EXPECT_EQ(ev["events"].as_array()[0].as_object().at("sessionId").as_string(), "mine");
}

TEST_F(WebSocketTransportTest, BadMessagesGetErrorsNotDisconnects) {
  StartServer();
  WsClient c(url_);
  c.Read();
  c.Send("not json");
  EXPECT_EQ(c.ReadType("error")["type"].as_string(), "error");
  c.Send(R"({"type":"subscribe","channels":["nope"]})");
  EXPECT_NE(std::string(c.ReadType("error")["error"].as_string()).find("nope"), std::string::npos);
  c.Send(R"({"type":"ping"})");
  EXPECT_EQ(c.ReadType("pong")["type"].as_string(), "pong");
}

TEST_F(WebSocketTransportTest, TokenAndOriginAreChecked) {
  server::ServerOptions options;
  options.token = "tok";
  StartServer(options);
  EXPECT_EQ(RefusedStatus(url_, "", ""), -1);            // missing token
  EXPECT_EQ(RefusedStatus(url_, "?token=bad", ""), -1);  // wrong token
  EXPECT_EQ(RefusedStatus(url_, "?token=tok", ""), 101);
  EXPECT_EQ(RefusedStatus(url_, "", "", "tok"), 101);
  const std::string host = url_.substr(std::string("http://").size());
  EXPECT_EQ(RefusedStatus(url_, "?token=tok", "http://" + host), 101);
  EXPECT_EQ(RefusedStatus(url_, "?token=tok", "http://evil.example"), -1);
}

TEST_F(WebSocketTransportTest, ClientThatNeverReadsIsDroppedNotWaitedFor) {
  server::ServerOptions options;
  options.ws_max_queue_messages = 16;
  options.ws_coalesce_ms = 10;  // many pushes
  // Small messages (one POST each at most), so that even a hub far behind ingest (as under
  // ASan, where windows merge) pushes far more messages than the queue and socket buffers hold.
  options.ws_max_events_per_message = 10;
  StartServer(options);
  WsClient slow(url_, "", "", "", 4096);
  slow.Read();
  slow.Send(R"({"type":"subscribe","channels":["events"],"full":true})");
  slow.ReadType("subscribed");
  // Big events and many commits: far more than the client's queue and the sockets' buffers
  // (a few MB on loopback) hold.
  const std::string text(16000, 'x');
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 300; ++i) {
    const std::string body = JsonArray(10, [&](int k) {
      return EventJson("flood" + std::to_string(i), "stream", kT0 + i * 10 + k,
                       R"(,"streamData":")" + text + "\"");
    });
    ASSERT_EQ(HttpPost(url_ + "/api/events", body).status, 200);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 60);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM telemetry_events"), 3000);
  EXPECT_TRUE(WaitFor([&] { return server_->metrics().dropped_messages() > 0; }, 5000));
  // Reading now, the client is told how many messages it missed.
  json::object dropped = slow.ReadType("dropped", 20000);
  ASSERT_FALSE(dropped.empty());
  EXPECT_GT(dropped["count"].as_int64(), 0);
  HttpResult m = HttpGet(url_ + "/metrics");
  EXPECT_EQ(m.body.find("vibekit_websocket_dropped_messages_total 0\n"), std::string::npos);
  EXPECT_NE(m.body.find("vibekit_websocket_clients 1\n"), std::string::npos);
}

// Commits arriving within one coalescing window go out together: a client reading everything
// gets each committed event exactly once, in commit order (ids contiguous from the first), in
// far fewer messages than there were commits; a commit larger than one message is split, not cut.
TEST_P(WebSocketTest, CoalescedPushesDeliverEveryCommittedEventOnceInOrder) {
  server::ServerOptions options;
  options.ws_coalesce_ms = 300;
  StartServer(options);
  WsClient c(url_);
  c.Read();
  c.Send(R"({"type":"subscribe","channels":["events"],"full":true})");
  EXPECT_EQ(c.ReadType("subscribed")["eventsFeed"].as_string(), "full");
  constexpr int kThreads = 4, kPosts = 40, kPerPost = 5;
  std::atomic<int> failed{0};
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&, t] {
      for (int p = 0; p < kPosts; ++p) {
        const std::string body = JsonArray(kPerPost, [&](int k) {
          return EventJson("co" + std::to_string(t) + "-" + std::to_string(p),
                           k == 0 ? "start" : "stream", kT0 + p * 10 + k,
                           k == 0 ? "" : R"(,"streamData":"chunk")");
        });
        if (HttpPost(url_ + "/api/events", body).status != 200) failed.fetch_add(1);
      }
    });
  }
  for (std::thread& t : posters) t.join();
  ASSERT_EQ(failed.load(), 0);
  // One commit of 2500 events: three messages of at most 1000.
  const std::string big = JsonArray(2500, [](int k) {
    return EventJson("big", k == 0 ? "start" : "stream", kT0 + k,
                     k == 0 ? "" : R"(,"streamData":"b")");
  });
  ASSERT_EQ(HttpPost(url_ + "/api/events", big).status, 200);
  const int total = kThreads * kPosts * kPerPost + 2500;
  std::vector<std::int64_t> ids;
  int messages = 0;
  std::int64_t tallied = 0;  // each window's first message tallies all of its events
  std::size_t largest = 0;
  while (static_cast<int>(ids.size()) < total) {
    json::object m = c.ReadType("events", 20000);
    ASSERT_FALSE(m.empty()) << "got " << ids.size() << " of " << total << " events";
    EXPECT_FALSE(m.contains("omitted"));
    ++messages;
    largest = std::max(largest, m["events"].as_array().size());
    for (const json::value& e : m["events"].as_array()) ids.push_back(e.at("id").as_int64());
    if (m.contains("tally")) {
      for (const json::value& t : m["tally"].as_array()) tallied += t.at("events").as_int64();
    }
  }
  ASSERT_EQ(static_cast<int>(ids.size()), total);
  EXPECT_EQ(tallied, total);
  EXPECT_EQ(ids.front(), QueryInt(db(), "SELECT min(id) FROM telemetry_events"));
  for (std::size_t i = 1; i < ids.size(); ++i) {
    ASSERT_EQ(ids[i], ids[i - 1] + 1) << "at " << i;
  }
  EXPECT_EQ(largest, 1000u);
  // 161 POSTs (at least one commit each, unless the writer grouped them) in 300 ms windows.
  EXPECT_LT(messages, kThreads * kPosts / 2) << messages << " messages";
  // Nothing more: every event came once.
  c.Send(R"({"type":"ping"})");
  json::object next = c.Read();
  while (next["type"].as_string() == "sessions" || next["type"].as_string() == "metrics") {
    next = c.Read();
  }
  EXPECT_EQ(next["type"].as_string(), "pong");
}

// Many subscribers that never read (tiny receive buffers, small queues): every POST is still
// answered after its commit in bounded time, their messages are counted as dropped, and the hub
// still serves a new client.
TEST_F(WebSocketTransportTest, ManyClientsThatNeverReadDoNotSlowIngest) {
  server::ServerOptions options;
  options.ws_max_queue_messages = 4;
  options.ws_coalesce_ms = 50;
  StartServer(options);
  std::vector<std::unique_ptr<WsClient>> slow;
  for (int i = 0; i < 32; ++i) {
    slow.push_back(std::make_unique<WsClient>(url_, "", "", "", 4096));
    slow.back()->Read();
    // Every event (12 MB each): more than the sockets' buffers hold whatever the timing, so
    // the queues fill and drop.
    slow.back()->Subscribe(
        R"({"type":"subscribe","channels":["events","sessions","metrics"],"full":true})");
  }
  const std::string text(8000, 'y');
  double slowest_ms = 0;
  for (int i = 0; i < 150; ++i) {
    const std::string body = JsonArray(10, [&](int k) {
      return EventJson("slow" + std::to_string(i), "stream", kT0 + i * 10 + k,
                       R"(,"streamData":")" + text + "\"");
    });
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(HttpPost(url_ + "/api/events", body).status, 200);
    slowest_ms = std::max(slowest_ms, std::chrono::duration<double, std::milli>(
                                          std::chrono::steady_clock::now() - t0)
                                          .count());
  }
  EXPECT_LT(slowest_ms, 5000);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM telemetry_events"), 1500);
  // The hub's thread runs at a lower priority: on a loaded machine it may take a while.
  EXPECT_TRUE(WaitFor([&] { return server_->metrics().dropped_messages() > 0; }, 20000));
  WsClient fresh(url_);
  EXPECT_EQ(fresh.Read()["type"].as_string(), "hello");
  fresh.Send(R"({"type":"ping"})");
  EXPECT_EQ(fresh.ReadType("pong")["type"].as_string(), "pong");
  HttpResult m = HttpGet(url_ + "/metrics");
  EXPECT_NE(m.body.find("vibekit_websocket_clients 33\n"), std::string::npos);
}

// One unlabelled sample of the server's GET /metrics now (-1 when absent).
double MetricNow(const std::string& url, const std::string& name) {
  return MetricSample(HttpGet(url + "/metrics").body, name);
}

// While every window has to cut its preview, each window is twice as long as the last (up to
// ws_max_coalesce_ms), so a heavy ingest sends a client one preview per max window whatever the
// rate; after a quiet spell the first commit goes out after the short window again.
TEST_F(WebSocketTransportTest, WindowsGrowWhileThePreviewIsCutAndShortenWhenQuiet) {
  server::ServerOptions options = PushOptions(50, 5);
  options.ws_max_coalesce_ms = 2000;
  StartServer(options);
  EXPECT_EQ(MetricNow(url_, "vibekit_websocket_window_ms"), 50);
  WsClient c(url_);
  c.Read();
  c.Subscribe(R"({"type":"subscribe","channels":["events"]})");
  // 4 s of POSTs of 10 events: every window leaves events out of its 5-event preview.
  std::atomic<bool> stop{false};
  std::atomic<int> failed{0};
  std::thread poster([&] {
    for (int i = 0; !stop.load(); ++i) {
      const std::string body = JsonArray(10, [&](int k) {
        return EventJson("grow" + std::to_string(i), k == 0 ? "start" : "stream",
                         kT0 + i * 10 + k, k == 0 ? "" : R"(,"streamData":"s")");
      });
      if (HttpPost(url_ + "/api/events", body).status != 200) failed.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  int messages = 0;
  std::int64_t omitted = 0;
  while (true) {  // (the last read ends at the deadline, which leaves `c` unusable)
    json::object m = c.ReadBefore(end);
    if (m.empty()) break;
    if (m["type"].as_string() != "events") continue;
    ++messages;
    if (m.contains("omitted")) omitted += m["omitted"].as_int64();
  }
  // Still under load: the window has grown (50, 100, 200, ... 2000 ms).
  EXPECT_GE(MetricNow(url_, "vibekit_websocket_window_ms"), 800);
  stop.store(true);
  poster.join();
  ASSERT_EQ(failed.load(), 0);
  EXPECT_GT(omitted, 0);
  // 50 ms windows throughout would have sent ~80 messages in 4 s; growing ones send ~7.
  EXPECT_GE(messages, 3);
  EXPECT_LE(messages, 15) << messages << " messages";
  EXPECT_GT(MetricNow(url_, "vibekit_websocket_cpu_seconds_total"), 0);
  // Quiet for longer than the last window (a new client: `c`'s read ended at a deadline).
  WsClient q(url_);
  q.Read();
  q.Subscribe(R"({"type":"subscribe","channels":["events"]})");
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(HttpPost(url_ + "/api/events", "[" + EventJson("quiet", "start", kT0) + "]").status,
            200);
  json::object m;
  do {  // (skipping the burst's last window, sent while `q` waited)
    m = q.ReadType("events", 5000);
  } while (!m.empty() &&
           m["events"].as_array().back().as_object().at("sessionId").as_string() != "quiet");
  const double waited_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(m.empty());
  EXPECT_LT(waited_ms, 1000) << "the quiet spell's first window was not the short one";
}

// Reads "events" messages without a sessionId until their tallies count `total` events (a
// window's first message tallies all of its events); empty when one does not come in time.
std::vector<json::object> ReadTalliedEvents(WsClient& c, std::int64_t total) {
  std::vector<json::object> out;
  std::int64_t tallied = 0;
  while (tallied < total) {
    json::object m = c.ReadType("events", 20000);
    if (m.empty()) return {};
    if (m.contains("sessionId")) continue;
    if (m.contains("tally")) {
      for (const json::value& t : m["tally"].as_array()) tallied += t.at("events").as_int64();
    }
    out.push_back(std::move(m));
  }
  return out;
}

// The "events" channel by default: per window the newest preview_events events (commit order),
// "omitted" = the others, and a tally per minute that counts every event of the window exactly.
TEST_P(WebSocketTest, EventsPreviewSendsTheNewestEventsWithOmittedAndAnExactTally) {
  StartServer(PushOptions(300, 5));
  WsClient c(url_);
  c.Read();
  EXPECT_EQ(c.Subscribe(R"({"type":"subscribe","channels":["events"]})")["eventsFeed"], "preview");
  // 40 events over three minutes, 4.5 s apart: 4 sessions (start, 7 streams, an error, end),
  // one POST (commit) each, so that a window holds several commits.
  struct Counts {
    std::int64_t events = 0, errors = 0, starts = 0;
  };
  std::map<std::int64_t, Counts> want;
  int n = 0;
  for (int s = 0; s < 4; ++s) {
    std::string body = "[";
    for (int k = 0; k < 10; ++k) {
      const std::int64_t ts = kT0 + n * 4500;
      const std::string type = k == 0 ? "start" : k == 8 ? "error" : k == 9 ? "end" : "stream";
      const std::string extra = type == "stream"  ? R"(,"streamData":"s")"
                                : type == "error" ? R"(,"error":{"message":"boom"})"
                                                  : "";
      body += std::string(k ? "," : "") + EventJson("pv" + std::to_string(s), type, ts, extra);
      Counts& w = want[ts - ts % 60000];
      ++w.events;
      w.errors += type == "error";
      w.starts += type == "start";
      ++n;
    }
    ASSERT_EQ(HttpPost(url_ + "/api/events", body + "]").status, 200);
  }
  ASSERT_EQ(want.size(), 3u);
  const std::vector<json::object> messages = ReadTalliedEvents(c, n);
  ASSERT_FALSE(messages.empty());
  std::map<std::int64_t, Counts> got;
  std::int64_t shown = 0, omitted = 0;
  for (json::object m : messages) {
    EXPECT_LE(m["events"].as_array().size(), 5u);
    shown += static_cast<std::int64_t>(m["events"].as_array().size());
    if (m.contains("omitted")) omitted += m["omitted"].as_int64();
    std::int64_t last_minute = 0;
    for (const json::value& t : m["tally"].as_array()) {
      const json::object& o = t.as_object();
      EXPECT_GT(o.at("minute").as_int64(), last_minute);  // ascending
      last_minute = o.at("minute").as_int64();
      Counts& g = got[last_minute];
      g.events += o.at("events").as_int64();
      g.errors += o.at("errors").as_int64();
      g.starts += o.at("starts").as_int64();
    }
  }
  EXPECT_EQ(shown + omitted, n);
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [minute, w] : want) {
    EXPECT_EQ(got[minute].events, w.events) << minute;
    EXPECT_EQ(got[minute].errors, w.errors) << minute;
    EXPECT_EQ(got[minute].starts, w.starts) << minute;
  }
  // The last window's preview: the newest five, in commit order.
  json::array last = messages.back().at("events").as_array();
  ASSERT_EQ(last.size(), 5u);
  const std::int64_t max_id = QueryInt(db(), "SELECT max(id) FROM telemetry_events");
  for (std::size_t i = 0; i < last.size(); ++i) {
    EXPECT_EQ(last[i].at("id").as_int64(), max_id - 4 + static_cast<std::int64_t>(i));
  }
}

// Commits smaller than the preview: its newest events span several of them (the window keeps
// the newest events of each commit and drops the oldest beyond the preview).
TEST_P(WebSocketTest, EventsPreviewSpansCommitsSmallerThanIt) {
  StartServer(PushOptions(500, 5));
  WsClient c(url_);
  c.Read();
  c.Subscribe(R"({"type":"subscribe","channels":["events"]})");
  constexpr int kPosts = 4, kPerPost = 3;  // sequential POSTs: one commit each
  for (int p = 0; p < kPosts; ++p) {
    const std::string body = JsonArray(kPerPost, [&](int k) {
      return EventJson("span", p == 0 && k == 0 ? "start" : "stream", kT0 + p * 10 + k,
                       p == 0 && k == 0 ? "" : R"(,"streamData":"x")");
    });
    ASSERT_EQ(HttpPost(url_ + "/api/events", body).status, 200);
  }
  const std::vector<json::object> messages = ReadTalliedEvents(c, kPosts * kPerPost);
  ASSERT_FALSE(messages.empty());
  std::int64_t shown = 0, omitted = 0;
  for (json::object m : messages) {
    shown += static_cast<std::int64_t>(m["events"].as_array().size());
    if (m.contains("omitted")) omitted += m["omitted"].as_int64();
  }
  EXPECT_EQ(shown + omitted, kPosts * kPerPost);
  // The last window's preview: its newest events, consecutive ids ending with the last one.
  const json::array last = messages.back().at("events").as_array();
  ASSERT_FALSE(last.empty());
  EXPECT_LE(last.size(), 5u);
  if (messages.size() == 1) {
    EXPECT_EQ(last.size(), 5u);  // one window: 5 of 12, over 2 commits
  }
  const std::int64_t max_id = QueryInt(db(), "SELECT max(id) FROM telemetry_events");
  for (std::size_t i = 0; i < last.size(); ++i) {
    EXPECT_EQ(last[i].at("id").as_int64(),
              max_id - static_cast<std::int64_t>(last.size() - 1 - i));
  }
}

// "full" is opt-in, only for "events", and ends with it; bad values are refused.
TEST_F(WebSocketTransportTest, FullEventsFeedIsOptInAndEndsWithTheChannel) {
  StartServer();
  WsClient c(url_);
  c.Read();
  c.Send(R"({"type":"subscribe","channels":["sessions"],"full":true})");
  EXPECT_NE(std::string(c.ReadType("error")["error"].as_string()).find("events"),
            std::string::npos);
  EXPECT_EQ(c.ReadType("subscribed")["eventsFeed"].as_string(), "preview");
  c.Send(R"({"type":"subscribe","channels":["events"],"full":"yes"})");
  EXPECT_EQ(c.ReadType("error")["error"].as_string(), "full must be true or false");
  EXPECT_EQ(c.Subscribe(R"({"type":"subscribe","channels":["events"],"full":true})")["eventsFeed"],
            "full");
  EXPECT_EQ(c.Subscribe(R"({"type":"unsubscribe","channels":["events"]})")["eventsFeed"],
            "preview");
  EXPECT_EQ(c.Subscribe(R"({"type":"subscribe","channels":["events"]})")["eventsFeed"], "preview");
  // Already on "events": "full" alone switches the feed.
  EXPECT_EQ(c.Subscribe(R"({"type":"subscribe","full":true})")["eventsFeed"], "full");
  EXPECT_EQ(c.Subscribe(R"({"type":"subscribe","full":false})")["eventsFeed"], "preview");
}

// A one-session subscription gets every event of its session (not the preview's few), in commit
// order, and its row, even on a client that also reads the preview.
TEST_P(WebSocketTest, SessionSubscriptionGetsEveryEventOfItsSessionBeyondThePreview) {
  StartServer(PushOptions(300, 2));
  WsClient c(url_);
  c.Read();
  c.Subscribe(R"({"type":"subscribe","channels":["events"],"sessionId":"whole"})");
  const std::string body = JsonArray(30, [](int k) {
    return EventJson(k % 3 == 0 ? "other" : "whole", k < 2 ? "start" : "stream", kT0 + k,
                     k < 2 ? "" : R"(,"streamData":"w)" + std::to_string(k) + "\"");
  });
  ASSERT_EQ(HttpPost(url_ + "/api/events", body).status, 200);
  const auto ids = QueryInt(db(), "SELECT count(*) FROM telemetry_events WHERE session_id='whole'");
  ASSERT_EQ(ids, 20);
  std::vector<std::int64_t> got;
  bool row = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (got.size() < 20 || !row) {
    json::object m = c.ReadBefore(deadline);
    ASSERT_FALSE(m.empty()) << got.size() << " of 20 events, row " << row;
    if (m["type"] == "events" && m.contains("sessionId")) {
      EXPECT_EQ(m["sessionId"].as_string(), "whole");
      for (const json::value& e : m["events"].as_array()) {
        EXPECT_EQ(e.at("sessionId").as_string(), "whole");
        got.push_back(e.at("id").as_int64());
      }
    } else if (m["type"] == "events") {
      EXPECT_LE(m["events"].as_array().size(), 2u);  // the preview
    } else if (m["type"] == "sessions") {
      ASSERT_EQ(m["sessions"].as_array().size(), 1u);
      EXPECT_EQ(m["sessions"].as_array()[0].at("id").as_string(), "whole");
      row = true;
    }
  }
  ASSERT_EQ(got.size(), 20u);
  EXPECT_TRUE(row);
  EXPECT_EQ(got.front(),
            QueryInt(db(), "SELECT min(id) FROM telemetry_events WHERE session_id='whole'"));
  for (std::size_t i = 1; i < got.size(); ++i) EXPECT_GT(got[i], got[i - 1]);
}

// The "sessions" channel: per window the newest preview_sessions changed rows (ordered by their
// last change), "omitted" = how many others changed.
TEST_P(WebSocketTest, SessionsChannelSendsTheNewestChangedSessions) {
  StartServer(PushOptions(1000, 50, 3));
  WsClient c(url_);
  c.Read();
  c.Subscribe(R"({"type":"subscribe","channels":["sessions"]})");
  for (int s = 0; s < 10; ++s) {  // one commit each, in this order
    ASSERT_EQ(HttpPost(url_ + "/api/events",
                       "[" + EventJson("cap" + std::to_string(s), "start", kT0 + s) + "]")
                  .status,
              200);
  }
  std::int64_t accounted = 0;
  json::array last;
  while (accounted < 10) {
    json::object m = c.ReadType("sessions", 20000);
    ASSERT_FALSE(m.empty()) << accounted << " of 10 sessions accounted for";
    last = m["sessions"].as_array();
    EXPECT_LE(last.size(), 3u);
    accounted += static_cast<std::int64_t>(last.size());
    if (m.contains("omitted")) accounted += m["omitted"].as_int64();
  }
  EXPECT_EQ(accounted, 10);
  // The last window's rows are the newest sessions, the last one last.
  ASSERT_FALSE(last.empty());
  for (std::size_t i = 0; i < last.size(); ++i) {
    EXPECT_EQ(last[i].at("id").as_string(),
              "cap" + std::to_string(10 - last.size() + i));
  }
}

// The per-client queue is bounded by bytes too: a full-feed client that does not read pins at
// most max_queue_bytes of messages, the rest is dropped and counted, far below the message bound.
TEST_F(WebSocketTransportTest, QueueIsBoundedByBytesAsWellAsMessages) {
  server::ServerOptions options;
  options.ws_max_queue_messages = 100000;  // never reached here
  options.ws_max_queue_bytes = 256 * 1024;
  options.ws_coalesce_ms = 10;
  StartServer(options);
  WsClient slow(url_, "", "", "", 4096);
  slow.Read();
  EXPECT_EQ(slow.Subscribe(R"({"type":"subscribe","channels":["events"],"full":true})")
                .at("eventsFeed")
                .as_string(),
            "full");
  // 100 POSTs of 10 events of 16 KB: 16 MB, far more than the bound and the sockets' buffers.
  const std::string text(16000, 'z');
  for (int i = 0; i < 100; ++i) {
    const std::string body = JsonArray(10, [&](int k) {
      return EventJson("bytes" + std::to_string(i), "stream", kT0 + i * 10 + k,
                       R"(,"streamData":")" + text + "\"");
    });
    ASSERT_EQ(HttpPost(url_ + "/api/events", body).status, 200);
  }
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM telemetry_events"), 1000);
  EXPECT_TRUE(WaitFor([&] { return server_->metrics().dropped_messages() > 0; }, 5000));
  json::object dropped = slow.ReadType("dropped", 20000);
  ASSERT_FALSE(dropped.empty());
  EXPECT_GT(dropped["count"].as_int64(), 0);
}

#ifdef __linux__
// The nice values of this process's threads (field 19 of /proc/self/task/<tid>/stat).
std::vector<int> ThreadNiceValues() {
  std::vector<int> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 2));  // from field 3 (state)
    std::string field;
    for (int i = 3; i <= 19 && fields >> field; ++i) {
      if (i == 19) out.push_back(std::stoi(field));
    }
  }
  return out;
}

// The hub's thread runs at nice 10: when the CPU is short, the pushes wait, not the POSTs.
TEST_F(WebSocketTransportTest, HubThreadYieldsTheCpuToIngest) {
  const auto before = ThreadNiceValues();
  ASSERT_EQ(std::count(before.begin(), before.end(), 10), 0);
  StartServer();
  // The hub's thread lowers its own priority as it starts.
  EXPECT_TRUE(WaitFor([] {
    const auto after = ThreadNiceValues();
    return std::count(after.begin(), after.end(), 10) == 1;
  }, 5000));
}
#endif

}  // namespace
}  // namespace vibekit::testing
