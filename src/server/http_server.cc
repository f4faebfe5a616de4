#include "server/http_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/log.h"
#include "common/sys.h"
#include "server/websocket.h"

namespace vibekit::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(120);
constexpr auto kWriteTimeout = std::chrono::seconds(300);

http::response<http::string_body> StringResponse(const Response& r, unsigned version,
                                                 bool keep_alive, bool head) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "vibekit");
  if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) res.set(name, value);
  res.keep_alive(keep_alive);
  if (head) {
    res.content_length(r.body.size());
  } else {
    res.body() = r.body;
    res.prepare_payload();
  }
  return res;
}

Request ToRequest(http::request<http::string_body>&& req, std::string remote_ip, bool* bad_path) {
  Request out;
  out.method = std::string(req.method_string());
  const std::string_view target = req.target();
  const std::size_t q = target.find('?');
  std::optional<std::string> path = PercentDecode(target.substr(0, q), /*plus_is_space=*/false);
  *bad_path = !path;
  out.path = path ? std::move(*path) : std::string(target.substr(0, q));
  if (q != std::string_view::npos) out.query = std::string(target.substr(q + 1));
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.body = std::move(req.body());
  out.remote_ip = std::move(remote_ip);
  return out;
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(std::vector<HttpListenerSpec> specs, const ServerOptions& options, WebSocketHub* hub)
      : options_(options),
        hub_(hub),
        ioc_(1),
        workers_(static_cast<std::size_t>(std::max(1, options.worker_threads))) {
    // One naming task per worker: each waits for all the others, so no thread runs two.
    const std::ptrdiff_t n = std::max(1, options.worker_threads);
    auto all_started = std::make_shared<std::latch>(n);
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      asio::post(workers_, [all_started] {
        internal::NameThisThread("vk-handler");
        all_started->arrive_and_wait();
      });
    }
    for (HttpListenerSpec& spec : specs) {
      auto l = std::make_unique<Listening>(ioc_);
      l->spec = std::move(spec);
      listeners_.push_back(std::move(l));
    }
  }

  Status Bind() {
    for (auto& l : listeners_) VK_RETURN_IF_ERROR(BindOne(*l));
    return Status::Ok();
  }

  struct Listening {
    explicit Listening(asio::io_context& ioc) : acceptor(ioc) {}
    HttpListenerSpec spec;
    tcp::acceptor acceptor;
    std::uint16_t port = 0;
  };

  Status BindOne(Listening& l) {
    boost::system::error_code ec;
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(l.spec.host, std::to_string(l.spec.port),
                                    tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return Status::InvalidArgument("cannot resolve host " + l.spec.host + ": " +
                                     ec.message());
    }
    const tcp::endpoint endpoint = results.begin()->endpoint();
    l.acceptor.open(endpoint.protocol(), ec);
    if (!ec) l.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) l.acceptor.bind(endpoint, ec);
    if (!ec) l.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::Unavailable("cannot listen on " + l.spec.host + ":" +
                                 std::to_string(l.spec.port) + ": " + ec.message());
    }
    l.port = l.acceptor.local_endpoint().port();
    return Status::Ok();
  }

  void Run() {
    if (hub_ != nullptr) hub_->Start();
    for (auto& l : listeners_) asio::co_spawn(ioc_, Accept(*l), asio::detached);
    // One I/O thread for HTTP reading and writing (the WebSocket hub has its own); the handlers
    // run on the worker pool.
    threads_.emplace_back([this] {
      internal::NameThisThread("vk-http");
      ioc_.run();
    });
  }

  void Stop(int timeout_ms) {
    if (stopped_.exchange(true)) return;
    stopping_.store(true);
    asio::post(ioc_, [this] {
      boost::system::error_code ec;
      for (auto& l : listeners_) l->acceptor.close(ec);
    });
    if (hub_ != nullptr) hub_->CloseAll();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ioc_.stop();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    workers_.join();
  }

  std::uint16_t port(std::size_t i) const noexcept {
    return i < listeners_.size() ? listeners_[i]->port : 0;
  }

 private:
  asio::awaitable<void> Accept(Listening& l) {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await l.acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (stopping_.load() || ec == asio::error::operation_aborted) co_return;
        internal::LogWarn("server: accept failed: " + ec.message());
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(socket.get_executor(), Session(std::move(socket), *l.spec.app),
                     asio::detached);
    }
  }

  asio::awaitable<void> Session(tcp::socket socket, ServerApp& app) {
    boost::system::error_code ec;
    std::string remote = socket.remote_endpoint(ec).address().to_string();
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(options_.max_body_bytes);
      parser.header_limit(64 * 1024);
      stream.expires_after(kIdleTimeout);
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::body_limit) {
        Response r = ErrorResponse(413, "the request body is over the limit of " +
                                            std::to_string(options_.max_body_bytes) +
                                            " bytes (--max-body-bytes)");
        co_await WriteString(stream, r, 11, /*keep_alive=*/false, false);
        break;
      }
      if (ec) {
        // A half-read request that is malformed gets a 400; a closed or idle connection just
        // ends.
        if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
            ec != asio::error::operation_aborted && ec != asio::error::connection_reset &&
            ec != asio::error::eof && parser.got_some()) {
          Response r = ErrorResponse(400, "malformed HTTP request: " + ec.message());
          co_await WriteString(stream, r, 11, false, false);
        }
        break;
      }
      http::request<http::string_body> req = parser.release();
      const bool keep_alive = req.keep_alive() && !stopping_.load();
      const unsigned version = req.version();
      const bool head = req.method() == http::verb::head;
      if (beast::websocket::is_upgrade(req)) {
        bool ws_bad_path = false;
        Request plain = ToRequest(http::request<http::string_body>(req), remote, &ws_bad_path);
        if (hub_ == nullptr || plain.path != "/ws") {
          co_await WriteString(stream, ErrorResponse(404, "no WebSocket at " + plain.path),
                               version, false, false);
          break;
        }
        if (std::optional<Response> refused = app.AuthorizeWebSocket(plain)) {
          co_await WriteString(stream, *refused, version, false, false);
          break;
        }
        stream.expires_never();
        hub_->Adopt(std::move(stream), std::move(req));  // served on the hub's thread from here
        co_return;
      }
      bool bad_path = false;
      Request request = ToRequest(std::move(req), remote, &bad_path);
      in_flight_.fetch_add(1);
      Response response;
      if (bad_path) {
        response = ErrorResponse(400, "the path is not valid percent-encoding");
      } else {
        ServerApp* handler = &app;
        Request* r = &request;
        response = co_await asio::co_spawn(
            workers_, [handler, r]() -> asio::awaitable<Response> { co_return handler->Handle(*r); },
            asio::use_awaitable);
      }
      bool ok = false;
      if (response.file_path) {
        ok = co_await WriteFile(stream, response, version, keep_alive, head);
      } else {
        ok = co_await WriteString(stream, response, version, keep_alive, head);
      }
      in_flight_.fetch_sub(1);
      if (!ok || !keep_alive || stopping_.load()) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  asio::awaitable<bool> WriteString(beast::tcp_stream& stream, const Response& r,
                                    unsigned version, bool keep_alive, bool head) {
    auto res = StringResponse(r, version, keep_alive, head);
    boost::system::error_code ec;
    stream.expires_after(kWriteTimeout);
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }

  asio::awaitable<bool> WriteFile(beast::tcp_stream& stream, const Response& r, unsigned version,
                                  bool keep_alive, bool head) {
    struct Remover {
      const Response& r;
      ~Remover() {
        if (r.remove_file) std::remove(r.file_path->c_str());
      }
    } remover{r};
    http::response<http::file_body> res{static_cast<http::status>(r.status), version};
    beast::error_code ec;
    res.body().open(r.file_path->c_str(), beast::file_mode::scan, ec);
    if (ec) {
      co_return co_await WriteString(
          stream, ErrorResponse(500, "cannot open the file to send: " + ec.message()), version,
          false, head);
    }
    res.set(http::field::server, "vibekit");
    if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) res.set(name, value);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    stream.expires_after(kWriteTimeout);
    if (head) {
      http::response_serializer<http::file_body> sr(res);
      co_await http::async_write_header(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return !ec;
  }

  ServerOptions options_;
  WebSocketHub* hub_;
  asio::io_context ioc_;
  asio::thread_pool workers_;
  std::vector<std::unique_ptr<Listening>> listeners_;
  std::vector<std::thread> threads_;
  std::atomic<int> in_flight_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(std::vector<HttpListenerSpec> listeners,
                                                      const ServerOptions& options,
                                                      WebSocketHub* hub) noexcept {
  try {
    auto impl = std::make_unique<Impl>(std::move(listeners), options, hub);
    VK_RETURN_IF_ERROR(impl->Bind());
    impl->Run();
    return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
  } catch (const std::exception& e) {
    return Status::Internal(std::string("cannot start the server: ") + e.what());
  }
}

std::uint16_t HttpServer::port(std::size_t i) const noexcept { return impl_->port(i); }

void HttpServer::Stop(int timeout_ms) noexcept {
  if (!impl_) return;
  try {
    impl_->Stop(timeout_ms);
  } catch (const std::exception& e) {
    internal::LogError(std::string("server: stop failed: ") + e.what());
  }
}

}  // namespace vibekit::server
