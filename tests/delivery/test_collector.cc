#include "delivery/test_collector.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

namespace vibekit::testing {
namespace {

std::int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool WriteAll(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
  }
}

}  // namespace

std::string MaybeGunzip(const std::string& data, bool* was_gzip) {
  const bool gz = data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
                  static_cast<unsigned char>(data[1]) == 0x8b;
  if (was_gzip != nullptr) *was_gzip = gz;
  if (!gz) return data;
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return {};
  std::string out;
  char buf[65536];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      out = "<corrupt gzip>";
      break;
    }
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  inflateEnd(&zs);
  return out;
}

TestCollector::TestCollector(std::string dir) : dir_(std::move(dir)) {}

TestCollector::~TestCollector() { Stop(); }

bool TestCollector::Start() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error_ = std::strerror(errno);
    return false;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port_));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 16) != 0) {
    error_ = std::strerror(errno);
    ::close(fd);
    return false;
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  listen_fd_ = fd;
  acceptor_ = std::thread([this, fd] { AcceptLoop(fd); });
  return true;
}

void TestCollector::Stop() {
  std::vector<std::thread> servers;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (int c : connections_) ::shutdown(c, SHUT_RDWR);
  }
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  {
    std::lock_guard lock(mu_);
    servers.swap(servers_);
  }
  for (std::thread& t : servers) t.join();
}

void TestCollector::Script(std::vector<CollectorReply> replies) {
  std::lock_guard lock(mu_);
  script_.assign(replies.begin(), replies.end());
}

void TestCollector::SetFallback(CollectorReply reply) {
  std::lock_guard lock(mu_);
  fallback_ = std::move(reply);
}

std::vector<CollectorRequest> TestCollector::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::size_t TestCollector::request_count() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

CollectorReply TestCollector::NextReply() {
  if (script_.empty()) return fallback_;
  CollectorReply r = script_.front();
  script_.pop_front();
  return r;
}

void TestCollector::AcceptLoop(int listen_fd) {
  while (true) {
    const int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR) continue;
      return;  // shut down
    }
    std::lock_guard lock(mu_);
    if (stopping_) {
      ::close(c);
      return;
    }
    connections_.push_back(c);
    servers_.emplace_back([this, c] { Serve(c); });
  }
}

void TestCollector::Serve(int fd) {
  std::string buffer;
  char chunk[65536];
  auto fill = [&]() -> bool {
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
    return true;
  };
  // One request and its reply; false when the connection is over.
  auto serve_one = [&]() -> bool {
    std::size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return false;
    }
    {
      CollectorRequest req;
      req.arrived_ms = SteadyMs();
      const std::string head = buffer.substr(0, head_end);
      buffer.erase(0, head_end + 4);
      std::size_t line_end = head.find("\r\n");
      const std::string request_line = head.substr(0, line_end);
      const std::size_t sp1 = request_line.find(' ');
      const std::size_t sp2 = request_line.find(' ', sp1 + 1);
      req.path = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
      std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        std::size_t e = head.find("\r\n", pos);
        if (e == std::string::npos) e = head.size();
        const std::string line = head.substr(pos, e - pos);
        const std::size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string value = line.substr(colon + 1);
          value.erase(0, value.find_first_not_of(" \t"));
          req.headers[Lower(line.substr(0, colon))] = value;
        }
        pos = e + 2;
      }
      std::size_t length = 0;
      if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
        length = static_cast<std::size_t>(std::stoull(it->second));
      }
      while (buffer.size() < length) {
        if (!fill()) return false;
      }
      const std::string raw = buffer.substr(0, length);
      buffer.erase(0, length);
      req.body = MaybeGunzip(raw, &req.was_gzip);

      CollectorReply reply;
      {
        std::lock_guard lock(mu_);
        reply = NextReply();
        req.index = static_cast<int>(requests_.size());
        req.status = reply.status;
        req.file = dir_ + "/request-" + std::to_string(req.index) + "-" +
                   std::to_string(reply.status) + ".json";
        std::ofstream(req.file, std::ios::binary) << req.body;
        requests_.push_back(req);
      }
      std::string response = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                             Reason(reply.status) + "\r\nContent-Type: application/json\r\n" +
                             "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
      if (!reply.retry_after.empty()) response += "Retry-After: " + reply.retry_after + "\r\n";
      response += "\r\n" + reply.body;
      const std::int64_t now = SteadyMs();
      {
        std::lock_guard lock(mu_);
        requests_[static_cast<std::size_t>(req.index)].answered_ms = now;
      }
      if (!WriteAll(fd, response)) return false;
      std::lock_guard lock(mu_);
      requests_[static_cast<std::size_t>(req.index)].replied = true;
      return true;
    }
  };
  while (serve_one()) {
  }
  std::lock_guard lock(mu_);
  connections_.erase(std::remove(connections_.begin(), connections_.end(), fd),
                     connections_.end());
  ::close(fd);
}

}  // namespace vibekit::testing
